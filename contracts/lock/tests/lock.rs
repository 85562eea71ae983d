//! The lock on an in-process chain (both backends, which must agree): a
//! guarded call that comes back is refused, a callee sees the lock held,
//! and the next transaction finds it free, with nothing stored.

use ward_test::{Chain, account};

#[test]
fn a_guarded_call_refuses_reentry_for_its_transaction_only() {
    let alice = account("alice");
    let mut chain = Chain::new();
    chain.check_estimates();
    let lock = chain.deploy(alice, &ward_test::this_crate!(), &());
    let me = lock.address();
    let guarded = |chain: &mut Chain, method: &str| {
        let call = chain.call(alice, &lock, "guarded", &(me, String::from(method)));
        call.assert_ok();
        call.decode::<Option<bool>>()
    };

    // A callee sees the lock held.
    assert_eq!(guarded(&mut chain, "locked"), Some(true));
    // One that calls back into `guarded` is refused there.
    assert_eq!(guarded(&mut chain, "reenter"), Some(false));
    // Outside a guarded call the lock is free: a later transaction, and a
    // `reenter` of its own, whose `guarded` runs.
    assert!(!chain.query::<bool>(&lock, "locked", &()));
    let reenter = chain.call(alice, &lock, "reenter", &());
    reenter.assert_ok();
    assert!(reenter.decode::<bool>());
    // Nothing was stored.
    assert!(chain.storage_entries(&lock).is_empty());
}
