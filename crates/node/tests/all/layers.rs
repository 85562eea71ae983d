//! The node's modules import each other one way only: a test over every
//! `crate::…` path in `crates/node/src` (ARCHITECTURE.md draws the
//! layers). A circle makes every file of it depend on every other, and
//! hides which layer a type belongs to.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
};

use ward_testkit::imports::circle;

/// The node's modules and the modules each names.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    ward_testkit::imports::graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

#[test]
fn the_nodes_modules_import_one_way() {
    let graph = imports();
    assert!(graph.len() > 15, "found the modules: {graph:?}");
    // The parser sees what it must: the router reaches each wing, a
    // wing's table its methods' modules (through `super::`), the
    // producer the mempool and the shared state.
    for wing in ["ward", "eth", "dev"] {
        assert!(graph["api"].contains(wing), "{graph:?}");
    }
    assert!(graph["eth"].contains("blocks"), "{graph:?}");
    assert!(graph["blocks"].contains("shape"), "{graph:?}");
    assert!(graph["producer"].contains("mempool"), "{graph:?}");
    assert!(graph["producer"].contains("state"), "{graph:?}");
    assert_eq!(circle(&graph), None, "{graph:#?}");
    // Nothing below the API names it, nor its errors: a layer below
    // fails with a typed error (`mempool::Refusal`, `state::Failure`),
    // which gets its JSON-RPC code at the edge.
    let edge = api_modules();
    let edge: Vec<&str> = edge
        .iter()
        .map(String::as_str)
        .chain(["lib", "server", "ws"])
        .collect();
    for (module, names) in &graph {
        if !edge.contains(&module.as_str()) {
            for name in names {
                assert!(
                    !edge.contains(&name.as_str()) || name == "lib",
                    "{module} imports {name}, of the API"
                );
            }
            assert!(
                !names.contains("error"),
                "{module} imports the RPC's errors"
            );
        }
    }
    // The top is the top: no module names it (its items are in modules
    // of their own: `config`, `startup`).
    assert!(graph.contains_key("lib"), "{graph:?}");
    for (module, names) in &graph {
        assert!(!names.contains("lib"), "{module} imports the crate's root");
    }
    // Admission is its own layer, used by the wings that send (and, for
    // the shared mempool, by a replica's loop).
    assert!(graph["ward"].contains("admission"), "{graph:?}");
    assert!(graph["send"].contains("admission"), "{graph:?}");
}

/// The modules under `src/api`: the router and its wings.
fn api_modules() -> Vec<String> {
    let mut found = Vec::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            if stem == "mod" {
                let folder = path.parent().unwrap().file_name().unwrap();
                found.push(folder.to_string_lossy().into_owned());
            } else {
                found.push(stem);
            }
        }
    }
    found
}

/// The node's two API dialects stand side by side: no wing names
/// another's root, the router or the server, and no module of one wing
/// names a module of another but through what they share below them.
#[test]
fn the_wings_are_peers_under_one_router() {
    let graph = imports();
    let wing_of = |folder: &str| -> Vec<String> {
        std::fs::read_dir(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("src/api")
                .join(folder),
        )
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            if stem == "mod" {
                folder.to_owned()
            } else {
                stem
            }
        })
        .collect()
    };
    let wings = [
        ("ward", wing_of("ward")),
        ("eth", wing_of("eth")),
        ("dev", wing_of("dev")),
    ];
    // What the wings share below them: the Ethereum dialect's params,
    // row type and checks (the dev wing's Hardhat names are Ethereum's
    // methods too).
    let shared_below = ["params", "methods", "chain", "check"];
    for (wing, modules) in &wings {
        for module in modules {
            let names = &graph[module];
            assert!(
                !names.contains("api"),
                "{module} ({wing}) imports the router"
            );
            for name in names {
                for (other, theirs) in &wings {
                    if other != wing && theirs.contains(name) {
                        assert!(
                            shared_below.contains(&name.as_str()),
                            "{module} ({wing}) imports {name} ({other})"
                        );
                    }
                }
            }
        }
    }
    // Every Ethereum method runs from its row: no dispatch by name.
    let eth =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api/eth/mod.rs"))
            .unwrap();
    assert!(
        !eth.contains("match method"),
        "the eth wing dispatches by string"
    );
    assert!(
        eth.contains("ETH_METHODS"),
        "the eth wing's table is in its root"
    );
}

/// ARCHITECTURE.md's picture of the node: rows of modules, each naming
/// only modules of rows below it, every module of the crate (but `lib`,
/// above them all) in it once.
#[test]
fn the_architecture_picture_of_the_node_is_its_imports() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ARCHITECTURE.md"),
    )
    .unwrap();
    let start = text.find("The node's modules import one way").unwrap();
    let block = text[start..].split("```").nth(1).unwrap();
    // A row: comma-separated names, then (after two spaces) what they are.
    let rows: Vec<Vec<String>> = block
        .lines()
        .map(|line| line.trim())
        .filter(|line| !line.is_empty())
        .map(|line| {
            let names = line.split("  ").next().unwrap();
            names.split(',').map(|n| n.trim().to_owned()).collect()
        })
        .collect();
    let graph = imports();
    let mut row_of: BTreeMap<String, usize> = BTreeMap::new();
    for (index, row) in rows.iter().enumerate() {
        for name in row {
            assert!(
                row_of.insert(name.clone(), index).is_none(),
                "{name} is in the picture twice"
            );
        }
    }
    let modules: BTreeSet<&String> = graph.keys().filter(|m| *m != "lib").collect();
    let drawn: BTreeSet<&String> = row_of.keys().collect();
    assert_eq!(drawn, modules, "the picture's modules are the crate's");
    for (module, names) in &graph {
        let Some(&row) = row_of.get(module) else {
            continue;
        };
        for name in names {
            assert!(
                row_of[name] > row,
                "{module} (row {row}) imports {name} (row {}): the picture says otherwise",
                row_of[name]
            );
        }
    }
}

/// Ward's method handlers build no JSON by hand: params are read and
/// results written through `ward_rpc`'s types, and `json!` stands only
/// in the envelope (`api/mod.rs`'s `response` and `check_request`).
#[test]
fn the_method_handlers_build_no_json_by_hand() {
    let api = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    let mut files = vec![
        api.join("mod.rs"),
        api.join("answer.rs"),
        api.join("history.rs"),
    ];
    for wing in ["ward", "dev"] {
        for entry in std::fs::read_dir(api.join(wing)).unwrap() {
            files.push(entry.unwrap().path());
        }
    }
    let mut found = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut function = String::new();
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if let Some(rest) = code
                .strip_prefix("fn ")
                .or_else(|| code.strip_prefix("pub(crate) fn "))
                .or_else(|| code.strip_prefix("pub(super) fn "))
                .or_else(|| code.strip_prefix("pub fn "))
                .or_else(|| code.strip_prefix("pub(crate) async fn "))
            {
                function = rest.split(['(', '<']).next().unwrap_or("").to_owned();
            }
            let envelope = path == api.join("mod.rs")
                && ["response", "check_request"].contains(&function.as_str());
            if code.contains("json!(") && !envelope {
                let file = path.strip_prefix(&api).unwrap().display();
                found.push(format!("api/{file}:{} in {function}", n + 1));
            }
        }
    }
    assert!(found.is_empty(), "json! outside the envelope: {found:?}");
}

/// The node's shared state is a facade: its fields are private, and the
/// wings and loops reach it through named operations (`nonces`,
/// `impersonate`, `with_eth_filters`, `set_fault`, …), so no lock of it
/// is taken outside `state.rs` (the compiler holds it; this test says
/// why, and fails if a field is opened again).
#[test]
fn the_shared_state_has_no_open_field() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/state.rs"))
        .unwrap();
    let start = text.find("pub(crate) struct Shared {").unwrap();
    let body = &text[start..start + text[start..].find("\n}\n").unwrap()];
    let fields: Vec<&str> = body
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|line| !line.starts_with("//") && line.contains(':'))
        .collect();
    assert!(fields.len() > 10, "found the fields: {fields:?}");
    for field in fields {
        assert!(
            !field.starts_with("pub"),
            "an open field of Shared: {field}"
        );
    }
}
