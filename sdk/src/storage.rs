//! The contract's storage: raw bytes under byte keys, and typed views.
//!
//! [`Item`] is one value under a fixed key; [`Map`] is a family of values
//! under a prefix, keyed by the encoding of a key value. Both store values
//! in the [contract codec](crate::codec), so what a contract stores is
//! deterministic and readable by any client that knows the types.
//!
//! ```no_run
//! use ward_sdk::{Address, storage::{Item, Map}};
//!
//! const SUPPLY: Item<u128> = Item::new(b"supply");
//! const BALANCES: Map<Address, u128> = Map::new(b"bal:");
//!
//! let who = Address([1; 32]);
//! BALANCES.set(&who, &(BALANCES.get(&who).unwrap_or(0) + 5));
//! SUPPLY.update(|s| s.unwrap_or(0) + 5);
//! ```
//!
//! Keys are at most [`ward_abi::MAX_KEY_BYTES`] bytes, values at most
//! [`ward_abi::MAX_VALUE_BYTES`]; longer ones trap. A stored value that does
//! not decode as the expected type panics (so the call reverts).
#![allow(unsafe_code, reason = "thin wrappers over the raw host imports")]

use alloc::vec::Vec;
use core::marker::PhantomData;

pub use ward_abi::{MAX_KEY_BYTES, MAX_VALUE_BYTES};

use crate::{
    codec::{Decode, Encode, decode_exact},
    env::{len, ptr, read_value},
    sys,
};

/// The value stored under `key`, if any (offering a 64-byte buffer first).
pub fn read(key: &[u8]) -> Option<Vec<u8>> {
    read_sized(key, 64)
}

/// The value stored under `key`, if any, offering the host `expected`
/// bytes first: a read is charged per byte offered, and a longer value
/// costs a second read. The typed views pass their type's
/// [`Decode::SIZE_HINT`].
pub fn read_sized(key: &[u8], expected: usize) -> Option<Vec<u8>> {
    read_value(expected, |buf| {
        // SAFETY: the host checks the ranges; `key` and `buf` are live
        // slices of the lengths passed.
        unsafe {
            sys::storage_read(
                ptr(key.as_ptr()),
                len(key.len()),
                ptr(buf.as_mut_ptr()),
                len(buf.len()),
            )
        }
    })
}

/// Stores `value` under `key`. Traps in a read-only call.
pub fn write(key: &[u8], value: &[u8]) {
    // SAFETY: the host checks the ranges; both are live slices.
    unsafe {
        sys::storage_write(
            ptr(key.as_ptr()),
            len(key.len()),
            ptr(value.as_ptr()),
            len(value.len()),
        )
    }
}

/// Removes the value under `key`, if any. Traps in a read-only call.
pub fn remove(key: &[u8]) {
    // SAFETY: the host checks the range; `key` is a live slice.
    unsafe { sys::storage_remove(ptr(key.as_ptr()), len(key.len())) }
}

fn decode_stored<T: Decode>(key: &[u8], bytes: &[u8]) -> T {
    match decode_exact(bytes) {
        Ok(value) => value,
        Err(e) => panic!("stored value under {key:?} does not decode: {e}"),
    }
}

/// One typed value under a fixed key.
pub struct Item<T> {
    key: &'static [u8],
    _type: PhantomData<fn() -> T>,
}

impl<T: Encode + Decode> Item<T> {
    /// The value under `key`.
    pub const fn new(key: &'static [u8]) -> Self {
        Item {
            key,
            _type: PhantomData,
        }
    }

    /// The stored value, if any.
    pub fn get(&self) -> Option<T> {
        read_sized(self.key, T::SIZE_HINT).map(|bytes| decode_stored(self.key, &bytes))
    }

    /// Stores `value`.
    pub fn set(&self, value: &T) {
        write(self.key, &crate::codec::encode(value));
    }

    /// Removes the value.
    pub fn remove(&self) {
        remove(self.key);
    }

    /// Replaces the value with `f(old)` and returns the new one.
    pub fn update(&self, f: impl FnOnce(Option<T>) -> T) -> T {
        let new = f(self.get());
        self.set(&new);
        new
    }
}

/// Typed values under `prefix ++ encode(key)`.
pub struct Map<K, V> {
    prefix: &'static [u8],
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K: Encode, V: Encode + Decode> Map<K, V> {
    /// A map whose keys start with `prefix`. Give each map of a contract a
    /// prefix that is not a prefix of another's.
    pub const fn new(prefix: &'static [u8]) -> Self {
        Map {
            prefix,
            _types: PhantomData,
        }
    }

    /// The storage key of `key`.
    pub fn key(&self, key: &K) -> Vec<u8> {
        let mut out = Vec::from(self.prefix);
        key.encode_to(&mut out);
        out
    }

    /// The value under `key`, if any.
    pub fn get(&self, key: &K) -> Option<V> {
        let k = self.key(key);
        read_sized(&k, V::SIZE_HINT).map(|bytes| decode_stored(&k, &bytes))
    }

    /// Stores `value` under `key`.
    pub fn set(&self, key: &K, value: &V) {
        write(&self.key(key), &crate::codec::encode(value));
    }

    /// Removes the value under `key`.
    pub fn remove(&self, key: &K) {
        remove(&self.key(key));
    }

    /// Replaces the value under `key` with `f(old)` and returns the new one.
    pub fn update(&self, key: &K, f: impl FnOnce(Option<V>) -> V) -> V {
        let k = self.key(key);
        let old = read_sized(&k, V::SIZE_HINT).map(|bytes| decode_stored(&k, &bytes));
        let new = f(old);
        write(&k, &crate::codec::encode(&new));
        new
    }
}
