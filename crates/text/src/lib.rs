//! The text forms of the values a Ward user types, one strict parser per
//! kind: what the `ward` CLI takes on its command line, and what the fuzz
//! targets throw at it without a CLI around it.
//!
//! - [`parse`]: integers (decimal or `0x` hex, `_` between digits, the
//!   type's range checked), hex bytes, 32-byte words, floats, gas limits
//!   and amounts of the native asset.
//! - [`values`]: `TYPE:VALUE` arguments in a contract schema's own types
//!   ([`ward_chain::schema::Type`]: `u128:5`, `address:0x…`, `str:hi`,
//!   `vec<u32>:[1,2]`), encoded in the contract codec, plus `raw:0x…`
//!   for bytes appended as they are.

pub mod parse;
pub mod values;
