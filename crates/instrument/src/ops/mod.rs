//! One classification of every instruction: what it costs, how it moves
//! control, what it does with floats, whether it is charged by its
//! operands, whether it changes tables or segments.
//!
//! [`class`] is generated over wasmparser's own operator list
//! (`for_each_operator!`), the way wasmi's translator covers every
//! operator: each instruction of a proposal Ward enables is looked up by
//! name in [`table`], so a wasmparser upgrade that adds one fails to
//! compile until the table classifies it; each proposal Ward refuses is
//! named too, so a new proposal fails to compile until someone decides.
//! Every other rule of the pass (the gas schedule, segment boundaries,
//! counted loops, the float policy, NaN canonicalisation, recycling) reads
//! this one table instead of matching instructions by hand.

mod table;
#[cfg(test)]
mod tests;

use wasmparser::{Operator, ValType};

/// Which schedule entry an instruction pays (see `CostSchedule::cost`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cost {
    /// Structure that compiles to nothing: `block`, `loop`, `else`, `end`,
    /// `nop`.
    Free,
    Base,
    IntMul,
    IntDiv,
    Float,
    FloatDiv,
    MemoryAccess,
    BrTable,
    Call,
    CallIndirect,
    TableAccess,
    /// `memory.grow`, `table.grow`: `grow_base` up front, the rest by what
    /// was granted ([`Dynamic`]).
    Grow,
    /// Bulk operations: `bulk_base` up front, the rest by length.
    Bulk,
    SegmentDrop,
}

/// How an instruction moves control, as far as metering is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Falls through to the next instruction.
    Straight,
    /// Opens a construct: `block`, `loop`, `if`.
    Open,
    /// `else`.
    Else,
    /// `end`.
    End,
    /// A conditional branch within the function: `br_if`.
    Branch,
    /// An unconditional branch within the function: `br`, `br_table`.
    Jump,
    /// Runs other code and comes back: `call`, `call_indirect`.
    Call,
    /// Leaves the function: `return`.
    Exit,
    /// Always traps: `unreachable`.
    Trap,
    /// An instruction of a proposal Ward refuses. Validation never lets
    /// one through; every rule treats it as the most conservative case.
    Refused,
}

/// The width of a float.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Float {
    F32,
    F64,
}

/// What an instruction does with floats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FloatUse {
    /// Nothing (a `v128` is bits until a float lane operation reads it).
    None,
    /// Produces, consumes or moves float bits without inventing a NaN
    /// (constants, loads, stores, abs/neg/copysign, conversions from
    /// integers, reinterpretations, lane moves, `pmin`/`pmax`).
    Moves,
    /// Compares floats: the result never depends on a NaN's bits.
    Compares,
    /// Converts to integers: on a NaN it traps or saturates, whatever its
    /// bits.
    ToInt,
    /// Arithmetic that can produce a NaN whose bits the specification does
    /// not fix; canonicalised after the instruction.
    Nan(Float),
    /// SIMD float arithmetic that can produce such a NaN in any lane. The
    /// rewrite canonicalises scalars only, so a policy that promises
    /// canonical NaNs refuses these.
    LaneNan,
}

/// Instructions charged by their operands at run time, on top of their
/// static cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dynamic {
    None,
    /// `memory.fill/copy/init`: per 64 bytes of length.
    MemoryBulk,
    /// `table.fill/copy/init`: per element of length.
    TableBulk,
    /// `memory.grow`: per page granted.
    MemoryGrow,
    /// `table.grow`: per element granted.
    TableGrow,
}

/// What a store writes: `bytes` bytes at its effective address (its
/// address operand plus its offset), from a value of type `value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Store {
    pub(crate) bytes: u8,
    pub(crate) value: StoreValue,
}

/// The type of the value a store takes off the stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StoreValue {
    I32,
    I64,
    F32,
    F64,
    V128,
}

/// The offset of a store's effective address past its address operand
/// (only stores have one here: [`Class::store`] says which ops are).
pub(crate) fn store_offset(op: &Operator<'_>) -> u64 {
    match op {
        Operator::I32Store { memarg }
        | Operator::I64Store { memarg }
        | Operator::F32Store { memarg }
        | Operator::F64Store { memarg }
        | Operator::I32Store8 { memarg }
        | Operator::I32Store16 { memarg }
        | Operator::I64Store8 { memarg }
        | Operator::I64Store16 { memarg }
        | Operator::I64Store32 { memarg }
        | Operator::V128Store { memarg }
        | Operator::V128Store8Lane { memarg, .. }
        | Operator::V128Store16Lane { memarg, .. }
        | Operator::V128Store32Lane { memarg, .. }
        | Operator::V128Store64Lane { memarg, .. } => memarg.offset,
        _ => 0,
    }
}

/// Everything the pass knows about one instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Class {
    pub(crate) cost: Cost,
    pub(crate) flow: Flow,
    pub(crate) float: FloatUse,
    pub(crate) dynamic: Dynamic,
    /// Changes a table or drops a segment: instance state that recycling
    /// must put back.
    pub(crate) writes_tables: bool,
    /// A store: how many bytes it writes at its address, and the type of
    /// the value it stores (what the rewrite keeps aside while it marks
    /// the address written).
    pub(crate) store: Option<Store>,
    /// Only computes: cannot trap, call, branch, touch memory or tables, or
    /// write a global (its segment's cost can be paid by the branch it
    /// leads to).
    pub(crate) pure: bool,
}

impl Class {
    /// A straight-line instruction of the given cost, touching no float.
    const fn costs(cost: Cost) -> Class {
        Class {
            cost,
            flow: Flow::Straight,
            float: FloatUse::None,
            dynamic: Dynamic::None,
            writes_tables: false,
            store: None,
            pure: false,
        }
    }

    const fn flow(self, flow: Flow) -> Class {
        Class { flow, ..self }
    }

    const fn float(self, float: FloatUse) -> Class {
        Class { float, ..self }
    }

    const fn dynamic(self, dynamic: Dynamic) -> Class {
        Class { dynamic, ..self }
    }

    const fn pure(self) -> Class {
        Class { pure: true, ..self }
    }

    const fn stores(self, bytes: u8, value: StoreValue) -> Class {
        Class {
            store: Some(Store { bytes, value }),
            ..self
        }
    }

    const fn writes_tables(self) -> Class {
        Class {
            writes_tables: true,
            ..self
        }
    }
}

/// The class of every instruction of a proposal Ward refuses.
const REFUSED: Class = Class::costs(Cost::Base)
    .flow(Flow::Refused)
    .float(FloatUse::Moves)
    .writes_tables();

/// Looks an instruction up by proposal and name. Every proposal wasmparser
/// knows is named here: the enabled ones resolve in [`table`], the others
/// are refused by validation before anything asks.
macro_rules! lookup {
    (@mvp $op:ident) => {
        table::$op
    };
    (@sign_extension $op:ident) => {
        table::$op
    };
    (@saturating_float_to_int $op:ident) => {
        table::$op
    };
    (@bulk_memory $op:ident) => {
        table::$op
    };
    (@reference_types $op:ident) => {
        table::$op
    };
    (@simd $op:ident) => {
        table::$op
    };
    (@relaxed_simd $op:ident) => {
        REFUSED
    };
    (@threads $op:ident) => {
        REFUSED
    };
    (@shared_everything_threads $op:ident) => {
        REFUSED
    };
    (@exceptions $op:ident) => {
        REFUSED
    };
    (@legacy_exceptions $op:ident) => {
        REFUSED
    };
    (@tail_call $op:ident) => {
        REFUSED
    };
    (@function_references $op:ident) => {
        REFUSED
    };
    (@gc $op:ident) => {
        REFUSED
    };
    (@stack_switching $op:ident) => {
        REFUSED
    };
    (@wide_arithmetic $op:ident) => {
        REFUSED
    };
    (@memory_control $op:ident) => {
        REFUSED
    };
    (@custom_descriptors $op:ident) => {
        REFUSED
    };
}

macro_rules! define_class {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*))*) => {
        /// The class of `op`.
        pub(crate) fn class(op: &Operator<'_>) -> Class {
            match op {
                $( Operator::$op { .. } => lookup!(@$proposal $op), )*
                // `Operator` is non-exhaustive; wasmparser's list above
                // names every variant it has.
                _ => REFUSED,
            }
        }

        /// Every instruction of an enabled proposal, in wasmparser's
        /// order: its proposal, its text name and its class.
        #[cfg(test)]
        pub(crate) fn enabled() -> Vec<(&'static str, String, Class)> {
            let mut all = Vec::new();
            $(
                let class = lookup!(@$proposal $op);
                if class != REFUSED {
                    let name = text_name(stringify!($op), stringify!($visit));
                    all.push((stringify!($proposal), name, class));
                }
            )*
            all
        }
    };
}

wasmparser::for_each_operator!(define_class);

/// The text-format name of an instruction from its visitor's name
/// (`visit_i32_load8_s` is `i32.load8_s`).
#[cfg(test)]
fn text_name(op: &str, visit: &str) -> String {
    const PREFIXES: [&str; 18] = [
        "i32", "i64", "f32", "f64", "v128", "i8x16", "i16x8", "i32x4", "i64x2", "f32x4", "f64x2",
        "memory", "table", "local", "global", "ref", "data", "elem",
    ];
    let name = visit.trim_start_matches("visit_");
    match (op, name.split_once('_')) {
        ("TypedSelect", _) => "select (typed)".to_owned(),
        ("TypedSelectMulti", _) => "select (typed, many results)".to_owned(),
        (_, Some((prefix, rest))) if PREFIXES.contains(&prefix) => format!("{prefix}.{rest}"),
        _ => name.to_owned(),
    }
}

/// Arithmetic that can produce a NaN whose bits the specification does not
/// fix, and the width of its result.
pub(crate) fn nan_source(op: &Operator<'_>) -> Option<Float> {
    match class(op).float {
        FloatUse::Nan(width) => Some(width),
        _ => None,
    }
}

/// Whether an instruction (of class `class`) produces, consumes or moves a
/// float.
pub(crate) fn touches_floats(op: &Operator<'_>, class: Class) -> bool {
    match class.float {
        FloatUse::None => {
            // `select` with a type annotation names a float without
            // computing anything.
            let float = |ty: &ValType| matches!(ty, ValType::F32 | ValType::F64);
            match op {
                Operator::TypedSelect { ty } => float(ty),
                Operator::TypedSelectMulti { tys } => tys.iter().any(float),
                _ => false,
            }
        }
        FloatUse::Moves
        | FloatUse::Compares
        | FloatUse::ToInt
        | FloatUse::Nan(_)
        | FloatUse::LaneNan => true,
    }
}
