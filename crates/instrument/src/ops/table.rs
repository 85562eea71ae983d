//! The class of every instruction Ward enables, by name: the MVP, sign
//! extension, non-trapping float-to-int, bulk memory, reference types and
//! (when a policy enables it) fixed-width SIMD.
//!
//! Each name becomes a constant that `class` looks up; a name missing here
//! is a compile error there, a name listed twice is a compile error here,
//! and a name wasmparser does not have is an unused constant (a warning,
//! which CI refuses). Costs are the schedule's entries, named in
//! `docs/gas.md`; `docs/instructions.md` is this table rendered.

// The constants carry wasmparser's variant names so that the lookup can
// find them.
#![allow(non_upper_case_globals)]

use super::{Class, Cost, Dynamic, Float, FloatUse, Flow, StoreValue};

macro_rules! classify {
    ($($class:expr => $($op:ident)*;)*) => {
        $($( pub(super) const $op: Class = $class; )*)*
    };
}

const FREE: Class = Class::costs(Cost::Free);
const BASE: Class = Class::costs(Cost::Base);
const INT_MUL: Class = Class::costs(Cost::IntMul);
const INT_DIV: Class = Class::costs(Cost::IntDiv);
const MEMORY: Class = Class::costs(Cost::MemoryAccess);
const TABLE: Class = Class::costs(Cost::TableAccess);
/// Float bits moved, not computed on.
const FLOAT_BITS: Class = BASE.float(FloatUse::Moves);
const FLOAT_MEMORY: Class = MEMORY.float(FloatUse::Moves);
const FLOAT_SIGN: Class = Class::costs(Cost::Float).float(FloatUse::Moves);
const FLOAT_COMPARE: Class = Class::costs(Cost::Float).float(FloatUse::Compares);
const FLOAT_TO_INT: Class = Class::costs(Cost::Float).float(FloatUse::ToInt);
const F32_NAN: Class = Class::costs(Cost::Float).float(FloatUse::Nan(Float::F32));
const F64_NAN: Class = Class::costs(Cost::Float).float(FloatUse::Nan(Float::F64));
const F32_DIV: Class = Class::costs(Cost::FloatDiv).float(FloatUse::Nan(Float::F32));
const F64_DIV: Class = Class::costs(Cost::FloatDiv).float(FloatUse::Nan(Float::F64));
const LANES_NAN: Class = Class::costs(Cost::Float).float(FloatUse::LaneNan);
const LANES_DIV: Class = Class::costs(Cost::FloatDiv).float(FloatUse::LaneNan);

classify! {
    // Control.
    FREE.pure() => Nop;
    FREE.flow(Flow::Open).pure() => Block;
    FREE.flow(Flow::Open) => Loop;
    BASE.flow(Flow::Open) => If;
    FREE.flow(Flow::Else) => Else;
    FREE.flow(Flow::End) => End;
    BASE.flow(Flow::Branch) => BrIf;
    BASE.flow(Flow::Jump) => Br;
    Class::costs(Cost::BrTable).flow(Flow::Jump) => BrTable;
    BASE.flow(Flow::Exit) => Return;
    BASE.flow(Flow::Trap) => Unreachable;
    Class::costs(Cost::Call).flow(Flow::Call) => Call;
    Class::costs(Cost::CallIndirect).flow(Flow::Call) => CallIndirect;

    // Stack, locals, globals.
    BASE.pure() => Drop Select TypedSelect LocalGet LocalSet LocalTee GlobalGet;
    BASE => TypedSelectMulti GlobalSet;

    // Memory.
    MEMORY => I32Load I64Load I32Load8S I32Load8U I32Load16S I32Load16U I64Load8S I64Load8U
        I64Load16S I64Load16U I64Load32S I64Load32U;
    MEMORY.stores(4, StoreValue::I32) => I32Store;
    MEMORY.stores(8, StoreValue::I64) => I64Store;
    MEMORY.stores(1, StoreValue::I32) => I32Store8;
    MEMORY.stores(2, StoreValue::I32) => I32Store16;
    MEMORY.stores(1, StoreValue::I64) => I64Store8;
    MEMORY.stores(2, StoreValue::I64) => I64Store16;
    MEMORY.stores(4, StoreValue::I64) => I64Store32;
    FLOAT_MEMORY => F32Load F64Load;
    FLOAT_MEMORY.stores(4, StoreValue::F32) => F32Store;
    FLOAT_MEMORY.stores(8, StoreValue::F64) => F64Store;
    TABLE => MemorySize;
    Class::costs(Cost::Grow).dynamic(Dynamic::MemoryGrow) => MemoryGrow;
    Class::costs(Cost::Bulk).dynamic(Dynamic::MemoryBulk) => MemoryInit MemoryCopy MemoryFill;
    Class::costs(Cost::SegmentDrop).writes_tables() => DataDrop;

    // Tables and references.
    TABLE => TableGet TableSize RefNull RefIsNull RefFunc;
    TABLE.writes_tables() => TableSet;
    Class::costs(Cost::Grow).dynamic(Dynamic::TableGrow).writes_tables() => TableGrow;
    Class::costs(Cost::Bulk).dynamic(Dynamic::TableBulk).writes_tables() =>
        TableInit TableCopy TableFill;
    Class::costs(Cost::SegmentDrop).writes_tables() => ElemDrop;

    // Integers.
    BASE.pure() => I32Const I64Const
        I32Eqz I32Eq I32Ne I32LtS I32LtU I32GtS I32GtU I32LeS I32LeU I32GeS I32GeU
        I64Eqz I64Eq I64Ne I64LtS I64LtU I64GtS I64GtU I64LeS I64LeU I64GeS I64GeU
        I32Clz I32Ctz I32Popcnt I32Add I32Sub I32And I32Or I32Xor I32Shl I32ShrS I32ShrU
        I32Rotl I32Rotr
        I64Clz I64Ctz I64Popcnt I64Add I64Sub I64And I64Or I64Xor I64Shl I64ShrS I64ShrU
        I64Rotl I64Rotr
        I32WrapI64 I64ExtendI32S I64ExtendI32U
        I32Extend8S I32Extend16S I64Extend8S I64Extend16S I64Extend32S;
    INT_MUL.pure() => I32Mul I64Mul;
    INT_DIV => I32DivS I32DivU I32RemS I32RemU I64DivS I64DivU I64RemS I64RemU;

    // Floats.
    FLOAT_BITS.pure() => F32Const F64Const;
    FLOAT_BITS => I32ReinterpretF32 I64ReinterpretF64 F32ReinterpretI32
        F64ReinterpretI64;
    FLOAT_SIGN => F32Abs F32Neg F32Copysign F64Abs F64Neg F64Copysign
        F32ConvertI32S F32ConvertI32U F32ConvertI64S F32ConvertI64U
        F64ConvertI32S F64ConvertI32U F64ConvertI64S F64ConvertI64U;
    FLOAT_COMPARE => F32Eq F32Ne F32Lt F32Gt F32Le F32Ge F64Eq F64Ne F64Lt F64Gt F64Le F64Ge;
    FLOAT_TO_INT => I32TruncF32S I32TruncF32U I32TruncF64S I32TruncF64U
        I64TruncF32S I64TruncF32U I64TruncF64S I64TruncF64U
        I32TruncSatF32S I32TruncSatF32U I32TruncSatF64S I32TruncSatF64U
        I64TruncSatF32S I64TruncSatF32U I64TruncSatF64S I64TruncSatF64U;
    F32_NAN => F32Add F32Sub F32Mul F32Min F32Max F32Ceil F32Floor F32Trunc F32Nearest
        F32DemoteF64;
    F64_NAN => F64Add F64Sub F64Mul F64Min F64Max F64Ceil F64Floor F64Trunc F64Nearest
        F64PromoteF32;
    F32_DIV => F32Div F32Sqrt;
    F64_DIV => F64Div F64Sqrt;

    // SIMD memory: a `v128` load or store costs what a scalar one does.
    MEMORY => V128Load V128Load8x8S V128Load8x8U V128Load16x4S V128Load16x4U V128Load32x2S
        V128Load32x2U V128Load8Splat V128Load16Splat V128Load32Splat V128Load64Splat
        V128Load32Zero V128Load64Zero V128Load8Lane V128Load16Lane V128Load32Lane
        V128Load64Lane;
    MEMORY.stores(16, StoreValue::V128) => V128Store;
    MEMORY.stores(1, StoreValue::V128) => V128Store8Lane;
    MEMORY.stores(2, StoreValue::V128) => V128Store16Lane;
    MEMORY.stores(4, StoreValue::V128) => V128Store32Lane;
    MEMORY.stores(8, StoreValue::V128) => V128Store64Lane;

    // SIMD lane moves and bitwise work: one vector instruction each.
    BASE => V128Const I8x16Shuffle I8x16Swizzle
        I8x16ExtractLaneS I8x16ExtractLaneU I8x16ReplaceLane I16x8ExtractLaneS
        I16x8ExtractLaneU I16x8ReplaceLane I32x4ExtractLane I32x4ReplaceLane I64x2ExtractLane
        I64x2ReplaceLane I8x16Splat I16x8Splat I32x4Splat I64x2Splat
        V128Not V128And V128AndNot V128Or V128Xor V128Bitselect V128AnyTrue;
    FLOAT_BITS => F32x4ExtractLane F32x4ReplaceLane F64x2ExtractLane F64x2ReplaceLane
        F32x4Splat F64x2Splat;

    // SIMD integers.
    BASE => I8x16Eq I8x16Ne I8x16LtS I8x16LtU I8x16GtS I8x16GtU I8x16LeS I8x16LeU I8x16GeS
        I8x16GeU I16x8Eq I16x8Ne I16x8LtS I16x8LtU I16x8GtS I16x8GtU I16x8LeS I16x8LeU
        I16x8GeS I16x8GeU I32x4Eq I32x4Ne I32x4LtS I32x4LtU I32x4GtS I32x4GtU I32x4LeS
        I32x4LeU I32x4GeS I32x4GeU I64x2Eq I64x2Ne I64x2LtS I64x2GtS I64x2LeS I64x2GeS
        I8x16Abs I8x16Neg I8x16Popcnt I8x16AllTrue I8x16Bitmask I8x16NarrowI16x8S
        I8x16NarrowI16x8U I8x16Shl I8x16ShrS I8x16ShrU I8x16Add I8x16AddSatS I8x16AddSatU
        I8x16Sub I8x16SubSatS I8x16SubSatU I8x16MinS I8x16MinU I8x16MaxS I8x16MaxU I8x16AvgrU
        I16x8ExtAddPairwiseI8x16S I16x8ExtAddPairwiseI8x16U I16x8Abs I16x8Neg I16x8AllTrue
        I16x8Bitmask I16x8NarrowI32x4S I16x8NarrowI32x4U I16x8ExtendLowI8x16S
        I16x8ExtendHighI8x16S I16x8ExtendLowI8x16U I16x8ExtendHighI8x16U I16x8Shl I16x8ShrS
        I16x8ShrU I16x8Add I16x8AddSatS I16x8AddSatU I16x8Sub I16x8SubSatS I16x8SubSatU
        I16x8MinS I16x8MinU I16x8MaxS I16x8MaxU I16x8AvgrU
        I32x4ExtAddPairwiseI16x8S I32x4ExtAddPairwiseI16x8U I32x4Abs I32x4Neg I32x4AllTrue
        I32x4Bitmask I32x4ExtendLowI16x8S I32x4ExtendHighI16x8S I32x4ExtendLowI16x8U
        I32x4ExtendHighI16x8U I32x4Shl I32x4ShrS I32x4ShrU I32x4Add I32x4Sub I32x4MinS
        I32x4MinU I32x4MaxS I32x4MaxU
        I64x2Abs I64x2Neg I64x2AllTrue I64x2Bitmask I64x2ExtendLowI32x4S I64x2ExtendHighI32x4S
        I64x2ExtendLowI32x4U I64x2ExtendHighI32x4U I64x2Shl I64x2ShrS I64x2ShrU I64x2Add
        I64x2Sub;
    INT_MUL => I16x8Q15MulrSatS I16x8Mul I16x8ExtMulLowI8x16S I16x8ExtMulHighI8x16S
        I16x8ExtMulLowI8x16U I16x8ExtMulHighI8x16U I32x4Mul I32x4DotI16x8S
        I32x4ExtMulLowI16x8S I32x4ExtMulHighI16x8S I32x4ExtMulLowI16x8U I32x4ExtMulHighI16x8U
        I64x2Mul I64x2ExtMulLowI32x4S I64x2ExtMulHighI32x4S I64x2ExtMulLowI32x4U
        I64x2ExtMulHighI32x4U;

    // SIMD floats. `pmin`/`pmax` return one of their operands, bits and
    // all; the others can make a NaN in any lane.
    FLOAT_SIGN => F32x4Abs F32x4Neg F64x2Abs F64x2Neg F32x4PMin F32x4PMax F64x2PMin F64x2PMax
        F32x4ConvertI32x4S F32x4ConvertI32x4U F64x2ConvertLowI32x4S F64x2ConvertLowI32x4U;
    FLOAT_COMPARE => F32x4Eq F32x4Ne F32x4Lt F32x4Gt F32x4Le F32x4Ge F64x2Eq F64x2Ne F64x2Lt
        F64x2Gt F64x2Le F64x2Ge;
    FLOAT_TO_INT => I32x4TruncSatF32x4S I32x4TruncSatF32x4U I32x4TruncSatF64x2SZero
        I32x4TruncSatF64x2UZero;
    LANES_NAN => F32x4Ceil F32x4Floor F32x4Trunc F32x4Nearest F32x4Add F32x4Sub F32x4Mul
        F32x4Min F32x4Max F64x2Ceil F64x2Floor F64x2Trunc F64x2Nearest F64x2Add F64x2Sub
        F64x2Mul F64x2Min F64x2Max F32x4DemoteF64x2Zero F64x2PromoteLowF32x4;
    LANES_DIV => F32x4Div F32x4Sqrt F64x2Div F64x2Sqrt;
}
