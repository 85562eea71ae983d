//! The constants of a contract schema's binary form, shared by the SDK that
//! writes it (`ward_sdk::schema`) and the hosts and clients that read it
//! (`ward_chain::schema`). The format is described in docs/contracts.md.

/// The custom section a module carries its schema in.
pub const SECTION: &str = "ward.schema";

/// The schema format this build writes and reads.
pub const VERSION: u8 = 1;

/// The largest schema section accepted, in bytes.
pub const MAX_SECTION_BYTES: usize = 64 * 1024;
/// The longest method, event, argument or field name, in bytes.
pub const MAX_NAME_BYTES: usize = 64;
/// The most methods a schema may declare.
pub const MAX_METHODS: usize = 256;
/// The most events a schema may declare.
pub const MAX_EVENTS: usize = 256;
/// The most arguments of a method (or `init`), or fields of an event.
pub const MAX_ARGS: usize = 32;
/// The deepest nesting of types (`vec<option<u8>>` is depth 3).
pub const MAX_TYPE_DEPTH: usize = 8;
/// The most elements of a tuple type.
pub const MAX_TUPLE: usize = 16;
/// The longest fixed array type (`[u8; N]`).
pub const MAX_ARRAY: u32 = 1024;

/// One byte per type, then what the type needs: the element type of
/// `vec` and `option`, a `u8` count and the element types of a tuple, a
/// `u32` length and the element type of an array.
pub mod tag {
    /// `u8`.
    pub const U8: u8 = 1;
    /// `u16`.
    pub const U16: u8 = 2;
    /// `u32`.
    pub const U32: u8 = 3;
    /// `u64`.
    pub const U64: u8 = 4;
    /// `u128`.
    pub const U128: u8 = 5;
    /// `i8`.
    pub const I8: u8 = 6;
    /// `i16`.
    pub const I16: u8 = 7;
    /// `i32`.
    pub const I32: u8 = 8;
    /// `i64`.
    pub const I64: u8 = 9;
    /// `i128`.
    pub const I128: u8 = 10;
    /// `bool`.
    pub const BOOL: u8 = 11;
    /// `address`.
    pub const ADDRESS: u8 = 12;
    /// `str`.
    pub const STR: u8 = 13;
    /// `bytes`.
    pub const BYTES: u8 = 14;
    /// `vec<T>`.
    pub const VEC: u8 = 15;
    /// `option<T>`.
    pub const OPTION: u8 = 16;
    /// A tuple, `()` included.
    pub const TUPLE: u8 = 17;
    /// `[T; N]`.
    pub const ARRAY: u8 = 18;
}
