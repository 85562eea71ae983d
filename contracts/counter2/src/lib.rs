//! The counter's second version, deployed over the first by an upgrade
//! (`docs/contracts.md`, "Upgrades"): `increment()` adds a step chosen at
//! migration, `get()` is unchanged, `step()` is new. Its `migrate(step,
//! scale)` keeps the first version's `count` and multiplies it by
//! `scale`; a step of 0 is refused, which undoes the whole upgrade.

#![cfg_attr(target_arch = "wasm32", no_std)]

use ward_sdk::prelude::*;

/// The first version's key: the state an upgrade keeps.
const COUNT: Item<u64> = Item::new(b"count");
const STEP: Item<u64> = Item::new(b"step");

ward_sdk::contract! {
    /// A fresh deploy of this version starts at `start`, in steps of 1.
    init(start: u64) {
        COUNT.set(&start);
        STEP.set(&1);
    }

    /// Run by the upgrade from the first version: the count so far, times
    /// `scale`, in steps of `step` from now on.
    migrate(step: u64, scale: u64) {
        require!(step > 0, "a step of 0 would never count");
        let count = COUNT.get().unwrap_or(0);
        COUNT.set(&(count * scale));
        STEP.set(&step);
    }

    /// The count went up to `count`.
    pub event Incremented { count: u64 }

    /// Adds one step, emits `Incremented` with the new count, and returns it.
    pub fn increment() -> u64 {
        let step = STEP.get().unwrap_or(1);
        let count = COUNT.update(|c| c.unwrap_or(0) + step);
        emit(Incremented { count });
        count
    }

    /// The current count.
    #[read_only]
    pub fn get() -> u64 {
        COUNT.get().unwrap_or(0)
    }

    /// How much `increment` adds.
    #[read_only]
    pub fn step() -> u64 {
        STEP.get().unwrap_or(1)
    }
}
