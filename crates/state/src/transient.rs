//! Transient storage (the EVM's EIP-1153, `ward.transient_read` and
//! `ward.transient_write`): values a transaction's frames share, keyed by
//! contract and key like storage, undone with a reverted frame's other
//! writes and forgotten when the transaction ends. Never committed.

use std::collections::BTreeMap;

use ward_primitives::Address;

type Key = (Address, Vec<u8>);

/// A transaction's transient storage, with the log that undoes its writes
/// ([`crate::Journal::transient`]).
#[derive(Debug, Default)]
pub struct Transient {
    entries: BTreeMap<Key, Vec<u8>>,
    /// The key and value bytes of `entries`.
    bytes: u64,
    /// Each write's key and the value it replaced (`None`: absent).
    undo: Vec<(Key, Option<Vec<u8>>)>,
}

/// A transient write that would take the transaction's transient storage
/// past its budget ([`Transient::write`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransientFull {
    /// The budget, in key and value bytes.
    pub max_bytes: u64,
}

fn size(key: &Key, value: &[u8]) -> u64 {
    (key.1.len() + value.len()) as u64
}

impl Transient {
    /// Forgets everything: a transaction starts.
    pub(crate) fn clear(&mut self) {
        *self = Transient::default();
    }

    /// The value under `key` of `address`, as the transaction's writes so
    /// far left it.
    pub fn read(&self, address: &Address, key: &[u8]) -> Option<Vec<u8>> {
        self.entries.get(&(*address, key.to_vec())).cloned()
    }

    /// Writes (`Some`) or removes (`None`) `key` of `address`.
    ///
    /// # Errors
    ///
    /// [`TransientFull`], writing nothing, when the entries would then hold
    /// more than `max_bytes` of keys and values.
    pub fn write(
        &mut self,
        address: Address,
        key: &[u8],
        value: Option<Vec<u8>>,
        max_bytes: u64,
    ) -> Result<(), TransientFull> {
        let key = (address, key.to_vec());
        let old = self.entries.get(&key).map_or(0, |v| size(&key, v));
        let new = value.as_ref().map_or(0, |v| size(&key, v));
        let bytes = self.bytes - old + new;
        if new > old && bytes > max_bytes {
            return Err(TransientFull { max_bytes });
        }
        let previous = match value {
            Some(value) => self.entries.insert(key.clone(), value),
            None => self.entries.remove(&key),
        };
        self.bytes = bytes;
        self.undo.push((key, previous));
        Ok(())
    }

    /// Where the undo log stands, for a checkpoint.
    pub(crate) fn mark(&self) -> usize {
        self.undo.len()
    }

    /// Undoes the writes since `mark`.
    pub(crate) fn revert(&mut self, mark: usize) {
        while self.undo.len() > mark {
            let Some((key, previous)) = self.undo.pop() else {
                break;
            };
            let now = self.entries.get(&key).map_or(0, |v| size(&key, v));
            let before = previous.as_ref().map_or(0, |v| size(&key, v));
            match previous {
                Some(value) => self.entries.insert(key, value),
                None => self.entries.remove(&key),
            };
            self.bytes = self.bytes - now + before;
        }
    }
}
