//! Ward's engine boundary.
//!
//! This crate is what every layer above the engines talks to. It defines:
//!
//! - the [`Backend`] and [`Sandbox`] traits, implemented by `ward-vm-wasmtime`
//!   and `ward-vm-wasmi` (no engine type crosses this boundary);
//! - run-until-suspend execution: a call ends in a [`Step`], and a
//!   [`Step::Suspended`] call is continued with [`Sandbox::resume`], so
//!   guest-to-guest calls never recurse on the native stack;
//! - the host ABI, implemented once in [`CallContext::call_abi`] against a
//!   plain byte slice of guest memory, and the path to it from a backend's
//!   trampolines ([`guest`]);
//! - typed outcomes ([`Outcome`], [`Status`], [`ErrorKind`]) that are the same
//!   on every backend, and the entry-point rules ([`execute`]).
//!
//! The main design choice is that suspension is the only way the host gets
//! control mid-call: a host function either answers at once or suspends the
//! guest and returns to the embedder's loop. No host function ever calls back
//! into a guest, so re-entrancy cannot grow or reset a native stack.
//!
//! ```
//! use ward_vm::{compile, execute, CallContext, Config, Entry, Reply, RunOptions, Status};
//!
//! let config = Config::default();
//! let backend = ward_vm_wasmi::WasmiBackend::new(&config)?;
//! let wasm = wat::parse_str(r#"(module
//!     (import "ward" "output_write" (func $out (param i32 i32)))
//!     (memory (export "memory") 1)
//!     (data (i32.const 0) "hi")
//!     (func (export "main") (call $out (i32.const 0) (i32.const 2))))"#)?;
//! let module = compile(&backend, &config, &wasm)?;
//! let mut no_requests = |_| Reply::Trap("nothing to serve".into());
//! let run = execute(&backend, &module, &Entry::Main("main".into()),
//!                   RunOptions::default(), CallContext::default(), &mut no_requests)?;
//! assert_eq!(run.outcome.status, Status::Ok);
//! assert_eq!(run.outcome.output, b"hi");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod backend;
mod bn254;
mod budget;
mod cache;
mod cancel;
mod children;
pub mod clock;
mod config;
mod context;
mod crypto;
mod disk;
mod fault;
pub mod guest;
mod meter;
mod outcome;
mod profile;
pub mod recycle;
mod run;
mod system;
mod tier;
mod value;

pub use backend::{
    Backend, BackendKind, CallMode, EngineModule, Extern, ExternKind, InstanceId, Link, Module,
    Reply, Request, Sandbox, SandboxError, Step, meter_export_by_name,
};
pub use budget::{
    DEFAULT_TX_INSTANCES, DEFAULT_TX_MEMORY_BYTES, InstanceBudget, InstanceSlot, MemoryBudget,
    MemoryCharge,
};
pub use cache::{CacheKey, CacheOptions, CacheStats, CodeHash, ModuleCache};
pub use cancel::{Cancel, interrupted};
pub use children::{
    ChildCall, ChildError, ChildEvent, ChildLimits, ChildLog, ChildStep, Children,
    MAX_SYSCALL_PARAMS, SYSCALL_MODULE, child_config,
};
pub use config::{
    Config, CostSchedule, Features, FloatPolicy, HostImport, ImportPolicy, Limits, LoopCharging,
    Metering, Policy, Resolved, is_chain_request,
};
pub use context::{
    CallContext, Chain, GuestMemory, Host, HostAnswer, HostStop, MAX_DEBUG_LOG_BYTES, NoChain,
    NoHost,
};
pub use fault::{ChainError, FaultKind, NodeFault};
pub use meter::{MAX_GAS, Meter, gas_global_value};
pub use outcome::{ErrorKind, Failure, Outcome, Status};
pub use profile::{ProfileLabel, ProfileLog, ProfileNode, Profiler, lock_profile};
pub use run::{
    Entry, EntryShape, Execution, Progress, RunOptions, Running, begin, compile, execute,
    instantiate_metered, policy_failure,
};
pub use system::{MAX_POOLED, SystemRuntimes};
pub use tier::{TierStats, TieredBackend};
pub use value::{ExportType, ExternType, FuncType, ImportType, ValType, Value};
pub use ward_abi::ABI_VERSION;
pub use ward_instrument::{
    Inspection, InstanceShape, LimitUse, PROFILE_MODULE, SCHEDULE_VERSION, inspect,
};
pub use ward_primitives::Gas;
