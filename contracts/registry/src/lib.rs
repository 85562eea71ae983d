//! A name registry whose names are owned by Ed25519 keys.
//!
//! Whoever holds a key can claim a free name for it by signing the claim;
//! the current key can hand the name to a new key. Signatures are checked
//! by the host's `verify_ed25519` (strict RFC 8032). Every signed message
//! names this contract's address, and rotations carry a nonce, so a
//! signature can be used once, here only.
//!
//! | method | arguments | result |
//! |---|---|---|
//! | `register` | `name: String, key: [u8; 32], signature: [u8; 64]` | |
//! | `rotate` | `name: String, new_key: [u8; 32], signature: [u8; 64]` | (signed by the current key) |
//! | `lookup` | `name: String` | `Option<([u8; 32], u64)>` (key, nonce) |
//! | `verify` | `name: String, message: Vec<u8>, signature: [u8; 64]` | `bool` |
//!
//! Signed messages (codec tuples): `("register", registry, name, key)` and
//! `("rotate", registry, name, new_key, nonce)`.

#![cfg_attr(target_arch = "wasm32", no_std)]

use ward_sdk::{codec::encode, crypto::verify_ed25519, prelude::*};

/// name -> (key, nonce of the next rotation)
const NAMES: Map<String, ([u8; 32], u64)> = Map::new(b"n:");

fn check_name(name: &str) {
    let valid = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    require!(valid, "names are 1 to 64 of a-z, 0-9 and '-'");
}

ward_sdk::contract! {
    /// `name` was claimed for `key`.
    pub event Registered { name: String, key: [u8; 32] }

    /// `name` now belongs to `key`.
    pub event Rotated { name: String, key: [u8; 32] }

    /// Claims the free `name` for `key`, which signs
    /// `("register", registry, name, key)`.
    pub fn register(name: String, key: [u8; 32], signature: [u8; 64]) {
        check_name(&name);
        require!(NAMES.get(&name).is_none(), "name `{name}` is taken");
        let message = encode(&("register", self_address(), &name, key));
        require!(verify_ed25519(&key, &message, &signature), "bad signature");
        NAMES.set(&name, &(key, 0));
        emit(Registered { name, key });
    }

    /// Hands `name` to `new_key`; the current key signs
    /// `("rotate", registry, name, new_key, nonce)`.
    pub fn rotate(name: String, new_key: [u8; 32], signature: [u8; 64]) {
        let Some((key, nonce)) = NAMES.get(&name) else {
            revert(2, "no such name")
        };
        let message = encode(&("rotate", self_address(), &name, new_key, nonce));
        require!(verify_ed25519(&key, &message, &signature), "bad signature");
        NAMES.set(&name, &(new_key, nonce + 1));
        emit(Rotated { name, key: new_key });
    }

    /// The key that owns `name`, and its rotation nonce.
    #[read_only]
    pub fn lookup(name: String) -> Option<([u8; 32], u64)> {
        NAMES.get(&name)
    }

    /// Whether `signature` is `name`'s key's signature of `message`.
    #[read_only]
    pub fn verify(name: String, message: Vec<u8>, signature: [u8; 64]) -> bool {
        NAMES
            .get(&name)
            .is_some_and(|(key, _)| verify_ed25519(&key, &message, &signature))
    }
}
