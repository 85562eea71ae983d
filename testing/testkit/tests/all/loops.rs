//! Counted loops paid on entry: the same gas, status, results and trap
//! point as checking every iteration, on both backends.

use ward_testkit::{Backends, Rng, assert_agree, env_or, wasm};
use ward_vm::{
    CallContext, Config, Entry, Execution, Gas, LoopCharging, Policy, Reply, RunOptions, Status,
    Value,
};

/// A loop shape the generator writes.
#[derive(Clone, Debug)]
struct Shape {
    /// i64 counter (else i32).
    wide: bool,
    /// `br_if 0` at the end (else a `br_if` out at the top and `br 0`).
    bottom: bool,
    /// The comparison (`lt_s`, `ne`, ...), `nonzero` (the bare value) or
    /// `eqz`.
    test: &'static str,
    /// The counter is the comparison's right operand.
    swapped: bool,
    /// The step: a constant, or the `$s` parameter.
    step: Option<i64>,
    /// `counter - k` instead of `counter + (-k)`.
    sub: bool,
    /// The bound: a constant, or the `$b` parameter.
    bound: Option<i64>,
    /// The counter is stepped before the test (else after, top only).
    stepped_first: bool,
    /// The test reads the counter through the update's `local.tee`.
    tee: bool,
    /// The counter is set to this constant right before the loop (else it
    /// starts at the `$c` argument).
    start: Option<i64>,
    /// What the loop nests around its work: nothing, an `if` (with an
    /// `else`, perhaps), or an inner loop whose trip count is unknown.
    nest: Nest,
}

/// Control flow inside the loop's body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Nest {
    None,
    /// The work on even counters only.
    If,
    /// The work on even counters, something cheaper on odd ones.
    IfElse,
    /// An inner `while k != 0 { k >>= 1 }` before the work (a loop that is
    /// never prepaid: its counter is not stepped by an add).
    Inner,
    /// An inner `for k in 0..3` before the work: folded into the outer
    /// loop, whose prepayment then stays exact.
    Fixed,
    /// The same as a top-tested loop in its exit block.
    FixedWhile,
}

const TESTS: [&str; 11] = [
    "lt_s", "lt_u", "le_s", "le_u", "gt_s", "gt_u", "ge_s", "ge_u", "ne", "nonzero", "eqz",
];

impl Shape {
    fn ty(&self) -> &'static str {
        if self.wide { "i64" } else { "i32" }
    }

    /// `run(c, b, s, t) -> (acc, iterations, c)`: the loop from counter
    /// `c`, with bound `b` and step `s` when they are parameters, trapping
    /// (a division by zero) when the counter reaches `t`.
    fn module(&self) -> String {
        let t = self.ty();
        let widen = |x: &str| {
            if self.wide {
                x.to_string()
            } else {
                format!("(i64.extend_i32_s {x})")
            }
        };
        let step = match self.step {
            Some(k) if self.sub => format!("({t}.sub (local.get $c) ({t}.const {}))", -k),
            Some(k) => format!("({t}.add (local.get $c) ({t}.const {k}))"),
            None => format!("({t}.add (local.get $c) (local.get $s))"),
        };
        let bound = match self.bound {
            Some(k) => format!("({t}.const {k})"),
            None => "(local.get $b)".to_string(),
        };
        let read = if self.tee {
            format!("(local.tee $c {step})")
        } else {
            "(local.get $c)".to_string()
        };
        let update = if self.tee {
            String::new()
        } else {
            format!("(local.set $c {step})")
        };
        let test = match self.test {
            "nonzero" => read,
            "eqz" => format!("({t}.eqz {read})"),
            op if self.swapped => format!("({t}.{op} {bound} {read})"),
            op => format!("({t}.{op} {read} {bound})"),
        };
        let work = format!(
            "(local.set $acc (i64.add (i64.mul (local.get $acc) (i64.const 31)) {}))
             (local.set $n (i64.add (local.get $n) (i64.const 1)))
             (drop ({t}.div_u ({t}.const 1) ({t}.sub (local.get $c) (local.get $t))))",
            widen("(local.get $c)")
        );
        let even = format!("({t}.eqz ({t}.and (local.get $c) ({t}.const 1)))");
        let work = match self.nest {
            Nest::None => work,
            Nest::If => format!("(if {even} (then {work}))"),
            Nest::IfElse => format!(
                "(if {even} (then {work}) (else (local.set $n (i64.add (local.get $n) (i64.const 1000)))))"
            ),
            Nest::Inner => format!(
                "(local.set $k (i64.and {} (i64.const 255)))
                 (block $done (loop $in
                   (br_if $done (i64.eqz (local.get $k)))
                   (local.set $acc (i64.add (local.get $acc) (local.get $k)))
                   (local.set $k (i64.shr_u (local.get $k) (i64.const 1)))
                   (br $in)))
                 {work}",
                widen("(local.get $c)")
            ),
            Nest::Fixed => format!(
                "(local.set $k (i64.const 0))
                 (loop $in
                   (local.set $acc (i64.add (local.get $acc) (local.get $k)))
                   (local.set $k (i64.add (local.get $k) (i64.const 1)))
                   (br_if $in (i64.lt_u (local.get $k) (i64.const 3))))
                 {work}"
            ),
            Nest::FixedWhile => format!(
                "(local.set $k (i64.const 0))
                 (block $done (loop $in
                   (br_if $done (i64.ge_u (local.get $k) (i64.const 3)))
                   (local.set $acc (i64.add (local.get $acc) (local.get $k)))
                   (local.set $k (i64.add (local.get $k) (i64.const 1)))
                   (br $in)))
                 {work}"
            ),
        };
        let start = self
            .start
            .map_or(String::new(), |k| format!("(local.set $c ({t}.const {k}))"));
        let body = if self.bottom {
            format!("(loop $l {work} {update} (br_if $l {test}))")
        } else if self.stepped_first {
            format!("(block $out (loop $l {update} (br_if $out {test}) {work} (br $l)))")
        } else {
            format!("(block $out (loop $l (br_if $out {test}) {work} {update} (br $l)))")
        };
        format!(
            "(module (func (export \"run\") (param $c {t}) (param $b {t}) (param $s {t}) (param $t {t})
               (result i64 i64 {t}) (local $acc i64) (local $n i64) (local $k i64)
               {start} {body}
               (local.get $acc) (local.get $n) (local.get $c)))"
        )
    }

    fn random(rng: &mut Rng) -> Shape {
        let wide = rng.below(3) == 0;
        let bottom = rng.below(2) == 0;
        let steps: &[i64] = &[1, -1, 2, -2, 3, -3, 4, -8, 7, 64, i64::from(i32::MIN)];
        let step = (rng.below(8) != 0).then(|| steps[rng.below(steps.len())]);
        let test = match TESTS[rng.below(TESTS.len())] {
            // `br_if` takes an i32.
            "nonzero" if wide => "ne",
            test => test,
        };
        let tee = bottom && rng.below(2) == 0;
        let swapped = rng.below(2) == 0;
        // Mostly a step towards the bound (else the loop goes round until
        // it wraps or runs out of gas, and is never prepaid).
        let step = match (step, direction(test, swapped, bottom)) {
            (Some(k), Some(d)) if k.signum() != d && rng.below(4) != 0 => Some(-k),
            (step, _) => step,
        };
        // A constant start, and a constant bound, often near each other (so
        // that loops known entirely at instrumentation time complete).
        let start = (rng.below(3) == 0).then(|| pick(rng, wide));
        let bound = match start {
            Some(k) if rng.below(2) == 0 => {
                let b = k.wrapping_add(rng.below(200) as i64 - 50);
                Some(if wide { b } else { i64::from(b as i32) })
            }
            _ => (rng.below(3) == 0).then(|| pick(rng, wide)),
        };
        Shape {
            wide,
            bottom,
            test,
            swapped,
            step,
            sub: step.is_some_and(|k| k < 0 && k != i64::from(i32::MIN)) && rng.below(2) == 0,
            bound,
            stepped_first: bottom || tee || rng.below(2) == 0,
            tee,
            start,
            nest: [
                Nest::None,
                Nest::None,
                Nest::If,
                Nest::IfElse,
                Nest::Inner,
                Nest::Fixed,
                Nest::FixedWhile,
            ][rng.below(7)],
        }
    }
}

/// The sign of the steps that go towards the bound: +1 when the loop goes
/// round while the counter is below it, -1 while above, `None` for the
/// tests of (in)equality.
fn direction(test: &str, swapped: bool, bottom: bool) -> Option<i64> {
    let up = match test {
        "lt_s" | "lt_u" | "le_s" | "le_u" => true,
        "gt_s" | "gt_u" | "ge_s" | "ge_u" => false,
        _ => return None,
    };
    // The counter on the right flips the comparison; a top-tested loop
    // goes round while the test fails.
    Some(if up != swapped && bottom || up == swapped && !bottom {
        1
    } else {
        -1
    })
}

/// A value near the interesting places: zero, small numbers, the edges of
/// the counter's range (where a counter wraps).
fn pick(rng: &mut Rng, wide: bool) -> i64 {
    let (min, max) = if wide {
        (i64::MIN, i64::MAX)
    } else {
        (i64::from(i32::MIN), i64::from(i32::MAX))
    };
    let umax = if wide { -1 } else { i64::from(u32::MAX as i32) };
    let near = [0, 1, -1, 2, 5, 10, 100, 1000, min, max, umax];
    let base = near[rng.below(near.len())];
    let delta = rng.below(21) as i64 - 10;
    let v = base.wrapping_add(delta);
    if wide { v } else { i64::from(v as i32) }
}

fn arg(wide: bool, v: i64) -> Value {
    if wide {
        Value::I64(v)
    } else {
        Value::I32(v as i32)
    }
}

/// Both backends under each way of charging loops: `[prepaid, per
/// iteration]`.
fn backends() -> [Backends; 2] {
    let config = |loops| Config {
        policy: Policy {
            loops,
            ..Policy::default()
        },
        ..Config::default()
    };
    [
        Backends::new(config(LoopCharging::Prepaid)),
        Backends::new(config(LoopCharging::PerIteration)),
    ]
}

/// How a prepaid run may differ from checking every iteration.
#[derive(Debug, PartialEq, Eq)]
enum Agreement {
    /// In everything.
    Same,
    /// The prepaid run ran out of gas where checking every iteration
    /// trapped later: a loop with checks nested inside whose whole run
    /// could not be paid (both consume all the gas).
    OutOfGasBeforeTrap,
}

/// Runs `run(args)` with `gas` on every backend of both charging modes:
/// the backends of each mode must agree on everything, and the modes too,
/// except that a prepaid loop with checks nested inside (`nested`) may run
/// out of gas before a trap. Returns the per-iteration run.
fn run_all(
    sets: &[Backends; 2],
    modules: &[[ward_vm::Module; 2]; 2],
    args: &[Value],
    gas: u64,
    nested: bool,
) -> (Execution, Agreement) {
    let entry = Entry::Invoke {
        name: "run".into(),
        args: args.to_vec(),
    };
    let options = RunOptions {
        gas_limit: Gas::new(gas),
        ..RunOptions::default()
    };
    let [mut prepaid, mut checked] = [0, 1].map(|mode| {
        let runs: Vec<Execution> = sets[mode]
            .all
            .iter()
            .zip(&modules[mode])
            .map(|(backend, module)| {
                let mut no_service = |_| Reply::Trap("no services".into());
                ward_vm::execute(
                    &**backend,
                    module,
                    &entry,
                    options.clone(),
                    CallContext::default(),
                    &mut no_service,
                )
                .expect("no node fault")
            })
            .collect();
        assert_agree(&runs);
        runs
    });
    let (p, c) = (&prepaid[0].outcome, &checked[0].outcome);
    let agreement = if nested
        && p.status == Status::OutOfGas
        && c.status == Status::Trapped
        && p.gas_used == Gas::new(gas)
        && c.gas_used == Gas::new(gas)
    {
        Agreement::OutOfGasBeforeTrap
    } else {
        assert_agree(&[prepaid.swap_remove(0), checked[0].clone()]);
        Agreement::Same
    };
    (checked.swap_remove(0), agreement)
}

fn compile(sets: &[Backends; 2], bytes: &[u8]) -> [[ward_vm::Module; 2]; 2] {
    sets.each_ref().map(|set| {
        let mut modules = set
            .all
            .iter()
            .map(|b| ward_vm::compile(&**b, &set.config, bytes).expect("compiles"));
        [modules.next().unwrap(), modules.next().unwrap()]
    })
}

#[test]
fn prepaid_loops_charge_exactly_as_checking_every_iteration() {
    let cases: usize = env_or("WARD_LOOP_CASES", 500);
    let seed: u64 = env_or("WARD_LOOP_SEED", 0x5eed_1005);
    // Printed first, so that a failure replays with WARD_LOOP_SEED.
    println!("loop shapes from seed {seed}");
    let sets = backends();
    let mut rng = Rng::new(seed | 1);
    let (mut prepaid, mut completed, mut out_of_gas, mut trapped) = (0, 0, 0, 0);
    // Runs where prepayment ran out of gas before a trap.
    let mut earlier = 0;
    for case in 0..cases {
        let shape = Shape::random(&mut rng);
        let text = shape.module();
        let bytes = wasm(&text);
        let prepared =
            ward_instrument::prepare(&bytes, &sets[0].config.effective_policy()).expect("prepares");
        let per_iteration =
            ward_instrument::prepare(&bytes, &sets[1].config.effective_policy()).expect("prepares");
        assert_eq!(per_iteration.prepaid_loops, 0);
        prepaid += prepared.prepaid_loops;
        if prepared.prepaid_loops == 0 && std::env::var_os("WARD_LOOP_SHOW").is_some() {
            println!("not prepaid: {shape:?}");
        }
        let modules = compile(&sets, &bytes);
        for _ in 0..8 {
            let c = pick(&mut rng, shape.wide);
            // Bounds near the start, so that many loops complete.
            let from = shape.start.unwrap_or(c);
            let b = if rng.below(2) == 0 {
                from.wrapping_add(rng.below(2000) as i64 - 500)
            } else {
                pick(&mut rng, shape.wide)
            };
            let steps: &[i64] = &[1, -1, 2, -2, 3, 0, 7, -5, i64::MAX, i64::MIN];
            let s = steps[rng.below(steps.len())];
            let t = if rng.below(4) == 0 {
                from.wrapping_add(rng.below(40) as i64)
            } else {
                pick(&mut rng, shape.wide)
            };
            let gas = [50, 1_000, 20_000, 300_000][rng.below(4)];
            let args = [c, b, s, t].map(|v| arg(shape.wide, v));
            if std::env::var_os("WARD_LOOP_SHOW").is_some() {
                println!("case {case}: {shape:?} args {args:?} gas {gas}");
            }
            // Checks left inside the prepaid copy (a folded loop has none).
            let nested = matches!(shape.nest, Nest::If | Nest::IfElse | Nest::Inner);
            let (run, agreement) = run_all(&sets, &modules, &args, gas, nested);
            if agreement == Agreement::OutOfGasBeforeTrap {
                earlier += 1;
            }
            match run.outcome.status {
                Status::Ok => completed += 1,
                Status::OutOfGas => out_of_gas += 1,
                Status::Trapped => trapped += 1,
                other => panic!("case {case}: unexpected {other:?}\n{text}"),
            }
        }
    }
    println!(
        "{cases} loop shapes ({prepaid} prepaid), runs: {completed} completed, \
         {out_of_gas} out of gas, {trapped} trapped ({earlier} of them out of gas \
         before the trap when prepaid)"
    );
    // The generator must exercise the prepaid path and every outcome.
    assert!(
        prepaid as usize * 2 > cases,
        "only {prepaid} of {cases} shapes prepaid"
    );
    assert!(completed > 0 && out_of_gas > 0 && trapped > 0);
}

/// How many loops of `body` (in `(func (param $c i32) (param $b i32)
/// (param $s i32) (local $x i32) ...)`) the instrumentation prepays.
fn prepaid(body: &str) -> u32 {
    let text = format!(
        r#"(module (memory 1) (func $f)
             (func (export "run") (param $c i32) (param $b i32) (param $s i32)
               (local $x i32) (local $y i64)
               {body}))"#
    );
    ward_instrument::prepare(&wasm(&text), &Policy::default())
        .expect("prepares")
        .prepaid_loops
}

#[test]
fn loops_are_prepaid_only_when_their_trip_count_is_known_on_entry() {
    let step = "(local.set $c (i32.add (local.get $c) (i32.const 1)))";
    let work = "(local.set $x (i32.xor (local.get $x) (local.get $c)))";
    let cases: &[(&str, String, u32)] = &[
        (
            "for loop, bound a local",
            format!("(loop $l {work} {step} (br_if $l (i32.lt_u (local.get $c) (local.get $b))))"),
            1,
        ),
        (
            "while loop, step 3",
            format!(
                "(block $out (loop $l (br_if $out (i32.ge_s (local.get $c) (i32.const 100)))
                   {work} (local.set $c (i32.add (local.get $c) (i32.const 3))) (br $l)))"
            ),
            1,
        ),
        (
            "while loop, step a local (a division on every entry: left checked)",
            format!(
                "(block $out (loop $l (br_if $out (i32.ge_s (local.get $c) (i32.const 100)))
                   {work} (local.set $c (i32.add (local.get $c) (local.get $s))) (br $l)))"
            ),
            0,
        ),
        (
            "count down to zero through tee",
            format!("(loop $l {work} (br_if $l (local.tee $c (i32.sub (local.get $c) (i32.const 1)))))"),
            1,
        ),
        (
            "pointer stride 12 to an end",
            "(loop $l (i32.store (local.get $c) (local.get $x))
               (br_if $l (i32.ne (local.tee $c (i32.add (local.get $c) (i32.const 12))) (local.get $b))))"
                .to_string(),
            1,
        ),
        (
            "memory and arithmetic that may trap are fine",
            format!("(loop $l (local.set $x (i32.div_u (i32.load (local.get $c)) (local.get $b))) {step} (br_if $l (i32.lt_u (local.get $c) (i32.const 64))))"),
            1,
        ),
        (
            "bound written in the loop",
            format!("(loop $l {work} {step} (local.set $b (local.get $x)) (br_if $l (i32.lt_u (local.get $c) (local.get $b))))"),
            0,
        ),
        (
            "counter written twice",
            format!("(loop $l {step} {step} (br_if $l (i32.lt_u (local.get $c) (local.get $b))))"),
            0,
        ),
        (
            "step not an add of a constant or local",
            format!("(loop $l {work} (local.set $c (i32.mul (local.get $c) (i32.const 2))) (br_if $l (i32.lt_u (local.get $c) (local.get $b))))"),
            0,
        ),
        (
            "step written in the loop",
            "(loop $l (local.set $s (local.get $x)) (local.set $c (i32.add (local.get $c) (local.get $s)))
               (br_if $l (i32.lt_u (local.get $c) (local.get $b))))"
                .to_string(),
            0,
        ),
        (
            "a call in the body",
            format!("(loop $l (call $f) {step} (br_if $l (i32.lt_u (local.get $c) (local.get $b))))"),
            0,
        ),
        (
            "memory.grow in the body",
            format!("(loop $l (drop (memory.grow (i32.const 0))) {step} (br_if $l (i32.lt_u (local.get $c) (local.get $b))))"),
            0,
        ),
        (
            "an if in the body",
            format!("(loop $l (if (local.get $x) (then {work})) {step} (br_if $l (i32.lt_u (local.get $c) (local.get $b))))"),
            1,
        ),
        (
            "an if/else, a block left by br_if, a br_table inside, an inner while loop, memory.grow nested",
            format!(
                "(loop $l
                   (if (local.get $x) (then {work}) (else (drop (memory.grow (i32.const 0)))))
                   (block $b (br_if $b (local.get $x)) {work})
                   (block $p (block $q (br_table $p $q (local.get $x))) {work})
                   (block $d (loop $w (br_if $d (i32.eqz (local.get $x)))
                     (local.set $x (i32.shr_u (local.get $x) (i32.const 1))) (br $w)))
                   {step} (br_if $l (i32.lt_u (local.get $c) (local.get $b))))"
            ),
            1,
        ),
        (
            "a nested branch back to the loop (skips the rest of an iteration)",
            format!("(loop $l (if (local.get $x) (then (br $l))) {step} (br_if $l (i32.lt_u (local.get $c) (local.get $b))))"),
            0,
        ),
        (
            "a nested branch out of the loop",
            format!("(block $out (loop $l (if (local.get $x) (then (br $out))) {step} (br_if $l (i32.lt_u (local.get $c) (local.get $b)))))"),
            0,
        ),
        (
            "a nested br_table out of the loop",
            format!("(block $out (loop $l (block $b (br_table $b $out (local.get $x))) {step} (br_if $l (i32.lt_u (local.get $c) (local.get $b)))))"),
            0,
        ),
        (
            "a return in a nested if",
            format!("(loop $l (if (local.get $x) (then (return))) {step} (br_if $l (i32.lt_u (local.get $c) (local.get $b))))"),
            0,
        ),
        (
            "a call in a nested if",
            format!("(loop $l (if (local.get $x) (then (call $f))) {step} (br_if $l (i32.lt_u (local.get $c) (local.get $b))))"),
            0,
        ),
        (
            "the counter stepped in a nested if",
            format!("(loop $l (if (local.get $x) (then {step})) (br_if $l (i32.lt_u (local.get $c) (local.get $b))))"),
            0,
        ),
        (
            "the bound written in a nested if",
            format!("(loop $l (if (local.get $x) (then (local.set $b (local.get $x)))) {step} (br_if $l (i32.lt_u (local.get $c) (local.get $b))))"),
            0,
        ),
        (
            "a nested unreachable",
            format!("(loop $l (if (local.get $x) (then (unreachable))) {step} (br_if $l (i32.lt_u (local.get $c) (local.get $b))))"),
            1,
        ),
        (
            "a second exit",
            format!("(block $out (loop $l (br_if $out (local.get $x)) {step} (br_if $l (i32.lt_u (local.get $c) (local.get $b)))))"),
            0,
        ),
        (
            "a br_table back to the loop",
            format!("(loop $l {step} (br_table $l 0 (i32.lt_u (local.get $c) (local.get $b))))"),
            0,
        ),
        (
            "equality as the condition to go round",
            format!("(loop $l {step} (br_if $l (i32.eq (local.get $c) (local.get $b))))"),
            0,
        ),
        (
            "a step of zero",
            "(loop $l (local.set $c (i32.add (local.get $c) (i32.const 0))) (br_if $l (i32.lt_u (local.get $c) (local.get $b))))"
                .to_string(),
            0,
        ),
        (
            "step away from the bound",
            "(loop $l (local.set $c (i32.sub (local.get $c) (i32.const 1))) (br_if $l (i32.lt_u (local.get $c) (local.get $b))))"
                .to_string(),
            0,
        ),
        (
            "an inner while loop of fixed count in its exit block, folded into the outer one",
            format!(
                "(loop $o (local.set $x (i32.const 0))
                   (block $d (loop $i (br_if $d (i32.ge_u (local.get $x) (i32.const 8)))
                     (local.set $x (i32.add (local.get $x) (i32.const 1))) (br $i)))
                   {step} (br_if $o (i32.lt_u (local.get $c) (local.get $b))))"
            ),
            2,
        ),
        (
            "an inner loop whose count is not fixed: the inner one only",
            format!(
                "(loop $o (local.set $x (i32.const 0))
                   (loop $i (local.set $x (i32.add (local.get $x) (i32.const 1))) (br_if $i (i32.lt_u (local.get $x) (local.get $b))))
                   {step} (br_if $o (i32.lt_u (local.get $c) (local.get $b))))"
            ),
            1,
        ),
        (
            "an inner loop of fixed count inside an if: the inner one only",
            format!(
                "(loop $o (if (local.get $b) (then (local.set $x (i32.const 0))
                   (loop $i (local.set $x (i32.add (local.get $x) (i32.const 1))) (br_if $i (i32.lt_u (local.get $x) (i32.const 8))))))
                   {step} (br_if $o (i32.lt_u (local.get $c) (local.get $b))))"
            ),
            1,
        ),
        (
            "an inner loop of fixed count folded into the outer one",
            format!(
                "(loop $o (local.set $x (i32.const 0))
                   (loop $i (local.set $x (i32.add (local.get $x) (i32.const 1))) (br_if $i (i32.lt_u (local.get $x) (i32.const 8))))
                   {step} (br_if $o (i32.lt_u (local.get $c) (local.get $b))))"
            ),
            2,
        ),
    ];
    for (name, body, expected) in cases {
        assert_eq!(prepaid(body), *expected, "{name}");
    }
}

/// A body of `n` copies of `piece` inside one counted loop, as a module.
fn big_loop(piece: &str, n: usize) -> Vec<u8> {
    let body = piece.repeat(n);
    wasm(&format!(
        r#"(module (func (export "run") (param $c i32) (param $b i32) (local $x i32)
             (loop $o {body}
               (local.set $c (i32.add (local.get $c) (i32.const 1)))
               (br_if $o (i32.lt_u (local.get $c) (local.get $b))))))"#
    ))
}

/// Recognising counted loops costs each op a step per loop around it, not
/// per op or loop beside it: loops with tens of thousands of nested ifs or
/// inner loops (bodies near the 256 KiB limit) instrument as quickly as
/// any (a quadratic pass would take minutes here).
#[test]
fn huge_loop_bodies_are_recognised_in_one_walk() {
    let ifs = big_loop(
        "(if (local.get $x) (then (local.set $x (i32.const 1))))",
        25_000,
    );
    let inner = big_loop(
        "(local.set $x (i32.const 0)) (loop (local.set $x (i32.add (local.get $x) (i32.const 1))) (br_if 0 (i32.lt_u (local.get $x) (i32.const 4))))",
        9_000,
    );
    let policy = Policy::default();
    for (name, bytes, expected) in [
        ("25 000 ifs", &ifs, 1),
        ("9 000 inner loops", &inner, 9_001),
    ] {
        assert!(bytes.len() < 256 * 1024, "{name}: {} bytes", bytes.len());
        let prepared = ward_instrument::prepare(bytes, &policy).expect("prepares");
        assert_eq!(prepared.prepaid_loops, expected, "{name}");
    }
}
