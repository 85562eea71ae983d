//! Metered segments: where one ends, and which are paid by the branch they
//! lead to.

use wasmparser::Operator;

use crate::ops::{Class, Flow};

/// The most a taken `br_if` may leave paid and unrun: a `br_if` whose
/// fall-through (up to the end of its segment) costs more starts a new
/// segment.
pub(super) const BR_IF_SPLIT_COST: u64 = 32;

/// A body's metered segments.
pub(super) struct Segments {
    /// Whether a segment ends with (and includes) each op.
    pub(super) split_after: Vec<bool>,
    /// The static cost of each segment, at the index of its first op (0
    /// elsewhere).
    pub(super) cost: Vec<u64>,
}

impl Segments {
    /// Splits `ops` into segments, given each op's static cost. Where they
    /// end is decided from the back: a `br_if` also ends one when what
    /// follows it in its segment costs more than [`BR_IF_SPLIT_COST`]
    /// (LLVM's `block ... br_if ... end` early exits would otherwise pay for
    /// the code they skip: a `memory.grow` or a host call on a cold path).
    pub(super) fn measure(
        ops: &[Operator<'_>],
        classes: &[Class],
        op_cost: impl Fn(&Operator<'_>, Class) -> u64,
    ) -> Segments {
        let costs: Vec<u64> = ops
            .iter()
            .zip(classes)
            .map(|(op, &class)| op_cost(op, class))
            .collect();
        let mut split_after = vec![false; ops.len()];
        let mut rest = 0u64;
        for (i, (op, &class)) in ops.iter().zip(classes).enumerate().rev() {
            split_after[i] = ends_segment(op, class)
                || (matches!(op, Operator::BrIf { .. }) && rest > BR_IF_SPLIT_COST);
            if split_after[i] {
                rest = 0;
            }
            rest = rest.saturating_add(costs[i]);
        }
        let mut cost = vec![0u64; ops.len()];
        let mut start = 0;
        for (i, &op_cost) in costs.iter().enumerate() {
            cost[start] += op_cost;
            if split_after[i] {
                start = i + 1;
                if start == ops.len() {
                    break;
                }
            }
        }
        Segments { split_after, cost }
    }

    /// [`sink_into_branches`] over these segments.
    pub(super) fn sink_into_branches(
        &mut self,
        ops: &[Operator<'_>],
        classes: &[Class],
        keep: impl Fn(usize) -> bool,
    ) {
        sink_into_branches(ops, classes, &self.split_after, &mut self.cost, keep);
    }
}

/// Whether a new metered segment always starts right after `op`: after a
/// branch target (`loop` body, `if`/`else` arms, the code after `end`) and
/// after an unconditional transfer (the code that follows is dead until
/// the next `end` or `else`, and pays only if it is ever reached).
fn ends_segment(op: &Operator<'_>, class: Class) -> bool {
    match class.flow {
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
    classes: &[Class],
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
        pure = pure && classes[i].pure;
        if split_after[i] {
            start = i + 1;
            pure = true;
        }
    }
}
