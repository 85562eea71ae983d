//! An ERC-20 (EIP-20) in Rust with the Solidity ABI.
//!
//! Exactly ERC-20's interface and events, as `contracts/evm/solidity/Token.sol`
//! has them, so that ethers, viem, web3.py, wallets and Solidity code
//! (`IERC20(token).transfer(to, amount)`) call it as any ERC-20: the whole
//! supply minted to the deployer, `transfer`, `approve` and
//! `transferFrom` (an allowance of `type(uint256).max` is never spent),
//! `Transfer` and `Approval` logs with indexed addresses, and the
//! Solidity token's revert reasons (`Error("insufficient balance")`,
//! `Error("insufficient allowance")`; an overflow is `Panic(0x11)`).
//!
//! Accounts are 20-byte addresses: the caller is its address's last 20
//! bytes, as the EVM's `msg.sender` is (docs/evm.md).

#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::string::String;

use ward_sdk::{
    prelude::*,
    sol::{self, U256},
};

const SUPPLY: Item<U256> = Item::new(b"supply");
const BALANCES: Map<Address, U256> = Map::new(b"b:");
const ALLOWANCES: Map<(Address, Address), U256> = Map::new(b"a:");

/// The caller as Solidity sees it: its last 20 bytes.
fn sender() -> Address {
    caller().eth_form()
}

/// Moves `value` from `from` to `to`, or reverts as the Solidity token.
fn move_tokens(from: Address, to: Address, value: U256) {
    let balance = BALANCES.get(&from).unwrap_or_default();
    let Some(rest) = balance.checked_sub(value) else {
        sol::revert("insufficient balance")
    };
    BALANCES.set(&from, &rest);
    let credited = BALANCES.get(&to).unwrap_or_default().checked_add(value);
    BALANCES.set(&to, &credited.unwrap_or_else(|| sol::panic_with(0x11)));
    sol::emit(Transfer { from, to, value });
}

ward_sdk::contract! {
    abi: solidity;

    /// Mints the whole `supply` to the deployer.
    init(supply: U256) {
        let owner = sender();
        SUPPLY.set(&supply);
        BALANCES.set(&owner, &supply);
        sol::emit(Transfer { from: Address::default(), to: owner, value: supply });
    }

    /// `value` moved from `from` to `to` (from the zero address: minted).
    pub event Transfer { #[indexed] from: Address, #[indexed] to: Address, value: U256 }

    /// `owner` let `spender` move up to `value` of its tokens.
    pub event Approval { #[indexed] owner: Address, #[indexed] spender: Address, value: U256 }

    /// The token's name.
    #[view]
    pub fn name() -> String {
        String::from("Ward Rust Token")
    }

    /// Its symbol.
    #[view]
    pub fn symbol() -> String {
        String::from("WRT")
    }

    /// Its decimals.
    #[view]
    pub fn decimals() -> u8 {
        18
    }

    /// All tokens there are.
    #[view]
    pub fn total_supply() -> U256 {
        SUPPLY.get().unwrap_or_default()
    }

    /// What `owner` holds.
    #[view]
    pub fn balance_of(owner: Address) -> U256 {
        BALANCES.get(&owner).unwrap_or_default()
    }

    /// What `spender` may still move of `owner`'s tokens.
    #[view]
    pub fn allowance(owner: Address, spender: Address) -> U256 {
        ALLOWANCES.get(&(owner, spender)).unwrap_or_default()
    }

    /// Sends `value` of the caller's tokens to `to`.
    pub fn transfer(to: Address, value: U256) -> bool {
        move_tokens(sender(), to, value);
        true
    }

    /// Lets `spender` move up to `value` of the caller's tokens.
    pub fn approve(spender: Address, value: U256) -> bool {
        let owner = sender();
        ALLOWANCES.set(&(owner, spender), &value);
        sol::emit(Approval { owner, spender, value });
        true
    }

    /// Moves `value` of `from`'s tokens to `to`, spending the caller's
    /// allowance (unless it is unlimited).
    pub fn transfer_from(from: Address, to: Address, value: U256) -> bool {
        let spender = sender();
        let allowed = ALLOWANCES.get(&(from, spender)).unwrap_or_default();
        let Some(rest) = allowed.checked_sub(value) else {
            sol::revert("insufficient allowance")
        };
        if allowed != U256::MAX {
            ALLOWANCES.set(&(from, spender), &rest);
        }
        move_tokens(from, to, value);
        true
    }
}
