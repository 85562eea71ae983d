//! Runs the WebAssembly core spec suite (`.wast` files) through Ward's own
//! path: [`ward_vm::compile`] (policy, then engine), [`Sandbox::instantiate`]
//! and [`Sandbox::call`], on either backend.
//!
//! Every directive is counted: `module`, `register`, `invoke`,
//! `assert_return` (with NaN patterns), `assert_trap` (the trap's kind must
//! match the expected message), `assert_exhaustion`, `assert_invalid`,
//! `assert_malformed` and `assert_unlinkable`. Text-format `assert_malformed`
//! cases that the `wast` parser itself rejects never reach Ward; they are
//! counted as `text_only`, not as passes.
//!
//! Files outside Ward's feature set are listed, with a reason each, in
//! `skip.txt` beside this crate's manifest.

use std::{collections::BTreeMap, fmt, path::Path};

use ward_vm::{
    Backend, CallContext, Config, ErrorKind, Failure, Gas, InstanceId, Limits, Link, Meter,
    Metering, Sandbox, Step, Value,
};
use wast::{
    QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet,
    core::{NanPattern, WastArgCore, WastRetCore},
    parser::{self, ParseBuffer},
};

/// The `spectest` module the suite imports from, written as a module so it
/// goes through Ward's path like everything else.
const SPECTEST_WAT: &str = r#"
(module
  (global (export "global_i32") i32 (i32.const 666))
  (global (export "global_i64") i64 (i64.const 666))
  (global (export "global_f32") f32 (f32.const 666.6))
  (global (export "global_f64") f64 (f64.const 666.6))
  (table (export "table") 10 20 funcref)
  (memory (export "memory") 1 2)
  (func (export "print"))
  (func (export "print_i32") (param i32))
  (func (export "print_i64") (param i64))
  (func (export "print_f32") (param f32))
  (func (export "print_f64") (param f64))
  (func (export "print_i32_f32") (param i32 f32))
  (func (export "print_f64_f64") (param f64 f64)))
"#;

/// How the suite's modules are prepared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Validation and limits only: the engines run the modules as written.
    Raw,
    /// Instrumented (gas, stack limit, NaN canonicalisation) with unlimited
    /// gas: shows the instrumentation is semantically transparent.
    Unlimited,
    /// Instrumented with metering on: every invoke gets a finite budget, and
    /// `assert_exhaustion` must end in Ward's own `stack_overflow`.
    Metered,
}

impl Mode {
    /// Every mode.
    pub const ALL: [Mode; 3] = [Mode::Raw, Mode::Unlimited, Mode::Metered];

    /// The gas each instantiation and invoke gets.
    pub fn gas(self) -> Gas {
        match self {
            Mode::Raw | Mode::Unlimited => ward_vm::MAX_GAS,
            Mode::Metered => Gas::new(50_000_000_000),
        }
    }
}

/// The configuration spec tests run under: Ward's default features, with
/// limits as large as WebAssembly allows (the suite tests the edges), and
/// the mode's metering.
pub fn spec_config(mode: Mode) -> Config {
    let mut config = Config::default();
    config.policy.limits = Limits::unbounded();
    // Spec modules import from each other and from `spectest`; the runner
    // links them itself.
    config.policy.imports = ward_vm::ImportPolicy::Any;
    config.policy.metering = match mode {
        Mode::Raw => Metering::None,
        Mode::Unlimited | Mode::Metered => Metering::Instrumented,
    };
    config
}

/// Directive counts for one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Directives that behaved as the suite expects.
    pub passed: usize,
    /// Directives skipped by a `skip.txt` entry (listed with its reason).
    pub skipped: usize,
    /// `assert_malformed` text cases rejected by the text parser (never reach Ward).
    pub text_only: usize,
    /// Directives that did not, with their line and what happened.
    pub failures: Vec<String>,
}

impl Report {
    /// Adds another file's counts.
    pub fn merge(&mut self, other: Report) {
        self.passed += other.passed;
        self.skipped += other.skipped;
        self.text_only += other.text_only;
        self.failures.extend(other.failures);
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} text-only, {} skipped",
            self.passed,
            self.failures.len(),
            self.text_only,
            self.skipped
        )
    }
}

/// One entry of `skip.txt`.
///
/// `PATTERN [backend=NAME] [mode=NAME] REASON`: a whole file (a name, or a
/// prefix ending in `*`), or one directive (`file.wast:LINE`), optionally
/// only on one backend and/or in one mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skip {
    /// File-name pattern, or `file:line` for one directive.
    pub pattern: String,
    /// Only on this backend (`wasmtime`, `wasmi`).
    pub backend: Option<String>,
    /// Only in this mode (`raw`, `unlimited`, `metered`).
    pub mode: Option<String>,
    /// Why it is out of scope.
    pub reason: String,
}

impl Skip {
    /// Whether this entry skips the whole file `file_name`.
    pub fn matches(&self, file_name: &str) -> bool {
        match self.pattern.strip_suffix('*') {
            Some(prefix) => file_name.starts_with(prefix),
            None => file_name == self.pattern,
        }
    }

    /// Whether this entry skips directive `file_name:line` on `backend` in `mode`.
    pub fn matches_directive(
        &self,
        file_name: &str,
        line: usize,
        backend: &str,
        mode: Mode,
    ) -> bool {
        self.pattern == format!("{file_name}:{line}")
            && self.backend.as_deref().is_none_or(|b| b == backend)
            && self.mode.as_deref().is_none_or(|m| m == mode.name())
    }

    /// Whether this entry names one directive rather than files.
    pub fn is_directive(&self) -> bool {
        self.pattern.contains(':')
    }
}

impl Mode {
    /// The mode's name in `skip.txt`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Raw => "raw",
            Mode::Unlimited => "unlimited",
            Mode::Metered => "metered",
        }
    }
}

/// Parses `skip.txt`: one entry per line, `#` comments.
///
/// # Errors
///
/// A line without a reason, or with an unknown mode.
pub fn parse_skips(text: &str) -> Result<Vec<Skip>, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(parse_skip)
        .collect()
}

fn parse_skip(line: &str) -> Result<Skip, String> {
    let mut words = line.split_whitespace().peekable();
    let pattern = words.next().unwrap_or_default().to_string();
    let (mut backend, mut mode) = (None, None);
    while let Some(word) = words.peek() {
        if let Some(b) = word.strip_prefix("backend=") {
            backend = Some(b.to_string());
        } else if let Some(m) = word.strip_prefix("mode=") {
            if !["raw", "unlimited", "metered"].contains(&m) {
                return Err(format!("unknown mode `{m}` in `{line}`"));
            }
            mode = Some(m.to_string());
        } else {
            break;
        }
        words.next();
    }
    let reason = words.collect::<Vec<_>>().join(" ");
    if reason.is_empty() {
        return Err(format!("skip entry without a reason: `{line}`"));
    }
    Ok(Skip {
        pattern,
        backend,
        mode,
        reason,
    })
}

/// Runs one `.wast` file on `backend` (made from `spec_config(mode)`),
/// skipping the directives `skips` names for this backend and mode.
pub fn run_file(
    path: &Path,
    backend: &dyn Backend,
    config: &Config,
    mode: Mode,
    skips: &[Skip],
) -> Report {
    let mut report = Report::default();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            report
                .failures
                .push(format!("{}: cannot read: {e}", path.display()));
            return report;
        }
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // The suite deliberately uses confusing Unicode in names (names.wast).
    let mut lexer = wast::lexer::Lexer::new(&text);
    lexer.allow_confusing_unicode(true);
    let buf = match ParseBuffer::new_with_lexer(lexer) {
        Ok(buf) => buf,
        Err(e) => {
            report.failures.push(format!("{name}: cannot lex: {e}"));
            return report;
        }
    };
    let wast = match parser::parse::<Wast<'_>>(&buf) {
        Ok(wast) => wast,
        Err(e) => {
            report.failures.push(format!("{name}: cannot parse: {e}"));
            return report;
        }
    };
    let mut runner = Runner::new(backend, config, mode);
    if let Err(e) = runner.register_spectest() {
        report
            .failures
            .push(format!("{name}: spectest module: {e}"));
        return report;
    }
    for directive in wast.directives {
        let (line, col) = directive.span().linecol_in(&text);
        if std::env::var_os("WARD_SPEC_TRACE").is_some() {
            eprintln!("{name}:{}", line + 1);
        }
        let backend_name = backend.kind().as_str();
        if skips
            .iter()
            .any(|s| s.matches_directive(&name, line + 1, backend_name, mode))
        {
            report.skipped += 1;
            continue;
        }
        match runner.directive(directive) {
            Ok(Verdict::Pass) => report.passed += 1,
            Ok(Verdict::TextOnly) => report.text_only += 1,
            Err(why) => report
                .failures
                .push(format!("{name}:{}:{}: {why}", line + 1, col + 1)),
        }
    }
    report
}

enum Verdict {
    Pass,
    TextOnly,
}

struct Runner<'a> {
    backend: &'a dyn Backend,
    config: &'a Config,
    mode: Mode,
    sandbox: Box<dyn Sandbox>,
    meters: BTreeMap<u32, Meter>,
    current: Option<InstanceId>,
    named: BTreeMap<String, InstanceId>,
    registered: BTreeMap<String, InstanceId>,
}

impl<'a> Runner<'a> {
    fn new(backend: &'a dyn Backend, config: &'a Config, mode: Mode) -> Self {
        Runner {
            backend,
            config,
            mode,
            sandbox: backend.sandbox(CallContext::default()),
            meters: BTreeMap::new(),
            current: None,
            named: BTreeMap::new(),
            registered: BTreeMap::new(),
        }
    }

    fn register_spectest(&mut self) -> Result<(), String> {
        let wasm = wat::parse_str(SPECTEST_WAT).map_err(|e| e.to_string())?;
        let instance = self.instantiate(&wasm).map_err(|f| f.to_string())?;
        self.registered.insert("spectest".into(), instance);
        Ok(())
    }

    /// Compiles and instantiates through Ward, linking registered instances.
    fn instantiate(&mut self, wasm: &[u8]) -> Result<InstanceId, Failure> {
        let module = ward_vm::compile(self.backend, self.config, wasm)?;
        let mut links = Vec::new();
        for import in module.imports() {
            if let Some(&instance) = self.registered.get(&import.module)
                && let Some(item) = self.sandbox.export(instance, &import.name)
            {
                links.push(Link {
                    module: import.module.clone(),
                    name: import.name.clone(),
                    item,
                });
            }
        }
        if let Ok(context) = self.sandbox.context() {
            context.set_gas_left(self.mode.gas());
        }
        let (instance, meter) = ward_vm::instantiate_metered(&mut *self.sandbox, &module, &links)?;
        if let Some(meter) = meter {
            self.meters.insert(instance.0, meter);
        }
        Ok(instance)
    }

    fn instance(&self, id: Option<wast::token::Id<'_>>) -> Result<InstanceId, String> {
        match id {
            Some(id) => self
                .named
                .get(id.name())
                .copied()
                .ok_or_else(|| format!("no module ${}", id.name())),
            None => self.current.ok_or_else(|| "no current module".to_string()),
        }
    }

    fn directive(&mut self, directive: WastDirective<'_>) -> Result<Verdict, String> {
        match directive {
            WastDirective::Module(mut module) => {
                let name = module.name().map(|id| id.name().to_string());
                let wasm = module.encode().map_err(|e| format!("cannot encode: {e}"))?;
                let instance = self
                    .instantiate(&wasm)
                    .map_err(|f| format!("module failed: {f}"))?;
                self.current = Some(instance);
                if let Some(name) = name {
                    self.named.insert(name, instance);
                }
                Ok(Verdict::Pass)
            }
            WastDirective::Register { name, module, .. } => {
                let instance = self.instance(module)?;
                self.registered.insert(name.to_string(), instance);
                Ok(Verdict::Pass)
            }
            WastDirective::Invoke(invoke) => match self.invoke(&invoke)? {
                Step::Returned(_) => Ok(Verdict::Pass),
                other => Err(format!("invoke `{}`: {other:?}", invoke.name)),
            },
            WastDirective::AssertReturn { exec, results, .. } => {
                let actual = match exec {
                    WastExecute::Invoke(invoke) => match self.invoke(&invoke)? {
                        Step::Returned(values) => values,
                        other => return Err(format!("invoke `{}`: {other:?}", invoke.name)),
                    },
                    WastExecute::Get { module, global, .. } => {
                        let instance = self.instance(module)?;
                        let item = self
                            .sandbox
                            .export(instance, global)
                            .ok_or("no such global")?;
                        vec![self.sandbox.global_get(item).map_err(|e| e.to_string())?]
                    }
                    WastExecute::Wat(_) => return Err("assert_return on a module".into()),
                };
                check_results(&actual, &results)?;
                Ok(Verdict::Pass)
            }
            WastDirective::AssertTrap { exec, message, .. } => {
                let expected = trap_kinds(message);
                let failure = match exec {
                    WastExecute::Invoke(invoke) => match self.invoke(&invoke)? {
                        Step::Failed(failure) => failure,
                        other => return Err(format!("expected trap `{message}`, got {other:?}")),
                    },
                    WastExecute::Wat(mut wat) => {
                        let wasm = wat.encode().map_err(|e| format!("cannot encode: {e}"))?;
                        match self.instantiate(&wasm) {
                            Err(f) if f.kind == ErrorKind::InstantiationTrap => {
                                return Ok(Verdict::Pass);
                            }
                            other => {
                                return Err(format!(
                                    "expected instantiation trap `{message}`, got {other:?}"
                                ));
                            }
                        }
                    }
                    WastExecute::Get { .. } => return Err("assert_trap on a global".into()),
                };
                if expected.contains(&failure.kind) {
                    Ok(Verdict::Pass)
                } else {
                    Err(format!(
                        "expected trap `{message}` ({expected:?}), got {failure}"
                    ))
                }
            }
            WastDirective::AssertExhaustion { call, message, .. } => match self.invoke(&call)? {
                Step::Failed(f) if f.kind == ErrorKind::StackOverflow => Ok(Verdict::Pass),
                other => Err(format!("expected exhaustion `{message}`, got {other:?}")),
            },
            // Rejected before any engine runs it. A few modules invalid or
            // malformed in Wasm 2.0 are valid under a later proposal Ward
            // refuses (two memories; a nonzero memory index is
            // multi-memory): Ward reports those as unsupported_feature.
            WastDirective::AssertInvalid {
                module, message, ..
            }
            | WastDirective::AssertMalformed {
                module, message, ..
            } => self.expect_rejected(
                module,
                message,
                &[ErrorKind::InvalidWasm, ErrorKind::UnsupportedFeature],
            ),
            WastDirective::AssertUnlinkable {
                mut module,
                message,
                ..
            } => {
                let wasm = module.encode().map_err(|e| format!("cannot encode: {e}"))?;
                match self.instantiate(&wasm) {
                    Err(f)
                        if matches!(
                            f.kind,
                            ErrorKind::UnknownImport | ErrorKind::ImportSignatureMismatch
                        ) =>
                    {
                        Ok(Verdict::Pass)
                    }
                    other => Err(format!("expected unlinkable `{message}`, got {other:?}")),
                }
            }
            other => Err(format!("unsupported directive {other:?}")),
        }
    }

    fn expect_rejected(
        &mut self,
        mut module: QuoteWat<'_>,
        message: &str,
        kinds: &[ErrorKind],
    ) -> Result<Verdict, String> {
        let is_text = matches!(module, QuoteWat::QuoteModule(..));
        let wasm = match module.encode() {
            Ok(wasm) => wasm,
            Err(_) if is_text => return Ok(Verdict::TextOnly),
            Err(e) => return Err(format!("cannot encode: {e}")),
        };
        match ward_vm::compile(self.backend, self.config, &wasm) {
            Err(f) if kinds.contains(&f.kind) => Ok(Verdict::Pass),
            Err(f) => Err(format!("expected rejection `{message}`, got {f}")),
            Ok(_) => Err(format!("expected rejection `{message}`, module compiled")),
        }
    }

    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Step, String> {
        let instance = self.instance(invoke.module)?;
        let func = self
            .sandbox
            .export(instance, invoke.name)
            .ok_or_else(|| format!("no export `{}`", invoke.name))?;
        let args = invoke
            .args
            .iter()
            .map(arg_value)
            .collect::<Result<Vec<_>, _>>()?;
        // Each invoke starts with a full budget and an empty stack.
        let meter = self.meters.get(&instance.0).copied();
        if let Some(meter) = meter {
            meter
                .arm(&mut *self.sandbox, self.mode.gas(), 0)
                .map_err(|e| e.to_string())?;
        }
        let step = self.sandbox.call(func, &args);
        Ok(match (step, meter) {
            (Step::Failed(failure), Some(meter)) => {
                Step::Failed(meter.classify(&mut *self.sandbox, failure))
            }
            (step, _) => step,
        })
    }
}

fn arg_value(arg: &WastArg<'_>) -> Result<Value, String> {
    #[allow(unreachable_patterns)]
    match arg {
        WastArg::Core(WastArgCore::I32(v)) => Ok(Value::I32(*v)),
        WastArg::Core(WastArgCore::I64(v)) => Ok(Value::I64(*v)),
        WastArg::Core(WastArgCore::F32(v)) => Ok(Value::F32(v.bits)),
        WastArg::Core(WastArgCore::F64(v)) => Ok(Value::F64(v.bits)),
        WastArg::Core(WastArgCore::RefNull(ty)) => Ok(match ty {
            wast::core::HeapType::Abstract {
                ty: wast::core::AbstractHeapType::Extern,
                ..
            } => Value::ExternRef(None),
            _ => Value::FuncRef { null: true },
        }),
        WastArg::Core(WastArgCore::RefExtern(n)) => Ok(Value::ExternRef(Some(*n))),
        other => Err(format!("argument {other:?} is outside Ward's feature set")),
    }
}

fn check_results(actual: &[Value], expected: &[WastRet<'_>]) -> Result<(), String> {
    if actual.len() != expected.len() {
        return Err(format!(
            "expected {} results, got {actual:?}",
            expected.len()
        ));
    }
    for (value, pattern) in actual.iter().zip(expected) {
        #[allow(unreachable_patterns)]
        let ok = match pattern {
            WastRet::Core(core) => matches_core(value, core),
            _ => false,
        };
        if !ok {
            return Err(format!("result {value:?} does not match {pattern:?}"));
        }
    }
    Ok(())
}

fn matches_core(value: &Value, pattern: &WastRetCore<'_>) -> bool {
    match (value, pattern) {
        (Value::I32(a), WastRetCore::I32(b)) => a == b,
        (Value::I64(a), WastRetCore::I64(b)) => a == b,
        (Value::F32(bits), WastRetCore::F32(p)) => match p {
            NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
            NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
            NanPattern::Value(v) => *bits == v.bits,
        },
        (Value::F64(bits), WastRetCore::F64(p)) => match p {
            NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
            NanPattern::ArithmeticNan => bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
            NanPattern::Value(v) => *bits == v.bits,
        },
        (Value::FuncRef { null }, WastRetCore::RefNull(_)) => *null,
        (Value::ExternRef(r), WastRetCore::RefNull(_)) => r.is_none(),
        (Value::FuncRef { null }, WastRetCore::RefFunc(_)) => !*null,
        (Value::ExternRef(r), WastRetCore::RefExtern(expected)) => match expected {
            Some(n) => *r == Some(*n),
            None => r.is_some(),
        },
        (_, WastRetCore::Either(options)) => options.iter().any(|p| matches_core(value, p)),
        _ => false,
    }
}

/// The trap kinds a spec message stands for.
fn trap_kinds(message: &str) -> Vec<ErrorKind> {
    let table: &[(&str, ErrorKind)] = &[
        ("integer divide by zero", ErrorKind::IntegerDivideByZero),
        ("integer overflow", ErrorKind::IntegerOverflow),
        (
            "invalid conversion to integer",
            ErrorKind::BadConversionToInteger,
        ),
        ("unreachable", ErrorKind::Unreachable),
        ("out of bounds memory access", ErrorKind::MemoryOutOfBounds),
        ("out of bounds table access", ErrorKind::TableOutOfBounds),
        ("undefined element", ErrorKind::TableOutOfBounds),
        ("uninitialized element", ErrorKind::IndirectCallToNull),
        (
            "indirect call type mismatch",
            ErrorKind::IndirectCallTypeMismatch,
        ),
        ("call stack exhausted", ErrorKind::StackOverflow),
    ];
    table
        .iter()
        .filter(|(m, _)| message.starts_with(m))
        .map(|(_, k)| *k)
        .collect()
}
