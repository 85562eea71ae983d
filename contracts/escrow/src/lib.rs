//! Escrow: holds token balances and releases them on conditions.
//!
//! A depositor approves this contract on a token, then calls `deposit`:
//! the escrow pulls the tokens with the token's `transfer_from` and records
//! a deal. The arbiter (or the depositor) `release`s it to the beneficiary;
//! the arbiter may `refund` it to the depositor at any time, and the
//! depositor may once the block time reaches the deal's `refund_after`.
//!
//! Calls between contracts: when the token refuses the `transfer_from`
//! (say, no allowance), its revert is *handled*: `deposit` returns `None`,
//! records nothing, and emits `DepositRefused` with the token's message;
//! the transaction itself succeeds, and the token's state is untouched.
//!
//! | method | arguments | result |
//! |---|---|---|
//! | `deposit` | `token, beneficiary, arbiter: Address, amount: u128, refund_after: u64` | `Option<u64>` (deal id) |
//! | `release` | `id: u64` | |
//! | `refund` | `id: u64` | |
//! | `deal` | `id: u64` | `Option<Deal>` |
//! | `held` | `token: Address` | `u128` (the escrow's balance, asked of the token read-only) |

#![cfg_attr(target_arch = "wasm32", no_std)]

use ward_sdk::prelude::*;

ward_sdk::record! {
    /// A deposit held until it is released or refunded.
    pub struct Deal {
        /// Who deposited (and gets a refund).
        pub depositor: Address,
        /// Who gets a release.
        pub beneficiary: Address,
        /// Who decides.
        pub arbiter: Address,
        /// The token contract.
        pub token: Address,
        /// How much.
        pub amount: u128,
        /// From this block time on, the depositor may take a refund.
        pub refund_after: u64,
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

/// Pays out of the escrow's own balance; a refusal by the token reverts
/// this call too (so the deal is kept).
fn pay(token: Address, to: Address, amount: u128) {
    let result = Call::new(token, "transfer").arg(&to).arg(&amount).invoke();
    let () = result.value();
}

ward_sdk::contract! {
    /// The token refused to move `depositor`'s deposit, saying `message`.
    pub event DepositRefused { depositor: Address, message: String }

    /// Deal `id` holds `amount` from `depositor` for `beneficiary`.
    pub event Deposited { id: u64, depositor: Address, beneficiary: Address, amount: u128 }

    /// Deal `id` paid `amount` to its beneficiary `to`.
    pub event Released { id: u64, to: Address, amount: u128 }

    /// Deal `id` paid `amount` back to its depositor `to`.
    pub event Refunded { id: u64, to: Address, amount: u128 }

    /// Pulls `amount` of `token` from the caller and holds it. Returns the
    /// deal's id, or `None` (and emits `DepositRefused`) when the token
    /// refuses.
    pub fn deposit(
        token: Address,
        beneficiary: Address,
        arbiter: Address,
        amount: u128,
        refund_after: u64,
    ) -> Option<u64> {
        require!(amount > 0, "nothing to deposit");
        let depositor = caller();
        let pulled = Call::new(token, "transfer_from")
            .arg(&depositor)
            .arg(&self_address())
            .arg(&amount)
            .invoke();
        if !pulled.is_ok() {
            emit(DepositRefused { depositor, message: pulled.message() });
            return None;
        }
        let id = NEXT_ID.get().unwrap_or(0);
        NEXT_ID.set(&(id + 1));
        let deal = Deal { depositor, beneficiary, arbiter, token, amount, refund_after };
        DEALS.set(&id, &deal);
        emit(Deposited { id, depositor, beneficiary, amount });
        Some(id)
    }

    /// Pays deal `id` to its beneficiary. Only the arbiter or the depositor.
    pub fn release(id: u64) {
        let deal = take_deal(id);
        let who = caller();
        require!(who == deal.arbiter || who == deal.depositor, "only the arbiter or the depositor may release");
        pay(deal.token, deal.beneficiary, deal.amount);
        emit(Released { id, to: deal.beneficiary, amount: deal.amount });
    }

    /// Pays deal `id` back to its depositor: the arbiter at any time, the
    /// depositor once the block time reaches `refund_after`.
    pub fn refund(id: u64) {
        let deal = take_deal(id);
        let who = caller();
        let allowed = who == deal.arbiter
            || (who == deal.depositor && block_time() >= deal.refund_after);
        require!(allowed, "refund not allowed yet (block time {} < {})", block_time(), deal.refund_after);
        pay(deal.token, deal.depositor, deal.amount);
        emit(Refunded { id, to: deal.depositor, amount: deal.amount });
    }

    /// Deal `id`, while it is held.
    #[read_only]
    pub fn deal(id: u64) -> Option<Deal> {
        DEALS.get(&id)
    }

    /// What the escrow holds of `token` (a read-only call to the token).
    #[read_only]
    pub fn held(token: Address) -> u128 {
        Call::new(token, "balance_of").arg(&self_address()).read_only().invoke().value()
    }
}
