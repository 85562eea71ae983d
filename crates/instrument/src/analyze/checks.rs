//! The checks pass one makes of what it reads: counts, sizes, imports and
//! their signatures, floats.

use wasmparser::{ExternalKind, FuncType, Payload, TypeRef, ValType, Validator, WasmFeatures};

use super::Measures;
use crate::{ImportPolicy, Limits, PolicyError, invalid, write_signature};

/// Rejects sections whose declared counts exceed the limits, before any
/// allocation in proportion to them.
pub(super) fn check_counts(
    payload: &Payload<'_>,
    limits: &Limits,
    m: &mut Measures,
) -> Result<(), PolicyError> {
    let (limit, value, count) = match payload {
        Payload::TypeSection(r) => ("max_types", limits.max_types, r.count()),
        Payload::ImportSection(r) => ("max_imports", limits.max_imports, r.count()),
        Payload::FunctionSection(r) => ("max_functions", limits.max_functions, r.count()),
        Payload::TableSection(r) => ("max_tables", limits.max_tables, r.count()),
        Payload::GlobalSection(r) => ("max_globals", limits.max_globals, r.count()),
        Payload::ExportSection(r) => ("max_exports", limits.max_exports, r.count()),
        Payload::ElementSection(r) => (
            "max_element_segments",
            limits.max_element_segments,
            r.count(),
        ),
        Payload::DataSection(r) => ("max_data_segments", limits.max_data_segments, r.count()),
        Payload::CodeSectionStart { count, .. } => ("max_functions", limits.max_functions, *count),
        _ => return Ok(()),
    };
    m.check(limit, u64::from(value), u64::from(count))
}

pub(super) fn check_pages(
    m: &mut Measures,
    limits: &Limits,
    initial: u64,
) -> Result<(), PolicyError> {
    m.check(
        "max_memory_pages",
        u64::from(limits.max_memory_pages),
        initial,
    )
}

pub(super) fn check_table(
    m: &mut Measures,
    limits: &Limits,
    initial: u64,
) -> Result<(), PolicyError> {
    m.check(
        "max_table_elements",
        u64::from(limits.max_table_elements),
        initial,
    )
}

pub(super) fn type_ref_kind(ty: &TypeRef) -> &'static str {
    match ty {
        TypeRef::Func(_) | TypeRef::FuncExact(_) => "func",
        TypeRef::Table(_) => "table",
        TypeRef::Memory(_) => "memory",
        TypeRef::Global(_) => "global",
        TypeRef::Tag(_) => "tag",
    }
}

pub(super) fn external_kind(kind: ExternalKind) -> &'static str {
    match kind {
        ExternalKind::Func | ExternalKind::FuncExact => "func",
        ExternalKind::Table => "table",
        ExternalKind::Memory => "memory",
        ExternalKind::Global => "global",
        ExternalKind::Tag => "tag",
    }
}

/// Invalid under Ward's features but valid with every feature on: the
/// module is fine, the policy refuses it.
pub(super) fn classify_error(wasm: &[u8], err: wasmparser::BinaryReaderError) -> PolicyError {
    if Validator::new_with_features(WasmFeatures::all())
        .validate_all(wasm)
        .is_ok()
    {
        PolicyError::UnsupportedFeature {
            message: err.message().to_string(),
        }
    } else {
        invalid(err)
    }
}

pub(super) fn is_float(ty: &ValType) -> bool {
    matches!(ty, ValType::F32 | ValType::F64)
}

/// [`check_import`] under [`ImportPolicy::Syscalls`]: a function of
/// `module` with a syscall's signature, whatever its name.
fn check_syscall(
    module: &str,
    max_params: u8,
    import: &wasmparser::Import<'_>,
    types: &[FuncType],
    unknown: impl Fn() -> PolicyError,
) -> Result<(), PolicyError> {
    if import.module != module {
        return Err(unknown());
    }
    let (TypeRef::Func(ty) | TypeRef::FuncExact(ty)) = import.ty else {
        return Err(unknown());
    };
    let Some(ty) = types.get(ty as usize) else {
        return Err(unknown());
    };
    if ImportPolicy::is_syscall_signature(ty.params(), ty.results(), max_params) {
        return Ok(());
    }
    let mut found = String::from("func ");
    let _ = write_signature(&mut found, ty.params(), ty.results());
    Err(PolicyError::ImportSignatureMismatch {
        module: import.module.to_string(),
        name: import.name.to_string(),
        expected: format!("func of at most {max_params} i64 parameters and at most one i64 result"),
        found,
    })
}

pub(super) fn float_refused(what: &str) -> PolicyError {
    PolicyError::UnsupportedFeature {
        message: format!("floats are disabled, but {what} uses them"),
    }
}

/// Checks one import against the policy: a listed function, with exactly
/// its signature.
pub(super) fn check_import(
    policy: &ImportPolicy,
    import: &wasmparser::Import<'_>,
    types: &[FuncType],
) -> Result<(), PolicyError> {
    let unknown = || PolicyError::UnknownImport {
        module: import.module.to_string(),
        name: import.name.to_string(),
        kind: type_ref_kind(&import.ty),
    };
    let allowed = match policy {
        ImportPolicy::Any => return Ok(()),
        ImportPolicy::Functions(allowed) => allowed,
        ImportPolicy::Syscalls { module, max_params } => {
            return check_syscall(module, *max_params, import, types, unknown);
        }
    };
    let Some(host) = allowed
        .iter()
        .find(|h| h.module == import.module && h.name == import.name)
    else {
        return Err(unknown());
    };
    let mut expected = String::from("func ");
    let _ = write_signature(&mut expected, &host.params, &host.results);
    let mismatch = |found: String| PolicyError::ImportSignatureMismatch {
        module: import.module.to_string(),
        name: import.name.to_string(),
        expected: expected.clone(),
        found,
    };
    let (TypeRef::Func(ty) | TypeRef::FuncExact(ty)) = import.ty else {
        return Err(mismatch(format!("a {}", type_ref_kind(&import.ty))));
    };
    // The validator has checked the type index already.
    let Some(ty) = types.get(ty as usize) else {
        return Err(unknown());
    };
    if ty.params() != host.params.as_slice() || ty.results() != host.results.as_slice() {
        let mut found = String::from("func ");
        let _ = write_signature(&mut found, ty.params(), ty.results());
        return Err(mismatch(found));
    }
    Ok(())
}
