//! A counter: `init(start)`, `increment(by) -> u64`, `get() -> u64`, and
//! an `Incremented` event.

#![cfg_attr(target_arch = "wasm32", no_std)]

use ward_sdk::prelude::*;

const COUNT: Item<u64> = Item::new(b"count");

ward_sdk::contract! {
    /// Stores the starting count.
    init(start: u64) {
        COUNT.set(&start);
    }

    /// The count went up to `count`.
    pub event Incremented { count: u64 }

    /// Adds `by`, emits `Incremented` with the new count, and returns it.
    /// Overflow panics, which reverts the call.
    pub fn increment(by: u64) -> u64 {
        let count = COUNT.update(|c| c.unwrap_or(0) + by);
        emit(Incremented { count });
        count
    }

    /// The current count.
    #[read_only]
    pub fn get() -> u64 {
        COUNT.get().unwrap_or(0)
    }
}
