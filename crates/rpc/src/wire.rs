//! How values are written on the wire: every binary value `0x` and
//! lowercase hex, 32-byte words (addresses, hashes) as 64 hex digits, and
//! amounts of the native asset as strings of decimal digits (a `u128`
//! does not fit a JSON number exactly; a plain number is taken up to
//! 2^53).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};
use ward_primitives::{Address, Hash32};

/// `0x` and lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    format!("0x{}", ::hex::encode(bytes))
}

/// Parses `0x` and an even number of hex digits.
///
/// # Errors
///
/// Anything else, with what was wrong.
pub fn unhex(text: &str) -> Result<Vec<u8>, String> {
    let digits = text
        .strip_prefix("0x")
        .ok_or_else(|| format!("{:?} does not start with 0x", truncate(text)))?;
    ::hex::decode(digits).map_err(|e| format!("{:?} is not hex: {e}", truncate(text)))
}

/// Parses `0x` and 64 hex digits.
///
/// # Errors
///
/// Anything else.
pub fn unhex32(text: &str) -> Result<[u8; 32], String> {
    let bytes = unhex(text)?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| format!("{:?} is {} bytes, not 32", truncate(text), bytes.len()))
}

/// At most 40 characters of `text`, for messages.
fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

/// Bytes, written as `0x` hex.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(pub Vec<u8>);

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(bytes: Vec<u8>) -> Self {
        Bytes(bytes)
    }
}

impl From<&[u8]> for Bytes {
    fn from(bytes: &[u8]) -> Self {
        Bytes(bytes.to_vec())
    }
}

impl From<Bytes> for Vec<u8> {
    fn from(bytes: Bytes) -> Self {
        bytes.0
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex(&self.0))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        unhex(&text).map(Bytes).map_err(D::Error::custom)
    }
}

/// An amount of the native asset, in its smallest unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(pub u128);

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Number(u64),
        }
        match Raw::deserialize(deserializer)
            .map_err(|_| D::Error::custom("an amount is a string of decimal digits"))?
        {
            Raw::Number(n) if n <= 1 << 53 => Ok(Amount(u128::from(n))),
            Raw::Number(n) => Err(D::Error::custom(format!(
                "{n} is past 2^53: write amounts as strings"
            ))),
            Raw::Text(text) => parse_amount(&text).map(Amount).map_err(D::Error::custom),
        }
    }
}

/// An amount in the smallest unit: decimal digits only (`_` allowed
/// between them).
///
/// # Errors
///
/// Anything else, or a number past `u128::MAX`.
pub fn parse_amount(text: &str) -> Result<u128, String> {
    let digits: String = text.chars().filter(|c| *c != '_').collect();
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || text.starts_with('_')
        || text.ends_with('_')
    {
        return Err(format!(
            "{text:?} is not an amount: decimal digits in the smallest unit"
        ));
    }
    digits
        .parse::<u128>()
        .map_err(|_| format!("{text} is past the largest amount, {}", u128::MAX))
}

/// A 32-byte word of the chain: an [`Address`] or a [`Hash32`].
pub trait Word: Sized {
    /// The word from its bytes.
    fn from_bytes(bytes: [u8; 32]) -> Self;
    /// Its bytes.
    fn bytes(&self) -> &[u8; 32];
}

impl Word for Address {
    fn from_bytes(bytes: [u8; 32]) -> Self {
        Address(bytes)
    }
    fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl Word for Hash32 {
    fn from_bytes(bytes: [u8; 32]) -> Self {
        Hash32(bytes)
    }
    fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// `#[serde(with = "status")]`: a [`Status`](ward_primitives::Status) as
/// its name (`ok`, `reverted`, ...); any other name is refused.
pub mod status {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use ward_primitives::Status;

    /// Writes the status's name.
    pub fn serialize<S: Serializer>(status: &Status, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(status.as_str())
    }

    /// Reads a status's name.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Status, D::Error> {
        let name = String::deserialize(deserializer)?;
        Status::parse(&name).ok_or_else(|| D::Error::custom(format!("no status {name:?}")))
    }
}

/// `#[serde(with = "word")]`: an [`Address`] or [`Hash32`] as `0x` and 64
/// hex digits.
pub mod word {
    use super::*;

    /// Writes the word.
    ///
    /// # Errors
    ///
    /// The serializer's.
    pub fn serialize<W: Word, S: Serializer>(word: &W, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex(word.bytes()))
    }

    /// Reads the word.
    ///
    /// # Errors
    ///
    /// Not a string of `0x` and 64 hex digits.
    pub fn deserialize<'de, W: Word, D: Deserializer<'de>>(deserializer: D) -> Result<W, D::Error> {
        let text = String::deserialize(deserializer)?;
        unhex32(&text).map(W::from_bytes).map_err(D::Error::custom)
    }
}

/// `#[serde(with = "opt_word")]`: an optional word, `null` for none.
pub mod opt_word {
    use super::*;

    /// Writes the word or `null`.
    ///
    /// # Errors
    ///
    /// The serializer's.
    pub fn serialize<W: Word, S: Serializer>(
        word: &Option<W>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match word {
            Some(word) => serializer.serialize_str(&hex(word.bytes())),
            None => serializer.serialize_none(),
        }
    }

    /// Reads the word or `null`.
    ///
    /// # Errors
    ///
    /// Neither `null` nor a string of `0x` and 64 hex digits.
    pub fn deserialize<'de, W: Word, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<W>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| unhex32(&text).map(W::from_bytes).map_err(D::Error::custom))
            .transpose()
    }
}

/// `#[serde(with = "words")]`: a list of words.
pub mod words {
    use super::*;

    /// Writes the words.
    ///
    /// # Errors
    ///
    /// The serializer's.
    pub fn serialize<W: Word, S: Serializer>(
        words: &[W],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(words.iter().map(|w| hex(w.bytes())))
    }

    /// Reads the words.
    ///
    /// # Errors
    ///
    /// An element that is not `0x` and 64 hex digits.
    pub fn deserialize<'de, W: Word, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<W>, D::Error> {
        Vec::<String>::deserialize(deserializer)?
            .iter()
            .map(|text| unhex32(text).map(W::from_bytes).map_err(D::Error::custom))
            .collect()
    }
}

/// `#[serde(default, deserialize_with = "present")]`: a field whose
/// `null` is a value, told apart from its absence (`Some(None)`: present
/// and `null`; `None`: absent).
///
/// # Errors
///
/// The value's own.
pub fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// `#[serde(default, deserialize_with = "present_word")]`: an optional
/// word whose `null` is a value, told apart from its absence.
///
/// # Errors
///
/// Neither `null` nor `0x` and 64 hex digits.
pub fn present_word<'de, W: Word, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<W>>, D::Error> {
    opt_word::deserialize(deserializer).map(Some)
}

/// Writes a field [`present_word`] reads: the word or `null` when present.
///
/// # Errors
///
/// The serializer's.
pub fn write_present_word<W: Word, S: Serializer>(
    word: &Option<Option<W>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match word {
        Some(word) => opt_word::serialize(word, serializer),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_strict() {
        assert_eq!(unhex("0x0aFF"), Ok(vec![10, 255]));
        for bad in ["", "0a", "0x0", "0xzz", "0X00", "0x+1"] {
            assert!(unhex(bad).is_err(), "{bad}");
        }
        assert!(unhex32("0x00").is_err());
    }

    #[test]
    fn amounts_are_decimal_strings_or_small_numbers() {
        let read = |text: &str| serde_json::from_str::<Amount>(text).map(|a| a.0);
        assert_eq!(read("\"1_000\"").ok(), Some(1000));
        assert_eq!(read("9007199254740992").ok(), Some(1 << 53));
        assert!(read("9007199254740993").is_err());
        for bad in [
            "\"\"", "\"_1\"", "\"1_\"", "\"-1\"", "\"0x10\"", "1.5", "null",
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
        let max = format!("\"{}\"", u128::MAX);
        assert_eq!(read(&max).ok(), Some(u128::MAX));
        assert!(read(&format!("\"{}0\"", u128::MAX)).is_err());
        assert_eq!(
            serde_json::to_string(&Amount(u128::MAX)).ok(),
            Some(max.clone())
        );
    }
}
