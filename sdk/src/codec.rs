//! The contract codec: how method arguments, results, storage values and
//! event data are written as bytes.
//!
//! Small, fixed and deterministic, so that every node (and every client)
//! encodes the same value to the same bytes:
//!
//! | type | encoding |
//! |---|---|
//! | `u8` … `u128`, `i8` … `i128` | little-endian, fixed width |
//! | `bool` | one byte, `0` or `1` (anything else is invalid) |
//! | `()` | nothing |
//! | `[u8; N]`, `Address`, `Hash32` | the `N` (32) bytes |
//! | `Vec<T>`, `&[T]` | `u32` count, then each element |
//! | `String`, `&str` | `u32` byte length, then UTF-8 (invalid UTF-8 is invalid) |
//! | `Option<T>` | `0`, or `1` then the value (any other tag is invalid) |
//! | tuples | the fields in order |
//!
//! Decoding a value from a byte string must consume it exactly:
//! [`decode_exact`] rejects trailing bytes, so one value has one encoding.
//!
//! ```
//! use ward_sdk::codec::{decode_exact, encode, Decode, Encode};
//!
//! let bytes = encode(&(7u64, "hi", Some(true)));
//! assert_eq!(bytes, [7, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, b'h', b'i', 1, 1]);
//! let back: (u64, String, Option<bool>) = decode_exact(&bytes).unwrap();
//! assert_eq!(back, (7, "hi".into(), Some(true)));
//! assert!(decode_exact::<u64>(&[0; 9]).is_err());
//! ```

use alloc::{string::String, vec::Vec};
use core::fmt;

use ward_primitives::{Address, Hash32};

/// Why bytes did not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes ended in the middle of a value.
    UnexpectedEnd,
    /// A value was complete but bytes were left over.
    TrailingBytes,
    /// A `bool` byte other than 0 or 1, or an `Option` tag other than 0 or 1.
    InvalidTag,
    /// A string that is not UTF-8.
    InvalidUtf8,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DecodeError::UnexpectedEnd => "unexpected end of input",
            DecodeError::TrailingBytes => "trailing bytes after the value",
            DecodeError::InvalidTag => "invalid bool or option tag",
            DecodeError::InvalidUtf8 => "string is not UTF-8",
        })
    }
}

/// A value that can be written in the contract codec.
pub trait Encode {
    /// Appends `self`'s encoding to `out`.
    fn encode_to(&self, out: &mut Vec<u8>);
}

/// A value that can be read back from the contract codec.
pub trait Decode: Sized {
    /// How many bytes an encoding of `Self` usually takes: exact for
    /// fixed-size types. Storage reads offer a buffer of this size first
    /// (host reads are charged per byte offered), and read again when the
    /// value is longer.
    const SIZE_HINT: usize = 64;

    /// Reads one value from the front of `input`, advancing it.
    ///
    /// # Errors
    ///
    /// When the bytes are not a valid encoding.
    fn decode_from(input: &mut &[u8]) -> Result<Self, DecodeError>;
}

/// `value`'s encoding.
pub fn encode<T: Encode + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    value.encode_to(&mut out);
    out
}

/// Decodes exactly one value from `bytes`.
///
/// # Errors
///
/// When the bytes are not a valid encoding, or more bytes follow it.
pub fn decode_exact<T: Decode>(bytes: &[u8]) -> Result<T, DecodeError> {
    let mut input = bytes;
    let value = T::decode_from(&mut input)?;
    if input.is_empty() {
        Ok(value)
    } else {
        Err(DecodeError::TrailingBytes)
    }
}

/// Takes `n` bytes from the front of `input`.
///
/// # Errors
///
/// [`DecodeError::UnexpectedEnd`] when fewer are left.
pub fn take<'a>(input: &mut &'a [u8], n: usize) -> Result<&'a [u8], DecodeError> {
    if input.len() < n {
        return Err(DecodeError::UnexpectedEnd);
    }
    let (head, rest) = input.split_at(n);
    *input = rest;
    Ok(head)
}

fn take_array<const N: usize>(input: &mut &[u8]) -> Result<[u8; N], DecodeError> {
    let mut out = [0u8; N];
    out.copy_from_slice(take(input, N)?);
    Ok(out)
}

/// Reads a `u32` length prefix.
fn take_len(input: &mut &[u8]) -> Result<usize, DecodeError> {
    Ok(u32::from_le_bytes(take_array(input)?) as usize)
}

fn put_len(len: usize, out: &mut Vec<u8>) {
    // Nothing a contract can hold is 4 GiB long: memory is at most 4 GiB
    // and the limits are far below it.
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
}

macro_rules! int_codec {
    ($($t:ty),*) => {$(
        impl Encode for $t {
            fn encode_to(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
        impl Decode for $t {
            const SIZE_HINT: usize = core::mem::size_of::<$t>();

            fn decode_from(input: &mut &[u8]) -> Result<Self, DecodeError> {
                Ok(<$t>::from_le_bytes(take_array(input)?))
            }
        }
    )*};
}
int_codec!(u8, u16, u32, u64, u128, i8, i16, i32, i64, i128);

impl Encode for bool {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
}

impl Decode for bool {
    const SIZE_HINT: usize = 1;

    fn decode_from(input: &mut &[u8]) -> Result<Self, DecodeError> {
        match take(input, 1)?[0] {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError::InvalidTag),
        }
    }
}

impl Encode for () {
    fn encode_to(&self, _: &mut Vec<u8>) {}
}

impl Decode for () {
    const SIZE_HINT: usize = 0;

    fn decode_from(_: &mut &[u8]) -> Result<Self, DecodeError> {
        Ok(())
    }
}

impl<const N: usize> Encode for [u8; N] {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

impl<const N: usize> Decode for [u8; N] {
    const SIZE_HINT: usize = N;

    fn decode_from(input: &mut &[u8]) -> Result<Self, DecodeError> {
        take_array(input)
    }
}

macro_rules! bytes32_codec {
    ($($t:ident),*) => {$(
        impl Encode for $t {
            fn encode_to(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.0);
            }
        }
        impl Decode for $t {
            const SIZE_HINT: usize = 32;

            fn decode_from(input: &mut &[u8]) -> Result<Self, DecodeError> {
                Ok($t(take_array(input)?))
            }
        }
    )*};
}
bytes32_codec!(Address, Hash32);

impl<T: Encode> Encode for [T] {
    fn encode_to(&self, out: &mut Vec<u8>) {
        put_len(self.len(), out);
        for item in self {
            item.encode_to(out);
        }
    }
}

impl<T: Encode> Encode for Vec<T> {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.as_slice().encode_to(out);
    }
}

impl<T: Decode> Decode for Vec<T> {
    fn decode_from(input: &mut &[u8]) -> Result<Self, DecodeError> {
        let count = take_len(input)?;
        // Never reserve more than the input could hold: a length is a claim.
        let mut items = Vec::with_capacity(count.min(input.len()));
        for _ in 0..count {
            items.push(T::decode_from(input)?);
        }
        Ok(items)
    }
}

impl Encode for str {
    fn encode_to(&self, out: &mut Vec<u8>) {
        put_len(self.len(), out);
        out.extend_from_slice(self.as_bytes());
    }
}

impl Encode for String {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.as_str().encode_to(out);
    }
}

impl Decode for String {
    fn decode_from(input: &mut &[u8]) -> Result<Self, DecodeError> {
        let len = take_len(input)?;
        let bytes = take(input, len)?;
        core::str::from_utf8(bytes)
            .map(String::from)
            .map_err(|_| DecodeError::InvalidUtf8)
    }
}

impl<T: Encode> Encode for Option<T> {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(value) => {
                out.push(1);
                value.encode_to(out);
            }
        }
    }
}

impl<T: Decode> Decode for Option<T> {
    const SIZE_HINT: usize = 1 + T::SIZE_HINT;

    fn decode_from(input: &mut &[u8]) -> Result<Self, DecodeError> {
        match take(input, 1)?[0] {
            0 => Ok(None),
            1 => Ok(Some(T::decode_from(input)?)),
            _ => Err(DecodeError::InvalidTag),
        }
    }
}

impl<T: Encode + ?Sized> Encode for &T {
    fn encode_to(&self, out: &mut Vec<u8>) {
        (**self).encode_to(out);
    }
}

macro_rules! tuple_codec {
    ($( ($($name:ident),+) )*) => {$(
        impl<$($name: Encode),+> Encode for ($($name,)+) {
            #[allow(non_snake_case, reason = "the type parameters name the fields")]
            fn encode_to(&self, out: &mut Vec<u8>) {
                let ($($name,)+) = self;
                $($name.encode_to(out);)+
            }
        }
        impl<$($name: Decode),+> Decode for ($($name,)+) {
            const SIZE_HINT: usize = 0 $(+ $name::SIZE_HINT)+;

            fn decode_from(input: &mut &[u8]) -> Result<Self, DecodeError> {
                Ok(($($name::decode_from(input)?,)+))
            }
        }
    )*};
}

/// Calls macro `$m` with every tuple of one to eight type parameters:
/// the arities the codec and the schema implement.
macro_rules! with_tuples {
    ($m:ident) => {
        $m! {
            (A)
            (A, B)
            (A, B, C)
            (A, B, C, D)
            (A, B, C, D, E)
            (A, B, C, D, E, F)
            (A, B, C, D, E, F, G)
            (A, B, C, D, E, F, G, H)
        }
    };
}
pub(crate) use with_tuples;

with_tuples!(tuple_codec);

/// The input of a call to method `method` with `args` (a tuple, or `()`):
/// the method's name as a string, then the arguments.
///
/// ```
/// let input = ward_sdk::codec::call_input("get", &());
/// assert_eq!(input, [3, 0, 0, 0, b'g', b'e', b't']);
/// ```
pub fn call_input<A: Encode + ?Sized>(method: &str, args: &A) -> Vec<u8> {
    let mut out = Vec::new();
    method.encode_to(&mut out);
    args.encode_to(&mut out);
    out
}

/// Splits a call's input into its method name and the argument bytes.
///
/// # Errors
///
/// When the input does not start with a well-formed method name.
pub fn split_method(input: &[u8]) -> Result<(&str, &[u8]), DecodeError> {
    let mut rest = input;
    let len = take_len(&mut rest)?;
    let name = take(&mut rest, len)?;
    let name = core::str::from_utf8(name).map_err(|_| DecodeError::InvalidUtf8)?;
    Ok((name, rest))
}
