//! The one wall-clock read in Ward's engine crates.
//!
//! Time never decides gas, output or state: it only drives the timeout
//! backstop, whose outcome (`timeout`) is a node-local safety net, not a
//! consensus result. Every clock read goes through here so that the
//! determinism lint (`clippy.toml`) can forbid all others.

use std::time::{Duration, Instant};

/// Now, for deadlines.
#[allow(
    clippy::disallowed_methods,
    reason = "the timeout backstop's single clock read"
)]
pub fn now() -> Instant {
    Instant::now()
}

/// Time left until `deadline` (zero once it has passed).
pub fn left(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(now())
}

/// Whether `deadline` has passed.
pub fn passed(deadline: Instant) -> bool {
    now() >= deadline
}
