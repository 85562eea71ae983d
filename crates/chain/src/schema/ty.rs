//! A codec type: its encoding in a schema section, and its text form
//! (`u128`, `vec<(address, bool)>`), parsed and printed.

use std::fmt;

use super::{MAX_ARRAY, MAX_TUPLE, MAX_TYPE_DEPTH, SchemaError, tag};

/// A codec type.
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
    /// `i8`.
    I8,
    /// `i16`.
    I16,
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `i128`.
    I128,
    /// `bool`.
    Bool,
    /// `address`: 32 bytes.
    Address,
    /// `str`: UTF-8 text.
    Str,
    /// `bytes`: a byte string (`vec<u8>`).
    Bytes,
    /// `vec<T>`.
    Vec(Box<Type>),
    /// `option<T>`.
    Option(Box<Type>),
    /// A tuple; `()` is the empty one.
    Tuple(Vec<Type>),
    /// `[T; N]`: exactly `N` values, no length written.
    Array(Box<Type>, u32),
}

impl Type {
    /// `()`: what a method that returns nothing returns.
    pub fn unit() -> Type {
        Type::Tuple(Vec::new())
    }

    /// Whether this is `()`.
    pub fn is_unit(&self) -> bool {
        matches!(self, Type::Tuple(items) if items.is_empty())
    }

    pub(super) fn encode_to(&self, out: &mut Vec<u8>) {
        let plain = |out: &mut Vec<u8>, t: u8| out.push(t);
        match self {
            Type::U8 => plain(out, tag::U8),
            Type::U16 => plain(out, tag::U16),
            Type::U32 => plain(out, tag::U32),
            Type::U64 => plain(out, tag::U64),
            Type::U128 => plain(out, tag::U128),
            Type::I8 => plain(out, tag::I8),
            Type::I16 => plain(out, tag::I16),
            Type::I32 => plain(out, tag::I32),
            Type::I64 => plain(out, tag::I64),
            Type::I128 => plain(out, tag::I128),
            Type::Bool => plain(out, tag::BOOL),
            Type::Address => plain(out, tag::ADDRESS),
            Type::Str => plain(out, tag::STR),
            Type::Bytes => plain(out, tag::BYTES),
            Type::Vec(inner) => {
                out.push(tag::VEC);
                inner.encode_to(out);
            }
            Type::Option(inner) => {
                out.push(tag::OPTION);
                inner.encode_to(out);
            }
            Type::Tuple(items) => {
                out.push(tag::TUPLE);
                out.push(u8::try_from(items.len()).unwrap_or(u8::MAX));
                for item in items {
                    item.encode_to(out);
                }
            }
            Type::Array(inner, len) => {
                out.push(tag::ARRAY);
                out.extend_from_slice(&len.to_le_bytes());
                inner.encode_to(out);
            }
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Type::U8 => "u8",
            Type::U16 => "u16",
            Type::U32 => "u32",
            Type::U64 => "u64",
            Type::U128 => "u128",
            Type::I8 => "i8",
            Type::I16 => "i16",
            Type::I32 => "i32",
            Type::I64 => "i64",
            Type::I128 => "i128",
            Type::Bool => "bool",
            Type::Address => "address",
            Type::Str => "str",
            Type::Bytes => "bytes",
            Type::Vec(inner) => return write!(f, "vec<{inner}>"),
            Type::Option(inner) => return write!(f, "option<{inner}>"),
            Type::Array(inner, len) => return write!(f, "[{inner}; {len}]"),
            Type::Tuple(items) => {
                f.write_str("(")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                if items.len() == 1 {
                    f.write_str(",")?;
                }
                return f.write_str(")");
            }
        };
        f.write_str(name)
    }
}

impl std::str::FromStr for Type {
    type Err = SchemaError;

    /// Parses a type as [`Display`](fmt::Display) writes it (`u128`,
    /// `vec<option<str>>`, `(address, u64)`, `[u8; 32]`).
    fn from_str(text: &str) -> Result<Type, SchemaError> {
        let mut parser = TypeParser { text, at: 0 };
        let ty = parser.ty(0)?;
        parser.space();
        if parser.at != text.len() {
            return Err(parser.error("unexpected text after the type"));
        }
        Ok(ty)
    }
}

/// Reads a type's text form.
struct TypeParser<'a> {
    text: &'a str,
    at: usize,
}

impl TypeParser<'_> {
    fn error(&self, what: &str) -> SchemaError {
        SchemaError(format!(
            "bad type `{}`: {what} at byte {}",
            self.text, self.at
        ))
    }

    fn space(&mut self) {
        let rest = &self.text[self.at..];
        self.at += rest.len() - rest.trim_start().len();
    }

    fn eat(&mut self, token: &str) -> bool {
        self.space();
        if self.text[self.at..].starts_with(token) {
            self.at += token.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &str) -> Result<(), SchemaError> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(self.error(&format!("expected `{token}`")))
        }
    }

    fn word(&mut self) -> &str {
        self.space();
        let rest = &self.text[self.at..];
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        self.at += len;
        &rest[..len]
    }

    fn ty(&mut self, depth: usize) -> Result<Type, SchemaError> {
        if depth >= MAX_TYPE_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        if self.eat("(") {
            let mut items = Vec::new();
            if self.eat(")") {
                return Ok(Type::Tuple(items));
            }
            loop {
                items.push(self.ty(depth + 1)?);
                if items.len() > MAX_TUPLE {
                    return Err(self.error("too many tuple elements"));
                }
                if self.eat(")") {
                    return Ok(Type::Tuple(items));
                }
                self.expect(",")?;
                if self.eat(")") {
                    return Ok(Type::Tuple(items));
                }
            }
        }
        if self.eat("[") {
            let inner = self.ty(depth + 1)?;
            self.expect(";")?;
            let len = self.word();
            let len: u32 = len
                .parse()
                .ok()
                .filter(|n| *n <= MAX_ARRAY)
                .ok_or_else(|| self.error(&format!("array length must be 0..={MAX_ARRAY}")))?;
            self.expect("]")?;
            return Ok(Type::Array(Box::new(inner), len));
        }
        let word = self.word().to_owned();
        let simple = match word.as_str() {
            "u8" => Type::U8,
            "u16" => Type::U16,
            "u32" => Type::U32,
            "u64" => Type::U64,
            "u128" => Type::U128,
            "i8" => Type::I8,
            "i16" => Type::I16,
            "i32" => Type::I32,
            "i64" => Type::I64,
            "i128" => Type::I128,
            "bool" => Type::Bool,
            "address" => Type::Address,
            "str" => Type::Str,
            "bytes" => Type::Bytes,
            "vec" | "option" => {
                self.expect("<")?;
                let inner = self.ty(depth + 1)?;
                self.expect(">")?;
                return Ok(if word == "vec" {
                    if inner == Type::U8 {
                        Type::Bytes
                    } else {
                        Type::Vec(Box::new(inner))
                    }
                } else {
                    Type::Option(Box::new(inner))
                });
            }
            "" => return Err(self.error("expected a type")),
            other => {
                return Err(self.error(&format!(
                    "unknown type `{other}` (u8 … u128, i8 … i128, bool, address, str, bytes, vec<T>, option<T>, (T, …), [T; N])"
                )));
            }
        };
        Ok(simple)
    }
}
