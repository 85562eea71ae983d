//! Statements in the design documents that the code defines.

use std::{collections::BTreeMap, path::Path};

/// The Ward crates each workspace member depends on (normal dependencies
/// only, optional ones included), by package name.
fn manifest_deps(root: &Path) -> BTreeMap<String, Vec<String>> {
    let workspace = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let manifests: Vec<&str> = workspace
        .lines()
        .skip_while(|l| !l.starts_with("members = ["))
        .take_while(|l| *l != "]")
        .filter_map(|l| l.trim().strip_prefix('"')?.strip_suffix("\","))
        .collect();
    assert!(
        manifests.contains(&"crates/vm"),
        "no members in {manifests:?}"
    );
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
    // The picture's layers: every crate in one, every dependency lower.
    let mut layer_of = BTreeMap::new();
    for line in doc.lines() {
        let Some(rest) = line.trim_start().strip_prefix("layer ") else {
            continue;
        };
        let (number, names) = rest.split_once(' ').unwrap();
        let number: u32 = number.parse().unwrap();
        for word in names.split(|c: char| c.is_whitespace() || c == ',') {
            if let Some(name) = word.strip_prefix("ward-") {
                layer_of.insert(format!("ward-{name}"), number);
            }
        }
    }
    let manifests = manifest_deps(&root);
    assert!(manifests.contains_key("ward-fuzz"), "{manifests:?}");
    // The products on top link no test support: the benchmarks reach
    // etcd through its own crate, the CLI links neither.
    for product in ["ward-benches", "ward-cli"] {
        assert!(
            !manifests[product].contains(&"ward-testkit".to_owned()),
            "{product} depends on the testkit"
        );
    }
    for name in manifests.keys() {
        let Some(layer) = layer_of.get(name) else {
            panic!("ARCHITECTURE.md's picture has no layer for {name}");
        };
        for dep in &manifests[name] {
            let below = layer_of.get(dep).is_some_and(|l| l < layer);
            assert!(
                below,
                "{name} (layer {layer}) depends on {dep}, not below it"
            );
        }
    }
}

/// README's list of example contracts names every crate under contracts/.
#[test]
fn readme_names_every_example_contract() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let start = readme.find("`contracts/` holds the examples").unwrap();
    let list = &readme[start..start + 600];
    let mut found = 0;
    for entry in std::fs::read_dir(root.join("contracts")).unwrap() {
        let path = entry.unwrap().path();
        if path.join("Cargo.toml").is_file() {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                list.contains(&format!("`{name}`")),
                "README's list lacks `{name}`"
            );
            found += 1;
        }
    }
    assert!(found >= 7, "found {found} contracts");
}

/// Every cargo-fuzz target is named where the docs list them (ARCHITECTURE's
/// testing/fuzz entry, CONTRIBUTING's Fuzzing section) and in the
/// Makefile's `FUZZ_TARGETS`, and nothing else is.
#[test]
fn the_fuzz_targets_are_listed_wherever_they_are_counted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut targets: Vec<String> = std::fs::read_dir(root.join("fuzz/fuzz_targets"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    targets.sort();
    assert!(targets.len() >= 8, "{targets:?}");
    let read = |name: &str| std::fs::read_to_string(root.join(name)).unwrap();
    let architecture = read("ARCHITECTURE.md");
    let contributing = read("CONTRIBUTING.md");
    let lists = [
        (
            "ARCHITECTURE.md",
            &architecture,
            "what each coverage-guided fuzz target",
        ),
        (
            "CONTRIBUTING.md",
            &contributing,
            "The coverage-guided targets live in",
        ),
    ];
    for (doc, text, anchor) in lists {
        let start = text
            .find(anchor)
            .unwrap_or_else(|| panic!("{doc}: {anchor:?}"));
        let list = &text[start..(start + 400).min(text.len())];
        for target in &targets {
            assert!(
                list.contains(&format!("`{target}`")),
                "{doc} does not list `{target}`"
            );
        }
    }
    let makefile = read("Makefile");
    let line = makefile
        .lines()
        .find_map(|l| l.strip_prefix("FUZZ_TARGETS ?= "))
        .expect("the Makefile's FUZZ_TARGETS");
    let mut listed: Vec<&str> = line.split_whitespace().collect();
    listed.sort_unstable();
    assert_eq!(listed, targets, "the Makefile's FUZZ_TARGETS");
}

/// The `[profile.dev...]` sections of a manifest, as (section, line) pairs.
fn dev_profile(manifest: &str) -> std::collections::BTreeSet<(String, String)> {
    let mut section = String::new();
    let mut out = std::collections::BTreeSet::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_owned();
        } else if section.starts_with("[profile.dev") && !line.is_empty() && !line.starts_with('#')
        {
            out.insert((section.clone(), line.to_owned()));
        }
    }
    out
}

/// A crate from `ward new` and Ward's contracts build their tests with one
/// dev profile, and Ward's workspace with at least its settings: the same
/// units, so that the CLI's test of `ward new` shares what the contracts'
/// tests compiled, and the proc macros a new crate's first build compiles
/// stay unoptimised (docs/contracts.md, section 2).
#[test]
fn the_dev_profiles_of_new_crates_contracts_and_ward_agree() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let read = |path: &str| std::fs::read_to_string(root.join(path)).unwrap();
    let template = dev_profile(&read("bins/cli/templates/new/Cargo.toml"));
    let contracts = dev_profile(&read("contracts/Cargo.toml"));
    let ward = dev_profile(&read("Cargo.toml"));
    assert_eq!(template, contracts);
    assert!(template.len() > 20, "{template:?}");
    let missing: Vec<_> = template.difference(&ward).collect();
    assert!(missing.is_empty(), "Ward's Cargo.toml lacks {missing:?}");
}

/// ARCHITECTURE.md's invariants are numbered 1, 2, 3, ... in order, and
/// every source file it names (`name.rs`) is one in the tree.
#[test]
fn architecture_numbers_its_invariants_in_order_and_names_files_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let invariants = text
        .split("\n## Invariants\n")
        .nth(1)
        .expect("an Invariants section");
    let invariants = invariants.split("\n## ").next().unwrap_or_default();
    let numbers: Vec<u32> = invariants
        .lines()
        .filter_map(|line| line.split_once(". ")?.0.parse().ok())
        .collect();
    let expected: Vec<u32> = (1..=numbers.len() as u32).collect();
    assert!(numbers.len() >= 9, "{numbers:?}");
    assert_eq!(numbers, expected, "ARCHITECTURE.md's invariants");
    // Every `*.rs` file name in backticks exists somewhere in the tree.
    let mut names = std::collections::BTreeSet::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "target" && name != "node_modules" && !name.starts_with('.') {
                    stack.push(path);
                }
            } else if let Some(stem) = name.strip_suffix(".rs") {
                names.insert(format!("{stem}.rs"));
            }
        }
    }
    let missing: Vec<&str> = text
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|quoted| quoted.ends_with(".rs") && !quoted.contains(' ') && !quoted.contains("::"))
        .filter(|quoted| !names.contains(quoted.rsplit('/').next().unwrap_or_default()))
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names files that are not in the tree: {missing:?}"
    );
}
