//! Plugins uploaded and run as children, on an in-process chain (both
//! backends, which must agree), every call's gas estimate checked.

use plugins::{PluginEvent, Uploaded};
use ward_test::{Address, Chain, Wasm, account};

fn module(wat: &str) -> Vec<u8> {
    Wasm::from_bytes("plugin", wat).bytes().to_vec()
}

type Run = (i64, Vec<u8>, u64);

#[test]
fn uploaded_modules_run_as_children_with_their_own_storage() {
    let (alice, bob, carol) = (account("alice"), account("bob"), account("carol"));
    let mut chain = Chain::new();
    chain.check_estimates();
    let plugins = chain.deploy(alice, &ward_test::this_crate!(), &());
    let visits_code = module(include_str!("visits.wat"));
    let uploaded = chain.call(bob, &plugins, "upload", &visits_code);
    let visits = uploaded.decode::<u64>();
    let event = Uploaded {
        id: 0,
        owner: bob,
        size: visits_code.len() as u64,
    };
    assert_eq!(uploaded.events::<Uploaded>(), [event]);
    let hostile_code = module(include_str!("hostile.wat"));
    let hostile = chain
        .call(carol, &plugins, "upload", &hostile_code)
        .decode::<u64>();
    assert_eq!((visits, hostile), (0, 1));
    chain
        .call(bob, &plugins, "upload", &b"not wasm".to_vec())
        .assert_reverted("not a plugin");
    let no_run = module(r#"(module (func (export "go")))"#);
    chain
        .call(bob, &plugins, "upload", &no_run)
        .assert_reverted("a plugin exports `run");

    // Two runs: the count lives in the plugin's storage.
    for count in 1..=2i64 {
        let args = (visits, b"world".to_vec(), 1_000_000u64);
        let ran = chain.call(carol, &plugins, "run", &args);
        let (result, output, used) = ran.decode::<Run>();
        assert_eq!((result, output.as_slice()), (count, &b"hello, world"[..]));
        assert!(
            used > 0 && used < ran.gas_used(),
            "{used} of {}",
            ran.gas_used()
        );
        let event = PluginEvent {
            id: visits,
            topic: b"visits".to_vec(),
            data: count.to_le_bytes().to_vec(),
        };
        assert_eq!(ran.events::<PluginEvent>(), [event]);
    }

    // Another plugin's "visits" is its own.
    let args = (hostile, b"s".to_vec(), 1_000_000u64);
    assert_eq!(chain.call(bob, &plugins, "run", &args).decode::<Run>().0, 0);
    // Failures revert the call (and what the plugin wrote), whatever they
    // are, and the caller pays the plugin's gas.
    for (input, needle) in [
        ("w", "trapped: unreachable"),
        ("l", "out of gas"),
        ("o", "an unknown op"),
        ("r", "a range outside its memory"),
        ("d", "trapped: stack_overflow"),
    ] {
        let args = (hostile, input.as_bytes().to_vec(), 1_000_000u64);
        let failed = chain.call(bob, &plugins, "run", &args);
        failed.assert_reverted(needle);
        assert_eq!(failed.receipt().exit_code, 3);
        if input == "l" {
            assert!(failed.gas_used() > 1_000_000, "{failed:?}");
        }
    }
    let args = (visits, Vec::<u8>::new(), 1_000_000u64);
    let count = chain.call(carol, &plugins, "run", &args).decode::<Run>().0;
    assert_eq!(count, 3, "neither plugin saw the other's key");

    // Only the uploader removes a plugin.
    let owner = chain.query::<Option<Address>>(&plugins, "owner", &visits);
    assert_eq!(owner, Some(bob));
    chain
        .call(alice, &plugins, "remove", &visits)
        .assert_reverted("only the uploader");
    chain.call(bob, &plugins, "remove", &visits).assert_ok();
    let args = (visits, Vec::<u8>::new(), 1_000u64);
    chain
        .call(carol, &plugins, "run", &args)
        .assert_reverted("no such plugin");
}
