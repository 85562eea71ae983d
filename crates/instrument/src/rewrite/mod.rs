//! Pass two: emit the instrumented module.
//!
//! What is added, appended so that no existing index moves (except the
//! declared locals of each body, which move up past two new parameters):
//!
//! - **meters as parameters**: every defined function takes two more
//!   parameters, the gas left (engine-metered modules only) and its call
//!   depth, and returns the gas left as one more result. Between Ward's
//!   own frames the meters travel in registers, as arguments and results:
//!   a direct call costs a compare and a branch, no memory traffic;
//! - two globals, used only where the meters cross a boundary: the
//!   *meter* (i64), exported as `__ward_gas` when the module is
//!   engine-metered (gas left) or as `__ward_trap` when it is self-metered
//!   (0), and the *depth* (i32), exported as `__ward_stack`. A body
//!   flushes its gas local to the meter before a host call or a
//!   `call_indirect` and reloads it after (host functions and table thunks
//!   work on the global), and flushes its depth before either too: a host
//!   function that runs other code (another contract, a child) starts it
//!   above this frame. The embedder arms the meter and writes the depth
//!   (the stack base) before every entry;
//! - no out-of-line exit helpers: each body is wrapped in two blocks whose ends
//!   hold its out-of-gas and stack-overflow exits, which store the reason
//!   in the meter as a negative sentinel ([`crate::TRAP_OUT_OF_GAS`],
//!   [`crate::TRAP_STACK_OVERFLOW`]; gas is never negative otherwise) and
//!   execute `unreachable`. A check is one `br_if` that falls through when
//!   all is well, so the cold code sits after the body, out of the hot
//!   path;
//! - a thunk for every function whose reference escapes inside the module
//!   (tables, `ref.func`) or that the host calls (exports, start), with
//!   the function's own signature: it adds the callee's frame to the
//!   depth global (what the caller flushed, or the base the embedder
//!   wrote), checks it, and calls the function with the meter's gas,
//!   storing the gas it returns. So no stale depth can survive a call that
//!   trapped or `exit`ed mid-stack (the embedder writes the base again
//!   before the next entry), and every entry from the host or through a
//!   table is accounted;
//! - the start function, if any, is no longer a start section: its thunk is
//!   exported as `__ward_start`, and the embedder calls it right after
//!   instantiation, metered like any other code.
//! - for a recyclable module only, `__ward_reset`, after the thunks: an
//!   unmetered `[] -> []` function that sets every mutable global the
//!   module defines back to its constant initialiser;
//! - for a recyclable module with a memory, a third global, exported as
//!   `__ward_dirty`: the bitmap of memory granules written (see `dirty`).
//!
//! Functions are emitted in this order: the original bodies (their indices
//! unchanged), the thunks, then `__ward_reset`.
//!
//! Inside each function body:
//!
//! - **gas**: at the start of every metered segment (function entry, after
//!   `loop`, `if`, `else`, `end`, `br`, `br_table`, `return`, `unreachable`,
//!   and after a `br_if` whose fall-through costs more than
//!   [`BR_IF_SPLIT_COST`]) the segment's static cost is checked against
//!   the gas and subtracted, before any of it runs; a segment that only
//!   computes and ends at an `if` with an `else` is paid with each branch
//!   instead (`sink_into_branches`);
//! - **dynamic charges**: bulk operations charge their length and `grow`
//!   the pages or elements actually granted, computed in 64 bits from 32-bit
//!   operands (so they cannot wrap);
//! - **stack**: before each direct call of a defined function, this
//!   frame's depth plus the callee's frame cost is checked against the
//!   limit and passed to the callee;
//! - **written memory** (recyclable modules with a memory): before each
//!   store and bulk operation, the granules it writes are or-ed into the
//!   `__ward_dirty` bitmap, unmetered (see `dirty`);
//! - **NaNs**: where [`crate::nan`] finds that a NaN produced by arithmetic
//!   could be observed (stored, reinterpreted, signed, set in a global, or
//!   passed across a call or a return), a select replaces it with the
//!   canonical NaN.

mod body;
mod dirty;
mod emit;
mod emitter;
mod profile;
mod sections;
mod segments;
mod thunks;

use std::convert::Infallible;

use wasm_encoder::{
    CodeSection, Module, SectionId, ValType,
    reencode::{Error as ReencodeError, Reencode, RoundtripReencoder},
};

use crate::{
    CostSchedule, PolicyError,
    analyze::{Analysis, Ops},
    nan::ModuleTypes,
};

use self::body::{BodyCtx, instrument_body};
use self::sections::{ResultTypes, raw};

/// What to instrument.
pub(crate) struct Plan<'s> {
    pub schedule: &'s CostSchedule,
    /// Charge gas (engine-metered). Off for self-metered modules.
    pub gas: bool,
    pub canonicalize_nans: bool,
    pub max_stack_units: u32,
    /// Pay counted loops on entry (see [`crate::loops`]).
    pub prepay_loops: bool,
    /// Emit and export [`crate::RESET_EXPORT`] (when there are mutable
    /// globals to reset).
    pub reset: bool,
    /// Mark the memory granules stores and bulk operations write in
    /// [`crate::DIRTY_EXPORT`], granules of `1 << shift` bytes.
    pub dirty: Option<u32>,
    /// Call the profiling hooks ([`crate::PROFILE_MODULE`]).
    pub profile: bool,
}

/// Redirects escaping function references to their thunks, and moves every
/// defined function up past the profiling hooks' imports (when there are
/// any).
#[derive(Clone)]
struct Redirect {
    thunk_of: Vec<Option<u32>>,
    imported_funcs: u32,
    /// How many imports were added after the module's own: 0, or
    /// [`profile::HOOKS`].
    added_imports: u32,
}

impl Redirect {
    /// Function `f` of the instrumented module's own numbering (the
    /// original functions, then Ward's) as the emitted module numbers it.
    fn defined(&self, f: u32) -> u32 {
        if f >= self.imported_funcs {
            f + self.added_imports
        } else {
            f
        }
    }
}

impl Reencode for Redirect {
    type Error = Infallible;

    fn function_index(&mut self, func: u32) -> Result<u32, ReencodeError<Infallible>> {
        let target = self
            .thunk_of
            .get(func as usize)
            .copied()
            .flatten()
            .unwrap_or(func);
        Ok(self.defined(target))
    }
}

/// Stack units every frame costs besides its locals and operands: the return
/// address, saved frame pointer, spills of the instrumentation's own values
/// and alignment, rounded up so that even the thinnest frames stay well
/// inside both engines' native limits.
const FRAME_BASE_UNITS: u64 = 8;

/// Ward's globals, after the module's own.
#[derive(Clone, Copy)]
struct Globals {
    /// The meter: gas left (engine-metered), and the trap reason.
    gas: u32,
    depth: u32,
    /// The granules written ([`crate::DIRTY_EXPORT`]), when marked.
    dirty: Option<u32>,
}

/// Where Ward's functions and globals go: after the module's own, so that
/// no existing index moves.
struct Layout {
    /// Imported plus defined functions: the first index of a thunk.
    total_funcs: u32,
    /// The function each thunk calls, in index order: one for every
    /// function that escapes or that the host calls.
    thunks: Vec<u32>,
    /// Functions the host calls (exports, start) and escaping references
    /// (elements, globals, `ref.func`) to their thunks.
    redirect: Redirect,
    globals: Globals,
    /// `__ward_reset`'s index, after the thunks.
    reset_index: u32,
}

impl Layout {
    fn new(a: &Analysis<'_>, plan: &Plan<'_>) -> Layout {
        let total_funcs = a.imported_funcs + a.bodies.len() as u32;
        let mut thunks = Vec::new();
        let mut thunk_of = vec![None; total_funcs as usize];
        let marked = |set: &[bool], f: u32| set.get(f as usize).copied().unwrap_or(false);
        for f in a.imported_funcs..total_funcs {
            if marked(&a.escapes, f) || marked(&a.entries, f) {
                thunk_of[f as usize] = Some(total_funcs + thunks.len() as u32);
                thunks.push(f);
            }
        }
        Layout {
            total_funcs,
            reset_index: total_funcs + thunks.len() as u32,
            thunks,
            redirect: Redirect {
                thunk_of,
                imported_funcs: a.imported_funcs,
                added_imports: if plan.profile { profile::HOOKS } else { 0 },
            },
            globals: Globals {
                gas: a.globals,
                depth: a.globals + 1,
                dirty: plan.dirty.map(|_| a.globals + 2),
            },
        }
    }
}

/// What a call of defined function `f` adds to the call depth: its locals
/// and operand stack plus [`FRAME_BASE_UNITS`]. A frame larger than the
/// whole limit always overflows.
fn frame_cost(a: &Analysis<'_>, plan: &Plan<'_>, f: u32) -> u32 {
    let body = &a.bodies[(f - a.imported_funcs) as usize];
    let cost = FRAME_BASE_UNITS + body.locals_and_params + u64::from(body.max_height);
    cost.min(u64::from(plan.max_stack_units) + 1) as u32
}

/// The instrumented module, and how many loops it prepays. Sections come
/// in the order the binary format requires; those Ward does not change
/// are copied as they were. The bodies are instrumented on `threads`
/// threads (`None`: [`threads_for`]).
pub(crate) fn rewrite(
    a: &Analysis<'_>,
    plan: &Plan<'_>,
    threads: Option<usize>,
) -> Result<(Vec<u8>, u32), PolicyError> {
    let mut layout = Layout::new(a, plan);
    let (mut types, result_types, metered_types) = sections::types(a, plan)?;
    let hooks = plan
        .profile
        .then(|| profile::Hooks::add_types(&mut types, a.imported_funcs));
    let reset = if plan.reset {
        thunks::reset_body(a, &mut layout.redirect)?
    } else {
        None
    };
    let mut module = Module::new();
    module.section(&types);
    match &hooks {
        Some(hooks) => {
            module.section(&hooks.imports(a)?);
        }
        None => raw(&mut module, a, SectionId::Import),
    }
    module.section(&sections::functions(
        a,
        &layout,
        &metered_types,
        reset.is_some(),
    ));
    raw(&mut module, a, SectionId::Table);
    raw(&mut module, a, SectionId::Memory);
    module.section(&sections::globals(a, &mut layout.redirect, plan)?);
    module.section(&sections::exports(a, plan, &mut layout, reset.is_some())?);
    if let Some(elements) = sections::elements(a, &mut layout)? {
        module.section(&elements);
    }
    raw(&mut module, a, SectionId::DataCount);
    let threads = threads.unwrap_or_else(|| threads_for(a));
    let (mut code, prepaid_loops) =
        bodies(a, plan, &mut layout, &result_types, hooks.as_ref(), threads)?;
    for &f in &layout.thunks {
        let callee = layout.redirect.defined(f);
        code.function(&thunks::thunk(a, plan, layout.globals, f, callee));
    }
    if let Some(reset) = &reset {
        code.function(reset);
    }
    module.section(&code);
    raw(&mut module, a, SectionId::Data);
    // A profiled module's name and debug sections would name functions by
    // indices that moved: the profiler reads the original module's.
    if hooks.is_none() {
        sections::custom(&mut module, a);
    }
    Ok((module.finish(), prepaid_loops))
}

/// How many threads instrument `a`'s bodies: see
/// [`crate::runs::threads_for_code`].
fn threads_for(a: &Analysis<'_>) -> usize {
    crate::runs::threads_for_code(a.bodies.iter().map(|body| body.code.len()).sum())
}

/// The code section's instrumented bodies (the thunks and `__ward_reset`
/// follow them), and how many loops they prepay.
///
/// On `threads` threads, a module's bodies are split into consecutive
/// runs, one per thread; the runs are written in order, and the error
/// returned is the first body's in index order, as on one thread: the
/// output never depends on the thread count (`tests.rs` checks it).
fn bodies(
    a: &Analysis<'_>,
    plan: &Plan<'_>,
    layout: &mut Layout,
    result_types: &ResultTypes,
    hooks: Option<&profile::Hooks>,
    threads: usize,
) -> Result<(CodeSection, u32), PolicyError> {
    let frame_cost = |f: u32| frame_cost(a, plan, f);
    let ctx = BodyCtx {
        plan,
        globals: layout.globals,
        imported_funcs: a.imported_funcs,
        frame_cost: &frame_cost,
        hooks,
        module: ModuleTypes {
            types: &a.types,
            func_types: &a.func_types,
            global_types: &a.global_types,
        },
    };
    let mut code = CodeSection::new();
    // Each later run with its own copy of the index map as it is now; the
    // first here, straight into the section.
    let redirect = layout.redirect.clone();
    let (first, rest) = crate::runs::in_runs(
        a.bodies.len(),
        threads,
        "ward-instrument",
        |range| {
            instrument_run(a, range, &ctx, result_types, &mut layout.redirect, |f| {
                code.function(&f);
            })
        },
        |range| {
            let (mut functions, mut redirect) = (Vec::new(), redirect.clone());
            let prepaid = instrument_run(a, range, &ctx, result_types, &mut redirect, |f| {
                functions.push(f);
            })?;
            Ok::<_, PolicyError>((functions, prepaid))
        },
    );
    let mut prepaid_loops = first?;
    for run in rest {
        let (functions, prepaid) = run?;
        for function in &functions {
            code.function(function);
        }
        prepaid_loops += prepaid;
    }
    Ok((code, prepaid_loops))
}

/// Instruments bodies `range`, in order, handing each to `out`: how many
/// loops they prepay.
fn instrument_run(
    a: &Analysis<'_>,
    range: std::ops::Range<usize>,
    ctx: &BodyCtx<'_, '_>,
    result_types: &ResultTypes,
    redirect: &mut Redirect,
    mut out: impl FnMut(wasm_encoder::Function),
) -> Result<u32, PolicyError> {
    let mut prepaid_loops = 0;
    // One body's operators at a time, in buffers reused for the next: the
    // whole module's would be tens of megabytes written, read and freed.
    let mut ops = Ops::default();
    for index in range {
        let body = &a.bodies[index];
        ops.decode(body, a.features)?;
        let ty = &a.types[a.func_types[a.imported_funcs as usize + index] as usize];
        let block = result_types.block_type(ty.results())?;
        let f = a.imported_funcs + index as u32;
        let (function, prepaid) = instrument_body((f, body), &ops, ty, block, ctx, redirect)?;
        out(function);
        prepaid_loops += prepaid;
    }
    Ok(prepaid_loops)
}

fn val_type(ty: wasmparser::ValType) -> Result<ValType, PolicyError> {
    RoundtripReencoder
        .val_type(ty)
        .map_err(|e| PolicyError::Invalid {
            offset: 0,
            message: e.to_string(),
        })
}

/// A re-encoding error, which Ward's reencoder never raises: as
/// `invalid_wasm`.
fn reencode_error(e: ReencodeError<Infallible>) -> PolicyError {
    PolicyError::Invalid {
        offset: 0,
        message: e.to_string(),
    }
}
