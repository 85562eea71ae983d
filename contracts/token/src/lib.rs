//! A fungible token.
//!
//! The deployer is the owner, the only account that may `mint`. Balances
//! and allowances are `u128`. Every change of balance emits `Transfer`
//! with `from`, `to` and `amount` (a mint comes from the zero address);
//! every `approve` emits `Approval` with `owner`, `spender` and `amount`.
//!
//! | method | arguments | result |
//! |---|---|---|
//! | `init` (deploy) | `initial_supply: u128` | minted to the deployer |
//! | `mint` | `to: Address, amount: u128` | (owner only) |
//! | `transfer` | `to: Address, amount: u128` | |
//! | `approve` | `spender: Address, amount: u128` | |
//! | `transfer_from` | `from: Address, to: Address, amount: u128` | (spends the allowance) |
//! | `balance_of` | `who: Address` | `u128` |
//! | `allowance` | `owner: Address, spender: Address` | `u128` |
//! | `total_supply` | | `u128` |
//! | `owner` | | `Address` |

#![cfg_attr(target_arch = "wasm32", no_std)]

use ward_sdk::prelude::*;

const OWNER: Item<Address> = Item::new(b"owner");
const SUPPLY: Item<u128> = Item::new(b"supply");
const BALANCES: Map<Address, u128> = Map::new(b"b:");
const ALLOWANCES: Map<(Address, Address), u128> = Map::new(b"a:");

/// Moves `amount` from `from` to `to`, or reverts.
fn move_tokens(from: Address, to: Address, amount: u128) {
    let balance = BALANCES.get(&from).unwrap_or(0);
    require!(
        balance >= amount,
        "insufficient balance: {balance} < {amount}"
    );
    BALANCES.set(&from, &(balance - amount));
    BALANCES.update(&to, |b| b.unwrap_or(0) + amount);
    emit(Transfer { from, to, amount });
}

fn mint_to(to: Address, amount: u128) {
    SUPPLY.update(|s| s.unwrap_or(0) + amount);
    BALANCES.update(&to, |b| b.unwrap_or(0) + amount);
    emit(Transfer {
        from: Address::default(),
        to,
        amount,
    });
}

ward_sdk::contract! {
    /// `amount` moved from `from` to `to` (from the zero address: minted).
    pub event Transfer { from: Address, to: Address, amount: u128 }

    /// `owner` let `spender` move up to `amount` of its tokens.
    pub event Approval { owner: Address, spender: Address, amount: u128 }

    /// Makes the deployer the owner and mints `initial_supply` to it.
    init(initial_supply: u128) {
        let owner = caller();
        OWNER.set(&owner);
        SUPPLY.set(&0);
        mint_to(owner, initial_supply);
    }

    /// Creates `amount` new tokens for `to`. Only the owner may mint.
    pub fn mint(to: Address, amount: u128) {
        require!(Some(caller()) == OWNER.get(), "only the owner may mint");
        mint_to(to, amount);
    }

    /// Sends `amount` of the caller's tokens to `to`.
    pub fn transfer(to: Address, amount: u128) {
        move_tokens(caller(), to, amount);
    }

    /// Lets `spender` move up to `amount` of the caller's tokens (replacing
    /// any earlier allowance).
    pub fn approve(spender: Address, amount: u128) {
        let owner = caller();
        ALLOWANCES.set(&(owner, spender), &amount);
        emit(Approval { owner, spender, amount });
    }

    /// Moves `amount` from `from` to `to` on the caller's allowance.
    pub fn transfer_from(from: Address, to: Address, amount: u128) {
        let key = (from, caller());
        let allowed = ALLOWANCES.get(&key).unwrap_or(0);
        require!(
            allowed >= amount,
            "insufficient allowance: {allowed} < {amount}"
        );
        ALLOWANCES.set(&key, &(allowed - amount));
        move_tokens(from, to, amount);
    }

    /// `who`'s balance.
    #[read_only]
    pub fn balance_of(who: Address) -> u128 {
        BALANCES.get(&who).unwrap_or(0)
    }

    /// How much `spender` may still move of `owner`'s tokens.
    #[read_only]
    pub fn allowance(owner: Address, spender: Address) -> u128 {
        ALLOWANCES.get(&(owner, spender)).unwrap_or(0)
    }

    /// All tokens in existence.
    #[read_only]
    pub fn total_supply() -> u128 {
        SUPPLY.get().unwrap_or(0)
    }

    /// The account that may mint.
    #[read_only]
    pub fn owner() -> Address {
        OWNER.get().unwrap_or_default()
    }
}
