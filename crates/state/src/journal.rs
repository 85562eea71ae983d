//! The journal: an overlay of one block's writes over a store, with a
//! checkpoint per call frame.
//!
//! Every write records what it replaced in an undo log; a [`Checkpoint`] is
//! a position in that log (and in the event list). Reverting to a
//! checkpoint undoes, newest first, exactly the writes made since, which
//! are the frame's own and its children's; events emitted since are
//! dropped. Keeping a frame's changes costs nothing: its checkpoint is
//! simply forgotten, and its entries stay for an outer revert to undo.

use std::collections::BTreeMap;

use ward_primitives::{Address, Hash32};

use crate::{ChangeSet, ContractInfo, Entries, Event, StateError, StateRead, transient::Transient};

/// One thing a transaction read from the state under its journal: what a
/// parallel block checks against the writes of the transactions before it
/// (`ward_executor`'s parallel execution).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReadKey {
    /// One storage value.
    Storage(Address, Vec<u8>),
    /// Every storage value of a contract (an entries listing).
    StorageRange(Address),
    /// A contract's record.
    Contract(Address),
    /// Code by hash.
    Code(Hash32),
    /// An account's nonce.
    Nonce(Address),
    /// A balance.
    Balance(Address),
}

/// `address`'s storage entries `stored`, with `writes` (storage writes
/// of any contracts, `None` removing a key) applied above them, in key
/// order: what a layer of writes over a store lists.
pub fn overlay_entries(
    stored: Entries,
    address: &Address,
    writes: &BTreeMap<(Address, Vec<u8>), Option<Vec<u8>>>,
) -> Entries {
    let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = stored.into_iter().collect();
    for ((a, key), value) in writes.range((*address, Vec::new())..) {
        if a != address {
            break;
        }
        match value {
            Some(v) => merged.insert(key.clone(), v.clone()),
            None => merged.remove(key),
        };
    }
    merged.into_iter().collect()
}

/// A position to revert to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Checkpoint {
    undo: usize,
    events: usize,
    transient: usize,
}

enum Undo {
    /// `previous`: the overlay's entry before the write (`None`: no entry,
    /// the store's value showed through).
    Storage {
        key: (Address, Vec<u8>),
        previous: Option<Option<Vec<u8>>>,
    },
    Contract {
        address: Address,
        previous: Option<ContractInfo>,
    },
    Code {
        hash: Hash32,
        previous: Option<Vec<u8>>,
    },
    Nonce {
        account: Address,
        previous: Option<u64>,
    },
    Balance {
        address: Address,
        previous: Option<u128>,
    },
}

/// A block's writes over a store `B`: a reference for a journal that lives
/// inside one function, an `Arc` for one shared with running contracts.
pub struct Journal<B: StateRead> {
    base: B,
    storage: BTreeMap<(Address, Vec<u8>), Option<Vec<u8>>>,
    contracts: BTreeMap<Address, ContractInfo>,
    code: BTreeMap<Hash32, Vec<u8>>,
    nonces: BTreeMap<Address, u64>,
    balances: BTreeMap<Address, u128>,
    events: Vec<Event>,
    /// `event_bytes[i]`: the topic and data bytes of `events[..i]`.
    event_bytes: Vec<u64>,
    /// The current transaction's first event, and the most topic and data
    /// bytes its events may hold ([`Journal::begin_tx`]).
    tx_events: (usize, u64),
    undo: Vec<Undo>,
    /// The current transaction's transient storage.
    transient: Transient,
}

/// An event that would take its transaction's events past their budget
/// ([`Journal::try_emit`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventsFull {
    /// The budget, in topic and data bytes.
    pub max_bytes: u64,
}

impl<B: StateRead> Journal<B> {
    /// An empty overlay over `base`.
    pub fn new(base: B) -> Self {
        Journal {
            base,
            storage: BTreeMap::new(),
            contracts: BTreeMap::new(),
            code: BTreeMap::new(),
            nonces: BTreeMap::new(),
            balances: BTreeMap::new(),
            events: Vec::new(),
            event_bytes: vec![0],
            tx_events: (0, u64::MAX),
            undo: Vec::new(),
            transient: Transient::default(),
        }
    }

    /// A transaction starts: its events may hold at most `max_event_bytes`
    /// topic and data bytes in all ([`Journal::try_emit`]), and its
    /// transient storage starts empty.
    pub fn begin_tx(&mut self, max_event_bytes: u64) {
        self.tx_events = (self.events.len(), max_event_bytes);
        self.transient.clear();
    }

    /// The current transaction's transient storage, to read and write:
    /// a revert to an earlier checkpoint undoes its writes.
    pub fn transient(&mut self) -> &mut Transient {
        &mut self.transient
    }

    /// Records `event` unless the current transaction's events would then
    /// hold more than its budget ([`Journal::begin_tx`]; no budget before).
    ///
    /// # Errors
    ///
    /// [`EventsFull`], recording nothing.
    pub fn try_emit(&mut self, event: Event) -> Result<(), EventsFull> {
        let (first, max_bytes) = self.tx_events;
        let total = self.event_bytes.last().copied().unwrap_or(0);
        let before = self.event_bytes.get(first).copied().unwrap_or(0);
        let size = (event.topic.len() + event.data.len()) as u64;
        if (total - before).saturating_add(size) > max_bytes {
            return Err(EventsFull { max_bytes });
        }
        self.emit(event);
        Ok(())
    }

    /// The store under the overlay.
    pub fn base(&self) -> &B {
        &self.base
    }

    /// Marks the start of a frame.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            undo: self.undo.len(),
            events: self.events.len(),
            transient: self.transient.mark(),
        }
    }

    /// Undoes every write and drops every event since `checkpoint`.
    /// Reverting to a checkpoint older than one already reverted to is
    /// allowed; reverting to a newer one after an older revert does nothing.
    pub fn revert(&mut self, checkpoint: Checkpoint) {
        while self.undo.len() > checkpoint.undo {
            let Some(entry) = self.undo.pop() else { break };
            match entry {
                Undo::Storage { key, previous } => put_back(&mut self.storage, key, previous),
                Undo::Contract { address, previous } => {
                    put_back(&mut self.contracts, address, previous);
                }
                Undo::Code { hash, previous } => put_back(&mut self.code, hash, previous),
                Undo::Nonce { account, previous } => put_back(&mut self.nonces, account, previous),
                Undo::Balance { address, previous } => {
                    put_back(&mut self.balances, address, previous);
                }
            }
        }
        self.events
            .truncate(checkpoint.events.min(self.events.len()));
        self.event_bytes.truncate(self.events.len() + 1);
        self.transient.revert(checkpoint.transient);
    }

    /// A storage value as the journal sees it now.
    ///
    /// # Errors
    ///
    /// When the store under it fails.
    pub fn read(&self, address: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        match self.storage.get(&(*address, key.to_vec())) {
            Some(value) => Ok(value.clone()),
            None => self.base.storage(address, key),
        }
    }

    /// Writes (`Some`) or removes (`None`) a storage value.
    ///
    /// # Errors
    ///
    /// Never at present; kept fallible for stores that check writes.
    pub fn write(
        &mut self,
        address: Address,
        key: &[u8],
        value: Option<Vec<u8>>,
    ) -> Result<(), StateError> {
        let key = (address, key.to_vec());
        let previous = self.storage.insert(key.clone(), value);
        self.undo.push(Undo::Storage { key, previous });
        Ok(())
    }

    /// A contract as the journal sees it now.
    ///
    /// # Errors
    ///
    /// When the store under it fails.
    pub fn contract(&self, address: &Address) -> Result<Option<ContractInfo>, StateError> {
        match self.contracts.get(address) {
            Some(info) => Ok(Some(info.clone())),
            None => self.base.contract(address),
        }
    }

    /// Records a new contract.
    pub fn create_contract(&mut self, address: Address, info: ContractInfo) {
        let previous = self.contracts.insert(address, info);
        self.undo.push(Undo::Contract { address, previous });
    }

    /// Code by hash as the journal sees it now.
    ///
    /// # Errors
    ///
    /// When the store under it fails.
    pub fn code(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
        match self.code.get(hash) {
            Some(bytes) => Ok(Some(bytes.clone())),
            None => self.base.code(hash),
        }
    }

    /// Stores code under its hash.
    pub fn put_code(&mut self, hash: Hash32, bytes: Vec<u8>) {
        let previous = self.code.insert(hash, bytes);
        self.undo.push(Undo::Code { hash, previous });
    }

    /// An account's nonce as the journal sees it now.
    ///
    /// # Errors
    ///
    /// When the store under it fails.
    pub fn nonce(&self, account: &Address) -> Result<u64, StateError> {
        match self.nonces.get(account) {
            Some(nonce) => Ok(*nonce),
            None => self.base.nonce(account),
        }
    }

    /// Sets an account's nonce.
    pub fn set_nonce(&mut self, account: Address, nonce: u64) {
        let previous = self.nonces.insert(account, nonce);
        self.undo.push(Undo::Nonce { account, previous });
    }

    /// A balance as the journal sees it now.
    ///
    /// # Errors
    ///
    /// When the store under it fails.
    pub fn balance(&self, address: &Address) -> Result<u128, StateError> {
        match self.balances.get(address) {
            Some(balance) => Ok(*balance),
            None => self.base.balance(address),
        }
    }

    /// Sets a balance.
    pub fn set_balance(&mut self, address: Address, balance: u128) {
        let previous = self.balances.insert(address, balance);
        self.undo.push(Undo::Balance { address, previous });
    }

    /// Moves `amount` from `from` to `to` (nothing when they are the same
    /// address), undoable like any write: `false`, and nothing moved, when
    /// `from` holds less than `amount`.
    ///
    /// # Errors
    ///
    /// A store failure (a balance that would overflow is a corrupt store:
    /// all balances together fit a `u128`).
    pub fn transfer(
        &mut self,
        from: Address,
        to: Address,
        amount: u128,
    ) -> Result<bool, StateError> {
        // Nothing to move reads nothing (no balance enters a parallel
        // transaction's reads).
        if amount == 0 {
            return Ok(true);
        }
        let have = self.balance(&from)?;
        if have < amount {
            return Ok(false);
        }
        if from == to {
            return Ok(true);
        }
        let received =
            self.balance(&to)?
                .checked_add(amount)
                .ok_or_else(|| StateError::Corrupt {
                    table: "balances",
                    message: format!("{to}'s balance would overflow"),
                })?;
        self.set_balance(from, have - amount);
        self.set_balance(to, received);
        Ok(true)
    }

    /// Records an event.
    pub fn emit(&mut self, event: Event) {
        let total = self.event_bytes.last().copied().unwrap_or(0);
        self.event_bytes
            .push(total + (event.topic.len() + event.data.len()) as u64);
        self.events.push(event);
    }

    /// The events since the last [`Journal::take_events`].
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Hands over the events recorded so far, between transactions (no
    /// checkpoint may be outstanding: their event positions would be stale).
    pub fn take_events(&mut self) -> Vec<Event> {
        self.event_bytes = vec![0];
        self.tx_events = (0, self.tx_events.1);
        std::mem::take(&mut self.events)
    }

    /// Storage entries of `address` as the journal sees them, in key order.
    ///
    /// # Errors
    ///
    /// When the store under it fails.
    pub fn storage_entries(&self, address: &Address) -> Result<Entries, StateError> {
        Ok(overlay_entries(
            self.base.storage_entries(address)?,
            address,
            &self.storage,
        ))
    }

    /// Whether the overlay holds a write to what `key` names (a storage
    /// range: any write to that contract's storage), so that a read of it
    /// through this journal would not reach the store.
    pub fn wrote(&self, key: &ReadKey) -> bool {
        match key {
            ReadKey::Storage(address, key) => self.storage.contains_key(&(*address, key.clone())),
            ReadKey::StorageRange(address) => self
                .storage
                .range((*address, Vec::new())..)
                .next()
                .is_some_and(|((a, _), _)| a == address),
            ReadKey::Contract(address) => self.contracts.contains_key(address),
            ReadKey::Code(hash) => self.code.contains_key(hash),
            ReadKey::Nonce(account) => self.nonces.contains_key(account),
            ReadKey::Balance(address) => self.balances.contains_key(address),
        }
    }

    /// Writes every change of `changes` (code, contracts, storage, nonces)
    /// as if made here, undoable like any write.
    pub fn apply(&mut self, changes: ChangeSet) {
        for (hash, bytes) in changes.code {
            self.put_code(hash, bytes);
        }
        for (address, info) in changes.contracts {
            self.create_contract(address, info);
        }
        for ((address, key), value) in changes.storage {
            let key = (address, key);
            let previous = self.storage.insert(key.clone(), value);
            self.undo.push(Undo::Storage { key, previous });
        }
        for (account, nonce) in changes.nonces {
            self.set_nonce(account, nonce);
        }
        for (address, balance) in changes.balances {
            self.set_balance(address, balance);
        }
    }

    /// A copy of the overlay as a change set (without block or
    /// receipts): what [`Journal::into_changes`] would give now.
    pub fn changes(&self) -> ChangeSet {
        ChangeSet {
            code: self.code.clone(),
            contracts: self.contracts.clone(),
            storage: self.storage.clone(),
            nonces: self.nonces.clone(),
            balances: self.balances.clone(),
            ..ChangeSet::default()
        }
    }

    /// The overlay as a change set (without block or receipts).
    pub fn into_changes(self) -> ChangeSet {
        ChangeSet {
            code: self.code,
            contracts: self.contracts,
            storage: self.storage,
            nonces: self.nonces,
            balances: self.balances,
            ..ChangeSet::default()
        }
    }
}

/// What `key` held in `map` before a write: `previous`, or nothing.
fn put_back<K: Ord, V>(map: &mut BTreeMap<K, V>, key: K, previous: Option<V>) {
    match previous {
        Some(value) => {
            map.insert(key, value);
        }
        None => {
            map.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_testkit::{Rng, env_or};

    use crate::{MemoryStore, StateCommit};

    type Model = BTreeMap<(Address, Vec<u8>), Vec<u8>>;

    /// The journal against a plain ordered map with a snapshot per frame:
    /// random writes, removes, reads, nested checkpoints, reverts, frame
    /// commits and block commits, over a store with data in it already.
    #[test]
    fn journal_matches_a_model_under_random_operations() {
        let seeds: u64 = env_or("WARD_JOURNAL_SEEDS", 200);
        for seed in 1..=seeds {
            let mut rng = Rng::new(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
            let store = MemoryStore::default();
            let mut model: Model = BTreeMap::new();
            let addresses = [Address([1; 32]), Address([2; 32])];
            let key = |rng: &mut Rng| vec![rng.below(6) as u8];
            // Pre-existing state.
            let mut initial = ChangeSet::default();
            for _ in 0..5 {
                let a = addresses[rng.below(2)];
                let k = key(&mut rng);
                let v = vec![rng.below(256) as u8];
                initial.storage.insert((a, k.clone()), Some(v.clone()));
                model.insert((a, k), v);
            }
            store.commit(initial).unwrap();

            for _block in 0..4 {
                let mut journal = Journal::new(&store);
                let mut current = model.clone();
                let mut events_model: Vec<Event> = Vec::new();
                // (checkpoint, snapshot of storage, snapshot of events)
                let mut frames: Vec<(Checkpoint, Model, usize)> = Vec::new();
                for _ in 0..60 {
                    let a = addresses[rng.below(2)];
                    match rng.below(9) {
                        0..=2 => {
                            let k = key(&mut rng);
                            let v = vec![rng.below(256) as u8];
                            journal.write(a, &k, Some(v.clone())).unwrap();
                            current.insert((a, k), v);
                        }
                        3 => {
                            let k = key(&mut rng);
                            journal.write(a, &k, None).unwrap();
                            current.remove(&(a, k));
                        }
                        4 => {
                            let event = Event {
                                contract: a,
                                topic: vec![rng.below(4) as u8],
                                data: vec![],
                            };
                            journal.emit(event.clone());
                            events_model.push(event);
                        }
                        5 => {
                            frames.push((journal.checkpoint(), current.clone(), events_model.len()))
                        }
                        6 => {
                            if let Some((cp, snapshot, events)) = frames.pop() {
                                journal.revert(cp);
                                current = snapshot;
                                events_model.truncate(events);
                            }
                        }
                        7 => {
                            // The frame succeeds: its changes stay.
                            frames.pop();
                        }
                        _ => {
                            let k = key(&mut rng);
                            assert_eq!(
                                journal.read(&a, &k).unwrap(),
                                current.get(&(a, k.clone())).cloned(),
                                "seed {seed}"
                            );
                        }
                    }
                    assert_eq!(journal.events(), events_model.as_slice(), "seed {seed}");
                }
                for a in &addresses {
                    let expected: Vec<(Vec<u8>, Vec<u8>)> = current
                        .iter()
                        .filter(|((x, _), _)| x == a)
                        .map(|((_, k), v)| (k.clone(), v.clone()))
                        .collect();
                    assert_eq!(journal.storage_entries(a).unwrap(), expected, "seed {seed}");
                }
                // Commit the block; the store now equals the model.
                let changes = journal.into_changes();
                store.commit(changes).unwrap();
                model = current;
                for a in &addresses {
                    let stored = store.storage_entries(a).unwrap();
                    let expected: Vec<(Vec<u8>, Vec<u8>)> = model
                        .iter()
                        .filter(|((x, _), _)| x == a)
                        .map(|((_, k), v)| (k.clone(), v.clone()))
                        .collect();
                    assert_eq!(stored, expected, "seed {seed}");
                }
            }
        }
    }

    #[test]
    fn reverting_a_frame_discards_its_children_too() {
        let store = MemoryStore::default();
        let mut journal = Journal::new(&store);
        let a = Address([7; 32]);
        journal.write(a, b"outer", Some(b"1".to_vec())).unwrap();
        let frame = journal.checkpoint();
        journal.write(a, b"mid", Some(b"2".to_vec())).unwrap();
        let child = journal.checkpoint();
        journal.write(a, b"inner", Some(b"3".to_vec())).unwrap();
        journal.create_contract(
            Address([8; 32]),
            ContractInfo {
                code_hash: Hash32([1; 32]),
                deployer: a,
                created_at: 1,
                kind: ward_primitives::CodeKind::Ward,
                admin: None,
                history: Vec::new(),
            },
        );
        let _ = child; // the child succeeded
        journal.revert(frame);
        assert_eq!(journal.read(&a, b"outer").unwrap(), Some(b"1".to_vec()));
        assert_eq!(journal.read(&a, b"mid").unwrap(), None);
        assert_eq!(journal.read(&a, b"inner").unwrap(), None);
        assert_eq!(journal.contract(&Address([8; 32])).unwrap(), None);
    }

    #[test]
    fn transfers_move_value_and_revert_with_their_frame() {
        let store = MemoryStore::default();
        let (a, b) = (Address([1; 32]), Address([2; 32]));
        store
            .commit(ChangeSet {
                balances: [(a, 100)].into_iter().collect(),
                ..ChangeSet::default()
            })
            .unwrap();
        let mut journal = Journal::new(&store);
        assert!(journal.transfer(a, b, 30).unwrap());
        let frame = journal.checkpoint();
        assert!(journal.transfer(b, a, 10).unwrap());
        assert!(journal.transfer(a, b, 50).unwrap());
        assert_eq!(
            (journal.balance(&a).unwrap(), journal.balance(&b).unwrap()),
            (30, 70)
        );
        // More than the payer holds (30) moves nothing.
        assert!(!journal.transfer(a, b, 31).unwrap());
        assert!(journal.transfer(a, b, 30).unwrap());
        assert!(journal.transfer(b, a, 30).unwrap());
        // To oneself, or nothing at all: no change.
        assert!(journal.transfer(a, a, 30).unwrap());
        assert!(journal.transfer(b, a, 0).unwrap());
        journal.revert(frame);
        assert_eq!(
            (journal.balance(&a).unwrap(), journal.balance(&b).unwrap()),
            (70, 30)
        );
        assert!(journal.wrote(&ReadKey::Balance(a)));
        assert!(!journal.wrote(&ReadKey::Balance(Address([3; 32]))));
        let changes = journal.into_changes();
        assert_eq!(changes.balances, [(a, 70), (b, 30)].into_iter().collect());
    }
}
