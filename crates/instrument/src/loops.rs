//! Counted loops: loops whose number of iterations is known when they are
//! entered, so that their gas can be paid once, on entry, instead of by a
//! check on every iteration.
//!
//! A loop qualifies when its top level (what is not inside a nested block,
//! loop or if) is straight-line code (no calls, nothing with a dynamic
//! charge) with exactly one decision, a test of a *counter* against a
//! *bound*:
//!
//! - **bottom-tested**: the body ends with `br_if 0` (go round again while
//!   the test holds);
//! - **top-tested**: the body has one `br_if` that leaves the loop (while
//!   the test fails, the rest of the body runs) and ends with `br 0`.
//!
//! Nested blocks, loops and ifs may hold anything but calls, returns and
//! branches that leave them, so that every iteration runs the whole top
//! level unless it traps. The counter is a local written exactly once in
//! the body, at its top level, by `counter = counter ± step` with a
//! constant step; the bound is a constant or a local the body never
//! writes. The test compares the counter with the bound (`lt`, `le`, `gt`,
//! `ge`, `ne`, signed or not, either operand order), or tests it against
//! zero (`br_if` on the counter, `eqz`).
//!
//! What is constant is worked out at instrumentation time; when the
//! counter is set to a constant right before the loop and the bound is a
//! constant too, so is the whole charge, and entering the loop costs one
//! comparison with the gas. Such an inner loop with a straight-line body
//! costs the same on every iteration of a loop around it, which *folds* it
//! in: its segments count as the outer loop's own.
//!
//! For such a loop the instrumented code computes, when the loop is
//! entered, how many times the test will run (the *trip count*) and what
//! its own segments cost over those visits (see [`CountedLoop::head`]).
//! When that is known to be finite, small enough and no more than the gas
//! left, it is charged at once and a copy of the loop without those checks
//! runs; otherwise the loop runs as it always did, checking every
//! iteration. The gas is the same either way: the prepaid copy runs
//! exactly the iterations it paid for, nothing inside it reads the gas (no
//! calls), and a trap inside it consumes all the call's gas anyway. When
//! the prepaid copy keeps no check (no nested code but folded loops), out
//! of gas can only strike in the checked copy, at the same instruction as
//! without prepayment; nested checks in the prepaid copy see the gas left
//! after every iteration's own segments were paid, so they may run out
//! earlier, but only when the loop's whole run cannot be paid: the one
//! difference is that a trap the loop would have hit before running out is
//! then reported as out of gas (docs/gas.md).
//!
//! Every trip-count formula below is computed without wrapping (32-bit
//! counters in 64 bits; 64-bit ones with bounds checked against the
//! extremes before anything can overflow), and every case where the
//! counter would wrap around, or never meet its bound, is left to the
//! checked copy.

use std::collections::{BTreeMap, BTreeSet};

use wasm_encoder::{BlockType, Instruction, ValType};
use wasmparser::Operator;

use crate::ops::{self, Dynamic, Flow};

use crate::PolicyError;

/// A value the loop reads and never writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Value {
    /// A constant, sign-extended to 64 bits.
    Const(i64),
    /// A local (by its index in the original body).
    Local(u32),
}

/// When the loop goes round again, as a predicate on the counter's value
/// at the test (`v`) and the bound (`b`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Continue {
    /// `v < b`
    Lt { signed: bool },
    /// `v <= b`
    Le { signed: bool },
    /// `v > b`
    Gt { signed: bool },
    /// `v >= b`
    Ge { signed: bool },
    /// `v != b`
    Ne,
}

/// A loop whose trip count is known on entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CountedLoop {
    /// Index of the `loop`.
    pub start: usize,
    /// The loop's block type (no parameters).
    pub blockty: wasmparser::BlockType,
    /// Index of its `end`.
    pub end: usize,
    /// The counter (a local of the original body).
    pub counter: u32,
    /// Whether the counter is an i64 (else i32).
    pub wide: bool,
    /// Added to the counter once per iteration (sign-extended).
    pub step: i64,
    pub bound: Value,
    pub cont: Continue,
    /// Whether the first test already sees the counter stepped once (the
    /// step comes before the test in the body).
    pub stepped_first: bool,
    /// The constant the counter is set to right before the loop (`for j in
    /// 0..n`), sign-extended, if it is.
    pub start_value: Option<i64>,
    /// Gas the loop's own segments charge at every visit of its head: the
    /// test runs as many times as the head is visited.
    pub head: u64,
    /// Gas its own segments after the exit charge on every visit but the
    /// last (a top-tested loop), else 0.
    pub rest: u64,
    /// The segment right after a bottom-tested loop's `end`, which runs as
    /// soon as the loop falls out of its last iteration, with nothing in
    /// between: prepaid with the loop (the checked copy still charges it
    /// where it always did). 0 for top-tested loops.
    pub after: u64,
    /// Where the loop's own segments start (those at the top level of its
    /// body and in the loops it folds in, `head` and `rest`), in order: the
    /// prepaid copy charges nothing there.
    /// Segments nested in blocks, loops and ifs inside the body are charged
    /// and checked in both copies.
    pub own: Vec<usize>,
    /// Whether every metered segment of the body starts at its top level
    /// (nothing nested splits one): an iteration always costs the same.
    pub flat: bool,
    /// Inner counted loops folded into this one (their `loop`s): flat
    /// loops at its top level with a trip count known at instrumentation
    /// time, whose segments are charged with this loop's own (as often as
    /// they run).
    pub folded: Vec<usize>,
}

/// The most a counted loop's iteration may cost: with a trip count below
/// 2^33, the total stays below 2^61.
const MAX_ITERATION_COST: u64 = 1 << 28;
/// Trip counts from this on run the checked copy.
const MAX_TRIPS: i64 = 1 << 33;

/// The counted loops of a body, in order, none inside another (what an
/// outer loop folds in is not listed). `split_after` and `segment_cost`
/// describe its metered segments (see `rewrite::instrument_body`).
pub(crate) fn find(
    ops: &[Operator<'_>],
    split_after: &[bool],
    segment_cost: &[u64],
) -> Vec<CountedLoop> {
    // Inner loops first, so that an outer loop can fold in the ones it
    // runs a fixed number of times. Each loop's recognition walks its body
    // once, so an op is walked once per loop around it: at most the
    // policy's nesting depth times.
    let mut found: BTreeMap<usize, CountedLoop> = BTreeMap::new();
    for (l, op) in ops.iter().enumerate().rev() {
        if let Operator::Loop { blockty } = op
            && matches!(
                blockty,
                wasmparser::BlockType::Empty | wasmparser::BlockType::Type(_)
            )
            && let Some(counted) = recognise(ops, l, split_after, segment_cost, &found)
        {
            found.insert(l, counted);
        }
    }
    // An outer loop prepays the inner loops it folds in, which then run
    // without checks in its prepaid copy and with them in its checked one.
    // Otherwise, of nested counted loops only the innermost is prepaid (it
    // runs the most), so that no code is copied more than twice.
    let folded: BTreeSet<usize> = found
        .values()
        .flat_map(|c| c.folded.iter().copied())
        .collect();
    let kept: Vec<CountedLoop> = found
        .into_values()
        .filter(|c| !folded.contains(&c.start))
        .collect();
    let starts: Vec<usize> = kept.iter().map(|c| c.start).collect();
    kept.into_iter()
        .filter(|c| {
            let next = starts.partition_point(|&s| s <= c.start);
            starts.get(next).is_none_or(|&s| s >= c.end)
        })
        .collect()
}

/// Whether `op` can sit at a counted loop's top level: no control flow,
/// no call (a callee or host function would see the prepaid gas), no
/// dynamic charge, no trap of its own.
fn straight(op: &Operator<'_>) -> bool {
    let class = ops::class(op);
    class.dynamic == Dynamic::None
        && match class.flow {
            Flow::Straight => true,
            Flow::Open
            | Flow::Else
            | Flow::End
            | Flow::Branch
            | Flow::Jump
            | Flow::Call
            | Flow::Exit
            | Flow::Trap
            | Flow::Refused => false,
        }
}

/// Whether `op` can sit inside a block, loop or if nested in a counted
/// loop: anything but a call or a way out of the function (branches are
/// checked separately: they must stay inside the nested construct). An
/// instruction of a refused proposal counts as a way out, so that enabling
/// one cannot make a loop look self-contained when it is not.
fn nestable(op: &Operator<'_>) -> bool {
    match ops::class(op).flow {
        Flow::Straight
        | Flow::Open
        | Flow::Else
        | Flow::End
        | Flow::Branch
        | Flow::Jump
        | Flow::Trap => true,
        Flow::Call | Flow::Exit | Flow::Refused => false,
    }
}

/// A local written by `op`, if any.
fn written(op: &Operator<'_>) -> Option<u32> {
    match op {
        Operator::LocalSet { local_index } | Operator::LocalTee { local_index } => {
            Some(*local_index)
        }
        _ => None,
    }
}

/// The test at a decision `br_if`, its operands given by the index of
/// the op that produces each (the last op of the operand's expression).
enum Test {
    /// `br_if` on the value itself: taken when it is not zero.
    NonZero { read: usize },
    /// `eqz` then `br_if`.
    Zero { read: usize, wide: bool },
    /// A comparison of two operands.
    Compare {
        left: usize,
        right: usize,
        op: Cmp,
        wide: bool,
    },
}

/// A comparison `left OP right` as the branch sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmp {
    Eq,
    Ne,
    Lt { signed: bool },
    Le { signed: bool },
    Gt { signed: bool },
    Ge { signed: bool },
}

impl Cmp {
    /// `right OP' left`, the same test with its operands swapped.
    fn mirrored(self) -> Cmp {
        match self {
            Cmp::Lt { signed } => Cmp::Gt { signed },
            Cmp::Le { signed } => Cmp::Ge { signed },
            Cmp::Gt { signed } => Cmp::Lt { signed },
            Cmp::Ge { signed } => Cmp::Le { signed },
            other => other,
        }
    }

    /// The test that holds exactly when this one fails.
    fn negated(self) -> Cmp {
        match self {
            Cmp::Eq => Cmp::Ne,
            Cmp::Ne => Cmp::Eq,
            Cmp::Lt { signed } => Cmp::Ge { signed },
            Cmp::Le { signed } => Cmp::Gt { signed },
            Cmp::Gt { signed } => Cmp::Le { signed },
            Cmp::Ge { signed } => Cmp::Lt { signed },
        }
    }
}

/// The comparison `op` makes, and whether on i64s.
fn comparison(op: &Operator<'_>) -> Option<(Cmp, bool)> {
    use Operator as O;
    let (cmp, wide) = match op {
        O::I32Eq => (Cmp::Eq, false),
        O::I32Ne => (Cmp::Ne, false),
        O::I32LtS => (Cmp::Lt { signed: true }, false),
        O::I32LtU => (Cmp::Lt { signed: false }, false),
        O::I32LeS => (Cmp::Le { signed: true }, false),
        O::I32LeU => (Cmp::Le { signed: false }, false),
        O::I32GtS => (Cmp::Gt { signed: true }, false),
        O::I32GtU => (Cmp::Gt { signed: false }, false),
        O::I32GeS => (Cmp::Ge { signed: true }, false),
        O::I32GeU => (Cmp::Ge { signed: false }, false),
        O::I64Eq => (Cmp::Eq, true),
        O::I64Ne => (Cmp::Ne, true),
        O::I64LtS => (Cmp::Lt { signed: true }, true),
        O::I64LtU => (Cmp::Lt { signed: false }, true),
        O::I64LeS => (Cmp::Le { signed: true }, true),
        O::I64LeU => (Cmp::Le { signed: false }, true),
        O::I64GtS => (Cmp::Gt { signed: true }, true),
        O::I64GtU => (Cmp::Gt { signed: false }, true),
        O::I64GeS => (Cmp::Ge { signed: true }, true),
        O::I64GeU => (Cmp::Ge { signed: false }, true),
        _ => return None,
    };
    Some((cmp, wide))
}

/// Where the expression that produces the value of op `at` starts, for
/// the few ops an operand of a loop test is made of (constants, locals,
/// `tee`, add and sub); `None` for anything else or before `first`.
fn expression_start(ops: &[Operator<'_>], at: usize, first: usize) -> Option<usize> {
    if at < first {
        return None;
    }
    match &ops[at] {
        Operator::LocalGet { .. } | Operator::I32Const { .. } | Operator::I64Const { .. } => {
            Some(at)
        }
        Operator::LocalTee { .. } => expression_start(ops, at.checked_sub(1)?, first),
        Operator::I32Add | Operator::I64Add | Operator::I32Sub | Operator::I64Sub => {
            let right = expression_start(ops, at.checked_sub(1)?, first)?;
            expression_start(ops, right.checked_sub(1)?, first)
        }
        _ => None,
    }
}

/// The test feeding the `br_if` at `at`, if it has one of the shapes above
/// and lies inside the body (after `first`).
fn test_at(ops: &[Operator<'_>], at: usize, first: usize) -> Option<Test> {
    let before = |n: usize| at.checked_sub(n).filter(|&i| i >= first);
    let last = before(1)?;
    if let Some((op, wide)) = comparison(&ops[last]) {
        let right = before(2)?;
        let left = expression_start(ops, right, first)?.checked_sub(1)?;
        expression_start(ops, left, first)?;
        return Some(Test::Compare {
            left,
            right,
            op,
            wide,
        });
    }
    match &ops[last] {
        Operator::LocalGet { .. } | Operator::LocalTee { .. } => Some(Test::NonZero { read: last }),
        Operator::I32Eqz | Operator::I64Eqz => {
            let read = before(2)?;
            matches!(
                ops[read],
                Operator::LocalGet { .. } | Operator::LocalTee { .. }
            )
            .then_some(Test::Zero {
                read,
                wide: matches!(ops[last], Operator::I64Eqz),
            })
        }
        _ => None,
    }
}

/// The local a counter read reads.
fn read_local(op: &Operator<'_>) -> Option<u32> {
    match op {
        Operator::LocalGet { local_index } | Operator::LocalTee { local_index } => {
            Some(*local_index)
        }
        _ => None,
    }
}

/// A constant of the right width, sign-extended.
fn constant(op: &Operator<'_>, wide: bool) -> Option<i64> {
    match (op, wide) {
        (Operator::I32Const { value }, false) => Some(i64::from(*value)),
        (Operator::I64Const { value }, true) => Some(*value),
        _ => None,
    }
}

/// The counter's update `counter = counter ± constant` ending at the
/// write at `w`: `(step, wide)`.
fn update(ops: &[Operator<'_>], w: usize, first: usize, counter: u32) -> Option<(i64, bool)> {
    if w < first + 3 {
        return None;
    }
    let (a, b, op) = (&ops[w - 3], &ops[w - 2], &ops[w - 1]);
    let (wide, add) = match op {
        Operator::I32Add => (false, true),
        Operator::I64Add => (true, true),
        Operator::I32Sub => (false, false),
        Operator::I64Sub => (true, false),
        _ => return None,
    };
    let is_counter = |op: &Operator<'_>| matches!(op, Operator::LocalGet { local_index } if *local_index == counter);
    let step = if is_counter(a) {
        constant(b, wide)?
    } else if add && is_counter(b) {
        constant(a, wide)?
    } else {
        return None;
    };
    if add {
        return Some((step, wide));
    }
    // `counter - c`: a step of -c, in the counter's width.
    let step = if wide {
        step.wrapping_neg()
    } else {
        i64::from((step as i32).wrapping_neg())
    };
    Some((step, wide))
}

/// Recognises the loop at `l`, given the counted loops found inside it.
fn recognise(
    ops: &[Operator<'_>],
    l: usize,
    split_after: &[bool],
    segment_cost: &[u64],
    inner: &BTreeMap<usize, CountedLoop>,
) -> Option<CountedLoop> {
    let first = l + 1;
    // The body up to the loop's `end`, and which of its ops sit at its top
    // level (`top[i - first]`): those are straight-line code and the
    // loop's own branches; nested blocks, loops and ifs may hold anything
    // but calls and ways out of them.
    let mut top = Vec::new();
    let mut depth = 0u32;
    let mut end = None;
    // Inner counted loops at the top level (or in exit blocks around it)
    // that cost the same on every visit: `(loop, blocks around it, trips)`.
    let mut fold = Vec::new();
    for (i, op) in ops.iter().enumerate().skip(first) {
        top.push(depth == 0);
        match op {
            Operator::End if depth == 0 => {
                end = Some(i);
                break;
            }
            Operator::Loop { .. } => {
                // At the top level, or in blocks opened right before it
                // from there and closed right after it (a top-tested
                // loop's exit block): run once per iteration.
                let blocks = ops[first..i]
                    .iter()
                    .rev()
                    .take_while(|op| matches!(op, Operator::Block { .. }))
                    .count();
                if depth as usize == blocks
                    && let Some(c) = inner.get(&i)
                    && c.flat
                    && ops
                        .get(c.end + 1..=c.end + blocks)
                        .is_some_and(|ends| ends.iter().all(|op| matches!(op, Operator::End)))
                    && let Some(Some(trips)) = static_trips(c)
                {
                    fold.push((c, blocks, trips));
                }
                depth += 1;
            }
            Operator::Block { .. } | Operator::If { .. } => depth += 1,
            Operator::End => depth -= 1,
            // The loop's own branches are checked below; a nested one must
            // land inside the nested constructs (not even on the loop: that
            // would skip the rest of an iteration).
            Operator::Br { relative_depth } | Operator::BrIf { relative_depth } => {
                if depth > 0 && *relative_depth >= depth {
                    return None;
                }
            }
            Operator::BrTable { targets } if depth > 0 => {
                if targets.default() >= depth {
                    return None;
                }
                for target in targets.targets() {
                    if target.ok()? >= depth {
                        return None;
                    }
                }
            }
            op if depth == 0 && straight(op) => {}
            op if depth > 0 && nestable(op) => {}
            _ => return None,
        }
    }
    let end = end?;
    if end == first {
        return None;
    }
    let top = |i: usize| top[i - first];
    let last = end - 1;
    let branches: Vec<usize> = (first..end)
        .filter(|&i| top(i) && matches!(ops[i], Operator::Br { .. } | Operator::BrIf { .. }))
        .collect();
    let (decision, bottom) = match (branches.as_slice(), &ops[last]) {
        ([b], Operator::BrIf { relative_depth: 0 }) if *b == last => (last, true),
        ([x, b], Operator::Br { relative_depth: 0 })
            if *b == last
                && matches!(ops[*x], Operator::BrIf { relative_depth } if relative_depth >= 1) =>
        {
            (*x, false)
        }
        _ => return None,
    };
    // The loop's own segments: those that start at its top level. Each
    // runs once per visit of the head when it starts before the decision,
    // and once per visit but the last (a top-tested loop's exit) after it.
    // Nested constructs always come back to the top level (no branch
    // leaves them), so only a trap can stop an iteration midway.
    let mut own: Vec<usize> = (first..end)
        .filter(|&p| top(p) && (p == first || split_after[p - 1]))
        .collect();
    let flat = (first + 1..end).all(|p| top(p) || !split_after[p - 1]);
    let (mut head, mut rest) = (0u64, 0u64);
    for &p in &own {
        let sum = if p <= decision { &mut head } else { &mut rest };
        *sum = sum.saturating_add(segment_cost[p]);
    }
    // A folded loop's segments are the outer loop's own too, charged as
    // often as its fixed trip count says.
    for &(c, blocks, trips) in &fold {
        let trips = trips as u128;
        // Its segments, and those that start at the `end`s of the blocks
        // around it (which run once).
        let ends: Vec<usize> = (c.end + 1..=c.end + blocks)
            .filter(|&p| split_after[p - 1])
            .collect();
        let cost = u128::from(c.head) * trips
            + u128::from(c.rest) * (trips - 1)
            + ends
                .iter()
                .map(|&p| u128::from(segment_cost[p]))
                .sum::<u128>();
        let cost = cost.min(u128::from(MAX_ITERATION_COST) + 1) as u64;
        let sum = if c.start < decision {
            &mut head
        } else {
            &mut rest
        };
        *sum = sum.saturating_add(cost);
        own.extend(&c.own);
        own.extend(ends);
    }
    own.sort_unstable();
    let folded = fold.iter().map(|(c, _, _)| c.start).collect();
    if head.saturating_add(rest) > MAX_ITERATION_COST {
        return None;
    }
    let after = if bottom {
        segment_cost.get(end + 1).copied().unwrap_or(0)
    } else {
        0
    };
    // Too large to add to a prepaid total safely: charged as before.
    let after = if after > MAX_ITERATION_COST { 0 } else { after };

    // Where the body writes locals.
    let writes: Vec<usize> = (first..end)
        .filter(|&i| written(&ops[i]).is_some())
        .collect();
    // A counter: the local `read` reads, written once in the body, by an
    // update: `(read, counter, its write, step, wide)`.
    let counter_at = |read: usize| {
        let counter = read_local(&ops[read])?;
        let mut counter_writes = writes
            .iter()
            .filter(|&&i| written(&ops[i]) == Some(counter));
        let (Some(&w), None) = (counter_writes.next(), counter_writes.next()) else {
            return None;
        };
        // Written at the top level: once per iteration.
        if !top(w) {
            return None;
        }
        let (step, wide) = update(ops, w, first, counter)?;
        Some((read, counter, w, step, wide))
    };
    // The test, as a comparison of a counter read with a bound.
    let ((read, counter, w, step, wide), cmp, bound, test_wide) =
        match test_at(ops, decision, first)? {
            Test::NonZero { read } => (counter_at(read)?, Cmp::Ne, Value::Const(0), None),
            Test::Zero { read, wide } => (counter_at(read)?, Cmp::Eq, Value::Const(0), Some(wide)),
            Test::Compare {
                left,
                right,
                op,
                wide,
            } => {
                let bound_of = |i: usize| match &ops[i] {
                    Operator::LocalGet { local_index } => Some(Value::Local(*local_index)),
                    op => constant(op, wide).map(Value::Const),
                };
                // Either operand may be the counter; try the left one first.
                let as_counter = |read: usize, other: usize, op: Cmp| {
                    Some((counter_at(read)?, op, bound_of(other)?, Some(wide)))
                };
                as_counter(left, right, op).or_else(|| as_counter(right, left, op.mirrored()))?
            }
        };
    if test_wide.is_some_and(|t| t != wide) {
        return None;
    }
    // The read feeding the test is the update's own `tee`, or a `get`
    // outside the update.
    if read != w && (w - 3..=w).contains(&read) {
        return None;
    }
    let stepped_first = read >= w;
    // The bound must not change inside the loop.
    if let Value::Local(x) = bound
        && (x == counter || writes.iter().any(|&i| written(&ops[i]) == Some(x)))
    {
        return None;
    }

    // A bottom-tested loop goes round while the test holds; a top-tested
    // one while it fails.
    let cont = match if bottom { cmp } else { cmp.negated() } {
        Cmp::Eq => return None,
        Cmp::Ne => Continue::Ne,
        Cmp::Lt { signed } => Continue::Lt { signed },
        Cmp::Le { signed } => Continue::Le { signed },
        Cmp::Gt { signed } => Continue::Gt { signed },
        Cmp::Ge { signed } => Continue::Ge { signed },
    };
    // Steps the formulas handle: nonzero constants, towards the bound for
    // the ordered tests (going down, one whose negation fits: not
    // i64::MIN). `update` takes constant steps only: a step held in a
    // local would need a division on every entry (sieve-like loops,
    // entered often for few iterations, measured slower prepaid than
    // checked), so such loops stay checked.
    let step_ok = match cont {
        Continue::Ne => ne_step(step, wide).is_some(),
        Continue::Lt { .. } | Continue::Le { .. } => step > 0,
        Continue::Gt { .. } | Continue::Ge { .. } => step < 0 && step != i64::MIN,
    };
    if !step_ok {
        return None;
    }
    // `const; local.set counter` right before the loop (and any blocks
    // opened in between, which run nothing).
    let mut before = l;
    while before > 0 && matches!(ops[before - 1], Operator::Block { .. }) {
        before -= 1;
    }
    let start_value = match (before.checked_sub(2).map(|i| &ops[i..before]), wide) {
        (Some([value, Operator::LocalSet { local_index }]), wide) if *local_index == counter => {
            constant(value, wide)
        }
        _ => None,
    };
    let Operator::Loop { blockty } = ops[l] else {
        return None;
    };
    Some(CountedLoop {
        start: l,
        blockty,
        end,
        counter,
        wide,
        step,
        bound,
        cont,
        stepped_first,
        start_value,
        head,
        rest,
        after,
        own,
        flat,
        folded,
    })
}

/// A `ne` loop's step as `(up, |step|)`, in the counter's width (the
/// most negative value is its own magnitude, 2^(bits-1), and counts as
/// going up). `None` for 0.
fn ne_step(c: i64, wide: bool) -> Option<(bool, u64)> {
    let bits = if wide { 64 } else { 32 };
    if c == 0 {
        None
    } else if wide && c == i64::MIN || !wide && c == i64::from(i32::MIN) {
        Some((true, 1u64 << (bits - 1)))
    } else {
        Some((c > 0, c.unsigned_abs()))
    }
}

/// The number of tests a loop runs, worked out at instrumentation time when
/// the counter's start, the step and the bound are all constants: `None`
/// when they are not, `Some(None)` when the loop cannot be prepaid (it
/// wraps, never meets its bound, or runs too long). The same cases and
/// results as the code [`prepay`] emits otherwise, in exact arithmetic.
fn static_trips(c: &CountedLoop) -> Option<Option<i128>> {
    let (Some(start), Value::Const(b)) = (c.start_value, c.bound) else {
        return None;
    };
    let s = c.step;
    let bits: u32 = if c.wide { 64 } else { 32 };
    // Values as the counter holds them (n bits, sign-extended), and as a
    // test reads them.
    let wrap = |v: i128| -> i64 {
        if c.wide {
            v as i64
        } else {
            i64::from(v as i32)
        }
    };
    let read = |v: i64, signed: bool| -> i128 {
        match (c.wide, signed) {
            (true, true) => i128::from(v),
            (true, false) => i128::from(v as u64),
            (false, true) => i128::from(v as i32),
            (false, false) => i128::from(v as u32),
        }
    };
    let u = if c.stepped_first {
        wrap(i128::from(start) + i128::from(s))
    } else {
        start
    };
    let trips = match c.cont {
        Continue::Ne => {
            let (up, magnitude) = ne_step(s, c.wide)?;
            let modulus = 1i128 << bits;
            let (from, to) = if up { (u, b) } else { (b, u) };
            let distance = (read(to, false) - read(from, false)).rem_euclid(modulus);
            let magnitude = i128::from(magnitude);
            (distance != 0 && distance % magnitude == 0).then(|| distance / magnitude + 1)
        }
        Continue::Lt { signed }
        | Continue::Le { signed }
        | Continue::Gt { signed }
        | Continue::Ge { signed } => {
            let down = matches!(c.cont, Continue::Gt { .. } | Continue::Ge { .. });
            let inclusive = matches!(c.cont, Continue::Le { .. } | Continue::Ge { .. });
            let (min, max) = if signed {
                (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
            } else {
                (0, (1i128 << bits) - 1)
            };
            // As in the emitted code: counting down is counting up negated.
            let (mut x, mut y, mut z, mut limit) =
                (read(u, signed), read(b, signed), i128::from(s), max);
            if down {
                (x, y, z, limit) = (-x, -y, -z, -min);
            }
            if inclusive {
                y += 1;
            }
            (z > 0 && x < y && y + z - 1 <= limit).then(|| (y - x + z - 1) / z + 1)
        }
    };
    Some(trips.filter(|&t| t >= 1 && t - 1 < i128::from(MAX_TRIPS)))
}

/// Locals the prepayment works in: three i64 scratch locals and the gas.
pub(crate) struct PrepayLocals {
    pub x: u32,
    pub y: u32,
    /// Ends up holding the gas to prepay.
    pub k: u32,
    pub gas: u32,
}

/// The code run when `c` is entered: leaves on the stack an i32 that is 1
/// when the prepaid copy may run, with the gas it must be charged in
/// `locals.k`. Never traps. `local` maps an original local index to its
/// index in the instrumented body.
pub(crate) fn prepay(
    c: &CountedLoop,
    locals: &PrepayLocals,
    local: impl Fn(u32) -> u32,
) -> Vec<Instruction<'static>> {
    use Instruction as I;
    let mut out = Vec::new();
    let wide = c.wide;
    let constant = |k: i64| {
        if wide {
            I::I64Const(k)
        } else {
            I::I32Const(k as i32)
        }
    };
    let push = |out: &mut Vec<I<'static>>, v: Value| match v {
        Value::Const(k) => out.push(constant(k)),
        Value::Local(x) => out.push(I::LocalGet(local(x))),
    };
    // u: the counter's value at the first test.
    let push_u = |out: &mut Vec<I<'static>>| {
        out.push(I::LocalGet(local(c.counter)));
        if c.stepped_first {
            out.push(constant(c.step));
            out.push(if wide { I::I64Add } else { I::I32Add });
        }
    };
    let (x, y, k) = (locals.x, locals.y, locals.k);
    let per_trip = i128::from(c.head + c.rest);
    let total = |trips: i128| (trips * per_trip - i128::from(c.rest) + i128::from(c.after)) as i64;
    // Everything known now: the flag is just whether the gas covers it.
    match static_trips(c) {
        Some(Some(trips)) => {
            out.extend([
                I::I64Const(total(trips)),
                I::LocalTee(k),
                I::LocalGet(locals.gas),
                I::I64LeS,
            ]);
            return out;
        }
        Some(None) => {
            out.push(I::I32Const(0));
            return out;
        }
        None => {}
    }
    match (c.cont, wide) {
        (Continue::Ne, _) => {
            let Some((up, magnitude)) = ne_step(c.step, wide) else {
                out.push(I::I32Const(0));
                return out;
            };
            // x = the distance to the bound in the step's direction,
            // unsigned. The first step count that covers it exactly is
            // x / |step| (any smaller solution would be a multiple of
            // 2^bits / gcd(step, 2^bits) below it), so the test runs
            // x / |step| + 1 times when |step| divides x, and the counter
            // never meets the bound otherwise.
            if up {
                push(&mut out, c.bound);
                push_u(&mut out);
            } else {
                push_u(&mut out);
                push(&mut out, c.bound);
            }
            out.push(if wide { I::I64Sub } else { I::I32Sub });
            if !wide {
                out.push(I::I64ExtendI32U);
            }
            out.extend([
                I::LocalTee(x),
                I::I64Const(magnitude as i64),
                I::I64DivU,
                I::I64Const(1),
                I::I64Add,
                I::LocalSet(k),
                // Not at the bound already, and a whole number of steps.
                I::LocalGet(x),
                I::I64Eqz,
                I::I32Eqz,
                I::LocalGet(x),
                I::I64Const(magnitude as i64),
                I::I64RemU,
                I::I64Eqz,
                I::I32And,
            ]);
        }
        (cont, true) => {
            // i64 counters: an exclusive bound approached from below
            // (going up) or above (going down) by z = |step| (a constant),
            // with no wrapping on the way, all checked without overflow.
            let (signed, up, inclusive) = match cont {
                Continue::Lt { signed } => (signed, true, false),
                Continue::Le { signed } => (signed, true, true),
                Continue::Gt { signed } => (signed, false, false),
                Continue::Ge { signed } => (signed, false, true),
                Continue::Ne => (false, true, false),
            };
            let z = if up { c.step } else { c.step.wrapping_neg() };
            if z <= 0 {
                out.push(I::I32Const(0));
                return out;
            }
            let (min, max) = if signed {
                (i64::MIN, i64::MAX)
            } else {
                (0, -1)
            };
            let (lt, le) = if signed {
                (I::I64LtS, I::I64LeS)
            } else {
                (I::I64LtU, I::I64LeU)
            };
            // x = u; y = the exclusive bound.
            push_u(&mut out);
            out.push(I::LocalSet(x));
            push(&mut out, c.bound);
            if inclusive {
                out.extend([I::I64Const(if up { 1 } else { -1 }), I::I64Add]);
            }
            out.push(I::LocalSet(y));
            // k = ceil(distance / z) + 1 tests, the distance being at least
            // 1 when valid.
            if up {
                out.extend([I::LocalGet(y), I::LocalGet(x)]);
            } else {
                out.extend([I::LocalGet(x), I::LocalGet(y)]);
            }
            out.extend([I::I64Sub, I::I64Const(1), I::I64Sub]);
            if z > 1 {
                out.extend([I::I64Const(z), I::I64DivU]);
            }
            out.extend([I::I64Const(2), I::I64Add, I::LocalSet(k)]);
            // The first test goes round: u < y going up, y < u going down.
            if up {
                out.extend([I::LocalGet(x), I::LocalGet(y), lt]);
            } else {
                out.extend([I::LocalGet(y), I::LocalGet(x), lt]);
            }
            // An inclusive bound is not the extreme value (y did not wrap).
            if inclusive {
                push(&mut out, c.bound);
                out.extend([I::I64Const(if up { max } else { min }), I::I64Ne, I::I32And]);
            }
            // The counter's last value, within z - 1 past y, does not wrap:
            // y <= max - (z - 1) going up, min + (z - 1) <= y going down.
            if up {
                out.extend([I::LocalGet(y), I::I64Const(max.wrapping_sub(z - 1)), le]);
            } else {
                out.extend([I::I64Const(min.wrapping_add(z - 1)), I::LocalGet(y), le]);
            }
            out.push(I::I32And);
        }
        (cont, false) => {
            // i32 counters, worked out in i64: x = u, y = b, each widened
            // (signed or not as the test), negated for loops that count
            // down so that every case goes up towards an exclusive bound:
            // go round while x < y, stepping by z > 0, as long as
            // y + z - 1 does not pass the largest value the test can see.
            // The step is a constant, and so is the bound, often: whatever
            // is known is worked out here rather than on every entry.
            let (signed, down, inclusive) = match cont {
                Continue::Lt { signed } => (signed, false, false),
                Continue::Le { signed } => (signed, false, true),
                Continue::Gt { signed } => (signed, true, false),
                Continue::Ge { signed } => (signed, true, true),
                Continue::Ne => (false, false, false),
            };
            let widen = if signed {
                I::I64ExtendI32S
            } else {
                I::I64ExtendI32U
            };
            let sign = if down { -1 } else { 1 };
            let z = sign * c.step;
            // The largest value the test can see, on the going-up side.
            let limit: i64 = match (signed, down) {
                (true, false) => i64::from(i32::MAX),
                (false, false) => i64::from(u32::MAX),
                (true, true) => -i64::from(i32::MIN),
                (false, true) => 0,
            };
            if z <= 0 {
                out.push(I::I32Const(0));
                return out;
            }
            // x = ±widen(u)
            if down {
                out.push(I::I64Const(0));
            }
            push_u(&mut out);
            out.push(widen.clone());
            if down {
                out.push(I::I64Sub);
            }
            out.push(I::LocalSet(x));
            // y = ±widen(b) (+ 1 when inclusive): a constant, or a local
            // with the no-wrap check left for run time.
            let y_value = match c.bound {
                Value::Const(b) => {
                    let b = if signed {
                        i64::from(b as i32)
                    } else {
                        i64::from(b as u32)
                    };
                    let y = sign * b + i64::from(inclusive);
                    if y + z - 1 > limit {
                        out.push(I::I32Const(0));
                        return out;
                    }
                    Some(y)
                }
                Value::Local(_) => {
                    if down {
                        out.push(I::I64Const(0));
                    }
                    push(&mut out, c.bound);
                    out.push(widen);
                    if down {
                        out.push(I::I64Sub);
                    }
                    if inclusive {
                        out.extend([I::I64Const(1), I::I64Add]);
                    }
                    out.push(I::LocalSet(y));
                    None
                }
            };
            let push_y = |out: &mut Vec<I<'static>>| match y_value {
                Some(value) => out.push(I::I64Const(value)),
                None => out.push(I::LocalGet(y)),
            };
            // k = ceil((y - x) / z) + 1 tests (y - x >= 1 when valid).
            push_y(&mut out);
            out.extend([I::LocalGet(x), I::I64Sub]);
            if z > 1 {
                out.extend([I::I64Const(z - 1), I::I64Add, I::I64Const(z), I::I64DivU]);
            }
            out.extend([I::I64Const(1), I::I64Add, I::LocalSet(k)]);
            // x < y: the first test goes round; and, for a bound in a
            // local, y + z - 1 <= limit: the counter does not wrap on its
            // way.
            out.push(I::LocalGet(x));
            push_y(&mut out);
            out.push(I::I64LtS);
            if y_value.is_none() {
                out.extend([
                    I::LocalGet(y),
                    I::I64Const(limit - (z - 1)),
                    I::I64LeS,
                    I::I32And,
                ]);
            }
        }
    }
    // 1 <= k <= MAX_TRIPS tests (always, for i32 counters: k <= 2^33 + 1,
    // and 1 <= k when the flag holds); k = k * (head + rest) - rest + after,
    // no more than the gas.
    if wide {
        out.extend([
            I::LocalGet(k),
            I::I64Const(1),
            I::I64Sub,
            I::I64Const(MAX_TRIPS),
            I::I64LtU,
            I::I32And,
        ]);
    }
    out.extend([
        I::LocalGet(k),
        I::I64Const((c.head + c.rest) as i64),
        I::I64Mul,
    ]);
    if c.after != c.rest {
        out.extend([I::I64Const(c.after as i64 - c.rest as i64), I::I64Add]);
    }
    out.extend([
        I::LocalTee(k),
        I::LocalGet(locals.gas),
        I::I64LeS,
        I::I32And,
    ]);
    out
}

/// The block type of the `if` that holds both copies: the loop's own.
pub(crate) fn wrapper_type(
    blockty: wasmparser::BlockType,
    val_type: impl Fn(wasmparser::ValType) -> Result<ValType, PolicyError>,
) -> Result<BlockType, PolicyError> {
    Ok(match blockty {
        wasmparser::BlockType::Type(t) => BlockType::Result(val_type(t)?),
        _ => BlockType::Empty,
    })
}
