//! What keeps a block or a transaction from executing: the node's faults
//! and the refusals of a transaction that never enters a block.

use ward_chain::block::Header;
use ward_state::StateError;
use ward_vm::{ChainError, FaultKind, NodeFault};

/// Why a block (or query) could not be executed. Commits nothing, and is
/// never recorded in a receipt: receipts are what the guest did, these are
/// what happened to the node or what makes a transaction unexecutable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExecError {
    /// The state store failed (I/O, a corrupt record), before or during a
    /// call: a node fault.
    #[error(transparent)]
    State(#[from] StateError),
    /// Another node fault raised during a call (embedder misuse, a broken
    /// invariant).
    #[error(transparent)]
    Fault(NodeFault),
    /// A transaction cannot be executed at all.
    #[error("invalid transaction: {0}")]
    InvalidTx(String),
    /// A transaction (the `index`th of its block) was refused before
    /// anything ran: it is not in any block and pays nothing.
    #[error("transaction {index} refused: {refusal}")]
    Refused {
        /// Its position in the block.
        index: usize,
        /// Why.
        refusal: Inadmissible,
    },
    /// A block sealed to another header than the one it had to have
    /// ([`Pipeline::push_expecting`](crate::Pipeline::push_expecting)):
    /// a replica's replay of a log entry that the log does not agree
    /// with. Nothing of it is committed.
    #[error("block {} sealed to another header than the expected one", .ours.height)]
    Disagrees {
        /// The header it sealed to.
        ours: Box<Header>,
    },
}

/// Why a transaction or block was refused before execution
/// ([`Executor::admit`](crate::Executor::admit)).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Inadmissible {
    /// The transaction's encoding is larger than [`ChainLimits::max_tx_bytes`](crate::ChainLimits::max_tx_bytes).
    #[error("{bytes} bytes, more than the limit of {max}")]
    TooLarge {
        /// Its size.
        bytes: u64,
        /// The limit.
        max: u64,
    },
    /// Its gas limit is above [`ChainLimits::max_tx_gas`](crate::ChainLimits::max_tx_gas).
    #[error("gas limit {gas} is above the per-transaction maximum {max}")]
    GasAboveMaximum {
        /// Its gas limit.
        gas: u64,
        /// The maximum.
        max: u64,
    },
    /// An Ethereum creation whose EVM initcode is longer than EIP-3860
    /// allows ([`MAX_INITCODE_SIZE`](crate::MAX_INITCODE_SIZE)): Ethereum
    /// refuses the transaction, as geth's "max initcode size exceeded".
    #[error("max initcode size exceeded: {bytes} bytes of initcode, above the limit of {max}")]
    InitcodeTooLarge {
        /// Its initcode's length.
        bytes: u64,
        /// The limit.
        max: u64,
    },
    /// A signed Ethereum transaction whose sender's address holds a
    /// contract with code: EIP-3607 refuses it, as geth's "sender not an
    /// eoa" (no one can hold the key of a contract's address but by a
    /// collision).
    #[error("sender not an eoa: {sender} holds a contract's code (EIP-3607)")]
    SenderNotEoa {
        /// The sender.
        sender: ward_primitives::Address,
    },
    /// Its gas limit does not cover its intrinsic cost.
    #[error("gas limit {gas} does not cover its intrinsic cost of {cost} gas ({bytes} bytes)")]
    IntrinsicCost {
        /// Its gas limit.
        gas: u64,
        /// What it must pay before anything runs.
        cost: u64,
        /// Its size.
        bytes: u64,
    },
    /// A signed transaction's nonce is not its sender's next.
    #[error("nonce {got}, but the sender's next nonce is {expected}")]
    Nonce {
        /// The sender's next nonce.
        expected: u64,
        /// The transaction's.
        got: u64,
    },
    /// A signed transaction's gas price is below the chain's
    /// [`Fees::min_gas_price`](crate::Fees::min_gas_price).
    #[error("gas price {price} is below the chain's minimum of {min}")]
    GasPrice {
        /// The transaction's.
        price: u128,
        /// The chain's minimum.
        min: u128,
    },
    /// The sender cannot pay for the transaction: it holds less than
    /// `gas_limit × gas_price + value`.
    #[error(
        "the sender holds {have}, and the transaction needs {need} (gas limit × gas price + value)"
    )]
    Funds {
        /// `gas_limit × gas_price + value` (saturating).
        need: u128,
        /// The sender's balance.
        have: u128,
    },
    /// The block's gas limits add up to more than
    /// [`ChainLimits::max_block_gas`](crate::ChainLimits::max_block_gas).
    #[error("the block's gas limits add up to {gas}, above the per-block maximum {max}")]
    BlockGasAboveMaximum {
        /// The sum (saturating).
        gas: u64,
        /// The maximum.
        max: u64,
    },
}

impl From<NodeFault> for ExecError {
    /// A fault whose cause is a [`StateError`] (what the executor's chain
    /// raises) becomes [`ExecError::State`] again.
    fn from(fault: NodeFault) -> Self {
        if fault.cause().is::<StateError>() {
            let kind = fault.kind();
            match fault.into_cause().downcast::<StateError>() {
                Ok(state) => return ExecError::State(*state),
                Err(cause) => return ExecError::Fault(NodeFault::new(kind, cause)),
            }
        }
        ExecError::Fault(fault)
    }
}

/// The node fault for a state error met inside a call.
pub(crate) fn state_fault(err: StateError) -> ChainError {
    let kind = match err {
        StateError::Corrupt { .. }
        | StateError::Damaged { .. }
        | StateError::Empty { .. }
        | StateError::FormatVersion { .. }
        | StateError::Unupgradable { .. } => FaultKind::Corruption,
        _ => FaultKind::Storage,
    };
    ChainError::Fault(NodeFault::new(kind, err))
}
