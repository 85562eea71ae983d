//! The module's sections, re-encoded with Ward's additions: types for the
//! metered signatures, the thunks' and `__ward_reset`'s declarations,
//! Ward's globals and exports, redirected function references.

use std::borrow::Cow;

use wasm_encoder::{
    BlockType, ConstExpr, CustomSection, ElementSection, Elements, ExportKind, ExportSection,
    FunctionSection, GlobalSection, GlobalType, Module, RawSection, SectionId, TypeSection,
    ValType,
    reencode::{Reencode, RoundtripReencoder},
};

use crate::{
    DIRTY_EXPORT, GAS_EXPORT, PolicyError, RESET_EXPORT, STACK_EXPORT, START_EXPORT, TRAP_EXPORT,
    analyze::{Analysis, Section},
};

use super::{Layout, Plan, Redirect, reencode_error, val_type};

/// Copies the sections with id `id` as they were.
pub(super) fn raw(module: &mut Module, a: &Analysis<'_>, id: SectionId) {
    let id = id as u8;
    for section in &a.sections {
        if let Section::Raw(section_id, data) = section
            && *section_id == id
        {
            module.section(&RawSection { id, data });
        }
    }
}

/// Copies the custom sections, last.
pub(super) fn custom(module: &mut Module, a: &Analysis<'_>) {
    for section in &a.sections {
        if let Section::Custom(data, name) = section {
            module.section(&CustomSection {
                name: Cow::Borrowed(name),
                data: Cow::Borrowed(data),
            });
        }
    }
}

/// The `[] -> results` type of each distinct multi-value result list: the
/// type of the block that wraps a body returning it.
pub(super) struct ResultTypes(Vec<(Vec<wasmparser::ValType>, u32)>);

impl ResultTypes {
    /// The type of the block that wraps a body returning `results`.
    pub(super) fn block_type(
        &self,
        results: &[wasmparser::ValType],
    ) -> Result<BlockType, PolicyError> {
        Ok(match results {
            [] => BlockType::Empty,
            [one] => BlockType::Result(val_type(*one)?),
            many => BlockType::FunctionType(
                self.0
                    .iter()
                    .find(|(r, _)| r == many)
                    .map_or(0, |&(_, index)| index),
            ),
        })
    }
}

/// The type section: the original types, then `[] -> []` (the type of
/// `__ward_reset`), then the wrapping blocks' result types, then the metered
/// signature of each defined function (each added once, when first used).
/// Also the result types, and each defined function's metered type.
pub(super) fn types(
    a: &Analysis<'_>,
    plan: &Plan<'_>,
) -> Result<(TypeSection, ResultTypes, Vec<u32>), PolicyError> {
    let mut types = TypeSection::new();
    for section in &a.sections {
        if let Section::Type(reader) = section {
            RoundtripReencoder
                .parse_type_section(&mut types, reader.clone())
                .map_err(reencode_error)?;
        }
    }
    types.ty().function([], []);
    let defined = &a.func_types[a.imported_funcs as usize..];
    let mut next_type = a.types.len() as u32 + 1;
    let mut result_types: Vec<(Vec<wasmparser::ValType>, u32)> = Vec::new();
    for &ty in defined {
        let results = a.types[ty as usize].results();
        if results.len() > 1 && !result_types.iter().any(|(r, _)| r == results) {
            let encoded: Vec<ValType> = results
                .iter()
                .map(|&t| val_type(t))
                .collect::<Result<_, _>>()?;
            types.ty().function([], encoded);
            result_types.push((results.to_vec(), next_type));
            next_type += 1;
        }
    }
    // The metered signature: the parameters plus the gas (engine-metered
    // only) and the depth, the results plus the gas left. Meters travel as
    // arguments and results between Ward's own frames, in registers; only
    // thunks, host calls and indirect calls go through the globals.
    let mut metered_of_type: Vec<Option<u32>> = vec![None; a.types.len()];
    let mut metered_types = Vec::with_capacity(defined.len());
    for &ty in defined {
        if metered_of_type[ty as usize].is_none() {
            let original = &a.types[ty as usize];
            let encode = |list: &[wasmparser::ValType]| -> Result<Vec<ValType>, PolicyError> {
                list.iter().map(|&t| val_type(t)).collect()
            };
            let (mut params, mut results) =
                (encode(original.params())?, encode(original.results())?);
            if plan.gas {
                params.push(ValType::I64);
                results.push(ValType::I64);
            }
            params.push(ValType::I32);
            types.ty().function(params, results);
            metered_of_type[ty as usize] = Some(next_type);
            next_type += 1;
        }
        metered_types.extend(metered_of_type[ty as usize]);
    }
    Ok((types, ResultTypes(result_types), metered_types))
}

/// The function section: the original bodies with their metered types,
/// then the thunks (with their functions' own types), then `__ward_reset`
/// (`[] -> []`) when there is one. There are no other helper functions.
pub(super) fn functions(
    a: &Analysis<'_>,
    layout: &Layout,
    metered_types: &[u32],
    reset: bool,
) -> FunctionSection {
    let mut functions = FunctionSection::new();
    for &ty in metered_types {
        functions.function(ty);
    }
    for &f in &layout.thunks {
        functions.function(a.func_types[f as usize]);
    }
    if reset {
        functions.function(a.types.len() as u32);
    }
    functions
}

/// The global section: the originals (with redirected `ref.func`), then
/// Ward's: the meter (i64), the depth (i32) and, when marked, the written
/// granules (i64).
pub(super) fn globals(
    a: &Analysis<'_>,
    redirect: &mut Redirect,
    plan: &Plan<'_>,
) -> Result<GlobalSection, PolicyError> {
    let mut globals = GlobalSection::new();
    for section in &a.sections {
        if let Section::Global(reader) = section {
            redirect
                .parse_global_section(&mut globals, reader.clone())
                .map_err(reencode_error)?;
        }
    }
    let mutable = |val_type| GlobalType {
        val_type,
        mutable: true,
        shared: false,
    };
    globals.global(mutable(ValType::I64), &ConstExpr::i64_const(0));
    globals.global(mutable(ValType::I32), &ConstExpr::i32_const(0));
    if plan.dirty.is_some() {
        globals.global(mutable(ValType::I64), &ConstExpr::i64_const(0));
    }
    Ok(globals)
}

/// The export section: the originals (functions redirected to their
/// thunks), Ward's meter and depth, the start function's thunk and
/// `__ward_reset`.
pub(super) fn exports(
    a: &Analysis<'_>,
    plan: &Plan<'_>,
    layout: &mut Layout,
    reset: bool,
) -> Result<ExportSection, PolicyError> {
    let mut exports = ExportSection::new();
    for section in &a.sections {
        if let Section::Export(reader) = section {
            layout
                .redirect
                .parse_export_section(&mut exports, reader.clone())
                .map_err(reencode_error)?;
        }
    }
    // The name says what the meter holds: an engine-metered module's gas
    // counter, or (self-metered: the embedder keeps the gas itself) only a
    // trap reason.
    let meter_name = if plan.gas { GAS_EXPORT } else { TRAP_EXPORT };
    exports.export(meter_name, ExportKind::Global, layout.globals.gas);
    exports.export(STACK_EXPORT, ExportKind::Global, layout.globals.depth);
    if let Some(dirty) = layout.globals.dirty {
        exports.export(DIRTY_EXPORT, ExportKind::Global, dirty);
    }
    if let Some(start) = a.start {
        let target = layout
            .redirect
            .function_index(start)
            .map_err(reencode_error)?;
        exports.export(START_EXPORT, ExportKind::Func, target);
    }
    if reset {
        let reset = layout.redirect.defined(layout.reset_index);
        exports.export(RESET_EXPORT, ExportKind::Func, reset);
    }
    Ok(exports)
}

/// The element section, with function references redirected to thunks,
/// plus a declaration of the thunks that a body's `ref.func` names and
/// nothing else declares (their function was declared only by its
/// export). `None` when it would be empty.
pub(super) fn elements(
    a: &Analysis<'_>,
    layout: &mut Layout,
) -> Result<Option<ElementSection>, PolicyError> {
    let mut elements = ElementSection::new();
    for section in &a.sections {
        if let Section::Element(reader) = section {
            layout
                .redirect
                .parse_element_section(&mut elements, reader.clone())
                .map_err(reencode_error)?;
        }
    }
    let undeclared: Vec<u32> = (0..layout.total_funcs)
        .filter(|&f| a.undeclared_refs.get(f as usize).copied().unwrap_or(false))
        .map(|f| layout.redirect.function_index(f).map_err(reencode_error))
        .collect::<Result<_, _>>()?;
    if !undeclared.is_empty() {
        elements.declared(Elements::Functions(undeclared.into()));
    }
    Ok((!elements.is_empty()).then_some(elements))
}
