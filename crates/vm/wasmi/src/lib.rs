//! Ward's backend on the wasmi interpreter.
//!
//! Gas is Ward's, not the engine's: a guest that never stops ends as
//! `out_of_gas` at exactly its limit, on this backend as on wasmtime.
//!
//! ```
//! use ward_vm::{CallContext, Config, Entry, Gas, Reply, RunOptions};
//! use ward_vm_wasmi::WasmiBackend;
//!
//! let config = Config::default();
//! let backend = WasmiBackend::new(&config)?;
//! // (module (func (export "main") (loop (br 0))))
//! let spin = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x07, 0x08, 0x01, 0x04, 0x6d, 0x61, 0x69, 0x6e, 0x00, 0x00, 0x0a, 0x09, 0x01, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b];
//! let module = ward_vm::compile(&backend, &config, &spin)?;
//! let limit = Gas::new(5_000);
//! let options = RunOptions { gas_limit: limit, ..RunOptions::default() };
//! let run = ward_vm::execute(&backend, &module, &Entry::Main("main".into()), options, CallContext::default(), &mut |_| Reply::Trap("no host".into()))?;
//! assert_eq!(run.outcome.status.as_str(), "out_of_gas");
//! assert_eq!(run.outcome.gas_used, limit);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The one crate that names wasmi. It adapts wasmi to [`ward_vm::Backend`]:
//! the `ward` host ABI is one linker built once per backend, and
//! [`ward_vm::CallContext`] lives in each store's data.
//!
//! **Suspension** uses wasmi's resumable calls: a host import that suspends
//! returns a host error carrying the request; wasmi hands back a
//! `ResumableCallHostTrap` holding the guest's whole execution state (wasmi
//! keeps guest frames on its own heap stack, never on the native one), and
//! [`ward_vm::Sandbox::resume`] feeds the reply's values in as the import's results.
//!
//! **Recycling**: a compiled module keeps a few finished instances of
//! itself (each in its own store), restored to the state of a new instance:
//! memory rewritten from the initial image (zero runs filled, data runs
//! copied), mutable globals reset by the instrumentation's
//! `__ward_reset`. [`ward_vm::Backend::sandbox_for`] hands one out instead of
//! instantiating; [`ward_vm::Sandbox::finish`] takes it back. Only recyclable modules
//! (no start function, no table or segment changes, one exported memory or
//! none), and only after calls that returned or exited: a failed call's
//! instance is dropped.
//!
//! **Timeouts** use fuel slices: when the backend is interruptible, fuel
//! metering is on, a call runs with a slice of fuel, and each time the slice
//! runs out the deadline is checked and the call resumed with another slice.
//! Fuel here only measures time; Ward's gas never depends on it.

mod convert;
mod engine;
mod guest;
mod linker;
mod recycle;
mod sandbox;
mod trap;

pub use engine::WasmiBackend;
