//! Every code block of README.md, CONTRIBUTING.md and docs/ is checked
//! against the code, so that a doc cannot drift silently:
//!
//! - a Rust (or TOML, C or Go) block is an excerpt of a file the build
//!   compiles (C and Go: the C API's and the Go package's, which its
//!   tests build),
//!   named by a `<!-- source: PATH -->` line above it: each of its lines
//!   appears in that file, in order (whitespace aside; lines that are only
//!   a `//` comment, and trailing comments, are the doc's own);
//! - a shell block's commands name what exists: `ward` subcommands and
//!   their flags (asked of the binary's `--help`), make targets, cargo
//!   packages and examples, repository paths, JSON-RPC methods;
//! - README's `ward run --json` example has the keys the binary prints.
//!
//! docs/node.md's JSON-RPC examples are run against a live node by
//! `crates/node/tests/all/docs.rs`. Text blocks (grammars, terminal
//! output) are prose.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use super::{example, run_json, ward};

mod gate;

/// One fenced block of a Markdown file.
struct Block {
    /// `FILE:LINE` of the opening fence.
    place: String,
    lang: String,
    text: String,
    /// The path of a `<!-- source: PATH -->` line right above the fence.
    source: Option<String>,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// README.md, CONTRIBUTING.md and every file of docs/.
fn documents() -> Vec<PathBuf> {
    let root = root();
    let mut files = vec![root.join("README.md"), root.join("CONTRIBUTING.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

fn blocks() -> Vec<Block> {
    let mut blocks = Vec::new();
    for file in documents() {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.strip_prefix(root()).unwrap_or(&file).display();
        let mut open: Option<Block> = None;
        let mut previous = "";
        for (index, line) in text.lines().enumerate() {
            let trimmed = line.trim_start();
            if let Some(info) = trimmed.strip_prefix("```") {
                match open.take() {
                    Some(block) => blocks.push(block),
                    None => {
                        let source = previous
                            .trim()
                            .strip_prefix("<!-- source: ")
                            .and_then(|rest| rest.strip_suffix(" -->"))
                            .map(str::to_owned);
                        open = Some(Block {
                            place: format!("{name}:{}", index + 1),
                            lang: info.trim().to_owned(),
                            text: String::new(),
                            source,
                        });
                    }
                }
            } else if let Some(block) = &mut open {
                block.text.push_str(line);
                block.text.push('\n');
            }
            if !line.trim().is_empty() {
                previous = line;
            }
        }
        assert!(open.is_none(), "{name}: a code block is never closed");
    }
    blocks
}

fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// `line` without a trailing `comment`-started comment outside a string
/// (doc comments, `///` and `//!`, are code here).
fn code_of<'a>(line: &'a str, comment: &str) -> &'a str {
    let mut quoted = false;
    let mut chars = line.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' if quoted => {
                chars.next();
            }
            '"' => quoted = !quoted,
            _ if !quoted
                && line[at..].starts_with(comment)
                && (at == 0 || line[..at].ends_with(char::is_whitespace))
                && !line[at..].starts_with("///")
                && !line[at..].starts_with("//!") =>
            {
                return &line[..at];
            }
            _ => {}
        }
    }
    line
}

/// Where `excerpt` stops being an in-order excerpt of `source`: the first
/// line of it that is not found, or `None` when all are.
fn missing_line<'a>(excerpt: &'a str, source: &str, comment: &str) -> Option<&'a str> {
    let source = squeeze(source);
    let mut at = 0;
    for line in excerpt.lines() {
        let code = code_of(line, comment).trim();
        if code.is_empty() {
            continue;
        }
        let piece = squeeze(code);
        match source[at..].find(&piece) {
            Some(found) => at += found + piece.len(),
            None => return Some(line),
        }
    }
    None
}

#[test]
fn the_excerpt_check_finds_drift() {
    let source = "fn main() {\n    let x = f(\n        1,\n    );\n    g(x); // h\n}\n";
    assert_eq!(missing_line("let x = f(1,);\ng(x);", source, "//"), None);
    assert_eq!(missing_line("// ...\ng(x);  // why", source, "//"), None);
    assert_eq!(
        missing_line("g(x);\nlet x = f(1,);", source, "//"),
        Some("let x = f(1,);")
    );
    assert_eq!(
        missing_line("let x = f(2);", source, "//"),
        Some("let x = f(2);")
    );
    assert_eq!(
        code_of(r#"let s = "a // b"; // c"#, "//"),
        r#"let s = "a // b"; "#
    );
    assert_eq!(code_of("/// doc", "//"), "/// doc");
}

/// Directories whose `.rs` and `Cargo.toml` files `make test` builds
/// (and, under `crates/capi` and `bindings/go`, its C and Go files).
const COMPILED: [&str; 7] = [
    "crates/",
    "bins/",
    "sdk/",
    "contracts/",
    "testing/",
    "benches/",
    "bindings/",
];

#[test]
fn every_rust_block_is_an_excerpt_of_compiled_code() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for block in blocks() {
        let comment = match block.lang.as_str() {
            "rust" | "c" | "go" => "//",
            "toml" => "#",
            _ if block.source.is_some() => {
                failures.push(format!(
                    "{}: a source line on a {} block",
                    block.place, block.lang
                ));
                continue;
            }
            _ => continue,
        };
        let Some(source) = &block.source else {
            failures.push(format!(
                "{}: a {} block without a `<!-- source: PATH -->` line above it",
                block.place, block.lang
            ));
            continue;
        };
        let compiled = COMPILED.iter().any(|dir| source.starts_with(dir))
            && [".rs", "Cargo.toml", ".c", ".go"]
                .iter()
                .any(|end| source.ends_with(end))
            && !source.contains("..");
        if !compiled {
            failures.push(format!(
                "{}: {source} is not a file the build compiles",
                block.place
            ));
            continue;
        }
        let Ok(text) = std::fs::read_to_string(root().join(source)) else {
            failures.push(format!("{}: {source} does not exist", block.place));
            continue;
        };
        if let Some(line) = missing_line(&block.text, &text, comment) {
            failures.push(format!(
                "{}: not in {source} (in this order): {:?}",
                block.place,
                line.trim()
            ));
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 10, "only {checked} Rust blocks were found");
}

/// The words of a shell line, split as sh would (quotes removed, `$(…)`
/// kept whole), commands split at `;`, `&`, `&&`, `|` and `||`, comments
/// and redirections dropped. A `[…]` group of a usage synopsis is one
/// command's, whatever `|` it holds.
fn commands(line: &str) -> Vec<Vec<String>> {
    let mut words: Vec<(String, bool)> = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut in_word = false;
    let (mut single, mut double, mut parens) = (false, false, 0u32);
    let mut chars = line.chars().peekable();
    let finish = |word: &mut String, quoted: &mut bool, in_word: &mut bool, words: &mut Vec<_>| {
        if *in_word {
            words.push((std::mem::take(word), *quoted));
        }
        *quoted = false;
        *in_word = false;
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' if !double && parens == 0 => {
                single = !single;
                quoted = true;
                in_word = true;
            }
            '"' if !single && parens == 0 => {
                double = !double;
                quoted = true;
                in_word = true;
            }
            '$' if !single && chars.peek() == Some(&'(') => {
                parens += 1;
                word.push(c);
                in_word = true;
            }
            ')' if parens > 0 && !single && !double => {
                parens -= 1;
                word.push(c);
            }
            '#' if !in_word && !single && !double && parens == 0 => break,
            ';' | '&' | '|' | '>' if !single && !double && parens == 0 => {
                finish(&mut word, &mut quoted, &mut in_word, &mut words);
                let mut op = c.to_string();
                while chars.peek().is_some_and(|n| matches!(n, '&' | '|' | '>')) {
                    op.push(chars.next().unwrap_or(c));
                }
                words.push((op, false));
            }
            c if c.is_whitespace() && !single && !double && parens == 0 => {
                finish(&mut word, &mut quoted, &mut in_word, &mut words);
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    finish(&mut word, &mut quoted, &mut in_word, &mut words);

    let mut commands = vec![Vec::new()];
    let mut brackets = 0i32;
    let mut words = words.into_iter();
    while let Some((word, quoted)) = words.next() {
        if !quoted && word.starts_with('>') {
            words.next(); // the file redirected to
            continue;
        }
        if !quoted && brackets == 0 && matches!(word.as_str(), ";" | "&" | "&&" | "|" | "||") {
            commands.push(Vec::new());
            continue;
        }
        if !quoted {
            brackets += word.chars().take_while(|&c| c == '[').count() as i32;
            brackets -= word
                .trim_end_matches('.')
                .chars()
                .rev()
                .take_while(|&c| c == ']')
                .count() as i32;
        }
        commands.last_mut().unwrap().push(word);
    }
    commands.retain(|command| !command.is_empty());
    commands
}

#[test]
fn the_shell_splitter_splits_as_sh_does() {
    let split = commands(r#"A=1 ward call "$X" --json-args '{"a": 1}' --dev & # note"#);
    assert_eq!(
        split,
        vec![vec![
            "A=1",
            "ward",
            "call",
            "$X",
            "--json-args",
            r#"{"a": 1}"#,
            "--dev"
        ]]
    );
    let split = commands("ALICE=0x$(printf 'a1%.0s' {1..32}); curl -s x > proof.json");
    assert_eq!(
        split,
        vec![
            vec!["ALICE=0x$(printf 'a1%.0s' {1..32})"],
            vec!["curl", "-s", "x"]
        ]
    );
    let split = commands("ward run [--input 0xHEX | --input-file PATH] [--gas N] | head");
    assert_eq!(split[0].len(), 9);
    assert_eq!(split[1], vec!["head"]);
}

/// The logical lines of a shell block: `\`-continued lines joined, and a
/// usage synopsis's indented `[…]` lines joined to the line before.
fn logical_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut continued = false;
    for line in text.lines() {
        let synopsis = line.starts_with(char::is_whitespace) && line.trim_start().starts_with('[');
        let body = line.trim_end();
        let (body, next) = match body.strip_suffix('\\') {
            Some(body) => (body, true),
            None => (body, false),
        };
        match lines.last_mut() {
            Some(last) if continued || synopsis => {
                last.push(' ');
                last.push_str(body.trim());
            }
            _ => lines.push(body.to_owned()),
        }
        continued = next;
    }
    lines
}

/// The flags a command's words use: `--name` (also inside `[…]` or as
/// `--name=value`).
fn flags(words: &[String]) -> Vec<String> {
    words
        .iter()
        .map(|word| word.trim_start_matches('['))
        .take_while(|word| *word != "--")
        .filter(|word| word.starts_with("--") && word.len() > 2)
        .map(|word| {
            let end = word[2..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .map_or(word.len(), |i| i + 2);
            word[..end].to_owned()
        })
        .collect()
}

/// The help text of `ward PATH… --help`, or `None` when it is not a
/// command.
fn ward_help(path: &[&str], cache: &mut BTreeMap<String, Option<String>>) -> Option<String> {
    cache
        .entry(path.join(" "))
        .or_insert_with(|| {
            let mut args = path.to_vec();
            args.push("--help");
            let out = ward(&args);
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
        })
        .clone()
}

fn mentions_flag(help: &str, flag: &str) -> bool {
    help.match_indices(flag).any(|(at, _)| {
        !help[at + flag.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-')
    })
}

/// The directory of the workspace's (or contracts/') package `name`.
fn package_dir(name: &str) -> Option<PathBuf> {
    let wanted = format!("name = \"{name}\"");
    let mut stack = vec![root()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).ok()? {
            let path = entry.ok()?.path();
            let skip = path.file_name().is_some_and(|n| {
                n == "target" || n == "node_modules" || n.to_string_lossy().starts_with('.')
            });
            if path.is_dir() && !skip {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == "Cargo.toml")
                && std::fs::read_to_string(&path)
                    .is_ok_and(|t| t.lines().any(|l| l.trim() == wanted))
            {
                return Some(dir.clone());
            }
        }
    }
    None
}

/// What is wrong with one command of a shell block, if anything.
fn check_command(
    words: &[String],
    help: &mut BTreeMap<String, Option<String>>,
    makefile: &str,
) -> Vec<String> {
    let words: Vec<&String> = words.iter().skip_while(|w| is_assignment(w)).collect();
    let Some((command, args)) = words.split_first() else {
        return Vec::new(); // only assignments
    };
    let args: Vec<String> = args.iter().map(|w| (*w).clone()).collect();
    let mut problems = Vec::new();
    for arg in &args {
        let path = arg.trim_start_matches('[').trim_end_matches([']', '.']);
        let in_repo = [
            "examples/",
            "contracts/",
            "docs/",
            "scripts/",
            "crates/",
            "bindings/",
        ]
        .iter()
        .any(|dir| path.starts_with(dir));
        if in_repo && !root().join(path).exists() {
            problems.push(format!("no such file: {path}"));
        }
    }
    match command.as_str() {
        "ward" => {
            let Some(sub) = args.first().filter(|a| !a.starts_with('-')) else {
                return problems;
            };
            let nested = args
                .get(1)
                .filter(|a| {
                    a.chars()
                        .all(|c| c.is_ascii_lowercase() || c == '_' || c == '-')
                })
                .and_then(|next| ward_help(&[sub, next], help));
            let Some(text) = nested.or_else(|| ward_help(&[sub], help)) else {
                problems.push(format!("`ward {sub}` is not a command"));
                return problems;
            };
            for flag in flags(&args) {
                if !mentions_flag(&text, &flag) {
                    problems.push(format!("`ward {sub}` has no {flag}"));
                }
            }
        }
        "make" => {
            for target in args
                .iter()
                .filter(|a| !a.starts_with('-') && !is_assignment(a))
            {
                if !makefile
                    .lines()
                    .any(|l| l.starts_with(&format!("{target}:")))
                {
                    problems.push(format!("the Makefile has no target {target}"));
                }
            }
        }
        "cargo" => {
            let value = |flag: &str| {
                args.iter()
                    .position(|a| a == flag)
                    .and_then(|i| args.get(i + 1))
            };
            let dir = value("-p").map(|p| (p, package_dir(p)));
            if let Some((name, None)) = &dir {
                problems.push(format!("no package {name}"));
            }
            if let Some((_, Some(dir))) = &dir {
                if let Some(test) = value("--test") {
                    let file = dir.join("tests").join(format!("{test}.rs"));
                    if !file.exists() && !dir.join("tests").join(test).join("main.rs").exists() {
                        problems.push(format!("no test target {test} in {}", dir.display()));
                    }
                }
                if let Some(example) = value("--example")
                    && !dir.join("examples").join(format!("{example}.rs")).exists()
                {
                    problems.push(format!("no example {example} in {}", dir.display()));
                }
            }
        }
        "curl" => {
            if let Some(body) = args
                .iter()
                .position(|a| a == "-d")
                .and_then(|i| args.get(i + 1))
            {
                match serde_json::from_str::<serde_json::Value>(body) {
                    Ok(request) => {
                        let method = request["method"].as_str().unwrap_or_default();
                        if !ward_node::METHODS.contains(&method) {
                            problems.push(format!("no JSON-RPC method {method:?}"));
                        }
                    }
                    Err(e) => problems.push(format!("the request is not JSON: {e}")),
                }
            }
        }
        "contracts/build.sh" => {}
        // The C compiler, on the C API's files (checked above to exist),
        // and the program it built (`a.out`, the compiler's default).
        "cc" | "./a.out" => {}
        // Shell built-ins and the external tools the docs drive.
        "export" | "for" | "do" | "done" | "printf" | "head" | "etcd" => {}
        // The toolchain a contract builds with (docs/contracts.md), and
        // the Go package's own test command (docs/embedding.md).
        "rustup" | "apt-get" | "cd" | "go" => {}
        other => problems.push(format!("the doc check does not know the command {other:?}")),
    }
    problems
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
    })
}

#[test]
fn every_shell_command_names_what_exists() {
    let makefile = std::fs::read_to_string(root().join("Makefile")).unwrap();
    let mut help = BTreeMap::new();
    let mut failures = Vec::new();
    let mut ward_commands = 0;
    for block in blocks().iter().filter(|b| b.lang == "sh") {
        for line in logical_lines(&block.text) {
            for words in commands(&line) {
                ward_commands += usize::from(words.iter().any(|w| w == "ward"));
                for problem in check_command(&words, &mut help, &makefile) {
                    failures.push(format!(
                        "{}: {problem}\n    in: {}",
                        block.place,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        ward_commands >= 30,
        "only {ward_commands} `ward` commands were found"
    );
}

#[test]
fn the_shell_check_finds_drift() {
    let makefile = "test:\n\tcargo test\n";
    let mut help = BTreeMap::new();
    let check = |line: &str, help: &mut BTreeMap<_, _>| {
        commands(line)
            .iter()
            .flat_map(|words| check_command(words, help, makefile))
            .collect::<Vec<_>>()
    };
    assert!(check("ward call 0xADDR --input 0x --gas 5 | head -1", &mut help).is_empty());
    assert_eq!(
        check("ward call 0xADDR --gass 5", &mut help),
        ["`ward call` has no --gass"]
    );
    assert_eq!(
        check("ward calll X", &mut help),
        ["`ward calll` is not a command"]
    );
    assert_eq!(
        check("make tests", &mut help),
        ["the Makefile has no target tests"]
    );
    assert_eq!(
        check("ward run examples/nope.wat", &mut help),
        ["no such file: examples/nope.wat"]
    );
    assert_eq!(
        check("cargo test -p ward-nothing", &mut help),
        ["no package ward-nothing"]
    );
    let curl = r#"curl -d '{"method":"getNothing"}'"#;
    assert_eq!(
        check(curl, &mut help),
        [r#"no JSON-RPC method "getNothing""#]
    );
    assert_eq!(
        check("rm -rf x", &mut help),
        [r#"the doc check does not know the command "rm""#]
    );
}

/// README's `ward run --json` example shows the keys the binary prints.
#[test]
fn the_readme_json_example_has_the_binary_s_keys() {
    let block = blocks()
        .into_iter()
        .find(|b| b.place.starts_with("README.md") && b.lang == "json")
        .expect("README shows `ward run --json`");
    let shown: serde_json::Value = serde_json::from_str(&block.text).unwrap();
    let (_, printed) = run_json(&[&example("hello.wat")]);
    let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&shown), keys(&printed), "README.md's json block");
}

/// docs/economics.md states `ward transfer`'s default gas.
#[test]
fn the_economics_document_states_the_transfer_gas() {
    let doc = std::fs::read_to_string(root().join("docs/economics.md")).unwrap();
    let help = ward(&["transfer", "--help"]);
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let default = help
        .split("Gas limit (default ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .expect("ward transfer --help states its default gas");
    assert!(
        doc.contains(&format!("| `ward transfer`'s default gas | {default} |")),
        "docs/economics.md states another default than {default}"
    );
}

/// CONTRIBUTING.md states the default budget `.ci/run` gives the gate.
#[test]
fn the_contributing_guide_states_the_ci_budget() {
    let run = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    let budget = run
        .split("WARD_CI_BUDGET:-")
        .nth(1)
        .and_then(|rest| rest.split('}').next())
        .expect(".ci/run has a default WARD_CI_BUDGET");
    let guide = std::fs::read_to_string(root().join("CONTRIBUTING.md")).unwrap();
    assert!(
        guide.contains(&format!("`WARD_CI_BUDGET` seconds (default {budget})")),
        "CONTRIBUTING.md states another budget than {budget}"
    );
}
