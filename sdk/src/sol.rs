//! The Solidity ABI: how Ethereum tools and Solidity code call a contract.
//!
//! A contract that speaks it takes calldata (a 4-byte selector, then the
//! arguments as a tuple) and returns its results as a tuple; its events
//! are logs whose first topic is the hash of their signature. This module
//! is that encoding for the types a contract uses, with each type's name
//! in a signature, so that selectors and topics are computed at compile
//! time ([`selector`], [`event_topic`]: `const fn`s over Keccak-256).
//!
//! | Rust | Solidity |
//! |---|---|
//! | `bool` | `bool` |
//! | `u8` … `u128`, [`U256`] | `uint8` … `uint128`, `uint256` |
//! | `i8` … `i128` | `int8` … `int128` |
//! | [`Address`] | `address` (its last 20 bytes: an Ethereum account's and an EVM contract's Ward address is 12 zero bytes and the 20) |
//! | `[u8; 32]`, [`Hash32`] | `bytes32` |
//! | [`Bytes`] | `bytes` |
//! | `String` | `string` |
//! | `Vec<T>` | `T[]` |
//! | tuples | tuples |
//!
//! Decoding is as strict as Solidity's own: a word whose unused bits are
//! not zero (or, for signed types, not the sign's extension), a `bool`
//! other than 0 or 1, an offset or a length that points outside the data
//! is an error, and the caller reverts.
//!
//! ```
//! use ward_sdk::sol::{self, U256};
//! use ward_sdk::Address;
//!
//! const TRANSFER: [u8; 4] = sol::selector("transfer", &[sol::name::<Address>(), sol::name::<U256>()]);
//! assert_eq!(TRANSFER, [0xa9, 0x05, 0x9c, 0xbb]);
//! let to = Address::from_eth([0xaa; 20]);
//! let calldata = sol::encode_call(TRANSFER, &(to, U256::from(7u64)));
//! assert_eq!(calldata.len(), 4 + 64);
//! let (back, amount): (Address, U256) = sol::decode_params(&calldata[4..]).unwrap();
//! assert_eq!((back, amount), (to, U256::from(7u64)));
//! ```

pub mod abi;
mod contract;
mod u256;

use alloc::{string::String, vec::Vec};
use core::fmt;

pub use contract::{
    __private, REVERT, SolEvent, SolReturn, SolRevert, emit, panic_with, revert, revert_with,
};
use keccak_const::Keccak256;
pub use u256::U256;
use ward_primitives::{Address, Hash32};

/// A word: every value's head is a multiple of 32 bytes.
const WORD: usize = 32;

/// Why calldata or return data did not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SolError {
    /// The data ended before a value, or an offset or a length points
    /// past its end.
    OutOfBounds,
    /// A word whose unused bits are not zero (or not the sign's
    /// extension), or a `bool` other than 0 or 1.
    BadWord,
    /// A `string` that is not UTF-8.
    InvalidUtf8,
}

impl fmt::Display for SolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SolError::OutOfBounds => "the data ends before a value it points to",
            SolError::BadWord => "a word out of its type's range",
            SolError::InvalidUtf8 => "a string that is not UTF-8",
        })
    }
}

/// A type's name in a function's or an event's signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Name {
    /// An elementary type: `uint256`, `address`, `bytes`, …
    Plain(&'static str),
    /// `T[]`.
    Array(&'static Name),
    /// `(T1,T2,…)`.
    Tuple(&'static [Name]),
}

/// `bytes`: a byte string (a `Vec<u8>` is `uint8[]`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Bytes(pub Vec<u8>);

/// A value that can be written in the Solidity ABI, whatever its type
/// (object safe: a tuple encodes its elements through this). Every
/// [`SolType`] is one.
pub trait SolEncode {
    /// Whether its head is an offset to its content (`bytes`, `string`,
    /// `T[]`, a tuple holding one).
    fn is_dynamic(&self) -> bool;

    /// Appends its encoding: for a static type, its head (32 bytes for
    /// each word); for a dynamic one, its content (what the offset points
    /// to).
    fn encode_to(&self, out: &mut Vec<u8>);
}

impl<T: SolType> SolEncode for T {
    fn is_dynamic(&self) -> bool {
        T::DYNAMIC
    }

    fn encode_to(&self, out: &mut Vec<u8>) {
        self.encode_value(out);
    }
}

/// A type of the Solidity ABI.
pub trait SolType: Sized {
    /// Its name in signatures.
    const NAME: Name;
    /// Whether its head is an offset (see [`SolEncode::is_dynamic`]).
    const DYNAMIC: bool;
    /// The size of its head in bytes: 32 for a dynamic type.
    const HEAD: usize = WORD;
    /// A function's results when it returns this: one unnamed value (none
    /// for `()`).
    const RESULTS: &'static [abi::Param] = &[abi::Param {
        name: "",
        ty: Self::NAME,
        indexed: false,
    }];

    /// Appends its encoding (see [`SolEncode::encode_to`]).
    fn encode_value(&self, out: &mut Vec<u8>);

    /// Reads the value whose head is at `head` in `base` (the data of the
    /// tuple that holds it: offsets count from its start).
    ///
    /// # Errors
    ///
    /// When the data is not a valid encoding of `Self`.
    fn decode_at(base: &[u8], head: usize) -> Result<Self, SolError> {
        if Self::DYNAMIC {
            let offset = read_len(base, head)?;
            Self::decode_content(base.get(offset..).ok_or(SolError::OutOfBounds)?)
        } else {
            Self::decode_content(base.get(head..).ok_or(SolError::OutOfBounds)?)
        }
    }

    /// Reads the value from the start of `data`: its static head, or the
    /// content a dynamic value's offset points to.
    ///
    /// # Errors
    ///
    /// When the data is not a valid encoding of `Self`.
    fn decode_content(data: &[u8]) -> Result<Self, SolError>;
}

/// `T`'s name in signatures, for [`selector`] and [`event_topic`].
pub const fn name<T: SolType>() -> Name {
    T::NAME
}

/// The first four bytes of the Keccak-256 of `name(types)`: a function's
/// selector, or a custom error's.
pub const fn selector(name: &str, types: &[Name]) -> [u8; 4] {
    let hash = signature_hash(name, types);
    [hash[0], hash[1], hash[2], hash[3]]
}

/// The Keccak-256 of `name(types)`: an event's first topic.
pub const fn event_topic(name: &str, types: &[Name]) -> [u8; 32] {
    signature_hash(name, types)
}

/// The Solidity name of a Rust function: its snake_case as camelCase
/// (`balance_of` is `balanceOf`, `transfer_from` is `transferFrom`), as
/// ERC-20 and every Solidity interface name their functions; leading
/// underscores stay. The name is the first `len` bytes.
pub const fn solidity_name(rust: &str) -> ([u8; MAX_NAME], usize) {
    let rust = rust.as_bytes();
    let mut out = [0u8; MAX_NAME];
    let (mut n, mut i, mut upper, mut leading) = (0, 0, false, true);
    while i < rust.len() {
        let c = rust[i];
        if c == b'_' && !leading {
            upper = true;
        } else {
            assert!(n < MAX_NAME, "a function name over 128 bytes");
            out[n] = if upper { c.to_ascii_uppercase() } else { c };
            n += 1;
            upper = false;
            leading = leading && c == b'_';
        }
        i += 1;
    }
    (out, n)
}

/// The longest function name [`solidity_name`] takes.
pub const MAX_NAME: usize = 128;

/// The selector of the Rust function `rust_name` taking `types`: of its
/// [`solidity_name`].
pub const fn function_selector(rust_name: &str, types: &[Name]) -> [u8; 4] {
    let (name, len) = solidity_name(rust_name);
    let (name, _) = name.split_at(len);
    let mut buf = [0u8; MAX_SIGNATURE];
    let mut n = push(&mut buf, 0, name);
    n = push_list(&mut buf, n, types);
    let (signature, _) = buf.split_at(n);
    let hash = Keccak256::new().update(signature).finalize();
    [hash[0], hash[1], hash[2], hash[3]]
}

/// The longest signature [`selector`] and [`event_topic`] take.
const MAX_SIGNATURE: usize = 1024;

const fn signature_hash(name: &str, types: &[Name]) -> [u8; 32] {
    let mut buf = [0u8; MAX_SIGNATURE];
    let mut n = push(&mut buf, 0, name.as_bytes());
    n = push_list(&mut buf, n, types);
    let (signature, _) = buf.split_at(n);
    Keccak256::new().update(signature).finalize()
}

const fn push(buf: &mut [u8; MAX_SIGNATURE], mut n: usize, bytes: &[u8]) -> usize {
    let mut i = 0;
    while i < bytes.len() {
        assert!(n < MAX_SIGNATURE, "a signature over 1024 bytes");
        buf[n] = bytes[i];
        n += 1;
        i += 1;
    }
    n
}

const fn push_list(buf: &mut [u8; MAX_SIGNATURE], mut n: usize, types: &[Name]) -> usize {
    n = push(buf, n, b"(");
    let mut i = 0;
    while i < types.len() {
        if i > 0 {
            n = push(buf, n, b",");
        }
        n = push_name(buf, n, &types[i]);
        i += 1;
    }
    push(buf, n, b")")
}

const fn push_name(buf: &mut [u8; MAX_SIGNATURE], n: usize, name: &Name) -> usize {
    match name {
        Name::Plain(text) => push(buf, n, text.as_bytes()),
        Name::Array(of) => {
            let n = push_name(buf, n, of);
            push(buf, n, b"[]")
        }
        Name::Tuple(of) => push_list(buf, n, of),
    }
}

/// `selector`, then `args` encoded as a tuple: a call's calldata.
pub fn encode_call<T: SolType>(selector: [u8; 4], args: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + T::HEAD);
    out.extend_from_slice(&selector);
    args.encode_value(&mut out);
    out
}

/// A call of the Rust function `function` (or the Solidity one: a
/// camelCase name is its own [`solidity_name`]) with `args`, a tuple of
/// its arguments (`&()` for none, `&(x,)` for one): its
/// [`function_selector`], then the arguments.
pub fn calldata<T: SolType>(function: &str, args: &T) -> Vec<u8> {
    let one = [T::NAME];
    let types: &[Name] = match &T::NAME {
        Name::Tuple(types) => types,
        _ => &one,
    };
    encode_call(function_selector(function, types), args)
}

/// A call of `function` (as [`calldata`] names it) with `args` on the
/// contract at `to`, a Solidity one or a Rust one of the Solidity ABI,
/// as `IERC20(token).transfer(to, amount)` makes it: set its value, gas
/// or read-only mode (`STATICCALL`) on the [`Call`](crate::call::Call),
/// then read its result with [`CallResult::sol`](crate::call::CallResult::sol).
///
/// ```no_run
/// use ward_sdk::{Address, sol::{self, U256}};
///
/// let token = Address::from_eth([0x5f; 20]);
/// let to = Address::from_eth([0xb0; 20]);
/// let moved: bool = sol::call(token, "transfer", &(to, U256::from(7u64))).invoke().sol();
/// ```
pub fn call<T: SolType>(to: Address, function: &str, args: &T) -> crate::call::Call {
    crate::call::Call::raw(to, calldata(function, args))
}

impl crate::call::CallResult {
    /// The result of a call of the Solidity ABI ([`call`]), as Solidity's
    /// external calls give it: when the callee reverted, this contract
    /// reverts with the callee's revert data unchanged, so that a reason
    /// or custom error reaches the transaction's sender; when it failed
    /// otherwise or returned something that is not an `R`, this contract
    /// reverts with no data.
    pub fn sol<R: SolType>(&self) -> R {
        match self.status {
            crate::call::CallStatus::Ok => match decode_params::<(R,)>(&self.data) {
                Ok((value,)) => value,
                Err(_) => revert_with(&[]),
            },
            crate::call::CallStatus::Reverted => revert_with(&self.data),
            crate::call::CallStatus::Failed => revert_with(&[]),
        }
    }
}

/// `values` encoded as a function's parameters (or results): a tuple's
/// content, with no offset in front even when it is dynamic.
pub fn encode_params<T: SolType>(values: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(T::HEAD);
    values.encode_value(&mut out);
    out
}

/// Reads parameters (or results) encoded as [`encode_params`] writes them.
/// Bytes after the values are allowed, as Solidity allows them.
///
/// # Errors
///
/// When the data is not a valid encoding of `T`.
pub fn decode_params<T: SolType>(data: &[u8]) -> Result<T, SolError> {
    T::decode_content(data)
}

/// The selector of `Error(string)`, the revert data of `require(cond,
/// "message")` and `revert("message")`.
pub const ERROR_SELECTOR: [u8; 4] = selector("Error", &[Name::Plain("string")]);

/// The selector of `Panic(uint256)`, Solidity 0.8's revert on an
/// overflow, a failed `assert` or a division by zero.
pub const PANIC_SELECTOR: [u8; 4] = selector("Panic", &[Name::Plain("uint256")]);

/// The revert data of Solidity's `revert(message)`: `Error(string)`,
/// which ethers, viem and web3.py show as the reason.
pub fn error_message(message: &str) -> Vec<u8> {
    encode_call(ERROR_SELECTOR, &(String::from(message),))
}

/// The message of `Error(string)` revert data, if that is what `data` is.
pub fn decode_error_message(data: &[u8]) -> Option<String> {
    let (selector, rest) = data.split_at_checked(4)?;
    if selector != ERROR_SELECTOR {
        return None;
    }
    decode_params::<(String,)>(rest).ok().map(|(m,)| m)
}

/// Appends the tuple of `items`: their heads (a static item's encoding,
/// a dynamic one's offset), then the dynamic items' contents.
pub fn encode_tuple(items: &[&dyn SolEncode], out: &mut Vec<u8>) {
    let start = out.len();
    let mut heads = Vec::with_capacity(items.len());
    for item in items {
        if item.is_dynamic() {
            heads.push(Some(out.len()));
            out.extend_from_slice(&[0; WORD]);
        } else {
            heads.push(None);
            item.encode_to(out);
        }
    }
    for (item, head) in items.iter().zip(heads) {
        if let Some(head) = head {
            let offset = out.len() - start;
            out[head..head + WORD].copy_from_slice(&word_of(offset as u128));
            item.encode_to(out);
        }
    }
}

/// A word holding `value`, big-endian.
fn word_of(value: u128) -> [u8; WORD] {
    let mut word = [0u8; WORD];
    word[16..].copy_from_slice(&value.to_be_bytes());
    word
}

/// The word at `at` in `data`.
fn word(data: &[u8], at: usize) -> Result<&[u8; WORD], SolError> {
    data.get(at..at.checked_add(WORD).ok_or(SolError::OutOfBounds)?)
        .and_then(|w| w.try_into().ok())
        .ok_or(SolError::OutOfBounds)
}

/// An offset or a length: a word that must fit the data it counts in.
fn read_len(data: &[u8], at: usize) -> Result<usize, SolError> {
    let w = word(data, at)?;
    if w[..24].iter().any(|b| *b != 0) {
        return Err(SolError::OutOfBounds);
    }
    let value = u64::from_be_bytes(w[24..].try_into().map_err(|_| SolError::OutOfBounds)?);
    let value = usize::try_from(value).map_err(|_| SolError::OutOfBounds)?;
    if value > data.len() {
        return Err(SolError::OutOfBounds);
    }
    Ok(value)
}

/// Appends `bytes` padded with zeros to a whole number of words.
fn put_padded(bytes: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(bytes);
    let pad = (WORD - bytes.len() % WORD) % WORD;
    out.resize(out.len() + pad, 0);
}

/// A length-prefixed byte string's content (`bytes`, `string`).
fn read_bytes(data: &[u8]) -> Result<&[u8], SolError> {
    let len = read_len(data, 0)?;
    data.get(WORD..WORD + len).ok_or(SolError::OutOfBounds)
}

/// A static type of one word: `$name`, written by `$to` and read back by
/// `$from` (`None`: a word out of the type's range).
macro_rules! one_word {
    ($($t:ty => $name:literal, $to:expr, $from:expr;)*) => {$(
        impl SolType for $t {
            const NAME: Name = Name::Plain($name);
            const DYNAMIC: bool = false;

            fn encode_value(&self, out: &mut Vec<u8>) {
                let to: fn(&$t) -> [u8; WORD] = $to;
                out.extend_from_slice(&to(self));
            }

            fn decode_content(data: &[u8]) -> Result<Self, SolError> {
                let from: fn(&[u8; WORD]) -> Option<$t> = $from;
                from(word(data, 0)?).ok_or(SolError::BadWord)
            }
        }
    )*};
}

/// `uintN`: zeros, then the value big-endian.
macro_rules! uint {
    ($($t:ty => $name:literal),*) => {
        one_word! {$(
            $t => $name,
                |v| {
                    let mut w = [0u8; WORD];
                    w[WORD - size_of::<$t>()..].copy_from_slice(&v.to_be_bytes());
                    w
                },
                |w| {
                    let (pad, value) = w.split_at(WORD - size_of::<$t>());
                    let value = <$t>::from_be_bytes(value.try_into().ok()?);
                    pad.iter().all(|b| *b == 0).then_some(value)
                };
        )*}
    };
}

uint!(u8 => "uint8", u16 => "uint16", u32 => "uint32", u64 => "uint64", u128 => "uint128");

/// `intN`: the sign extended, then the value big-endian.
macro_rules! int {
    ($($t:ty => $name:literal),*) => {
        one_word! {$(
            $t => $name,
                |v| {
                    let mut w = [if *v < 0 { 0xff } else { 0 }; WORD];
                    w[WORD - size_of::<$t>()..].copy_from_slice(&v.to_be_bytes());
                    w
                },
                |w| {
                    let (pad, value) = w.split_at(WORD - size_of::<$t>());
                    let value = <$t>::from_be_bytes(value.try_into().ok()?);
                    let fill = if value < 0 { 0xff } else { 0 };
                    pad.iter().all(|b| *b == fill).then_some(value)
                };
        )*}
    };
}

int!(i8 => "int8", i16 => "int16", i32 => "int32", i64 => "int64", i128 => "int128");

one_word! {
    U256 => "uint256", |v| v.to_be_bytes(), |w| Some(U256::from_be_bytes(*w));
    [u8; 32] => "bytes32", |v| *v, |w| Some(*w);
    Hash32 => "bytes32", |v| v.0, |w| Some(Hash32(*w));
    bool => "bool", |v| word_of(u128::from(*v)), |w| match u8::decode_content(w) {
        Ok(0) => Some(false),
        Ok(1) => Some(true),
        _ => None,
    };
}

// An address is its last 20 bytes: what the EVM calls `msg.sender` for
// any caller (docs/evm.md, "The mapping"). It decodes to the Ward address
// of those 20 bytes (`Address::from_eth`).
one_word! {
    Address => "address", |v| v.eth_form().0, |w| Some(Address(*w)).filter(|a| a.eth().is_some());
}

impl SolType for Bytes {
    fn encode_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&word_of(self.0.len() as u128));
        put_padded(&self.0, out);
    }

    const NAME: Name = Name::Plain("bytes");
    const DYNAMIC: bool = true;

    fn decode_content(data: &[u8]) -> Result<Self, SolError> {
        Ok(Bytes(read_bytes(data)?.to_vec()))
    }
}

impl SolType for String {
    fn encode_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&word_of(self.len() as u128));
        put_padded(self.as_bytes(), out);
    }

    const NAME: Name = Name::Plain("string");
    const DYNAMIC: bool = true;

    fn decode_content(data: &[u8]) -> Result<Self, SolError> {
        let bytes = read_bytes(data)?;
        core::str::from_utf8(bytes)
            .map(String::from)
            .map_err(|_| SolError::InvalidUtf8)
    }
}

impl<T: SolType> SolType for Vec<T> {
    fn encode_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&word_of(self.len() as u128));
        let items: Vec<&dyn SolEncode> = self.iter().map(|t| t as &dyn SolEncode).collect();
        encode_tuple(&items, out);
    }

    const NAME: Name = Name::Array(&T::NAME);
    const DYNAMIC: bool = true;

    fn decode_content(data: &[u8]) -> Result<Self, SolError> {
        let count = read_len(data, 0)?;
        let items = data.get(WORD..).ok_or(SolError::OutOfBounds)?;
        // Each element's head takes at least a word: a count larger than
        // the data allows is refused before anything is allocated.
        if count.checked_mul(T::HEAD).is_none_or(|n| n > items.len()) {
            return Err(SolError::OutOfBounds);
        }
        (0..count)
            .map(|i| T::decode_at(items, i * T::HEAD))
            .collect()
    }
}

macro_rules! tuple {
    ($(($($t:ident $i:tt),+))*) => {$(
        impl<$($t: SolType),+> SolType for ($($t,)+) {
            fn encode_value(&self, out: &mut Vec<u8>) {
                encode_tuple(&[$(&self.$i as &dyn SolEncode),+], out);
            }

            const NAME: Name = Name::Tuple(&[$($t::NAME),+]);
            const DYNAMIC: bool = false $(|| $t::DYNAMIC)+;
            const HEAD: usize = if Self::DYNAMIC { WORD } else { 0 $(+ $t::HEAD)+ };

            #[allow(unused_assignments, reason = "the last element's head moves past the end")]
            fn decode_content(data: &[u8]) -> Result<Self, SolError> {
                let mut head = 0;
                Ok(($(
                    {
                        let value = $t::decode_at(data, head)?;
                        head += $t::HEAD;
                        value
                    },
                )+))
            }
        }
    )*};
}

tuple! {
    (A 0)
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, F 5)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6)
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7)
}

/// No values: a function without parameters or results.
impl SolType for () {
    const NAME: Name = Name::Tuple(&[]);
    const DYNAMIC: bool = false;
    const HEAD: usize = 0;
    const RESULTS: &'static [abi::Param] = &[];

    fn encode_value(&self, _: &mut Vec<u8>) {}

    fn decode_content(_: &[u8]) -> Result<Self, SolError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
