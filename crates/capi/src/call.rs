//! Calls: a guest run until it needs the host, then resumed with the
//! host's answer, until it ends.

use std::ffi::{CString, c_char};

use ward_vm::{
    CallContext, CallMode, Chain, ChainError, Entry, Execution, Gas, NodeFault, Progress, Reply,
    Request, RunOptions, Running,
};

use crate::{
    WardEngine, WardModule,
    boundary::{self, WardError, WardStatus},
};

/// How to run a call ([`ward_call_options_default`] fills in the
/// defaults).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct WardCallOptions {
    /// The exported function to run (NUL-terminated; NULL: `main`):
    /// `main` for a call, `deploy` for a contract's creation, `migrate`
    /// for an upgrade. It takes and returns nothing, or returns an `i32`
    /// (nonzero: a revert with that code). A WASI module's method is any
    /// such export, `_start` included (its `_initialize` runs first when it
    /// has one; see `docs/embedding.md`).
    pub entry: *const c_char,
    /// The call's input (what the guest reads with `input_read`).
    pub input: *const u8,
    /// Its length.
    pub input_len: usize,
    /// The most gas the call may use.
    pub gas_limit: u64,
    /// Who calls (`ward.caller`).
    pub caller: [u8; 32],
    /// The contract being run (`ward.self_address`).
    pub self_address: [u8; 32],
    /// The block's height (`ward.block_height`).
    pub block_height: u64,
    /// The block's time (`ward.block_time`).
    pub block_time: u64,
    /// The native asset moved with the call, a `u128` little-endian
    /// (`ward.call_value`).
    pub value: [u8; 16],
    /// Where the call's stack starts in its transaction's one stack budget:
    /// 0 for the first call, else the `stack_base` of the request that
    /// asked for it.
    pub stack_base: u32,
    /// Whether the call may not write or emit: its writes and events trap
    /// without reaching the host, and the calls it asks for are read-only
    /// too.
    pub read_only: bool,
    /// A flag that ends the call when another thread raises it
    /// ([`crate::ward_call_cancel`]); NULL: none. The call keeps its own
    /// reference: the flag may be freed before the call.
    pub cancel: *const crate::WardCancel,
    /// A WASI module's random seed: `random_get` returns BLAKE3 keyed by
    /// it over a counter (reproducible, not secret; `docs/wasi.md`).
    pub wasi_seed: [u8; 32],
}

/// Where a call stands.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WardCallState {
    /// It waits for the host's answer to its request
    /// ([`ward_call_request`]).
    Suspended = 0,
    /// It ended: [`ward_call_outcome`] says how.
    Finished = 1,
    /// A fault of the host's ended it: it has no outcome, and nothing it
    /// asked for may be kept.
    Aborted = 2,
}

/// What a suspended call asks of the host.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WardRequestKind {
    /// None (the call is not suspended).
    None = 0,
    /// The value stored under `key` in the running contract's storage:
    /// answer with [`ward_call_reply_read`].
    StorageRead = 1,
    /// Store `value` under `key`: answer with [`ward_call_reply_done`].
    StorageWrite = 2,
    /// Remove `key`: answer with [`ward_call_reply_done`].
    StorageRemove = 3,
    /// An event, `topic` and `value` (its data): answer with
    /// [`ward_call_reply_done`].
    Event = 4,
    /// Run `main` of the contract at `address` with `input`, at most `gas`,
    /// as a call of its own (`stack_base`, `read_only`; `delegate`: in the
    /// caller's own storage), then answer with [`ward_call_reply_call`].
    /// (A code call, `ward_abi`'s `CALL_CODE`, is not asked: it fails.)
    Call = 5,
    /// Deploy `code` with `input` to an address from `salt`, at most
    /// `gas`, then answer with [`ward_call_reply_call`] (the new address as
    /// the data on success).
    Create = 6,
}

/// A request's fields; those its kind does not use are empty. Pointers
/// are valid until the call's next reply or its free.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct WardRequest {
    /// What is asked.
    pub kind: WardRequestKind,
    /// Storage: the key.
    pub key: *const u8,
    /// Its length.
    pub key_len: usize,
    /// A write: the value; an event: its data.
    pub value: *const u8,
    /// Its length.
    pub value_len: usize,
    /// An event: its topic.
    pub topic: *const u8,
    /// Its length.
    pub topic_len: usize,
    /// A call: the callee.
    pub address: [u8; 32],
    /// A call or a create: the input.
    pub input: *const u8,
    /// Its length.
    pub input_len: usize,
    /// A create: the new contract's code.
    pub code: *const u8,
    /// Its length.
    pub code_len: usize,
    /// A create: what the new address derives from.
    pub salt: [u8; 32],
    /// A call or a create: the most gas it may use (already capped at what
    /// the caller has).
    pub gas: u64,
    /// A call or a create: its [`WardCallOptions::stack_base`].
    pub stack_base: u32,
    /// A call: whether it may not write or emit.
    pub read_only: bool,
    /// A call: whether the callee's code runs on the caller's storage.
    pub delegate: bool,
    /// A call or a create: the native asset it moves, a `u128`
    /// little-endian.
    pub amount: [u8; 16],
}

/// How a call ended. Pointers are valid until the call is freed.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct WardOutcome {
    /// `ok`, `reverted`, `trapped`, `out_of_gas`, `timeout` or `rejected`.
    pub status: *const c_char,
    /// The revert code (0 otherwise).
    pub exit_code: i32,
    /// The gas it used.
    pub gas_used: u64,
    /// Its output (on success and revert).
    pub output: *const u8,
    /// Its length.
    pub output_len: usize,
    /// Why it failed: Ward's error kind (`out_of_gas`, `host_error`, ...);
    /// NULL when it did not.
    pub error_kind: *const c_char,
    /// The failure's message, for people; NULL when it did not fail.
    pub error_message: *const c_char,
}

/// One call. Used by one thread at a time (it may move between threads).
/// Freed with [`ward_call_free`], before its module and engine.
pub struct WardCall {
    state: State,
    read_only: bool,
    /// The outcome's text, kept for the pointers handed out.
    shown: Option<Shown>,
}

enum State {
    Suspended(Box<Running>, Request),
    Finished(Execution),
    Aborted(NodeFault),
    /// A reply is being run (seen only if it panicked).
    Gone,
}

struct Shown {
    status: CString,
    error_kind: Option<CString>,
    error_message: Option<CString>,
}

/// What the running contract sees of its call (`ward.caller` and the
/// rest). Its storage goes to the host as requests instead, so those
/// methods are never asked; the native asset and other code are not
/// offered through this API, and a guest that asks traps.
struct Env {
    caller: [u8; 32],
    self_address: [u8; 32],
    height: u64,
    time: u64,
    value: u128,
}

const NOT_OFFERED: &str = "not offered by this host";

impl Chain for Env {
    fn storage_read(&mut self, _: &[u8]) -> Result<Option<Vec<u8>>, ChainError> {
        Err(ChainError::Refused(NOT_OFFERED.into()))
    }
    fn storage_write(&mut self, _: &[u8], _: Option<&[u8]>) -> Result<(), ChainError> {
        Err(ChainError::Refused(NOT_OFFERED.into()))
    }
    fn emit_event(&mut self, _: &[u8], _: &[u8]) -> Result<(), ChainError> {
        Err(ChainError::Refused(NOT_OFFERED.into()))
    }
    fn caller(&self) -> [u8; 32] {
        self.caller
    }
    fn self_address(&self) -> [u8; 32] {
        self.self_address
    }
    fn block_height(&self) -> u64 {
        self.height
    }
    fn block_time(&self) -> u64 {
        self.time
    }
    fn call_value(&self) -> u128 {
        self.value
    }
}

/// Fills `options` with the defaults: `main`, no input, 10 000 000 gas,
/// zero addresses, height and time 0, no value, stack base 0, writable.
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `options`: NULL, or a `WardCallOptions` this may write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_call_options_default(options: *mut WardCallOptions) -> WardStatus {
    boundary::report(boundary::guarded(|| {
        // SAFETY: `options` is NULL or writable, as the contract above says.
        unsafe { boundary::put(options, defaults(), "options") }
    }))
}

fn defaults() -> WardCallOptions {
    WardCallOptions {
        entry: std::ptr::null(),
        input: std::ptr::null(),
        input_len: 0,
        gas_limit: 10_000_000,
        caller: [0; 32],
        self_address: [0; 32],
        block_height: 0,
        block_time: 0,
        value: [0; 16],
        stack_base: 0,
        read_only: false,
        cancel: std::ptr::null(),
        wasi_seed: [0; 32],
    }
}

/// Starts a call of `module` (prepared by `engine`) and runs it to its
/// first request or its end: see [`ward_call_state`]. NULL on failure
/// (arguments only: how the guest fares, a refusal included, is the
/// outcome).
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `engine`: NULL, or a `WardEngine` this API returned and that is not freed;
/// - `module`: NULL, or a `WardModule` this API returned and that is not freed;
/// - `options`: NULL, or a valid `WardCallOptions` whose `cancel` is NULL or a `WardCancel` this API returned and that is not freed;
/// - `error`: NULL, or a `WardError *` this may write (an error the caller then frees).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_call_begin(
    engine: *const WardEngine,
    module: *const WardModule,
    options: *const WardCallOptions,
    error: *mut *mut WardError,
) -> *mut WardCall {
    let result = boundary::guarded(|| {
        // SAFETY: `engine` is as the contract above says.
        let engine = unsafe { boundary::borrow(engine, "engine") }?;
        // SAFETY: `module` is as the contract above says.
        let module = unsafe { boundary::borrow(module, "module") }?;
        let options = if options.is_null() {
            defaults()
        } else {
            // SAFETY: `options` is as the contract above says.
            *unsafe { boundary::borrow(options, "options") }?
        };
        // SAFETY: `options` is as the contract above says.
        let entry = unsafe { boundary::optional_str(options.entry, "entry") }?.unwrap_or("main");
        // SAFETY: `options` is as the contract above says.
        let input = unsafe { boundary::bytes(options.input, options.input_len, "input") }?;
        let cancel = if options.cancel.is_null() {
            None
        } else {
            // SAFETY: `options.cancel` is NULL or a live `WardCancel`, as the contract above says.
            Some(
                unsafe { boundary::borrow(options.cancel, "cancel") }?
                    .0
                    .clone(),
            )
        };
        let run = RunOptions {
            input: input.to_vec(),
            gas_limit: Gas::new(options.gas_limit),
            // The guest's log (`debug_log`, WASI's stdout and stderr):
            // bounded, read with `ward_call_log_line`.
            debug_log: true,
            timeout: engine.timeout,
            cancel,
        };
        let env = Env {
            caller: options.caller,
            self_address: options.self_address,
            height: options.block_height,
            time: options.block_time,
            value: u128::from_le_bytes(options.value),
        };
        let mut context = CallContext::default()
            .with_chain(Box::new(env))
            .with_chain_requests()
            .with_stack_base(options.stack_base);
        if engine.children {
            // Checked when the engine was made: a later failure is Ward's.
            let cache = engine.cache.children().map_err(|failure| {
                WardError::new(WardStatus::Internal, "internal", failure.message)
            })?;
            // They run under the call's timeout and cancel flag
            // (`ward_vm::begin` hands them over).
            context = context.with_children(ward_vm::Children::with_cache(
                cache,
                ward_vm::ChildLimits::default(),
            ));
        }
        let prepared = match module.wasi {
            true => crate::wasi::prepare(&module.module, entry, &options, context),
            false => Ok((Entry::Main(entry.to_owned()), context)),
        };
        let progress = match prepared {
            Ok((entry, context)) => ward_vm::begin(
                &**engine.cache.backend(),
                &module.module,
                &entry,
                run,
                context,
            ),
            Err(failure) => Progress::Finished(Execution::rejected(failure)),
        };
        let mut call = WardCall {
            state: State::Gone,
            read_only: options.read_only,
            shown: None,
        };
        call.advance(progress);
        Ok(call)
    });
    // SAFETY: `error` is NULL or writable, as the contract above says.
    unsafe { boundary::object(error, result) }
}

impl WardCall {
    /// The finished call's log lines (none before it finished).
    pub(crate) fn log(&self) -> &[String] {
        match &self.state {
            State::Finished(execution) => &execution.debug_log,
            _ => &[],
        }
    }

    /// Takes `progress` as the call's state, answering at once what a
    /// read-only call may not ask, and a code call.
    fn advance(&mut self, mut progress: Progress) {
        loop {
            progress = match progress {
                Progress::Suspended(
                    running,
                    Request::Call {
                        mode: CallMode::Code,
                        ..
                    },
                ) => {
                    // A code call (the EVM's `CALLCODE`) is not offered to
                    // a host: it fails at once (`docs/embedding.md`).
                    running.resume(Reply::Call {
                        status: 2, // failed (`ward_abi::call::FAILED`)
                        return_data: Vec::new(),
                        gas_used: 0,
                    })
                }
                Progress::Suspended(running, mut request) => {
                    let refused = self.read_only
                        && matches!(
                            request,
                            Request::StorageWrite { .. } | Request::Event { .. }
                        );
                    if !refused {
                        if let Request::Call { read_only, .. } = &mut request {
                            // What a read-only call asks for is too.
                            *read_only |= self.read_only;
                        }
                        self.state = State::Suspended(Box::new(running), request);
                        return;
                    }
                    let what = match request {
                        Request::Event { .. } => "event",
                        _ => "storage write",
                    };
                    running.resume(Reply::Trap(format!("{what} in a read-only call")))
                }
                Progress::Finished(execution) => {
                    let outcome = &execution.outcome;
                    self.shown = Some(Shown {
                        status: boundary::text(outcome.status.as_str()),
                        error_kind: outcome
                            .error
                            .as_ref()
                            .map(|e| boundary::text(e.kind.as_str())),
                        error_message: outcome.error.as_ref().map(|e| boundary::text(&e.message)),
                    });
                    self.state = State::Finished(execution);
                    return;
                }
                Progress::Aborted(fault) => {
                    self.state = State::Aborted(fault);
                    return;
                }
            };
        }
    }

    /// Resumes the suspended call with `reply`, if `fits` its request.
    fn reply(&mut self, fits: fn(&Request) -> bool, reply: Reply) -> Result<(), WardError> {
        let request = match &self.state {
            State::Suspended(_, request) => request,
            _ => {
                return Err(WardError::new(
                    WardStatus::State,
                    "not_suspended",
                    "the call is not waiting for an answer",
                ));
            }
        };
        if !fits(request) && !matches!(reply, Reply::Trap(_)) {
            return Err(WardError::new(
                WardStatus::State,
                "wrong_reply",
                format!("this reply does not answer the call's request ({request:?})"),
            ));
        }
        let State::Suspended(running, _) = std::mem::replace(&mut self.state, State::Gone) else {
            return Ok(());
        };
        let progress = running.resume(reply);
        self.advance(progress);
        Ok(())
    }
}

/// Frees a call (NULL: nothing), whatever its state.
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `call`: NULL, or a `WardCall` this API returned and that is not freed and used by no other thread during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_call_free(call: *mut WardCall) {
    // SAFETY: `call` is NULL or this API's and not freed before, as the contract above says.
    unsafe { boundary::free(call) };
}

/// Where the call stands ([`WardCallState::Aborted`] for a NULL call).
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `call`: NULL, or a `WardCall` this API returned and that is not freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_call_state(call: *const WardCall) -> WardCallState {
    boundary::guarded(|| {
        // SAFETY: `call` is as the contract above says.
        let call = unsafe { boundary::borrow(call, "call") }?;
        Ok(match call.state {
            State::Suspended(..) => WardCallState::Suspended,
            State::Finished(_) => WardCallState::Finished,
            State::Aborted(_) | State::Gone => WardCallState::Aborted,
        })
    })
    .unwrap_or(WardCallState::Aborted)
}

fn raw(bytes: &[u8]) -> (*const u8, usize) {
    (bytes.as_ptr(), bytes.len())
}

/// Writes the suspended call's request to `*out` (kind
/// [`WardRequestKind::None`] when the call is not suspended).
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `call`: NULL, or a `WardCall` this API returned and that is not freed;
/// - `out`: NULL, or a `WardRequest` this may write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_call_request(
    call: *const WardCall,
    out: *mut WardRequest,
) -> WardStatus {
    boundary::report(boundary::guarded(|| {
        // SAFETY: `call` is as the contract above says.
        let call = unsafe { boundary::borrow(call, "call") }?;
        let empty: &[u8] = &[];
        let mut shown = WardRequest {
            kind: WardRequestKind::None,
            key: empty.as_ptr(),
            key_len: 0,
            value: empty.as_ptr(),
            value_len: 0,
            topic: empty.as_ptr(),
            topic_len: 0,
            address: [0; 32],
            input: empty.as_ptr(),
            input_len: 0,
            code: empty.as_ptr(),
            code_len: 0,
            salt: [0; 32],
            gas: 0,
            stack_base: 0,
            read_only: false,
            delegate: false,
            amount: [0; 16],
        };
        if let State::Suspended(_, request) = &call.state {
            match request {
                Request::StorageRead { key } => {
                    shown.kind = WardRequestKind::StorageRead;
                    (shown.key, shown.key_len) = raw(key);
                }
                Request::StorageWrite { key, value } => {
                    (shown.key, shown.key_len) = raw(key);
                    match value {
                        Some(value) => {
                            shown.kind = WardRequestKind::StorageWrite;
                            (shown.value, shown.value_len) = raw(value);
                        }
                        None => shown.kind = WardRequestKind::StorageRemove,
                    }
                }
                Request::Event { topic, data } => {
                    shown.kind = WardRequestKind::Event;
                    (shown.topic, shown.topic_len) = raw(topic);
                    (shown.value, shown.value_len) = raw(data);
                }
                Request::Call {
                    address,
                    input,
                    gas,
                    read_only,
                    mode,
                    stack_base,
                    value,
                } => {
                    shown.kind = WardRequestKind::Call;
                    shown.address = *address;
                    (shown.input, shown.input_len) = raw(input);
                    (shown.gas, shown.stack_base) = (*gas, *stack_base);
                    (shown.read_only, shown.delegate) = (*read_only, *mode == CallMode::Delegate);
                    shown.amount = value.to_le_bytes();
                }
                Request::Create {
                    code,
                    input,
                    salt,
                    gas,
                    stack_base,
                    value,
                } => {
                    shown.kind = WardRequestKind::Create;
                    (shown.code, shown.code_len) = raw(code);
                    (shown.input, shown.input_len) = raw(input);
                    shown.salt = *salt;
                    (shown.gas, shown.stack_base) = (*gas, *stack_base);
                    shown.amount = value.to_le_bytes();
                }
                // No host imports or syscalls are configured on an engine
                // of this API: the guest could not have made one.
                _ => {}
            }
        }
        // SAFETY: `out` is NULL or writable, as the contract above says.
        unsafe { boundary::put(out, shown, "out") }
    }))
}

/// Answers a [`WardRequestKind::StorageRead`]: the value (`found`), or
/// none; then runs the call on. `value` may be NULL when `value_len` is
/// 0.
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `call`: NULL, or a `WardCall` this API returned and that is not freed and used by no other thread during the call;
/// - `value`: NULL, or `value_len` readable bytes, unchanged during the call;
/// - `error`: NULL, or a `WardError *` this may write (an error the caller then frees).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_call_reply_read(
    call: *mut WardCall,
    found: bool,
    value: *const u8,
    value_len: usize,
    error: *mut *mut WardError,
) -> WardStatus {
    let result = boundary::guarded(|| {
        // SAFETY: `call` is as the contract above says.
        let call = unsafe { boundary::borrow_mut(call, "call") }?;
        // SAFETY: `value` is as the contract above says.
        let value = unsafe { boundary::bytes(value, value_len, "value") }?;
        call.reply(
            |r| matches!(r, Request::StorageRead { .. }),
            Reply::Storage(found.then(|| value.to_vec())),
        )
    });
    // SAFETY: `error` is NULL or writable, as the contract above says.
    unsafe { boundary::status(error, result) }
}

/// Answers a write, a removal or an event: done; then runs the call on.
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `call`: NULL, or a `WardCall` this API returned and that is not freed and used by no other thread during the call;
/// - `error`: NULL, or a `WardError *` this may write (an error the caller then frees).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_call_reply_done(
    call: *mut WardCall,
    error: *mut *mut WardError,
) -> WardStatus {
    let result = boundary::guarded(|| {
        // SAFETY: `call` is as the contract above says.
        let call = unsafe { boundary::borrow_mut(call, "call") }?;
        call.reply(
            |r| matches!(r, Request::StorageWrite { .. } | Request::Event { .. }),
            Reply::Done,
        )
    });
    // SAFETY: `error` is NULL or writable, as the contract above says.
    unsafe { boundary::status(error, result) }
}

/// Answers a [`WardRequestKind::Call`] or [`WardRequestKind::Create`]:
/// `status` 0 ok, 1 reverted, 2 failed; the callee's output (a create's:
/// the new address); the gas it used, which the caller is charged. Then
/// runs the call on.
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `call`: NULL, or a `WardCall` this API returned and that is not freed and used by no other thread during the call;
/// - `data`: NULL, or `data_len` readable bytes, unchanged during the call;
/// - `error`: NULL, or a `WardError *` this may write (an error the caller then frees).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_call_reply_call(
    call: *mut WardCall,
    status: i32,
    data: *const u8,
    data_len: usize,
    gas_used: u64,
    error: *mut *mut WardError,
) -> WardStatus {
    let result = boundary::guarded(|| {
        // SAFETY: `call` is as the contract above says.
        let call = unsafe { boundary::borrow_mut(call, "call") }?;
        if !(0..=2).contains(&status) {
            return Err(WardError::invalid(format!(
                "a call's status is 0, 1 or 2, not {status}"
            )));
        }
        // SAFETY: `data` is as the contract above says.
        let data = unsafe { boundary::bytes(data, data_len, "data") }?;
        call.reply(
            |r| matches!(r, Request::Call { .. } | Request::Create { .. }),
            Reply::Call {
                status,
                return_data: data.to_vec(),
                gas_used,
            },
        )
    });
    // SAFETY: `error` is NULL or writable, as the contract above says.
    unsafe { boundary::status(error, result) }
}

/// Answers any request with a refusal: the guest traps (`host_error`,
/// with `message`), the guest's own doing. Then runs the call on (to its
/// end).
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `call`: NULL, or a `WardCall` this API returned and that is not freed and used by no other thread during the call;
/// - `message`: NULL or a NUL-terminated string, unchanged during the call;
/// - `error`: NULL, or a `WardError *` this may write (an error the caller then frees).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_call_reply_trap(
    call: *mut WardCall,
    message: *const c_char,
    error: *mut *mut WardError,
) -> WardStatus {
    let result = boundary::guarded(|| {
        // SAFETY: `call` is as the contract above says.
        let call = unsafe { boundary::borrow_mut(call, "call") }?;
        // SAFETY: `message` is as the contract above says.
        let message =
            unsafe { boundary::optional_str(message, "message") }?.unwrap_or("refused by the host");
        call.reply(|_| true, Reply::Trap(message.to_owned()))
    });
    // SAFETY: `error` is NULL or writable, as the contract above says.
    unsafe { boundary::status(error, result) }
}

/// Writes how the finished call ended to `*out`. [`WardStatus::State`]
/// while it is suspended; [`WardStatus::Fault`] for an aborted one (the
/// error says why).
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `call`: NULL, or a `WardCall` this API returned and that is not freed;
/// - `out`: NULL, or a `WardOutcome` this may write;
/// - `error`: NULL, or a `WardError *` this may write (an error the caller then frees).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_call_outcome(
    call: *const WardCall,
    out: *mut WardOutcome,
    error: *mut *mut WardError,
) -> WardStatus {
    let result = boundary::guarded(|| {
        // SAFETY: `call` is as the contract above says.
        let call = unsafe { boundary::borrow(call, "call") }?;
        match (&call.state, &call.shown) {
            (State::Finished(execution), Some(shown)) => {
                let outcome = &execution.outcome;
                let text =
                    |t: &Option<CString>| t.as_ref().map_or(std::ptr::null(), |t| t.as_ptr());
                let (output, output_len) = raw(&outcome.output);
                let written = WardOutcome {
                    status: shown.status.as_ptr(),
                    exit_code: outcome.exit_code,
                    gas_used: outcome.gas_used.get(),
                    output,
                    output_len,
                    error_kind: text(&shown.error_kind),
                    error_message: text(&shown.error_message),
                };
                // SAFETY: `out` is NULL or writable, as the contract above says.
                unsafe { boundary::put(out, written, "out") }
            }
            (State::Aborted(fault), _) => Err(WardError::new(
                WardStatus::Fault,
                fault.kind().as_str(),
                fault.to_string(),
            )),
            (State::Suspended(..), _) => Err(WardError::new(
                WardStatus::State,
                "suspended",
                "the call waits for an answer: it has no outcome yet",
            )),
            _ => Err(WardError::new(
                WardStatus::Internal,
                "internal",
                "the call was lost to an earlier failure",
            )),
        }
    });
    // SAFETY: `error` is NULL or writable, as the contract above says.
    unsafe { boundary::status(error, result) }
}
