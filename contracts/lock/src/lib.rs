//! A reentrancy lock in transient storage (`ward_sdk::transient`, the
//! model of EIP-1153's locks): `guarded(target, method)` calls `method` of
//! `target` while it holds the lock, and a call back into `guarded` during
//! it is refused. The lock lives for the transaction: nothing is stored,
//! and the next transaction finds it free however the last one ended.
//!
//! | method | arguments | result |
//! |---|---|---|
//! | `guarded` | `target: Address, method: String` | `Option<bool>` (what the callee returned, `None` if it failed) |
//! | `reenter` | | `bool` (whether a guarded call back into this contract succeeded) |
//! | `locked` (read-only) | | `bool` |

#![cfg_attr(target_arch = "wasm32", no_std)]

use ward_sdk::{call::Call, prelude::*, transient};

const LOCK: &[u8] = b"lock";

ward_sdk::contract! {
    /// Calls `method` of `target`, with no arguments and a `bool` result,
    /// holding the lock; reverts when the lock is already held (a reentry).
    pub fn guarded(target: Address, method: String) -> Option<bool> {
        require!(transient::read(LOCK).is_none(), "reentered");
        transient::write(LOCK, &[1]);
        let answer = Call::new(target, &method).invoke().decode::<bool>().ok();
        transient::remove(LOCK);
        answer
    }

    /// Calls `guarded` of this contract, which is refused when the lock is
    /// held by a `guarded` that called this.
    pub fn reenter() -> bool {
        let me = self_address();
        Call::new(me, "guarded")
            .arg(&me)
            .arg(&String::from("locked"))
            .invoke()
            .is_ok()
    }

    /// Whether a `guarded` call of this transaction holds the lock.
    #[read_only]
    pub fn locked() -> bool {
        transient::read(LOCK).is_some()
    }
}
