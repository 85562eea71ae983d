//! One strict parser per kind of value the command line takes, used by
//! every command.
//!
//! - **Integers**: decimal digits, or `0x` and hex digits; `_` only
//!   between two digits (`1_000_000`, `0xff_ff`); no `+`; `-` only where
//!   the type is signed, and only in front. The value is checked against
//!   the type's range: nothing is wrapped, clamped or reduced.
//! - **Bytes**: `0x` and an even number of hex digits (`0x` alone is no
//!   bytes); addresses and hashes are 32 of them.
//! - **Floats**: Rust's float syntax (`1.5`, `-2e3`, `inf`, `nan`), without
//!   a leading `+`.
//!
//! Every parser works on bytes, so no input can split a character, and
//! returns a [`ParseError`] naming what was wrong; none can panic.

use std::fmt;

use thiserror::Error;

/// Why a value was refused. Each variant carries the text as given and
/// what was expected (`u64`, `i32`, ...).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Nothing where digits were expected (`""`, `0x`, `-`).
    #[error("`{text}` is empty where {what} was expected")]
    Empty {
        /// The text.
        text: String,
        /// What was expected.
        what: &'static str,
    },
    /// A character that is not a digit of the radix.
    #[error("`{text}` is not {what}: `{found}` is not a {radix} digit")]
    Digit {
        /// The text.
        text: String,
        /// What was expected.
        what: &'static str,
        /// The first character that is not a digit.
        found: char,
        /// `decimal` or `hex`.
        radix: &'static str,
    },
    /// `_` at either end or next to another `_`.
    #[error("`{text}` is not {what}: `_` may only stand between two digits")]
    Underscore {
        /// The text.
        text: String,
        /// What was expected.
        what: &'static str,
    },
    /// A `+`, or a `-` where the type has no sign.
    #[error("`{text}` is not {what}: a sign is {rule}")]
    Sign {
        /// The text.
        text: String,
        /// What was expected.
        what: &'static str,
        /// The rule it broke.
        rule: &'static str,
    },
    /// A value the type cannot hold.
    #[error("`{text}` is out of range for {what}")]
    Range {
        /// The text.
        text: String,
        /// What was expected.
        what: &'static str,
    },
    /// Not a value of the type at all (floats).
    #[error("`{text}` is not a valid {what}")]
    Syntax {
        /// The text.
        text: String,
        /// What was expected.
        what: &'static str,
    },
    /// Not `0x` and an even number of hex digits (or not the length
    /// expected).
    #[error("`{text}` is not hex bytes: {problem}")]
    Hex {
        /// The text.
        text: String,
        /// What is wrong with it.
        problem: &'static str,
    },
}

/// An integer type the command line takes, and its range.
pub trait Integer: Sized + Copy + fmt::Display {
    /// Its name, as in `--arg` (`u64`, `i128`).
    const NAME: &'static str;
    /// Whether it takes a `-`.
    const SIGNED: bool;
    /// The value of `magnitude`, negated when `negative`, if in range.
    fn from_parts(negative: bool, magnitude: u128) -> Option<Self>;
}

macro_rules! integers {
    ($($ty:ident signed $signed:literal),*) => {$(
        impl Integer for $ty {
            const NAME: &'static str = stringify!($ty);
            const SIGNED: bool = $signed;

            fn from_parts(negative: bool, magnitude: u128) -> Option<Self> {
                if negative {
                    $ty::try_from(0i128.checked_sub_unsigned(magnitude)?).ok()
                } else {
                    $ty::try_from(magnitude).ok()
                }
            }
        }
    )*};
}

integers!(
    u8 signed false,
    u16 signed false,
    u32 signed false,
    u64 signed false,
    u128 signed false,
    i8 signed true,
    i16 signed true,
    i32 signed true,
    i64 signed true,
    i128 signed true
);

/// Parses an integer of type `T`.
pub fn integer<T: Integer>(text: &str) -> Result<T, ParseError> {
    let (negative, magnitude) = sign_and_magnitude(text, T::NAME, T::SIGNED)?;
    T::from_parts(negative, magnitude).ok_or_else(|| ParseError::Range {
        text: text.to_owned(),
        what: T::NAME,
    })
}

/// A wasm `i32` argument: any value an `i32` or a `u32` can hold (the bits
/// are the same).
pub fn wasm_i32(text: &str) -> Result<i32, ParseError> {
    let (negative, magnitude) = sign_and_magnitude(text, "i32", true)?;
    i32::from_parts(negative, magnitude)
        .or_else(|| u32::from_parts(negative, magnitude).map(|u| u as i32))
        .ok_or_else(|| ParseError::Range {
            text: text.to_owned(),
            what: "i32",
        })
}

/// A wasm `i64` argument: any value an `i64` or a `u64` can hold.
pub fn wasm_i64(text: &str) -> Result<i64, ParseError> {
    let (negative, magnitude) = sign_and_magnitude(text, "i64", true)?;
    i64::from_parts(negative, magnitude)
        .or_else(|| u64::from_parts(negative, magnitude).map(|u| u as i64))
        .ok_or_else(|| ParseError::Range {
            text: text.to_owned(),
            what: "i64",
        })
}

/// For clap: a `u64` option such as `--gas`.
pub fn u64_arg(text: &str) -> Result<u64, ParseError> {
    integer(text)
}

/// For clap: a gas limit (`--gas`): a `u64` no larger than the most gas a
/// call can hold (`i64::MAX`), which is refused rather than reduced.
pub fn gas_arg(text: &str) -> Result<u64, ParseError> {
    let gas: u64 = integer(text)?;
    if gas > ward_primitives::Gas::MAX_LIMIT.get() {
        return Err(ParseError::Range {
            text: text.to_owned(),
            what: "a gas limit (at most 9223372036854775807)",
        });
    }
    Ok(gas)
}

/// A transaction's `--gas`: a limit, or `auto` (estimated by simulation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GasArg {
    /// This limit.
    Limit(u64),
    /// The least gas with the outcome of the most, plus the node's margin.
    Auto,
}

/// For clap: `--gas N` or `--gas auto`.
pub fn gas_or_auto(text: &str) -> Result<GasArg, ParseError> {
    if text == "auto" {
        return Ok(GasArg::Auto);
    }
    gas_arg(text).map(GasArg::Limit)
}

/// For clap: a `u32` option such as `--max-memory-pages`.
pub fn u32_arg(text: &str) -> Result<u32, ParseError> {
    integer(text)
}

/// The sign and the magnitude of an integer, with the rules above.
fn sign_and_magnitude(
    text: &str,
    what: &'static str,
    signed: bool,
) -> Result<(bool, u128), ParseError> {
    let bytes = text.as_bytes();
    let (negative, rest) = match bytes.first() {
        Some(b'-') if signed => (true, &bytes[1..]),
        Some(b'-') => {
            return Err(ParseError::Sign {
                text: text.to_owned(),
                what,
                rule: "not allowed for an unsigned type",
            });
        }
        Some(b'+') => {
            return Err(ParseError::Sign {
                text: text.to_owned(),
                what,
                rule: "`-` or nothing, never `+`",
            });
        }
        _ => (false, bytes),
    };
    let (radix, digits) = match rest.strip_prefix(b"0x") {
        Some(hex) => (16, hex),
        None => (10, rest),
    };
    let magnitude = digits_value(text, digits, radix, what)?;
    Ok((negative, magnitude))
}

/// The value of `digits` in `radix`, `_` allowed between two digits;
/// `u128::MAX + 1` and beyond are out of range.
fn digits_value(
    text: &str,
    digits: &[u8],
    radix: u32,
    what: &'static str,
) -> Result<u128, ParseError> {
    if digits.is_empty() {
        return Err(ParseError::Empty {
            text: text.to_owned(),
            what,
        });
    }
    let mut value: u128 = 0;
    for (i, &b) in digits.iter().enumerate() {
        if b == b'_' {
            let between =
                i > 0 && i + 1 < digits.len() && digits[i - 1] != b'_' && digits[i + 1] != b'_';
            if !between {
                return Err(ParseError::Underscore {
                    text: text.to_owned(),
                    what,
                });
            }
            continue;
        }
        let Some(digit) = char::from(b).to_digit(radix) else {
            return Err(ParseError::Digit {
                text: text.to_owned(),
                what,
                found: first_char(&digits[i..]),
                radix: if radix == 16 { "hex" } else { "decimal" },
            });
        };
        value = value
            .checked_mul(u128::from(radix))
            .and_then(|v| v.checked_add(u128::from(digit)))
            .ok_or_else(|| ParseError::Range {
                text: text.to_owned(),
                what,
            })?;
    }
    Ok(value)
}

/// The character that starts `bytes` (which start at a character
/// boundary: the parsers stop only after ASCII bytes).
fn first_char(bytes: &[u8]) -> char {
    let end = bytes.len().min(4);
    (1..=end)
        .find_map(|n| std::str::from_utf8(&bytes[..n]).ok())
        .and_then(|s| s.chars().next())
        .unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// Parses `0x` and an even number of hex digits.
pub fn hex_bytes(text: &str) -> Result<Vec<u8>, ParseError> {
    let hex_error = |problem| ParseError::Hex {
        text: text.to_owned(),
        problem,
    };
    let digits = text
        .as_bytes()
        .strip_prefix(b"0x")
        .ok_or_else(|| hex_error("it must start with `0x`"))?;
    if !digits.iter().all(u8::is_ascii_hexdigit) {
        return Err(hex_error("a character that is not a hex digit"));
    }
    if digits.len() % 2 != 0 {
        return Err(hex_error("an odd number of hex digits"));
    }
    digits
        .chunks_exact(2)
        .map(|pair| {
            let high = char::from(pair[0]).to_digit(16);
            let low = char::from(pair[1]).to_digit(16);
            match (high, low) {
                (Some(h), Some(l)) => Ok((h * 16 + l) as u8),
                _ => Err(hex_error("a character that is not a hex digit")),
            }
        })
        .collect()
}

/// `0x` + lowercase hex digits: what [`hex_bytes`] reads back.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 + bytes.len() * 2);
    out.push_str("0x");
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Parses `0x` and 64 hex digits: an address or a hash.
pub fn bytes32(text: &str) -> Result<[u8; 32], ParseError> {
    let bytes = hex_bytes(text)?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| ParseError::Hex {
        text: text.to_owned(),
        problem: "32 bytes (64 hex digits) were expected",
    })
}

/// Parses a float: Rust's syntax without a leading `+`.
pub fn float<T: std::str::FromStr>(text: &str, what: &'static str) -> Result<T, ParseError> {
    if text.starts_with('+') {
        return Err(ParseError::Sign {
            text: text.to_owned(),
            what,
            rule: "`-` or nothing, never `+`",
        });
    }
    text.parse().map_err(|_| ParseError::Syntax {
        text: text.to_owned(),
        what,
    })
}

#[cfg(test)]
mod tests;

/// For clap: an amount of the native asset in its smallest unit (a `u128`).
pub fn amount_arg(text: &str) -> Result<u128, ParseError> {
    integer(text)
}

/// An amount as a command takes it (`--value`, `ward transfer`): an
/// integer is in the asset's smallest unit (`1500`); a number with a
/// decimal point is in whole units (`1.5`), converted with the asset's
/// decimals when the chain's are known ([`Amount::in_smallest`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Amount {
    /// In the smallest unit.
    Smallest(u128),
    /// In whole units: the digits before and after the point.
    Whole {
        /// The text as given.
        text: String,
        /// The whole part.
        units: u128,
        /// The digits after the point.
        fraction: String,
    },
}

/// For clap: an [`Amount`].
pub fn amount(text: &str) -> Result<Amount, ParseError> {
    let Some((units, fraction)) = text.split_once('.') else {
        return amount_arg(text).map(Amount::Smallest);
    };
    let what = "an amount (whole units with a point, or the smallest unit)";
    if fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::Syntax {
            text: text.to_owned(),
            what,
        });
    }
    let units = if units.is_empty() {
        0
    } else {
        integer::<u128>(units).map_err(|_| ParseError::Syntax {
            text: text.to_owned(),
            what,
        })?
    };
    Ok(Amount::Whole {
        text: text.to_owned(),
        units,
        fraction: fraction.to_owned(),
    })
}

impl Amount {
    /// The amount in the smallest unit of an asset with `decimals`.
    ///
    /// # Errors
    ///
    /// More fraction digits than the asset has decimals, or a value past
    /// `u128::MAX`.
    pub fn in_smallest(&self, decimals: u8) -> Result<u128, ParseError> {
        match self {
            Amount::Smallest(value) => Ok(*value),
            Amount::Whole {
                text,
                units,
                fraction,
            } => {
                let fraction = fraction.trim_end_matches('0');
                if fraction.len() > usize::from(decimals) {
                    return Err(ParseError::Range {
                        text: text.clone(),
                        what: "the asset's decimals (more digits after the point than it has)",
                    });
                }
                let scale = 10u128.checked_pow(u32::from(decimals));
                let fraction_value = if fraction.is_empty() {
                    0
                } else {
                    integer::<u128>(fraction).unwrap_or(0)
                        * 10u128.pow(u32::from(decimals) - fraction.len() as u32)
                };
                scale
                    .and_then(|scale| units.checked_mul(scale))
                    .and_then(|whole| whole.checked_add(fraction_value))
                    .ok_or_else(|| ParseError::Range {
                        text: text.clone(),
                        what: "an amount (at most u128::MAX in the smallest unit)",
                    })
            }
        }
    }
}

/// `value` (in the smallest unit) as whole units of an asset with
/// `decimals`: `1500000` with 6 decimals is `1.5`.
pub fn whole_units(value: u128, decimals: u8) -> String {
    let Some(scale) = 10u128.checked_pow(u32::from(decimals)) else {
        return value.to_string();
    };
    let units = value / scale;
    let fraction = value % scale;
    if fraction == 0 {
        return units.to_string();
    }
    let digits = format!("{fraction:0width$}", width = usize::from(decimals));
    format!("{units}.{}", digits.trim_end_matches('0'))
}
