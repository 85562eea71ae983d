//! The executor's integration tests: one binary (see STYLE.md).

mod children;
mod contracts;
mod create;
mod evm;
mod evm_rate;
mod executor;
mod faults;
mod fees;
mod guide;
mod instances;
mod parallel;
mod runtimes;
mod signed;
mod tier;
mod trace;
mod value;
mod wasi;
