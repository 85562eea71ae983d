//! The name registry on an in-process chain (both backends, which must
//! agree), every call's gas estimate checked.

use ed25519_dalek::{Signer, SigningKey};
use registry::Registered;
use ward_sdk::codec::{Encode, encode};
use ward_test::{Chain, account};

fn sign(key: &SigningKey, message: &impl Encode) -> [u8; 64] {
    key.sign(&encode(message)).to_bytes()
}

#[test]
fn names_are_owned_by_ed25519_keys() {
    let (bob, carol) = (account("bob"), account("carol"));
    let mut chain = Chain::new();
    chain.check_estimates();
    let registry = chain.deploy(account("alice"), &ward_test::this_crate!(), &());
    let at = registry.address();
    let alice_key = SigningKey::from_bytes(&[7; 32]);
    let bob_key = SigningKey::from_bytes(&[8; 32]);
    let (a_pub, b_pub) = (
        alice_key.verifying_key().to_bytes(),
        bob_key.verifying_key().to_bytes(),
    );
    let name = "alice".to_string();

    let claim = sign(&alice_key, &("register", at, &name, a_pub));
    chain
        .call(bob, &registry, "register", &(&name, b_pub, claim))
        .assert_reverted("bad signature");
    let registered = chain.call(bob, &registry, "register", &(&name, a_pub, claim));
    let event = Registered {
        name: name.clone(),
        key: a_pub,
    };
    assert_eq!(registered.assert_ok().events::<Registered>(), [event]);
    chain
        .call(bob, &registry, "register", &(&name, a_pub, claim))
        .assert_reverted("taken");
    chain
        .call(bob, &registry, "register", &("Bad Name", a_pub, claim))
        .assert_reverted("names are");
    type Entry = Option<([u8; 32], u64)>;
    assert_eq!(
        chain.query::<Entry>(&registry, "lookup", &name),
        Some((a_pub, 0))
    );

    let statement = b"alice says hi".to_vec();
    let signed = alice_key.sign(&statement).to_bytes();
    assert!(chain.query::<bool>(&registry, "verify", &(&name, &statement, signed)));
    let other = b"alice says bye".to_vec();
    assert!(!chain.query::<bool>(&registry, "verify", &(&name, other, signed)));

    let rotation = sign(&alice_key, &("rotate", at, &name, b_pub, 0u64));
    chain
        .call(carol, &registry, "rotate", &(&name, b_pub, rotation))
        .assert_ok();
    assert_eq!(
        chain.query::<Entry>(&registry, "lookup", &name),
        Some((b_pub, 1))
    );
    // The same signature again: the nonce has moved on.
    chain
        .call(carol, &registry, "rotate", &(&name, b_pub, rotation))
        .assert_reverted("bad signature");
    let nobody = "nobody".to_string();
    assert_eq!(chain.query::<Entry>(&registry, "lookup", &nobody), None);
}
