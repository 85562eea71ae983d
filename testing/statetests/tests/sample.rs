//! `make test`'s part of Ethereum's state tests: one file of every
//! folder of GeneralStateTests (`sample.txt`), its first cases, through the EVM runtime on both backends
//! against revm run natively; a difference the known-differences file
//! does not list fails it (`make evm-conformance` runs every file).

#![allow(clippy::unwrap_used, reason = "test")]

use ward_statetests::{Known, WardSide, known::Summary};
use ward_vm::BackendKind;

#[test]
fn the_sample_of_every_folder_runs_as_revm_runs_it_or_is_listed() {
    let dir =
        match ward_testkit::shared_data("ethereum-tests/GeneralStateTests", "WARD_STATE_TESTS_DIR")
        {
            Ok(dir) => dir,
            Err(why) => return ward_testkit::skip(&why),
        };
    let known = Known::parse(include_str!("../known-differences.txt")).unwrap();
    let sides = [
        WardSide::new(BackendKind::Wasmtime).unwrap(),
        WardSide::new(BackendKind::Wasmi).unwrap(),
    ];
    let files = ward_statetests::sample(&dir).unwrap();
    // Every folder of the suite (81 at the pinned commit) has its file.
    let sampled: std::collections::BTreeSet<_> = files
        .iter()
        .map(|f| {
            f.parent()
                .unwrap()
                .strip_prefix(&dir)
                .unwrap()
                .to_path_buf()
        })
        .collect();
    let folders = ward_statetests::folders(&dir).unwrap();
    assert_eq!(
        sampled, folders,
        "sample.txt names one file of every folder"
    );
    assert_eq!(files.len(), folders.len());
    let mut results = Vec::new();
    for file in &files {
        results.extend(
            ward_statetests::run_file(
                &dir,
                file,
                &sides,
                Some(ward_statetests::SAMPLE_CASES_PER_FILE),
            )
            .unwrap(),
        );
    }
    let summary = Summary::of(&results, &known);
    let (cases, reproduced, same) = (summary.cases, summary.reproduced, summary.same);
    assert!(
        summary.disagree.is_empty(),
        "the backends disagree: {:?}",
        summary.disagree
    );
    let unlisted: Vec<String> = summary
        .unlisted
        .iter()
        .map(|(id, cause, lines)| format!("{id} ({cause:?}): {}", lines.join("; ")))
        .collect();
    println!(
        "{} files, {cases} cases: revm reproduces {reproduced}, Ward's runtime gives revm's outcome in {same}",
        files.len()
    );
    // revm is the reference only where it reproduces the fixture.
    assert!(reproduced * 10 >= cases * 9, "{reproduced} of {cases}");
    assert!(unlisted.is_empty(), "not listed:\n{}", unlisted.join("\n"));
}

/// What docs/evm.md says of the sample is what `sample.txt` and the code
/// hold.
#[test]
fn the_docs_state_the_samples_size() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let docs = std::fs::read_to_string(root.join("../../docs/evm.md")).unwrap();
    let docs = docs.split_whitespace().collect::<Vec<_>>().join(" ");
    let files = include_str!("../sample.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .count();
    let sentence = format!(
        "one file of every one of the {files} folders, the one whose largest gas limit is least, its first {} cases",
        ward_statetests::SAMPLE_CASES_PER_FILE
    );
    assert!(
        docs.contains(&sentence),
        "docs/evm.md should say: {sentence}"
    );
}
