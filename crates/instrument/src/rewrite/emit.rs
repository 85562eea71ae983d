//! The instruction sequences the rewrite emits: charges, depth checks,
//! meter flushes, NaN canonicalisation, traps.

use wasm_encoder::{BlockType, Function, Instruction, ValType};

use crate::{
    CostSchedule, PolicyError, TRAP_STACK_OVERFLOW,
    nan::Fix,
    ops::{Class, Dynamic},
};

use super::body::Scratch;
use super::{Globals, val_type};

pub(super) const CANONICAL_NAN_F32: u32 = 0x7fc0_0000;
pub(super) const CANONICAL_NAN_F64: u64 = 0x7ff8_0000_0000_0000;

/// Emits a NaN fix planned by [`nan::plan`].
pub(super) fn apply_fix(func: &mut Function, s: &Scratch, fix: &Fix) -> Result<(), PolicyError> {
    match fix {
        Fix::Top(ty) => canonicalize(func, s, val_type(*ty)?),
        Fix::Juggle(values) => {
            // Assign each value a scratch local of its type.
            let mut used: Vec<(ValType, u32)> = Vec::new();
            let mut slots = Vec::with_capacity(values.len());
            for &(ty, _) in values {
                let ty = val_type(ty)?;
                let base = s
                    .juggle
                    .iter()
                    .find(|(t, _)| *t == ty)
                    .map_or(0, |&(_, base)| base);
                let n = match used.iter_mut().find(|(t, _)| *t == ty) {
                    Some((_, n)) => {
                        *n += 1;
                        *n - 1
                    }
                    None => {
                        used.push((ty, 1));
                        0
                    }
                };
                slots.push((ty, base + n));
            }
            for &(_, local) in slots.iter().rev() {
                func.instruction(&Instruction::LocalSet(local));
            }
            for (&(ty, local), &(_, fix)) in slots.iter().zip(values) {
                func.instruction(&Instruction::LocalGet(local));
                if fix {
                    canonicalize(func, s, ty);
                }
            }
        }
    }
    Ok(())
}

/// `gas -= amount; if gas < 0 { br out_of_gas }` on the gas local: a
/// register subtract and one branch, not taken while gas lasts. Gas is at most `i64::MAX` and every
/// amount below 2^48, so the subtraction cannot wrap. The global is brought
/// up to date only where something else reads it (calls, host calls,
/// function exits); a trap consumes all the gas of the call, so a trap
/// between flushes is never cheaper than it should be.
///
/// `oog` is the relative depth of the out-of-gas exit. A branch rather than
/// a call, even to a cold helper: a call would make the engine keep the
/// function's live values out of caller-saved registers around every check.
pub(super) fn charge(func: &mut Function, s: &Scratch, oog: u32, amount: &[Instruction<'_>]) {
    func.instruction(&Instruction::LocalGet(s.gas));
    for i in amount {
        func.instruction(i);
    }
    func.instruction(&Instruction::I64Sub)
        .instruction(&Instruction::LocalTee(s.gas))
        .instruction(&Instruction::I64Const(0))
        .instruction(&Instruction::I64LtS)
        .instruction(&Instruction::BrIf(oog));
}

/// Stores `reason` (a negative sentinel) in the meter and executes
/// `unreachable`. A trap consumes all the gas of the call, so the gas the
/// sentinel overwrites is lost by design.
pub(super) fn trap_with(func: &mut Function, g: &Globals, reason: i64) {
    func.instruction(&Instruction::I64Const(reason))
        .instruction(&Instruction::GlobalSet(g.gas))
        .instruction(&Instruction::Unreachable);
}

/// Gas local -> gas global.
pub(super) fn flush_gas(func: &mut Function, g: &Globals, s: &Scratch) {
    func.instruction(&Instruction::LocalGet(s.gas))
        .instruction(&Instruction::GlobalSet(g.gas));
}

/// Gas global -> gas local (after a callee or host function charged it).
pub(super) fn reload_gas(func: &mut Function, g: &Globals, s: &Scratch) {
    func.instruction(&Instruction::GlobalGet(g.gas))
        .instruction(&Instruction::LocalSet(s.gas));
}

/// A direct call of a defined function, whose arguments are on the stack:
/// branches to the stack-overflow exit (`overflow` levels out) when this
/// frame's depth plus the callee's `cost` exceeds the limit, then pushes
/// the meters the callee takes (the gas left when engine-metered, and its
/// depth).
pub(super) fn call_with_depth(
    func: &mut Function,
    s: &Scratch,
    gas: bool,
    cost: u32,
    limit: u32,
    check: DepthCheck,
) {
    match check {
        DepthCheck::Passed => {}
        DepthCheck::Check(overflow) if cost > limit => {
            func.instruction(&Instruction::Br(overflow));
        }
        DepthCheck::Check(overflow) => {
            // depth + cost > limit, without a sum that could exceed i32.
            func.instruction(&Instruction::LocalGet(s.depth))
                .instruction(&Instruction::I32Const((limit - cost) as i32))
                .instruction(&Instruction::I32GtU)
                .instruction(&Instruction::BrIf(overflow));
        }
    }
    if gas {
        func.instruction(&Instruction::LocalGet(s.gas));
    }
    func.instruction(&Instruction::LocalGet(s.depth))
        .instruction(&Instruction::I32Const(cost as i32))
        .instruction(&Instruction::I32Add);
}

/// Whether a direct call must check the call depth.
pub(super) enum DepthCheck {
    /// A check for a frame at least as large passed earlier on every path
    /// here (the depth local never changes within a body).
    Passed,
    /// Check, branching this deep to the stack-overflow exit.
    Check(u32),
}

/// `ceil(len / 64) * per` as an i64 expression over the i32 local `len`.
pub(super) fn per_64_bytes(len: u32, per: u32) -> Vec<Instruction<'static>> {
    vec![
        Instruction::LocalGet(len),
        Instruction::I64ExtendI32U,
        Instruction::I64Const(63),
        Instruction::I64Add,
        Instruction::I64Const(6),
        Instruction::I64ShrU,
        Instruction::I64Const(i64::from(per)),
        Instruction::I64Mul,
    ]
}

/// `len * per` as an i64 expression over the i32 local `len`.
pub(super) fn per_unit(len: u32, per: u32) -> Vec<Instruction<'static>> {
    vec![
        Instruction::LocalGet(len),
        Instruction::I64ExtendI32U,
        Instruction::I64Const(i64::from(per)),
        Instruction::I64Mul,
    ]
}

/// Bulk operations: charge the length (top of stack) before the work.
/// `grow`: remember the delta (top of stack) for the charge after.
pub(super) fn dynamic_charge_before(
    func: &mut Function,
    class: Class,
    s: &Scratch,
    oog: u32,
    schedule: &CostSchedule,
) {
    let amount = match class.dynamic {
        Dynamic::MemoryBulk => per_64_bytes(s.length, schedule.bulk_per_64_bytes),
        Dynamic::TableBulk => per_unit(s.length, schedule.bulk_per_element),
        Dynamic::MemoryGrow | Dynamic::TableGrow => {
            func.instruction(&Instruction::LocalTee(s.length));
            return;
        }
        Dynamic::None => return,
    };
    func.instruction(&Instruction::LocalTee(s.length));
    charge(func, s, oog, &amount);
}

/// `grow`: charge what was granted (nothing when it returned -1).
pub(super) fn dynamic_charge_after(
    func: &mut Function,
    class: Class,
    s: &Scratch,
    oog: u32,
    schedule: &CostSchedule,
) {
    let amount = match class.dynamic {
        Dynamic::MemoryGrow => per_unit(s.length, schedule.grow_per_page),
        Dynamic::TableGrow => per_unit(s.length, schedule.grow_per_element),
        Dynamic::None | Dynamic::MemoryBulk | Dynamic::TableBulk => return,
    };
    func.instruction(&Instruction::LocalTee(s.granted))
        .instruction(&Instruction::I32Const(-1))
        .instruction(&Instruction::I32Ne)
        .instruction(&Instruction::If(BlockType::Empty));
    // Inside the `if`: one level further from the exit.
    charge(func, s, oog + 1, &amount);
    func.instruction(&Instruction::End)
        .instruction(&Instruction::LocalGet(s.granted));
}

/// Replaces a NaN on top of the stack with the canonical NaN.
pub(super) fn canonicalize(func: &mut Function, s: &Scratch, ty: ValType) {
    let tmp = if ty == ValType::F32 {
        s.nan_f32
    } else {
        s.nan_f64
    };
    func.instruction(&Instruction::LocalTee(tmp));
    match ty {
        ValType::F32 => func.instruction(&Instruction::F32Const(
            f32::from_bits(CANONICAL_NAN_F32).into(),
        )),
        _ => func.instruction(&Instruction::F64Const(
            f64::from_bits(CANONICAL_NAN_F64).into(),
        )),
    };
    func.instruction(&Instruction::LocalGet(tmp))
        .instruction(&Instruction::LocalGet(tmp));
    match ty {
        ValType::F32 => func.instruction(&Instruction::F32Eq),
        _ => func.instruction(&Instruction::F64Eq),
    };
    func.instruction(&Instruction::Select);
}

/// A thunk's entry: `local = depth + cost` from the depth global (what the
/// caller flushed before its `call_indirect`, or the base the host armed),
/// trapping past the limit.
pub(super) fn enter_frame(func: &mut Function, g: &Globals, cost: u32, limit: u32, local: u32) {
    func.instruction(&Instruction::GlobalGet(g.depth))
        .instruction(&Instruction::I32Const(cost as i32))
        .instruction(&Instruction::I32Add)
        .instruction(&Instruction::LocalTee(local))
        .instruction(&Instruction::I32Const(limit as i32))
        .instruction(&Instruction::I32GtU)
        .instruction(&Instruction::If(BlockType::Empty));
    trap_with(func, g, TRAP_STACK_OVERFLOW);
    func.instruction(&Instruction::End);
}
