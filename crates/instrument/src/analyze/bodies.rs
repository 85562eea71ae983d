//! Pass one's function bodies: each validated by a function validator of
//! its own and measured against the limits. A large code section's bodies
//! are checked on several threads, in consecutive runs, once the rest of
//! the module has been read (or has failed to be); the analyzer then takes
//! the results in index order, and an error of the module after them
//! last, so the error it reports is the one a single pass stops at.

use wasmparser::{
    FuncToValidate, FuncValidatorAllocations, FunctionBody, Operator, ValType, ValidatorResources,
};

use super::{Measures, checks::classify_error, checks::float_refused, checks::is_float};
use crate::{
    FloatPolicy, Limits, PolicyError,
    ops::{self, FloatUse, touches_floats},
};

/// A body the validator handed out, not yet checked.
pub(super) type Pending<'a> = (FuncToValidate<ValidatorResources>, FunctionBody<'a>);

/// What checking a body needs besides the body: the same on every thread.
#[derive(Clone, Copy)]
pub(super) struct Rules<'w, 'p> {
    pub wasm: &'w [u8],
    pub limits: &'p Limits,
    pub floats: FloatPolicy,
}

/// Checks one body: its size, then each operator. Its function index and
/// what was parsed; `allocs` are the validator's buffers, reused.
pub(super) fn check<'a>(
    rules: Rules<'_, '_>,
    (func, body): Pending<'a>,
    allocs: &mut FuncValidatorAllocations,
    m: &mut Measures,
) -> Result<(u32, ParsedBody<'a>), PolicyError> {
    let limits = rules.limits;
    m.check(
        "max_body_bytes",
        u64::from(limits.max_body_bytes),
        body.range().len() as u64,
    )?;
    let mut fv = func.into_validator(std::mem::take(allocs));
    let parsed = read_body(&mut fv, &body, limits, rules.floats, m).map_err(|e| match e {
        BodyError::Wasm(err) => classify_error(rules.wasm, err),
        BodyError::Policy(p) => p,
    });
    let index = fv.index();
    *allocs = fv.into_allocations();
    Ok((index, parsed?))
}

/// The bodies of one run, checked in order up to the first that fails.
pub(super) struct Run<'a> {
    pub checked: Vec<(u32, ParsedBody<'a>)>,
    /// Why the run stopped early.
    pub failed: Option<PolicyError>,
    /// What its bodies measured.
    pub measures: Measures,
}

/// Checks `pending` on up to `threads` threads, in consecutive runs
/// ([`crate::runs::in_runs`]): the runs, in order.
pub(super) fn check_all<'a>(
    rules: Rules<'_, '_>,
    pending: &[Pending<'a>],
    threads: usize,
) -> Vec<Run<'a>> {
    let run = |range| check_run(rules, &pending[range]);
    let (first, rest) = crate::runs::in_runs(pending.len(), threads, "ward-validate", run, run);
    let mut runs = vec![first];
    runs.extend(rest);
    runs
}

/// Checks `run` in order, stopping at the first body that fails.
fn check_run<'a>(rules: Rules<'_, '_>, run: &[Pending<'a>]) -> Run<'a> {
    let mut allocs = FuncValidatorAllocations::default();
    let mut out = Run {
        checked: Vec::with_capacity(run.len()),
        failed: None,
        measures: Measures::default(),
    };
    for (func, body) in run {
        // The validator takes its function by value: a copy of the
        // handle (the module's resources are shared).
        let func = FuncToValidate {
            resources: func.resources.clone(),
            index: func.index,
            ty: func.ty,
            features: func.features,
        };
        match check(rules, (func, body.clone()), &mut allocs, &mut out.measures) {
            Ok(checked) => out.checked.push(checked),
            Err(error) => {
                out.failed = Some(error);
                break;
            }
        }
    }
    out
}

pub(super) struct ParsedBody<'a> {
    pub locals: Vec<(u32, ValType)>,
    pub declared_locals: u64,
    pub code: &'a [u8],
    pub code_offset: usize,
    pub floats: bool,
    pub max_height: u32,
    /// Functions the body takes a `ref.func` of.
    pub refs: Vec<u32>,
    /// Whether an op changes a table or drops a segment.
    pub writes_tables: bool,
}

enum BodyError {
    Wasm(wasmparser::BinaryReaderError),
    Policy(PolicyError),
}

impl From<wasmparser::BinaryReaderError> for BodyError {
    fn from(err: wasmparser::BinaryReaderError) -> Self {
        BodyError::Wasm(err)
    }
}

impl From<PolicyError> for BodyError {
    fn from(err: PolicyError) -> Self {
        BodyError::Policy(err)
    }
}

/// Validates `body` operator by operator with `fv`, measuring it against
/// the limits as it goes.
fn read_body<'a>(
    fv: &mut wasmparser::FuncValidator<wasmparser::ValidatorResources>,
    body: &FunctionBody<'a>,
    limits: &Limits,
    floats: FloatPolicy,
    m: &mut Measures,
) -> Result<ParsedBody<'a>, BodyError> {
    let mut locals = Vec::new();
    let mut declared_locals: u64 = 0;
    let mut reader = body.get_locals_reader()?;
    let runs = reader.get_count();
    for _ in 0..runs {
        let offset = reader.original_position();
        let (count, ty) = reader.read()?;
        declared_locals += u64::from(count);
        // Checked before the validator records (and allocates for) them.
        m.check("max_locals", u64::from(limits.max_locals), declared_locals)?;
        if floats == FloatPolicy::Reject && is_float(&ty) {
            return Err(float_refused("a local").into());
        }
        fv.define_locals(offset, count, ty)?;
        locals.push((count, ty));
    }
    // Decode with exactly the policy's features, as the validator does (a
    // multi-byte memory index is malformed without multi-memory).
    let mut binary = reader.get_binary_reader();
    binary.set_features(*fv.features());
    let code_start = binary.original_position();
    let code = &body.as_bytes()[code_start - body.range().start..];
    let mut ops_reader = wasmparser::OperatorsReader::new(binary);
    let mut floats_touched = false;
    let (mut max_height, mut max_nesting) = (0, 0);
    let mut refs = Vec::new();
    let mut writes_tables = false;
    let max_nesting_depth = limits.max_nesting_depth;
    while !ops_reader.eof() {
        let offset = ops_reader.original_position();
        let op = ops_reader.read()?;
        fv.op(offset, &op)?;
        max_height = max_height.max(fv.operand_stack_height());
        // Kept here and recorded once per body: a map update per op was a
        // tenth of the pass.
        let nesting = fv.control_stack_height();
        if nesting > max_nesting {
            max_nesting = nesting;
            if nesting > max_nesting_depth {
                m.check(
                    "max_nesting_depth",
                    u64::from(max_nesting_depth),
                    u64::from(nesting),
                )?;
            }
        }
        if let Operator::BrTable { targets } = &op {
            m.check(
                "max_br_table_targets",
                u64::from(limits.max_br_table_targets),
                u64::from(targets.len()),
            )?;
        }
        let class = ops::class(&op);
        let touches = touches_floats(&op, class);
        floats_touched |= touches;
        match floats {
            FloatPolicy::Reject if touches => {
                return Err(float_refused("an instruction").into());
            }
            FloatPolicy::Canonicalize if class.float == FloatUse::LaneNan => {
                return Err(PolicyError::UnsupportedFeature {
                    message: "SIMD float arithmetic can make NaNs that are not canonicalised"
                        .to_owned(),
                }
                .into());
            }
            FloatPolicy::Reject | FloatPolicy::Canonicalize => {}
        }
        writes_tables |= class.writes_tables;
        if let Operator::RefFunc { function_index } = op {
            refs.push(function_index);
        }
    }
    ops_reader.finish()?;
    m.check(
        "max_nesting_depth",
        u64::from(max_nesting_depth),
        u64::from(max_nesting),
    )?;
    Ok(ParsedBody {
        locals,
        declared_locals,
        code,
        code_offset: code_start,
        floats: floats_touched,
        max_height,
        refs,
        writes_tables,
    })
}
