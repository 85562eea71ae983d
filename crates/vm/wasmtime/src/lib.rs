//! Ward's backend on wasmtime (Cranelift).
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
