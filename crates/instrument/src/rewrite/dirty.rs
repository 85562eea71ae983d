//! Marking the memory a recyclable module writes ([`crate::DIRTY_EXPORT`]):
//! before a store or a bulk operation, the granules it writes are or-ed
//! into the bitmap global, so that a recycled instance is restored by
//! rewriting those granules alone.
//!
//! The marks are unmetered (segments are measured on the original
//! operators) and conservative: a wider store marks its granule and the
//! next, whether or not it crosses into it, which costs a restore at most
//! one granule more and saves the instructions that would tell. Addresses
//! are computed in 32 bits: where `address + offset` wraps, the access is
//! out of bounds and traps, and an instance that trapped is never
//! recycled. A granule index past the bitmap (64 granules cover a memory
//! as it was new) means the memory grew, which rules recycling out too,
//! so the shift wrapping modulo 64 marks nothing that matters.

use wasm_encoder::{Function, Instruction};

use crate::ops::{Store, StoreValue};

use super::body::Scratch;

/// Before a store of `store.bytes` at `offset` past the address operand,
/// with the address and value on the stack: marks the granule of the
/// effective address (and the next, for a store wider than a byte), and
/// leaves the stack as it was.
pub(super) fn mark_store(
    func: &mut Function,
    s: &Scratch,
    (dirty, shift): (u32, u32),
    store: Store,
    offset: u64,
) {
    let value = match store.value {
        StoreValue::I32 => s.length,
        StoreValue::I64 => s.mark_i64,
        StoreValue::F32 => s.nan_f32,
        StoreValue::F64 => s.nan_f64,
        // Declared for every body that has a vector store.
        StoreValue::V128 => s.mark_v128,
    };
    let granules: i64 = if store.bytes > 1 { 3 } else { 1 };
    func.instruction(&Instruction::LocalSet(value))
        .instruction(&Instruction::LocalSet(s.mark_addr))
        .instruction(&Instruction::GlobalGet(dirty))
        .instruction(&Instruction::I64Const(granules))
        .instruction(&Instruction::LocalGet(s.mark_addr));
    if offset != 0 {
        // Memory is 32-bit: an offset past 4 GiB always traps.
        func.instruction(&Instruction::I32Const(offset as u32 as i32))
            .instruction(&Instruction::I32Add);
    }
    granule(func, shift);
    func.instruction(&Instruction::I64Shl)
        .instruction(&Instruction::I64Or)
        .instruction(&Instruction::GlobalSet(dirty))
        .instruction(&Instruction::LocalGet(s.mark_addr))
        .instruction(&Instruction::LocalGet(value));
}

/// Before `memory.fill`, `memory.copy` or `memory.init`, with its three
/// i32 operands on the stack (destination first, length last): marks
/// every granule from the destination's to the last byte's, and leaves
/// the stack as it was. A zero length writes nothing and marks whatever
/// its arithmetic gives.
pub(super) fn mark_bulk(func: &mut Function, s: &Scratch, (dirty, shift): (u32, u32)) {
    let (dst, middle, len) = (s.mark_addr, s.granted, s.length);
    func.instruction(&Instruction::LocalSet(len))
        .instruction(&Instruction::LocalSet(middle))
        .instruction(&Instruction::LocalSet(dst))
        .instruction(&Instruction::GlobalGet(dirty))
        // Bits 0 up to the last granule's, inclusive: (2 << last) - 1,
        // which is every bit when the last is 63.
        .instruction(&Instruction::I64Const(2))
        .instruction(&Instruction::LocalGet(dst))
        .instruction(&Instruction::LocalGet(len))
        .instruction(&Instruction::I32Add)
        .instruction(&Instruction::I32Const(1))
        .instruction(&Instruction::I32Sub);
    granule(func, shift);
    func.instruction(&Instruction::I64Shl)
        .instruction(&Instruction::I64Const(1))
        .instruction(&Instruction::I64Sub)
        // Less bits 0 up to the first granule's, exclusive.
        .instruction(&Instruction::I64Const(1))
        .instruction(&Instruction::LocalGet(dst));
    granule(func, shift);
    func.instruction(&Instruction::I64Shl)
        .instruction(&Instruction::I64Const(1))
        .instruction(&Instruction::I64Sub)
        .instruction(&Instruction::I64Xor)
        .instruction(&Instruction::I64Or)
        .instruction(&Instruction::GlobalSet(dirty))
        .instruction(&Instruction::LocalGet(dst))
        .instruction(&Instruction::LocalGet(middle))
        .instruction(&Instruction::LocalGet(len));
}

/// An i32 address on the stack to its granule's index as an i64.
fn granule(func: &mut Function, shift: u32) {
    func.instruction(&Instruction::I32Const(shift as i32))
        .instruction(&Instruction::I32ShrU)
        .instruction(&Instruction::I64ExtendI32U);
}
