//! The value syntax of `ward`'s command line, as a library: what the
//! binary parses arguments with, and what the fuzz targets and property
//! tests exercise without a process.
//!
//! - [`parse`]: one strict parser per kind of value (integers, hex bytes,
//!   addresses, floats, gas limits).
//! - [`values`]: `--arg TYPE:VALUE` in the contract codec, and `--decode`.

pub mod parse;
pub mod values;
