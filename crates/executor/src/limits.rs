//! What a chain bounds: its transactions' and blocks' gas and sizes, and
//! a WASI contract's frame.

/// Limits a chain puts on transactions and blocks. Consensus values: the
/// nodes of one chain must agree on them.
///
/// The gas maxima bound the time a block takes by gas alone. The defaults
/// keep a full block within a few seconds on this project's reference
/// machine on either backend, measured with the cheapest gas there is (an
/// empty loop: 1e10 gas in 6.4 s on wasmtime, 168 s on wasmi, so 200 M gas
/// in about 0.13 s and 3.4 s); the CLI's default gas limits fit under them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChainLimits {
    /// Largest transaction encoding, in bytes. Default: 5 MiB (a module at
    /// the policy's 4 MiB limit, with room for input).
    pub max_tx_bytes: u64,
    /// Largest gas limit of one transaction. Default: 200 000 000.
    pub max_tx_gas: u64,
    /// Largest sum of the gas limits of one block's transactions.
    /// Default: 200 000 000.
    pub max_block_gas: u64,
    /// Linear memory all live frames of one transaction may hold together
    /// ([`ward_vm::MemoryBudget`]). Default: 64 MiB.
    pub tx_memory_bytes: u64,
    /// Instances alive at once in one transaction: its frames (the root
    /// included) and the children they run, together
    /// ([`ward_vm::InstanceBudget`]). A `ward.call` beyond it fails to its
    /// caller with status 2; a `vm_instantiate`, with `limit_exceeded`.
    /// How deep calls and children go is the stack budget's to bound
    /// (`Limits::max_stack_units`, one for the whole transaction). Default:
    /// 1 024.
    pub max_instances: u64,
    /// Topic and data bytes all the events of one transaction may hold:
    /// an `emit_event` past it traps (`host_error`). Every event is kept in
    /// a receipt for good and sent to every reader of it. Default: 1 MiB.
    pub max_tx_event_bytes: u64,
}

impl Default for ChainLimits {
    fn default() -> Self {
        ChainLimits {
            max_tx_bytes: 5 << 20,
            max_tx_gas: 200_000_000,
            max_block_gas: 200_000_000,
            tx_memory_bytes: ward_vm::DEFAULT_TX_MEMORY_BYTES,
            max_instances: ward_vm::DEFAULT_TX_INSTANCES,
            max_tx_event_bytes: 1 << 20,
        }
    }
}

/// What a WASI contract's frame may hold (`docs/wasi.md`): tighter than
/// `ward run`'s, since every frame of a transaction may have one.
/// The same as a C or Go host's (`ward_wasi::Limits::CONTRACT`).
pub const CONTRACT_WASI_LIMITS: ward_wasi::Limits = ward_wasi::Limits::CONTRACT;
