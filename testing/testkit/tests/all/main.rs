//! Ward's engine behaviour on both backends, in one test binary:
//! `engine` (outcomes, the ABI, limits, suspension, hostile bytes) and
//! `metering` (gas, call depth, NaNs, policy, hostile modules).

#![allow(clippy::unwrap_used, reason = "test helpers")]

mod cache;
mod cancel;
mod chain;
mod children;
mod differential;
mod docs;
mod engine;
mod loops;
mod metering;
mod profile;
mod shape;
mod suspend;
mod syscalls;
mod system;
mod testdata;
mod wasi;
