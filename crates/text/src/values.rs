//! `--arg TYPE:VALUE`: one argument of a call or a deploy, in the types a
//! contract's schema speaks ([`Type`]: `u8` … `i128`, `bool`, `address`,
//! `str`, `bytes`, `option<T>`, `vec<T>`, tuples and `[T; N]`), encoded in
//! the contract codec of `ward-sdk`; and `raw:0x…`, bytes appended as they
//! are (a fixed array such as `[u8; 64]` written by hand).
//!
//! The value is written as the command line writes it: an integer in
//! [`parse::integer`]'s syntax (decimal or `0x` hex, `_` between digits),
//! `true` or `false`, an address as 64 hex digits, a string as it is,
//! bytes as `0x` and hex digits. A value of a compound type (an option, a
//! vec, a tuple, an array) is JSON, as the schema's JSON arguments take it
//! (`vec<u32>:[1,2]`, `option<str>:null`).

use anyhow::{Context, bail};
use serde_json::Value;
use ward_chain::schema::{Type, value::encode_value};

use crate::parse;

/// Appends `TYPE:VALUE`'s encoding to `out`.
///
/// # Errors
///
/// Text that is not `TYPE:VALUE`, a type no schema has, or a value that
/// does not fit its type, each said in one line.
pub fn encode_arg(spec: &str, out: &mut Vec<u8>) -> anyhow::Result<()> {
    let (ty, value) = spec
        .split_once(':')
        .with_context(|| format!("`{spec}` is not TYPE:VALUE"))?;
    if ty == "raw" {
        out.extend_from_slice(&parse::hex_bytes(value)?);
        return Ok(());
    }
    let ty: Type = ty
        .parse()
        .map_err(|e| anyhow::anyhow!("`{ty}` is not a type (u8 … i128, bool, address, str, bytes, option<T>, vec<T>, (A, B), [T; N], or raw): {e}"))?;
    let json = value_of(&ty, value)?;
    encode_value(&ty, &json, out).map_err(|e| anyhow::anyhow!("`{spec}`: {e}"))
}

/// The command line's text for a value of `ty` as the schema's JSON.
fn value_of(ty: &Type, text: &str) -> anyhow::Result<Value> {
    let integer = |n: i128| Value::String(n.to_string());
    Ok(match ty {
        Type::U8 => integer(parse::integer::<u8>(text)?.into()),
        Type::U16 => integer(parse::integer::<u16>(text)?.into()),
        Type::U32 => integer(parse::integer::<u32>(text)?.into()),
        Type::U64 => integer(parse::integer::<u64>(text)?.into()),
        Type::U128 => Value::String(parse::integer::<u128>(text)?.to_string()),
        Type::I8 => integer(parse::integer::<i8>(text)?.into()),
        Type::I16 => integer(parse::integer::<i16>(text)?.into()),
        Type::I32 => integer(parse::integer::<i32>(text)?.into()),
        Type::I64 => integer(parse::integer::<i64>(text)?.into()),
        Type::I128 => integer(parse::integer::<i128>(text)?),
        Type::Bool => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => bail!("`{text}` is not a bool (true or false)"),
        },
        Type::Address => Value::String(parse::hex(&parse::bytes32(text)?)),
        Type::Str => Value::String(text.to_owned()),
        Type::Bytes => Value::String(parse::hex(&parse::hex_bytes(text)?)),
        Type::Option(_) | Type::Vec(_) | Type::Tuple(_) | Type::Array(..) => {
            serde_json::from_str(text)
                .with_context(|| format!("`{text}` is not JSON (a `{ty}` is written as JSON)"))?
        }
    })
}

/// A call's input: `method`'s name, then each argument.
///
/// # Errors
///
/// An argument [`encode_arg`] refuses.
pub fn call_input(method: &str, args: &[String]) -> anyhow::Result<Vec<u8>> {
    let mut input = ward_chain::schema::call_prefix(method);
    input.extend(args_input(args)?);
    Ok(input)
}

/// The arguments alone (a deploy's input).
///
/// # Errors
///
/// An argument [`encode_arg`] refuses.
pub fn args_input(args: &[String]) -> anyhow::Result<Vec<u8>> {
    let mut input = Vec::new();
    for arg in args {
        encode_arg(arg, &mut input)?;
    }
    Ok(input)
}

#[cfg(test)]
mod tests;
