//! A chain for tests of the Rust API's `Chain`: storage in a shared map,
//! events in a shared list, a fixed block context.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use ward_vm::{Chain, ChainError, FaultKind, NodeFault};

/// The events a [`MapChain`] took: (topic, data) in order.
pub type Events = Vec<(Vec<u8>, Vec<u8>)>;

/// What a [`MapChain`] answers for the block context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapContext {
    /// The caller.
    pub caller: [u8; 32],
    /// The running contract's address.
    pub address: [u8; 32],
    /// The block's height.
    pub height: u64,
    /// The block's time.
    pub time: u64,
}

impl Default for MapContext {
    fn default() -> Self {
        MapContext {
            caller: [0xca; 32],
            address: [0x5e; 32],
            height: 42,
            time: 1_700_000_000,
        }
    }
}

/// Storage in a shared map, events in a shared list: a clone shares both.
#[derive(Clone, Default)]
pub struct MapChain {
    /// Storage by key.
    pub storage: Arc<Mutex<BTreeMap<Vec<u8>, Vec<u8>>>>,
    /// The events emitted.
    pub events: Arc<Mutex<Events>>,
    /// Refuse writes and events, as a read-only call's chain does.
    pub read_only: bool,
    /// Fail every read as a node fault (a broken disk).
    pub broken: bool,
    /// The block context it answers.
    pub context: MapContext,
}

impl MapChain {
    /// A chain that shares this one's storage and events, read-only when
    /// `read_only`.
    #[must_use]
    pub fn sharing(&self, read_only: bool) -> MapChain {
        MapChain {
            read_only,
            ..self.clone()
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Chain for MapChain {
    fn storage_read(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, ChainError> {
        if self.broken {
            return Err(NodeFault::new(FaultKind::Storage, "the disk is gone").into());
        }
        Ok(lock(&self.storage).get(key).cloned())
    }

    fn storage_write(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<(), ChainError> {
        if self.read_only {
            return Err(ChainError::refused("storage_write in a read-only call"));
        }
        let mut storage = lock(&self.storage);
        match value {
            Some(v) => storage.insert(key.to_vec(), v.to_vec()),
            None => storage.remove(key),
        };
        Ok(())
    }

    fn emit_event(&mut self, topic: &[u8], data: &[u8]) -> Result<(), ChainError> {
        if self.read_only {
            return Err(ChainError::refused("emit_event in a read-only call"));
        }
        lock(&self.events).push((topic.to_vec(), data.to_vec()));
        Ok(())
    }

    fn caller(&self) -> [u8; 32] {
        self.context.caller
    }

    fn self_address(&self) -> [u8; 32] {
        self.context.address
    }

    fn block_height(&self) -> u64 {
        self.context.height
    }

    fn block_time(&self) -> u64 {
        self.context.time
    }
}
