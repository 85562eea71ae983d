//! The call context: what the host functions of one call act on (input,
//! output, gas, the chain, the embedder's host, a node fault), and the host
//! ABI on top of it (the `abi` module), implemented once for both backends.
//!
//! Backends only adapt: they find the guest's memory, convert values, and
//! hand each `ward` import to [`CallContext::call_abi`] (through
//! [`crate::guest`]), each embedder import to [`CallContext::call_host`].

use std::{fmt, sync::Arc};

use ward_instrument::CostSchedule;
use ward_primitives::Gas;

use crate::{
    ErrorKind, Failure, FaultKind, NodeFault,
    budget::{MemoryBudget, MemoryCharge},
};

pub use embedder::{Chain, Host, HostAnswer, HostStop, NoChain, NoHost};
pub use memory::GuestMemory;

/// Most bytes of debug log kept per call; later lines are dropped.
pub const MAX_DEBUG_LOG_BYTES: usize = 64 * 1024;

/// Everything the host functions of one call act on: input, output, gas,
/// logs and the embedder's [`Host`].
pub struct CallContext {
    input: Vec<u8>,
    output: Vec<u8>,
    gas_limit: Gas,
    /// Gas left. For instrumented modules the backend keeps this in step
    /// with the module's `__ward_gas` global around every host call.
    gas_left: Gas,
    /// What host calls cost.
    schedule: CostSchedule,
    /// Storage, events and block context.
    chain: Box<dyn Chain>,
    /// The output of the last completed `ward.call`.
    return_data: Vec<u8>,
    debug_log: Option<DebugLog>,
    host: Box<dyn Host>,
    /// Whether a host import may suspend now (not while a start function runs).
    suspend_allowed: bool,
    /// Whether the caller's instrumentation already paid the fixed cost of
    /// the current host call (engine-metered modules).
    base_prepaid: bool,
    /// Whether host calls are free: a trusted, self-metered system
    /// runtime's, which charges for everything it does itself.
    costs_waived: bool,
    /// What a system runtime reported as its gas in its own units
    /// (`ward.report_gas`).
    runtime_gas: Option<u64>,
    /// The node fault that aborted the call, if one did. Once set, every
    /// host call traps at once, and the run reports the fault.
    fault: Option<NodeFault>,
    /// This call's share of its transaction's memory budget, if it has one.
    memory: Option<MemoryCharge>,
    /// Whether the budget refused to create a memory since the last
    /// [`CallContext::take_memory_refusal`].
    memory_refused: bool,
    /// The WASI state of a program importing `wasi_snapshot_preview1`
    /// (made from the default [`ward_wasi::WasiConfig`] at its first WASI
    /// call when the embedder gave none).
    wasi: Option<Box<ward_wasi::Wasi>>,
    /// Whether WASI's stdout and stderr go to the debug log a line at a
    /// time (a WASI reactor's method, whose output is what it writes
    /// through the `ward` ABI), instead of stdout to the output and each
    /// stderr write to the log as it is.
    wasi_stdout_logged: bool,
    /// The unfinished last line written to stdout and to stderr, in that
    /// mode: logged when its newline comes, or when the call ends.
    wasi_partial: [Vec<u8>; 2],
    /// The modules this call's guest runs (`vm_*`), when the embedder
    /// offers them.
    children: Option<Box<crate::Children>>,
    /// Stack units the frames below this call already use: where its
    /// entries start counting (written to `__ward_stack` when armed).
    stack_base: u32,
    /// The guest's call depth at the current host call that runs other
    /// code ([`ward_abi::Use::Stack`]).
    stack_depth: u32,
    /// Where the call's gas goes, when the embedder profiles it.
    profile: Option<crate::ProfileLog>,
    /// Storage and events go to the embedder as requests
    /// ([`CallContext::with_chain_requests`]).
    chain_requests: bool,
    /// Where a suspended `storage_read` puts the value when the reply
    /// comes, and how much room there is.
    pending_read: Option<std::ops::Range<usize>>,
    /// The memory granules host functions wrote ([`GuestMemory`]), until
    /// a recycled instance's restore takes them.
    written: u64,
}

#[derive(Default)]
struct DebugLog {
    lines: Vec<String>,
    bytes: usize,
    dropped: usize,
}

impl DebugLog {
    /// Keeps `data` as a line (lossy UTF-8) while the log holds at most
    /// [`MAX_DEBUG_LOG_BYTES`]; counts it as dropped after that.
    fn push(&mut self, data: &[u8]) {
        if self.bytes + data.len() <= MAX_DEBUG_LOG_BYTES {
            self.bytes += data.len();
            self.lines.push(String::from_utf8_lossy(data).into_owned());
        } else {
            self.dropped += 1;
        }
    }
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
            schedule,
            chain: Box::new(NoChain),
            return_data: Vec::new(),
            debug_log: None,
            host: Box::new(NoHost),
            suspend_allowed: true,
            base_prepaid: false,
            costs_waived: false,
            runtime_gas: None,
            fault: None,
            memory: None,
            wasi_stdout_logged: false,
            wasi_partial: [Vec::new(), Vec::new()],
            memory_refused: false,
            wasi: None,
            children: None,
            stack_base: 0,
            stack_depth: 0,
            profile: None,
            chain_requests: false,
            pending_read: None,
            written: 0,
        }
    }

    /// Hands this call's storage reads and writes and its events to the
    /// embedder as requests ([`crate::Request::StorageRead`],
    /// [`crate::Request::StorageWrite`], [`crate::Request::Event`]), which
    /// it answers with [`crate::Reply::Storage`] or [`crate::Reply::Done`],
    /// instead of asking the call's [`Chain`]; the chain still gives the
    /// call's caller, address, height, time and value. Each is charged before it is asked, as
    /// through a chain, so the gas is the same. The backend must have been
    /// made with [`crate::Config::chain_requests`]; on one that was not,
    /// the call's first host call aborts it (a misuse). A start function
    /// cannot suspend, so its storage calls trap.
    pub fn with_chain_requests(mut self) -> Self {
        self.chain_requests = true;
        self
    }

    /// Told by the backend that makes the call's sandbox whether it was
    /// made with [`crate::Config::chain_requests`]: a call that asks for
    /// them on one that was not is aborted at its first host call.
    pub fn support_chain_requests(&mut self, supported: bool) {
        if self.chain_requests && !supported {
            self.abort(NodeFault::new(
                FaultKind::Misuse,
                "the call asks for chain requests, but its backend was made without Config::chain_requests",
            ));
        }
    }

    /// Notes the memory granules a host function wrote
    /// ([`GuestMemory::written`]).
    pub(crate) fn note_written(&mut self, written: u64) {
        self.written |= written;
    }

    /// The memory granules host functions wrote since the last call of
    /// this, as a bitmap like [`ward_instrument::DIRTY_EXPORT`]'s.
    pub fn take_written(&mut self) -> u64 {
        std::mem::take(&mut self.written)
    }

    /// Whether storage and events go to the embedder as requests.
    pub(crate) fn chain_requests(&self) -> bool {
        self.chain_requests
    }

    /// Records where the call's gas goes in `log` (the profiling hooks of
    /// a module prepared with `Policy::profile`, and every host call).
    pub fn with_profile(mut self, log: crate::ProfileLog) -> Self {
        self.profile = Some(log);
        self
    }

    /// The call's profile recorder, if it is profiled.
    #[inline]
    pub fn profile(&self) -> Option<&crate::ProfileLog> {
        self.profile.as_ref()
    }

    /// The fixed cost of the current host call that the caller's
    /// instrumentation prepaid with its block (0 when it did not).
    pub fn prepaid_host_cost(&self) -> u64 {
        if self.base_prepaid {
            u64::from(self.schedule.host_call)
        } else {
            0
        }
    }

    /// Starts this call's stack `base` units deep in its transaction's one
    /// stack budget (`Limits::max_stack_units`): the frames below it (a
    /// caller, a parent) already use them.
    pub fn with_stack_base(mut self, base: u32) -> Self {
        self.stack_base = base;
        // Until an instrumented guest reports its depth, it is the base (a
        // self-metered guest never reports one).
        self.stack_depth = base;
        self
    }

    /// Makes every host call free of the schedule's documented costs: for
    /// a trusted, self-metered system runtime, which charges for what it
    /// does through `ward.charge_gas` at its own rates. What a callee or
    /// child used is still charged.
    pub fn with_host_costs_waived(mut self) -> Self {
        self.costs_waived = true;
        self
    }

    /// The gas the call's system runtime reported in its own units
    /// (`ward.report_gas`), if it did.
    pub fn runtime_gas(&self) -> Option<u64> {
        self.runtime_gas
    }

    /// Where this call's stack starts.
    pub fn stack_base(&self) -> u32 {
        self.stack_base
    }

    /// Moves where this call's stack starts (a child's, per run).
    pub(crate) fn set_stack_base(&mut self, base: u32) {
        self.stack_base = base;
    }

    /// Records the guest's call depth at the current host call (backends
    /// do, for functions that run other code).
    pub fn set_stack_depth(&mut self, depth: u32) {
        self.stack_depth = depth;
    }

    /// Where code the current host call runs starts its stack: the guest's
    /// depth plus `units` for what lies between.
    pub(crate) fn stack_above(&self, units: u32) -> u32 {
        self.stack_depth.saturating_add(units)
    }

    /// Gives the call a WASI program's state (arguments, environment,
    /// preopened files, clocks): see [`ward_wasi::Wasi::new`].
    pub fn with_wasi(mut self, wasi: ward_wasi::Wasi) -> Self {
        self.wasi = Some(Box::new(wasi));
        self
    }

    /// Sends WASI's stdout and stderr to the debug log a line at a time
    /// (each line without its newline; an unfinished last line when the
    /// call ends): for a method of a WASI reactor, whose output is what it
    /// writes through the `ward` ABI.
    pub fn with_wasi_stdout_logged(mut self) -> Self {
        self.wasi_stdout_logged = true;
        self
    }

    /// Takes the WASI state back (the files as the program left them), if
    /// the call had one.
    pub fn take_wasi(&mut self) -> Option<Box<ward_wasi::Wasi>> {
        self.wasi.take()
    }

    /// Declares whether the caller's instrumentation prepays the fixed cost
    /// of host calls (backends set it per call: engine-metered callers do).
    #[inline]
    pub fn set_base_prepaid(&mut self, prepaid: bool) {
        self.base_prepaid = prepaid;
    }

    /// Allows or forbids suspension (forbidden while a start function runs:
    /// a refused suspension traps with `host_error`).
    pub fn set_suspend_allowed(&mut self, allowed: bool) {
        self.suspend_allowed = allowed;
    }

    /// Charges host calls by `schedule` (the default schedule otherwise).
    pub fn with_schedule(mut self, schedule: &CostSchedule) -> Self {
        self.schedule = *schedule;
        self
    }

    /// Attaches the chain the call runs on.
    pub fn with_chain(mut self, chain: Box<dyn Chain>) -> Self {
        self.chain = chain;
        self
    }

    /// Detaches the chain (leaving [`NoChain`]).
    pub fn take_chain(&mut self) -> Box<dyn Chain> {
        std::mem::replace(&mut self.chain, Box::new(NoChain))
    }

    /// Turns `debug_log` collection on or off.
    pub fn with_debug_log(mut self, enabled: bool) -> Self {
        self.debug_log = enabled.then(DebugLog::default);
        self
    }

    /// Charges the memory this call's instances create and grow to
    /// `budget`, shared by every frame of the transaction (see
    /// [`MemoryBudget`]); the charge is given back when the context is
    /// dropped.
    pub fn with_memory_budget(mut self, budget: &Arc<MemoryBudget>) -> Self {
        self.memory = Some(MemoryCharge::new(budget));
        self
    }

    /// A memory of this call grows from `current` to `desired` bytes (from
    /// 0 when it is created): charges the difference to the budget, if
    /// there is one. `false` when the budget cannot hold it; backends call
    /// this from their resource limiter, after the instance limit.
    pub fn memory_growing(&mut self, current: usize, desired: usize) -> bool {
        let Some(charge) = &mut self.memory else {
            return true;
        };
        let fits = charge.grow(desired.saturating_sub(current) as u64);
        // A refused grow is `memory.grow` returning -1; a refused creation
        // fails the instantiation, which must say why.
        self.memory_refused |= !fits && current == 0;
        fits
    }

    /// If the memory budget refused to create a memory since the last
    /// call, the failure that says so: an instantiation that failed for it
    /// fails with this, worded the same on every backend.
    pub fn take_memory_refusal(&mut self) -> Option<Failure> {
        if !std::mem::take(&mut self.memory_refused) {
            return None;
        }
        let limit = self.memory.as_ref().map_or(0, |c| c.budget().limit());
        Some(Failure::new(
            ErrorKind::LimitExceeded,
            format!("the transaction's memory budget of {limit} bytes is used up"),
        ))
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
    #[inline]
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

    /// Pays a table row's documented `cost` (its formula, from the lengths
    /// `len(i)` its parameters name), less the fixed part when the
    /// caller's instrumentation prepaid it.
    ///
    /// # Errors
    ///
    /// `out_of_gas` when less is left.
    #[inline(always)]
    fn pay(&mut self, cost: ward_abi::Cost, len: impl Fn(usize) -> u64) -> Result<(), HostStop> {
        let sched = &self.schedule;
        let cost = cost.evaluate(
            u64::from(sched.host_call),
            |rate| u64::from(sched.rate(rate)),
            len,
        );
        self.charge(self.unprepaid(cost))
    }

    /// What a host call whose documented cost is `cost` still owes: less
    /// the fixed part when the caller's instrumentation prepaid it.
    #[inline]
    fn unprepaid(&self, cost: u64) -> u64 {
        if self.costs_waived {
            0
        } else if self.base_prepaid {
            cost.saturating_sub(u64::from(self.schedule.host_call))
        } else {
            cost
        }
    }

    /// Takes the debug log lines collected so far (empty when logging is off).
    pub fn take_debug_log(&mut self) -> Vec<String> {
        for stream in 0..2 {
            let partial = std::mem::take(&mut self.wasi_partial[stream]);
            if !partial.is_empty()
                && let Some(log) = &mut self.debug_log
            {
                log.push(&partial);
            }
        }
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
        self.wasi_partial = [Vec::new(), Vec::new()];
        self.fault = None;
    }
}

impl CallContext {
    /// Logs what a WASI program wrote to `stream` (0 stdout, 1 stderr) a
    /// line at a time ([`CallContext::with_wasi_stdout_logged`]); an
    /// unfinished line waits for its newline (or the call's end), at most
    /// [`MAX_DEBUG_LOG_BYTES`] of it.
    pub(crate) fn log_wasi_lines(&mut self, stream: usize, data: &[u8]) {
        let Some(log) = &mut self.debug_log else {
            return;
        };
        let partial = &mut self.wasi_partial[stream];
        let mut rest = data;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            partial.extend_from_slice(&rest[..end]);
            log.push(partial);
            partial.clear();
            rest = &rest[end + 1..];
        }
        partial.extend_from_slice(rest);
        if partial.len() > MAX_DEBUG_LOG_BYTES {
            log.push(partial);
            partial.clear();
        }
    }
}

/// The trap that unwinds a guest whose call a node fault aborted. Nothing
/// reports it: the run reports the fault instead.
fn aborted() -> HostStop {
    host_error("aborted by a node fault".into())
}

fn host_error(message: String) -> HostStop {
    HostStop::Trap(Failure::new(ErrorKind::HostError, message))
}

mod abi;
mod embedder;
mod memory;
mod suspend;
#[cfg(test)]
mod tests;
mod vm;
mod wasi;
