//! Upgrading the counter to its second version, on an in-process chain
//! (both backends, which must agree on every receipt and state root).

use std::path::Path;

use ward_test::{Chain, Contract, Wasm, account};

fn v1() -> Wasm {
    Wasm::build(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../counter"))
}

fn v2() -> Wasm {
    ward_test::this_crate!()
}

/// The first version, deployed with `alice` as its admin, counted to 7.
fn counted(chain: &mut Chain) -> Contract {
    let alice = account("alice");
    let counter = chain.tx(alice).admin(alice).deploy(&v1(), &5u64).contract();
    chain.call(alice, &counter, "increment", &2u64).assert_ok();
    counter
}

#[test]
fn the_admin_upgrades_and_migrate_transforms_the_kept_state() {
    let (alice, bob) = (account("alice"), account("bob"));
    let mut chain = Chain::new();
    let mut counter = counted(&mut chain);
    let address = counter.address();
    chain.fund(address, 50);
    let before = chain.contract_info(&counter);
    assert_eq!(before.admin, Some(alice));
    assert_eq!(before.code_history().len(), 1);

    // migrate(step 10, scale 3): 7 becomes 21, and it counts in tens.
    let upgraded = chain.tx(alice).upgrade(&mut counter, &v2(), &(10u64, 3u64));
    upgraded.assert_ok();
    let event = &upgraded.receipt().events[0];
    assert_eq!(
        (event.contract, event.topic.as_slice()),
        (address, &b"ward.upgraded"[..])
    );
    assert_eq!(counter.address(), address, "the address stays");
    assert_eq!(chain.query::<u64>(&counter, "get", &()), 21);
    assert_eq!(chain.query::<u64>(&counter, "step", &()), 10);
    assert_eq!(
        chain.call(bob, &counter, "increment", &()).decode::<u64>(),
        31
    );
    assert_eq!(chain.balance(address), 50, "the balance stays");
    // The schema is the new code's; the record keeps both codes.
    assert!(counter.schema().unwrap().method("step").is_some());
    let after = chain.contract_info(&counter);
    let history = after.code_history();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0], (before.created_at, before.code_hash));
    assert_eq!(history[1].1, after.code_hash);
    assert_ne!(after.code_hash, before.code_hash);
}

#[test]
fn only_the_admin_upgrades_and_a_failing_migrate_changes_nothing() {
    let (alice, bob) = (account("alice"), account("bob"));
    let mut chain = Chain::new();
    let mut counter = counted(&mut chain);
    let before = chain.contract_info(&counter);

    let by_bob = chain.tx(bob).upgrade(&mut counter, &v2(), &(10u64, 3u64));
    by_bob.assert_status("rejected");
    assert_eq!(by_bob.receipt().error_kind.as_deref(), Some("not_admin"));
    // migrate refuses a step of 0: the upgrade is undone.
    let refused = chain.tx(alice).upgrade(&mut counter, &v2(), &(0u64, 3u64));
    refused.assert_reverted("a step of 0 would never count");
    assert!(refused.receipt().events.is_empty());
    assert_eq!(chain.contract_info(&counter), before);
    assert_eq!(counter.name(), "counter", "the v1 schema is still the one");
    assert_eq!(
        chain
            .call(bob, &counter, "increment", &1u64)
            .decode::<u64>(),
        8
    );
}

#[test]
fn admins_change_hands_and_an_immutable_contract_refuses_upgrades() {
    let (alice, bob) = (account("alice"), account("bob"));
    let mut chain = Chain::new();
    let mut counter = counted(&mut chain);

    let handed = chain.tx(alice).set_admin(&counter, Some(bob));
    assert_eq!(handed.assert_ok().receipt().events[0].topic, b"ward.admin");
    chain
        .tx(alice)
        .upgrade(&mut counter, &v2(), &(1u64, 1u64))
        .assert_status("rejected");
    chain.tx(bob).set_admin(&counter, None).assert_ok();
    assert_eq!(chain.contract_info(&counter).admin, None);
    let late = chain.tx(bob).upgrade(&mut counter, &v2(), &(1u64, 1u64));
    assert!(late.error().unwrap().contains("has no admin"), "{late:?}");

    // Deployed without an admin: immutable from the start.
    let fixed = chain
        .tx(alice)
        .salt("fixed")
        .deploy(&v1(), &0u64)
        .contract();
    let mut fixed_too = fixed.clone();
    chain
        .tx(alice)
        .upgrade(&mut fixed_too, &v2(), &(1u64, 1u64))
        .assert_status("rejected");
    assert_eq!(chain.contract_info(&fixed).admin, None);
}
