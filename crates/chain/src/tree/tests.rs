use std::convert::Infallible;

use proptest::prelude::*;

use super::*;

/// A tree store in memory: what the state stores do, as maps.
#[derive(Default)]
struct Maps {
    nodes: BTreeMap<Vec<u8>, Vec<u8>>,
    values: BTreeMap<(Hash32, u64), Option<Vec<u8>>>,
}

impl TreeStore for Maps {
    type Error = Infallible;

    fn tree_node(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Infallible> {
        Ok(self.nodes.get(key).cloned())
    }

    fn tree_value(&self, key_hash: &Hash32, max: u64) -> Result<Option<Vec<u8>>, Infallible> {
        Ok(self
            .values
            .range((*key_hash, 0)..=(*key_hash, max))
            .next_back()
            .and_then(|(_, v)| v.clone()))
    }
}

impl Maps {
    fn apply(&mut self, height: u64, changes: &[(&[u8], Option<&[u8]>)]) -> Hash32 {
        let changes = changes
            .iter()
            .map(|(k, v)| (k.to_vec(), v.map(<[u8]>::to_vec)))
            .collect();
        let update = update(self, height, &changes).unwrap();
        self.nodes.extend(update.nodes);
        for (key, version, value) in update.values {
            self.values.insert((key, version), value);
        }
        update.root
    }
}

fn storage(key: &[u8]) -> Vec<u8> {
    StateKey::Storage(&Address([1; 32]), key).to_bytes()
}

#[test]
fn proofs_of_values_and_of_absence_hold_and_tampering_fails() {
    let mut tree = Maps::default();
    let (a, b, c) = (storage(b"a"), storage(b"b"), storage(b"c"));
    let r1 = tree.apply(1, &[(&a, Some(b"1")), (&b, Some(b"2"))]);
    let r2 = tree.apply(2, &[(&a, Some(b"10")), (&b, None)]);
    assert_ne!(r1, r2);
    assert_eq!(root(&tree, 1).unwrap(), r1);
    assert_eq!(root(&tree, 2).unwrap(), r2);

    // Present, at the latest and an earlier height.
    let Proven { value, proof } = prove(&tree, 2, &a).unwrap();
    assert_eq!(value.as_deref(), Some(&b"10"[..]));
    verify(&r2, &a, Some(b"10"), &proof).unwrap();
    assert!(matches!(
        verify(&r2, &a, Some(b"1"), &proof),
        Err(ProofError::Invalid(_))
    ));
    assert!(verify(&r1, &a, Some(b"10"), &proof).is_err());
    let Proven {
        value: old,
        proof: old_proof,
    } = prove(&tree, 1, &a).unwrap();
    assert_eq!(old.as_deref(), Some(&b"1"[..]));
    verify(&r1, &a, Some(b"1"), &old_proof).unwrap();

    // Removed, and never written: proofs of absence.
    for key in [&b, &c] {
        let Proven { value, proof } = prove(&tree, 2, key).unwrap();
        assert_eq!(value, None);
        verify(&r2, key, None, &proof).unwrap();
        assert!(verify(&r2, key, Some(b"2"), &proof).is_err());
    }
    // An absence proof does not prove a present key absent.
    let Proven {
        value: _,
        proof: absent,
    } = prove(&tree, 2, &c).unwrap();
    assert!(verify(&r2, &a, None, &absent).is_err());

    // Every changed byte of a proof: malformed or invalid, never a panic
    // and never a pass.
    for at in 0..proof.len() {
        let mut tampered = proof.clone();
        tampered[at] ^= 0x55;
        assert!(
            verify(&r2, &a, Some(b"10"), &tampered).is_err(),
            "byte {at}"
        );
    }
}

#[test]
fn the_root_depends_only_on_the_state() {
    // Same final state, different histories.
    let mut one = Maps::default();
    let (a, b) = (storage(b"a"), storage(b"b"));
    one.apply(1, &[(&a, Some(b"x"))]);
    let r_one = one.apply(2, &[(&b, Some(b"y"))]);
    let mut two = Maps::default();
    two.apply(1, &[(&b, Some(b"old")), (&a, Some(b"x"))]);
    two.apply(2, &[]);
    let r_two = two.apply(3, &[(&b, Some(b"y"))]);
    assert_eq!(r_one, r_two);
    // An empty first block is the empty tree; an empty block keeps its root.
    let mut empty = Maps::default();
    assert_eq!(empty.apply(1, &[]), EMPTY_ROOT);
    assert_eq!(root(&empty, 0).unwrap(), EMPTY_ROOT);
    assert_eq!(two.apply(4, &[]), r_two);
    // Removing a key that was never there changes nothing.
    assert_eq!(two.apply(5, &[(&storage(b"never"), None)]), r_two);
    // Keys of different kinds never collide.
    let address = Address([1; 32]);
    let keys = [
        StateKey::Code(&Hash32([1; 32])).to_bytes(),
        StateKey::Contract(&address).to_bytes(),
        StateKey::Storage(&address, b"").to_bytes(),
        StateKey::Nonce(&address).to_bytes(),
    ];
    let distinct: std::collections::BTreeSet<_> = keys.iter().collect();
    assert_eq!(distinct.len(), 4);
}

#[test]
fn a_missing_tree_is_an_error() {
    let tree = Maps::default();
    assert!(matches!(root(&tree, 3), Err(TreeError::Tree(_))));
    assert!(matches!(
        update(&tree, 5, &BTreeMap::new()),
        Err(TreeError::Tree(_))
    ));
    assert!(prove(&tree, 2, b"k").is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary proof bytes are refused without a panic.
    #[test]
    fn arbitrary_proofs_are_refused(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        prop_assert!(verify(&EMPTY_ROOT, b"k", Some(b"v"), &bytes).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A block that only writes takes the batch insertion; the same writes
    /// with a removal of a key that is not there take the key-by-key
    /// path: the roots agree at every height, and proofs from the batch
    /// path's stored nodes verify.
    #[test]
    fn batch_and_key_by_key_updates_build_the_same_tree(
        blocks in prop::collection::vec(
            prop::collection::btree_map(0u16..300, prop::collection::vec(any::<u8>(), 1..8), 1..40),
            2..6,
        )
    ) {
        let (mut batch, mut single) = (Maps::default(), Maps::default());
        let absent = storage(b"never written");
        for (i, block) in blocks.iter().enumerate() {
            let height = i as u64 + 1;
            let writes: Vec<(Vec<u8>, Vec<u8>)> = block
                .iter()
                .map(|(k, v)| (storage(&k.to_le_bytes()), v.clone()))
                .collect();
            let as_changes = |removal: bool| {
                let mut changes: Vec<(&[u8], Option<&[u8]>)> = writes
                    .iter()
                    .map(|(k, v)| (k.as_slice(), Some(v.as_slice())))
                    .collect();
                if removal {
                    changes.push((absent.as_slice(), None));
                }
                changes
            };
            let a = batch.apply(height, &as_changes(false));
            let b = single.apply(height, &as_changes(true));
            prop_assert_eq!(a, b, "height {}", height);
            let (key, value) = &writes[0];
            let Proven { value: got, proof } = prove(&batch, height, key).unwrap();
            prop_assert_eq!(got.as_deref(), Some(value.as_slice()));
            prop_assert!(verify(&a, key, Some(value), &proof).is_ok());
        }
    }
}
