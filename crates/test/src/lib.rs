//! Test Ward contracts in a plain `cargo test`.
//!
//! A [`Chain`] is Ward's real executor and VM in the test's process, on
//! both backends at once by default: every transaction runs on wasmtime
//! and on wasmi, and the two must agree on every receipt (status, output,
//! gas, events) and on the state root after every block, or the test
//! fails and says where they differ. A contract comes from the crate
//! under test, built for wasm32 on first use and cached
//! ([`this_crate!`]), or from any module ([`Wasm`]). Without the
//! default `wasmtime` feature (`default-features = false`, what `ward
//! new` writes, so that a new crate's first `cargo test` builds no
//! Cranelift), the chain runs on wasmi alone ([`BACKENDS`]);
//! `cargo test --features ward-test/wasmtime` runs both in lockstep.
//!
//! ```no_run
//! use ward_test::{Chain, account};
//!
//! let mut chain = Chain::new();
//! let alice = account("alice");
//! let counter = chain.deploy(alice, &ward_test::this_crate!(), &5u64);
//! let bumped = chain.call(alice, &counter, "increment", &(2u64,));
//! assert_eq!(bumped.decode::<u64>(), 7);
//! assert_eq!(chain.query::<u64>(&counter, "get", &()), 7);
//! ```
//!
//! Calls take typed arguments (any [`Encode`], a tuple for several) or
//! JSON through the contract's schema ([`Chain::call_json`]); results
//! come back typed ([`Outcome::decode`], [`Outcome::events`]) or as JSON.
//! Any address can send ([`account`] names one). The chain's clock, its
//! height, balances and storage are the test's to set, and
//! [`Chain::snapshot`] / [`Chain::restore`] go back to an earlier state.
//! A call that fails where the test expected success panics with the
//! decoded revert message and the transaction's trace, backtrace
//! included. Contracts of the Solidity ABI are called by function with
//! ABI-encoded arguments ([`Chain::call_sol`], [`Chain::query_sol`],
//! [`mod@sol`]).

mod chain;
mod outcome;
mod render;
pub mod sol;
mod wasm;

pub use chain::{
    BACKENDS, BLOCK_TIME, CALL_GAS, Chain, Contract, DEPLOY_GAS, START_TIME, Snapshot, TxBuilder,
};
pub use outcome::Outcome;
pub use wasm::Wasm;

pub use serde_json::{self, Value, json};
pub use ward_build::Options as BuildOptions;
pub use ward_primitives::Address;
pub use ward_sdk::{
    codec::{Decode, Encode},
    event::Event,
};
pub use ward_state::Receipt;
pub use ward_vm::BackendKind;

/// The address `ward-test` gives the account named `name`: the same in
/// every test and every run (BLAKE3 of the name, in its own domain).
pub fn account(name: &str) -> Address {
    let mut hasher = blake3::Hasher::new_derive_key("ward-test account");
    hasher.update(name.as_bytes());
    Address(*hasher.finalize().as_bytes())
}

/// The module of the crate this test belongs to, built for wasm32 with
/// the `release` profile the first time a test of this process asks
/// (cargo's own check makes that quick when nothing changed). Panics with
/// the build's error when it cannot be built.
#[macro_export]
macro_rules! this_crate {
    () => {
        $crate::Wasm::build(::std::path::Path::new(::core::env!("CARGO_MANIFEST_DIR")))
    };
}
