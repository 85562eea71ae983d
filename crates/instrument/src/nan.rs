//! Where NaNs must be canonicalised: a taint analysis over one body.
//!
//! Wasm leaves the bits of a NaN produced by arithmetic unspecified (sign
//! and payload), so two engines, or two CPUs, may disagree on them. Those
//! bits only matter where something can see them: a store to memory, a
//! reinterpretation as an integer, `abs` / `neg` / `copysign` (which act on
//! the sign bit), a global (the host can read it), and a value crossing a
//! function boundary (an argument or a result, which the other side may
//! observe in turn). Everything else (locals, the operand stack, more
//! arithmetic, comparisons, conversions to integers) carries or consumes a
//! NaN without exposing its bits.
//!
//! So Ward canonicalises lazily: values produced by arithmetic are
//! *tainted*, taint flows through the operand stack, locals (flow-
//! insensitively: a local is tainted if any tainted value is ever stored in
//! it) and block results, and a tainted value is canonicalised only at the
//! point where its bits could be observed. A hot loop that accumulates into
//! a local pays nothing; the store after it pays once.
//!
//! Invariant: values crossing a function boundary are never tainted. Calls
//! canonicalise tainted arguments, exits canonicalise tainted results, so a
//! function's parameters and a call's results start clean.

use std::collections::BTreeMap;

use wasmparser::{
    BlockType, ContType, FrameKind, FuncType, ModuleArity, Operator, RefType, SubType, ValType,
};

use crate::ops::nan_source;

/// A fix applied right before an operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Fix {
    /// Canonicalise the float on top of the stack.
    Top(ValType),
    /// The top `values.len()` values, deepest first, with whether each must
    /// be canonicalised: pop them into scratch locals and push them back,
    /// canonicalising the marked ones.
    Juggle(Vec<(ValType, bool)>),
}

/// The fixes for one body.
pub(crate) struct NanPlan {
    /// Fixes keyed by the index of the operator they precede.
    pub fixes: BTreeMap<usize, Fix>,
    /// How many scratch locals of each type the juggles need at once.
    pub scratch: Vec<(ValType, u32)>,
}

/// What the analysis needs to know about the module.
pub(crate) struct ModuleTypes<'m> {
    pub types: &'m [FuncType],
    pub func_types: &'m [u32],
    pub global_types: &'m [ValType],
}

impl ModuleTypes<'_> {
    fn func(&self, f: u32) -> Option<&FuncType> {
        self.types.get(*self.func_types.get(f as usize)? as usize)
    }

    fn block(&self, ty: BlockType) -> (Vec<ValType>, Vec<ValType>) {
        match ty {
            BlockType::Empty => (vec![], vec![]),
            BlockType::Type(t) => (vec![], vec![t]),
            BlockType::FuncType(i) => self
                .types
                .get(i as usize)
                .map(|f| (f.params().to_vec(), f.results().to_vec()))
                .unwrap_or_default(),
        }
    }
}

/// Arity of the operators whose arity does not depend on the module: every
/// operator Ward admits except the eleven control operators, which the
/// analysis handles itself and this never answers.
struct FixedArity;

impl ModuleArity for FixedArity {
    fn sub_type_at(&self, _: u32) -> Option<&SubType> {
        None
    }
    fn tag_type_arity(&self, _: u32) -> Option<(u32, u32)> {
        None
    }
    fn type_index_of_function(&self, _: u32) -> Option<u32> {
        None
    }
    fn func_type_of_cont_type(&self, _: &ContType) -> Option<&FuncType> {
        None
    }
    fn sub_type_of_ref_type(&self, _: &RefType) -> Option<&SubType> {
        None
    }
    fn control_stack_height(&self) -> u32 {
        0
    }
    fn label_block(&self, _: u32) -> Option<(BlockType, FrameKind)> {
        None
    }
}

struct Frame {
    /// Operand height below the block's parameters.
    height: usize,
    params: Vec<ValType>,
    results: Vec<ValType>,
    is_loop: bool,
    /// Taint of the parameters at entry (an `if` without `else` passes them
    /// through).
    params_taint: bool,
    /// Whether any value that reaches the block's end may be tainted.
    out_taint: bool,
    unreachable: bool,
    has_else: bool,
}

struct Sim<'m, 'c> {
    module: &'c ModuleTypes<'m>,
    stack: Vec<bool>,
    frames: Vec<Frame>,
    locals: &'c [ValType],
    tainted_locals: Vec<bool>,
    fixes: BTreeMap<usize, Fix>,
    scratch: BTreeMap<String, (ValType, u32)>,
}

fn is_float(ty: ValType) -> bool {
    matches!(ty, ValType::F32 | ValType::F64)
}

impl Sim<'_, '_> {
    fn pop(&mut self) -> bool {
        let frame = self.frames.last();
        match frame {
            Some(f) if self.stack.len() <= f.height && f.unreachable => false,
            _ => self.stack.pop().unwrap_or(false),
        }
    }

    /// Taint of the top `n` values, deepest first (without popping).
    fn peek(&self, n: usize) -> Vec<bool> {
        let floor = self.frames.last().map_or(0, |f| f.height);
        let len = self.stack.len();
        (0..n)
            .map(|k| {
                // Position of the k-th of n values from the bottom.
                let from_top = n - k;
                if from_top > len.saturating_sub(floor) {
                    false
                } else {
                    self.stack[len - from_top]
                }
            })
            .collect()
    }

    /// Requires the top values, of `types`, to be clean before `at`.
    fn require_clean(&mut self, at: usize, types: &[ValType]) {
        let taint = self.peek(types.len());
        let marks: Vec<(ValType, bool)> = types
            .iter()
            .zip(&taint)
            .map(|(&ty, &t)| (ty, t && is_float(ty)))
            .collect();
        let Some(first) = marks.iter().position(|&(_, m)| m) else {
            return;
        };
        let fix = if first + 1 == marks.len() {
            Fix::Top(marks[first].0)
        } else {
            let juggled = marks[first..].to_vec();
            let mut counts: BTreeMap<String, (ValType, u32)> = BTreeMap::new();
            for &(ty, _) in &juggled {
                counts.entry(format!("{ty:?}")).or_insert((ty, 0)).1 += 1;
            }
            for (key, (ty, n)) in counts {
                let slot = self.scratch.entry(key).or_insert((ty, 0));
                slot.1 = slot.1.max(n);
            }
            Fix::Juggle(juggled)
        };
        self.fixes.insert(at, fix);
        // The values are clean from here on.
        let len = self.stack.len();
        let n = types.len().min(len);
        for t in &mut self.stack[len - n..] {
            *t = false;
        }
    }

    fn set_unreachable(&mut self) {
        if let Some(f) = self.frames.last_mut() {
            f.unreachable = true;
            self.stack.truncate(f.height);
        }
    }

    /// Values branching to the label `depth` levels out.
    fn branch(&mut self, at: usize, depth: u32, extra_top: usize) {
        let Some(index) = self.frames.len().checked_sub(1 + depth as usize) else {
            return;
        };
        let frame = &self.frames[index];
        let types = if frame.is_loop {
            frame.params.clone()
        } else {
            frame.results.clone()
        };
        if index == 0 {
            // Leaving the function: the results cross the boundary.
            let mut with_extra = types.clone();
            with_extra.extend(std::iter::repeat_n(ValType::I32, extra_top));
            self.require_clean(at, &with_extra);
            return;
        }
        let all = self.peek(types.len() + extra_top);
        let tainted = all[..types.len()].iter().any(|&t| t);
        // Values sent to a loop become its parameters, which are
        // conservatively tainted at entry; nothing to record.
        if !self.frames[index].is_loop {
            self.frames[index].out_taint |= tainted;
        }
    }

    fn run(&mut self, ops: &[Operator<'_>], results: &[ValType]) {
        self.stack.clear();
        self.fixes.clear();
        self.frames.clear();
        self.frames.push(Frame {
            height: 0,
            params: vec![],
            results: results.to_vec(),
            is_loop: false,
            params_taint: false,
            out_taint: false,
            unreachable: false,
            has_else: false,
        });
        let last = ops.len().saturating_sub(1);
        for (i, op) in ops.iter().enumerate() {
            self.step(i, op, i == last);
        }
    }

    fn open(&mut self, ty: BlockType, is_loop: bool, condition: bool) {
        if condition {
            self.pop();
        }
        let (params, results) = self.module.block(ty);
        let taint = self.peek(params.len());
        let params_taint = taint.iter().any(|&t| t);
        let height = self.stack.len().saturating_sub(params.len());
        if is_loop && params.iter().any(|&t| is_float(t)) {
            // Back edges may bring tainted values: assume they do.
            for t in &mut self.stack[height..] {
                *t = true;
            }
        }
        self.frames.push(Frame {
            height,
            params,
            results,
            is_loop,
            params_taint,
            out_taint: false,
            unreachable: false,
            has_else: false,
        });
    }

    fn step(&mut self, i: usize, op: &Operator<'_>, last: bool) {
        use Operator::*;
        if let Some(types) = bits_observed(op) {
            self.require_clean(i, types);
            self.fixed(op);
            return;
        }
        match op {
            Block { blockty } => self.open(*blockty, false, false),
            Loop { blockty } => self.open(*blockty, true, false),
            If { blockty } => self.open(*blockty, false, true),
            Else => self.else_arm(),
            End if last => {
                let results = self.function_results();
                if !self.frames.last().is_some_and(|f| f.unreachable) {
                    self.require_clean(i, &results);
                }
                self.frames.clear();
            }
            End => self.end(),
            Br { relative_depth } => {
                self.branch(i, *relative_depth, 0);
                self.set_unreachable();
            }
            BrIf { relative_depth } => {
                self.branch(i, *relative_depth, 1);
                self.pop();
            }
            BrTable { targets } => {
                let mut depths: Vec<u32> = targets.targets().filter_map(Result::ok).collect();
                depths.push(targets.default());
                for d in depths {
                    self.branch(i, d, 1);
                }
                self.set_unreachable();
            }
            Return => {
                let results = self.function_results();
                self.require_clean(i, &results);
                self.set_unreachable();
            }
            Unreachable => self.set_unreachable(),
            Call { function_index } => {
                if let Some(ty) = self.module.func(*function_index) {
                    let (params, results) = (ty.params().to_vec(), ty.results().len());
                    self.call(i, &params, results);
                }
            }
            CallIndirect { type_index, .. } => {
                if let Some(ty) = self.module.types.get(*type_index as usize) {
                    let (mut params, results) = (ty.params().to_vec(), ty.results().len());
                    params.push(ValType::I32);
                    self.call(i, &params, results);
                }
            }
            LocalGet { local_index } => {
                let t = self
                    .tainted_locals
                    .get(*local_index as usize)
                    .copied()
                    .unwrap_or(false);
                self.stack.push(t);
            }
            LocalSet { local_index } | LocalTee { local_index } => {
                let t = self.pop();
                if t && let Some(slot) = self.tainted_locals.get_mut(*local_index as usize) {
                    *slot = true;
                }
                if matches!(op, LocalTee { .. }) {
                    self.stack.push(t);
                }
            }
            GlobalSet { global_index } => {
                let ty = self
                    .module
                    .global_types
                    .get(*global_index as usize)
                    .copied();
                if let Some(ty) = ty {
                    self.require_clean(i, &[ty]);
                }
                self.pop();
            }
            Select | TypedSelect { .. } => {
                self.pop();
                let b = self.pop();
                let a = self.pop();
                self.stack.push(a || b);
            }
            _ => self.fixed(op),
        }
    }

    /// The function's own results.
    fn function_results(&self) -> Vec<ValType> {
        self.frames
            .first()
            .map(|f| f.results.clone())
            .unwrap_or_default()
    }

    /// A call: its arguments cross into another function, canonical.
    fn call(&mut self, i: usize, params: &[ValType], results: usize) {
        self.require_clean(i, params);
        self.pop_push(params.len(), results, false);
    }

    /// `else`: what the `then` arm left flows out; the `else` arm starts
    /// from the parameters.
    fn else_arm(&mut self) {
        let Some(frame) = self.frames.last() else {
            return;
        };
        let n = frame.results.len();
        if !frame.unreachable {
            let t = self.peek(n).iter().any(|&t| t);
            if let Some(f) = self.frames.last_mut() {
                f.out_taint |= t;
            }
        }
        let Some(f) = self.frames.last_mut() else {
            return;
        };
        f.unreachable = false;
        f.has_else = true;
        let (height, params, taint) = (f.height, f.params.len(), f.params_taint);
        self.stack.truncate(height);
        self.stack.extend(std::iter::repeat_n(taint, params));
    }

    /// `end` of a block, loop or if: its results carry whatever reached
    /// them.
    fn end(&mut self) {
        let Some(frame) = self.frames.last() else {
            return;
        };
        let n = frame.results.len();
        let mut taint = frame.out_taint;
        if !frame.unreachable {
            taint |= self.peek(n).iter().any(|&t| t);
        }
        // An `if` without `else` passes its parameters through.
        if !frame.is_loop && !frame.has_else && frame.params_taint {
            taint |= true;
        }
        if frame.is_loop {
            // Only the fall-through reaches a loop's end.
            taint = !frame.unreachable && self.peek(n).iter().any(|&t| t);
        }
        let height = frame.height;
        self.frames.pop();
        self.stack.truncate(height);
        self.stack.extend(std::iter::repeat_n(taint, n));
    }

    /// An operator of fixed arity: arithmetic taints its result, nothing
    /// else does.
    fn fixed(&mut self, op: &Operator<'_>) {
        let (pops, pushes) = op.operator_arity(&FixedArity).unwrap_or((0, 0));
        self.pop_push(pops as usize, pushes as usize, nan_source(op).is_some());
    }

    fn pop_push(&mut self, pops: usize, pushes: usize, taint: bool) {
        for _ in 0..pops {
            self.pop();
        }
        self.stack.extend(std::iter::repeat_n(taint, pushes));
    }
}

/// Bodies whose locals need more rounds than this to settle have every
/// float local treated as tainted (sound, just less precise).
const MAX_ROUNDS: usize = 4;

/// Plans the canonicalisation of one body, whose parameters and declared
/// locals are `locals` and whose results are `results`.
pub(crate) fn plan(
    module: &ModuleTypes<'_>,
    locals: &[ValType],
    results: &[ValType],
    ops: &[Operator<'_>],
) -> NanPlan {
    let mut sim = Sim {
        module,
        stack: Vec::new(),
        frames: Vec::new(),
        locals,
        tainted_locals: vec![false; locals.len()],
        fixes: BTreeMap::new(),
        scratch: BTreeMap::new(),
    };
    let mut settled = false;
    for _ in 0..MAX_ROUNDS {
        let before = sim.tainted_locals.clone();
        sim.scratch.clear();
        sim.run(ops, results);
        if sim.tainted_locals == before {
            settled = true;
            break;
        }
    }
    if !settled {
        sim.tainted_locals = sim.locals.iter().map(|&t| is_float(t)).collect();
        sim.scratch.clear();
        sim.run(ops, results);
    }
    NanPlan {
        fixes: sim.fixes,
        scratch: sim.scratch.into_values().collect(),
    }
}

/// The operands whose bits an instruction exposes (its own operands, top
/// last), for instructions that are otherwise of fixed arity: a store, a
/// reinterpretation, the sign-bit operations, and a scalar entering a
/// vector lane (SIMD float arithmetic, which could make NaNs inside the
/// vector, is refused under this policy).
fn bits_observed(op: &Operator<'_>) -> Option<&'static [ValType]> {
    use Operator::*;
    Some(match op {
        F32Store { .. } | I32ReinterpretF32 | F32Abs | F32Neg | F32x4Splat => &[ValType::F32],
        F64Store { .. } | I64ReinterpretF64 | F64Abs | F64Neg | F64x2Splat => &[ValType::F64],
        F32Copysign => &[ValType::F32, ValType::F32],
        F64Copysign => &[ValType::F64, ValType::F64],
        F32x4ReplaceLane { .. } => &[ValType::V128, ValType::F32],
        F64x2ReplaceLane { .. } => &[ValType::V128, ValType::F64],
        _ => return None,
    })
}
