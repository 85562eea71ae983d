//! Ward's backend on wasmtime (Cranelift).
//!
//! ```
//! use ward_vm::{CallContext, Config, Entry, Gas, Reply, RunOptions};
//! use ward_vm_wasmtime::WasmtimeBackend;
//!
//! let config = Config::default();
//! let backend = WasmtimeBackend::new(&config)?;
//! // (module (memory (export "memory") 1) (func (export "main")))
//! let wasm = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x11, 0x02, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x04, 0x6d, 0x61, 0x69, 0x6e, 0x00, 0x00, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b];
//! // Ward's policy and gas instrumentation first, then the engine.
//! let module = ward_vm::compile(&backend, &config, &wasm)?;
//! let options = RunOptions { gas_limit: Gas::new(10_000), ..RunOptions::default() };
//! let mut no_host = |_| Reply::Trap("no host functions here".into());
//! let run = ward_vm::execute(&backend, &module, &Entry::Main("main".into()), options, CallContext::default(), &mut no_host)?;
//! assert_eq!(run.outcome.status.as_str(), "ok");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The one crate that names wasmtime. It adapts wasmtime to
//! [`ward_vm::Backend`]: modules compile with Cranelift, the `ward` host ABI
//! is one linker built once per backend, and [`ward_vm::CallContext`] lives
//! in each store's data.
//!
//! **Suspension** uses wasmtime's async support: a host import that suspends
//! is an async host function whose future returns `Pending` once; the call's
//! outer future, polled by this crate with a no-op waker, then returns
//! `Pending` too, with the guest parked on its own fiber stack. Nothing of
//! the embedder's stack is held. [`ward_vm::Sandbox::resume`] stores the reply and
//! polls again, and the guest continues exactly where it stopped. A store
//! whose modules import nothing that can suspend is never put on a fiber: it
//! runs through wasmtime's synchronous, faster entry points.
//!
//! **Timeouts** use epoch interruption: a ticker thread, started on first
//! use, advances the engine's epoch every millisecond, and each store traps
//! once its deadline epoch passes.

mod convert;
mod engine;
mod guest;
mod linker;
mod recycle;
mod sandbox;
mod trap;

pub use engine::WasmtimeBackend;
