//! An escrow of the chain's native asset (`docs/economics.md`).
//!
//! `deposit` is `#[payable]`: the value sent with the call is held for a
//! beneficiary, and the arbiter (or the depositor, to the beneficiary)
//! `release`s it, or the arbiter `refund`s it to the depositor. Every
//! other method refuses a call with value (exit code 104, as Solidity
//! refuses one to a method that is not payable). The vault's balance is
//! always the sum of its open deals.
//!
//! | method | arguments | result |
//! |---|---|---|
//! | `deposit` (payable) | `beneficiary, arbiter: Address` | `u64` (deal id) |
//! | `release` | `id: u64` | |
//! | `refund` | `id: u64` | |
//! | `deal` (read-only) | `id: u64` | `Option<Deal>` |
//! | `held` (read-only) | | `u128` (the vault's balance) |

#![cfg_attr(target_arch = "wasm32", no_std)]

use ward_sdk::prelude::*;

ward_sdk::record! {
    /// Native asset held until it is released or refunded.
    pub struct Deal {
        /// Who deposited (and gets a refund).
        pub depositor: Address,
        /// Who gets a release.
        pub beneficiary: Address,
        /// Who decides.
        pub arbiter: Address,
        /// How much, in the asset's smallest unit.
        pub amount: u128,
    }
}

const NEXT_ID: Item<u64> = Item::new(b"next");
const DEALS: Map<u64, Deal> = Map::new(b"d:");

fn take_deal(id: u64) -> Deal {
    let Some(deal) = DEALS.get(&id) else {
        revert(2, "no such deal")
    };
    DEALS.remove(&id);
    deal
}

/// Pays out of the vault's own balance, which always covers its deals.
fn pay(to: Address, amount: u128) {
    require!(
        transfer(&to, amount).is_ok(),
        "the vault holds less than its deals"
    );
}

ward_sdk::contract! {
    /// Deal `id` holds `amount` from `depositor` for `beneficiary`.
    pub event Deposited { id: u64, depositor: Address, beneficiary: Address, amount: u128 }

    /// Deal `id` paid `amount` to its beneficiary `to`.
    pub event Released { id: u64, to: Address, amount: u128 }

    /// Deal `id` paid `amount` back to its depositor `to`.
    pub event Refunded { id: u64, to: Address, amount: u128 }

    /// Holds the value sent with the call for `beneficiary`, until
    /// `arbiter` decides. Returns the deal's id.
    #[payable]
    pub fn deposit(beneficiary: Address, arbiter: Address) -> u64 {
        let amount = value();
        require!(amount > 0, "a deposit sends value");
        let id = NEXT_ID.get().unwrap_or(0);
        NEXT_ID.set(&(id + 1));
        let depositor = caller();
        DEALS.set(&id, &Deal { depositor, beneficiary, arbiter, amount });
        emit(Deposited { id, depositor, beneficiary, amount });
        id
    }

    /// Pays deal `id` to its beneficiary: its arbiter or its depositor may.
    pub fn release(id: u64) {
        let deal = take_deal(id);
        let who = caller();
        require!(who == deal.arbiter || who == deal.depositor, "only the arbiter or the depositor releases");
        pay(deal.beneficiary, deal.amount);
        emit(Released { id, to: deal.beneficiary, amount: deal.amount });
    }

    /// Pays deal `id` back to its depositor: only its arbiter may.
    pub fn refund(id: u64) {
        let deal = take_deal(id);
        require!(caller() == deal.arbiter, "only the arbiter refunds");
        pay(deal.depositor, deal.amount);
        emit(Refunded { id, to: deal.depositor, amount: deal.amount });
    }

    /// Deal `id`, if it is open.
    #[read_only]
    pub fn deal(id: u64) -> Option<Deal> {
        DEALS.get(&id)
    }

    /// What the vault holds: the sum of its open deals.
    #[read_only]
    pub fn held() -> u128 {
        balance(&self_address())
    }
}
