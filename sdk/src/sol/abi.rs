//! A Solidity-ABI contract's interface, as data known at compile time,
//! and its ABI JSON (what solc writes as `NAME.abi`, and what ethers,
//! viem and web3.py load): [`contract!`](crate::contract) with `abi:
//! solidity;` puts the JSON in the module's [`SECTION`] custom section,
//! and `ward build` writes it beside the `.wasm`.

use super::Name;

/// The custom section that holds a Solidity-ABI contract's ABI JSON.
pub const SECTION: &str = "ward.sol-abi";

/// How a function treats state and value (its JSON `stateMutability`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutability {
    /// Reads nothing (`#[pure]`).
    Pure,
    /// Reads, writes nothing (`#[view]`: a query, and what Solidity may
    /// `STATICCALL`).
    View,
    /// Changes state, takes no value (the default).
    NonPayable,
    /// Takes value (`#[payable]`).
    Payable,
}

impl Mutability {
    const fn json(self) -> &'static str {
        match self {
            Mutability::Pure => "pure",
            Mutability::View => "view",
            Mutability::NonPayable => "nonpayable",
            Mutability::Payable => "payable",
        }
    }
}

/// A parameter, an event's field or an error's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param {
    /// Its name (empty for a result).
    pub name: &'static str,
    /// Its type.
    pub ty: Name,
    /// An event's field that is a topic.
    pub indexed: bool,
}

/// A function: its Rust name (the ABI's is its camelCase, see
/// [`super::solidity_name`]), parameters, results and mutability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Function {
    /// The Rust name.
    pub name: &'static str,
    /// Its parameters.
    pub inputs: &'static [Param],
    /// Its results.
    pub outputs: &'static [Param],
    /// How it treats state and value.
    pub mutability: Mutability,
}

/// An event or a custom error: its name and fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Item {
    /// Its name, as written.
    pub name: &'static str,
    /// Its fields.
    pub fields: &'static [Param],
}

/// A contract's whole interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Abi {
    /// The constructor (`init`), if there is one.
    pub constructor: Option<Function>,
    /// The functions.
    pub functions: &'static [Function],
    /// The events.
    pub events: &'static [Item],
    /// The custom errors.
    pub errors: &'static [Item],
}

/// The largest ABI JSON a contract may have.
const MAX_JSON: usize = 64 * 1024;

/// A writer into a fixed buffer, in `const` evaluation.
struct Json {
    buf: [u8; MAX_JSON],
    n: usize,
}

impl Json {
    const fn push(&mut self, bytes: &[u8]) {
        let mut i = 0;
        while i < bytes.len() {
            assert!(self.n < MAX_JSON, "an ABI JSON over 64 KiB");
            self.buf[self.n] = bytes[i];
            self.n += 1;
            i += 1;
        }
    }

    /// `"key":"value"` (names and types need no escaping).
    const fn field(&mut self, key: &str, value: &[u8]) {
        self.push(b"\"");
        self.push(key.as_bytes());
        self.push(b"\":\"");
        self.push(value);
        self.push(b"\"");
    }

    /// A comma before every element of a list but the first.
    const fn separate(&mut self, index: usize) {
        if index > 0 {
            self.push(b",");
        }
    }

    const fn type_name(&mut self, ty: &Name) {
        match ty {
            Name::Plain(text) => self.push(text.as_bytes()),
            Name::Array(of) => {
                self.type_name(of);
                self.push(b"[]");
            }
            Name::Tuple(_) => self.push(b"tuple"),
        }
    }

    /// The fields of the innermost tuple of `ty` (through arrays), if any.
    const fn components(&mut self, ty: &Name) {
        match ty {
            Name::Plain(_) => {}
            Name::Array(of) => self.components(of),
            Name::Tuple(of) => {
                self.push(b",\"components\":[");
                let mut i = 0;
                while i < of.len() {
                    self.separate(i);
                    let unnamed = Param {
                        name: "",
                        ty: of[i],
                        indexed: false,
                    };
                    self.param(&unnamed, false);
                    i += 1;
                }
                self.push(b"]");
            }
        }
    }

    const fn param(&mut self, param: &Param, event: bool) {
        self.push(b"{");
        self.field("name", param.name.as_bytes());
        self.push(b",\"type\":\"");
        self.type_name(&param.ty);
        self.push(b"\",\"internalType\":\"");
        self.type_name(&param.ty);
        self.push(b"\"");
        self.components(&param.ty);
        if event {
            self.push(if param.indexed {
                b",\"indexed\":true"
            } else {
                b",\"indexed\":false"
            });
        }
        self.push(b"}");
    }

    const fn params(&mut self, key: &str, params: &[Param], event: bool) {
        self.push(b"\"");
        self.push(key.as_bytes());
        self.push(b"\":[");
        let mut i = 0;
        while i < params.len() {
            self.separate(i);
            self.param(&params[i], event);
            i += 1;
        }
        self.push(b"]");
    }

    const fn function(&mut self, f: &Function, constructor: bool) {
        self.push(b"{");
        if constructor {
            self.field("type", b"constructor");
        } else {
            self.field("type", b"function");
            let (name, len) = super::solidity_name(f.name);
            let (name, _) = name.split_at(len);
            self.push(b",");
            self.field("name", name);
            self.push(b",");
            self.params("outputs", f.outputs, false);
        }
        self.push(b",");
        self.params("inputs", f.inputs, false);
        self.push(b",");
        self.field("stateMutability", f.mutability.json().as_bytes());
        self.push(b"}");
    }

    const fn item(&mut self, item: &Item, event: bool) {
        self.push(b"{");
        self.field("type", if event { b"event" } else { b"error" });
        self.push(b",");
        self.field("name", item.name.as_bytes());
        self.push(b",");
        self.params("inputs", item.fields, event);
        if event {
            self.push(b",\"anonymous\":false");
        }
        self.push(b"}");
    }

    const fn abi(&mut self, abi: &Abi) {
        self.push(b"[");
        let mut n = 0;
        if let Some(constructor) = &abi.constructor {
            self.function(constructor, true);
            n += 1;
        }
        let mut i = 0;
        while i < abi.functions.len() {
            self.separate(n);
            self.function(&abi.functions[i], false);
            n += 1;
            i += 1;
        }
        n = self.items(abi.events, true, n);
        self.items(abi.errors, false, n);
        self.push(b"]");
    }

    /// Events or errors, after `n` entries of the list: the count after.
    const fn items(&mut self, items: &[Item], event: bool, mut n: usize) -> usize {
        let mut i = 0;
        while i < items.len() {
            self.separate(n);
            self.item(&items[i], event);
            n += 1;
            i += 1;
        }
        n
    }
}

const fn written(abi: &Abi) -> Json {
    let mut json = Json {
        buf: [0; MAX_JSON],
        n: 0,
    };
    json.abi(abi);
    json
}

/// The length of `abi`'s JSON.
pub const fn json_len(abi: &Abi) -> usize {
    written(abi).n
}

/// `abi`'s JSON, `N` ([`json_len`]) bytes.
pub const fn json<const N: usize>(abi: &Abi) -> [u8; N] {
    let written = written(abi);
    assert!(written.n == N, "json::<N> takes json_len's N");
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = written.buf[i];
        i += 1;
    }
    out
}
