//! The contract schema: what [`contract!`](crate::contract) records about a
//! contract (its `init`, methods and events, with named and typed
//! arguments) in the module's `ward.schema` custom section, so that clients
//! can call it with JSON and show what it returns and emits.
//!
//! Every codec type has a [`SchemaType`]: `u8`…`u128`, `i8`…`i128`, `bool`,
//! [`Address`], `String`/`&str` (`str`), `Vec<T>` (`vec<T>`; `Vec<u8>` is
//! shown as `bytes`), `Option<T>`, tuples, `[u8; N]`, and the structs of
//! [`record!`](crate::record) (as the tuple of their fields). The section is
//! built at compile time by [`encode`]; its layout is in docs/contracts.md.
//!
//! ```
//! use ward_sdk::schema::{Arg, Contract, Method, SchemaType, encode, encoded_len};
//!
//! const C: Contract = Contract {
//!     init: None,
//!     methods: &[Method {
//!         name: "get",
//!         args: &[],
//!         returns: <u64 as SchemaType>::TYPE,
//!         read_only: true,
//!         payable: false,
//!     }],
//!     events: &[],
//! };
//! const LEN: usize = encoded_len(&C);
//! static SECTION: [u8; LEN] = encode(&C);
//! assert_eq!(SECTION[0], ward_sdk::schema::VERSION);
//! ```

use alloc::{string::String, vec::Vec};

pub use ward_primitives::schema::{SECTION, VERSION, tag};
use ward_primitives::{Address, Hash32};

/// A codec type, as the schema records it.
#[derive(Clone, Copy, Debug)]
pub enum Ty {
    /// A type of one tag and nothing else (`u8`, `bool`, `address`, …).
    Plain(u8),
    /// `vec<T>`.
    Vec {
        /// The element type.
        of: &'static Ty,
    },
    /// `option<T>`.
    Option {
        /// The value's type.
        of: &'static Ty,
    },
    /// A tuple (`()` is the empty one).
    Tuple {
        /// The element types, in order.
        of: &'static [Ty],
    },
    /// `[T; N]`.
    Array {
        /// The element type.
        of: &'static Ty,
        /// `N`.
        len: u32,
    },
}

/// A type that can appear in a schema: every codec type.
pub trait SchemaType {
    /// How the schema records it.
    const TYPE: Ty;
}

/// A method's result as the schema records it: the value's type, or the
/// `Ok` type of a `Result<T, Revert>` (a revert carries its message).
pub trait SchemaReturn {
    /// How the schema records it.
    const TYPE: Ty;
}

impl<T: SchemaType> SchemaReturn for T {
    const TYPE: Ty = T::TYPE;
}

impl<T: SchemaType> SchemaReturn for Result<T, crate::Revert> {
    const TYPE: Ty = T::TYPE;
}

macro_rules! plain {
    ($($ty:ty => $tag:ident),* $(,)?) => {
        $( impl SchemaType for $ty { const TYPE: Ty = Ty::Plain(tag::$tag); } )*
    };
}

plain! {
    u8 => U8, u16 => U16, u32 => U32, u64 => U64, u128 => U128,
    i8 => I8, i16 => I16, i32 => I32, i64 => I64, i128 => I128,
    bool => BOOL, Address => ADDRESS, String => STR, str => STR,
}

impl SchemaType for Hash32 {
    const TYPE: Ty = <[u8; 32] as SchemaType>::TYPE;
}

impl<T: SchemaType + ?Sized> SchemaType for &T {
    const TYPE: Ty = T::TYPE;
}

impl<T: SchemaType> SchemaType for Vec<T> {
    const TYPE: Ty = Ty::Vec { of: &T::TYPE };
}

impl<T: SchemaType> SchemaType for [T] {
    const TYPE: Ty = Ty::Vec { of: &T::TYPE };
}

impl<T: SchemaType> SchemaType for Option<T> {
    const TYPE: Ty = Ty::Option { of: &T::TYPE };
}

impl<const N: usize> SchemaType for [u8; N] {
    const TYPE: Ty = Ty::Array {
        of: &Ty::Plain(tag::U8),
        len: N as u32,
    };
}

impl SchemaType for () {
    const TYPE: Ty = Ty::Tuple { of: &[] };
}

macro_rules! tuples {
    ($( ($($name:ident),+) )*) => {
        $( impl<$($name: SchemaType),+> SchemaType for ($($name,)+) {
            const TYPE: Ty = Ty::Tuple { of: &[$($name::TYPE),+] };
        } )*
    };
}

crate::codec::with_tuples!(tuples);

/// A named argument of a method or `init`, or a field of an event.
#[derive(Clone, Copy, Debug)]
pub struct Arg {
    /// Its name.
    pub name: &'static str,
    /// Its type.
    pub ty: Ty,
}

/// A method.
#[derive(Clone, Copy, Debug)]
pub struct Method {
    /// Its name: what a call's input starts with.
    pub name: &'static str,
    /// Its arguments, in order.
    pub args: &'static [Arg],
    /// What it returns (`()` for nothing).
    pub returns: Ty,
    /// Whether it is declared `#[read_only]`.
    pub read_only: bool,
    /// Whether it is declared `#[payable]`: only such a method takes a
    /// call with value.
    pub payable: bool,
}

/// An event: its name is its topic, its fields are its data in order.
#[derive(Clone, Copy, Debug)]
pub struct EventSchema {
    /// Its name (and topic).
    pub name: &'static str,
    /// Its fields, in order.
    pub fields: &'static [Arg],
}

/// A whole contract.
#[derive(Clone, Copy, Debug)]
pub struct Contract {
    /// `init`'s arguments, when the contract has one.
    pub init: Option<&'static [Arg]>,
    /// Its methods, in declaration order.
    pub methods: &'static [Method],
    /// Its events, in declaration order.
    pub events: &'static [EventSchema],
}

/// The length of `contract`'s section.
pub const fn encoded_len(contract: &Contract) -> usize {
    let mut w = Writer::<0> {
        out: [],
        len: 0,
        count_only: true,
    };
    w.contract(contract);
    w.len
}

/// `contract`'s section; `N` must be [`encoded_len`]`(contract)` (a
/// mismatch fails the build).
pub const fn encode<const N: usize>(contract: &Contract) -> [u8; N] {
    let mut w = Writer {
        out: [0u8; N],
        len: 0,
        count_only: false,
    };
    w.contract(contract);
    assert!(w.len == N, "schema length mismatch");
    w.out
}

/// Writes (or, with `count_only`, measures) a section in a `const fn`.
struct Writer<const N: usize> {
    out: [u8; N],
    len: usize,
    count_only: bool,
}

impl<const N: usize> Writer<N> {
    const fn byte(&mut self, b: u8) {
        if !self.count_only {
            self.out[self.len] = b;
        }
        self.len += 1;
    }

    const fn u32(&mut self, v: u32) {
        let bytes = v.to_le_bytes();
        let mut i = 0;
        while i < 4 {
            self.byte(bytes[i]);
            i += 1;
        }
    }

    const fn count(&mut self, n: usize) {
        assert!(n <= u32::MAX as usize, "schema list too long");
        self.u32(n as u32);
    }

    const fn str(&mut self, s: &str) {
        let bytes = s.as_bytes();
        self.count(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            self.byte(bytes[i]);
            i += 1;
        }
    }

    const fn ty(&mut self, ty: &Ty) {
        match ty {
            Ty::Plain(t) => self.byte(*t),
            // `Vec<u8>` is `bytes`: the same encoding, shown as hex.
            Ty::Vec {
                of: Ty::Plain(tag::U8),
            } => self.byte(tag::BYTES),
            Ty::Vec { of } => {
                self.byte(tag::VEC);
                self.ty(of);
            }
            Ty::Option { of } => {
                self.byte(tag::OPTION);
                self.ty(of);
            }
            Ty::Tuple { of } => {
                self.byte(tag::TUPLE);
                assert!(of.len() <= u8::MAX as usize, "tuple too long");
                self.byte(of.len() as u8);
                let mut i = 0;
                while i < of.len() {
                    self.ty(&of[i]);
                    i += 1;
                }
            }
            Ty::Array { of, len } => {
                self.byte(tag::ARRAY);
                self.u32(*len);
                self.ty(of);
            }
        }
    }

    const fn args(&mut self, args: &[Arg]) {
        self.count(args.len());
        let mut i = 0;
        while i < args.len() {
            self.str(args[i].name);
            self.ty(&args[i].ty);
            i += 1;
        }
    }

    const fn contract(&mut self, c: &Contract) {
        self.byte(VERSION);
        match c.init {
            None => self.byte(0),
            Some(args) => {
                self.byte(1);
                self.args(args);
            }
        }
        self.count(c.methods.len());
        let mut i = 0;
        while i < c.methods.len() {
            let m = &c.methods[i];
            self.str(m.name);
            self.args(m.args);
            self.ty(&m.returns);
            // Flags: bit 0 read-only, bit 1 payable (a schema without
            // payable methods reads as it did before).
            self.byte(m.read_only as u8 | (m.payable as u8) << 1);
            i += 1;
        }
        self.count(c.events.len());
        let mut i = 0;
        while i < c.events.len() {
            self.str(c.events[i].name);
            self.args(c.events[i].fields);
            i += 1;
        }
    }
}
