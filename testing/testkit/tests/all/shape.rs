//! The shape of the code, as CONTRIBUTING.md states it: functions a reader
//! can hold, and two backends that share no code they could share.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `.rs` files under `dir`, sorted, skipping test-only files (`tests.rs`
/// and `tests/` folders): test functions are lists of cases.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() && name != "tests" {
                stack.push(path);
            } else if name.ends_with(".rs") && name != "tests.rs" {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A line without its comment and the contents of its string and char
/// literals (enough for brace counting in rustfmt-formatted code).
fn code_of(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => break,
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '\'' => {
                // A char literal ('x', '\n', '{'), or a lifetime ('a).
                let rest: String = chars.clone().take(3).collect();
                if rest.starts_with('\\') || rest.chars().nth(1) == Some('\'') {
                    while let Some(c) = chars.next() {
                        if c == '\\' {
                            chars.next();
                        } else if c == '\'' {
                            break;
                        }
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Whether `line` starts a function item.
fn starts_fn(line: &str) -> bool {
    let mut words = line.split_whitespace().peekable();
    while let Some(&w) = words.peek() {
        if w.starts_with("pub") || ["const", "async", "unsafe"].contains(&w) {
            words.next();
        } else {
            break;
        }
    }
    words.next() == Some("fn")
}

/// Every function in `path` with a body: (first line, length in lines,
/// the comment lines right above it).
fn functions(path: &Path) -> Vec<(usize, usize, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        if !starts_fn(line) {
            continue;
        }
        let mut depth = 0i32;
        let mut opened = false;
        for (end, line) in lines.iter().enumerate().skip(start) {
            let code = code_of(line);
            if !opened && code.trim_end().ends_with(';') {
                break;
            }
            for c in code.chars() {
                match c {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if opened && depth == 0 {
                let above: Vec<&str> = lines[..start]
                    .iter()
                    .rev()
                    .take_while(|l| {
                        l.trim_start().starts_with("//") || l.trim_start().starts_with("#[")
                    })
                    .copied()
                    .collect();
                out.push((start + 1, end - start + 1, above.join("\n")));
                break;
            }
        }
    }
    out
}

/// What a long function must say above itself, with its reason.
const LONG_FUNCTION_REASON: &str = "Over 120 lines:";

/// At most two functions in the crates and binaries run over 120 lines,
/// and each says why, beside it.
#[test]
fn at_most_two_functions_run_over_120_lines_each_with_its_reason() {
    let root = root();
    let mut long = Vec::new();
    for dir in ["crates", "bins", "sdk/src"] {
        for path in sources(&root.join(dir)) {
            if path
                .components()
                .any(|c| c.as_os_str() == "tests" || c.as_os_str() == "target")
            {
                continue;
            }
            for (line, length, above) in functions(&path) {
                if length > 120 {
                    let shown = path.strip_prefix(&root).unwrap().display().to_string();
                    long.push((shown, line, length, above.contains(LONG_FUNCTION_REASON)));
                }
            }
        }
    }
    assert!(long.len() <= 2, "functions over 120 lines: {long:#?}");
    let contributing = std::fs::read_to_string(root.join("CONTRIBUTING.md")).unwrap();
    assert!(contributing.contains("none over 120 lines, but at most two"));
    for (path, line, length, reasoned) in &long {
        assert!(
            reasoned,
            "{path}:{line} runs {length} lines without a `{LONG_FUNCTION_REASON}` comment"
        );
    }
}

/// A backend's lines that are code, not shape: without blank lines, lone
/// punctuation, imports and module declarations, function signatures,
/// struct fields and macro matchers (two adapters of one trait over two
/// engines have the same signatures and the same fields by design).
fn code_lines(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for path in sources(dir) {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let (mut in_signature, mut in_struct, mut in_matcher) = (false, false, false);
        for (n, line) in text.lines().enumerate() {
            let t = line.trim();
            if t.starts_with("macro_rules!") {
                in_matcher = true;
                continue;
            }
            if in_matcher {
                in_matcher = !t.ends_with("=> {");
                continue;
            }
            if starts_fn(t) {
                in_signature = true;
            }
            if in_signature {
                in_signature = !(t.ends_with('{') || t.ends_with(';'));
                continue;
            }
            if t.contains("struct ") && t.ends_with('{') {
                in_struct = true;
                continue;
            }
            if in_struct {
                in_struct = t != "}";
                continue;
            }
            let punctuation = t.chars().all(|c| "{}()[];,.?".contains(c));
            let declaration = ["use ", "pub use ", "mod ", "pub mod "]
                .iter()
                .any(|p| t.starts_with(p));
            let matcher = t.starts_with("(@") && t.contains("=>");
            if !(punctuation || declaration || matcher) {
                out.push((t.to_string(), format!("{file}:{}", n + 1)));
            }
        }
    }
    out
}

/// The two backends share no run of six or more identical lines of code:
/// what they would share lives in ward-vm (`guest`, `recycle`).
#[test]
fn the_backends_share_no_run_of_six_identical_lines() {
    let root = root();
    let a = code_lines(&root.join("crates/vm/wasmtime/src"));
    let b = code_lines(&root.join("crates/vm/wasmi/src"));
    let mut runs = Vec::new();
    for i in 0..a.len() {
        for j in 0..b.len() {
            if a[i].0 != b[j].0 || (i > 0 && j > 0 && a[i - 1].0 == b[j - 1].0) {
                continue;
            }
            let n = (0..)
                .take_while(|k| i + k < a.len() && j + k < b.len() && a[i + k].0 == b[j + k].0)
                .count();
            if n >= 6 {
                let lines: Vec<&str> = a[i..i + n].iter().map(|l| l.0.as_str()).collect();
                runs.push(format!(
                    "{} ~ {}:\n  {}",
                    a[i].1,
                    b[j].1,
                    lines.join("\n  ")
                ));
            }
        }
    }
    assert!(runs.is_empty(), "shared runs:\n{}", runs.join("\n"));
}

/// The most lines of code (not blank, not only a comment) one file under
/// `crates/`, `bins/` or `sdk/` may have, its tests included: past it a
/// file holds more than one concern (the executor's `lib.rs`, the state's
/// `redb_store.rs`, the snapshot's `lib.rs`, `CallContext`, the CLI's
/// `chain.rs` and ward-rpc's `results.rs` were split along theirs).
/// Comments are not counted, so that no one meets the cap by trimming
/// them.
const MAX_FILE_LINES: usize = 800;

/// The lines of `text` that hold code: not blank, not only a comment.
fn code_line_count(text: &str) -> usize {
    text.lines()
        .filter(|l| !code_of(l).trim().is_empty())
        .count()
}

#[test]
fn code_lines_leave_out_blanks_and_comments() {
    let text =
        "//! A module.\n\n/// A doc.\nfn f() {\n    // why\n    let s = \"//\"; // a string\n}\n";
    assert_eq!(code_line_count(text), 3);
}

/// The roots [`MAX_FILE_LINES`] covers: the product's code, the
/// benchmarks and the test kits.
const CAPPED: [&str; 5] = ["crates", "bins", "sdk", "benches", "testing"];

#[test]
fn no_file_of_the_product_is_over_the_cap() {
    let mut stack: Vec<PathBuf> = CAPPED.iter().map(|dir| root().join(dir)).collect();
    let mut seen = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let lines = code_line_count(&std::fs::read_to_string(&path).unwrap());
                assert!(
                    lines <= MAX_FILE_LINES,
                    "{} has {lines} lines of code, more than {MAX_FILE_LINES}: split it along its seams",
                    path.display()
                );
                seen += 1;
            }
        }
    }
    assert!(seen > 100, "found {seen} files");
}

/// The upper floors name what they import: no module of the executor or
/// the node takes its parent's names wholesale (`use super::*` outside a
/// test module), so that each file's imports say what it depends on.
#[test]
fn the_executor_and_the_node_import_by_name() {
    let mut wholesale = Vec::new();
    for dir in ["crates/executor/src", "crates/node/src"] {
        for path in sources(&root().join(dir)) {
            let text = std::fs::read_to_string(&path).unwrap();
            // A test module's `use super::*` is indented; a file's own
            // imports are not.
            if text.lines().any(|line| line == "use super::*;") {
                wholesale.push(path.display().to_string());
            }
        }
    }
    assert!(wholesale.is_empty(), "use super::* in {wholesale:#?}");
}

/// The first bytes that name a stored transaction's sender kind
/// (`docs/transactions.md`, "One encoding").
const SENDER_KIND_TAGS: [&str; 4] = ["TX_VERSION", "IMPERSONATED_TAG", "UNSIGNED_TAG", "ETH_TAG"];

/// A transaction has one way in: in the whole product, one function
/// dispatches on the sender kind's first byte (`StoredTx::from_bytes`:
/// the one that names several kinds' tags, or matches a first byte
/// against one; each kind's own reader checks its own tag alone), and
/// one function
/// takes bytes to a `VerifiedTx` (`VerifiedTx::from_bytes`): any other
/// that does (the node's admission, which counts refusals) goes through
/// it.
#[test]
fn one_function_reads_a_transactions_first_byte_and_one_verifies_bytes() {
    let mut dispatchers = Vec::new();
    let mut from_bytes = Vec::new();
    for dir in ["crates", "bins", "sdk", "benches/src", "testing/fuzz/src"] {
        for path in sources(&root().join(dir)) {
            let text = std::fs::read_to_string(&path).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            for (start, length, _) in functions(&path) {
                let body = &lines[start - 1..start - 1 + length];
                let matched: std::collections::BTreeSet<&str> = SENDER_KIND_TAGS
                    .into_iter()
                    .filter(|tag| {
                        body.iter().any(|line| {
                            let code = code_of(line);
                            code.contains(&format!("&{tag})"))
                                || code.contains(&format!("&{tag},"))
                                || code.contains(&format!("::{tag})"))
                        })
                    })
                    .collect();
                let name = format!("{}:{start}", path.display());
                let matches_first_byte = body.iter().any(|line| {
                    let code = code_of(line);
                    code.contains("match ") && code.contains(".first()")
                });
                if matched.len() > 1 || (matches_first_byte && !matched.is_empty()) {
                    dispatchers.push(name.clone());
                }
                let opening = body
                    .iter()
                    .position(|line| code_of(line).trim_end().ends_with('{'))
                    .unwrap_or(0);
                let signature: String = body[..=opening].iter().map(|line| code_of(line)).collect();
                let through_the_one = body[1..]
                    .iter()
                    .any(|line| code_of(line).contains("VerifiedTx::from_bytes("));
                if signature.contains("&[u8]")
                    && signature.contains("Result<VerifiedTx")
                    && !through_the_one
                {
                    from_bytes.push(name);
                }
            }
        }
    }
    for (found, file) in [
        (&dispatchers, "crates/chain/src/tx/stored.rs"),
        (&from_bytes, "crates/chain/src/tx/verified.rs"),
    ] {
        assert!(
            found.len() == 1 && found[0].contains(file),
            "one in {file}, found {found:#?}"
        );
    }
}
