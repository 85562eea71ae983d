//! Emits a body's operators one by one, with their charges, NaN fixes and
//! meter plumbing.

use wasm_encoder::{Function, Instruction, reencode::Reencode};
use wasmparser::Operator;

use crate::{
    PolicyError,
    analyze::Ops,
    loops,
    nan::{self},
    ops::{Dynamic, Flow, store_offset},
};

use super::body::{BodyCtx, OUT_OF_GAS_LABEL, STACK_OVERFLOW_LABEL, Scratch, meter_params};
use super::dirty;
use super::emit::{
    DepthCheck, apply_fix, call_with_depth, charge, dynamic_charge_after, dynamic_charge_before,
    flush_gas, reload_gas,
};
use super::{Redirect, reencode_error, val_type};

/// Emits a body's ops one by one, with their charges, NaN fixes and
/// meter plumbing.
pub(super) struct Emitter<'e, 'a, 'p, 's> {
    func: Function,
    ops: &'e Ops<'a>,
    ctx: &'e BodyCtx<'p, 's>,
    s: &'e Scratch,
    nan_plan: Option<&'e nan::NanPlan>,
    redirect: &'e mut Redirect,
    /// The function (its index in the original module) and its parameter
    /// count, and how far the declared locals move up (past the meter
    /// parameters).
    f: u32,
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

impl<'e, 'a, 'p, 's> Emitter<'e, 'a, 'p, 's> {
    /// An emitter appending to `func` (which has opened the cold exits'
    /// blocks and the body's own), for a function of `params` parameters.
    pub(super) fn new(
        func: Function,
        ops: &'e Ops<'a>,
        ctx: &'e BodyCtx<'p, 's>,
        s: &'e Scratch,
        nan_plan: Option<&'e nan::NanPlan>,
        redirect: &'e mut Redirect,
        (f, params): (u32, u32),
    ) -> Self {
        Emitter {
            func,
            ops,
            ctx,
            s,
            nan_plan,
            redirect,
            f,
            params,
            shift: meter_params(ctx.plan),
            nesting: 0,
            loop_copy_at: None,
            depth_checked: vec![(0, 0)],
        }
    }

    /// The function emitted so far.
    pub(super) fn into_function(self) -> Function {
        self.func
    }
}

impl Emitter<'_, '_, '_, '_> {
    /// Emits every op of the body, each segment charged by `segment_cost`,
    /// and each of the `counted` loops (in order, never nested) as its two
    /// copies.
    pub(super) fn emit_body(
        &mut self,
        counted: &[loops::CountedLoop],
        segment_cost: &[u64],
    ) -> Result<(), PolicyError> {
        let mut counted = counted.iter().peekable();
        // The segment after the last counted loop's `end`, charged inside
        // its checked copy (and prepaid in the other), not where it starts.
        let mut charged_early: Option<usize> = None;
        let mut i = 0;
        while i < self.ops.ops.len() {
            let cost = if charged_early == Some(i) {
                0
            } else {
                segment_cost[i]
            };
            match counted.next_if(|c| c.start == i) {
                Some(c) => {
                    self.counted_loop(c, cost, segment_cost)?;
                    charged_early = (c.after > 0).then_some(c.end + 1);
                    i = c.end + 1;
                }
                None if cost == 0 && self.copies_as_is(i) => {
                    // A run of ops the rewrite leaves alone, none starting
                    // a segment: their encoding, copied in one go.
                    let start = i;
                    i += 1;
                    while i < self.ops.ops.len()
                        && segment_cost[i] == 0
                        && charged_early != Some(i)
                        && counted.peek().is_none_or(|c| c.start != i)
                        && self.copies_as_is(i)
                    {
                        i += 1;
                    }
                    self.func.raw(self.ops.encoding(start, i).iter().copied());
                }
                None => {
                    self.op(i, cost, true)?;
                    i += 1;
                }
            }
        }
        Ok(())
    }

    /// A counted loop: `if (!prepaid) { loop as usual } else { gas -= k;
    /// loop without checks }`. The `loop` op's own segment (`cost`) is
    /// charged once, before either; both copies' exits branch one level
    /// further out. (Either order is correct; with this one Cranelift
    /// happened to lay the prepaid copy out first, at the function's start
    /// on the metering benchmark's loops.)
    fn counted_loop(
        &mut self,
        c: &loops::CountedLoop,
        cost: u64,
        segment_cost: &[u64],
    ) -> Result<(), PolicyError> {
        self.charge(cost);
        self.fix(c.start)?;
        let prepay = &self.s.prepay;
        for instruction in loops::prepay(c, prepay, |x| self.local(x)) {
            self.func.instruction(&instruction);
        }
        self.func
            .instruction(&Instruction::I32Eqz)
            .instruction(&Instruction::If(loops::wrapper_type(c.blockty, val_type)?));
        self.nesting += 1;
        self.loop_copy(c, segment_cost, false)?;
        // The checked copy charges the segment after the loop as it falls
        // out, as it always did; the prepaid copy paid for it.
        self.charge(c.after);
        self.func
            .instruction(&Instruction::Else)
            .instruction(&Instruction::LocalGet(self.s.gas))
            .instruction(&Instruction::LocalGet(self.s.prepay.k))
            .instruction(&Instruction::I64Sub)
            .instruction(&Instruction::LocalSet(self.s.gas));
        self.loop_copy(c, segment_cost, true)?;
        self.func.instruction(&Instruction::End);
        self.nesting -= 1;
        Ok(())
    }

    /// Whether op `i` is emitted exactly as it is: straight-line, with no
    /// charge of its own, no NaN fix, naming no local or function.
    fn copies_as_is(&self, i: usize) -> bool {
        let class = self.ops.classes[i];
        class.flow == Flow::Straight
            && class.dynamic == Dynamic::None
            && !matches!(
                self.ops.ops[i],
                Operator::LocalGet { .. }
                    | Operator::LocalSet { .. }
                    | Operator::LocalTee { .. }
                    | Operator::RefFunc { .. }
            )
            && self.nan_plan.is_none_or(|p| !p.fixes.contains_key(&i))
            && !self.marks_write(i)
    }

    /// Whether op `i` writes memory the plan marks ([`super::dirty`]).
    fn marks_write(&self, i: usize) -> bool {
        let class = self.ops.classes[i];
        self.ctx.plan.dirty.is_some()
            && (class.store.is_some() || class.dynamic == Dynamic::MemoryBulk)
    }

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
        let op = &self.ops.ops[i];
        let class = self.ops.classes[i];
        self.charge(cost);
        if fix {
            self.fix(i)?;
        }
        self.flush_meters(op);
        self.track_nesting(op);
        if let Some(hooks) = self.ctx.hooks {
            match op {
                // A call, or a trap the code asked for (a Rust panic's
                // last instruction): where a backtrace shows the function.
                Operator::Call { .. } | Operator::CallIndirect { .. } | Operator::Unreachable => {
                    hooks.at(&mut self.func, self.ops.offset(i));
                }
                Operator::Return => {
                    let gas = self.ctx.plan.gas.then_some(self.s.gas);
                    hooks.edge(&mut self.func, hooks.leave, self.f, gas);
                }
                _ => {}
            }
        }
        if self.rewritten(op)? {
            return Ok(());
        }
        let (s, g, gas) = (self.s, self.ctx.globals, self.ctx.plan.gas);
        if let (Some(shift), Some(dirty)) = (self.ctx.plan.dirty, g.dirty) {
            if let Some(store) = class.store {
                dirty::mark_store(&mut self.func, s, (dirty, shift), store, store_offset(op));
            } else if class.dynamic == Dynamic::MemoryBulk {
                dirty::mark_bulk(&mut self.func, s, (dirty, shift));
            }
        }
        let oog = self.nesting + OUT_OF_GAS_LABEL;
        if gas {
            dynamic_charge_before(&mut self.func, class, s, oog, self.ctx.plan.schedule);
        }
        if gas && matches!(op, Operator::Return) {
            // The gas left is the last result.
            self.func.instruction(&Instruction::LocalGet(s.gas));
        }
        if let Operator::RefFunc { .. } = op {
            // An escaping function's reference names its thunk.
            let instruction = self
                .redirect
                .instruction(op.clone())
                .map_err(reencode_error)?;
            self.func.instruction(&instruction);
        } else {
            // Nothing else the rewrite leaves alone names a function: its
            // encoding is copied as it is (re-encoding was most of the pass).
            self.func.raw(self.ops.encoding(i, i + 1).iter().copied());
        }
        if gas {
            if matches!(op, Operator::CallIndirect { .. }) {
                reload_gas(&mut self.func, &g, s);
            }
            dynamic_charge_after(&mut self.func, class, s, oog, self.ctx.plan.schedule);
        }
        Ok(())
    }

    /// Before handing control to code that reads the globals (host
    /// functions, table thunks), flushes the locals to them: the depth
    /// too, so that a host function that runs other code (a call to
    /// another contract, a child) knows where this frame's stack ends. Ward's own
    /// callees take the meters as arguments and give the gas back as a
    /// result.
    fn flush_meters(&mut self, op: &Operator<'_>) {
        let (s, g) = (self.s, self.ctx.globals);
        let host = matches!(op, Operator::Call { function_index } if *function_index < self.ctx.imported_funcs);
        let indirect = matches!(op, Operator::CallIndirect { .. });
        if self.ctx.plan.gas && (host || indirect) {
            flush_gas(&mut self.func, &g, s);
        }
        if host || indirect {
            self.func
                .instruction(&Instruction::LocalGet(s.depth))
                .instruction(&Instruction::GlobalSet(g.depth));
        }
    }

    /// Follows the nesting of blocks, loops and ifs, and what is known
    /// about depth checks inside each.
    fn track_nesting(&mut self, op: &Operator<'_>) {
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
    }

    /// Emits the ops the rewrite changes rather than copies: calls, locals
    /// (renumbered past the meter parameters) and, inside a loop copy,
    /// branches (one level further out). `false` for any other op.
    fn rewritten(&mut self, op: &Operator<'_>) -> Result<bool, PolicyError> {
        let instruction = match op {
            Operator::Call { function_index } if *function_index >= self.ctx.imported_funcs => {
                self.direct_call(*function_index);
                return Ok(true);
            }
            Operator::Call { function_index } => {
                self.func.instruction(&Instruction::Call(*function_index));
                if self.ctx.plan.gas {
                    reload_gas(&mut self.func, &self.ctx.globals, self.s);
                }
                return Ok(true);
            }
            Operator::LocalGet { local_index } => Instruction::LocalGet(self.local(*local_index)),
            Operator::LocalSet { local_index } => Instruction::LocalSet(self.local(*local_index)),
            Operator::LocalTee { local_index } => Instruction::LocalTee(self.local(*local_index)),
            Operator::Br { relative_depth } if self.loop_copy_at.is_some() => {
                Instruction::Br(self.target(*relative_depth))
            }
            Operator::BrIf { relative_depth } if self.loop_copy_at.is_some() => {
                Instruction::BrIf(self.target(*relative_depth))
            }
            Operator::BrTable { targets } if self.loop_copy_at.is_some() => {
                let mut shifted = Vec::with_capacity(targets.len() as usize);
                for target in targets.targets() {
                    shifted.push(self.target(target.map_err(crate::invalid)?));
                }
                Instruction::BrTable(shifted.into(), self.target(targets.default()))
            }
            _ => return Ok(false),
        };
        self.func.instruction(&instruction);
        Ok(true)
    }

    /// A call of defined function `f`: the depth check its frame needs
    /// (none when one as large already passed on every path here), the
    /// meters as arguments, the gas left as its last result.
    fn direct_call(&mut self, f: u32) {
        let (s, gas) = (self.s, self.ctx.plan.gas);
        let cost = (self.ctx.frame_cost)(f);
        let limit = self.ctx.plan.max_stack_units;
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
        call_with_depth(&mut self.func, s, gas, cost, limit, check);
        self.func
            .instruction(&Instruction::Call(self.redirect.defined(f)));
        if gas {
            self.func.instruction(&Instruction::LocalSet(s.gas));
        }
    }
}
