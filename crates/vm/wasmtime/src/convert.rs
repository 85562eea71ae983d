//! Values and types between Ward and wasmtime.

use ward_vm::{ExternType, FuncType, SandboxError, ValType, Value};
use wasmtime::{Engine, Val};

pub(crate) fn func_type(engine: &Engine, ty: &FuncType) -> wasmtime::FuncType {
    wasmtime::FuncType::new(
        engine,
        ty.params.iter().map(|t| wasm_type(*t)),
        ty.results.iter().map(|t| wasm_type(*t)),
    )
}

pub(crate) fn wasm_type(ty: ValType) -> wasmtime::ValType {
    match ty {
        ValType::I32 => wasmtime::ValType::I32,
        ValType::I64 => wasmtime::ValType::I64,
        ValType::F32 => wasmtime::ValType::F32,
        ValType::F64 => wasmtime::ValType::F64,
        ValType::FuncRef => wasmtime::ValType::FUNCREF,
        ValType::ExternRef => wasmtime::ValType::EXTERNREF,
    }
}

pub(crate) fn ward_type(ty: &wasmtime::ValType) -> ValType {
    match ty {
        wasmtime::ValType::I32 => ValType::I32,
        wasmtime::ValType::I64 => ValType::I64,
        wasmtime::ValType::F32 => ValType::F32,
        wasmtime::ValType::F64 => ValType::F64,
        wasmtime::ValType::Ref(r) if r.heap_type().is_extern() => ValType::ExternRef,
        // v128 and other references are outside Ward's feature set and never
        // pass validation; funcref is the remaining Wasm 2.0 reference type.
        _ => ValType::FuncRef,
    }
}

pub(crate) fn extern_type(ty: &wasmtime::ExternType) -> ExternType {
    match ty {
        wasmtime::ExternType::Func(f) => ExternType::Func(FuncType::new(
            f.params().map(|t| ward_type(&t)),
            f.results().map(|t| ward_type(&t)),
        )),
        wasmtime::ExternType::Memory(_) => ExternType::Memory,
        wasmtime::ExternType::Table(_) => ExternType::Table,
        _ => ExternType::Global,
    }
}

pub(crate) fn to_val(
    store: impl wasmtime::AsContextMut,
    value: Value,
) -> Result<Val, SandboxError> {
    Ok(match value {
        Value::I32(v) => Val::I32(v),
        Value::I64(v) => Val::I64(v),
        Value::F32(bits) => Val::F32(bits),
        Value::F64(bits) => Val::F64(bits),
        Value::FuncRef { null: true } => Val::FuncRef(None),
        Value::FuncRef { null: false } => {
            return Err(SandboxError::BadArguments(
                "a non-null funcref cannot be passed in".into(),
            ));
        }
        Value::ExternRef(None) => Val::ExternRef(None),
        Value::ExternRef(Some(n)) => Val::ExternRef(Some(
            wasmtime::ExternRef::new(store, n)
                .map_err(|e| SandboxError::BadArguments(e.to_string()))?,
        )),
    })
}

pub(crate) fn from_val(store: impl wasmtime::AsContext, val: &Val) -> Result<Value, String> {
    Ok(match val {
        Val::I32(v) => Value::I32(*v),
        Val::I64(v) => Value::I64(*v),
        Val::F32(bits) => Value::F32(*bits),
        Val::F64(bits) => Value::F64(*bits),
        Val::FuncRef(f) => Value::FuncRef { null: f.is_none() },
        Val::ExternRef(None) => Value::ExternRef(None),
        Val::ExternRef(Some(r)) => {
            let data = r.data(&store).map_err(|e| e.to_string())?;
            let n = data.and_then(|d| d.downcast_ref::<u32>()).copied();
            Value::ExternRef(Some(n.ok_or("externref holds no Ward host value")?))
        }
        other => return Err(format!("value {other:?} is outside Ward's feature set")),
    })
}
