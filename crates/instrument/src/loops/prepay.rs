//! The code a counted loop runs when it is entered: how many times its
//! test will run, and whether the gas left covers what its own segments
//! cost over those visits.

use wasm_encoder::Instruction;

use super::trips::{ne_step, static_trips};
use super::{Continue, CountedLoop, MAX_TRIPS, Value};

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
    let mut p = Prepay {
        c,
        locals,
        local,
        out: Vec::new(),
    };
    // Everything known now: the flag is just whether the gas covers it.
    let counted = match static_trips(c) {
        Some(Some(trips)) => {
            p.static_total(trips);
            return p.out;
        }
        Some(None) => false,
        None => match (c.cont, c.wide) {
            (Continue::Ne, _) => p.ne_trips(),
            (cont, true) => p.wide_trips(cont),
            (cont, false) => p.narrow_trips(cont),
        },
    };
    if counted {
        p.covered_by_gas();
    } else {
        p.out.push(Instruction::I32Const(0));
    }
    p.out
}

/// The prepayment code of one counted loop, being emitted.
struct Prepay<'c, F> {
    c: &'c CountedLoop,
    locals: &'c PrepayLocals,
    local: F,
    out: Vec<Instruction<'static>>,
}

impl<F: Fn(u32) -> u32> Prepay<'_, F> {
    /// A constant in the counter's width.
    fn constant(&self, k: i64) -> Instruction<'static> {
        if self.c.wide {
            Instruction::I64Const(k)
        } else {
            Instruction::I32Const(k as i32)
        }
    }

    /// Pushes a bound: a constant or a local.
    fn push(&mut self, v: Value) {
        let instruction = match v {
            Value::Const(k) => self.constant(k),
            Value::Local(x) => Instruction::LocalGet((self.local)(x)),
        };
        self.out.push(instruction);
    }

    /// Pushes u, the counter's value at the first test.
    fn push_u(&mut self) {
        use Instruction as I;
        self.out.push(I::LocalGet((self.local)(self.c.counter)));
        if self.c.stepped_first {
            self.out.push(self.constant(self.c.step));
            self.out
                .push(if self.c.wide { I::I64Add } else { I::I32Add });
        }
    }

    /// A trip count known now: the flag is whether the gas covers the
    /// total, which goes in `k`.
    fn static_total(&mut self, trips: i128) {
        use Instruction as I;
        let c = self.c;
        let per_trip = i128::from(c.head + c.rest);
        let total = (trips * per_trip - i128::from(c.rest) + i128::from(c.after)) as i64;
        self.out.extend([
            I::I64Const(total),
            I::LocalTee(self.locals.k),
            I::LocalGet(self.locals.gas),
            I::I64LeS,
        ]);
    }

    /// A `ne` loop: leaves the number of tests in `k` and whether the loop
    /// can be prepaid on the stack; `false` when no code can tell (the
    /// flag is then a constant 0).
    fn ne_trips(&mut self) -> bool {
        use Instruction as I;
        let Some((up, magnitude)) = ne_step(self.c.step, self.c.wide) else {
            return false;
        };
        // x = the distance to the bound in the step's direction,
        // unsigned. The first step count that covers it exactly is
        // x / |step| (any smaller solution would be a multiple of
        // 2^bits / gcd(step, 2^bits) below it), so the test runs
        // x / |step| + 1 times when |step| divides x, and the counter
        // never meets the bound otherwise.
        if up {
            self.push(self.c.bound);
            self.push_u();
        } else {
            self.push_u();
            self.push(self.c.bound);
        }
        self.out
            .push(if self.c.wide { I::I64Sub } else { I::I32Sub });
        if !self.c.wide {
            self.out.push(I::I64ExtendI32U);
        }
        self.out.extend([
            I::LocalTee(self.locals.x),
            I::I64Const(magnitude as i64),
            I::I64DivU,
            I::I64Const(1),
            I::I64Add,
            I::LocalSet(self.locals.k),
            // Not at the bound already, and a whole number of steps.
            I::LocalGet(self.locals.x),
            I::I64Eqz,
            I::I32Eqz,
            I::LocalGet(self.locals.x),
            I::I64Const(magnitude as i64),
            I::I64RemU,
            I::I64Eqz,
            I::I32And,
        ]);
        true
    }

    /// An ordered test on an i64 counter; as [`Prepay::ne_trips`].
    fn wide_trips(&mut self, cont: Continue) -> bool {
        use Instruction as I;
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
        let z = if up {
            self.c.step
        } else {
            self.c.step.wrapping_neg()
        };
        if z <= 0 {
            return false;
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
        self.push_u();
        self.out.push(I::LocalSet(self.locals.x));
        self.push(self.c.bound);
        if inclusive {
            self.out
                .extend([I::I64Const(if up { 1 } else { -1 }), I::I64Add]);
        }
        self.out.push(I::LocalSet(self.locals.y));
        // k = ceil(distance / z) + 1 tests, the distance being at least
        // 1 when valid.
        if up {
            self.out
                .extend([I::LocalGet(self.locals.y), I::LocalGet(self.locals.x)]);
        } else {
            self.out
                .extend([I::LocalGet(self.locals.x), I::LocalGet(self.locals.y)]);
        }
        self.out.extend([I::I64Sub, I::I64Const(1), I::I64Sub]);
        if z > 1 {
            self.out.extend([I::I64Const(z), I::I64DivU]);
        }
        self.out
            .extend([I::I64Const(2), I::I64Add, I::LocalSet(self.locals.k)]);
        // The first test goes round: u < y going up, y < u going down.
        if up {
            self.out
                .extend([I::LocalGet(self.locals.x), I::LocalGet(self.locals.y), lt]);
        } else {
            self.out
                .extend([I::LocalGet(self.locals.y), I::LocalGet(self.locals.x), lt]);
        }
        // An inclusive bound is not the extreme value (y did not wrap).
        if inclusive {
            self.push(self.c.bound);
            self.out
                .extend([I::I64Const(if up { max } else { min }), I::I64Ne, I::I32And]);
        }
        // The counter's last value, within z - 1 past y, does not wrap:
        // y <= max - (z - 1) going up, min + (z - 1) <= y going down.
        if up {
            self.out.extend([
                I::LocalGet(self.locals.y),
                I::I64Const(max.wrapping_sub(z - 1)),
                le,
            ]);
        } else {
            self.out.extend([
                I::I64Const(min.wrapping_add(z - 1)),
                I::LocalGet(self.locals.y),
                le,
            ]);
        }
        self.out.push(I::I32And);
        true
    }

    /// An ordered test on an i32 counter; as [`Prepay::ne_trips`].
    fn narrow_trips(&mut self, cont: Continue) -> bool {
        use Instruction as I;
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
        let z = sign * self.c.step;
        // The largest value the test can see, on the going-up side.
        let limit: i64 = match (signed, down) {
            (true, false) => i64::from(i32::MAX),
            (false, false) => i64::from(u32::MAX),
            (true, true) => -i64::from(i32::MIN),
            (false, true) => 0,
        };
        if z <= 0 {
            return false;
        }
        // x = ±widen(u)
        if down {
            self.out.push(I::I64Const(0));
        }
        self.push_u();
        self.out.push(widen.clone());
        if down {
            self.out.push(I::I64Sub);
        }
        self.out.push(I::LocalSet(self.locals.x));
        // y = ±widen(b) (+ 1 when inclusive): a constant, or a local
        // with the no-wrap check left for run time.
        let y_value = match self.c.bound {
            Value::Const(b) => {
                let b = if signed {
                    i64::from(b as i32)
                } else {
                    i64::from(b as u32)
                };
                let y = sign * b + i64::from(inclusive);
                if y + z - 1 > limit {
                    return false;
                }
                Some(y)
            }
            Value::Local(_) => {
                if down {
                    self.out.push(I::I64Const(0));
                }
                self.push(self.c.bound);
                self.out.push(widen);
                if down {
                    self.out.push(I::I64Sub);
                }
                if inclusive {
                    self.out.extend([I::I64Const(1), I::I64Add]);
                }
                self.out.push(I::LocalSet(self.locals.y));
                None
            }
        };
        let push_y = |out: &mut Vec<I<'static>>| match y_value {
            Some(value) => out.push(I::I64Const(value)),
            None => out.push(I::LocalGet(self.locals.y)),
        };
        // k = ceil((y - x) / z) + 1 tests (y - x >= 1 when valid).
        push_y(&mut self.out);
        self.out.extend([I::LocalGet(self.locals.x), I::I64Sub]);
        if z > 1 {
            self.out
                .extend([I::I64Const(z - 1), I::I64Add, I::I64Const(z), I::I64DivU]);
        }
        self.out
            .extend([I::I64Const(1), I::I64Add, I::LocalSet(self.locals.k)]);
        // x < y: the first test goes round; and, for a bound in a
        // local, y + z - 1 <= limit: the counter does not wrap on its
        // way.
        self.out.push(I::LocalGet(self.locals.x));
        push_y(&mut self.out);
        self.out.push(I::I64LtS);
        if y_value.is_none() {
            self.out.extend([
                I::LocalGet(self.locals.y),
                I::I64Const(limit - (z - 1)),
                I::I64LeS,
                I::I32And,
            ]);
        }
        true
    }

    /// With the number of tests in `k` and the flag on the stack: also
    /// whether the count is in range and the gas covers the total, which
    /// goes in `k`.
    fn covered_by_gas(&mut self) {
        use Instruction as I;
        // 1 <= k <= MAX_TRIPS tests (always, for i32 counters: k <= 2^33 + 1,
        // and 1 <= k when the flag holds); k = k * (head + rest) - rest + after,
        // no more than the gas.
        if self.c.wide {
            self.out.extend([
                I::LocalGet(self.locals.k),
                I::I64Const(1),
                I::I64Sub,
                I::I64Const(MAX_TRIPS),
                I::I64LtU,
                I::I32And,
            ]);
        }
        self.out.extend([
            I::LocalGet(self.locals.k),
            I::I64Const((self.c.head + self.c.rest) as i64),
            I::I64Mul,
        ]);
        if self.c.after != self.c.rest {
            self.out.extend([
                I::I64Const(self.c.after as i64 - self.c.rest as i64),
                I::I64Add,
            ]);
        }
        self.out.extend([
            I::LocalTee(self.locals.k),
            I::LocalGet(self.locals.gas),
            I::I64LeS,
            I::I32And,
        ]);
    }
}
