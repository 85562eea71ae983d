//! Statements in the design documents that the code defines.

use std::{collections::BTreeMap, path::Path};

/// The Ward crates each manifest under `dir` depends on (normal
/// dependencies only), by package name.
fn manifest_deps(root: &Path) -> BTreeMap<String, Vec<String>> {
    let manifests = [
        "crates/primitives",
        "crates/abi",
        "crates/instrument",
        "crates/vm",
        "crates/vm/wasmtime",
        "crates/vm/wasmi",
        "crates/backends",
        "crates/state",
        "crates/executor",
        "sdk",
        "bins/cli",
    ];
    let mut out = BTreeMap::new();
    for dir in manifests {
        let text = std::fs::read_to_string(root.join(dir).join("Cargo.toml")).unwrap();
        let name = text
            .lines()
            .find_map(|l| l.strip_prefix("name = \""))
            .and_then(|l| l.strip_suffix('"'))
            .unwrap()
            .to_string();
        let mut in_deps = false;
        let mut deps = Vec::new();
        for line in text.lines() {
            if line.starts_with('[') {
                in_deps = line == "[dependencies]";
            } else if in_deps && line.starts_with("ward-") {
                deps.push(line.split(['.', ' ', '=']).next().unwrap().to_string());
            }
        }
        deps.sort();
        out.insert(name, deps);
    }
    out
}

#[test]
fn architecture_lists_every_dependency_between_ward_crates() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let mut stated = BTreeMap::new();
    for line in doc.lines() {
        let Some(row) = line.strip_prefix("| `ward-") else {
            continue;
        };
        let mut cells = row.split(" | ");
        let name = format!("ward-{}", cells.next().unwrap().trim_end_matches('`'));
        let deps: Vec<String> = cells
            .next()
            .unwrap()
            .trim_end_matches(" |")
            .split(", ")
            .filter(|d| *d != "-")
            .map(|d| d.trim_matches('`').to_string())
            .collect();
        stated.insert(name, deps);
    }
    assert_eq!(
        stated,
        manifest_deps(&root),
        "ARCHITECTURE.md's dependency table differs from the manifests"
    );
}
