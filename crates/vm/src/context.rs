//! The call context and the host ABI, implemented once for both backends.
//!
//! Backends only adapt: they find the guest's memory, convert values, and
//! hand each `ward` import to [`CallContext::call_abi`]. Every pointer and
//! length is checked here, in 64-bit arithmetic so that `ptr + len` cannot
//! wrap; a bad range is a `memory_out_of_bounds` trap, never a host panic.

use std::{fmt, ops::Range};

use ward_abi::HostFn;
use ward_instrument::CostSchedule;
use ward_primitives::Gas;

use crate::{ErrorKind, Failure, Request, Value};

/// Most bytes of debug log kept per call; later lines are dropped.
pub const MAX_DEBUG_LOG_BYTES: usize = 64 * 1024;

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

/// What a [`Host`] does with a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostAnswer {
    /// Return these values now.
    Return(Vec<Value>),
    /// Suspend the guest; the embedder gets a [`Request::Host`].
    Suspend,
    /// Trap the guest with `host_error`.
    Trap(String),
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
    /// The guest suspends until the embedder replies.
    Suspend(Request),
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

/// Everything the host functions of one call act on: input, output, gas,
/// logs and the embedder's [`Host`].
pub struct CallContext {
    input: Vec<u8>,
    output: Vec<u8>,
    gas_limit: Gas,
    /// Gas left. For instrumented modules the backend keeps this in step
    /// with the module's `__ward_gas` global around every host call.
    gas_left: Gas,
    /// Fixed gas cost of every host call.
    host_call_cost: u64,
    /// Gas per byte moved by a host call.
    host_per_byte: u64,
    debug_log: Option<DebugLog>,
    host: Box<dyn Host>,
    /// Whether a host import may suspend now (not while a start function runs).
    suspend_allowed: bool,
    /// Whether the caller's instrumentation already paid the fixed cost of
    /// the current host call (engine-metered modules).
    base_prepaid: bool,
}

#[derive(Default)]
struct DebugLog {
    lines: Vec<String>,
    bytes: usize,
    dropped: usize,
}

impl fmt::Debug for CallContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallContext")
            .field("input_len", &self.input.len())
            .field("output_len", &self.output.len())
            .field("gas_limit", &self.gas_limit)
            .field("gas_left", &self.gas_left)
            .finish_non_exhaustive()
    }
}

impl Default for CallContext {
    fn default() -> Self {
        CallContext::new(Vec::new(), Gas::MAX)
    }
}

impl CallContext {
    /// A context for a call with `input` and `gas_limit`, debug logging off
    /// and no embedder host.
    pub fn new(input: Vec<u8>, gas_limit: Gas) -> Self {
        let schedule = CostSchedule::default();
        CallContext {
            input,
            output: Vec::new(),
            gas_limit,
            gas_left: gas_limit,
            host_call_cost: u64::from(schedule.host_call),
            host_per_byte: u64::from(schedule.host_per_byte),
            debug_log: None,
            host: Box::new(NoHost),
            suspend_allowed: true,
            base_prepaid: false,
        }
    }

    /// Declares whether the caller's instrumentation prepays the fixed cost
    /// of host calls (backends set it per call: engine-metered callers do).
    pub fn set_base_prepaid(&mut self, prepaid: bool) {
        self.base_prepaid = prepaid;
    }

    /// Whether host ABI function `f` reads or charges gas beyond its fixed
    /// cost: only for these must an engine-metered caller's gas counter be
    /// brought into the context and back.
    pub fn needs_gas(f: HostFn) -> bool {
        match f {
            HostFn::InputRead
            | HostFn::OutputWrite
            | HostFn::DebugLog
            | HostFn::GasLeft
            | HostFn::ChargeGas => true,
            HostFn::InputSize | HostFn::Exit => false,
        }
    }

    /// Allows or forbids suspension (forbidden while a start function runs:
    /// a refused suspension traps with `host_error`).
    pub fn set_suspend_allowed(&mut self, allowed: bool) {
        self.suspend_allowed = allowed;
    }

    /// Charges host calls by `schedule` (the default schedule otherwise).
    pub fn with_schedule(mut self, schedule: &CostSchedule) -> Self {
        self.host_call_cost = u64::from(schedule.host_call);
        self.host_per_byte = u64::from(schedule.host_per_byte);
        self
    }

    /// Turns `debug_log` collection on or off.
    pub fn with_debug_log(mut self, enabled: bool) -> Self {
        self.debug_log = enabled.then(DebugLog::default);
        self
    }

    /// Sets the embedder's host for configured host imports.
    pub fn with_host(mut self, host: Box<dyn Host>) -> Self {
        self.host = host;
        self
    }

    /// The call's input.
    pub fn input(&self) -> &[u8] {
        &self.input
    }

    /// The output written so far.
    pub fn output(&self) -> &[u8] {
        &self.output
    }

    /// Takes the output, leaving it empty.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    /// The gas limit of the call.
    pub fn gas_limit(&self) -> Gas {
        self.gas_limit
    }

    /// Gas used so far: the limit minus what is left.
    pub fn gas_used(&self) -> Gas {
        self.gas_limit.saturating_sub(self.gas_left)
    }

    /// Gas left.
    pub fn gas_left(&self) -> Gas {
        self.gas_left
    }

    /// Sets the gas left (backends sync it with an instrumented module's
    /// gas global).
    pub fn set_gas_left(&mut self, left: Gas) {
        self.gas_left = left;
    }

    /// Charges `amount`.
    ///
    /// # Errors
    ///
    /// When less is left: the gas is emptied and the call ends with
    /// `out_of_gas`.
    pub fn charge(&mut self, amount: u64) -> Result<(), HostStop> {
        match self.gas_left.checked_sub(Gas::new(amount)) {
            Some(left) => {
                self.gas_left = left;
                Ok(())
            }
            None => {
                self.gas_left = Gas::ZERO;
                Err(HostStop::Trap(Failure::new(
                    ErrorKind::OutOfGas,
                    "out of gas in a host call",
                )))
            }
        }
    }

    /// What this host call still owes: its documented cost, less the fixed
    /// part when the caller's instrumentation prepaid it.
    fn call_cost(&self, bytes: u64) -> u64 {
        let cost = self.host_cost(bytes);
        if self.base_prepaid {
            cost.saturating_sub(self.host_call_cost)
        } else {
            cost
        }
    }

    /// The documented cost of a host call moving `bytes` bytes.
    pub fn host_cost(&self, bytes: u64) -> u64 {
        self.host_call_cost
            .saturating_add(self.host_per_byte.saturating_mul(bytes))
    }

    /// Takes the debug log lines collected so far (empty when logging is off).
    pub fn take_debug_log(&mut self) -> Vec<String> {
        match &mut self.debug_log {
            Some(log) => {
                let mut lines = std::mem::take(&mut log.lines);
                if log.dropped > 0 {
                    lines.push(format!("[{} more debug_log lines dropped]", log.dropped));
                }
                *log = DebugLog::default();
                lines
            }
            None => Vec::new(),
        }
    }

    /// Resets the per-call state (input, output, gas, logs) for another call
    /// in the same sandbox.
    pub fn reset(&mut self, input: Vec<u8>, gas_limit: Gas) {
        self.input = input;
        self.output.clear();
        self.gas_limit = gas_limit;
        self.gas_left = gas_limit;
        if let Some(log) = &mut self.debug_log {
            *log = DebugLog::default();
        }
    }

    /// Whether a host ABI function reads or writes guest memory. Backends
    /// look the memory up only for these.
    pub fn needs_memory(f: HostFn) -> bool {
        match f {
            HostFn::InputRead | HostFn::OutputWrite | HostFn::DebugLog => true,
            HostFn::InputSize | HostFn::Exit | HostFn::GasLeft | HostFn::ChargeGas => false,
        }
    }

    /// Runs host ABI function `f` with `args` (already checked against its
    /// signature by the engine) on the guest's `memory`. Every call first
    /// pays its documented cost: the host-call base, plus the per-byte rate
    /// for the bytes it moves (charged on the requested length, before any
    /// range is checked, so a bad range is never cheaper than a good one).
    ///
    /// # Errors
    ///
    /// A [`HostStop`] when the guest must not simply continue: `exit`,
    /// `out_of_gas`, or a trap on a bad pointer or length.
    pub fn call_abi(
        &mut self,
        f: HostFn,
        args: &[Value],
        memory: &mut [u8],
    ) -> Result<Option<Value>, HostStop> {
        let arg = |i: usize| match args.get(i) {
            Some(Value::I32(v)) => *v,
            _ => 0,
        };
        let moved = match f {
            HostFn::InputRead => u64::from(arg(2) as u32),
            HostFn::OutputWrite | HostFn::DebugLog => u64::from(arg(1) as u32),
            _ => 0,
        };
        self.charge(self.call_cost(moved))?;
        match f {
            HostFn::InputSize => {
                // Inputs are bounded far below 2 GiB by every embedder; clamp
                // rather than wrap if one is not.
                Ok(Some(Value::I32(
                    i32::try_from(self.input.len()).unwrap_or(i32::MAX),
                )))
            }
            HostFn::InputRead => {
                let (dst, offset, len) = (arg(0), arg(1), arg(2));
                let src = checked_range(offset, len, self.input.len(), "input_read: input")?;
                let dst = checked_range(dst, len, memory.len(), "input_read: destination")?;
                memory[dst].copy_from_slice(&self.input[src]);
                Ok(None)
            }
            HostFn::OutputWrite => {
                let src = checked_range(arg(0), arg(1), memory.len(), "output_write: source")?;
                self.output.clear();
                self.output.extend_from_slice(&memory[src]);
                Ok(None)
            }
            HostFn::Exit => Err(HostStop::Exit(arg(0))),
            HostFn::GasLeft => Ok(Some(Value::I64(
                i64::try_from(self.gas_left().get()).unwrap_or(i64::MAX),
            ))),
            HostFn::DebugLog => {
                let src = checked_range(arg(0), arg(1), memory.len(), "debug_log: source")?;
                if let Some(log) = &mut self.debug_log {
                    if log.bytes + src.len() <= MAX_DEBUG_LOG_BYTES {
                        log.bytes += src.len();
                        log.lines
                            .push(String::from_utf8_lossy(&memory[src]).into_owned());
                    } else {
                        log.dropped += 1;
                    }
                }
                Ok(None)
            }
            HostFn::ChargeGas => match args.first() {
                Some(Value::I64(amount)) if *amount >= 0 => {
                    self.charge(*amount as u64)?;
                    Ok(None)
                }
                _ => Err(HostStop::Trap(Failure::new(
                    ErrorKind::HostError,
                    "charge_gas: negative amount",
                ))),
            },
        }
    }

    /// Runs embedder-defined host import `index`.
    ///
    /// # Errors
    ///
    /// [`HostStop::Suspend`] when the host asks to suspend, or
    /// [`HostStop::Trap`] when it fails.
    pub fn call_host(
        &mut self,
        index: usize,
        args: &[Value],
        memory: &mut [u8],
    ) -> Result<Vec<Value>, HostStop> {
        self.charge(self.call_cost(0))?;
        match self.host.call(index, args, memory) {
            HostAnswer::Return(values) => Ok(values),
            HostAnswer::Suspend if !self.suspend_allowed => Err(HostStop::Trap(Failure::new(
                ErrorKind::HostError,
                "a start function cannot suspend",
            ))),
            HostAnswer::Suspend => Err(HostStop::Suspend(Request::Host {
                index,
                args: args.to_vec(),
            })),
            HostAnswer::Trap(message) => {
                Err(HostStop::Trap(Failure::new(ErrorKind::HostError, message)))
            }
        }
    }
}

/// The byte range `[ptr, ptr + len)` of a region `size` bytes long, with
/// `ptr` and `len` read as unsigned 32-bit values and added in 64 bits.
fn checked_range(ptr: i32, len: i32, size: usize, what: &str) -> Result<Range<usize>, HostStop> {
    let start = u64::from(ptr as u32);
    let end = start + u64::from(len as u32);
    if end > size as u64 {
        return Err(HostStop::Trap(Failure::new(
            ErrorKind::MemoryOutOfBounds,
            format!("{what} range {start}..{end} is outside 0..{size}"),
        )));
    }
    // Both bounds are <= size, which is a usize.
    Ok(start as usize..end as usize)
}

#[cfg(test)]
mod tests;
