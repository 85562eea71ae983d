//! Engines: a backend, its policy and its module cache.

use std::{ffi::c_char, path::PathBuf, sync::Arc, time::Duration};

use ward_vm::{BackendKind, CacheOptions, Config, ModuleCache};

use crate::boundary::{self, WardError, WardStatus};

/// The engine that runs guests.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WardBackend {
    /// wasmtime: Cranelift's compiled code, fast warm calls.
    Wasmtime = 0,
    /// wasmi: an interpreter, modules ready in milliseconds, no JIT.
    Wasmi = 1,
}

/// How to make an engine ([`ward_engine_options_default`] fills in the
/// defaults).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct WardEngineOptions {
    /// The engine. Both give the same outcomes and gas.
    pub backend: WardBackend,
    /// The most 64 KiB pages a guest's memory may have (0: Ward's
    /// default). Part of the policy: engines with other limits never
    /// share compiled modules.
    pub max_memory_pages: u32,
    /// A wall-clock backstop for every call, in milliseconds (0: none).
    /// Gas bounds honest work; past the backstop a call ends `timeout`,
    /// which two machines may not agree on, so a chain treats it as a
    /// fault of its own.
    pub timeout_ms: u64,
    /// A directory where compiled modules are kept, checked, between runs
    /// (NUL-terminated UTF-8; NULL: in memory only).
    pub cache_dir: *const c_char,
    /// Whether modules may import `wasi_snapshot_preview1` (WASI preview
    /// 1, `docs/wasi.md`): each call of such a module gets a fresh,
    /// deterministic WASI state and sends what it writes to stdout and
    /// stderr to its log. Part of the policy, like `max_memory_pages`.
    pub wasi: bool,
    /// Whether a guest may run modules of its own through the `vm_*`
    /// functions (ABI version 3, docs/host-abi.md): each call gets its own
    /// children, compiled under the child policy through a cache the
    /// engine keeps, paid for from the call's gas, within its stack
    /// budget, and stopped by its timeout and cancel flag as the call is.
    /// Without it every `vm_*` call answers `vm::UNAVAILABLE` (-1).
    pub children: bool,
}

/// An engine: one backend with one policy, and the cache of the modules
/// it compiled, by code hash. Safe to use from any number of threads at
/// once. Freed with [`ward_engine_free`] once no module or call of it is
/// in use.
pub struct WardEngine {
    pub(crate) cache: Arc<ModuleCache>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) children: bool,
}

/// Fills `options` with the defaults: wasmtime, Ward's memory limit, no
/// backstop, no disk cache, no WASI, no children.
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `options`: NULL, or a `WardEngineOptions` this may write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_engine_options_default(
    options: *mut WardEngineOptions,
) -> WardStatus {
    boundary::report(boundary::guarded(|| {
        // SAFETY: `options` is NULL or writable, as the contract above says.
        unsafe { boundary::put(options, WardEngineOptions::DEFAULT, "options") }
    }))
}

/// Makes an engine (`options` NULL: the defaults). NULL on failure, with
/// the error in `*error` (when `error` is not NULL).
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `options`: NULL, or a valid `WardEngineOptions` whose `cache_dir` is
///   NULL or a NUL-terminated string, unchanged during the call;
/// - `error`: NULL, or a `WardError *` this may write (an error the caller then frees).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_engine_new(
    options: *const WardEngineOptions,
    error: *mut *mut WardError,
) -> *mut WardEngine {
    let result = boundary::guarded(|| {
        let options = if options.is_null() {
            WardEngineOptions::DEFAULT
        } else {
            // SAFETY: `options` is as the contract above says.
            *unsafe { boundary::borrow(options, "options") }?
        };
        WardEngine::new(&options)
    });
    // SAFETY: `error` is NULL or writable, as the contract above says.
    unsafe { boundary::object(error, result) }
}

impl WardEngineOptions {
    /// What [`ward_engine_options_default`] fills in.
    const DEFAULT: WardEngineOptions = WardEngineOptions {
        backend: WardBackend::Wasmtime,
        max_memory_pages: 0,
        timeout_ms: 0,
        cache_dir: std::ptr::null(),
        wasi: false,
        children: false,
    };
}

impl WardEngine {
    fn new(options: &WardEngineOptions) -> Result<WardEngine, WardError> {
        let mut config = Config {
            // Storage, events and calls reach the host as requests.
            chain_requests: true,
            ..Config::default()
        };
        if options.max_memory_pages != 0 {
            config.policy.limits.max_memory_pages = options.max_memory_pages;
        }
        if options.wasi {
            config.policy.imports = ward_vm::ImportPolicy::wasi();
        }
        let kind = match options.backend {
            WardBackend::Wasmtime => BackendKind::Wasmtime,
            WardBackend::Wasmi => BackendKind::Wasmi,
        };
        let engine_failed = |message: String| WardError::new(WardStatus::Engine, "engine", message);
        let backend =
            ward_backends::new(kind, &config).map_err(|failure| engine_failed(failure.message))?;
        // SAFETY: `options` is as the contract above says.
        let disk_dir =
            unsafe { boundary::optional_str(options.cache_dir, "cache_dir") }?.map(PathBuf::from);
        let cache = ModuleCache::new(
            backend,
            &config,
            CacheOptions {
                disk_dir,
                ..CacheOptions::default()
            },
        )
        .map_err(|e| engine_failed(format!("the module cache: {e}")))?;
        let cache = Arc::new(cache);
        if options.children {
            // Set up now, so that an engine that cannot run children is
            // refused here rather than failing its calls.
            cache
                .children()
                .map_err(|failure| engine_failed(format!("children: {}", failure.message)))?;
        }
        Ok(WardEngine {
            cache,
            timeout: (options.timeout_ms != 0).then(|| Duration::from_millis(options.timeout_ms)),
            children: options.children,
        })
    }
}

/// The gas a deploy of `code_len` bytes of code is charged before its
/// module is validated, as Ward's executor charges it (`deploy_base +
/// deploy_per_byte × code_len` of the engine's schedule, saturating;
/// `docs/gas.md`, "Deploys"): validating, instrumenting and compiling
/// code is work every node does, a module the policy refuses included.
/// 0 for NULL.
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `engine`: NULL, or a `WardEngine` this API returned and that is not freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_engine_deploy_gas(engine: *const WardEngine, code_len: usize) -> u64 {
    boundary::guarded(|| {
        // SAFETY: `engine` is as the contract above says.
        let engine = unsafe { boundary::borrow(engine, "engine") }?;
        Ok(engine
            .cache
            .config()
            .policy
            .schedule
            .deploy_cost(code_len as u64))
    })
    .unwrap_or(0)
}

/// Frees an engine (NULL: nothing). Its modules and calls must be freed
/// first.
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `engine`: NULL, or a `WardEngine` this API returned and that is not freed and used by no other thread during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_engine_free(engine: *mut WardEngine) {
    // SAFETY: `engine` is NULL or this API's and not freed before, as the contract above says.
    unsafe { boundary::free(engine) };
}

/// Checks `wasm` against the engine's policy (validation, features,
/// limits, imports, and that it can be instrumented for gas) without
/// compiling it: `Ok`, or [`WardStatus::Rejected`] with the reason's kind.
/// A module that cannot be instrumented is refused, never run without
/// metering.
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `engine`: NULL, or a `WardEngine` this API returned and that is not freed;
/// - `wasm`: NULL, or `wasm_len` readable bytes, unchanged during the call;
/// - `error`: NULL, or a `WardError *` this may write (an error the caller then frees).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_validate(
    engine: *const WardEngine,
    wasm: *const u8,
    wasm_len: usize,
    error: *mut *mut WardError,
) -> WardStatus {
    let result = boundary::guarded(|| {
        // SAFETY: `engine` is as the contract above says.
        let engine = unsafe { boundary::borrow(engine, "engine") }?;
        // SAFETY: `wasm` is as the contract above says.
        let wasm = unsafe { boundary::bytes(wasm, wasm_len, "wasm") }?;
        let policy = engine.cache.config().effective_policy();
        ward_vm::inspect(wasm, &policy)
            .map(drop)
            .map_err(|e| crate::module::rejected(&ward_vm::policy_failure(e)))?;
        crate::module::check_schema(wasm)
    });
    // SAFETY: `error` is NULL or writable, as the contract above says.
    unsafe { boundary::status(error, result) }
}

/// Whether the engine's helper threads run: `Ok`, or
/// [`WardStatus::Engine`] saying what does not (wasmtime's timeout thread,
/// without which a call's `timeout_ms` never fires; tier-up's compile
/// thread). Calls still run either way: a host reports it.
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `engine`: NULL, or a `WardEngine` this API returned and that is not freed;
/// - `error`: NULL, or a `WardError *` this may write (an error the caller then frees).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_engine_health(
    engine: *const WardEngine,
    error: *mut *mut WardError,
) -> WardStatus {
    let result = boundary::guarded(|| {
        // SAFETY: `engine` is as the contract above says.
        let engine = unsafe { boundary::borrow(engine, "engine") }?;
        engine
            .cache
            .backend()
            .health()
            .map_err(|why| WardError::new(WardStatus::Engine, "unhealthy", why))
    });
    // SAFETY: `error` is NULL or writable, as the contract above says.
    unsafe { boundary::status(error, result) }
}

/// The versions this library speaks, as `ward-capi VERSION; abi N;
/// schedule N` (a static string, never freed).
#[unsafe(no_mangle)]
pub extern "C" fn ward_version() -> *const c_char {
    static VERSION: std::sync::OnceLock<std::ffi::CString> = std::sync::OnceLock::new();
    VERSION
        .get_or_init(|| {
            boundary::text(&format!(
                "ward-capi {}; abi {}; schedule {}",
                env!("CARGO_PKG_VERSION"),
                ward_vm::ABI_VERSION,
                ward_vm::SCHEDULE_VERSION
            ))
        })
        .as_ptr()
}
