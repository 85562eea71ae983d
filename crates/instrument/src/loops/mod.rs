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

mod prepay;
mod recognise;
mod trips;

use std::collections::{BTreeMap, BTreeSet};

use wasm_encoder::{BlockType, ValType};
use wasmparser::Operator;

use crate::PolicyError;

pub(crate) use prepay::{PrepayLocals, prepay};
use recognise::recognise;

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
