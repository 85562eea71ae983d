//! Trip counts worked out at instrumentation time, in exact arithmetic:
//! the same cases and results as the code `prepay` emits.

use super::{Continue, CountedLoop, MAX_TRIPS, Value};

/// A `ne` loop's step as `(up, |step|)`, in the counter's width (the
/// most negative value is its own magnitude, 2^(bits-1), and counts as
/// going up). `None` for 0.
pub(super) fn ne_step(c: i64, wide: bool) -> Option<(bool, u64)> {
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
pub(super) fn static_trips(c: &CountedLoop) -> Option<Option<i128>> {
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
