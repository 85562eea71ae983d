//! Functions Ward adds: the thunks that every entry from the host or
//! through a table goes through, and `__ward_reset`.

use wasm_encoder::{Function, Instruction, ValType, reencode::Reencode};
use wasmparser::Operator;

use crate::{
    PolicyError,
    analyze::{Analysis, Section},
};

use super::emit::enter_frame;
use super::{Globals, Plan, Redirect, frame_cost};

/// The thunk that calls defined function `f` from outside Ward's own
/// frames, with `f`'s own signature: every entry from the host (exports,
/// start) and every call through a table goes through one. It adds the
/// callee's frame to the depth in the depth global (what the caller
/// flushed before `call_indirect`, or the stack base the host armed before
/// an entry), checks it, and calls `f` with the meter's gas, storing the
/// gas it returns. `callee` is `f`'s index in the emitted module.
pub(super) fn thunk(
    a: &Analysis<'_>,
    plan: &Plan<'_>,
    globals: Globals,
    f: u32,
    callee: u32,
) -> Function {
    let ty = &a.types[a.func_types[f as usize] as usize];
    let params = ty.params().len() as u32;
    let cost = frame_cost(a, plan, f).saturating_add(1 + params);
    // The callee's depth goes in a local after the parameters.
    let mut thunk = Function::new(vec![(1, ValType::I32)]);
    enter_frame(&mut thunk, &globals, cost, plan.max_stack_units, params);
    for i in 0..params {
        thunk.instruction(&Instruction::LocalGet(i));
    }
    if plan.gas {
        thunk.instruction(&Instruction::GlobalGet(globals.gas));
    }
    thunk.instruction(&Instruction::LocalGet(params));
    thunk.instruction(&Instruction::Call(callee));
    if plan.gas {
        thunk.instruction(&Instruction::GlobalSet(globals.gas));
    }
    thunk.instruction(&Instruction::End);
    thunk
}

/// The body of [`crate::RESET_EXPORT`]: every mutable global the module defines
/// set back to its initializer (a constant: Ward's features have no
/// imported globals and no extended constants), function references
/// redirected as in the global section. `None` when there is none.
pub(super) fn reset_body(
    a: &Analysis<'_>,
    redirect: &mut Redirect,
) -> Result<Option<Function>, PolicyError> {
    let invalid = |message: String| PolicyError::Invalid { offset: 0, message };
    let mut func = Function::new([]);
    let mut any = false;
    let mut index = a.globals;
    for section in &a.sections {
        if let Section::Global(reader) = section {
            index -= reader.count();
        }
    }
    for section in &a.sections {
        let Section::Global(reader) = section else {
            continue;
        };
        for global in reader.clone() {
            let global = global.map_err(|e| invalid(e.to_string()))?;
            if global.ty.mutable {
                let mut ops = global.init_expr.get_operators_reader();
                while !ops.eof() {
                    let op = ops.read().map_err(|e| invalid(e.to_string()))?;
                    if matches!(op, Operator::End) {
                        continue;
                    }
                    let instruction = redirect
                        .instruction(op)
                        .map_err(|e| invalid(e.to_string()))?;
                    func.instruction(&instruction);
                }
                func.instruction(&Instruction::GlobalSet(index));
                any = true;
            }
            index += 1;
        }
    }
    func.instruction(&Instruction::End);
    Ok(any.then_some(func))
}
