//! Ward's module policy and instrumentation pass.
//!
//! Every untrusted module goes through [`prepare`] before any engine sees
//! it. The pass is a pure function of the bytes and a [`Policy`]: the same
//! input always yields the same verdict and, when accepted, the same
//! instrumented bytes, on every node and for both backends.
//!
//! 1. **Validation** with wasmparser against the configured [`Features`]
//!    (Wasm 2.0 without SIMD by default). A module that is valid only with a
//!    refused feature is [`PolicyError::UnsupportedFeature`], even when the
//!    feature appears only in dead code.
//! 2. **Structural limits** ([`Limits`]), each checked before anything is
//!    allocated in proportion to the module's claims.
//! 3. **Instrumentation** (unless [`Metering::None`]): gas charged per
//!    basic block before it runs, dynamic charges for bulk operations and
//!    `grow`, a deterministic call-depth limit, and NaN canonicalisation.
//!    See the `rewrite` module for exactly what is added.
//!
//! ```
//! use ward_instrument::{prepare, Limits, Policy, PolicyError};
//!
//! let policy = Policy { limits: Limits { max_memory_pages: 4, ..Limits::default() }, ..Policy::default() };
//! let ok = memory_module(2);
//! assert!(prepare(&ok, &policy).is_ok());
//! let big = memory_module(5);
//! assert!(matches!(prepare(&big, &policy), Err(PolicyError::LimitExceeded { limit: "max_memory_pages", .. })));
//! # fn memory_module(pages: u8) -> Vec<u8> {
//! #     // (module (memory N)) in binary, without pulling `wat` into doc tests.
//! #     vec![0, b'a', b's', b'm', 1, 0, 0, 0, 5, 3, 1, 0, pages]
//! # }
//! ```

mod analyze;
mod imports;
mod limits;
mod loops;
mod nan;
mod ops;
mod rewrite;
mod runs;
pub mod schedule;

use thiserror::Error;
use wasmparser::WasmFeatures;

pub(crate) use imports::write_signature;
pub use imports::{HostSignature, ImportPolicy};
pub use limits::Limits;
pub use schedule::{CostSchedule, InstanceShape, SCHEDULE_VERSION};

/// Exported by engine-metered modules: the meter, a mutable i64 global
/// holding the gas left, or after Ward's code trapped, the reason
/// ([`TRAP_OUT_OF_GAS`], [`TRAP_STACK_OVERFLOW`]).
pub const GAS_EXPORT: &str = "__ward_gas";
/// Exported by self-metered modules instead of [`GAS_EXPORT`]: the same
/// meter without gas in it (0, or the trap reason).
pub const TRAP_EXPORT: &str = "__ward_trap";
/// Exported by every instrumented module: the call depth (i32, in stack
/// units) at a boundary. The embedder writes the stack *base* there before
/// every entry (0 for a transaction's first frame; what the frames below
/// already use otherwise), and the module writes its depth there before
/// every host call, so that a host function that runs other code (a call
/// to another contract, a child) starts it where this frame's stack ends.
/// One budget, `max_stack_units`, then bounds the whole chain.
pub const STACK_EXPORT: &str = "__ward_stack";
/// Exported by instrumented modules that had a start function: call it right
/// after instantiation (it is metered like any other code).
pub const START_EXPORT: &str = "__ward_start";
/// Exported by instrumented modules that can be recycled
/// ([`Prepared::recyclable`]) and have mutable globals of their own: sets
/// every such global back to its initializer. Unmetered, and never called
/// by the module itself.
pub const RESET_EXPORT: &str = "__ward_reset";
/// Exported by instrumented modules that can be recycled and have a
/// memory: a mutable i64 global, a bitmap of the memory's granules
/// ([`dirty_shift`]) the module's own stores and bulk operations wrote
/// since the embedder last set it to 0 (bit `i`: bytes `i << shift` up to
/// `(i + 1) << shift`). A recycled instance is restored by rewriting those
/// granules alone, and the ones its host functions wrote. Marking is
/// conservative (a store may mark the granule after its own too) and
/// unmetered: the gas is the same with it or without.
pub const DIRTY_EXPORT: &str = "__ward_dirty";
/// The import module of the profiling hooks a module prepared with
/// [`Policy::profile`] calls (no module may import it itself):
///
/// - `enter(func: i32, gas: i64)` at the start of defined function `func`
///   (its index in the original module), before anything is charged;
/// - `leave(func: i32, gas: i64)` when it returns (not when it traps);
/// - `at(offset: i32)` before every call and every `unreachable`, with its
///   offset in the original module's bytes (where its DWARF line
///   information points).
///
/// `gas` is the gas left in an engine-metered module's meter, and -1 in a
/// self-metered one (whose gas the host keeps). The hooks are not metered:
/// the module charges exactly what it charges without them.
pub const PROFILE_MODULE: &str = "__ward_profile";
/// Export names a module may not use: they belong to the instrumentation.
pub const RESERVED_PREFIX: &str = "__ward";
/// The meter's value after Ward's code trapped because gas ran out (gas is
/// never negative otherwise).
pub const TRAP_OUT_OF_GAS: i64 = -1;
/// The meter's value after Ward's code trapped because the call-depth limit
/// was exceeded.
pub const TRAP_STACK_OVERFLOW: i64 = -2;
/// The version of the rewrite: what an instrumented module looks like for
/// given bytes and policy (globals, exports, thunks, checks). Part of the
/// policy's canonical bytes, so every cache key changes with it even when
/// no gas figure does. Bump it with any change to the emitted code.
pub const INSTRUMENTATION_VERSION: u32 = 11;

/// The smallest granule [`DIRTY_EXPORT`] marks: a page of the host's
/// memory, 4 KiB.
pub const MIN_DIRTY_SHIFT: u32 = 12;

/// The granule of [`DIRTY_EXPORT`]'s bitmap for a memory of
/// `memory_bytes` bytes (its size when the instance was new), as a power
/// of two: 4 KiB, or larger so that 64 granules cover the memory.
pub fn dirty_shift(memory_bytes: u64) -> u32 {
    let whole = memory_bytes.max(1).next_power_of_two().trailing_zeros();
    whole.saturating_sub(6).max(MIN_DIRTY_SHIFT)
}

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

/// How execution is metered. Chosen per module.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Metering {
    /// Engine-metered: the pass charges gas inline. The default for contracts.
    #[default]
    Instrumented,
    /// Self-metered: no gas instrumentation; the trusted guest charges itself
    /// through the `charge_gas` host function. The stack limit and NaN
    /// canonicalisation still apply.
    SelfMetered,
    /// No instrumentation at all: validation and limits only. For trusted
    /// test suites and benchmarks, never for untrusted code.
    None,
}

/// What to do about floating point.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FloatPolicy {
    /// Allow floats; every NaN an instruction produces is replaced by the
    /// canonical NaN, so results are bit-identical everywhere.
    #[default]
    Canonicalize,
    /// Refuse any module that uses floats (`unsupported_feature`).
    Reject,
}

/// Everything the pass depends on. Part of every cache key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Policy {
    /// Which imports a module may declare.
    pub imports: ImportPolicy,
    /// Allowed features.
    pub features: Features,
    /// Size and structure limits.
    pub limits: Limits,
    /// Metering mode.
    pub metering: Metering,
    /// Float handling.
    pub floats: FloatPolicy,
    /// The gas cost of each instruction.
    pub schedule: CostSchedule,
    /// How counted loops are charged (the gas is the same either way).
    pub loops: LoopCharging,
    /// Add the profiling hooks ([`PROFILE_MODULE`]): for diagnostics only
    /// (traces, backtraces, gas profiles). The gas charged is the same
    /// with or without them.
    pub profile: bool,
    /// Leave out the marks of written memory ([`DIRTY_EXPORT`]), so that
    /// recycled instances are restored whole: for an interpreter, where
    /// the marks cost more than the restore they save. Neither gas nor
    /// behaviour changes.
    pub whole_restores: bool,
}

/// How the instrumentation charges a *counted loop*: a loop of
/// straight-line code whose trip count is known when it is entered (a
/// counter stepped by a constant, tested against a
/// bound the loop does not change). The gas charged, and where running
/// out of gas strikes, are the same either way; only the instrumented code
/// and its speed differ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LoopCharging {
    /// Compute the trip count on entry and, when the gas covers every
    /// iteration, charge it at once and run a copy of the loop without
    /// checks; otherwise check every iteration. The default.
    #[default]
    Prepaid,
    /// Check every iteration (for comparison and tests).
    PerIteration,
}

impl Policy {
    /// A canonical encoding of everything the pass's output depends on:
    /// the schedule version, every limit, feature, mode and cost, each in a
    /// fixed order as little-endian bytes. Equal policies encode equally on
    /// every machine; any change of any field changes the encoding. Cache
    /// keys and config fingerprints hash this.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let Policy {
            imports,
            features,
            limits,
            metering,
            floats,
            schedule,
            loops,
            profile,
            whole_restores,
        } = self;
        let Features { simd } = *features;
        let mut out = Vec::with_capacity(256);
        out.extend(b"ward-policy");
        out.extend(SCHEDULE_VERSION.to_le_bytes());
        out.extend(INSTRUMENTATION_VERSION.to_le_bytes());
        out.push(u8::from(simd));
        out.push(match metering {
            Metering::Instrumented => 0,
            Metering::SelfMetered => 1,
            Metering::None => 2,
        });
        out.push(match floats {
            FloatPolicy::Canonicalize => 0,
            FloatPolicy::Reject => 1,
        });
        out.push(match loops {
            LoopCharging::Prepaid => 0,
            LoopCharging::PerIteration => 1,
        });
        // Only when on, so that every key made before profiling existed
        // stays what it was.
        if *profile {
            out.extend(b"profile");
        }
        if *whole_restores {
            out.extend(b"whole-restores");
        }
        for value in limits.entries() {
            out.extend(value.to_le_bytes());
        }
        for (_, cost) in schedule.entries() {
            out.extend(cost.to_le_bytes());
        }
        match imports {
            ImportPolicy::Any => out.push(0),
            ImportPolicy::Syscalls { module, max_params } => {
                out.push(2);
                out.extend((module.len() as u64).to_le_bytes());
                out.extend(module.as_bytes());
                out.push(*max_params);
            }
            ImportPolicy::Functions(list) => {
                out.push(1);
                out.extend((list.len() as u64).to_le_bytes());
                for f in list {
                    // Length-prefixed, so that no two lists encode alike.
                    let text = f.to_string();
                    out.extend((text.len() as u64).to_le_bytes());
                    out.extend(text.as_bytes());
                }
            }
        }
        out
    }
}

/// A module that passed the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prepared {
    /// The bytes to compile: instrumented unless [`Metering::None`].
    pub wasm: Vec<u8>,
    /// How the bytes are metered.
    pub metering: Metering,
    /// Whether the module had a start function (exported as [`START_EXPORT`]
    /// when instrumented).
    pub has_start: bool,
    /// Whether a finished instance of this module can be made
    /// indistinguishable from a new one by restoring its memory (exported
    /// as [`ward_abi::MEMORY_EXPORT`], same size as when it was new) and
    /// calling [`RESET_EXPORT`] when present: instrumented, no start
    /// function (whose effects and gas a new instance would repeat), at
    /// most that one memory, and no instruction that changes a table or
    /// drops a segment.
    pub recyclable: bool,
    /// How many loops the instrumented code pays for on entry (counted
    /// loops, [`LoopCharging::Prepaid`]).
    pub prepaid_loops: u32,
    /// What making an instance costs under the policy's schedule
    /// ([`CostSchedule::instance_cost`]), charged before every instance a
    /// metered call runs in.
    pub instance_gas: u64,
}

/// Validates `wasm`, checks it against the policy's limits, and instruments
/// it for the policy's metering mode.
///
/// # Errors
///
/// [`PolicyError::Invalid`], [`PolicyError::UnsupportedFeature`],
/// [`PolicyError::LimitExceeded`] (naming the limit, its value and what the
/// module has), [`PolicyError::ReservedName`], [`PolicyError::UnknownImport`]
/// or [`PolicyError::ImportSignatureMismatch`].
pub fn prepare(wasm: &[u8], policy: &Policy) -> Result<Prepared, PolicyError> {
    prepare_analyzed(wasm, policy, None).map(|(prepared, _)| prepared)
}

/// [`prepare`], also handing back the analysis it made (which [`inspect`]
/// reports from, so a module is validated once). `threads` sets how many
/// threads validate and instrument the bodies (`None`: as many as the
/// module's size warrants); the output, and the error, are the same for
/// any.
fn prepare_analyzed<'a>(
    wasm: &'a [u8],
    policy: &Policy,
    threads: Option<usize>,
) -> Result<(Prepared, analyze::Analysis<'a>), PolicyError> {
    let instrument = policy.metering != Metering::None;
    let analysis = analyze::analyze(
        wasm,
        policy.features,
        &policy.limits,
        policy.floats,
        &policy.imports,
        instrument,
        threads,
    )?;
    let has_start = analysis.start.is_some();
    let instance_gas = policy.schedule.instance_cost(&analysis.shape);
    if !instrument {
        let prepared = Prepared {
            wasm: wasm.to_vec(),
            metering: Metering::None,
            has_start,
            recyclable: false,
            prepaid_loops: 0,
            instance_gas,
        };
        return Ok((prepared, analysis));
    }
    let recyclable = !policy.profile
        && !has_start
        && !analysis.changes_tables_or_segments
        && (analysis.memories == 0 || (analysis.memories == 1 && analysis.memory_exported));
    let plan = rewrite::Plan {
        schedule: &policy.schedule,
        gas: policy.metering == Metering::Instrumented,
        canonicalize_nans: policy.floats == FloatPolicy::Canonicalize,
        max_stack_units: policy.limits.max_stack_units.min(1 << 30),
        prepay_loops: policy.loops == LoopCharging::Prepaid,
        reset: recyclable,
        dirty: (recyclable && analysis.memories == 1 && !policy.whole_restores)
            .then(|| dirty_shift(analysis.shape.pages.saturating_mul(WASM_PAGE))),
        profile: policy.profile,
    };
    let (out, prepaid_loops) = rewrite::rewrite(&analysis, &plan, threads)?;
    ensure_within(
        "max_instrumented_bytes",
        policy.limits.max_instrumented_bytes,
        out.len() as u64,
    )?;
    let prepared = Prepared {
        wasm: out,
        metering: policy.metering,
        has_start,
        recyclable,
        prepaid_loops,
        instance_gas,
    };
    Ok((prepared, analysis))
}

/// The bytes of a WebAssembly memory page.
const WASM_PAGE: u64 = 65_536;

/// One limit beside what a module has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitUse {
    /// The limit's name, as in [`Limits`].
    pub name: &'static str,
    /// The limit's value.
    pub limit: u64,
    /// What the module has (its largest instance, for per-item limits).
    pub found: u64,
}

/// What `ward inspect` reports about a module that passed the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inspection {
    /// Imports: (module, name, kind).
    pub imports: Vec<(String, String, &'static str)>,
    /// Exports: (name, kind).
    pub exports: Vec<(String, &'static str)>,
    /// Wasm 2.0 features the module needs (and `floats`).
    pub features: Vec<&'static str>,
    /// Every limit the module was measured against.
    pub limits: Vec<LimitUse>,
    /// Whether it has a start function.
    pub has_start: bool,
    /// The module's size in bytes.
    pub module_bytes: u64,
    /// The instrumented module's size, unless the policy does not instrument.
    pub instrumented_bytes: Option<u64>,
    /// How many loops the instrumented code pays for on entry.
    pub prepaid_loops: u32,
    /// What making an instance costs in gas, and of what it is made.
    pub instance: (u64, InstanceShape),
}

/// Validates and measures `wasm` as [`prepare`] would, and describes it.
///
/// # Errors
///
/// Exactly the error [`prepare`] would return.
pub fn inspect(wasm: &[u8], policy: &Policy) -> Result<Inspection, PolicyError> {
    let (prepared, analysis) = prepare_analyzed(wasm, policy, None)?;
    let instrumented_bytes =
        (prepared.metering != Metering::None).then_some(prepared.wasm.len() as u64);
    let mut found = analysis.measures.found;
    if let Some(bytes) = instrumented_bytes {
        found.insert("max_instrumented_bytes", bytes);
    }
    let limits = Limits::NAMES
        .iter()
        .zip(policy.limits.entries())
        .filter_map(|(&name, limit)| {
            found
                .get(name)
                .map(|&found| LimitUse { name, limit, found })
        })
        .collect();
    Ok(Inspection {
        imports: analysis.imports,
        exports: analysis.exports,
        features: features_used(wasm, policy.features),
        limits,
        has_start: prepared.has_start,
        module_bytes: wasm.len() as u64,
        instrumented_bytes,
        prepaid_loops: prepared.prepaid_loops,
        instance: (prepared.instance_gas, analysis.shape),
    })
}

/// The features a valid module needs: those without which it no longer
/// validates.
fn features_used(wasm: &[u8], features: Features) -> Vec<&'static str> {
    let all = features.wasm_features();
    [
        ("mutable-global", WasmFeatures::MUTABLE_GLOBAL),
        ("sign-extension", WasmFeatures::SIGN_EXTENSION),
        (
            "saturating-float-to-int",
            WasmFeatures::SATURATING_FLOAT_TO_INT,
        ),
        ("multi-value", WasmFeatures::MULTI_VALUE),
        ("bulk-memory", WasmFeatures::BULK_MEMORY),
        ("reference-types", WasmFeatures::REFERENCE_TYPES),
        ("simd", WasmFeatures::SIMD),
        ("floats", WasmFeatures::FLOATS),
    ]
    .into_iter()
    .filter(|(_, feature)| all.contains(*feature))
    .filter(|(_, feature)| {
        let mut without = all;
        without.remove(*feature);
        wasmparser::Validator::new_with_features(without)
            .validate_all(wasm)
            .is_err()
    })
    .map(|(name, _)| name)
    .collect()
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
    /// The module exports a name reserved for the instrumentation.
    #[error("export name `{name}` is reserved (prefix `__ward`)")]
    ReservedName {
        /// The export's name.
        name: String,
    },
    /// An import that the policy does not provide.
    #[error("unknown import {module}.{name} ({kind}): only listed host functions may be imported")]
    UnknownImport {
        /// Import module.
        module: String,
        /// Import name.
        name: String,
        /// `func`, `memory`, `table`, `global` or `tag`.
        kind: &'static str,
    },
    /// A host function imported with the wrong signature.
    #[error("import {module}.{name}: expected {expected}, module declares {found}")]
    ImportSignatureMismatch {
        /// Import module.
        module: String,
        /// Import name.
        name: String,
        /// The host function's signature.
        expected: String,
        /// The module's.
        found: String,
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

pub(crate) fn ensure_within(
    limit: &'static str,
    value: u64,
    found: u64,
) -> Result<(), PolicyError> {
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

pub(crate) fn invalid(err: wasmparser::BinaryReaderError) -> PolicyError {
    let message = err.message();
    let message = if message.starts_with("magic header not detected") {
        // wasmparser prints both headers as multi-line debug arrays.
        "not a wasm module: it does not start with `\\0asm` (00 61 73 6d)".to_owned()
    } else {
        // One line, whatever the parser's formatting.
        message.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    PolicyError::Invalid {
        offset: err.offset(),
        message,
    }
}

#[cfg(test)]
mod tests;
