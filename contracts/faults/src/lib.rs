//! A contract that fails on purpose, for the debugging tools
//! (`docs/debugging.md`): built with debug info (`contracts/build.sh`
//! builds it in the `debug-info` profile too), its traces show each
//! failure's backtrace with function names and source lines.
//!
//! | method | arguments | result |
//! |---|---|---|
//! | `share` | `total: u64, parts: u64` | `total / parts`; panics in a helper when `parts` is 0 |
//! | `pick` | `index: u32` | the `index`th of three stored numbers; panics out of bounds |
//! | `spin` | `rounds: u64` | hashes `rounds` times: out of gas for a large `rounds` |

#![cfg_attr(target_arch = "wasm32", no_std)]

use ward_sdk::Hash32;

const PICKS: [u64; 3] = [7, 11, 13];

/// `total` split into `parts`: panics when there are none.
#[inline(never)]
fn split_evenly(total: u64, parts: u64) -> u64 {
    if parts == 0 {
        panic!("cannot split {total} into zero parts");
    }
    total / parts
}

/// The `index`th pick (an index past the end panics).
#[inline(never)]
fn pick_at(index: u32) -> u64 {
    PICKS[index as usize]
}

ward_sdk::contract! {
    /// `total` split evenly into `parts`.
    pub fn share(total: u64, parts: u64) -> u64 {
        split_evenly(total, parts)
    }

    /// The `index`th of three numbers.
    #[read_only]
    pub fn pick(index: u32) -> u64 {
        pick_at(index)
    }

    /// BLAKE3 of 32 zero bytes, hashed again `rounds` times.
    #[read_only]
    pub fn spin(rounds: u64) -> Hash32 {
        let mut digest = [0; 32];
        for _ in 0..rounds {
            digest = ward_sdk::crypto::blake3(&digest);
        }
        Hash32(digest)
    }
}
