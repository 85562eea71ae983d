//! Recognising a counted loop: its shape (straight-line top level, one
//! decision, nested code that always comes back), what its own segments
//! cost per iteration, and its counter, step, bound and test.

use std::collections::BTreeMap;

use wasmparser::Operator;

use crate::ops::{self, Dynamic, Flow};

use super::trips::{ne_step, static_trips};
use super::{Continue, CountedLoop, MAX_ITERATION_COST, Value};

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
pub(super) fn recognise(
    ops: &[Operator<'_>],
    l: usize,
    split_after: &[bool],
    segment_cost: &[u64],
    inner: &BTreeMap<usize, CountedLoop>,
) -> Option<CountedLoop> {
    let Operator::Loop { blockty } = ops[l] else {
        return None;
    };
    let shape = Shape::scan(ops, l + 1, inner)?;
    let costs = Costs::of(&shape, split_after, segment_cost)?;
    let counter = Counter::find(ops, &shape)?;
    let cont = continuation(&shape, &counter)?;
    Some(CountedLoop {
        start: l,
        blockty,
        end: shape.end,
        counter: counter.local,
        wide: counter.wide,
        step: counter.step,
        bound: counter.bound,
        cont,
        stepped_first: counter.stepped_first,
        start_value: start_value(ops, l, counter.local, counter.wide),
        head: costs.head,
        rest: costs.rest,
        after: costs.after,
        own: costs.own,
        flat: costs.flat,
        folded: costs.folded,
    })
}

/// A loop's body as the rules see it.
struct Shape<'l> {
    /// The first op of the body, and the index of the loop's `end`.
    first: usize,
    end: usize,
    /// Whether each op of the body (from `first`) sits at its top level:
    /// straight-line code and the loop's own branches; nested blocks,
    /// loops and ifs may hold anything but calls and ways out of them.
    top: Vec<bool>,
    /// The one decision (a `br_if`), and whether the loop is
    /// bottom-tested (else top-tested).
    decision: usize,
    bottom: bool,
    /// Inner counted loops at the top level (or in exit blocks around it)
    /// that cost the same on every visit: `(loop, blocks around it, trips)`.
    fold: Vec<(&'l CountedLoop, usize, i128)>,
}

impl<'l> Shape<'l> {
    /// Scans the body from `first` to the loop's `end`: `None` when it is
    /// not straight-line code at the top level with nested constructs that
    /// always come back, or has no single decision.
    fn scan(
        ops: &[Operator<'_>],
        first: usize,
        inner: &'l BTreeMap<usize, CountedLoop>,
    ) -> Option<Shape<'l>> {
        let mut top = Vec::new();
        let mut depth = 0u32;
        let mut end = None;
        let mut fold = Vec::new();
        for (i, op) in ops.iter().enumerate().skip(first) {
            top.push(depth == 0);
            match op {
                Operator::End if depth == 0 => {
                    end = Some(i);
                    break;
                }
                Operator::Loop { .. } => {
                    fold.extend(foldable(ops, first, i, depth, inner));
                    depth += 1;
                }
                Operator::Block { .. } | Operator::If { .. } => depth += 1,
                Operator::End => depth -= 1,
                // The loop's own branches are checked below; a nested one
                // must land inside the nested constructs (not even on the
                // loop: that would skip the rest of an iteration).
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
        let (decision, bottom) = decision(ops, first, end, &top)?;
        Some(Shape {
            first,
            end,
            top,
            decision,
            bottom,
            fold,
        })
    }

    /// Whether op `i` of the body sits at its top level.
    fn top(&self, i: usize) -> bool {
        self.top[i - self.first]
    }
}

/// The inner loop at `i`, `depth` levels into the body, when it can be
/// folded in: a flat counted loop with a trip count known now, at the top
/// level or in blocks opened right before it from there and closed right
/// after it (a top-tested loop's exit block), so that it runs once per
/// iteration.
fn foldable<'l>(
    ops: &[Operator<'_>],
    first: usize,
    i: usize,
    depth: u32,
    inner: &'l BTreeMap<usize, CountedLoop>,
) -> Option<(&'l CountedLoop, usize, i128)> {
    let blocks = ops[first..i]
        .iter()
        .rev()
        .take_while(|op| matches!(op, Operator::Block { .. }))
        .count();
    let c = inner.get(&i)?;
    let closed = ops
        .get(c.end + 1..=c.end + blocks)
        .is_some_and(|ends| ends.iter().all(|op| matches!(op, Operator::End)));
    if depth as usize != blocks || !c.flat || !closed {
        return None;
    }
    let trips = static_trips(c)??;
    Some((c, blocks, trips))
}

/// The loop's one decision and whether it is bottom-tested: a last
/// `br_if 0` that is the only top-level branch, or a top-level `br_if`
/// out of the loop followed by a last `br 0`.
fn decision(ops: &[Operator<'_>], first: usize, end: usize, top: &[bool]) -> Option<(usize, bool)> {
    let last = end - 1;
    let branches: Vec<usize> = (first..end)
        .filter(|&i| {
            top[i - first] && matches!(ops[i], Operator::Br { .. } | Operator::BrIf { .. })
        })
        .collect();
    match (branches.as_slice(), &ops[last]) {
        ([b], Operator::BrIf { relative_depth: 0 }) if *b == last => Some((last, true)),
        ([x, b], Operator::Br { relative_depth: 0 })
            if *b == last
                && matches!(ops[*x], Operator::BrIf { relative_depth } if relative_depth >= 1) =>
        {
            Some((*x, false))
        }
        _ => None,
    }
}

/// What a loop's own segments cost: see the fields of [`CountedLoop`].
struct Costs {
    own: Vec<usize>,
    flat: bool,
    head: u64,
    rest: u64,
    after: u64,
    folded: Vec<usize>,
}

impl Costs {
    /// The loop's own segments (those that start at its top level) and
    /// what they cost per visit. Each runs once per visit of the head when
    /// it starts before the decision, and once per visit but the last (a
    /// top-tested loop's exit) after it. Nested constructs always come back
    /// to the top level (no branch leaves them), so only a trap can stop
    /// an iteration midway. `None` when an iteration costs too much.
    fn of(shape: &Shape<'_>, split_after: &[bool], segment_cost: &[u64]) -> Option<Costs> {
        let (first, end, decision) = (shape.first, shape.end, shape.decision);
        let mut own: Vec<usize> = (first..end)
            .filter(|&p| shape.top(p) && (p == first || split_after[p - 1]))
            .collect();
        let flat = (first + 1..end).all(|p| shape.top(p) || !split_after[p - 1]);
        let (mut head, mut rest) = (0u64, 0u64);
        for &p in &own {
            let sum = if p <= decision { &mut head } else { &mut rest };
            *sum = sum.saturating_add(segment_cost[p]);
        }
        // A folded loop's segments are the outer loop's own too, charged as
        // often as its fixed trip count says.
        for &(c, blocks, trips) in &shape.fold {
            let trips = trips as u128;
            // Its segments, and those that start at the `end`s of the
            // blocks around it (which run once).
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
        if head.saturating_add(rest) > MAX_ITERATION_COST {
            return None;
        }
        let after = if shape.bottom {
            segment_cost.get(end + 1).copied().unwrap_or(0)
        } else {
            0
        };
        Some(Costs {
            own,
            flat,
            head,
            rest,
            // Too large to add to a prepaid total safely: charged as before.
            after: if after > MAX_ITERATION_COST { 0 } else { after },
            folded: shape.fold.iter().map(|(c, _, _)| c.start).collect(),
        })
    }
}

/// The loop's counter, and the test that decides on it.
struct Counter {
    /// The counter (a local of the original body).
    local: u32,
    step: i64,
    wide: bool,
    /// How the test compares the counter (read where the test reads it)
    /// with the bound.
    cmp: Cmp,
    bound: Value,
    stepped_first: bool,
}

impl Counter {
    /// The counter the decision tests: a local read by the test, written
    /// once in the body, at its top level, by an update; `None` when there
    /// is no such counter, or the bound can change inside the loop.
    fn find(ops: &[Operator<'_>], shape: &Shape<'_>) -> Option<Counter> {
        let (first, end) = (shape.first, shape.end);
        let writes: Vec<usize> = (first..end)
            .filter(|&i| written(&ops[i]).is_some())
            .collect();
        // A counter read at `read`: `(read, counter, its write, step, wide)`.
        let counter_at = |read: usize| {
            let counter = read_local(&ops[read])?;
            let mut counter_writes = writes
                .iter()
                .filter(|&&i| written(&ops[i]) == Some(counter));
            let (Some(&w), None) = (counter_writes.next(), counter_writes.next()) else {
                return None;
            };
            // Written at the top level: once per iteration.
            if !shape.top(w) {
                return None;
            }
            let (step, wide) = update(ops, w, first, counter)?;
            Some((read, counter, w, step, wide))
        };
        // The test, as a comparison of a counter read with a bound.
        let ((read, local, write, step, wide), cmp, bound, test_wide) =
            match test_at(ops, shape.decision, first)? {
                Test::NonZero { read } => (counter_at(read)?, Cmp::Ne, Value::Const(0), None),
                Test::Zero { read, wide } => {
                    (counter_at(read)?, Cmp::Eq, Value::Const(0), Some(wide))
                }
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
                    // Either operand may be the counter; try the left one
                    // first.
                    let as_counter = |read: usize, other: usize, op: Cmp| {
                        Some((counter_at(read)?, op, bound_of(other)?, Some(wide)))
                    };
                    as_counter(left, right, op)
                        .or_else(|| as_counter(right, left, op.mirrored()))?
                }
            };
        if test_wide.is_some_and(|t| t != wide) {
            return None;
        }
        // The read feeding the test is the update's own `tee`, or a `get`
        // outside the update.
        if read != write && (write - 3..=write).contains(&read) {
            return None;
        }
        // The bound must not change inside the loop.
        if let Value::Local(x) = bound
            && (x == local || writes.iter().any(|&i| written(&ops[i]) == Some(x)))
        {
            return None;
        }
        Some(Counter {
            local,
            step,
            wide,
            cmp,
            bound,
            stepped_first: read >= write,
        })
    }
}

/// When the loop goes round again: while the test holds (bottom-tested)
/// or fails (top-tested). `None` for tests and steps the formulas do not
/// handle.
fn continuation(shape: &Shape<'_>, counter: &Counter) -> Option<Continue> {
    let cmp = if shape.bottom {
        counter.cmp
    } else {
        counter.cmp.negated()
    };
    let cont = match cmp {
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
    let step = counter.step;
    let step_ok = match cont {
        Continue::Ne => ne_step(step, counter.wide).is_some(),
        Continue::Lt { .. } | Continue::Le { .. } => step > 0,
        Continue::Gt { .. } | Continue::Ge { .. } => step < 0 && step != i64::MIN,
    };
    step_ok.then_some(cont)
}

/// The constant the counter is set to right before the loop at `l` (`const;
/// local.set counter`, then any blocks opened in between, which run
/// nothing), if it is.
fn start_value(ops: &[Operator<'_>], l: usize, counter: u32, wide: bool) -> Option<i64> {
    let mut before = l;
    while before > 0 && matches!(ops[before - 1], Operator::Block { .. }) {
        before -= 1;
    }
    match before.checked_sub(2).map(|i| &ops[i..before]) {
        Some([value, Operator::LocalSet { local_index }]) if *local_index == counter => {
            constant(value, wide)
        }
        _ => None,
    }
}
