//! Ward's module policy: what every untrusted module must pass before it is
//! handed to an engine.
//!
//! The policy is a pure function of the module's bytes and a [`Limits`]
//! value: the same inputs always give the same verdict, on every node, and
//! the checks run before anything is compiled. Checks never allocate in
//! proportion to a count the module claims; they compare the claim with the
//! limit first.
//!
//! This first version enforces the size limits the engine core needs
//! (module size, memory pages, table elements). Feature policy, structural
//! limits and gas instrumentation build on the same entry point.
//!
//! ```
//! use ward_instrument::{check, Limits, PolicyError};
//!
//! let limits = Limits { max_memory_pages: 4, ..Limits::default() };
//! let ok = wat_bytes("(module (memory 2))");
//! assert!(check(&ok, &limits).is_ok());
//! let big = wat_bytes("(module (memory 5))");
//! assert!(matches!(check(&big, &limits), Err(PolicyError::LimitExceeded { limit: "max_memory_pages", .. })));
//! # fn wat_bytes(s: &str) -> Vec<u8> {
//! #     // (module (memory N)) in binary, without pulling `wat` into doc tests.
//! #     let pages: u8 = s.trim_start_matches("(module (memory ").trim_end_matches("))").parse().unwrap();
//! #     vec![0, b'a', b's', b'm', 1, 0, 0, 0, 5, 3, 1, 0, pages]
//! # }
//! ```

use thiserror::Error;
use wasmparser::{Parser, Payload, TableType, Validator, WasmFeatures};

/// The WebAssembly features a module may use. A consensus value: nodes that
/// disagree on it disagree on which modules are valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Features {
    /// Fixed-width SIMD (`v128`). Off by default.
    pub simd: bool,
}

impl Default for Features {
    /// Wasm 2.0 without SIMD: MVP, mutable globals, sign extension,
    /// non-trapping float-to-int, multi-value, bulk memory, reference types.
    fn default() -> Self {
        Features { simd: false }
    }
}

impl Features {
    /// The wasmparser feature set this corresponds to.
    pub fn wasm_features(self) -> WasmFeatures {
        let mut features = WasmFeatures::WASM2;
        if !self.simd {
            features.remove(WasmFeatures::SIMD);
        }
        features
    }
}

/// The size limits a module is checked against. Each is a consensus value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Largest module accepted, in bytes. Default: 4 MiB.
    pub max_module_bytes: u64,
    /// Largest linear memory, in 64 KiB pages: a module declaring more
    /// initial pages is rejected, and `memory.grow` past it returns -1.
    /// Default: 256 pages (16 MiB).
    pub max_memory_pages: u32,
    /// Largest table, in elements: a module declaring more initial elements
    /// is rejected, and `table.grow` past it returns -1. Default: 10 000.
    pub max_table_elements: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_module_bytes: 4 * 1024 * 1024,
            max_memory_pages: 256,
            max_table_elements: 10_000,
        }
    }
}

impl Limits {
    /// Limits as large as WebAssembly itself allows (32-bit memories and
    /// tables), for running trusted test suites. Never for untrusted code.
    pub fn unbounded() -> Self {
        Limits {
            max_module_bytes: u64::MAX,
            max_memory_pages: 65_536,
            max_table_elements: u32::MAX,
        }
    }
}

/// Why a module was refused by the policy.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The bytes are not a well-formed module.
    #[error("invalid wasm at offset {offset}: {message}")]
    Invalid {
        /// Byte offset of the problem.
        offset: usize,
        /// What the parser reported.
        message: String,
    },
    /// The module needs a feature outside the configured set.
    #[error("unsupported feature: {message}")]
    UnsupportedFeature {
        /// What the validator reported.
        message: String,
    },
    /// A named limit was exceeded.
    #[error("limit {limit} exceeded: limit is {value}, module has {found}")]
    LimitExceeded {
        /// The limit's name, as in [`Limits`].
        limit: &'static str,
        /// The limit's value.
        value: u64,
        /// What the module has or asks for.
        found: u64,
    },
}

/// Validates `wasm` against `features` and checks it against `limits`,
/// without compiling it.
///
/// Validation is wasmparser's, the same code for every backend, so whether a
/// module is valid never depends on the engine that will run it.
///
/// # Errors
///
/// [`PolicyError::LimitExceeded`] naming the first limit the module breaks,
/// [`PolicyError::UnsupportedFeature`] when it is valid WebAssembly only
/// with a feature outside `features`, or [`PolicyError::Invalid`].
pub fn validate(wasm: &[u8], features: Features, limits: &Limits) -> Result<(), PolicyError> {
    // Size first: it is free, and bounds the work validation does.
    ensure_within(
        "max_module_bytes",
        limits.max_module_bytes,
        wasm.len() as u64,
    )?;
    if let Err(err) = Validator::new_with_features(features.wasm_features()).validate_all(wasm) {
        // Valid with every feature on: the module is fine, the policy is not.
        if Validator::new_with_features(WasmFeatures::all())
            .validate_all(wasm)
            .is_ok()
        {
            return Err(PolicyError::UnsupportedFeature {
                message: err.message().to_string(),
            });
        }
        return Err(invalid(err));
    }
    // Only a valid module is measured against the limits, so that an
    // invalid one is always `invalid_wasm`, whatever it claims.
    check(wasm, limits)
}

/// Checks `wasm` against `limits` only, without validating it.
///
/// # Errors
///
/// [`PolicyError::LimitExceeded`] naming the first limit the module breaks,
/// or [`PolicyError::Invalid`] when the bytes cannot be parsed far enough to
/// check them.
pub fn check(wasm: &[u8], limits: &Limits) -> Result<(), PolicyError> {
    ensure_within(
        "max_module_bytes",
        limits.max_module_bytes,
        wasm.len() as u64,
    )?;
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(invalid)?;
        match payload {
            Payload::MemorySection(reader) => {
                for memory in reader {
                    let memory = memory.map_err(invalid)?;
                    check_memory_pages(limits, memory.initial)?;
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    check_table(limits, &table.map_err(invalid)?.ty)?;
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    match import.map_err(invalid)?.ty {
                        wasmparser::TypeRef::Memory(memory) => {
                            check_memory_pages(limits, memory.initial)?;
                        }
                        wasmparser::TypeRef::Table(table) => check_table(limits, &table)?,
                        _ => {}
                    }
                }
            }
            // Function bodies are not needed for the size policy; skip them
            // without parsing.
            Payload::CodeSectionStart { .. } | Payload::CodeSectionEntry(_) => {}
            _ => {}
        }
    }
    Ok(())
}

fn check_memory_pages(limits: &Limits, initial: u64) -> Result<(), PolicyError> {
    ensure_within(
        "max_memory_pages",
        u64::from(limits.max_memory_pages),
        initial,
    )
}

fn check_table(limits: &Limits, table: &TableType) -> Result<(), PolicyError> {
    ensure_within(
        "max_table_elements",
        u64::from(limits.max_table_elements),
        table.initial,
    )
}

fn ensure_within(limit: &'static str, value: u64, found: u64) -> Result<(), PolicyError> {
    if found > value {
        Err(PolicyError::LimitExceeded {
            limit,
            value,
            found,
        })
    } else {
        Ok(())
    }
}

fn invalid(err: wasmparser::BinaryReaderError) -> PolicyError {
    PolicyError::Invalid {
        offset: err.offset(),
        message: err.message().to_string(),
    }
}

#[cfg(test)]
mod tests;
