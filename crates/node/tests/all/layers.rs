//! The node's modules import each other one way only: a test over every
//! `crate::…` path in `crates/node/src` (ARCHITECTURE.md draws the
//! layers). A circle makes every file of it depend on every other, and
//! hides which layer a type belongs to.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
};

/// Each module of the node's crate and the modules it names through
/// `crate::`: a `use crate::{a::…, b, …}` list, or a `crate::a::…` path
/// anywhere in the file. `tests.rs` files are the module's own tests.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            for inner in std::fs::read_dir(&path).unwrap() {
                files.push(inner.unwrap().path());
            }
        } else {
            files.push(path);
        }
    }
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        if file.extension().is_none_or(|e| e != "rs") || file.ends_with("tests.rs") {
            continue;
        }
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let module = if stem == "mod" {
            let parent = file.parent().unwrap().file_name().unwrap();
            parent.to_string_lossy().into_owned()
        } else {
            stem
        };
        let text = std::fs::read_to_string(&file).unwrap();
        let names = graph.entry(module.clone()).or_default();
        for (at, _) in text.match_indices("crate::") {
            let rest = &text[at + "crate::".len()..];
            if let Some(list) = rest.strip_prefix('{') {
                // `use crate::{a::b, c, d::{e, f}}`: the first name of each
                // top-level item.
                let mut depth = 0;
                let mut item_start = true;
                let mut name = String::new();
                for c in list.chars() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => item_start = true,
                        c if item_start && (c.is_ascii_alphanumeric() || c == '_') => name.push(c),
                        _ if item_start && !name.is_empty() => {
                            names.insert(std::mem::take(&mut name));
                            item_start = false;
                        }
                        _ => {}
                    }
                }
                if !name.is_empty() {
                    names.insert(name);
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                names.insert(name);
            }
        }
        names.remove(&module);
    }
    // Only the crate's own modules (not the root's items, such as
    // `NodeConfig`).
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for names in graph.values_mut() {
        names.retain(|n| modules.contains(n) && n != "lib");
    }
    graph
}

/// A circle of imports, if there is one.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        graph: &BTreeMap<String, BTreeSet<String>>,
        node: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(graph, next, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|start| visit(graph, start, &mut Vec::new(), &mut done))
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
    // Nothing below the RPC layer names it.
    for (module, names) in &graph {
        if !["server", "ws"].contains(&module.as_str()) {
            assert!(!names.contains("rpc"), "{module} imports rpc");
        }
    }
}

#[test]
fn a_circle_is_found() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    graph.insert("a".into(), ["b".to_string()].into());
    graph.insert("b".into(), ["c".to_string()].into());
    graph.insert("c".into(), ["a".to_string()].into());
    assert_eq!(
        circle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    graph.get_mut("c").unwrap().clear();
    assert_eq!(circle(&graph), None);
}
