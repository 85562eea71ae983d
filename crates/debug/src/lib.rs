//! Ward's diagnostics: what a Wasm module says about its own code, and gas
//! profiles drawn as flame graphs (`docs/debugging.md`).
//!
//! [`Symbols`] reads a module's function names (its `name` section) and,
//! when it was built with debug info, the source line of any instruction
//! (its DWARF, through `addr2line`), inlined functions included. [`Flame`]
//! is a tree of gas by call path, written as folded stacks and drawn as an
//! SVG flame graph by `inferno`.
//!
//! ```
//! use ward_debug::{Flame, Symbols};
//!
//! let wasm = wat::parse_str(r#"(module (func $transfer) (func $check))"#).unwrap();
//! let symbols = Symbols::new(&wasm);
//! assert_eq!(symbols.function_name(0), Some("transfer"));
//!
//! let mut flame = Flame::new("tx");
//! let transfer = flame.child(Flame::ROOT, symbols.describe(0));
//! flame.add(transfer, 700);
//! let check = flame.child(transfer, symbols.describe(1));
//! flame.add(check, 300);
//! assert_eq!(flame.folded(), "tx;transfer 700\ntx;transfer;check 300\n");
//! assert_eq!(flame.top()[0].name, "transfer");
//! assert_eq!(flame.top()[0].total_gas, 1_000);
//! ```
//!
//! Nothing here runs in consensus: the profiles come from Ward's profiling
//! hooks (`ward_vm::Profiler`), which charge nothing, and a module's names
//! and debug info never change what it does or what it costs beyond its
//! size. Every reader is total: a damaged section gives fewer names, never
//! an error.

mod flame;
mod symbols;

#[cfg(feature = "svg")]
pub use flame::svg;
pub use flame::{Flame, FlameNode, FunctionGas};
pub use symbols::{SourceFrame, Symbols};
