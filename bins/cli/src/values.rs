//! Typed values on the command line, in the contract codec of `ward-sdk`:
//! `--method NAME --arg TYPE:VALUE ...` builds a call's input, and
//! `--decode TYPE` shows an output as a value.
//!
//! Types: `u8 u16 u32 u64 u128 i32 i64 i128 bool address str bytes raw`
//! and `option<T>` (for `--decode`). `address` is 32 bytes of hex; `bytes`
//! is hex with a length prefix (a `Vec<u8>`); `raw` is hex appended as it
//! is (fixed arrays such as `[u8; 64]`).

use anyhow::{Context, bail};
use ward_sdk::codec::{Decode, DecodeError, Encode};
use ward_state::Address;

use crate::parse;

/// A value type the command line knows, by its `--arg` / `--decode` name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Type {
    /// `u8`.
    U8,
    /// `u16`.
    U16,
    /// `u32`.
    U32,
    /// `u64`.
    U64,
    /// `u128`.
    U128,
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `i128`.
    I128,
    /// `bool`: `true` or `false`.
    Bool,
    /// `address`: 32 bytes as hex.
    Address,
    /// `str`: UTF-8 text.
    Str,
    /// `bytes`: hex, encoded with a length.
    Bytes,
    /// `raw`: hex, appended as it is.
    Raw,
    /// `option<T>` (decoding only).
    Option(Box<Type>),
}

impl std::str::FromStr for Type {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> anyhow::Result<Type> {
        if let Some(inner) = text
            .strip_prefix("option<")
            .and_then(|t| t.strip_suffix('>'))
        {
            return Ok(Type::Option(Box::new(inner.parse()?)));
        }
        Ok(match text {
            "u8" => Type::U8,
            "u16" => Type::U16,
            "u32" => Type::U32,
            "u64" => Type::U64,
            "u128" => Type::U128,
            "i32" => Type::I32,
            "i64" => Type::I64,
            "i128" => Type::I128,
            "bool" => Type::Bool,
            "address" => Type::Address,
            "str" => Type::Str,
            "bytes" => Type::Bytes,
            "raw" => Type::Raw,
            other => bail!(
                "unknown type `{other}` (u8 u16 u32 u64 u128 i32 i64 i128 bool address str bytes raw option<T>)"
            ),
        })
    }
}

/// Appends `TYPE:VALUE`'s encoding to `out`.
pub fn encode_arg(spec: &str, out: &mut Vec<u8>) -> anyhow::Result<()> {
    let (ty, value) = spec
        .split_once(':')
        .with_context(|| format!("`{spec}` is not TYPE:VALUE"))?;
    match ty.parse::<Type>()? {
        Type::U8 => parse::integer::<u8>(value)?.encode_to(out),
        Type::U16 => parse::integer::<u16>(value)?.encode_to(out),
        Type::U32 => parse::integer::<u32>(value)?.encode_to(out),
        Type::U64 => parse::integer::<u64>(value)?.encode_to(out),
        Type::U128 => parse::integer::<u128>(value)?.encode_to(out),
        Type::I32 => parse::integer::<i32>(value)?.encode_to(out),
        Type::I64 => parse::integer::<i64>(value)?.encode_to(out),
        Type::I128 => parse::integer::<i128>(value)?.encode_to(out),
        Type::Bool => match value {
            "true" => true.encode_to(out),
            "false" => false.encode_to(out),
            _ => bail!("`{value}` is not a bool (true or false)"),
        },
        Type::Address => Address(parse::bytes32(value)?).encode_to(out),
        Type::Str => value.encode_to(out),
        Type::Bytes => parse::hex_bytes(value)?.encode_to(out),
        Type::Raw => out.extend_from_slice(&parse::hex_bytes(value)?),
        Type::Option(_) => bail!("option<T> is for --decode only"),
    }
    Ok(())
}

/// A call's input: `method`'s name, then each argument.
pub fn call_input(method: &str, args: &[String]) -> anyhow::Result<Vec<u8>> {
    let mut input = ward_sdk::codec::call_input(method, &());
    input.extend(args_input(args)?);
    Ok(input)
}

/// The arguments alone (a deploy's input).
pub fn args_input(args: &[String]) -> anyhow::Result<Vec<u8>> {
    let mut input = Vec::new();
    for arg in args {
        encode_arg(arg, &mut input)?;
    }
    Ok(input)
}

fn decode_one(ty: &Type, input: &mut &[u8]) -> Result<String, DecodeError> {
    Ok(match ty {
        Type::U8 => u8::decode_from(input)?.to_string(),
        Type::U16 => u16::decode_from(input)?.to_string(),
        Type::U32 => u32::decode_from(input)?.to_string(),
        Type::U64 => u64::decode_from(input)?.to_string(),
        Type::U128 => u128::decode_from(input)?.to_string(),
        Type::I32 => i32::decode_from(input)?.to_string(),
        Type::I64 => i64::decode_from(input)?.to_string(),
        Type::I128 => i128::decode_from(input)?.to_string(),
        Type::Bool => bool::decode_from(input)?.to_string(),
        Type::Address => Address::decode_from(input)?.to_string(),
        Type::Str => String::decode_from(input)?,
        Type::Bytes => parse::hex(&Vec::<u8>::decode_from(input)?),
        Type::Raw => parse::hex(std::mem::take(input)),
        Type::Option(inner) => match ward_sdk::codec::take(input, 1)?[0] {
            0 => "none".to_string(),
            1 => format!("some({})", decode_one(inner, input)?),
            _ => return Err(DecodeError::InvalidTag),
        },
    })
}

/// `bytes` shown as a value of `ty`, all of them consumed.
pub fn decode(ty: &Type, bytes: &[u8]) -> anyhow::Result<String> {
    let mut input = bytes;
    let text =
        decode_one(ty, &mut input).map_err(|e| anyhow::anyhow!("output is not {ty:?}: {e}"))?;
    if !input.is_empty() {
        bail!("output is not {ty:?}: {} bytes left over", input.len());
    }
    Ok(text)
}
