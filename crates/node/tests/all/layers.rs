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
    // The parser sees what it must: the RPC layer reaches the producer,
    // the producer the mempool and the shared state.
    assert!(graph["rpc"].contains("producer"), "{graph:?}");
    assert!(graph["producer"].contains("mempool"), "{graph:?}");
    assert!(graph["producer"].contains("state"), "{graph:?}");
    assert_eq!(circle(&graph), None, "{graph:#?}");
    // Nothing below the RPC layer names it, nor its errors: a layer
    // below fails with a typed error (`mempool::Refusal`,
    // `state::Failure`), which gets its JSON-RPC code at the edge.
    let edge = [
        "lib", "server", "ws", "rpc", "read", "simulate", "dev", "admin", "eth", "shape",
        "filters", "hardhat", "debug", "logs", "check", "send",
    ];
    for (module, names) in &graph {
        if !edge.contains(&module.as_str()) {
            assert!(!names.contains("rpc"), "{module} imports rpc");
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
    // Admission is its own layer, used by the RPC (and, for the shared
    // mempool, by a replica's loop).
    assert!(graph["rpc"].contains("admission"), "{graph:?}");
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

/// The method handlers build no JSON by hand: params are read and
/// results written through `ward_rpc`'s types, and `json!` stands only
/// in the envelope (`rpc/mod.rs`'s `response` and `check_request`).
#[test]
fn the_method_handlers_build_no_json_by_hand() {
    let rpc = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rpc");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&rpc).unwrap() {
        let path = entry.unwrap().path();
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
            let envelope = path.ends_with("mod.rs")
                && ["response", "check_request"].contains(&function.as_str());
            if code.contains("json!(") && !envelope {
                let file = path.file_name().unwrap().to_string_lossy();
                found.push(format!("rpc/{file}:{} in {function}", n + 1));
            }
        }
    }
    assert!(found.is_empty(), "json! outside the envelope: {found:?}");
}
