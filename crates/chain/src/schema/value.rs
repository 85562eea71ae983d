//! Values between JSON and the contract codec, driven by a [`Type`].
//!
//! | type | JSON |
//! |---|---|
//! | `u8` `u16` `u32` `i8` `i16` `i32` | a number (a decimal string is accepted) |
//! | `u64` `u128` `i64` `i128` | a decimal string (an integer number is accepted) |
//! | `bool` | `true` / `false` |
//! | `address` | `0x` and 64 hex digits |
//! | `str` | a string |
//! | `bytes`, `[u8; N]` | `0x` and hex (exactly `N` bytes for an array) |
//! | `vec<T>`, `[T; N]`, tuples | an array (of `N` for an array, of the tuple's length) |
//! | `option<T>` | `null`, or the value (`[value]` when `T` is itself an option) |
//!
//! Outputs are written the same way: 64- and 128-bit integers always as
//! strings, so that no JSON reader rounds them.

use serde_json::{Map, Value};

use super::{Event, Method, Param, Schema, Type};

/// A call's arguments that do not fit the schema: the message names the
/// argument and shows the method's signature. Nothing was sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ArgsError(pub String);

/// Bytes that are not a value of the expected type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub String);

/// How many values one decode may produce: bounds the work an output of
/// `vec<()>` with a count of four billion could ask for.
const DECODE_BUDGET: usize = 1 << 20;

impl Schema {
    /// A call's input: `method`'s name, then `args` (a JSON object by
    /// argument name; `null` for a method without arguments) in the codec.
    ///
    /// # Errors
    ///
    /// An unknown method, a missing or extra argument, or a value that does
    /// not fit its type: the message shows the method's signature.
    pub fn encode_call(&self, method: &str, args: &Value) -> Result<Vec<u8>, ArgsError> {
        let Some(m) = self.method(method) else {
            let known: Vec<String> = self.methods.iter().map(Method::signature).collect();
            return Err(ArgsError(format!(
                "unknown method `{method}`; the contract's methods are:\n  {}",
                if known.is_empty() {
                    "(none)".to_owned()
                } else {
                    known.join("\n  ")
                }
            )));
        };
        let mut input = super::call_prefix(method);
        encode_args(&m.signature(), &m.args, args, &mut input)?;
        Ok(input)
    }

    /// A deploy's input: `init`'s arguments in the codec.
    ///
    /// # Errors
    ///
    /// As [`encode_call`](Schema::encode_call); also when the contract has
    /// no `init` but arguments were given.
    pub fn encode_init(&self, args: &Value) -> Result<Vec<u8>, ArgsError> {
        let mut input = Vec::new();
        match &self.init {
            Some(params) => {
                let signature = super::signature("init", params);
                encode_args(&signature, params, args, &mut input)?;
            }
            None if is_empty_args(args) => {}
            None => {
                return Err(ArgsError(
                    "this contract has no `init`: it takes no deploy arguments".to_owned(),
                ));
            }
        }
        Ok(input)
    }

    /// `output` of a call of `method` as JSON, by the method's return type.
    ///
    /// # Errors
    ///
    /// An unknown method, or an output that is not a value of the type.
    pub fn decode_output(&self, method: &str, output: &[u8]) -> Result<Value, DecodeError> {
        let m = self
            .method(method)
            .ok_or_else(|| DecodeError(format!("the schema has no method `{method}`")))?;
        if m.returns.is_unit() && output.is_empty() {
            return Ok(Value::Null);
        }
        decode(&m.returns, output)
    }

    /// An event's data as a JSON object by field name, with the event's
    /// declaration; `None` when the schema declares no event of this topic.
    ///
    /// # Errors
    ///
    /// Data that is not the declared fields.
    pub fn decode_event(
        &self,
        topic: &[u8],
        data: &[u8],
    ) -> Option<Result<(&Event, Value), DecodeError>> {
        let name = std::str::from_utf8(topic).ok()?;
        let event = self.event(name)?;
        let mut d = Decoder {
            input: data,
            budget: DECODE_BUDGET,
        };
        let mut fields = Map::new();
        for field in &event.fields {
            match d.value(&field.ty) {
                Ok(v) => {
                    fields.insert(field.name.clone(), v);
                }
                Err(e) => return Some(Err(e)),
            }
        }
        if !d.input.is_empty() {
            return Some(Err(DecodeError(
                "bytes after the event's last field".to_owned(),
            )));
        }
        Some(Ok((event, Value::Object(fields))))
    }
}

fn is_empty_args(args: &Value) -> bool {
    match args {
        Value::Null => true,
        Value::Object(map) => map.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

fn encode_args(
    signature: &str,
    params: &[Param],
    args: &Value,
    out: &mut Vec<u8>,
) -> Result<(), ArgsError> {
    let bad = |problem: String| ArgsError(format!("{problem}\n  expected: {signature}"));
    let empty = Map::new();
    let map = match args {
        Value::Object(map) => map,
        Value::Null => &empty,
        other => {
            return Err(bad(format!(
                "arguments are a JSON object by name, not {}",
                kind(other)
            )));
        }
    };
    for name in map.keys() {
        if !params.iter().any(|p| &p.name == name) {
            return Err(bad(format!("unexpected argument `{name}`")));
        }
    }
    for p in params {
        let Some(value) = map.get(&p.name) else {
            return Err(bad(format!("missing argument `{}`", p.name)));
        };
        encode(&p.ty, value, out)
            .map_err(|e| bad(format!("argument `{}`{}", p.name, e.at_path())))?;
    }
    Ok(())
}

/// Where inside an argument a value did not fit, and why.
#[derive(Debug)]
struct ValueError {
    path: Vec<String>,
    message: String,
}

impl ValueError {
    fn new(message: String) -> ValueError {
        ValueError {
            path: Vec::new(),
            message,
        }
    }

    fn within(mut self, step: String) -> ValueError {
        self.path.push(step);
        self
    }

    fn at_path(&self) -> String {
        let path: String = self.path.iter().rev().map(String::as_str).collect();
        format!("{path}: {}", self.message)
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn show(value: &Value) -> String {
    let text = value.to_string();
    if text.len() > 80 {
        format!("{}…", &text[..text.floor_char_boundary(77)])
    } else {
        text
    }
}

/// Appends `value`'s encoding as a `ty` to `out`.
///
/// # Errors
///
/// When the value does not fit the type (with where inside it).
pub fn encode_value(ty: &Type, value: &Value, out: &mut Vec<u8>) -> Result<(), String> {
    encode(ty, value, out).map_err(|e| {
        let at = e.at_path();
        at.strip_prefix(": ").map(str::to_owned).unwrap_or(at)
    })
}

fn encode(ty: &Type, value: &Value, out: &mut Vec<u8>) -> Result<(), ValueError> {
    let expected =
        |what: &str| ValueError::new(format!("expected {what} for `{ty}`, found {}", show(value)));
    match ty {
        Type::U8 => out.push(integer(ty, value, 8, false)? as u8),
        Type::U16 => out.extend_from_slice(&(integer(ty, value, 16, false)? as u16).to_le_bytes()),
        Type::U32 => out.extend_from_slice(&(integer(ty, value, 32, false)? as u32).to_le_bytes()),
        Type::U64 => out.extend_from_slice(&(integer(ty, value, 64, false)? as u64).to_le_bytes()),
        Type::U128 => out.extend_from_slice(&integer(ty, value, 128, false)?.to_le_bytes()),
        Type::I8 => out.push(integer(ty, value, 8, true)? as i8 as u8),
        Type::I16 => out.extend_from_slice(&(integer(ty, value, 16, true)? as i16).to_le_bytes()),
        Type::I32 => out.extend_from_slice(&(integer(ty, value, 32, true)? as i32).to_le_bytes()),
        Type::I64 => out.extend_from_slice(&(integer(ty, value, 64, true)? as i64).to_le_bytes()),
        Type::I128 => {
            out.extend_from_slice(&(integer(ty, value, 128, true)? as i128).to_le_bytes())
        }
        Type::Bool => out.push(u8::from(
            value.as_bool().ok_or_else(|| expected("true or false"))?,
        )),
        Type::Address => {
            let bytes = hex_of(value).ok_or_else(|| expected("`0x` and 64 hex digits"))?;
            if bytes.len() != 32 {
                return Err(expected("`0x` and 64 hex digits"));
            }
            out.extend_from_slice(&bytes);
        }
        Type::Str => {
            let text = value.as_str().ok_or_else(|| expected("a string"))?;
            length(out, text.len());
            out.extend_from_slice(text.as_bytes());
        }
        Type::Bytes => {
            let bytes = hex_of(value).ok_or_else(|| expected("`0x` and hex digits"))?;
            length(out, bytes.len());
            out.extend_from_slice(&bytes);
        }
        Type::Vec(inner) => {
            let items = value.as_array().ok_or_else(|| expected("an array"))?;
            length(out, items.len());
            for (i, item) in items.iter().enumerate() {
                encode(inner, item, out).map_err(|e| e.within(format!("[{i}]")))?;
            }
        }
        Type::Option(inner) => match value {
            Value::Null => out.push(0),
            some => {
                out.push(1);
                let some = if matches!(**inner, Type::Option(_)) {
                    match some.as_array().map(Vec::as_slice) {
                        Some([v]) => v,
                        _ => {
                            return Err(expected(
                                "null or a one-element array (an option of an option)",
                            ));
                        }
                    }
                } else {
                    some
                };
                encode(inner, some, out)?;
            }
        },
        Type::Tuple(types) => {
            if types.is_empty() && value.is_null() {
                return Ok(());
            }
            let items = value
                .as_array()
                .filter(|items| items.len() == types.len())
                .ok_or_else(|| expected(&format!("an array of {}", types.len())))?;
            for (i, (t, item)) in types.iter().zip(items).enumerate() {
                encode(t, item, out).map_err(|e| e.within(format!(".{i}")))?;
            }
        }
        Type::Array(inner, len) => {
            let len = *len as usize;
            if **inner == Type::U8 {
                let bytes = hex_of(value)
                    .filter(|b| b.len() == len)
                    .ok_or_else(|| expected(&format!("`0x` and {} hex digits", 2 * len)))?;
                out.extend_from_slice(&bytes);
            } else {
                let items = value
                    .as_array()
                    .filter(|items| items.len() == len)
                    .ok_or_else(|| expected(&format!("an array of {len}")))?;
                for (i, item) in items.iter().enumerate() {
                    encode(inner, item, out).map_err(|e| e.within(format!("[{i}]")))?;
                }
            }
        }
    }
    Ok(())
}

fn length(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

fn hex_of(value: &Value) -> Option<Vec<u8>> {
    let text = value.as_str()?.strip_prefix("0x")?;
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A JSON integer (a number, or a decimal string) as the two's-complement
/// bits of a `bits`-wide integer, checked against the type's range.
fn integer(ty: &Type, value: &Value, bits: u32, signed: bool) -> Result<u128, ValueError> {
    let (negative, magnitude) = match value {
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                (false, u128::from(u))
            } else if let Some(i) = n.as_i64() {
                (i < 0, u128::from(i.unsigned_abs()))
            } else {
                return Err(ValueError::new(format!(
                    "expected an integer for `{ty}`, found {n} (write large integers as decimal strings)"
                )));
            }
        }
        Value::String(text) => parse_decimal(text).ok_or_else(|| {
            ValueError::new(format!(
                "expected a decimal integer for `{ty}`, found {}",
                show(value)
            ))
        })?,
        other => {
            return Err(ValueError::new(format!(
                "expected an integer for `{ty}` (a number or a decimal string), found {}",
                show(other)
            )));
        }
    };
    let shown = || format!("{}{magnitude}", if negative { "-" } else { "" });
    if negative && magnitude != 0 && !signed {
        return Err(ValueError::new(format!(
            "{} is negative, but `{ty}` is unsigned",
            shown()
        )));
    }
    let limit = if signed {
        // |min| = 2^(bits-1); max = 2^(bits-1) - 1.
        let half = 1u128 << (bits - 1);
        if negative { half } else { half - 1 }
    } else if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    if magnitude > limit {
        return Err(ValueError::new(format!(
            "{} is out of range for `{ty}`",
            shown()
        )));
    }
    Ok(if negative {
        magnitude.wrapping_neg()
    } else {
        magnitude
    })
}

/// `-?[0-9]+` as a sign and a magnitude; `None` when malformed or beyond
/// `u128`.
fn parse_decimal(text: &str) -> Option<(bool, u128)> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut value: u128 = 0;
    for b in digits.bytes() {
        value = value.checked_mul(10)?.checked_add(u128::from(b - b'0'))?;
    }
    Some((negative, value))
}

/// `bytes`, which must hold exactly one `ty`, as JSON.
///
/// # Errors
///
/// When they are not exactly one value of the type.
pub fn decode(ty: &Type, bytes: &[u8]) -> Result<Value, DecodeError> {
    let mut d = Decoder {
        input: bytes,
        budget: DECODE_BUDGET,
    };
    let value = d.value(ty)?;
    if !d.input.is_empty() {
        return Err(DecodeError(format!(
            "{} bytes after the `{ty}`",
            d.input.len()
        )));
    }
    Ok(value)
}

/// Reads values off the front of a byte string.
struct Decoder<'a> {
    input: &'a [u8],
    budget: usize,
}

impl Decoder<'_> {
    fn take(&mut self, n: usize, ty: &Type) -> Result<&[u8], DecodeError> {
        if self.input.len() < n {
            return Err(DecodeError(format!("the bytes end inside a `{ty}`")));
        }
        let (head, rest) = self.input.split_at(n);
        self.input = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, ty: &Type) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, ty)?);
        Ok(out)
    }

    fn len(&mut self, ty: &Type) -> Result<usize, DecodeError> {
        Ok(u32::from_le_bytes(self.array(ty)?) as usize)
    }

    fn value(&mut self, ty: &Type) -> Result<Value, DecodeError> {
        self.budget = self.budget.checked_sub(1).ok_or_else(|| {
            DecodeError(format!(
                "more than {DECODE_BUDGET} values: too large to show"
            ))
        })?;
        Ok(match ty {
            Type::U8 => Value::from(self.array::<1>(ty)?[0]),
            Type::U16 => Value::from(u16::from_le_bytes(self.array(ty)?)),
            Type::U32 => Value::from(u32::from_le_bytes(self.array(ty)?)),
            Type::U64 => Value::from(u64::from_le_bytes(self.array(ty)?).to_string()),
            Type::U128 => Value::from(u128::from_le_bytes(self.array(ty)?).to_string()),
            Type::I8 => Value::from(i8::from_le_bytes(self.array(ty)?)),
            Type::I16 => Value::from(i16::from_le_bytes(self.array(ty)?)),
            Type::I32 => Value::from(i32::from_le_bytes(self.array(ty)?)),
            Type::I64 => Value::from(i64::from_le_bytes(self.array(ty)?).to_string()),
            Type::I128 => Value::from(i128::from_le_bytes(self.array(ty)?).to_string()),
            Type::Bool => match self.array::<1>(ty)?[0] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                other => return Err(DecodeError(format!("bool byte {other} is not 0 or 1"))),
            },
            Type::Address => Value::from(hex(&self.array::<32>(ty)?)),
            Type::Str => {
                let n = self.len(ty)?;
                let bytes = self.take(n, ty)?;
                let text = std::str::from_utf8(bytes)
                    .map_err(|_| DecodeError("a `str` that is not UTF-8".to_owned()))?;
                Value::from(text)
            }
            Type::Bytes => {
                let n = self.len(ty)?;
                Value::from(hex(self.take(n, ty)?))
            }
            Type::Vec(inner) => {
                let n = self.len(ty)?;
                let mut items = Vec::with_capacity(n.min(self.input.len()));
                for _ in 0..n {
                    items.push(self.value(inner)?);
                }
                Value::Array(items)
            }
            Type::Option(inner) => match self.array::<1>(ty)?[0] {
                0 => Value::Null,
                1 => {
                    let v = self.value(inner)?;
                    if matches!(**inner, Type::Option(_)) {
                        Value::Array(vec![v])
                    } else {
                        v
                    }
                }
                other => return Err(DecodeError(format!("option tag {other} is not 0 or 1"))),
            },
            Type::Tuple(types) if types.is_empty() => Value::Null,
            Type::Tuple(types) => Value::Array(
                types
                    .iter()
                    .map(|t| self.value(t))
                    .collect::<Result<_, _>>()?,
            ),
            Type::Array(inner, len) => {
                let len = *len as usize;
                if **inner == Type::U8 {
                    Value::from(hex(self.take(len, ty)?))
                } else {
                    let mut items = Vec::with_capacity(len.min(self.input.len()));
                    for _ in 0..len {
                        items.push(self.value(inner)?);
                    }
                    Value::Array(items)
                }
            }
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 + 2 * bytes.len());
    out.push_str("0x");
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}
