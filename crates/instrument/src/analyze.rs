//! Pass one: validate the module, enforce the structural limits, and collect
//! what the rewrite needs (types, function bodies with their operators and
//! peak operand-stack heights, and every place a function escapes).

use wasm_encoder::SectionId;
use wasmparser::{
    ConstExpr, ElementItems, ExternalKind, FuncType, FunctionBody, Operator, Parser, Payload,
    TypeRef, ValType, Validator, WasmFeatures,
};

mod bodies;
mod checks;

use bodies::{ParsedBody, Pending, Rules};

use checks::{
    check_counts, check_import, check_pages, check_table, classify_error, external_kind,
    float_refused, is_float, type_ref_kind,
};

use crate::{
    Features, FloatPolicy, ImportPolicy, Limits, PolicyError, RESERVED_PREFIX, ensure_within,
    invalid, ops,
};

/// One defined function, as the rewrite needs it.
pub(crate) struct Body<'a> {
    /// Declared locals (not parameters), as (count, type) runs.
    pub locals: Vec<(u32, ValType)>,
    /// The operators' encoding, at `code_offset` in the module. Pass one
    /// validates them without keeping them: the rewrite decodes one body
    /// at a time ([`Ops::decode`]).
    pub code: &'a [u8],
    pub code_offset: usize,
    /// Whether any op touches a float.
    pub floats: bool,
    /// Peak operand-stack height.
    pub max_height: u32,
    /// Number of parameters plus declared locals.
    pub locals_and_params: u64,
}

/// One body's operators, decoded for the rewrite; its buffers are reused
/// from body to body.
#[derive(Default)]
pub(crate) struct Ops<'a> {
    /// The operators, ending with the function's `end`.
    pub ops: Vec<Operator<'a>>,
    /// Where each one starts in `code` (one more entry: the end).
    starts: Vec<u32>,
    /// Each one's class (looked up once: the rewrite asks several times).
    pub classes: Vec<ops::Class>,
    code: &'a [u8],
    /// Where `code` starts in the module.
    code_offset: usize,
}

impl<'a> Ops<'a> {
    /// Decodes the operators of `body`, which pass one validated.
    pub(crate) fn decode(
        &mut self,
        body: &Body<'a>,
        features: WasmFeatures,
    ) -> Result<(), PolicyError> {
        self.ops.clear();
        self.starts.clear();
        self.classes.clear();
        self.code = body.code;
        self.code_offset = body.code_offset;
        let mut binary = wasmparser::BinaryReader::new(body.code, body.code_offset);
        binary.set_features(features);
        let mut reader = wasmparser::OperatorsReader::new(binary);
        while !reader.eof() {
            let start = reader.original_position() - body.code_offset;
            let op = reader.read().map_err(invalid)?;
            self.starts.push(start as u32);
            self.classes.push(ops::class(&op));
            self.ops.push(op);
        }
        self.starts
            .push((reader.original_position() - body.code_offset) as u32);
        Ok(())
    }

    /// Where op `i` starts in the module.
    pub(crate) fn offset(&self, i: usize) -> usize {
        self.code_offset + self.starts[i] as usize
    }

    /// The original encoding of ops `from..to`.
    pub(crate) fn encoding(&self, from: usize, to: usize) -> &'a [u8] {
        let (start, end) = (self.starts[from] as usize, self.starts[to] as usize);
        &self.code[start..end]
    }
}

/// What pass one learned.
#[derive(Default)]
pub(crate) struct Analysis<'a> {
    pub types: Vec<FuncType>,
    /// Type index of every function, imports first.
    pub func_types: Vec<u32>,
    pub imported_funcs: u32,
    pub globals: u32,
    /// Value type of every global, imports first.
    pub global_types: Vec<ValType>,
    pub bodies: Vec<Body<'a>>,
    /// The features bodies were validated (and are decoded) with.
    pub features: WasmFeatures,
    pub start: Option<u32>,
    /// Functions whose reference escapes inside the module (tables,
    /// `ref.func`): they get an accounting thunk.
    pub escapes: Vec<bool>,
    /// Functions the host calls (exports, the start function): they get an
    /// entry thunk, which starts a fresh stack count.
    pub entries: Vec<bool>,
    /// Functions a body takes a `ref.func` of without an element segment or
    /// a global naming them: only their export declared them, and once the
    /// export names the entry thunk, the rewrite must declare the thunk the
    /// `ref.func` now names.
    pub undeclared_refs: Vec<bool>,
    /// Functions an element segment or a global initializer references.
    segment_refs: Vec<bool>,
    /// Raw sections kept for the rewrite, by section id, in module order.
    pub sections: Vec<Section<'a>>,
    /// What the module has, per limit.
    pub measures: Measures,
    /// Imports: (module, name, kind).
    pub imports: Vec<(String, String, &'static str)>,
    /// Exports: (name, kind).
    pub exports: Vec<(String, &'static str)>,
    /// Whether some body changes a table (`table.set`, `.fill`, `.copy`,
    /// `.init`, `.grow`) or drops a segment (`data.drop`, `elem.drop`):
    /// state that only a new instance can restore.
    pub changes_tables_or_segments: bool,
    /// Memories the module defines.
    pub memories: u32,
    /// Whether a memory is exported as [`ward_abi::MEMORY_EXPORT`].
    pub memory_exported: bool,
    /// What making an instance of the module involves.
    pub shape: crate::InstanceShape,
}

/// The largest value found for each limit (for `ward inspect`).
#[derive(Default)]
pub(crate) struct Measures {
    pub found: std::collections::BTreeMap<&'static str, u64>,
}

impl Measures {
    /// Records `found` against `limit` and refuses it when above `value`.
    fn check(&mut self, limit: &'static str, value: u64, found: u64) -> Result<(), PolicyError> {
        let entry = self.found.entry(limit).or_insert(0);
        *entry = (*entry).max(found);
        ensure_within(limit, value, found)
    }

    /// Takes in what another pass over other bodies found.
    fn merge(&mut self, other: Measures) {
        for (limit, found) in other.found {
            let entry = self.found.entry(limit).or_insert(0);
            *entry = (*entry).max(found);
        }
    }
}

/// A section of the input, kept for the rewrite.
pub(crate) enum Section<'a> {
    Type(wasmparser::TypeSectionReader<'a>),
    Global(wasmparser::GlobalSectionReader<'a>),
    Export(wasmparser::ExportSectionReader<'a>),
    Element(wasmparser::ElementSectionReader<'a>),
    /// Copied as it is: (id, bytes).
    Raw(u8, &'a [u8]),
    Custom(&'a [u8], &'a str),
}

/// Validates and analyses `wasm`. `collect` is false for raw (uninstrumented)
/// preparation, which needs no bodies.
pub(crate) fn analyze<'a>(
    wasm: &'a [u8],
    features: Features,
    limits: &Limits,
    floats: FloatPolicy,
    imports: &ImportPolicy,
    collect: bool,
    threads: Option<usize>,
) -> Result<Analysis<'a>, PolicyError> {
    let mut an = Analyzer {
        wasm,
        limits,
        floats,
        imports,
        collect,
        a: Analysis::default(),
        m: Measures::default(),
        total_locals: 0,
        body_refs: Vec::new(),
        data_bytes: 0,
        allocs: wasmparser::FuncValidatorAllocations::default(),
        threads,
        code_threads: 1,
        pending: Vec::new(),
    };
    an.m.check(
        "max_module_bytes",
        limits.max_module_bytes,
        wasm.len() as u64,
    )?;
    an.a.features = features.wasm_features();
    let mut validator = Validator::new_with_features(features.wasm_features());
    for payload in Parser::new(0).parse_all(wasm) {
        let step = payload.map_err(|e| an.classify(e)).and_then(|payload| {
            // Counts are checked against the limits before the validator
            // (or anything else) allocates for them.
            check_counts(&payload, limits, &mut an.m)?;
            let valid = validator.payload(&payload).map_err(|e| an.classify(e))?;
            an.payload(&payload, valid)
        });
        if let Err(error) = step {
            // Bodies read before it, not yet checked, come first: one of
            // them is where a single pass would have stopped.
            an.check_pending()?;
            return Err(error);
        }
    }
    an.check_pending()?;
    Ok(an.finish())
}

/// Pass one in progress: what the module has shown so far.
struct Analyzer<'a, 'p> {
    wasm: &'a [u8],
    limits: &'p Limits,
    floats: FloatPolicy,
    imports: &'p ImportPolicy,
    /// Whether to keep the bodies (for the rewrite).
    collect: bool,
    a: Analysis<'a>,
    m: Measures,
    total_locals: u64,
    /// Functions a body takes a `ref.func` of.
    body_refs: Vec<bool>,
    data_bytes: u64,
    /// The function validator's allocations, reused from body to body.
    allocs: wasmparser::FuncValidatorAllocations,
    /// Threads that check bodies: as asked, else by the code's size.
    threads: Option<usize>,
    /// Threads that check this module's bodies (more than one: the bodies
    /// wait in `pending` until the module has been read, or has failed).
    code_threads: usize,
    pending: Vec<Pending<'a>>,
}

impl<'a, 'p> Analyzer<'a, 'p> {
    fn classify(&self, err: wasmparser::BinaryReaderError) -> PolicyError {
        classify_error(self.wasm, err)
    }

    /// Keeps a section to copy as it is.
    fn keep_raw(&mut self, id: SectionId, range: std::ops::Range<usize>) {
        self.a
            .sections
            .push(Section::Raw(id as u8, &self.wasm[range]));
    }

    /// Takes in one validated payload.
    fn payload(
        &mut self,
        payload: &Payload<'a>,
        valid: wasmparser::ValidPayload<'a>,
    ) -> Result<(), PolicyError> {
        match payload {
            Payload::TypeSection(reader) => self.types(reader)?,
            Payload::ImportSection(reader) => self.imports(reader)?,
            Payload::FunctionSection(reader) => {
                for ty in reader.clone() {
                    let ty = ty.map_err(|e| self.classify(e))?;
                    self.a.func_types.push(ty);
                }
                self.keep_raw(SectionId::Function, reader.range());
            }
            Payload::TableSection(reader) => {
                for table in reader.clone() {
                    let table = table.map_err(|e| self.classify(e))?;
                    check_table(&mut self.m, self.limits, table.ty.initial)?;
                    self.a.shape.table_elements += table.ty.initial;
                }
                self.keep_raw(SectionId::Table, reader.range());
            }
            Payload::MemorySection(reader) => {
                for memory in reader.clone() {
                    let memory = memory.map_err(|e| self.classify(e))?;
                    check_pages(&mut self.m, self.limits, memory.initial)?;
                    self.a.memories += 1;
                    self.a.shape.pages += memory.initial;
                }
                self.keep_raw(SectionId::Memory, reader.range());
            }
            Payload::GlobalSection(reader) => self.globals(reader)?,
            Payload::ExportSection(reader) => self.exports(reader)?,
            Payload::StartSection { func, .. } => {
                self.a.start = Some(*func);
                mark(&mut self.a.entries, *func);
            }
            Payload::ElementSection(reader) => self.elements(reader)?,
            Payload::DataCountSection { range, .. } => {
                self.keep_raw(SectionId::DataCount, range.clone());
            }
            Payload::DataSection(reader) => {
                for data in reader.clone() {
                    let data = data.map_err(|e| self.classify(e))?;
                    self.data_bytes += data.data.len() as u64;
                }
                self.m.check(
                    "max_data_bytes",
                    self.limits.max_data_bytes,
                    self.data_bytes,
                )?;
                self.keep_raw(SectionId::Data, reader.range());
            }
            Payload::CodeSectionStart { size, .. } => {
                self.code_threads = self
                    .threads
                    .unwrap_or_else(|| crate::runs::threads_for_code(*size as usize))
                    .max(1);
            }
            Payload::CodeSectionEntry(body) => self.body(body, valid)?,
            Payload::CustomSection(reader) => {
                self.a
                    .sections
                    .push(Section::Custom(reader.data(), reader.name()));
            }
            _ => {}
        }
        Ok(())
    }

    /// Function types, bounded so that the meters still fit in engines'
    /// limits after the rewrite adds them.
    fn types(&mut self, reader: &wasmparser::TypeSectionReader<'a>) -> Result<(), PolicyError> {
        let limits = self.limits;
        for ty in reader.clone().into_iter_err_on_gc_types() {
            let ty = ty.map_err(|e| self.classify(e))?;
            // The rewrite adds two parameters and one result (the meters)
            // to defined functions: engines' own bounds must still hold
            // afterwards, whatever the policy says.
            self.m.check(
                "max_params",
                u64::from(limits.max_params).min(ENGINE_MAX_PARAMS - 2),
                ty.params().len() as u64,
            )?;
            self.m.check(
                "max_results",
                u64::from(limits.max_results).min(ENGINE_MAX_RESULTS - 1),
                ty.results().len() as u64,
            )?;
            if self.floats == FloatPolicy::Reject
                && ty.params().iter().chain(ty.results()).any(is_float)
            {
                return Err(float_refused("a function signature"));
            }
            self.a.types.push(ty);
        }
        self.a.sections.push(Section::Type(reader.clone()));
        Ok(())
    }

    /// Imports, each checked against the import policy.
    fn imports(&mut self, reader: &wasmparser::ImportSectionReader<'a>) -> Result<(), PolicyError> {
        for import in reader.clone().into_imports() {
            let import = import.map_err(|e| self.classify(e))?;
            self.a.imports.push((
                import.module.to_string(),
                import.name.to_string(),
                type_ref_kind(&import.ty),
            ));
            check_import(self.imports, &import, &self.a.types)?;
            match import.ty {
                TypeRef::Func(ty) | TypeRef::FuncExact(ty) => {
                    self.a.func_types.push(ty);
                    self.a.imported_funcs += 1;
                }
                TypeRef::Global(global) => {
                    self.a.globals += 1;
                    self.a.global_types.push(global.content_type);
                }
                TypeRef::Memory(memory) => check_pages(&mut self.m, self.limits, memory.initial)?,
                TypeRef::Table(t) => check_table(&mut self.m, self.limits, t.initial)?,
                TypeRef::Tag(_) => {}
            }
        }
        self.keep_raw(SectionId::Import, reader.range());
        Ok(())
    }

    /// Globals: their types, and the functions their initializers name.
    fn globals(&mut self, reader: &wasmparser::GlobalSectionReader<'a>) -> Result<(), PolicyError> {
        for global in reader.clone() {
            let global = global.map_err(|e| self.classify(e))?;
            if self.floats == FloatPolicy::Reject && is_float(&global.ty.content_type) {
                return Err(float_refused("a global"));
            }
            self.a.globals += 1;
            self.a.shape.globals += 1;
            self.a.global_types.push(global.ty.content_type);
            self.a.escapes_in_const(&global.init_expr)?;
        }
        self.a.sections.push(Section::Global(reader.clone()));
        Ok(())
    }

    /// Exports: none in Ward's reserved namespace; exported functions are
    /// entries, and an exported `memory` is the ABI's.
    fn exports(&mut self, reader: &wasmparser::ExportSectionReader<'a>) -> Result<(), PolicyError> {
        for export in reader.clone() {
            let export = export.map_err(|e| self.classify(e))?;
            self.a
                .exports
                .push((export.name.to_string(), external_kind(export.kind)));
            if export.name.starts_with(RESERVED_PREFIX) {
                return Err(PolicyError::ReservedName {
                    name: export.name.to_string(),
                });
            }
            if export.kind == ExternalKind::Func {
                mark(&mut self.a.entries, export.index);
            }
            if export.kind == ExternalKind::Memory && export.name == ward_abi::MEMORY_EXPORT {
                self.a.memory_exported = true;
            }
        }
        self.a.sections.push(Section::Export(reader.clone()));
        Ok(())
    }

    /// Element segments: every function they name escapes.
    fn elements(
        &mut self,
        reader: &wasmparser::ElementSectionReader<'a>,
    ) -> Result<(), PolicyError> {
        for element in reader.clone() {
            let items = element.map_err(|e| self.classify(e))?.items;
            self.a.shape.element_items += u64::from(match &items {
                ElementItems::Functions(funcs) => funcs.count(),
                ElementItems::Expressions(_, exprs) => exprs.count(),
            });
            match items {
                ElementItems::Functions(funcs) => {
                    for f in funcs {
                        let f = f.map_err(|e| self.classify(e))?;
                        self.a.escape(f);
                        mark(&mut self.a.segment_refs, f);
                    }
                }
                ElementItems::Expressions(_, exprs) => {
                    for expr in exprs {
                        let expr = expr.map_err(|e| self.classify(e))?;
                        self.a.escapes_in_const(&expr)?;
                    }
                }
            }
        }
        self.a.sections.push(Section::Element(reader.clone()));
        Ok(())
    }

    /// One function body: validated, measured against the limits, and kept
    /// when collecting; with several threads, checked once the whole module
    /// has been read.
    fn body(
        &mut self,
        body: &FunctionBody<'a>,
        valid: wasmparser::ValidPayload<'a>,
    ) -> Result<(), PolicyError> {
        let wasmparser::ValidPayload::Func(func, _) = valid else {
            self.m.check(
                "max_body_bytes",
                u64::from(self.limits.max_body_bytes),
                body.range().len() as u64,
            )?;
            return Err(PolicyError::Invalid {
                offset: body.range().start,
                message: "function body out of place".into(),
            });
        };
        if self.code_threads > 1 {
            self.pending.push((func, body.clone()));
            return Ok(());
        }
        let checked = bodies::check(
            self.rules(),
            (func, body.clone()),
            &mut self.allocs,
            &mut self.m,
        )?;
        self.accept(checked)
    }

    /// What checking a body needs, borrowed from the module and the policy
    /// rather than from the analyzer.
    fn rules(&self) -> Rules<'a, 'p> {
        Rules {
            wasm: self.wasm,
            limits: self.limits,
            floats: self.floats,
        }
    }

    /// Checks the bodies waiting, on [`Analyzer::code_threads`] threads,
    /// and takes them in index order: the first error in that order.
    fn check_pending(&mut self) -> Result<(), PolicyError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        for run in bodies::check_all(self.rules(), &pending, self.code_threads) {
            self.m.merge(run.measures);
            for checked in run.checked {
                self.accept(checked)?;
            }
            if let Some(error) = run.failed {
                return Err(error);
            }
        }
        Ok(())
    }

    /// What only the module's order can check about a valid body (its
    /// locals against the module's total), and what the rewrite keeps.
    fn accept(&mut self, (index, parsed): (u32, ParsedBody<'a>)) -> Result<(), PolicyError> {
        let limits = self.limits;
        let type_index = self.a.func_types.get(index as usize).copied().unwrap_or(0);
        let params = self
            .a
            .types
            .get(type_index as usize)
            .map_or(0, |t| t.params().len() as u64);
        let locals_and_params = params + parsed.declared_locals;
        self.m.check(
            "max_locals",
            u64::from(limits.max_locals),
            locals_and_params,
        )?;
        self.total_locals += locals_and_params;
        self.m.check(
            "max_total_locals",
            limits.max_total_locals,
            self.total_locals,
        )?;
        for &function_index in &parsed.refs {
            self.a.escape(function_index);
            mark(&mut self.body_refs, function_index);
        }
        self.a.changes_tables_or_segments |= parsed.writes_tables;
        if self.collect {
            self.a.bodies.push(Body {
                locals: parsed.locals,
                code: parsed.code,
                code_offset: parsed.code_offset,
                floats: parsed.floats,
                max_height: parsed.max_height,
                locals_and_params,
            });
        }
        Ok(())
    }

    /// The analysis, with the functions only a body's `ref.func` declares.
    fn finish(self) -> Analysis<'a> {
        let mut a = self.a;
        a.measures = self.m;
        a.shape.functions = (a.func_types.len() as u64).saturating_sub(u64::from(a.imported_funcs));
        a.undeclared_refs = self
            .body_refs
            .iter()
            .enumerate()
            .map(|(f, &r)| r && !a.segment_refs.get(f).copied().unwrap_or(false))
            .collect();
        a
    }
}

/// The most parameters and results a function type may have in any engine
/// (wasmparser's bounds, shared by both backends).
const ENGINE_MAX_PARAMS: u64 = 1000;
const ENGINE_MAX_RESULTS: u64 = 1000;

/// Sets `set[func]`, growing the set as needed.
fn mark(set: &mut Vec<bool>, func: u32) {
    let i = func as usize;
    if set.len() <= i {
        set.resize(i + 1, false);
    }
    set[i] = true;
}

impl Analysis<'_> {
    fn escape(&mut self, func: u32) {
        mark(&mut self.escapes, func);
    }

    /// Notes the functions a constant expression (global or element
    /// initializer) references: escaping, and declared by the expression.
    fn escapes_in_const(&mut self, expr: &ConstExpr<'_>) -> Result<(), PolicyError> {
        for op in expr.get_operators_reader() {
            if let Operator::RefFunc { function_index } = op.map_err(|e| PolicyError::Invalid {
                offset: e.offset(),
                message: e.message().to_string(),
            })? {
                self.escape(function_index);
                mark(&mut self.segment_refs, function_index);
            }
        }
        Ok(())
    }
}
