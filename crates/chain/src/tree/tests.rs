use std::convert::Infallible;

use proptest::prelude::*;

use super::*;

/// A tree store in memory: what the state stores do, as maps.
#[derive(Default)]
struct Maps {
    nodes: BTreeMap<Vec<u8>, Vec<u8>>,
    values: BTreeMap<(Hash32, u64), Option<Vec<u8>>>,
    /// Each version's replaced nodes, as a pruning store indexes them.
    stale: BTreeMap<u64, Vec<Vec<u8>>>,
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
        self.stale.insert(height, update.stale);
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

/// A state key of the small key space the differential test draws from.
fn small_key(k: u16) -> Vec<u8> {
    storage(&k.to_le_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Ward's tree against the `jmt` crate's, over random blocks of
    /// writes and removals (some of keys that are not there), with and
    /// without a genesis: the same root at every height, the same value
    /// and proof bytes for present and absent keys at every height so far,
    /// and jmt reads every node Ward writes. A third store alternates the
    /// two implementations block by block: each continues the other's
    /// tree.
    #[test]
    fn wards_tree_agrees_with_jmt_root_for_root_and_proof_for_proof(
        genesis in any::<bool>(),
        blocks in prop::collection::vec(
            prop::collection::btree_map(
                0u16..120,
                prop::option::weighted(0.7, prop::collection::vec(any::<u8>(), 1..6)),
                0..30,
            ),
            1..7,
        ),
        probes in prop::collection::vec(0u16..130, 1..12),
    ) {
        let (mut ours, mut theirs, mut mixed) = (Maps::default(), Maps::default(), Maps::default());
        // Ward's updates read through a cache of the nodes near the root.
        let cache = TreeCache::new();
        let first = u64::from(!genesis);
        for (i, block) in blocks.iter().enumerate() {
            let height = first + i as u64;
            let changes: BTreeMap<Vec<u8>, Option<Vec<u8>>> =
                block.iter().map(|(k, v)| (small_key(*k), v.clone())).collect();
            let (mine, fresh) = update_with(&ours, Some(&cache), height, &changes).unwrap();
            prop_assert_eq!(&mine, &update(&ours, height, &changes).unwrap(), "the cache changes nothing");
            let reference = reference::update(&theirs, height, &changes);
            prop_assert_eq!(mine.root, reference.root, "root at height {}", height);
            for (_, node) in &reference.nodes {
                let decoded = node::Node::decode(node);
                prop_assert!(decoded.is_some(), "jmt's node decodes");
                prop_assert_eq!(&decoded.unwrap().encode(), node, "and encodes back");
            }
            let mixed_update = if i % 2 == 0 {
                update(&mixed, height, &changes).unwrap()
            } else {
                reference::update(&mixed, height, &changes)
            };
            prop_assert_eq!(mixed_update.root, mine.root, "mixed root at {}", height);
            for (store, update) in [(&mut ours, mine), (&mut theirs, reference), (&mut mixed, mixed_update)] {
                store.nodes.extend(update.nodes);
                for (key, version, value) in update.values {
                    store.values.insert((key, version), value);
                }
            }
            cache.keep(fresh);
            for at in first..=height {
                for probe in &probes {
                    let key = small_key(*probe);
                    let Proven { value, proof } = prove(&ours, at, &key).unwrap();
                    let (their_value, their_proof) = reference::prove(&theirs, at, &key);
                    prop_assert_eq!(&value, &their_value, "value at {}", at);
                    prop_assert_eq!(&proof, &their_proof, "proof at {}", at);
                    // jmt reads Ward's nodes and proves the same.
                    let (_, from_ours) = reference::prove(&ours, at, &key);
                    prop_assert_eq!(&from_ours, &proof);
                    let root = root(&ours, at).unwrap();
                    prop_assert!(verify(&root, &key, value.as_deref(), &proof).is_ok());
                }
            }
        }
    }
}

/// Blocks large enough for the root's subtrees to be rebuilt on two
/// threads agree with jmt too, and every node they write is there to
/// prove from.
#[test]
fn large_blocks_on_two_threads_agree_with_jmt() {
    let (mut ours, mut theirs) = (Maps::default(), Maps::default());
    let cache = TreeCache::new();
    for height in 1..=4u64 {
        let mut changes = BTreeMap::new();
        for i in 0..700u32 {
            let k = (height as u32 * 517 + i * 7) % 2_000;
            let value = (i % 11 != 0).then(|| (height as u32 * i).to_le_bytes().to_vec());
            changes.insert(storage(&k.to_le_bytes()), value);
        }
        let (mine, fresh) = update_with(&ours, Some(&cache), height, &changes).unwrap();
        let reference = reference::update(&theirs, height, &changes);
        assert_eq!(mine.root, reference.root, "height {height}");
        for (store, update) in [(&mut ours, mine), (&mut theirs, reference)] {
            store.nodes.extend(update.nodes);
            for (key, version, value) in update.values {
                store.values.insert((key, version), value);
            }
        }
        cache.keep(fresh);
        for k in (0..2_000u32).step_by(37) {
            let key = storage(&k.to_le_bytes());
            let Proven { value, proof } = prove(&ours, height, &key).unwrap();
            assert_eq!((value, proof), reference::prove(&theirs, height, &key));
        }
    }
}

/// The leaves of `tree` at `height`: `(key hash, value)` in key order.
fn leaves_of(tree: &Maps, height: u64) -> Vec<(Hash32, Vec<u8>)> {
    let mut keys: Vec<Hash32> = tree.values.keys().map(|(k, _)| *k).collect();
    keys.dedup();
    keys.into_iter()
        .filter_map(|k| tree.tree_value(&k, height).unwrap().map(|v| (k, v)))
        .collect()
}

/// Splits `leaves` (sorted) into subtrees of at most `max` leaves, as a
/// snapshot's chunks do.
fn split(path: &[u8], leaves: &[LeafHashes], max: usize, out: &mut Vec<Subtree>) {
    if leaves.len() <= max || path.len() == 64 {
        out.push(subtree(path, leaves).unwrap());
        return;
    }
    for n in 0..16u8 {
        let mut below = path.to_vec();
        below.push(n);
        let depth = path.len();
        let group: Vec<LeafHashes> = leaves
            .iter()
            .filter(|(k, _)| node::nibble(k, depth) == n)
            .copied()
            .collect();
        split(&below, &group, max, out);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// A tree's leaves alone give its root, whole or as a cover of
    /// subtrees of any size; a tree built from them at a later version
    /// has the same root and proofs, and updates on from there exactly as
    /// the original does.
    #[test]
    fn a_tree_rebuilt_from_its_leaves_is_the_same_tree(
        blocks in prop::collection::vec(
            prop::collection::btree_map(0u16..400, prop::option::weighted(0.8, prop::collection::vec(any::<u8>(), 1..6)), 0..60),
            1..5,
        ),
        next in prop::collection::btree_map(0u16..500, prop::option::weighted(0.7, prop::collection::vec(any::<u8>(), 1..6)), 0..30),
        max in 1usize..40,
    ) {
        let mut original = Maps::default();
        let keys: Vec<Vec<u8>> = (0..500u16).map(|k| storage(&k.to_le_bytes())).collect();
        let mut root_now = EMPTY_ROOT;
        for (i, block) in blocks.iter().enumerate() {
            let changes: Vec<(&[u8], Option<&[u8]>)> = block
                .iter()
                .map(|(k, v)| (keys[usize::from(*k)].as_slice(), v.as_deref()))
                .collect();
            root_now = original.apply(i as u64 + 1, &changes);
        }
        let height = blocks.len() as u64;
        let leaves = leaves_of(&original, height);
        let hashes: Vec<LeafHashes> = leaves.iter().map(|(k, v)| leaf_hashes(k, v)).collect();
        prop_assert_eq!(subtree(&[], &hashes).unwrap().hash, root_now);
        let mut parts = Vec::new();
        split(&[], &hashes, max, &mut parts);
        prop_assert_eq!(root_of(&parts), Some(root_now));
        // Empty parts may be left out; a wrong or missing part changes the root.
        let nonempty: Vec<Subtree> = parts.iter().filter(|p| p.leaves > 0).cloned().collect();
        prop_assert_eq!(root_of(&nonempty), Some(root_now));
        if let Some(i) = nonempty.iter().position(|p| p.leaves > 0) {
            let mut missing = nonempty.clone();
            missing.remove(i);
            prop_assert_ne!(root_of(&missing), Some(root_now));
            let mut wrong = nonempty.clone();
            wrong[i].hash.0[0] ^= 1;
            prop_assert_ne!(root_of(&wrong), Some(root_now));
        }

        // Rebuilt at a later version, on a store of its own.
        let at = height + 7;
        let mut rebuilt = Maps::default();
        let update = build(at, leaves.clone()).unwrap();
        prop_assert_eq!(update.root, root_now);
        rebuilt.nodes.extend(update.nodes);
        for (key, version, value) in update.values {
            rebuilt.values.insert((key, version), value);
        }
        prop_assert_eq!(root(&rebuilt, at).unwrap(), root_now);
        for key in keys.iter().step_by(7) {
            prop_assert_eq!(prove(&rebuilt, at, key).unwrap(), prove(&original, height, key).unwrap());
        }
        // Both update on with the same block to the same root.
        let changes: Vec<(&[u8], Option<&[u8]>)> = next
            .iter()
            .map(|(k, v)| (keys[usize::from(*k)].as_slice(), v.as_deref()))
            .collect();
        let mut original_next = original;
        let expected = original_next.apply(height + 1, &changes);
        prop_assert_eq!(rebuilt.apply(at + 1, &changes), expected);
    }
}

#[test]
fn covers_that_are_not_covers_are_refused() {
    let part = |path: &[u8]| Subtree {
        path: path.to_vec(),
        hash: Hash32(node::PLACEHOLDER),
        leaves: 0,
    };
    assert_eq!(root_of(&[]), Some(EMPTY_ROOT));
    assert_eq!(root_of(&[part(&[1]), part(&[1])]), None, "repeated");
    assert_eq!(root_of(&[part(&[2]), part(&[1])]), None, "unsorted");
    assert_eq!(root_of(&[part(&[1]), part(&[1, 3])]), None, "nested");
    assert_eq!(root_of(&[part(&[16])]), None, "not a nibble");
    let mut lying = part(&[4]);
    lying.hash.0[0] = 1;
    assert_eq!(root_of(&[lying]), None, "an empty subtree with a hash");
    // Leaves out of order, repeated or outside the path.
    let (a, b) = ([0x10; 32], [0x20; 32]);
    assert!(subtree(&[], &[(b, [0; 32]), (a, [0; 32])]).is_none());
    assert!(subtree(&[], &[(a, [0; 32]), (a, [0; 32])]).is_none());
    assert!(subtree(&[2], &[(a, [0; 32])]).is_none());
    assert!(subtree(&[1], &[(a, [0; 32])]).is_some());
    assert!(build(1, vec![(Hash32(b), vec![1]), (Hash32(a), vec![2])]).is_none());
}

impl Maps {
    /// Deletes every node replaced at a version up to `keep_from`: what a
    /// store keeping heights from `keep_from` on prunes.
    fn prune(&mut self, keep_from: u64) {
        let versions: Vec<u64> = self.stale.range(..=keep_from).map(|(v, _)| *v).collect();
        for version in versions {
            for key in self.stale.remove(&version).unwrap() {
                self.nodes.remove(&key);
            }
        }
    }

    /// The keys of every node reachable from the root at `height`.
    fn reachable(&self, height: u64, out: &mut std::collections::BTreeSet<Vec<u8>>) {
        let mut todo = vec![(height, node::Path::default())];
        while let Some((version, path)) = todo.pop() {
            let key = node::node_key(version, &path);
            let bytes = self.nodes.get(&key).expect("a reachable node is stored");
            if let Some(node::Node::Internal(internal)) = node::Node::decode(bytes) {
                for (n, child) in internal.children.iter().enumerate() {
                    if let Some(child) = child {
                        todo.push((child.version, path.child(n as u8)));
                    }
                }
            }
            out.insert(key);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Pruning the nodes replaced up to a height leaves exactly the nodes
    /// the roots from that height on reach: every root, value and proof
    /// from there reads as before, and nothing else is kept.
    #[test]
    fn pruning_keeps_exactly_what_the_kept_heights_reach(
        blocks in prop::collection::vec(
            prop::collection::btree_map(0u16..300, prop::option::weighted(0.75, prop::collection::vec(any::<u8>(), 1..6)), 0..50),
            2..8,
        ),
        keep in 0usize..8,
    ) {
        let keys: Vec<Vec<u8>> = (0..300u16).map(|k| storage(&k.to_le_bytes())).collect();
        let mut tree = Maps::default();
        let mut roots = vec![EMPTY_ROOT];
        for (i, block) in blocks.iter().enumerate() {
            let changes: Vec<(&[u8], Option<&[u8]>)> = block
                .iter()
                .map(|(k, v)| (keys[usize::from(*k)].as_slice(), v.as_deref()))
                .collect();
            roots.push(tree.apply(i as u64 + 1, &changes));
        }
        let top = blocks.len() as u64;
        let keep_from = (keep as u64).clamp(1, top);
        let proofs: Vec<Vec<Proven>> = (keep_from..=top)
            .map(|h| keys.iter().step_by(11).map(|k| prove(&tree, h, k).unwrap()).collect())
            .collect();
        let before = tree.nodes.len();
        tree.prune(keep_from);
        let mut reachable = std::collections::BTreeSet::new();
        for h in keep_from..=top {
            tree.reachable(h, &mut reachable);
        }
        let kept: std::collections::BTreeSet<Vec<u8>> = tree.nodes.keys().cloned().collect();
        prop_assert_eq!(&kept, &reachable, "kept {} of {}", kept.len(), before);
        for (i, h) in (keep_from..=top).enumerate() {
            prop_assert_eq!(root(&tree, h).unwrap(), roots[h as usize]);
            let again: Vec<Proven> = keys.iter().step_by(11).map(|k| prove(&tree, h, k).unwrap()).collect();
            prop_assert_eq!(&again, &proofs[i]);
        }
    }
}
