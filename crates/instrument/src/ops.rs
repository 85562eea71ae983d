//! Classifications of float instructions, shared by the float policy and
//! NaN canonicalisation so that each list is written once.

use wasmparser::Operator;

/// The width of a float.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Float {
    F32,
    F64,
}

/// Instructions that can produce a NaN whose bits are not fixed by the
/// specification (arithmetic), and the width of their result.
pub(crate) fn nan_source(op: &Operator<'_>) -> Option<Float> {
    use Operator::*;
    match op {
        F32Add | F32Sub | F32Mul | F32Div | F32Sqrt | F32Min | F32Max | F32Ceil | F32Floor
        | F32Trunc | F32Nearest | F32DemoteF64 => Some(Float::F32),
        F64Add | F64Sub | F64Mul | F64Div | F64Sqrt | F64Min | F64Max | F64Ceil | F64Floor
        | F64Trunc | F64Nearest | F64PromoteF32 => Some(Float::F64),
        _ => None,
    }
}

/// Float comparisons: their result never depends on a NaN's bits.
pub(crate) fn float_compare(op: &Operator<'_>) -> bool {
    use Operator::*;
    matches!(
        op,
        F32Eq
            | F32Ne
            | F32Lt
            | F32Gt
            | F32Le
            | F32Ge
            | F64Eq
            | F64Ne
            | F64Lt
            | F64Gt
            | F64Le
            | F64Ge
    )
}

/// Float-to-integer conversions: on a NaN they trap or saturate, whatever
/// its bits.
pub(crate) fn float_to_int(op: &Operator<'_>) -> bool {
    use Operator::*;
    matches!(
        op,
        I32TruncF32S
            | I32TruncF32U
            | I32TruncF64S
            | I32TruncF64U
            | I64TruncF32S
            | I64TruncF32U
            | I64TruncF64S
            | I64TruncF64U
            | I32TruncSatF32S
            | I32TruncSatF32U
            | I32TruncSatF64S
            | I32TruncSatF64U
            | I64TruncSatF32S
            | I64TruncSatF32U
            | I64TruncSatF64S
            | I64TruncSatF64U
    )
}

/// Whether an instruction produces, consumes or moves a float.
pub(crate) fn touches_floats(op: &Operator<'_>) -> bool {
    use Operator::*;
    nan_source(op).is_some()
        || float_compare(op)
        || float_to_int(op)
        || matches!(
            op,
            F32Load { .. }
                | F64Load { .. }
                | F32Store { .. }
                | F64Store { .. }
                | F32Const { .. }
                | F64Const { .. }
                | F32Abs
                | F32Neg
                | F32Copysign
                | F64Abs
                | F64Neg
                | F64Copysign
                | F32ConvertI32S
                | F32ConvertI32U
                | F32ConvertI64S
                | F32ConvertI64U
                | F64ConvertI32S
                | F64ConvertI32U
                | F64ConvertI64S
                | F64ConvertI64U
                | I32ReinterpretF32
                | I64ReinterpretF64
                | F32ReinterpretI32
                | F64ReinterpretI64
        )
        || matches!(op, TypedSelect { ty } if matches!(ty, wasmparser::ValType::F32 | wasmparser::ValType::F64))
}
