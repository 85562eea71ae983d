//! One function body, instrumented: its segments measured, counted loops
//! found, scratch locals laid out, its operators emitted, its cold exits
//! appended.

use wasm_encoder::{BlockType, Function, Instruction, ValType};
use wasmparser::Operator;

use crate::{
    PolicyError, TRAP_OUT_OF_GAS, TRAP_STACK_OVERFLOW,
    analyze::{Body, Ops},
    loops,
    nan::{self, ModuleTypes, NanPlan},
    ops::Class,
};

use super::emit::trap_with;
use super::emitter::Emitter;
use super::profile::Hooks;
use super::segments::Segments;
use super::{Globals, Plan, Redirect, val_type};

pub(super) struct BodyCtx<'p, 's> {
    pub(super) plan: &'p Plan<'s>,
    pub(super) globals: Globals,
    pub(super) imported_funcs: u32,
    pub(super) frame_cost: &'p (dyn Fn(u32) -> u32 + Sync),
    pub(super) module: ModuleTypes<'p>,
    /// The profiling hooks, when profiled.
    pub(super) hooks: Option<&'p Hooks>,
}

/// Scratch locals appended after a body's own, and the meter parameters.
pub(super) struct Scratch {
    /// i32: a bulk operation's length, or a `grow`'s delta, kept for its
    /// charge.
    pub(super) length: u32,
    /// i32: what a `grow` returned (-1 when nothing was granted).
    pub(super) granted: u32,
    /// f32 and f64: a value being canonicalised.
    pub(super) nan_f32: u32,
    pub(super) nan_f64: u32,
    /// i64: the gas left, a parameter kept in a local (a register) between
    /// flushes.
    pub(super) gas: u32,
    /// i32: the call depth at this frame's entry (its own cost included), a
    /// parameter.
    pub(super) depth: u32,
    /// First local of each type that NaN juggles use.
    pub(super) juggle: Vec<(ValType, u32)>,
    /// Three i64 locals for the prepayment of counted loops.
    pub(super) prepay: loops::PrepayLocals,
    /// i32: a store's or a bulk operation's destination while its write is
    /// marked ([`super::dirty`]), which also keeps an i32 value aside in
    /// `length`, an f32 or f64 in `nan_f32` or `nan_f64`,
    pub(super) mark_addr: u32,
    /// an i64 here,
    pub(super) mark_i64: u32,
    /// and a v128 here (declared only in a body with a vector store).
    pub(super) mark_v128: u32,
}

/// Labels of the cold exits, relative to the body's outermost level: a
/// branch from `nesting` open blocks deep adds `nesting`.
pub(super) const OUT_OF_GAS_LABEL: u32 = 1;
pub(super) const STACK_OVERFLOW_LABEL: u32 = 2;

/// How many meter parameters follow a function's own: the gas (when
/// engine-metered) and the depth. The body's declared locals move up by as
/// many.
pub(super) fn meter_params(plan: &Plan<'_>) -> u32 {
    if plan.gas { 2 } else { 1 }
}

/// One defined function, `f` of the original module, instrumented (its
/// type `ty`, wrapped in a block of type `block`), and how many loops it
/// prepays.
pub(super) fn instrument_body(
    (f, body): (u32, &Body<'_>),
    ops: &Ops<'_>,
    ty: &wasmparser::FuncType,
    block: BlockType,
    ctx: &BodyCtx<'_, '_>,
    redirect: &mut Redirect,
) -> Result<(Function, u32), PolicyError> {
    let nan_plan = nan_plan(body, ops, ty, ctx);
    let schedule = ctx.plan.schedule;
    let op_cost = |op: &Operator<'_>, class: Class| {
        let cost = u64::from(schedule.cost(class.cost));
        // A host call's fixed cost is prepaid with its segment, so the host
        // need not touch the gas counter for calls that cost nothing more.
        match op {
            Operator::Call { function_index } if *function_index < ctx.imported_funcs => {
                cost + u64::from(schedule.host_call)
            }
            _ => cost,
        }
    };
    let mut segments = Segments::measure(&ops.ops, &ops.classes, op_cost);
    // Loops whose gas can be paid on entry (engine-metered bodies only).
    let counted = if ctx.plan.gas && ctx.plan.prepay_loops {
        loops::find(&ops.ops, &segments.split_after, &segments.cost)
    } else {
        Vec::new()
    };
    // Outside them (and the segment after each, which a bottom-tested one
    // prepays), segments that only compute are charged with the branch of
    // the `if` they lead to. The counted loops are in order and never nest.
    segments.sink_into_branches(&ops.ops, &ops.classes, |s| {
        let before = counted.partition_point(|c| c.start <= s);
        before > 0 && s <= counted[before - 1].end + 1
    });
    let vector_stores = ops.classes.iter().any(|c| {
        c.store
            .is_some_and(|store| store.value == crate::ops::StoreValue::V128)
    });
    let (scratch, locals) = scratch(
        body,
        ty,
        ctx,
        nan_plan.as_ref(),
        (!counted.is_empty(), vector_stores),
    )?;
    let mut func = Function::new(locals);
    // The cold exits' blocks, then the body's own block.
    func.instruction(&Instruction::Block(BlockType::Empty))
        .instruction(&Instruction::Block(BlockType::Empty))
        .instruction(&Instruction::Block(block));
    if let Some(hooks) = ctx.hooks {
        hooks.edge(
            &mut func,
            hooks.enter,
            f,
            ctx.plan.gas.then_some(scratch.gas),
        );
    }
    let params = ty.params().len() as u32;
    let mut e = Emitter::new(
        func,
        ops,
        ctx,
        &scratch,
        nan_plan.as_ref(),
        redirect,
        (f, params),
    );
    e.emit_body(&counted, &segments.cost)?;
    let prepaid = counted.iter().map(|c| 1 + c.folded.len() as u32).sum();
    Ok((exits(e.into_function(), f, ctx, &scratch), prepaid))
}

/// Where NaNs must be canonicalised, if the body does anything with floats
/// and the policy asks for it.
fn nan_plan(
    body: &Body<'_>,
    ops: &Ops<'_>,
    ty: &wasmparser::FuncType,
    ctx: &BodyCtx<'_, '_>,
) -> Option<NanPlan> {
    if !ctx.plan.canonicalize_nans || !body.floats {
        return None;
    }
    let mut all_locals: Vec<wasmparser::ValType> = ty.params().to_vec();
    for &(count, t) in &body.locals {
        all_locals.extend(std::iter::repeat_n(t, count as usize));
    }
    Some(nan::plan(&ctx.module, &all_locals, ty.results(), &ops.ops))
}

/// The body's locals (its own, then the scratch locals after the meter
/// parameters) and where each scratch local is.
fn scratch(
    body: &Body<'_>,
    ty: &wasmparser::FuncType,
    ctx: &BodyCtx<'_, '_>,
    nan_plan: Option<&NanPlan>,
    (prepays, vector_stores): (bool, bool),
) -> Result<(Scratch, Vec<(u32, ValType)>), PolicyError> {
    let params = ty.params().len() as u32;
    let shift = meter_params(ctx.plan);
    let first = body.locals_and_params as u32 + shift;
    let mut locals: Vec<(u32, ValType)> = Vec::with_capacity(body.locals.len() + 8);
    for &(count, ty) in &body.locals {
        locals.push((count, val_type(ty)?));
    }
    locals.push((2, ValType::I32));
    locals.push((1, ValType::F32));
    locals.push((1, ValType::F64));
    let mut next = first + 4;
    let mut juggle = Vec::new();
    for &(ty, count) in nan_plan.iter().flat_map(|p| &p.scratch) {
        let ty = val_type(ty)?;
        locals.push((count, ty));
        juggle.push((ty, next));
        next += count;
    }
    let prepay = next;
    if prepays {
        locals.push((3, ValType::I64));
        next += 3;
    }
    // The marking locals, only where the plan marks writes.
    let marks = next;
    if ctx.plan.dirty.is_some() {
        locals.push((1, ValType::I32));
        locals.push((1, ValType::I64));
        if vector_stores {
            locals.push((1, ValType::V128));
        }
    }
    // The gas parameter is never read when not engine-metered.
    let gas = params;
    let scratch = Scratch {
        length: first,
        granted: first + 1,
        nan_f32: first + 2,
        nan_f64: first + 3,
        gas,
        depth: params + shift - 1,
        juggle,
        prepay: loops::PrepayLocals {
            x: prepay,
            y: prepay + 1,
            k: prepay + 2,
            gas,
        },
        mark_addr: marks,
        mark_i64: marks + 1,
        mark_v128: marks + 2,
    };
    Ok((scratch, locals))
}

/// Closes an emitted body: the body's block ended with its last op (the
/// function's `end`), so leave with its results and the gas left, past the
/// cold exits that follow: out of gas, then stack overflow.
fn exits(mut func: Function, f: u32, ctx: &BodyCtx<'_, '_>, s: &Scratch) -> Function {
    if let Some(hooks) = ctx.hooks {
        hooks.edge(&mut func, hooks.leave, f, ctx.plan.gas.then_some(s.gas));
    }
    if ctx.plan.gas {
        func.instruction(&Instruction::LocalGet(s.gas));
    }
    func.instruction(&Instruction::Return)
        .instruction(&Instruction::End);
    trap_with(&mut func, &ctx.globals, TRAP_OUT_OF_GAS);
    func.instruction(&Instruction::End);
    trap_with(&mut func, &ctx.globals, TRAP_STACK_OVERFLOW);
    func.instruction(&Instruction::End);
    func
}
