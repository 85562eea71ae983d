//! Pass two: emit the instrumented module.
//!
//! What is added, appended so that no existing index moves (except the
//! declared locals of each body, which move up past two new parameters):
//!
//! - **meters as parameters**: every defined function takes two more
//!   parameters, the gas left (engine-metered modules only) and its call
//!   depth, and returns the gas left as one more result. Between Ward's
//!   own frames the meters travel in registers, as arguments and results:
//!   a direct call costs a compare and a branch, no memory traffic;
//! - two globals, used only where the meters cross a boundary: the
//!   *meter* (i64), exported as `__ward_gas` when the module is
//!   engine-metered (gas left) or as `__ward_trap` when it is self-metered
//!   (0), and the depth (i32, not exported). A body flushes its gas local
//!   to the meter before a host call or a `call_indirect` and reloads it
//!   after (host functions and table thunks work on the global), and
//!   flushes its depth before a `call_indirect`. One export is all the
//!   embedder arms and reads: the fewer exports, the cheaper every
//!   instantiation;
//! - no out-of-line exit helpers: each body is wrapped in two blocks whose ends
//!   hold its out-of-gas and stack-overflow exits, which store the reason
//!   in the meter as a negative sentinel ([`crate::TRAP_OUT_OF_GAS`],
//!   [`crate::TRAP_STACK_OVERFLOW`]; gas is never negative otherwise) and
//!   execute `unreachable`. A check is one `br_if` that falls through when
//!   all is well, so the cold code sits after the body, out of the hot
//!   path;
//! - a thunk for every function whose reference escapes inside the module
//!   (tables, `ref.func`), with the function's own signature: it adds the
//!   callee's frame to the depth its caller flushed, checks it, and calls
//!   the function with the meter's gas, storing the gas it returns;
//! - an *entry* thunk for every function the host calls (exports, start):
//!   the same, but the depth starts afresh at the callee's frame. So no
//!   stale depth can survive a call that trapped or `exit`ed mid-stack, and
//!   the embedder never resets anything but the gas. All references are
//!   redirected to their thunks, so every entry from the host or through a
//!   table is accounted;
//! - the start function, if any, is no longer a start section: its thunk is
//!   exported as `__ward_start`, and the embedder calls it right after
//!   instantiation, metered like any other code.
//! - for a recyclable module only, `__ward_reset`, after the thunks: an
//!   unmetered `[] -> []` function that sets every mutable global the
//!   module defines back to its constant initialiser.
//!
//! Functions are emitted in this order: the original bodies (their indices
//! unchanged), the thunks for escaping functions, the entry thunks, then
//! `__ward_reset`.
//!
//! Inside each function body:
//!
//! - **gas**: at the start of every metered segment (function entry, after
//!   `loop`, `if`, `else`, `end`, `br`, `br_table`, `return`, `unreachable`,
//!   and after a `br_if` whose fall-through costs more than
//!   [`BR_IF_SPLIT_COST`]) the segment's static cost is checked against
//!   the gas and subtracted, before any of it runs; a segment that only
//!   computes and ends at an `if` with an `else` is paid with each branch
//!   instead (`sink_into_branches`);
//! - **dynamic charges**: bulk operations charge their length and `grow`
//!   the pages or elements actually granted, computed in 64 bits from 32-bit
//!   operands (so they cannot wrap);
//! - **stack**: before each direct call of a defined function, this
//!   frame's depth plus the callee's frame cost is checked against the
//!   limit and passed to the callee;
//! - **NaNs**: where [`crate::nan`] finds that a NaN produced by arithmetic
//!   could be observed (stored, reinterpreted, signed, set in a global, or
//!   passed across a call or a return), a select replaces it with the
//!   canonical NaN.

use std::convert::Infallible;

use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, ElementSection, Elements, ExportKind, ExportSection,
    Function, FunctionSection, GlobalSection, GlobalType, Instruction, Module, RawSection,
    TypeSection, ValType,
    reencode::{Error as ReencodeError, Reencode, RoundtripReencoder},
};
use wasmparser::Operator;

use crate::{
    CostSchedule, GAS_EXPORT, PolicyError, RESET_EXPORT, START_EXPORT, TRAP_EXPORT,
    TRAP_OUT_OF_GAS, TRAP_STACK_OVERFLOW,
    analyze::{Analysis, Body, Section},
    loops,
    nan::{self, Fix, ModuleTypes},
    ops::{self, Dynamic, Flow, touches_floats},
};

/// What to instrument.
pub(crate) struct Plan<'s> {
    pub schedule: &'s CostSchedule,
    /// Charge gas (engine-metered). Off for self-metered modules.
    pub gas: bool,
    pub canonicalize_nans: bool,
    pub max_stack_units: u32,
    /// Pay counted loops on entry (see [`crate::loops`]).
    pub prepay_loops: bool,
    /// Emit and export [`RESET_EXPORT`] (when there are mutable globals to
    /// reset).
    pub reset: bool,
}

/// Redirects escaping function references to their thunks.
struct Redirect {
    thunk_of: Vec<Option<u32>>,
}

impl Reencode for Redirect {
    type Error = Infallible;

    fn function_index(&mut self, func: u32) -> Result<u32, ReencodeError<Infallible>> {
        Ok(self
            .thunk_of
            .get(func as usize)
            .copied()
            .flatten()
            .unwrap_or(func))
    }
}

/// Stack units every frame costs besides its locals and operands: the return
/// address, saved frame pointer, spills of the instrumentation's own values
/// and alignment, rounded up so that even the thinnest frames stay well
/// inside both engines' native limits.
const FRAME_BASE_UNITS: u64 = 8;

const CANONICAL_NAN_F32: u32 = 0x7fc0_0000;
const CANONICAL_NAN_F64: u64 = 0x7ff8_0000_0000_0000;

/// The instrumented module, and how many loops it prepays.
pub(crate) fn rewrite(a: &Analysis<'_>, plan: &Plan<'_>) -> Result<(Vec<u8>, u32), PolicyError> {
    let mut prepaid_loops = 0;
    let defined = a.bodies.len() as u32;
    let total_funcs = a.imported_funcs + defined;
    // Thunks for escaping defined functions, then entry thunks for those
    // the host calls, each in index order.
    let mut thunks = Vec::new();
    let thunks_of = |set: &[bool], thunks: &mut Vec<u32>| {
        let mut thunk_of = vec![None; total_funcs as usize];
        for f in a.imported_funcs..total_funcs {
            if set.get(f as usize).copied().unwrap_or(false) {
                thunk_of[f as usize] = Some(total_funcs + thunks.len() as u32);
                thunks.push(f);
            }
        }
        Redirect { thunk_of }
    };
    let mut redirect = thunks_of(&a.escapes, &mut thunks);
    let internal_thunks = thunks.len();
    let mut entry = thunks_of(&a.entries, &mut thunks);
    let meter_global = a.globals;
    let depth_global = a.globals + 1;

    let frame_cost = |f: u32| -> u32 {
        let body = &a.bodies[(f - a.imported_funcs) as usize];
        let cost = FRAME_BASE_UNITS + body.locals_and_params + u64::from(body.max_height);
        // A frame larger than the whole limit always overflows.
        cost.min(u64::from(plan.max_stack_units) + 1) as u32
    };

    let mut module = Module::new();
    let err = |e: ReencodeError<Infallible>| PolicyError::Invalid {
        offset: 0,
        message: e.to_string(),
    };

    // Type section: the original types, then `[] -> []` (the type of
    // `__ward_reset`), then the block and metered types below.
    let mut types = TypeSection::new();
    for section in &a.sections {
        if let Section::Type(reader) = section {
            RoundtripReencoder
                .parse_type_section(&mut types, reader.clone())
                .map_err(err)?;
        }
    }
    types.ty().function([], []);
    // `[] -> results` for each distinct multi-value result list, the type
    // of the block that wraps such a body.
    let mut result_types: Vec<(Vec<wasmparser::ValType>, u32)> = Vec::new();
    let mut next_type = a.types.len() as u32 + 1;
    for &ty in &a.func_types[a.imported_funcs as usize..] {
        let results = a.types[ty as usize].results();
        if results.len() > 1 && !result_types.iter().any(|(r, _)| r == results) {
            let encoded: Vec<ValType> = results
                .iter()
                .map(|&t| val_type(t))
                .collect::<Result<_, _>>()?;
            types.ty().function([], encoded);
            result_types.push((results.to_vec(), next_type));
            next_type += 1;
        }
    }
    // The metered signature of each defined function: its parameters plus
    // the gas (engine-metered only) and the depth, its results plus the gas
    // left. Meters travel as arguments and results between Ward's own
    // frames, in registers; only thunks, host calls and indirect calls go
    // through the globals.
    // Indexed by original type: each is added once, when first used.
    let mut metered_types: Vec<Option<u32>> = vec![None; a.types.len()];
    let mut metered_type_of = Vec::with_capacity(defined as usize);
    for &ty in &a.func_types[a.imported_funcs as usize..] {
        let index = match metered_types[ty as usize] {
            Some(index) => index,
            None => {
                let original = &a.types[ty as usize];
                let mut params: Vec<ValType> = original
                    .params()
                    .iter()
                    .map(|&t| val_type(t))
                    .collect::<Result<_, _>>()?;
                let mut results: Vec<ValType> = original
                    .results()
                    .iter()
                    .map(|&t| val_type(t))
                    .collect::<Result<_, _>>()?;
                if plan.gas {
                    params.push(ValType::I64);
                    results.push(ValType::I64);
                }
                params.push(ValType::I32);
                types.ty().function(params, results);
                let index = next_type;
                next_type += 1;
                metered_types[ty as usize] = Some(index);
                index
            }
        };
        metered_type_of.push(index);
    }
    module.section(&types);

    emit_raw(&mut module, a, 2);

    // Function section: the original bodies, then the thunks (those for
    // escaping functions, then the entry thunks), then `__ward_reset` when
    // the module is recyclable. There are no other helper functions.
    let mut functions = FunctionSection::new();
    for &ty in &metered_type_of {
        functions.function(ty);
    }
    for &f in &thunks {
        functions.function(a.func_types[f as usize]);
    }
    // The reset helper, `[] -> []`, after the thunks.
    let reset = if plan.reset {
        reset_body(a, &mut redirect)?
    } else {
        None
    };
    let reset_index = total_funcs + thunks.len() as u32;
    if reset.is_some() {
        functions.function(a.types.len() as u32);
    }
    module.section(&functions);

    emit_raw(&mut module, a, 4);
    emit_raw(&mut module, a, 5);

    // Globals: originals (with redirected `ref.func`), then Ward's two.
    let mut globals = GlobalSection::new();
    for section in &a.sections {
        if let Section::Global(reader) = section {
            redirect
                .parse_global_section(&mut globals, reader.clone())
                .map_err(err)?;
        }
    }
    let mutable = |val_type| GlobalType {
        val_type,
        mutable: true,
        shared: false,
    };
    globals.global(mutable(ValType::I64), &ConstExpr::i64_const(0));
    globals.global(mutable(ValType::I32), &ConstExpr::i32_const(0));
    module.section(&globals);

    // Exports: originals (functions redirected to thunks), Ward's meter,
    // and the start function's thunk.
    let mut exports = ExportSection::new();
    for section in &a.sections {
        if let Section::Export(reader) = section {
            entry
                .parse_export_section(&mut exports, reader.clone())
                .map_err(err)?;
        }
    }
    // The name says what the meter holds: an engine-metered module's gas
    // counter, or (self-metered: the embedder keeps the gas itself) only a
    // trap reason.
    let meter_name = if plan.gas { GAS_EXPORT } else { TRAP_EXPORT };
    exports.export(meter_name, ExportKind::Global, meter_global);
    if let Some(start) = a.start {
        let target = entry.function_index(start).map_err(err)?;
        exports.export(START_EXPORT, ExportKind::Func, target);
    }
    if reset.is_some() {
        exports.export(RESET_EXPORT, ExportKind::Func, reset_index);
    }
    module.section(&exports);

    // Elements, with function references redirected to thunks, plus a
    // declaration of the thunks that a body's `ref.func` names and nothing
    // else declares (their function was declared only by its export).
    let mut elements = ElementSection::new();
    for section in &a.sections {
        if let Section::Element(reader) = section {
            redirect
                .parse_element_section(&mut elements, reader.clone())
                .map_err(err)?;
        }
    }
    let undeclared: Vec<u32> = (0..total_funcs)
        .filter(|&f| a.undeclared_refs.get(f as usize).copied().unwrap_or(false))
        .map(|f| redirect.function_index(f).map_err(err))
        .collect::<Result<_, _>>()?;
    if !undeclared.is_empty() {
        elements.declared(Elements::Functions(undeclared.into()));
    }
    if !elements.is_empty() {
        module.section(&elements);
    }

    emit_raw(&mut module, a, 12);

    // Code, in the function section's order: instrumented bodies, thunks,
    // then `__ward_reset`.
    let mut code = CodeSection::new();
    let globals = Globals {
        gas: meter_global,
        depth: depth_global,
    };
    let ctx = BodyCtx {
        plan,
        globals,
        imported_funcs: a.imported_funcs,
        frame_cost: &frame_cost,
        module: ModuleTypes {
            types: &a.types,
            func_types: &a.func_types,
            global_types: &a.global_types,
        },
    };
    for (index, body) in a.bodies.iter().enumerate() {
        let ty = &a.types[a.func_types[a.imported_funcs as usize + index] as usize];
        let block = match ty.results() {
            [] => BlockType::Empty,
            [one] => BlockType::Result(val_type(*one)?),
            many => BlockType::FunctionType(
                result_types
                    .iter()
                    .find(|(r, _)| r == many)
                    .map_or(0, |&(_, index)| index),
            ),
        };
        let (function, prepaid) = instrument_body(body, ty, block, &ctx, &mut redirect)?;
        code.function(&function);
        prepaid_loops += prepaid;
    }
    for (i, &f) in thunks.iter().enumerate() {
        let ty = &a.types[a.func_types[f as usize] as usize];
        let params = ty.params().len() as u32;
        let cost = frame_cost(f).saturating_add(1 + params);
        let is_entry = i >= internal_thunks;
        // A table thunk computes the callee's depth in a local after the
        // parameters.
        let mut thunk = Function::new(if is_entry {
            Vec::new()
        } else {
            vec![(1, ValType::I32)]
        });
        if is_entry {
            // A fresh count: the callee's depth is its own frame.
            if cost > plan.max_stack_units {
                trap_with(&mut thunk, &globals, TRAP_STACK_OVERFLOW);
            }
        } else {
            enter_frame(&mut thunk, &globals, cost, plan.max_stack_units, params);
        }
        for i in 0..params {
            thunk.instruction(&Instruction::LocalGet(i));
        }
        if plan.gas {
            thunk.instruction(&Instruction::GlobalGet(globals.gas));
        }
        thunk.instruction(&if is_entry {
            Instruction::I32Const(cost as i32)
        } else {
            Instruction::LocalGet(params)
        });
        thunk.instruction(&Instruction::Call(f));
        if plan.gas {
            thunk.instruction(&Instruction::GlobalSet(globals.gas));
        }
        thunk.instruction(&Instruction::End);
        code.function(&thunk);
    }
    if let Some(reset) = &reset {
        code.function(reset);
    }
    module.section(&code);

    emit_raw(&mut module, a, 11);
    for section in &a.sections {
        if let Section::Custom(data, name) = section {
            module.section(&wasm_encoder::CustomSection {
                name: std::borrow::Cow::Borrowed(name),
                data: std::borrow::Cow::Borrowed(data),
            });
        }
    }
    Ok((module.finish(), prepaid_loops))
}

/// The body of [`RESET_EXPORT`]: every mutable global the module defines
/// set back to its initializer (a constant: Ward's features have no
/// imported globals and no extended constants), function references
/// redirected as in the global section. `None` when there is none.
fn reset_body(a: &Analysis<'_>, redirect: &mut Redirect) -> Result<Option<Function>, PolicyError> {
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

fn emit_raw(module: &mut Module, a: &Analysis<'_>, id: u8) {
    for section in &a.sections {
        if let Section::Raw(section_id, data) = section
            && *section_id == id
        {
            module.section(&RawSection { id, data });
        }
    }
}

#[derive(Clone, Copy)]
struct Globals {
    /// The meter: gas left (engine-metered), and the trap reason.
    gas: u32,
    depth: u32,
}

struct BodyCtx<'p, 's> {
    plan: &'p Plan<'s>,
    globals: Globals,
    imported_funcs: u32,
    frame_cost: &'p dyn Fn(u32) -> u32,
    module: ModuleTypes<'p>,
}

fn val_type(ty: wasmparser::ValType) -> Result<ValType, PolicyError> {
    RoundtripReencoder
        .val_type(ty)
        .map_err(|e| PolicyError::Invalid {
            offset: 0,
            message: e.to_string(),
        })
}

/// The most a taken `br_if` may leave paid and unrun: a `br_if` whose
/// fall-through (up to the end of its segment) costs more starts a new
/// segment.
pub(crate) const BR_IF_SPLIT_COST: u64 = 32;

/// Whether a new metered segment always starts right after `op`: after a
/// branch target (`loop` body, `if`/`else` arms, the code after `end`) and
/// after an unconditional transfer (the code that follows is dead until
/// the next `end` or `else`, and pays only if it is ever reached).
fn ends_segment(op: &Operator<'_>) -> bool {
    match ops::class(op).flow {
        // A `block`'s body is no branch target: its `end` is.
        Flow::Open => !matches!(op, Operator::Block { .. }),
        Flow::Else | Flow::End | Flow::Jump | Flow::Exit | Flow::Trap | Flow::Refused => true,
        Flow::Straight | Flow::Branch | Flow::Call => false,
    }
}

/// Moves the cost of every segment that ends at an `if` with an `else`,
/// and only computes (no trap, call, branch, memory access or global
/// write), into the first segment of each branch, unless `keep` says the
/// segment is paid otherwise (a counted loop's). Either path pays the same
/// gas, with one check fewer; and running out of gas a few pure
/// instructions later than before changes nothing anyone can observe (all
/// the gas is used, and nothing those instructions did survives). Sunk
/// costs cascade into nested ifs the same way.
fn sink_into_branches(
    ops: &[Operator<'_>],
    split_after: &[bool],
    segment_cost: &mut [u64],
    keep: impl Fn(usize) -> bool,
) {
    // The `else` of every `if` that has one.
    let mut else_of = vec![None; ops.len()];
    let mut open = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        match op {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => open.push(i),
            Operator::Else => {
                if let Some(&at) = open.last() {
                    else_of[at] = Some(i);
                }
            }
            Operator::End => {
                open.pop();
            }
            _ => {}
        }
    }
    let mut start = 0;
    let mut pure = true;
    for (i, op) in ops.iter().enumerate() {
        if let Operator::If { .. } = op
            && pure
            && let Some(els) = else_of[i]
            && !(start > 0 && matches!(ops[start - 1], Operator::Loop { .. }))
            && !keep(start)
        {
            let cost = std::mem::take(&mut segment_cost[start]);
            segment_cost[i + 1] = segment_cost[i + 1].saturating_add(cost);
            segment_cost[els + 1] = segment_cost[els + 1].saturating_add(cost);
        }
        pure = pure && computes_only(op);
        if split_after[i] {
            start = i + 1;
            pure = true;
        }
    }
}

/// Whether `op` only computes: it cannot trap, call, branch, touch memory
/// or tables, or write a global.
fn computes_only(op: &Operator<'_>) -> bool {
    ops::class(op).pure
}

/// Scratch locals appended after a body's own.
struct Scratch {
    /// i32: a bulk length or grow delta.
    a: u32,
    /// i32: a grow result.
    b: u32,
    f32: u32,
    f64: u32,
    /// i64: the gas left, kept in a local (a register) between flushes.
    gas: u32,
    /// i32: the call depth at this frame's entry (its own cost included).
    depth: u32,
    /// First local of each type that NaN juggles use.
    juggle: Vec<(ValType, u32)>,
}

/// Labels of the cold exits, relative to the body's outermost level: a
/// branch from `nesting` open blocks deep adds `nesting`.
const OUT_OF_GAS_LABEL: u32 = 1;
const STACK_OVERFLOW_LABEL: u32 = 2;

fn instrument_body(
    body: &Body<'_>,
    ty: &wasmparser::FuncType,
    block: BlockType,
    ctx: &BodyCtx<'_, '_>,
    redirect: &mut Redirect,
) -> Result<(Function, u32), PolicyError> {
    // NaN canonicalisation points, if the body does anything with floats.
    let nan_plan = if ctx.plan.canonicalize_nans && body.ops.iter().any(touches_floats) {
        let mut all_locals: Vec<wasmparser::ValType> = ty.params().to_vec();
        for &(count, t) in &body.locals {
            all_locals.extend(std::iter::repeat_n(t, count as usize));
        }
        Some(nan::plan(&ctx.module, &all_locals, ty.results(), &body.ops))
    } else {
        None
    };

    // The meters are parameters after the function's own (the gas when
    // engine-metered, then the depth), so the body's declared locals move
    // up by `shift`.
    let params = ty.params().len() as u32;
    let shift = if ctx.plan.gas { 2 } else { 1 };
    let first_scratch = body.locals_and_params as u32 + shift;
    let mut s = Scratch {
        a: first_scratch,
        b: first_scratch + 1,
        f32: first_scratch + 2,
        f64: first_scratch + 3,
        // Never read when not engine-metered.
        gas: params,
        depth: params + shift - 1,
        juggle: Vec::new(),
    };
    // Static cost of each segment, keyed by the index of its first op.
    let schedule = ctx.plan.schedule;
    let op_cost = |op: &Operator<'_>| {
        let mut cost = u64::from(schedule.cost_of(op));
        // A host call's fixed cost is prepaid with its segment, so the host
        // need not touch the gas counter for calls that cost nothing more.
        if let Operator::Call { function_index } = op
            && *function_index < ctx.imported_funcs
        {
            cost += u64::from(schedule.host_call);
        }
        cost
    };
    // Where segments end, decided from the back: a `br_if` also ends one
    // when what follows it in its segment costs more than BR_IF_SPLIT_COST
    // (LLVM's `block ... br_if ... end` early exits would otherwise pay for
    // the code they skip: a `memory.grow` or a host call on a cold path).
    let mut split_after = vec![false; body.ops.len()];
    let mut rest = 0u64;
    for (i, op) in body.ops.iter().enumerate().rev() {
        split_after[i] =
            ends_segment(op) || (matches!(op, Operator::BrIf { .. }) && rest > BR_IF_SPLIT_COST);
        if split_after[i] {
            rest = 0;
        }
        rest = rest.saturating_add(op_cost(op));
    }
    let mut segment_cost = vec![0u64; body.ops.len()];
    let mut start = 0;
    for (i, op) in body.ops.iter().enumerate() {
        segment_cost[start] += op_cost(op);
        if split_after[i] {
            start = i + 1;
            if start == body.ops.len() {
                break;
            }
        }
    }

    // Loops whose gas can be paid on entry (engine-metered bodies only).
    let counted = if ctx.plan.gas && ctx.plan.prepay_loops {
        loops::find(&body.ops, &split_after, &segment_cost)
    } else {
        Vec::new()
    };
    // Outside them (and the segment after each, which a bottom-tested one
    // prepays), segments that only compute are charged with the branch of
    // the `if` they lead to. The counted loops are in order and never nest.
    sink_into_branches(&body.ops, &split_after, &mut segment_cost, |s| {
        let before = counted.partition_point(|c| c.start <= s);
        before > 0 && s <= counted[before - 1].end + 1
    });

    let mut locals: Vec<(u32, ValType)> = Vec::with_capacity(body.locals.len() + 8);
    for &(count, ty) in &body.locals {
        locals.push((count, val_type(ty)?));
    }
    locals.push((2, ValType::I32));
    locals.push((1, ValType::F32));
    locals.push((1, ValType::F64));
    let mut next_local = first_scratch + 4;
    for &(ty, count) in nan_plan.iter().flat_map(|p| &p.scratch) {
        let ty = val_type(ty)?;
        locals.push((count, ty));
        s.juggle.push((ty, next_local));
        next_local += count;
    }
    // Three i64 scratch locals for the prepayment of counted loops.
    let prepay_locals = loops::PrepayLocals {
        x: next_local,
        y: next_local + 1,
        k: next_local + 2,
        gas: s.gas,
    };
    if !counted.is_empty() {
        locals.push((3, ValType::I64));
    }
    let mut func = Function::new(locals);

    // The cold exits' blocks, then the body's own block.
    func.instruction(&Instruction::Block(BlockType::Empty))
        .instruction(&Instruction::Block(BlockType::Empty))
        .instruction(&Instruction::Block(block));
    let mut e = Emitter {
        func,
        body,
        ctx,
        s: &s,
        nan_plan: nan_plan.as_ref(),
        redirect,
        params,
        shift,
        nesting: 0,
        loop_copy_at: None,
        depth_checked: vec![(0, 0)],
    };
    // Counted loops, and the inner loops they fold in.
    let prepaid = counted.iter().map(|c| 1 + c.folded.len() as u32).sum();
    let mut counted = counted.iter().peekable();
    // The segment after the last counted loop's `end`, charged inside its
    // checked copy (and prepaid in the other), not where it starts.
    let mut charged_early: Option<usize> = None;
    let cost_at = |i: usize, early: Option<usize>| {
        if early == Some(i) { 0 } else { segment_cost[i] }
    };
    let mut i = 0;
    while i < body.ops.len() {
        let Some(c) = counted.next_if(|c| c.start == i) else {
            e.op(i, cost_at(i, charged_early), true)?;
            i += 1;
            continue;
        };
        // A counted loop: `if (!prepaid) { loop as usual } else { gas -=
        // k; loop without checks }`. The `loop` op's own segment is charged
        // once, before either; both copies' exits branch one level further
        // out. (Either order is correct; with this one Cranelift happened
        // to lay the prepaid copy out first, at the function's start on
        // the metering benchmark's loops.)
        e.charge(cost_at(i, charged_early));
        e.fix(i)?;
        for instruction in loops::prepay(c, &prepay_locals, |x| e.local(x)) {
            e.func.instruction(&instruction);
        }
        e.func
            .instruction(&Instruction::I32Eqz)
            .instruction(&Instruction::If(loops::wrapper_type(c.blockty, val_type)?));
        e.nesting += 1;
        e.loop_copy(c, &segment_cost, false)?;
        // The checked copy charges the segment after the loop as it falls
        // out, as it always did; the prepaid copy paid for it.
        e.charge(c.after);
        charged_early = (c.after > 0).then_some(c.end + 1);
        e.func
            .instruction(&Instruction::Else)
            .instruction(&Instruction::LocalGet(s.gas))
            .instruction(&Instruction::LocalGet(prepay_locals.k))
            .instruction(&Instruction::I64Sub)
            .instruction(&Instruction::LocalSet(s.gas));
        e.loop_copy(c, &segment_cost, true)?;
        e.func.instruction(&Instruction::End);
        e.nesting -= 1;
        i = c.end + 1;
    }
    let Emitter { mut func, .. } = e;
    let g = ctx.globals;
    let gas = ctx.plan.gas;
    // The body's block ended with the last op (the function's `end`):
    // leave with its results and the gas left, past the cold exits.
    if gas {
        func.instruction(&Instruction::LocalGet(s.gas));
    }
    func.instruction(&Instruction::Return)
        .instruction(&Instruction::End);
    trap_with(&mut func, &g, TRAP_OUT_OF_GAS);
    func.instruction(&Instruction::End);
    trap_with(&mut func, &g, TRAP_STACK_OVERFLOW);
    func.instruction(&Instruction::End);
    Ok((func, prepaid))
}

/// Emits a body's ops one by one, with their charges, NaN fixes and
/// meter plumbing.
struct Emitter<'e, 'a, 'p, 's> {
    func: Function,
    body: &'e Body<'a>,
    ctx: &'e BodyCtx<'p, 's>,
    s: &'e Scratch,
    nan_plan: Option<&'e nan::NanPlan>,
    redirect: &'e mut Redirect,
    /// The function's parameter count, and how far the declared locals
    /// move up (past the meter parameters).
    params: u32,
    shift: u32,
    /// Open blocks, loops and ifs: a branch this deep leaves the function.
    nesting: u32,
    /// Inside a copy of a counted loop, `nesting` inside its `loop`: the
    /// copy sits in an `if`, so branches out of the loop go one level
    /// further than in the original.
    loop_copy_at: Option<u32>,
    /// Per open block, loop or if: the largest frame cost whose depth
    /// check passed on every path to its start, and to here. A direct
    /// call of a frame no larger needs no check (the depth is the same).
    /// Nothing learned inside a construct outlives it: a branch may leave
    /// it before the check.
    depth_checked: Vec<(u32, u32)>,
}

impl Emitter<'_, '_, '_, '_> {
    /// An original local's index in the instrumented body.
    fn local(&self, index: u32) -> u32 {
        if index >= self.params {
            index + self.shift
        } else {
            index
        }
    }

    /// Charges a segment's static cost (nothing if 0).
    fn charge(&mut self, cost: u64) {
        if self.ctx.plan.gas && cost > 0 {
            let cost = cost.min(i64::MAX as u64) as i64;
            charge(
                &mut self.func,
                self.s,
                self.nesting + OUT_OF_GAS_LABEL,
                &[Instruction::I64Const(cost)],
            );
        }
    }

    /// The NaN fix planned before op `i`, if any.
    fn fix(&mut self, i: usize) -> Result<(), PolicyError> {
        if let Some(fix) = self.nan_plan.and_then(|p| p.fixes.get(&i)) {
            apply_fix(&mut self.func, self.s, fix)?;
        }
        Ok(())
    }

    /// One copy of counted loop `c` inside the `if` that holds both: its
    /// `loop` (whose own segment the caller charged), then its body and
    /// `end`, charged by `segment_cost`, except for the loop's own
    /// segments in the prepaid copy. Branches that leave the loop go one
    /// level further, past the `if`.
    fn loop_copy(
        &mut self,
        c: &loops::CountedLoop,
        segment_cost: &[u64],
        prepaid: bool,
    ) -> Result<(), PolicyError> {
        self.op(c.start, 0, false)?;
        self.loop_copy_at = Some(self.nesting);
        for (j, &cost) in segment_cost
            .iter()
            .enumerate()
            .take(c.end + 1)
            .skip(c.start + 1)
        {
            let cost = if prepaid && c.own.binary_search(&j).is_ok() {
                0
            } else {
                cost
            };
            self.op(j, cost, true)?;
        }
        self.loop_copy_at = None;
        Ok(())
    }

    /// A branch's relative depth in the instrumented body: one more when
    /// it leaves a loop copy (see [`Emitter::loop_copy_at`]).
    fn target(&self, relative_depth: u32) -> u32 {
        match self.loop_copy_at {
            Some(at) if relative_depth > self.nesting - at => relative_depth + 1,
            _ => relative_depth,
        }
    }

    /// Emits op `i` after charging `cost` (and its NaN fix if `fix`).
    fn op(&mut self, i: usize, cost: u64, fix: bool) -> Result<(), PolicyError> {
        let op = &self.body.ops[i];
        let oog = self.nesting + OUT_OF_GAS_LABEL;
        self.charge(cost);
        if fix {
            self.fix(i)?;
        }
        let s = self.s;
        let g = self.ctx.globals;
        let gas = self.ctx.plan.gas;
        let imported_funcs = self.ctx.imported_funcs;
        let func = &mut self.func;
        // Before handing control to code that reads the globals (host
        // functions, table thunks), flush the locals. Ward's own callees
        // take the meters as arguments and give the gas back as a result.
        let host =
            matches!(op, Operator::Call { function_index } if *function_index < imported_funcs);
        let indirect = matches!(op, Operator::CallIndirect { .. });
        if gas && (host || indirect) {
            flush_gas(func, &g, s);
        }
        if indirect {
            func.instruction(&Instruction::LocalGet(s.depth))
                .instruction(&Instruction::GlobalSet(g.depth));
        }
        match op {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                self.nesting += 1;
                let known = self.depth_checked.last().map_or(0, |&(_, now)| now);
                self.depth_checked.push((known, known));
            }
            Operator::Else => {
                if let Some(level) = self.depth_checked.last_mut() {
                    level.1 = level.0;
                }
            }
            Operator::End => {
                self.nesting = self.nesting.saturating_sub(1);
                self.depth_checked.pop();
            }
            _ => {}
        }
        match op {
            Operator::Call { function_index } if *function_index >= imported_funcs => {
                let cost = (self.ctx.frame_cost)(*function_index);
                let limit = self.ctx.plan.max_stack_units;
                // A check this one implies already passed on the way here.
                let known = self.depth_checked.last().map_or(0, |&(_, now)| now);
                let check = if cost <= known {
                    DepthCheck::Passed
                } else {
                    if cost <= limit
                        && let Some(level) = self.depth_checked.last_mut()
                    {
                        level.1 = cost;
                    }
                    DepthCheck::Check(self.nesting + STACK_OVERFLOW_LABEL)
                };
                call_with_depth(func, s, gas, cost, limit, check);
                func.instruction(&Instruction::Call(*function_index));
                if gas {
                    func.instruction(&Instruction::LocalSet(s.gas));
                }
                return Ok(());
            }
            Operator::LocalGet { local_index } => {
                let index = self.local(*local_index);
                self.func.instruction(&Instruction::LocalGet(index));
                return Ok(());
            }
            Operator::LocalSet { local_index } => {
                let index = self.local(*local_index);
                self.func.instruction(&Instruction::LocalSet(index));
                return Ok(());
            }
            Operator::LocalTee { local_index } => {
                let index = self.local(*local_index);
                self.func.instruction(&Instruction::LocalTee(index));
                return Ok(());
            }
            Operator::Call { function_index } => {
                func.instruction(&Instruction::Call(*function_index));
                if gas {
                    reload_gas(func, &g, s);
                }
                return Ok(());
            }
            Operator::Br { relative_depth } if self.loop_copy_at.is_some() => {
                let target = self.target(*relative_depth);
                self.func.instruction(&Instruction::Br(target));
                return Ok(());
            }
            Operator::BrIf { relative_depth } if self.loop_copy_at.is_some() => {
                let target = self.target(*relative_depth);
                self.func.instruction(&Instruction::BrIf(target));
                return Ok(());
            }
            Operator::BrTable { targets } if self.loop_copy_at.is_some() => {
                let mut shifted = Vec::with_capacity(targets.len() as usize);
                for target in targets.targets() {
                    shifted.push(self.target(target.map_err(crate::invalid)?));
                }
                let default = self.target(targets.default());
                self.func
                    .instruction(&Instruction::BrTable(shifted.into(), default));
                return Ok(());
            }
            _ => {}
        }
        if gas {
            dynamic_charge_before(func, op, s, oog, self.ctx.plan.schedule);
        }
        if gas && matches!(op, Operator::Return) {
            // The gas left is the last result.
            func.instruction(&Instruction::LocalGet(s.gas));
        }
        let instruction =
            self.redirect
                .instruction(op.clone())
                .map_err(|e| PolicyError::Invalid {
                    offset: 0,
                    message: e.to_string(),
                })?;
        self.func.instruction(&instruction);
        if gas {
            if indirect {
                reload_gas(&mut self.func, &g, s);
            }
            dynamic_charge_after(&mut self.func, op, s, oog, self.ctx.plan.schedule);
        }
        Ok(())
    }
}

/// Emits a NaN fix planned by [`nan::plan`].
fn apply_fix(func: &mut Function, s: &Scratch, fix: &Fix) -> Result<(), PolicyError> {
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
fn charge(func: &mut Function, s: &Scratch, oog: u32, amount: &[Instruction<'_>]) {
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
fn trap_with(func: &mut Function, g: &Globals, reason: i64) {
    func.instruction(&Instruction::I64Const(reason))
        .instruction(&Instruction::GlobalSet(g.gas))
        .instruction(&Instruction::Unreachable);
}

/// Gas local -> gas global.
fn flush_gas(func: &mut Function, g: &Globals, s: &Scratch) {
    func.instruction(&Instruction::LocalGet(s.gas))
        .instruction(&Instruction::GlobalSet(g.gas));
}

/// Gas global -> gas local (after a callee or host function charged it).
fn reload_gas(func: &mut Function, g: &Globals, s: &Scratch) {
    func.instruction(&Instruction::GlobalGet(g.gas))
        .instruction(&Instruction::LocalSet(s.gas));
}

/// A direct call of a defined function, whose arguments are on the stack:
/// branches to the stack-overflow exit (`overflow` levels out) when this
/// frame's depth plus the callee's `cost` exceeds the limit, then pushes
/// the meters the callee takes (the gas left when engine-metered, and its
/// depth).
fn call_with_depth(
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
enum DepthCheck {
    /// A check for a frame at least as large passed earlier on every path
    /// here (the depth local never changes within a body).
    Passed,
    /// Check, branching this deep to the stack-overflow exit.
    Check(u32),
}

/// `ceil(len / 64) * per` as an i64 expression over the i32 local `len`.
fn per_64_bytes(len: u32, per: u32) -> Vec<Instruction<'static>> {
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
fn per_unit(len: u32, per: u32) -> Vec<Instruction<'static>> {
    vec![
        Instruction::LocalGet(len),
        Instruction::I64ExtendI32U,
        Instruction::I64Const(i64::from(per)),
        Instruction::I64Mul,
    ]
}

/// Bulk operations: charge the length (top of stack) before the work.
/// `grow`: remember the delta (top of stack) for the charge after.
fn dynamic_charge_before(
    func: &mut Function,
    op: &Operator<'_>,
    s: &Scratch,
    oog: u32,
    schedule: &CostSchedule,
) {
    let amount = match ops::class(op).dynamic {
        Dynamic::MemoryBulk => per_64_bytes(s.a, schedule.bulk_per_64_bytes),
        Dynamic::TableBulk => per_unit(s.a, schedule.bulk_per_element),
        Dynamic::MemoryGrow | Dynamic::TableGrow => {
            func.instruction(&Instruction::LocalTee(s.a));
            return;
        }
        Dynamic::None => return,
    };
    func.instruction(&Instruction::LocalTee(s.a));
    charge(func, s, oog, &amount);
}

/// `grow`: charge what was granted (nothing when it returned -1).
fn dynamic_charge_after(
    func: &mut Function,
    op: &Operator<'_>,
    s: &Scratch,
    oog: u32,
    schedule: &CostSchedule,
) {
    let amount = match ops::class(op).dynamic {
        Dynamic::MemoryGrow => per_unit(s.a, schedule.grow_per_page),
        Dynamic::TableGrow => per_unit(s.a, schedule.grow_per_element),
        Dynamic::None | Dynamic::MemoryBulk | Dynamic::TableBulk => return,
    };
    func.instruction(&Instruction::LocalTee(s.b))
        .instruction(&Instruction::I32Const(-1))
        .instruction(&Instruction::I32Ne)
        .instruction(&Instruction::If(BlockType::Empty));
    // Inside the `if`: one level further from the exit.
    charge(func, s, oog + 1, &amount);
    func.instruction(&Instruction::End)
        .instruction(&Instruction::LocalGet(s.b));
}

/// Replaces a NaN on top of the stack with the canonical NaN.
fn canonicalize(func: &mut Function, s: &Scratch, ty: ValType) {
    let tmp = if ty == ValType::F32 { s.f32 } else { s.f64 };
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

/// A table thunk's entry: `local = depth + cost` from the depth global the
/// caller flushed before its `call_indirect`, trapping past the limit.
fn enter_frame(func: &mut Function, g: &Globals, cost: u32, limit: u32, local: u32) {
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
