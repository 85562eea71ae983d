//! The executor's integration tests: one binary (see STYLE.md).

mod contracts;
mod executor;
mod faults;
mod parallel;
mod signed;
mod tier;
mod wasi;
