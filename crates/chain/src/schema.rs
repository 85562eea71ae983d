//! Contract schemas: what an SDK-built module says about itself.
//!
//! `ward_sdk::contract!` writes the contract's constructor, methods and
//! events, with named and typed arguments, into the module's
//! [`SECTION`] custom section (layout: docs/contracts.md). This module
//! reads and checks it ([`Schema::from_module`], which a deploy calls: a
//! malformed schema is refused), shows it as JSON ([`Schema::to_json`]),
//! and turns JSON arguments into a call's input and outputs and events back
//! into JSON ([`value`]).
//!
//! ```
//! use serde_json::json;
//! use ward_chain::schema::{Method, Param, Schema, Type};
//!
//! let schema = Schema {
//!     init: None,
//!     methods: vec![Method {
//!         name: "transfer".into(),
//!         args: vec![
//!             Param { name: "to".into(), ty: Type::Address },
//!             Param { name: "amount".into(), ty: Type::U128 },
//!         ],
//!         returns: Type::unit(),
//!         read_only: false,
//!         payable: false,
//!     }],
//!     events: vec![],
//! };
//! let to = format!("0x{}", "ab".repeat(32));
//! let input = schema.encode_call("transfer", &json!({"to": to, "amount": "250"})).unwrap();
//! assert_eq!(input.len(), 4 + 8 + 32 + 16);
//! let err = schema.encode_call("transfer", &json!({"to": to, "amount": -1})).unwrap_err();
//! assert!(err.to_string().contains("transfer(to: address, amount: u128)"));
//! assert_eq!(Schema::decode(&schema.encode()).unwrap(), schema);
//! ```

mod ty;
pub mod value;

#[cfg(test)]
mod tests;

use serde_json::{Value, json};
pub use ty::Type;
pub use ward_primitives::schema::{
    MAX_ARGS, MAX_ARRAY, MAX_EVENTS, MAX_METHODS, MAX_NAME_BYTES, MAX_SECTION_BYTES, MAX_TUPLE,
    MAX_TYPE_DEPTH, SECTION, VERSION, tag,
};

/// A named argument of a method or `init`, or a field of an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: Type,
}

/// A method a contract declares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Method {
    /// Its name: what a call's input starts with.
    pub name: String,
    /// Its arguments, in order.
    pub args: Vec<Param>,
    /// What it returns (`()` for nothing).
    pub returns: Type,
    /// Whether the contract declares that it only reads.
    pub read_only: bool,
    /// Whether the method takes a call with value (`#[payable]`); a call
    /// with value to any other is refused by the contract.
    pub payable: bool,
}

impl Method {
    /// `name(arg: type, …) -> returns`, as errors and `ward methods` show it.
    pub fn signature(&self) -> String {
        let mut text = signature(&self.name, &self.args);
        if !self.returns.is_unit() {
            text.push_str(&format!(" -> {}", self.returns));
        }
        text
    }
}

/// An event a contract declares: its name is its topic, its fields its
/// data in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Its name (and topic).
    pub name: String,
    /// Its fields, in order.
    pub fields: Vec<Param>,
}

impl Event {
    /// `Name(field: type, …)`.
    pub fn signature(&self) -> String {
        signature(&self.name, &self.fields)
    }
}

fn signature(name: &str, params: &[Param]) -> String {
    let params: Vec<String> = params
        .iter()
        .map(|p| format!("{}: {}", p.name, p.ty))
        .collect();
    format!("{name}({})", params.join(", "))
}

/// The custom section of a contract with the Solidity ABI
/// (`ward_sdk::contract!` with `abi: solidity;`): its ABI JSON, as solc
/// writes it.
pub const SOL_ABI_SECTION: &str = "ward.sol-abi";

/// The ABI JSON in `module`'s [`SOL_ABI_SECTION`]: `None` when there is
/// none (or the bytes are not a module).
///
/// # Errors
///
/// When there are two such sections, or the JSON is not UTF-8.
pub fn solidity_abi(module: &[u8]) -> Result<Option<String>, SchemaError> {
    custom_section(module, SOL_ABI_SECTION)?
        .map(|bytes| {
            String::from_utf8(bytes.to_vec())
                .map_err(|_| SchemaError(format!("the `{SOL_ABI_SECTION}` section is not UTF-8")))
        })
        .transpose()
}

/// The one custom section of `module` named `name`: `None` when there is
/// none (or the bytes are not a module, which compiling them reports).
fn custom_section<'m>(module: &'m [u8], name: &str) -> Result<Option<&'m [u8]>, SchemaError> {
    let mut found = None;
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        let Ok(payload) = payload else {
            return Ok(None);
        };
        if let wasmparser::Payload::CustomSection(section) = payload
            && section.name() == name
        {
            if found.is_some() {
                return Err(SchemaError(format!(
                    "the module has more than one `{name}` section"
                )));
            }
            found = Some(section.data());
        }
    }
    Ok(found)
}

/// A contract's schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schema {
    /// The constructor's arguments, when the contract has one.
    pub init: Option<Vec<Param>>,
    /// Its methods, in declaration order.
    pub methods: Vec<Method>,
    /// Its events, in declaration order.
    pub events: Vec<Event>,
}

/// A schema (or a type's text) that is not well formed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SchemaError(pub String);

impl Schema {
    /// The schema in `module`'s [`SECTION`] custom section: `None` when
    /// there is none (or the bytes are not a module, which compiling them
    /// reports).
    ///
    /// # Errors
    ///
    /// When the section is there but malformed, or there are two.
    pub fn from_module(module: &[u8]) -> Result<Option<Schema>, SchemaError> {
        custom_section(module, SECTION)?
            .map(Schema::decode)
            .transpose()
    }

    /// Reads and checks a section's bytes.
    ///
    /// # Errors
    ///
    /// When they are not a schema of [`VERSION`] within the limits of
    /// docs/contracts.md.
    pub fn decode(bytes: &[u8]) -> Result<Schema, SchemaError> {
        if bytes.len() > MAX_SECTION_BYTES {
            return Err(SchemaError(format!(
                "the schema is {} bytes, more than {MAX_SECTION_BYTES}",
                bytes.len()
            )));
        }
        let mut r = Reader { bytes, at: 0 };
        let version = r.u8("version")?;
        if version != VERSION {
            return Err(SchemaError(format!(
                "schema version {version} is not supported (this build reads {VERSION})"
            )));
        }
        let init = match r.u8("init tag")? {
            0 => None,
            1 => Some(r.params("init", MAX_ARGS)?),
            other => return Err(r.error(&format!("init tag {other} is not 0 or 1"))),
        };
        let count = r.count("methods", MAX_METHODS)?;
        let mut methods = Vec::with_capacity(count);
        for _ in 0..count {
            let name = r.name("method")?;
            let args = r.params(&name, MAX_ARGS)?;
            let returns = r.ty(0)?;
            // Bit 0 read-only, bit 1 payable.
            let flags = r.u8("flags")?;
            if flags > 3 {
                return Err(r.error(&format!("method flags {flags} are not 0 to 3")));
            }
            methods.push(Method {
                name,
                args,
                returns,
                read_only: flags & 1 != 0,
                payable: flags & 2 != 0,
            });
        }
        let count = r.count("events", MAX_EVENTS)?;
        let mut events = Vec::with_capacity(count);
        for _ in 0..count {
            let name = r.name("event")?;
            let fields = r.params(&name, MAX_ARGS)?;
            events.push(Event { name, fields });
        }
        if r.at != bytes.len() {
            return Err(r.error("bytes after the last event"));
        }
        let schema = Schema {
            init,
            methods,
            events,
        };
        schema.check_names()?;
        Ok(schema)
    }

    fn check_names(&self) -> Result<(), SchemaError> {
        let mut methods = std::collections::BTreeSet::new();
        for m in &self.methods {
            if !methods.insert(m.name.as_str()) {
                return Err(SchemaError(format!(
                    "method `{}` is declared twice",
                    m.name
                )));
            }
            unique_params(&m.name, &m.args)?;
        }
        let mut events = std::collections::BTreeSet::new();
        for e in &self.events {
            if !events.insert(e.name.as_str()) {
                return Err(SchemaError(format!("event `{}` is declared twice", e.name)));
            }
            unique_params(&e.name, &e.fields)?;
        }
        if let Some(init) = &self.init {
            unique_params("init", init)?;
        }
        Ok(())
    }

    /// The section's bytes (what the SDK writes).
    pub fn encode(&self) -> Vec<u8> {
        fn str(out: &mut Vec<u8>, s: &str) {
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        fn params(out: &mut Vec<u8>, params: &[Param]) {
            out.extend_from_slice(&(params.len() as u32).to_le_bytes());
            for p in params {
                str(out, &p.name);
                p.ty.encode_to(out);
            }
        }
        let mut out = vec![VERSION];
        match &self.init {
            None => out.push(0),
            Some(args) => {
                out.push(1);
                params(&mut out, args);
            }
        }
        out.extend_from_slice(&(self.methods.len() as u32).to_le_bytes());
        for m in &self.methods {
            str(&mut out, &m.name);
            params(&mut out, &m.args);
            m.returns.encode_to(&mut out);
            out.push(u8::from(m.read_only) | u8::from(m.payable) << 1);
        }
        out.extend_from_slice(&(self.events.len() as u32).to_le_bytes());
        for e in &self.events {
            str(&mut out, &e.name);
            params(&mut out, &e.fields);
        }
        out
    }

    /// The method called `name`.
    pub fn method(&self, name: &str) -> Option<&Method> {
        self.methods.iter().find(|m| m.name == name)
    }

    /// The event called `name` (its topic).
    pub fn event(&self, name: &str) -> Option<&Event> {
        self.events.iter().find(|e| e.name == name)
    }

    /// `init(arg: type, …)`, when the contract has one.
    pub fn init_signature(&self) -> Option<String> {
        self.init.as_ref().map(|args| signature("init", args))
    }

    /// The schema as JSON: `{"version", "init": {"args": [{"name",
    /// "type"}]} | null, "methods": [{"name", "args", "returns",
    /// "read_only"}], "events": [{"name", "fields"}]}`; `returns` is
    /// `null` for a method that returns nothing.
    pub fn to_json(&self) -> Value {
        fn params(params: &[Param]) -> Value {
            params
                .iter()
                .map(|p| json!({ "name": p.name, "type": p.ty.to_string() }))
                .collect()
        }
        json!({
            "version": VERSION,
            "init": self.init.as_ref().map(|args| json!({ "args": params(args) })),
            "methods": self.methods.iter().map(|m| json!({
                "name": m.name,
                "args": params(&m.args),
                "returns": (!m.returns.is_unit()).then(|| m.returns.to_string()),
                "read_only": m.read_only,
                "payable": m.payable,
            })).collect::<Vec<_>>(),
            "events": self.events.iter().map(|e| json!({
                "name": e.name,
                "fields": params(&e.fields),
            })).collect::<Vec<_>>(),
        })
    }

    /// Reads [`to_json`](Schema::to_json)'s shape back (a client gets a
    /// deployed contract's schema from a node's `getContract`), with the
    /// same checks as [`decode`](Schema::decode).
    ///
    /// # Errors
    ///
    /// A missing or mistyped field, or a schema `decode` would refuse.
    pub fn from_json(value: &Value) -> Result<Schema, SchemaError> {
        let bad = |what: &str| SchemaError(format!("schema JSON: {what}"));
        let list = |v: &Value, what: &str| -> Result<Vec<Value>, SchemaError> {
            v.get(what)
                .and_then(Value::as_array)
                .cloned()
                .ok_or_else(|| bad(&format!("no list {what:?}")))
        };
        let text = |v: &Value, what: &str| -> Result<String, SchemaError> {
            v.get(what)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| bad(&format!("no string {what:?}")))
        };
        let params = |v: &Value, what: &str| -> Result<Vec<Param>, SchemaError> {
            list(v, what)?
                .iter()
                .map(|p| {
                    Ok(Param {
                        name: text(p, "name")?,
                        ty: text(p, "type")?.parse()?,
                    })
                })
                .collect()
        };
        if value.get("version").and_then(Value::as_u64) != Some(u64::from(VERSION)) {
            return Err(bad(&format!("\"version\" is not {VERSION}")));
        }
        let init = match value.get("init") {
            None | Some(Value::Null) => None,
            Some(init) => Some(params(init, "args")?),
        };
        let methods = list(value, "methods")?
            .iter()
            .map(|m| {
                Ok(Method {
                    name: text(m, "name")?,
                    args: params(m, "args")?,
                    returns: match m.get("returns") {
                        None | Some(Value::Null) => Type::unit(),
                        Some(_) => text(m, "returns")?.parse()?,
                    },
                    read_only: m
                        .get("read_only")
                        .and_then(Value::as_bool)
                        .ok_or_else(|| bad("no boolean \"read_only\""))?,
                    // Absent from schemas written before payable methods.
                    payable: match m.get("payable") {
                        None => false,
                        Some(flag) => flag
                            .as_bool()
                            .ok_or_else(|| bad("\"payable\" is not a boolean"))?,
                    },
                })
            })
            .collect::<Result<_, SchemaError>>()?;
        let events = list(value, "events")?
            .iter()
            .map(|e| {
                Ok(Event {
                    name: text(e, "name")?,
                    fields: params(e, "fields")?,
                })
            })
            .collect::<Result<_, SchemaError>>()?;
        let schema = Schema {
            init,
            methods,
            events,
        };
        // The binary form's checks (names, counts, limits) apply as well.
        Schema::decode(&schema.encode())
    }

    /// The method list for a person: one signature per line, `init` first,
    /// read-only methods marked, events last.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        if let Some(init) = self.init_signature() {
            out.push_str(&format!("constructor\n  {init}\n"));
        }
        out.push_str("methods\n");
        if self.methods.is_empty() {
            out.push_str("  (none)\n");
        }
        for m in &self.methods {
            let mark = if m.read_only { "  [read-only]" } else { "" };
            out.push_str(&format!("  {}{mark}\n", m.signature()));
        }
        if !self.events.is_empty() {
            out.push_str("events\n");
            for e in &self.events {
                out.push_str(&format!("  {}\n", e.signature()));
            }
        }
        out
    }
}

fn unique_params(owner: &str, params: &[Param]) -> Result<(), SchemaError> {
    let mut seen = std::collections::BTreeSet::new();
    for p in params {
        if !seen.insert(p.name.as_str()) {
            return Err(SchemaError(format!("`{owner}` names `{}` twice", p.name)));
        }
    }
    Ok(())
}

/// Reads a section.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn error(&self, what: &str) -> SchemaError {
        SchemaError(format!("malformed schema at byte {}: {what}", self.at))
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&[u8], SchemaError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| self.error(&format!("the section ends inside {what}")))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn u8(&mut self, what: &str) -> Result<u8, SchemaError> {
        Ok(self.take(1, what)?[0])
    }

    fn u32(&mut self, what: &str) -> Result<u32, SchemaError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn count(&mut self, what: &str, max: usize) -> Result<usize, SchemaError> {
        let n = self.u32(what)? as usize;
        if n > max {
            return Err(self.error(&format!("{n} {what}, more than {max}")));
        }
        Ok(n)
    }

    fn name(&mut self, what: &str) -> Result<String, SchemaError> {
        let len = self.u32(what)? as usize;
        if len > MAX_NAME_BYTES {
            return Err(self.error(&format!(
                "a {what} name of {len} bytes, more than {MAX_NAME_BYTES}"
            )));
        }
        let bytes = self.take(len, what)?.to_vec();
        let valid = !bytes.is_empty()
            && !bytes[0].is_ascii_digit()
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'_');
        if !valid {
            return Err(self.error(&format!(
                "{what} name {:?} is not an identifier (ASCII letters, digits and `_`)",
                String::from_utf8_lossy(&bytes)
            )));
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    fn params(&mut self, owner: &str, max: usize) -> Result<Vec<Param>, SchemaError> {
        let count = self.count(&format!("arguments of `{owner}`"), max)?;
        let mut params = Vec::with_capacity(count);
        for _ in 0..count {
            let name = self.name("argument")?;
            let ty = self.ty(0)?;
            params.push(Param { name, ty });
        }
        Ok(params)
    }

    fn ty(&mut self, depth: usize) -> Result<Type, SchemaError> {
        if depth >= MAX_TYPE_DEPTH {
            return Err(self.error(&format!("a type nested deeper than {MAX_TYPE_DEPTH}")));
        }
        Ok(match self.u8("a type")? {
            tag::U8 => Type::U8,
            tag::U16 => Type::U16,
            tag::U32 => Type::U32,
            tag::U64 => Type::U64,
            tag::U128 => Type::U128,
            tag::I8 => Type::I8,
            tag::I16 => Type::I16,
            tag::I32 => Type::I32,
            tag::I64 => Type::I64,
            tag::I128 => Type::I128,
            tag::BOOL => Type::Bool,
            tag::ADDRESS => Type::Address,
            tag::STR => Type::Str,
            tag::BYTES => Type::Bytes,
            tag::VEC => match self.ty(depth + 1)? {
                Type::U8 => Type::Bytes,
                inner => Type::Vec(Box::new(inner)),
            },
            tag::OPTION => Type::Option(Box::new(self.ty(depth + 1)?)),
            tag::TUPLE => {
                let n = usize::from(self.u8("a tuple's length")?);
                if n > MAX_TUPLE {
                    return Err(self.error(&format!("a tuple of {n}, more than {MAX_TUPLE}")));
                }
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.ty(depth + 1)?);
                }
                Type::Tuple(items)
            }
            tag::ARRAY => {
                let len = self.u32("an array's length")?;
                if len > MAX_ARRAY {
                    return Err(self.error(&format!("an array of {len}, more than {MAX_ARRAY}")));
                }
                Type::Array(Box::new(self.ty(depth + 1)?), len)
            }
            other => return Err(self.error(&format!("unknown type tag {other}"))),
        })
    }
}

/// The start of a call's input: `method`'s name in the codec (its length
/// as a little-endian `u32`, then its bytes), which the arguments follow.
pub fn call_prefix(method: &str) -> Vec<u8> {
    let mut input = Vec::with_capacity(4 + method.len());
    input.extend_from_slice(&(method.len() as u32).to_le_bytes());
    input.extend_from_slice(method.as_bytes());
    input
}

/// Splits a call's input into its method name and argument bytes, as the
/// SDK's `main` does; `None` when it does not start with a name.
pub fn split_call(input: &[u8]) -> Option<(&str, &[u8])> {
    let len = input.get(..4)?;
    let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
    let rest = &input[4..];
    let name = std::str::from_utf8(rest.get(..len)?).ok()?;
    Some((name, &rest[len..]))
}
