//! {{name}}: a Ward contract with the Solidity ABI, which Solidity code,
//! ethers, viem and web3.py call as one of their own (docs/contracts.md,
//! "The Solidity ABI"). `constructor(greeting)` stores a greeting;
//! `greet(name)` answers with it, counts the visit and logs `Greeted`;
//! `visits()` reads the count without changing anything.

#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::format;
use ward_sdk::{prelude::*, sol, sol_require};

const GREETING: Item<String> = Item::new(b"greeting");
const VISITS: Item<u64> = Item::new(b"visits");

ward_sdk::contract! {
    abi: solidity;

    /// Stores the greeting every answer starts with.
    init(greeting: String) {
        sol_require!(!greeting.is_empty(), "the greeting is empty");
        GREETING.set(&greeting);
    }

    /// `who` greeted `name`; the visit was the `visit`th.
    pub event Greeted { #[indexed] who: Address, name: String, visit: u64 }

    /// Answers `name` with the greeting, and counts the visit.
    pub fn greet(name: String) -> String {
        sol_require!(name.len() <= 64, "a name is at most 64 bytes");
        let visit = VISITS.update(|v| v.unwrap_or(0) + 1);
        sol::emit(Greeted { who: caller().eth_form(), name: name.clone(), visit });
        format!("{}, {name}!", GREETING.get().unwrap_or_default())
    }

    /// How many times `greet` was called.
    #[view]
    pub fn visits() -> u64 {
        VISITS.get().unwrap_or(0)
    }
}
