//! `make test` runs every `make` target the README and docs tell a user
//! to type (as a prerequisite of `test`, or its scripts run by one), or
//! this file says why not: a command a user types cannot break unnoticed.

use std::collections::{BTreeMap, BTreeSet};

use super::{blocks, commands, is_assignment, logical_lines, root};

/// The `make` targets the docs name that `make test` does not run, each
/// with why: what they do is measured or long, not a check.
const NOT_RUN_BY_THE_GATE: &[(&str, &str)] = &[
    ("test", "it is the gate"),
    (
        "bench",
        "criterion benchmarks measure; they pass or fail nothing",
    ),
    (
        "bench-report",
        "every benchmark figure, minutes of measuring (docs/benchmarks)",
    ),
    (
        "bench-go",
        "a measurement of the Go package against the Rust API",
    ),
    ("metering", "about ten minutes of metering measurements"),
    (
        "evm-conformance",
        "every state test case, most of an hour; the gate runs its fixed sample of every folder",
    ),
    (
        "parallel-long",
        "the long form of a test the gate runs 6 cases of",
    ),
    ("loops", "the long form of a test the gate runs"),
    (
        "fuzz",
        "long fuzzing; the gate replays the committed corpus",
    ),
    (
        "fuzz-diff",
        "long fuzzing; the gate runs the differential test briefly",
    ),
    (
        "fuzz-cov",
        "long coverage-guided fuzzing; the gate replays its corpus",
    ),
    (
        "publish-check",
        "builds every published crate from its package: long",
    ),
];

/// A Makefile's rules: each target's prerequisites and recipe lines.
fn make_rules(makefile: &str) -> BTreeMap<String, (Vec<String>, Vec<String>)> {
    let mut rules: BTreeMap<String, (Vec<String>, Vec<String>)> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in makefile.lines() {
        if let Some(recipe) = line.strip_prefix('\t') {
            if let Some(target) = &current {
                rules
                    .entry(target.clone())
                    .or_default()
                    .1
                    .push(recipe.to_owned());
            }
            continue;
        }
        current = None;
        let Some((target, prerequisites)) = line.split_once(':') else {
            continue;
        };
        if prerequisites.starts_with('=')
            || target.starts_with('.')
            || target.is_empty()
            || !target
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            continue;
        }
        let entry = rules.entry(target.to_owned()).or_default();
        entry
            .0
            .extend(prerequisites.split_whitespace().map(str::to_owned));
        current = Some(target.to_owned());
    }
    rules
}

/// The `scripts/...` a recipe line runs.
fn scripts_of(line: &str) -> Vec<String> {
    line.split(|c: char| c.is_whitespace() || c == '@' || c == ';')
        .filter(|word| word.starts_with("scripts/"))
        .map(str::to_owned)
        .collect()
}

/// Why `target` is not run by `make test`, if it is not: it is run when
/// it is `test` or one of its prerequisites (transitively), or when every
/// script its recipe runs is run by one of those (as `demo`'s is, with
/// the binary the tests built).
fn not_run(target: &str, rules: &BTreeMap<String, (Vec<String>, Vec<String>)>) -> Option<String> {
    let mut gate = BTreeSet::new();
    let mut todo = vec!["test".to_owned()];
    while let Some(next) = todo.pop() {
        if gate.insert(next.clone())
            && let Some((prerequisites, _)) = rules.get(&next)
        {
            todo.extend(prerequisites.iter().cloned());
        }
    }
    if gate.contains(target) {
        return None;
    }
    let Some((_, recipe)) = rules.get(target) else {
        return Some(format!("the Makefile has no target {target}"));
    };
    let run: BTreeSet<String> = gate
        .iter()
        .filter_map(|t| rules.get(t))
        .flat_map(|(_, recipe)| recipe.iter().flat_map(|line| scripts_of(line)))
        .collect();
    let scripts: Vec<String> = recipe.iter().flat_map(|line| scripts_of(line)).collect();
    if !scripts.is_empty() && scripts.iter().all(|s| run.contains(s)) {
        return None;
    }
    Some(format!(
        "`make {target}` is not run by `make test` (nor are its scripts {scripts:?}): run it there, or say in NOT_RUN_BY_THE_GATE why not"
    ))
}

#[test]
fn every_make_target_the_docs_name_is_run_by_the_gate_or_says_why_not() {
    let makefile = std::fs::read_to_string(root().join("Makefile")).unwrap();
    let rules = make_rules(&makefile);
    let mut named = BTreeSet::new();
    for block in blocks().iter().filter(|b| b.lang == "sh") {
        for line in logical_lines(&block.text) {
            for words in commands(&line) {
                let words: Vec<&String> = words.iter().skip_while(|w| is_assignment(w)).collect();
                if words.first().is_some_and(|w| *w == "make") {
                    named.extend(
                        words[1..]
                            .iter()
                            .filter(|a| !a.starts_with('-') && !is_assignment(a))
                            .map(|a| (*a).clone()),
                    );
                }
            }
        }
    }
    assert!(
        named.contains("demo") && named.contains("cluster-demo"),
        "{named:?}"
    );
    let mut failures = Vec::new();
    for target in &named {
        if NOT_RUN_BY_THE_GATE.iter().any(|(t, _)| t == target) {
            continue;
        }
        failures.extend(not_run(target, &rules));
    }
    // Each exception is a target the docs name, and one the gate indeed
    // does not run.
    for (target, _) in NOT_RUN_BY_THE_GATE {
        if *target != "test" && not_run(target, &rules).is_none() {
            failures.push(format!(
                "`make {target}` is run by the gate: drop its exception"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_gate_check_finds_a_target_it_does_not_run() {
    let makefile = "test: unit\nunit: contracts\n\tscripts/demo.sh x\ncontracts:\n\ttrue\ndemo: contracts\n\tcargo build\n\tscripts/demo.sh w\ncluster-demo:\n\tscripts/cluster-demo.sh w\n";
    let rules = make_rules(makefile);
    assert_eq!(not_run("contracts", &rules), None);
    assert_eq!(not_run("demo", &rules), None);
    assert!(not_run("cluster-demo", &rules).is_some());
    assert!(not_run("nothing", &rules).is_some());
}
