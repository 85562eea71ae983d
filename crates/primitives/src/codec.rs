//! Ward's record encoding, shared by the state's records
//! (`docs/storage-format.md`) and the chain's transactions and headers
//! (`docs/transactions.md`): small, fixed and canonical. Integers are
//! little-endian of fixed width; byte strings and lists carry a `u32`
//! length first; options a 0/1 tag.

use alloc::{
    format,
    string::{String, ToString},
    vec::Vec,
};
use core::fmt;

use crate::{Address, Hash32};

/// A record that did not decode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodecError(pub String);

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl core::error::Error for CodecError {}

/// Appends a value's encoding.
pub trait Encode {
    /// Appends `self` to `out`.
    fn encode(&self, out: &mut Vec<u8>);

    /// `self`'s encoding.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

/// Reads a value back.
pub trait Decode: Sized {
    /// Reads one value from the front of `input`.
    ///
    /// # Errors
    ///
    /// When the bytes are not a valid encoding.
    fn decode(input: &mut &[u8]) -> Result<Self, CodecError>;

    /// Decodes exactly `bytes`.
    ///
    /// # Errors
    ///
    /// When the bytes are not exactly one valid encoding.
    fn from_bytes(bytes: &[u8]) -> Result<Self, CodecError> {
        let mut input = bytes;
        let value = Self::decode(&mut input)?;
        if input.is_empty() {
            Ok(value)
        } else {
            Err(CodecError(format!("{} trailing bytes", input.len())))
        }
    }
}

/// Takes `n` bytes from the front of `input`.
///
/// # Errors
///
/// When fewer are left.
pub fn take<'a>(input: &mut &'a [u8], n: usize) -> Result<&'a [u8], CodecError> {
    if input.len() < n {
        return Err(CodecError(format!(
            "needed {n} bytes, {} left",
            input.len()
        )));
    }
    let (head, rest) = input.split_at(n);
    *input = rest;
    Ok(head)
}

impl Encode for u8 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(*self);
    }
}
impl Decode for u8 {
    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        Ok(take(input, 1)?[0])
    }
}

macro_rules! fixed_int {
    ($($t:ty),*) => {$(
        impl Encode for $t {
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend(self.to_le_bytes());
            }
        }
        impl Decode for $t {
            fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
                let bytes = take(input, core::mem::size_of::<$t>())?;
                let mut raw = [0u8; core::mem::size_of::<$t>()];
                raw.copy_from_slice(bytes);
                Ok(<$t>::from_le_bytes(raw))
            }
        }
    )*};
}
fixed_int!(u32, u64, u128, i32);

impl Encode for [u8] {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.len() as u32).encode(out);
        out.extend(self);
    }
}
impl Encode for Vec<u8> {
    fn encode(&self, out: &mut Vec<u8>) {
        self.as_slice().encode(out);
    }
}
impl Decode for Vec<u8> {
    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        let len = u32::decode(input)? as usize;
        Ok(take(input, len)?.to_vec())
    }
}

impl Encode for String {
    fn encode(&self, out: &mut Vec<u8>) {
        self.as_bytes().encode(out);
    }
}
impl Decode for String {
    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        String::from_utf8(Vec::<u8>::decode(input)?).map_err(|e| CodecError(e.to_string()))
    }
}

/// A [`crate::Status`] is encoded as its name's bytes (as a receipt's
/// status always was).
impl Encode for crate::Status {
    fn encode(&self, out: &mut Vec<u8>) {
        self.as_str().as_bytes().encode(out);
    }
}
impl Decode for crate::Status {
    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        let name = String::decode(input)?;
        crate::Status::parse(&name).ok_or_else(|| CodecError(format!("no status {name:?}")))
    }
}

impl Encode for Address {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend(self.0);
    }
}
impl Decode for Address {
    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        let mut raw = [0u8; 32];
        raw.copy_from_slice(take(input, 32)?);
        Ok(Address(raw))
    }
}
impl Encode for Hash32 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend(self.0);
    }
}
impl Decode for Hash32 {
    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        Ok(Hash32(Address::decode(input)?.0))
    }
}

impl<T: Encode> Encode for Option<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                v.encode(out);
            }
        }
    }
}
impl<T: Decode> Decode for Option<T> {
    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        match u8::decode(input)? {
            0 => Ok(None),
            1 => Ok(Some(T::decode(input)?)),
            tag => Err(CodecError(format!("option tag {tag}"))),
        }
    }
}

/// Appends a list: its length as a `u32`, then each item.
pub fn encode_list<T: Encode>(items: &[T], out: &mut Vec<u8>) {
    (items.len() as u32).encode(out);
    for item in items {
        item.encode(out);
    }
}

/// Reads a list written by [`encode_list`].
///
/// # Errors
///
/// When the bytes are not a valid list.
pub fn decode_list<T: Decode>(input: &mut &[u8]) -> Result<Vec<T>, CodecError> {
    let len = u32::decode(input)? as usize;
    // Never trust a length for an allocation: each item takes at least a
    // byte, so a list cannot be longer than what is left.
    if len > input.len() {
        return Err(CodecError(format!(
            "list of {len} items in {} bytes",
            input.len()
        )));
    }
    (0..len).map(|_| T::decode(input)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_checked_before_allocating() {
        // A huge claimed length does not allocate.
        let mut lying = Vec::new();
        u32::MAX.encode(&mut lying);
        assert!(Vec::<u8>::from_bytes(&lying).is_err());
        assert!(decode_list::<Address>(&mut lying.as_slice()).is_err());
        // Every truncation of a value is an error.
        let bytes = Some(Hash32([7; 32])).to_bytes();
        for cut in 0..bytes.len() {
            assert!(
                Option::<Hash32>::from_bytes(&bytes[..cut]).is_err(),
                "cut {cut}"
            );
        }
    }
}
