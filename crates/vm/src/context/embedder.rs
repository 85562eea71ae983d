//! What a call reaches outside its guest: the chain it runs on, and the
//! embedder's own host imports; and how a host function stops the guest.

use std::fmt;

use crate::{ChainError, Failure, NodeFault, Request, Value};

/// The embedder's side of embedder-defined host imports
/// ([`crate::Config::host_imports`]).
///
/// A host may answer at once (the fast path: no suspension) or ask to
/// suspend the guest, in which case the embedder receives a
/// [`Request::Host`] and later resumes the guest with the answer.
pub trait Host: Send {
    /// The guest called host import `index` with `args`. `memory` is the
    /// calling instance's exported `"memory"` (empty if it exports none).
    fn call(&mut self, index: usize, args: &[Value], memory: &mut [u8]) -> HostAnswer;
}

/// The chain a contract runs on: its storage, events and block context,
/// as the embedder's executor sees them for the current call frame.
///
/// Methods fail in two ways that must not be confused:
/// [`ChainError::Refused`] for what the frame may not do, such as writing
/// in a read-only call (the guest traps with `host_error`, and that is its
/// outcome), and [`ChainError::Fault`] when the node itself failed (the
/// call is aborted with the [`NodeFault`] and produces no outcome at all).
pub trait Chain: Send {
    /// The value under `key` in the running contract's storage.
    ///
    /// # Errors
    ///
    /// A fault when the state cannot be read.
    fn storage_read(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, ChainError>;
    /// Writes (`Some`) or removes (`None`) the value under `key`.
    ///
    /// # Errors
    ///
    /// A refusal in a read-only call; a fault when the state fails.
    fn storage_write(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<(), ChainError>;
    /// Records an event of the running contract.
    ///
    /// # Errors
    ///
    /// A refusal in a read-only call.
    fn emit_event(&mut self, topic: &[u8], data: &[u8]) -> Result<(), ChainError>;
    /// The caller's address.
    fn caller(&self) -> [u8; 32];
    /// The running contract's address.
    fn self_address(&self) -> [u8; 32];
    /// The address of the account that sent the transaction
    /// (`ward.origin`). The default: the caller, which for a call that
    /// is its transaction's only frame is the sender.
    fn origin(&self) -> [u8; 32] {
        self.caller()
    }
    /// The block height.
    fn block_height(&self) -> u64;
    /// The block time.
    fn block_time(&self) -> u64;
    /// The chain's numeric Ethereum chain id (`ward.chain_id`); 0, none,
    /// by default.
    fn chain_id(&self) -> u64 {
        0
    }
    /// The stored code whose BLAKE3 hash ([`crate::CodeHash::of`]) is
    /// `hash` (`vm_compile_stored`, which finds a module compiled before by
    /// that hash); none by default.
    ///
    /// # Errors
    ///
    /// A fault when the state cannot be read.
    fn code(&mut self, hash: &[u8; 32]) -> Result<Option<Vec<u8>>, ChainError> {
        let _ = hash;
        Ok(None)
    }

    /// The code of the contract at `address` (`ward.code_at`), or `None`
    /// when there is none. The default knows no contracts.
    ///
    /// # Errors
    ///
    /// A fault when the state cannot be read.
    fn code_at(&mut self, address: &[u8; 32]) -> Result<Option<Vec<u8>>, ChainError> {
        let _ = address;
        Ok(None)
    }

    /// The nonce of the account at `address` (`ward.account_nonce`): how
    /// many transactions it has sent. The default knows no accounts: 0.
    ///
    /// # Errors
    ///
    /// A fault when the state cannot be read.
    fn account_nonce(&mut self, address: &[u8; 32]) -> Result<u64, ChainError> {
        let _ = address;
        Ok(0)
    }

    /// The native asset this call received (`ward.call_value`). The
    /// default: none.
    fn call_value(&self) -> u128 {
        0
    }

    /// The native-asset balance of `address` (`ward.balance`). The
    /// default has no asset.
    ///
    /// # Errors
    ///
    /// A refusal where there is no asset; a fault when the state fails.
    fn balance(&mut self, address: &[u8; 32]) -> Result<u128, ChainError> {
        let _ = address;
        Err(ChainError::refused("this chain has no native asset"))
    }

    /// Moves `amount` from the running contract to `to` (`ward.transfer`):
    /// `Ok(false)`, moving nothing, when the contract holds less.
    ///
    /// # Errors
    ///
    /// A refusal in a read-only call or where there is no asset; a fault
    /// when the state fails.
    fn transfer(&mut self, to: &[u8; 32], amount: u128) -> Result<bool, ChainError> {
        let _ = (to, amount);
        Err(ChainError::refused("this chain has no native asset"))
    }

    /// The value under `key` in the running contract's transient storage
    /// (`ward.transient_read`), which lives for one transaction. The
    /// default keeps none.
    ///
    /// # Errors
    ///
    /// A refusal where there is no transient storage.
    fn transient_read(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, ChainError> {
        let _ = key;
        Err(ChainError::refused(NO_TRANSIENT))
    }

    /// Writes (`Some`) or removes (`None`) the value under `key` in the
    /// running contract's transient storage (`ward.transient_write`),
    /// undone with the frame's other writes if it reverts.
    ///
    /// # Errors
    ///
    /// A refusal in a read-only call, past the transaction's
    /// [`ward_abi::MAX_TX_TRANSIENT_BYTES`], or where there is no
    /// transient storage.
    fn transient_write(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<(), ChainError> {
        let _ = (key, value);
        Err(ChainError::refused(NO_TRANSIENT))
    }
}

const NO_TRANSIENT: &str = "this host keeps no transient storage";

/// No chain: storage and events trap with `host_error`; the context reads
/// as zeros. What a bare `execute` gets.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoChain;

const NO_STATE: &str = "no state is attached to this call";

impl Chain for NoChain {
    fn storage_read(&mut self, _key: &[u8]) -> Result<Option<Vec<u8>>, ChainError> {
        Err(ChainError::refused(NO_STATE))
    }
    fn storage_write(&mut self, _key: &[u8], _value: Option<&[u8]>) -> Result<(), ChainError> {
        Err(ChainError::refused(NO_STATE))
    }
    fn emit_event(&mut self, _topic: &[u8], _data: &[u8]) -> Result<(), ChainError> {
        Err(ChainError::refused(NO_STATE))
    }
    fn caller(&self) -> [u8; 32] {
        [0; 32]
    }
    fn self_address(&self) -> [u8; 32] {
        [0; 32]
    }
    fn block_height(&self) -> u64 {
        0
    }
    fn block_time(&self) -> u64 {
        0
    }
}

/// What a [`Host`] does with a call.
#[derive(Debug)]
#[non_exhaustive]
pub enum HostAnswer {
    /// Return these values now.
    Return(Vec<Value>),
    /// Suspend the guest; the embedder gets a [`Request::Host`].
    Suspend,
    /// Trap the guest with `host_error`: the guest's doing.
    Trap(String),
    /// The host itself failed: the call is aborted with this fault and
    /// produces no outcome.
    Fault(NodeFault),
}

/// A host with no imports of its own: every call traps.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoHost;

impl Host for NoHost {
    fn call(&mut self, index: usize, _args: &[Value], _memory: &mut [u8]) -> HostAnswer {
        HostAnswer::Trap(format!("host import {index} has no implementation"))
    }
}

/// Why a host function stopped the guest instead of returning.
#[derive(Debug)]
pub enum HostStop {
    /// `exit(code)`: the call ends now with this code.
    Exit(i32),
    /// The guest traps.
    Trap(Failure),
    /// The guest suspends until the embedder replies. Boxed: a host
    /// function's result travels through every trampoline, and a
    /// suspension is rare next to a return (`Result<Option<Value>,
    /// HostStop>` is 40 bytes so, 112 with the request inline).
    Suspend(Box<Request>),
}

impl fmt::Display for HostStop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostStop::Exit(code) => write!(f, "exit({code})"),
            HostStop::Trap(failure) => write!(f, "{failure}"),
            HostStop::Suspend(request) => write!(f, "suspended: {request:?}"),
        }
    }
}

impl std::error::Error for HostStop {}
