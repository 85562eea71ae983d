//! Ward's state: code, contracts, their storage, blocks and receipts.
//!
//! Two small traits separate what the executor needs from where state
//! lives: [`StateRead`] answers point queries, [`StateCommit`] applies one
//! [`ChangeSet`] atomically (one block). Two stores implement them:
//! [`MemoryStore`] (tests, `ward run`) and [`RedbStore`] (the embedded
//! default, in a data directory, layout in `docs/storage-format.md`).
//!
//! Execution never writes a store directly. It writes a [`Journal`]: an
//! overlay over a store with a checkpoint per call frame, where reverting a
//! frame discards exactly its writes and events and those of its children.
//! A block's journal becomes one change set, committed at once.
//!
//! ```
//! use ward_primitives::Address;
//! use ward_state::{Journal, MemoryStore, StateCommit};
//!
//! let store = MemoryStore::default();
//! let a = Address([1; 32]);
//! let mut journal = Journal::new(&store);
//! journal.write(a, b"k", Some(b"v1".to_vec())).unwrap();
//! let frame = journal.checkpoint();
//! journal.write(a, b"k", Some(b"v2".to_vec())).unwrap();
//! journal.revert(frame);
//! assert_eq!(journal.read(&a, b"k").unwrap(), Some(b"v1".to_vec()));
//! let changes = journal.into_changes();
//! store.commit(changes).unwrap();
//! ```

mod codec;
pub mod faults;
mod journal;
mod memory;
mod redb_store;
mod snapshot;
mod transient;

use std::{collections::BTreeMap, path::PathBuf};

pub use codec::{CodecError, Decode, Encode};
pub use journal::{Checkpoint, EventsFull, Journal, ReadKey, overlay_entries};
pub use memory::MemoryStore;
pub use redb_store::{COMPACT_FROM_BYTES, DATABASE_FILE, RedbStore, Upstream};
pub use snapshot::Snapshot;
pub use transient::{Transient, TransientFull};
pub use ward_chain::{
    block::Header,
    tree::{TreeStore, TreeUpdate},
};
pub use ward_primitives::{Address, Hash32, Status};

/// Version of the on-disk layout (`docs/storage-format.md`). A store
/// written with another version is refused when opened.
pub const STORAGE_FORMAT_VERSION: u32 = 6;

/// Why the state could not be read or written. Never an execution outcome:
/// a transaction that fails this way commits nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The database failed (I/O, or an error redb reported).
    #[error("storage: {0}")]
    Storage(String),
    /// There is no state where it was looked for, and the caller did not
    /// ask for a new one.
    #[error("no Ward state in {path}")]
    Missing {
        /// The data directory.
        path: PathBuf,
    },
    /// The data directory is a file or something else.
    #[error("{path} is not a directory")]
    NotADirectory {
        /// The path given as the data directory.
        path: PathBuf,
    },
    /// The database file is empty: not a store, and never taken for a new
    /// one.
    #[error("{path} is empty, so it holds no chain (remove it to start a new one)")]
    Empty {
        /// The database file.
        path: PathBuf,
    },
    /// The database file failed its integrity check, or redb met damage
    /// while reading it.
    #[error("{path} is damaged: {message}")]
    Damaged {
        /// The database file.
        path: PathBuf,
        /// What was found.
        message: String,
    },
    /// The database was not closed cleanly and must be recovered, which
    /// only a store opened for writing does.
    #[error(
        "{path} was not closed cleanly and needs recovery; reads never write, so the next \
         writing command (e.g. `ward call`) will recover it"
    )]
    NeedsRecovery {
        /// The database file.
        path: PathBuf,
    },
    /// Another process has the database open for writing (or this one
    /// wants to write while others read).
    #[error("{path} is in use by another process")]
    Busy {
        /// The database file.
        path: PathBuf,
    },
    /// A commit to a store opened read-only.
    #[error("{path} is open read-only")]
    ReadOnly {
        /// The database file.
        path: PathBuf,
    },
    /// A stored record did not decode.
    #[error("corrupt record in {table}: {message}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// What was wrong.
        message: String,
    },
    /// A forked store's upstream (`RedbStore::fork_from`) could not be
    /// read, or answered what cannot be: the node that forks is not at
    /// fault, and its store is unharmed.
    #[error("the fork's upstream: {0}")]
    Upstream(String),
    /// The data directory holds another layout version.
    #[error("storage format version {found}, this build reads {expected}")]
    FormatVersion {
        /// What the directory has.
        found: u32,
        /// What this build reads.
        expected: u32,
    },
    /// The data directory holds an older layout version with data this
    /// build cannot carry over (`docs/storage-format.md`, "Upgrading").
    /// The directory is left as it was.
    #[error("storage format version {found} holds {reason}; this build reads {expected}")]
    Unupgradable {
        /// What the directory has.
        found: u32,
        /// What this build reads.
        expected: u32,
        /// What it holds that cannot be upgraded, and what to do.
        reason: &'static str,
    },
}

/// A deployed contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractInfo {
    /// The hash of its code (stored once per hash).
    pub code_hash: Hash32,
    /// Who deployed it.
    pub deployer: Address,
    /// The height of the block that deployed it.
    pub created_at: u64,
    /// What its code runs as.
    pub kind: ward_primitives::CodeKind,
    /// Who may replace its code and change this field (`None`: nobody;
    /// the contract is immutable, the default).
    pub admin: Option<Address>,
    /// Every code it has run, each with the height from which it ran,
    /// oldest first, once it has been upgraded (empty until then: its
    /// code has been `code_hash` since `created_at`).
    pub history: Vec<(u64, Hash32)>,
}

impl ContractInfo {
    /// A contract no transaction deployed, placed at height `created_at`
    /// (by a genesis, a dev node's `setCode`, a test's state): no
    /// deployer, no admin, no history.
    pub fn placed(code_hash: Hash32, kind: ward_primitives::CodeKind, created_at: u64) -> Self {
        ContractInfo {
            code_hash,
            deployer: Address::default(),
            created_at,
            kind,
            admin: None,
            history: Vec::new(),
        }
    }

    /// Its code history: `history`, or its one code since creation.
    pub fn code_history(&self) -> Vec<(u64, Hash32)> {
        if self.history.is_empty() {
            vec![(self.created_at, self.code_hash)]
        } else {
            self.history.clone()
        }
    }
}

/// An event a contract emitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The emitting contract.
    pub contract: Address,
    /// Its topic.
    pub topic: Vec<u8>,
    /// Its data.
    pub data: Vec<u8>,
}

/// What a transaction did, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// The transaction's hash.
    pub tx: Hash32,
    /// The block it was in.
    pub height: u64,
    /// Its position in the block.
    pub index: u32,
    /// How it ended (encoded as its name: `ok`, `reverted`, `trapped`,
    /// `out_of_gas`, `timeout`, `rejected`).
    pub status: Status,
    /// The exit code (nonzero for reverts).
    pub exit_code: i32,
    /// The output bytes.
    pub output: Vec<u8>,
    /// Gas used.
    pub gas_used: u64,
    /// Events, in emission order (none unless the transaction succeeded).
    pub events: Vec<Event>,
    /// The error kind, if any (`out_of_gas`, ...).
    pub error_kind: Option<String>,
    /// The error message, if any.
    pub error_message: Option<String>,
    /// For a deploy: the new contract's address.
    pub address: Option<Address>,
    /// When the transaction's top frame ran a system runtime: the gas it
    /// reported in its own machine's units (an EVM contract's EVM gas,
    /// `docs/evm.md`).
    pub runtime_gas: Option<u64>,
    /// What the sender paid for gas: `gas_used × gas_price`, in the native
    /// asset's smallest unit (`docs/economics.md`).
    pub fee: u128,
}

/// A committed block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockRecord {
    /// Its header: height, parent, time and roots.
    pub header: Header,
    /// Its transactions' ids, in order (receipts are stored by these).
    pub txs: Vec<Hash32>,
}

impl BlockRecord {
    /// The block's hash (its header's).
    pub fn hash(&self) -> Hash32 {
        self.header.hash()
    }
}

impl Receipt {
    /// What the receipts root commits to for this receipt: BLAKE3 of its
    /// consensus fields in the record encoding (every field but the error
    /// message, which is for people and never compared; the runtime's gas
    /// only where there is one).
    pub fn consensus_hash(&self) -> Hash32 {
        let mut out = Vec::new();
        self.tx.encode(&mut out);
        self.height.encode(&mut out);
        self.index.encode(&mut out);
        self.status.encode(&mut out);
        self.exit_code.encode(&mut out);
        self.output.encode(&mut out);
        self.gas_used.encode(&mut out);
        (self.events.len() as u32).encode(&mut out);
        for event in &self.events {
            event.encode(&mut out);
        }
        self.error_kind.encode(&mut out);
        self.address.encode(&mut out);
        // Receipts without them hash as they always did (the two have
        // different widths, so every combination hashes apart).
        if let Some(units) = self.runtime_gas {
            units.encode(&mut out);
        }
        if self.fee != 0 {
            self.fee.encode(&mut out);
        }
        Hash32(*blake3::hash(&out).as_bytes())
    }
}

/// Everything one block changes, applied atomically by
/// [`StateCommit::commit`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangeSet {
    /// Code to store, by hash.
    pub code: BTreeMap<Hash32, Vec<u8>>,
    /// Contracts created.
    pub contracts: BTreeMap<Address, ContractInfo>,
    /// Storage writes: `None` removes the key.
    pub storage: BTreeMap<(Address, Vec<u8>), Option<Vec<u8>>>,
    /// The block, if the change set closes one.
    pub block: Option<BlockRecord>,
    /// Receipts, by transaction hash.
    pub receipts: Vec<Receipt>,
    /// Transactions as executed: `(id, encoded transaction)`.
    pub txs: Vec<(Hash32, Vec<u8>)>,
    /// Account nonces set.
    pub nonces: BTreeMap<Address, u64>,
    /// Native-asset balances set (of accounts and contracts).
    pub balances: BTreeMap<Address, u128>,
    /// The state tree's new nodes and values (for a change set that
    /// closes a block).
    pub tree: TreeUpdate,
    /// Settings the embedder records beside the state, by name
    /// ([`RedbStore::put_setting`]): what a restored snapshot brings.
    pub settings: BTreeMap<String, Vec<u8>>,
}

impl ChangeSet {
    /// The state tree's changes this change set makes: each piece of
    /// state's key ([`ward_chain::tree::StateKey`] bytes) and its tree
    /// value, `None` to remove (the table in [`ward_chain::tree`]'s
    /// documentation).
    pub fn tree_changes(&self) -> BTreeMap<Vec<u8>, Option<Vec<u8>>> {
        use ward_chain::tree::StateKey;
        let mut out = BTreeMap::new();
        for hash in self.code.keys() {
            out.insert(StateKey::Code(hash).to_bytes(), Some(hash.0.to_vec()));
        }
        for (address, info) in &self.contracts {
            out.insert(
                StateKey::Contract(address).to_bytes(),
                Some(info.to_bytes()),
            );
        }
        for ((address, key), value) in &self.storage {
            out.insert(StateKey::Storage(address, key).to_bytes(), value.clone());
        }
        for (account, nonce) in &self.nonces {
            out.insert(
                StateKey::Nonce(account).to_bytes(),
                Some(nonce.to_le_bytes().to_vec()),
            );
        }
        for (address, balance) in &self.balances {
            let value = (*balance != 0).then(|| balance.to_le_bytes().to_vec());
            out.insert(StateKey::Balance(address).to_bytes(), value);
        }
        out
    }
}

/// A contract's storage entries, `(key, value)` in key order.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// Point reads of committed state.
pub trait StateRead {
    /// Code by hash.
    ///
    /// # Errors
    ///
    /// When the store fails.
    fn code(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, StateError>;

    /// A contract by address.
    ///
    /// # Errors
    ///
    /// When the store fails.
    fn contract(&self, address: &Address) -> Result<Option<ContractInfo>, StateError>;

    /// One storage value.
    ///
    /// # Errors
    ///
    /// When the store fails.
    fn storage(&self, address: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;

    /// Every storage entry of a contract, in key order.
    ///
    /// # Errors
    ///
    /// When the store fails.
    fn storage_entries(&self, address: &Address) -> Result<Entries, StateError>;

    /// The height of the last committed block (0 before any).
    ///
    /// # Errors
    ///
    /// When the store fails.
    fn height(&self) -> Result<u64, StateError>;

    /// A committed block.
    ///
    /// # Errors
    ///
    /// When the store fails.
    fn block(&self, height: u64) -> Result<Option<BlockRecord>, StateError>;

    /// A receipt by transaction hash.
    ///
    /// # Errors
    ///
    /// When the store fails.
    fn receipt(&self, tx: &Hash32) -> Result<Option<Receipt>, StateError>;

    /// A transaction's encoding, by its id.
    ///
    /// # Errors
    ///
    /// When the store fails.
    fn transaction(&self, id: &Hash32) -> Result<Option<Vec<u8>>, StateError>;

    /// An account's nonce: how many of its signed transactions are in
    /// blocks (0 for an account never seen).
    ///
    /// # Errors
    ///
    /// When the store fails.
    fn nonce(&self, account: &Address) -> Result<u64, StateError>;

    /// The native-asset balance of an account or contract, in the asset's
    /// smallest unit (0 for an address never funded).
    ///
    /// # Errors
    ///
    /// When the store fails.
    fn balance(&self, address: &Address) -> Result<u128, StateError>;

    /// The height of the block with this hash.
    ///
    /// # Errors
    ///
    /// When the store fails.
    fn block_height(&self, hash: &Hash32) -> Result<Option<u64>, StateError>;

    /// A node of the state tree ([`TreeStore::tree_node`]).
    ///
    /// # Errors
    ///
    /// When the store fails.
    fn tree_node(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;

    /// A value of the state tree ([`TreeStore::tree_value`]).
    ///
    /// # Errors
    ///
    /// When the store fails.
    fn tree_value(
        &self,
        key_hash: &Hash32,
        max_version: u64,
    ) -> Result<Option<Vec<u8>>, StateError>;
}

/// The state tree of a store, for [`ward_chain::tree`]'s functions.
pub struct StateTree<'a, S: ?Sized>(pub &'a S);

impl<S: StateRead + ?Sized> TreeStore for StateTree<'_, S> {
    type Error = StateError;

    fn tree_node(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.0.tree_node(key)
    }

    fn tree_value(
        &self,
        key_hash: &Hash32,
        max_version: u64,
    ) -> Result<Option<Vec<u8>>, StateError> {
        self.0.tree_value(key_hash, max_version)
    }
}

/// Reading through a pointer reads the store it points to.
macro_rules! forward_state_read {
    ($($pointer:ty),*) => {$(
        impl<T: StateRead + ?Sized> StateRead for $pointer {
            fn code(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
                (**self).code(hash)
            }
            fn contract(&self, address: &Address) -> Result<Option<ContractInfo>, StateError> {
                (**self).contract(address)
            }
            fn storage(&self, address: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
                (**self).storage(address, key)
            }
            fn storage_entries(&self, address: &Address) -> Result<Entries, StateError> {
                (**self).storage_entries(address)
            }
            fn height(&self) -> Result<u64, StateError> {
                (**self).height()
            }
            fn block(&self, height: u64) -> Result<Option<BlockRecord>, StateError> {
                (**self).block(height)
            }
            fn receipt(&self, tx: &Hash32) -> Result<Option<Receipt>, StateError> {
                (**self).receipt(tx)
            }
            fn transaction(&self, id: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
                (**self).transaction(id)
            }
            fn nonce(&self, account: &Address) -> Result<u64, StateError> {
                (**self).nonce(account)
            }
            fn balance(&self, address: &Address) -> Result<u128, StateError> {
                (**self).balance(address)
            }
            fn block_height(&self, hash: &Hash32) -> Result<Option<u64>, StateError> {
                (**self).block_height(hash)
            }
            fn tree_node(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
                (**self).tree_node(key)
            }
            fn tree_value(
                &self,
                key_hash: &Hash32,
                max_version: u64,
            ) -> Result<Option<Vec<u8>>, StateError> {
                (**self).tree_value(key_hash, max_version)
            }
        }
    )*};
}

forward_state_read!(&T, std::sync::Arc<T>);

/// Reading the whole state at once, for snapshots.
pub trait StateScan {
    /// Every piece of state after the store's latest block (code,
    /// contracts, storage, nonces, nonzero balances, and the embedder's
    /// settings) as the change set
    /// that writes it into an empty store, and that block's height; read
    /// at one moment, so blocks committed meanwhile are not seen.
    ///
    /// # Errors
    ///
    /// When the store fails or holds a record it cannot decode.
    fn whole_state(&self) -> Result<(u64, ChangeSet), StateError>;
}

/// What one [`StatePrune::prune`] deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    /// State-tree nodes.
    pub nodes: u64,
    /// State-tree values (a key's older values, and removals).
    pub values: u64,
    /// Blocks, with their hashes' index entries.
    pub blocks: u64,
    /// Transactions, each with its receipt and index entry.
    pub txs: u64,
}

/// Deleting what old heights alone need.
pub trait StatePrune {
    /// Deletes what only heights below `keep_from` need: the tree nodes
    /// replaced at a height up to `keep_from` (what the blocks'
    /// [`TreeUpdate::stale`] named), the tree values a newer value of the
    /// same key at a height up to `keep_from` superseded, and the blocks
    /// below `keep_from` with their transactions and receipts. The tree
    /// reads and proves at heights from `keep_from` on as before; below
    /// it, it may not. Pruning twice, or below an earlier `keep_from`,
    /// deletes nothing more.
    ///
    /// # Errors
    ///
    /// When the store fails; then nothing was deleted.
    fn prune(&self, keep_from: u64) -> Result<Pruned, StateError>;

    /// The height from which the tree is whole and blocks are kept: the
    /// highest `keep_from` pruned so far (0: nothing pruned).
    ///
    /// # Errors
    ///
    /// When the store fails.
    fn pruned_below(&self) -> Result<u64, StateError>;
}

/// Applying a block's changes.
pub trait StateCommit: StateRead {
    /// Applies `changes` atomically: after a crash, either all of them are
    /// there or none. Takes `&self` so that a store can be shared (behind
    /// an `Arc`) by the journals reading it; stores serialise commits
    /// themselves.
    ///
    /// # Errors
    ///
    /// When the store fails; then nothing was applied.
    fn commit(&self, changes: ChangeSet) -> Result<(), StateError>;
}
