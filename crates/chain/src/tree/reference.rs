//! The `jmt` crate's own update and proof, over the same stores: the
//! reference Ward's tree must agree with, root for root and proof for
//! proof (Ward used it until its own tree replaced it).

use std::collections::BTreeMap;

use jmt::{
    JellyfishMerkleTree, KeyHash,
    storage::{LeafNode, Node, NodeKey, TreeReader},
};
use sha2::Sha256;
use ward_primitives::Hash32;

use super::{TreeStore, TreeUpdate};

struct Reader<'a, S: TreeStore>(&'a S);

impl<S: TreeStore> TreeReader for Reader<'_, S>
where
    S::Error: std::fmt::Debug,
{
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        let key = borsh::to_vec(node_key)?;
        match self
            .0
            .tree_node(&key)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?
        {
            None => Ok(None),
            Some(bytes) => Ok(Some(borsh::from_slice(&bytes)?)),
        }
    }

    fn get_value_option(
        &self,
        max_version: jmt::Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<jmt::OwnedValue>> {
        self.0
            .tree_value(&Hash32(key_hash.0), max_version)
            .map_err(|e| anyhow::anyhow!("{e:?}"))
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        anyhow::bail!("not indexed")
    }
}

/// jmt's update, as Ward called it: the batch insertion for a block that
/// only writes, the key-by-key path otherwise.
pub(super) fn update<S: TreeStore>(
    store: &S,
    height: u64,
    changes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
) -> TreeUpdate
where
    S::Error: std::fmt::Debug,
{
    let reader = Reader(store);
    let tree = JellyfishMerkleTree::<_, Sha256>::new(&reader);
    let genesis = tree.get_root_hash_option(0).unwrap().is_some();
    let set: Vec<(KeyHash, Option<Vec<u8>>)> = changes
        .iter()
        .map(|(key, value)| (KeyHash::with::<Sha256>(key), value.clone()))
        .collect();
    let (roots, batch) = if height == 0 {
        tree.put_value_sets(vec![set], 0)
    } else if height == 1 && !genesis {
        tree.put_value_sets(vec![Vec::new(), set], 0)
    } else if !set.is_empty() && set.iter().all(|(_, value)| value.is_some()) {
        let writes = set
            .into_iter()
            .filter_map(|(key, value)| value.map(|v| (key, v)))
            .collect();
        tree.batch_put_value_sets(vec![writes], None, height)
    } else {
        tree.put_value_sets(vec![set], height)
    }
    .unwrap();
    let mut update = TreeUpdate {
        root: Hash32(roots.last().unwrap().0),
        ..TreeUpdate::default()
    };
    for (key, node) in batch.node_batch.nodes() {
        update
            .nodes
            .push((borsh::to_vec(key).unwrap(), borsh::to_vec(node).unwrap()));
    }
    for ((version, key), value) in batch.node_batch.values() {
        update.values.push((Hash32(key.0), *version, value.clone()));
    }
    update
}

/// jmt's value and proof of `key` at `height`.
pub(super) fn prove<S: TreeStore>(store: &S, height: u64, key: &[u8]) -> (Option<Vec<u8>>, Vec<u8>)
where
    S::Error: std::fmt::Debug,
{
    let reader = Reader(store);
    let tree = JellyfishMerkleTree::<_, Sha256>::new(&reader);
    let (value, proof) = tree
        .get_with_proof(KeyHash::with::<Sha256>(key), height)
        .unwrap();
    (value, borsh::to_vec(&proof).unwrap())
}
