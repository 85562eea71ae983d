//! The way from a guest's import to the [`CallContext`], written once for
//! every backend.
//!
//! A backend's host-function trampoline knows its engine's caller type;
//! everything else is here: whether the fixed cost was prepaid, loading
//! the caller's gas meter into the context and storing it back, handing the
//! caller's memory to the ABI, and finishing a call the embedder serviced.
//! A backend implements [`Guest`] over its caller (and over its store, to
//! finish a call after a suspension) and calls these functions.

use ward_abi::{HostFn, Uses, WasiFn};
use ward_primitives::Gas;

use crate::{CallContext, GuestMemory, HostStop, Reply, ValType, Value, gas_global_value};

/// What a trampoline gives the ABI: the call's context and the calling
/// instance's memory and gas meter.
pub trait Guest {
    /// The call's context.
    fn context(&mut self) -> &mut CallContext;

    /// The call's context and the caller's memory (empty when it has none).
    fn context_and_memory(&mut self) -> (&mut CallContext, &mut [u8]);

    /// Whether the caller is engine-metered: it has a gas meter (the
    /// instrumentation's gas global).
    fn is_metered(&mut self) -> bool;

    /// The caller's gas meter. Only called when it is metered.
    fn meter(&mut self) -> i64;

    /// Sets the caller's gas meter. Only called when it is metered.
    fn set_meter(&mut self, value: i64);

    /// The caller's call depth in stack units, as it flushed it before
    /// this host call (`__ward_stack`); 0 for an uninstrumented caller.
    fn stack(&mut self) -> u32;
}

/// One call of host ABI function `f` with `args` (already of its
/// signature's types). Functions that read or charge gas see the caller's
/// meter, and the meter follows the context afterwards; the others leave
/// it in wasm. A suspending function (`ward.call`) returns its request as
/// [`HostStop::Suspend`]; finish it with [`complete_abi_call`].
///
/// Inlined into each function's trampoline, where `f` is a constant: what
/// it uses, its cost and its arm of [`CallContext::call_abi`] fold away.
///
/// # Errors
///
/// The [`HostStop`] that ends or suspends the guest.
#[inline(always)]
pub fn abi_call(
    guest: &mut impl Guest,
    f: HostFn,
    args: &[Value],
) -> Result<Option<Value>, HostStop> {
    table_call(guest, Table::Abi(f), args)
}

/// One call of WASI function `f` with `args`: as [`abi_call`], through
/// [`CallContext::call_wasi`]. Never suspends.
///
/// # Errors
///
/// The [`HostStop`] that ends the guest (`proc_exit`, out of gas).
pub fn wasi_call(
    guest: &mut impl Guest,
    f: WasiFn,
    args: &[Value],
) -> Result<Option<Value>, HostStop> {
    table_call(guest, Table::Wasi(f), args)
}

/// A function of one of the ABI tables.
#[derive(Clone, Copy)]
enum Table {
    Abi(HostFn),
    Wasi(WasiFn),
}

impl Table {
    /// What the function touches.
    #[inline(always)]
    fn uses(self) -> Uses {
        match self {
            Table::Abi(f) => f.uses(),
            Table::Wasi(f) => f.uses(),
        }
    }

    /// Its name in a profile; `None` for `charge_gas`, whose charge
    /// belongs to the function that asked.
    #[inline(always)]
    fn label(self) -> Option<(&'static str, &'static str)> {
        match self {
            Table::Abi(HostFn::ChargeGas) => None,
            Table::Abi(f) => Some((ward_abi::MODULE, f.name())),
            Table::Wasi(f) => Some((WasiFn::MODULE, f.name())),
        }
    }
}

/// A call of table function `f`, around what it uses: the prepaid base,
/// the caller's meter brought in and written back around functions that
/// charge, its memory for those that touch it. (An enum, not a closure,
/// so that it inlines whole: a closure here stayed a call.)
#[inline(always)]
fn table_call(guest: &mut impl Guest, f: Table, args: &[Value]) -> Result<Option<Value>, HostStop> {
    let uses = f.uses();
    let metered = guest.is_metered();
    // An engine-metered caller prepaid the fixed cost with its segment.
    guest.context().set_base_prepaid(metered);
    let profiled = f.label().filter(|_| guest.context().profile().is_some());
    if let Some(label) = profiled {
        profile_host_enter(guest, label);
    }
    let sync = metered && uses.gas;
    if uses.stack {
        let depth = guest.stack();
        guest.context().set_stack_depth(depth);
    }
    if sync {
        let left = guest.meter().max(0).unsigned_abs();
        guest.context().set_gas_left(Gas::new(left));
    }
    let (context, memory) = if uses.memory {
        guest.context_and_memory()
    } else {
        (guest.context(), &mut [][..])
    };
    let mut memory = GuestMemory::new(memory);
    let result = match f {
        Table::Abi(f) => context.call_abi(f, args, &mut memory),
        Table::Wasi(f) => context.call_wasi(f, args, &mut memory),
    };
    context.note_written(memory.written());
    if sync {
        store_meter(guest);
    }
    if profiled.is_some() {
        profile_host_exit(guest, &result);
    }
    result
}

/// Notes, when profiled, that the guest calls host function `label`.
#[cold]
#[inline(never)]
fn profile_host_enter(guest: &mut impl Guest, label: (&'static str, &'static str)) {
    if guest.context().profile().is_none() {
        return;
    }
    let gas = gas_now(guest);
    let context = guest.context();
    let prepaid = context.prepaid_host_cost();
    if let Some(log) = context.profile() {
        crate::lock_profile(log).host_enter(label, gas, prepaid);
    }
}

/// Notes, when profiled, how the host function the guest called ended: a
/// suspension stays open until it completes, a stop that ends the guest
/// stays open for good (the backtrace shows it).
#[cold]
#[inline(never)]
fn profile_host_exit<T>(guest: &mut impl Guest, result: &Result<T, HostStop>) {
    if guest.context().profile().is_none() {
        return;
    }
    match result {
        Ok(_) => profile_host_leave(guest),
        Err(HostStop::Suspend(_)) => {
            if let Some(log) = guest.context().profile() {
                crate::lock_profile(log).host_suspended();
            }
        }
        Err(_) => {}
    }
}

/// Notes, when profiled, that the host function the guest called returns.
fn profile_host_leave(guest: &mut impl Guest) {
    if guest.context().profile().is_none() {
        return;
    }
    let gas = gas_now(guest);
    if let Some(log) = guest.context().profile() {
        crate::lock_profile(log).host_leave(gas);
    }
}

/// The guest's gas left now: its meter when engine-metered, else the
/// context's.
fn gas_now(guest: &mut impl Guest) -> u64 {
    if guest.is_metered() {
        guest.meter().max(0).unsigned_abs()
    } else {
        guest.context().gas_left().get()
    }
}

/// A profiling hook ([`ward_instrument::PROFILE_MODULE`]) the guest
/// called: `enter`/`leave` of function `arg` with `gas` left (-1: the
/// context's), or `at` call site `arg`. Nothing when not profiled.
pub fn profile_hook(guest: &mut impl Guest, hook: ProfileHook, arg: i32, gas: i64) {
    let context = guest.context();
    let gas = u64::try_from(gas).unwrap_or_else(|_| context.gas_left().get());
    if let Some(log) = context.profile() {
        let mut profiler = crate::lock_profile(log);
        match hook {
            ProfileHook::Enter => profiler.enter(arg as u32, gas),
            ProfileHook::Leave => profiler.leave(gas),
            ProfileHook::At => profiler.at(arg as u32),
        }
    }
}

/// Defines the three profiling hooks ([`ward_instrument::PROFILE_MODULE`])
/// in a backend's linker, written once for both backends: `$linker` has
/// `func_wrap(module, name, closure)`, `$caller` is the backend's caller
/// type and `$guest` turns `&mut $caller` into its [`Guest`]. Expands to
/// a `Result` of the linker's error.
#[macro_export]
macro_rules! define_profile_hooks {
    ($linker:expr, $caller:ty, $guest:path) => {{
        use $crate::guest::{ProfileHook, profile_hook};
        let m = $crate::PROFILE_MODULE;
        let hook =
            |mut c: $caller, hook, arg, gas| profile_hook(&mut $guest(&mut c), hook, arg, gas);
        $linker
            .func_wrap(m, "enter", move |c: $caller, f: i32, gas: i64| {
                hook(c, ProfileHook::Enter, f, gas)
            })
            .and_then(|l| {
                l.func_wrap(m, "leave", move |c: $caller, f: i32, gas: i64| {
                    hook(c, ProfileHook::Leave, f, gas)
                })
            })
            .and_then(|l| {
                l.func_wrap(m, "at", move |c: $caller, offset: i32| {
                    hook(c, ProfileHook::At, offset, -1)
                })
            })
            .map(|_| ())
    }};
}

/// Defines in a backend's linker every function of an ABI table as a
/// typed function that hands its arguments to the backend's `$call`
/// (`ward_abi::for_each_host_function!` and `for_each_wasi_function!`
/// call it: none can be missed, and both backends define them alike).
/// The backend names its linker, caller, result and error types.
#[macro_export]
macro_rules! define_abi_functions {
    ($define:ident $Table:ident $call:ident ($linker:ty, $caller:ty, $result:ty, $error:ty);
     $( $(#[doc = $doc:literal])* $name:ident $variant:ident
        ( $($param:ident : $pty:ident),* ) $(-> $ret:ident)? { $($rules:tt)* } )*) => {
        fn $define(linker: &mut $linker) -> $result {
            $(
                linker.func_wrap(
                    $Table::MODULE,
                    stringify!($name),
                    |mut caller: $caller, $($param: $pty),*|
                        -> Result<$crate::define_abi_functions!(@ty $($ret)?), $error> {
                        $call(&mut caller, $Table::$variant, &[$($crate::Value::from($param)),*])
                    },
                )?;
            )*
            Ok(())
        }
    };
    (@ty) => { () };
    (@ty $ret:ident) => { $ret };
}

/// The three profiling hooks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileHook {
    /// `enter(func, gas)`.
    Enter,
    /// `leave(func, gas)`.
    Leave,
    /// `at(offset)`.
    At,
}

/// Finishes a `ward.call` that suspended: charges the callee's gas, keeps
/// its return data and gives the status the guest sees; the caller's meter
/// follows the context.
///
/// # Errors
///
/// A trap for [`Reply::Trap`], out of gas, or an abort for a missing or
/// wrong reply.
pub fn complete_abi_call(guest: &mut impl Guest, reply: Option<Reply>) -> Result<i32, HostStop> {
    let completed = guest.context().complete_call(reply);
    if guest.is_metered() {
        store_meter(guest);
    }
    profile_host_exit(guest, &completed);
    Ok(match completed? {
        Value::I32(status) => status,
        _ => ward_abi::call::FAILED,
    })
}

/// Finishes suspending host ABI function `f` with the embedder's reply:
/// `ward.call` and `ward.create` as [`complete_abi_call`] does (the status
/// the guest receives), and, in a call with chain requests, a storage call
/// or an event ([`CallContext::complete_chain`]: a read's value written
/// into the caller's memory). Returns the function's result, if it has
/// one.
///
/// # Errors
///
/// The [`HostStop`] that ends the guest.
pub fn complete_abi(
    guest: &mut impl Guest,
    f: HostFn,
    reply: Option<Reply>,
) -> Result<Option<Value>, HostStop> {
    if !crate::is_chain_request(f) {
        return complete_abi_call(guest, reply).map(|status| Some(Value::I32(status)));
    }
    // Charged when asked: nothing to bring back into the meter.
    let completed = {
        let (context, memory) = guest.context_and_memory();
        let mut memory = GuestMemory::new(memory);
        let completed = context.complete_chain(f, reply, &mut memory);
        context.note_written(memory.written());
        completed
    };
    profile_host_exit(guest, &completed);
    completed
}

/// One call of embedder host import `index` with `args`: the fixed cost
/// (prepaid by an engine-metered caller, whose meter stays in wasm, since
/// host imports charge nothing more), then the embedder's answer. An
/// immediate answer is checked against `expected` as a reply would be.
///
/// # Errors
///
/// [`HostStop::Suspend`] when the host suspends (finish with
/// [`complete_host_call`]), or the stop that ends the guest.
pub fn host_call(
    guest: &mut impl Guest,
    index: usize,
    expected: &[ValType],
    args: &[Value],
) -> Result<Vec<Value>, HostStop> {
    let prepaid = guest.is_metered();
    guest.context().set_base_prepaid(prepaid);
    profile_host_enter(guest, ("host", "import"));
    let (context, memory) = guest.context_and_memory();
    let mut memory = GuestMemory::new(memory);
    let values = context.call_host(index, args, &mut memory);
    context.note_written(memory.written());
    let values = values?;
    complete_host_call(guest, index, expected, Some(Reply::Values(values)))
}

/// One syscall, import number `index` with `args` and result types
/// `expected`: the fixed cost (prepaid by an engine-metered caller), then
/// always a suspension; finish it with [`complete_host_call`].
///
/// # Errors
///
/// [`HostStop::Suspend`], or the stop that ends the guest.
pub fn syscall(
    guest: &mut impl Guest,
    index: usize,
    expected: &[ValType],
    args: &[Value],
) -> Result<Vec<Value>, HostStop> {
    let metered = guest.is_metered();
    guest.context().set_base_prepaid(metered);
    profile_host_enter(guest, ("env", "syscall"));
    // The embedder learns the gas left with the request: bring the meter
    // in (a syscall charges nothing beyond its prepaid base).
    if metered {
        let left = guest.meter().max(0).unsigned_abs();
        guest.context().set_gas_left(Gas::new(left));
    }
    guest.context().call_syscall(index, args, expected)
}

/// Finishes host import `index` with the embedder's reply: the values the
/// guest receives.
///
/// # Errors
///
/// A trap for [`Reply::Trap`]; an abort for a missing or mistyped reply.
pub fn complete_host_call(
    guest: &mut impl Guest,
    index: usize,
    expected: &[ValType],
    reply: Option<Reply>,
) -> Result<Vec<Value>, HostStop> {
    let values = guest.context().complete_host(index, expected, reply);
    if values.is_ok() {
        profile_host_leave(guest);
    }
    values
}

fn store_meter(guest: &mut impl Guest) {
    let left = gas_global_value(guest.context().gas_left());
    guest.set_meter(left);
}

/// A host ABI function's result as a trampoline returns it to wasm:
/// nothing, an `i32` or an `i64`, as its row in the ABI table says.
pub trait AbiResult: Sized {
    /// The result from what [`abi_call`] returned (a function without a
    /// result returns `None`; a value of another type cannot occur and
    /// reads as 0).
    fn from_abi(value: Option<Value>) -> Self;
}

impl AbiResult for () {
    fn from_abi(_: Option<Value>) {}
}

impl AbiResult for i32 {
    fn from_abi(value: Option<Value>) -> i32 {
        match value {
            Some(Value::I32(v)) => v,
            _ => 0,
        }
    }
}

impl AbiResult for i64 {
    fn from_abi(value: Option<Value>) -> i64 {
        match value {
            Some(Value::I64(v)) => v,
            _ => 0,
        }
    }
}

/// The memory and gas global (`M`, `G`: the engine's handles) of a store's
/// instances, recorded at instantiation so that host calls from the usual
/// single instance need no lookup by name. With a second instance in the
/// store the caller is no longer known in advance, and host calls look the
/// caller's exports up instead.
#[derive(Clone, Copy, Debug)]
pub struct CallerExports<M, G> {
    instances: u32,
    memory: Option<M>,
    gas: Option<G>,
}

impl<M, G> Default for CallerExports<M, G> {
    fn default() -> Self {
        CallerExports {
            instances: 0,
            memory: None,
            gas: None,
        }
    }
}

impl<M: Copy, G: Copy> CallerExports<M, G> {
    /// Records a new instance and its exported memory and gas global.
    pub fn add(&mut self, memory: Option<M>, gas: Option<G>) {
        self.instances += 1;
        self.memory = memory;
        self.gas = gas;
    }

    /// The caller's memory when the store's one instance is the caller;
    /// `None` when it must be looked up.
    pub fn memory(&self) -> Option<Option<M>> {
        (self.instances == 1).then_some(self.memory)
    }

    /// The caller's gas global when the store's one instance is the
    /// caller; `None` when it must be looked up.
    pub fn gas(&self) -> Option<Option<G>> {
        (self.instances == 1).then_some(self.gas)
    }

    /// The memory and gas global of the newest instance (the only one, in
    /// a sandbox that can be recycled).
    pub fn newest(&self) -> (Option<M>, Option<G>) {
        (self.memory, self.gas)
    }
}
