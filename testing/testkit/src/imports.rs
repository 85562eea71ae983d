//! The import graph of a crate's modules, read from its sources: what
//! the layers tests of the node, the executor and the CLI check (each
//! crate's modules import one way, with no circle).

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
};

/// Each module of the crate whose sources are under `src` and the
/// modules it names through `crate::`: a `use crate::{a::…, b, …}` list,
/// or a `crate::a::…` path anywhere in the file. A module is named by its
/// file (`mod.rs` by its folder), at any depth; `tests.rs` files are the
/// module's own tests. A name that is no module is an item of the crate's
/// root, counted as an import of `lib`.
///
/// # Panics
///
/// When `src` cannot be read (a test setup error).
pub fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
                .path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        if file.extension().is_none_or(|e| e != "rs") || file.ends_with("tests.rs") {
            continue;
        }
        let Some(stem) = file.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
            continue;
        };
        let module = if stem == "mod" {
            let parent = file.parent().and_then(Path::file_name).unwrap_or_default();
            parent.to_string_lossy().into_owned()
        } else {
            stem
        };
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
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
    // A name that is not a module is an item of the crate's root
    // (`crate::NodeConfig`): an import of `lib`.
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for (module, names) in graph.iter_mut() {
        let mut seen: BTreeSet<String> = names
            .iter()
            .map(|n| {
                if modules.contains(n) {
                    n.clone()
                } else {
                    "lib".to_owned()
                }
            })
            .collect();
        seen.remove(module);
        *names = seen;
    }
    graph
}

/// A circle of imports in `graph`, if there is one: its modules in
/// order, the first again at the end.
pub fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
