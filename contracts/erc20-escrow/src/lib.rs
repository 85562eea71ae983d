//! An escrow over any ERC-20, in Rust with the Solidity ABI:
//! `contracts/evm/solidity/Escrow.sol`'s interface, events and reasons,
//! calling its token (a Solidity one, or the Rust `contracts/erc20`) as
//! Solidity does, `IERC20(token).transferFrom(...)`, through
//! [`ward_sdk::sol::call`].
//!
//! A buyer opens a deal by moving tokens in (`transferFrom`, after an
//! approval), then releases them to the seller, or the seller refunds
//! them. Over a wrapped native asset (WETH9's `deposit`), a buyer can
//! instead send the native asset with `open_wrapped`, which the escrow
//! wraps: a call of a Solidity function with value. A token call that reverts reverts the escrow with the token's
//! revert data (its reason reaches the sender, as Solidity's external
//! calls pass it on); `held` reads the token with a read-only call
//! (`STATICCALL`).

#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use ward_sdk::{
    prelude::*,
    sol::{self, U256},
};

const TOKEN: Item<Address> = Item::new(b"token");
const DEALS: Item<U256> = Item::new(b"deals");
/// A deal: buyer, seller, amount, whether it is open.
const DEAL: Map<U256, (Address, Address, U256, bool)> = Map::new(b"d:");

/// The caller as Solidity sees it: its last 20 bytes.
fn sender() -> Address {
    caller().eth_form()
}

/// This contract as Solidity sees it.
fn me() -> Address {
    self_address().eth_form()
}

/// The token it holds.
fn its_token() -> Address {
    TOKEN.get().unwrap_or_default()
}

/// Closes open deal `id`: released by its buyer, it pays the seller;
/// refunded by its seller, it pays the buyer.
fn close(id: U256, release: bool) {
    let (buyer, seller, amount, open) = DEAL.get(&id).unwrap_or_default();
    let (party, to, reason) = if release {
        (buyer, seller, "only the buyer releases an open deal")
    } else {
        (seller, buyer, "only the seller refunds an open deal")
    };
    if !open || sender() != party {
        sol::revert(reason)
    }
    DEAL.set(&id, &(buyer, seller, amount, false));
    let moved: bool = sol::call(its_token(), "transfer", &(to, amount))
        .invoke()
        .sol();
    if !moved {
        sol::revert("transfer failed")
    }
    sol::emit(Closed { id, to, amount });
}

/// Records a new open deal; its id.
fn opened(buyer: Address, seller: Address, amount: U256) -> U256 {
    let id = DEALS.get().unwrap_or_default();
    DEALS.set(
        &id.checked_add(U256::from(1u64))
            .unwrap_or_else(|| sol::panic_with(0x11)),
    );
    DEAL.set(&id, &(buyer, seller, amount, true));
    sol::emit(Opened {
        id,
        buyer,
        seller,
        amount,
    });
    id
}

ward_sdk::contract! {
    abi: solidity;

    /// An escrow of `token`'s tokens.
    init(token: Address) {
        TOKEN.set(&token);
    }

    /// Deal `id` opened: `buyer` moved `amount` in for `seller`.
    pub event Opened { #[indexed] id: U256, #[indexed] buyer: Address, #[indexed] seller: Address, amount: U256 }

    /// Deal `id` closed: `amount` paid to `to`.
    pub event Closed { #[indexed] id: U256, #[indexed] to: Address, amount: U256 }

    /// The token it holds.
    #[view]
    pub fn token() -> Address {
        its_token()
    }

    /// How many deals were opened.
    #[view]
    pub fn deals() -> U256 {
        DEALS.get().unwrap_or_default()
    }

    /// Deal `id`: buyer, seller, amount, whether it is open.
    #[view]
    pub fn deal(id: U256) -> (Address, Address, U256, bool) {
        DEAL.get(&id).unwrap_or_default()
    }

    /// Opens a deal for `seller` of the native asset sent, which the
    /// escrow wraps: its token must be a wrapped native asset, whose
    /// `deposit()` takes value (WETH9's); returns its id.
    #[payable]
    pub fn open_wrapped(seller: Address) -> U256 {
        let amount = U256::from(value());
        sol::call(its_token(), "deposit", &())
            .value(value())
            .invoke()
            .sol::<()>();
        opened(sender(), seller, amount)
    }

    /// Opens a deal: moves `amount` of the caller's tokens in (the
    /// caller approved them) for `seller`; returns its id.
    pub fn open(seller: Address, amount: U256) -> U256 {
        let buyer = sender();
        let moved: bool = sol::call(its_token(), "transfer_from", &(buyer, me(), amount))
            .invoke()
            .sol();
        if !moved {
            sol::revert("transferFrom failed")
        }
        opened(buyer, seller, amount)
    }

    /// The buyer releases open deal `id` to its seller.
    pub fn release(id: U256) {
        close(id, true);
    }

    /// The seller refunds open deal `id` to its buyer.
    pub fn refund(id: U256) {
        close(id, false);
    }

    /// What the escrow holds of its token: a read-only call (`STATICCALL`).
    #[view]
    pub fn held() -> U256 {
        sol::call(its_token(), "balance_of", &(me(),))
            .read_only()
            .invoke()
            .sol()
    }
}
