//! The import graph of a crate's modules, read from its sources: what
//! the layers tests of the node, the executor and the CLI check (each
//! crate's modules import one way, with no circle).

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

/// Each module of the crate whose sources are under `src` and the
/// modules it names: a path from `crate::`, from `super::` or `self::`,
/// or from a child module the file declares (`mod child;` then
/// `child::…`; not counted in the crate's root, whose declarations and
/// re-exports are not layers), alone or in a `{…}` list at any depth.
/// A path counts as the deepest module it passes through
/// (`crate::api::eth::params::Params` names `params`); a path that
/// passes through no module from `crate::` is an item of the crate's
/// root, an import of `lib`. A module is named by its file (`mod.rs` by
/// its folder), at any depth; `tests.rs` files are the module's own
/// tests.
///
/// # Panics
///
/// When `src` cannot be read (a test setup error).
pub fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let files = rust_files(src);
    // Each file's module path from the crate's root (`[]` for the root).
    let mut modules: BTreeMap<Vec<String>, PathBuf> = BTreeMap::new();
    for file in &files {
        if let Some(path) = module_path(src, file) {
            modules.insert(path, file.clone());
        }
    }
    let name_of = |path: &[String]| path.last().cloned().unwrap_or_else(|| "lib".to_owned());
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, file) in &modules {
        let text = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        let text = without_comments(&text);
        let module = name_of(path);
        let names = graph.entry(module.clone()).or_default();
        let mut found = |base: Vec<String>, at: usize| {
            for segments in paths(&text[at..]) {
                let mut deepest = base.clone();
                let mut segments = segments.into_iter().peekable();
                // `super::super::…` climbs once more for each.
                while segments.next_if(|s| s == "super").is_some() {
                    deepest.pop();
                }
                for segment in segments {
                    let mut next = deepest.clone();
                    next.push(segment);
                    if modules.contains_key(&next) {
                        deepest = next;
                    } else {
                        break;
                    }
                }
                names.insert(name_of(&deepest));
            }
        };
        for at in starts(&text, "crate::") {
            found(Vec::new(), at);
        }
        let parent = path[..path.len().saturating_sub(1)].to_vec();
        for at in starts(&text, "super::") {
            found(parent.clone(), at);
        }
        for at in starts(&text, "self::") {
            found(path.clone(), at);
        }
        if !path.is_empty() {
            for child in declared_children(&text) {
                let mut child_path = path.clone();
                child_path.push(child.clone());
                if !modules.contains_key(&child_path) {
                    continue;
                }
                let prefix = format!("{child}::");
                for at in starts(&text, &prefix) {
                    found(child_path.clone(), at);
                }
            }
        }
        names.remove(&module);
    }
    graph
}

/// Every `.rs` file under `src` but the modules' own `tests.rs`.
fn rust_files(src: &Path) -> Vec<PathBuf> {
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
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("tests.rs") {
                files.push(path);
            }
        }
    }
    files
}

/// A file's module path: `lib.rs` and `main.rs` are the root, `a/mod.rs`
/// and `a.rs` are `a`, `a/b.rs` is `a::b`.
fn module_path(src: &Path, file: &Path) -> Option<Vec<String>> {
    let relative = file.strip_prefix(src).ok()?;
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop()?;
    let stem = last.strip_suffix(".rs")?;
    if !(parts.is_empty() && (stem == "lib" || stem == "main")) && stem != "mod" {
        parts.push(stem.to_owned());
    }
    Some(parts)
}

/// `text` with its `//` comments blanked (doc links are not imports)
/// and its inline test module cut (`#[cfg(test)] mod tests { … }`, the
/// module's own tests, which import their parent).
fn without_comments(text: &str) -> String {
    let text = match text.find("\n#[cfg(test)]\nmod ") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Where the paths after each `prefix` start (not inside a longer name
/// or path: `super::super::` is one path).
fn starts(text: &str, prefix: &str) -> Vec<usize> {
    text.match_indices(prefix)
        .filter(|(at, _)| {
            text[..*at]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        })
        .map(|(at, _)| at + prefix.len())
        .collect()
}

/// The modules a file declares (`mod a;`, `pub mod a;`, `pub(crate) mod a;`).
fn declared_children(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            let rest = line
                .strip_prefix("pub(crate) mod ")
                .or_else(|| line.strip_prefix("pub(super) mod "))
                .or_else(|| line.strip_prefix("pub mod "))
                .or_else(|| line.strip_prefix("mod "))?;
            let name = rest.strip_suffix(';')?;
            Some(name.trim().to_owned())
        })
        .collect()
}

/// The paths at the start of `text`: `a::b::c` is one, `{a::b, c::{d, e}}`
/// three (`a::b`, `c::d`, `c::e`), each as its segments.
fn paths(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    tree(&mut text.chars().peekable(), &mut Vec::new(), &mut out);
    out
}

fn tree(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    prefix: &mut Vec<String>,
    out: &mut Vec<Vec<String>>,
) {
    let depth = prefix.len();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek() == Some(&'{') {
            chars.next();
            // Each item, then what follows it (` as name`) to the comma
            // or the group's end.
            'items: loop {
                tree(chars, prefix, out);
                loop {
                    match chars.next() {
                        Some(',') => continue 'items,
                        Some('}') | None => break 'items,
                        Some(_) => {}
                    }
                }
            }
            break;
        }
        let name: String =
            std::iter::from_fn(|| chars.next_if(|c| c.is_ascii_alphanumeric() || *c == '_'))
                .collect();
        if name.is_empty() {
            if prefix.len() > depth || chars.peek() != Some(&'}') {
                out.push(prefix.clone());
            }
            break;
        }
        prefix.push(name);
        let mut rest = chars.clone();
        if rest.next() == Some(':') && rest.next() == Some(':') {
            chars.next();
            chars.next();
            continue;
        }
        out.push(prefix.clone());
        break;
    }
    prefix.truncate(depth);
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

    #[test]
    fn paths_from_the_root_a_parent_and_a_child_are_read() {
        let dir = std::env::temp_dir().join(format!("ward-imports-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("api/eth")).unwrap();
        let write = |path: &str, text: &str| std::fs::write(dir.join(path), text).unwrap();
        write("lib.rs", "mod api;\nmod state;\npub use api::eth;\n");
        write("state.rs", "pub struct Shared;\n");
        write(
            "api/mod.rs",
            "pub mod eth;\nmod answer;\nfn f() { eth::table::ROWS; }\n",
        );
        write(
            "api/answer.rs",
            "use crate::{state::Shared as S, api::eth::table};\n",
        );
        write(
            "api/eth/mod.rs",
            "pub(crate) mod table;\n// crate::state in a comment\n",
        );
        write(
            "api/eth/table.rs",
            "use super::super::answer;\nuse crate::NodeConfig;\n\
             #[cfg(test)]\nmod tests {\n    use super::*;\n    use crate::api;\n}\n",
        );
        let graph = graph(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        let names = |m: &str| graph[m].iter().cloned().collect::<Vec<_>>();
        // A child path from a file (`eth::table::…`) names the deepest
        // module; the root's declarations and re-exports name nothing.
        assert_eq!(names("api"), ["table"]);
        assert_eq!(names("lib"), Vec::<String>::new());
        // A list with a rename reads every item, each at its deepest
        // module.
        assert_eq!(names("answer"), ["state", "table"]);
        // A comment names nothing; `super::super::` climbs twice; an item
        // of the root is `lib`; a test module's imports are its own.
        assert_eq!(names("eth"), Vec::<String>::new());
        assert_eq!(names("table"), ["answer", "lib"]);
    }
}
