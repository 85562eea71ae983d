//! Ward's state on disk: crashes, damage, and what reads may do.

#![allow(clippy::unwrap_used, reason = "test")]

mod crash;
mod damage;
