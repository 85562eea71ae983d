//! The failing contract on an in-process chain (both backends, which must
//! agree): what a failure looks like to a test, names and lines included
//! when the module is built with debug info.

use std::path::Path;

use ward_test::{BuildOptions, Chain, Wasm, account};

/// The contract in its `debug-info` profile: the release code with names
/// and line tables.
fn with_debug_info() -> Wasm {
    let options = BuildOptions {
        profile: "debug-info".into(),
        ..BuildOptions::default()
    };
    Wasm::try_build(Path::new(env!("CARGO_MANIFEST_DIR")), &options).unwrap()
}

/// The line of `src/lib.rs` that holds `needle`.
fn line_of(needle: &str) -> usize {
    let source = include_str!("../src/lib.rs");
    1 + source.lines().position(|l| l.contains(needle)).unwrap()
}

#[test]
fn a_panic_reverts_with_its_message_and_its_trace_names_the_helper() {
    let alice = account("alice");
    let mut chain = Chain::new();
    let faults = chain.deploy(alice, &with_debug_info(), &());
    assert_eq!(
        chain
            .call(alice, &faults, "share", &(10u64, 2u64))
            .decode::<u64>(),
        5
    );

    let failed = chain.call(alice, &faults, "share", &(10u64, 0u64));
    failed.assert_reverted("cannot split 10 into zero parts");
    let trace = failed.trace().unwrap();
    let panic_line = format!("faults/src/lib.rs:{}", line_of("panic!(\"cannot split"));
    assert!(trace.contains("faults::split_evenly"), "{trace}");
    assert!(trace.contains(&panic_line), "{panic_line} in {trace}");
    assert!(trace.contains("(inlined)"), "{trace}");

    // What a test that expected success prints: the message and the trace.
    let shown = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| failed.decode::<u64>()))
        .unwrap_err();
    let shown = shown.downcast_ref::<String>().unwrap();
    assert!(
        shown.contains("faults.share expected success, but it ended reverted"),
        "{shown}"
    );
    assert!(shown.contains("cannot split 10 into zero parts"), "{shown}");
    assert!(shown.contains(&panic_line), "{shown}");
}

#[test]
fn out_of_bounds_and_out_of_gas() {
    let mut chain = Chain::new();
    let faults = chain.deploy(account("alice"), &ward_test::this_crate!(), &());
    assert_eq!(chain.query::<u64>(&faults, "pick", &2u32), 13);
    chain
        .try_query(&faults, "pick", &3u32)
        .assert_reverted("index out of bounds");
    let spun = chain
        .tx(account("bob"))
        .gas(100_000)
        .call(&faults, "spin", &1_000_000u64);
    spun.assert_status("out_of_gas");
    assert_eq!(spun.gas_used(), 100_000);
}
