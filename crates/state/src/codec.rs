//! The records' byte encoding: small, fixed and written down in
//! `docs/storage-format.md`. Integers are little-endian of fixed width;
//! byte strings and lists carry a u32 length first; options a 0/1 tag.

use ward_primitives::{Address, Hash32};

use crate::{BlockRecord, ContractInfo, Event, Receipt};

/// A record that did not decode.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct CodecError(pub String);

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

fn take<'a>(input: &mut &'a [u8], n: usize) -> Result<&'a [u8], CodecError> {
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
                let bytes = take(input, size_of::<$t>())?;
                let mut raw = [0u8; size_of::<$t>()];
                raw.copy_from_slice(bytes);
                Ok(<$t>::from_le_bytes(raw))
            }
        }
    )*};
}
fixed_int!(u32, u64, i32);

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

fn encode_list<T: Encode>(items: &[T], out: &mut Vec<u8>) {
    (items.len() as u32).encode(out);
    for item in items {
        item.encode(out);
    }
}

fn decode_list<T: Decode>(input: &mut &[u8]) -> Result<Vec<T>, CodecError> {
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

impl Encode for ContractInfo {
    fn encode(&self, out: &mut Vec<u8>) {
        self.code_hash.encode(out);
        self.deployer.encode(out);
        self.created_at.encode(out);
    }
}
impl Decode for ContractInfo {
    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        Ok(ContractInfo {
            code_hash: Hash32::decode(input)?,
            deployer: Address::decode(input)?,
            created_at: u64::decode(input)?,
        })
    }
}

impl Encode for Event {
    fn encode(&self, out: &mut Vec<u8>) {
        self.contract.encode(out);
        self.topic.encode(out);
        self.data.encode(out);
    }
}
impl Decode for Event {
    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        Ok(Event {
            contract: Address::decode(input)?,
            topic: Vec::decode(input)?,
            data: Vec::decode(input)?,
        })
    }
}

impl Encode for Receipt {
    fn encode(&self, out: &mut Vec<u8>) {
        self.tx.encode(out);
        self.height.encode(out);
        self.status.encode(out);
        self.exit_code.encode(out);
        self.output.encode(out);
        self.gas_used.encode(out);
        encode_list(&self.events, out);
        self.error_kind.encode(out);
        self.error_message.encode(out);
        self.address.encode(out);
    }
}
impl Decode for Receipt {
    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        Ok(Receipt {
            tx: Hash32::decode(input)?,
            height: u64::decode(input)?,
            status: String::decode(input)?,
            exit_code: i32::decode(input)?,
            output: Vec::decode(input)?,
            gas_used: u64::decode(input)?,
            events: decode_list(input)?,
            error_kind: Option::decode(input)?,
            error_message: Option::decode(input)?,
            address: Option::decode(input)?,
        })
    }
}

impl Encode for BlockRecord {
    fn encode(&self, out: &mut Vec<u8>) {
        self.height.encode(out);
        self.time.encode(out);
        encode_list(&self.txs, out);
    }
}
impl Decode for BlockRecord {
    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        Ok(BlockRecord {
            height: u64::decode(input)?,
            time: u64::decode(input)?,
            txs: decode_list(input)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_garbage_is_an_error() {
        let receipt = Receipt {
            tx: Hash32([3; 32]),
            height: 7,
            status: "reverted".into(),
            exit_code: 2,
            output: b"no".to_vec(),
            gas_used: 1234,
            events: vec![Event {
                contract: Address([1; 32]),
                topic: b"t".to_vec(),
                data: b"d".to_vec(),
            }],
            error_kind: None,
            error_message: Some("m".into()),
            address: Some(Address([9; 32])),
        };
        let bytes = receipt.to_bytes();
        assert_eq!(Receipt::from_bytes(&bytes), Ok(receipt));
        // Every truncation and a trailing byte are errors, never panics.
        for cut in 0..bytes.len() {
            assert!(Receipt::from_bytes(&bytes[..cut]).is_err(), "cut {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Receipt::from_bytes(&longer).is_err());
        // A huge claimed length does not allocate.
        let mut lying = Vec::new();
        u32::MAX.encode(&mut lying);
        assert!(Vec::<u8>::from_bytes(&lying).is_err());
        assert!(decode_list::<Event>(&mut lying.as_slice()).is_err());
    }
}
