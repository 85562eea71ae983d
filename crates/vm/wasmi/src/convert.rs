//! Values and types between Ward and wasmi.

use ward_vm::{ExternType, FuncType, SandboxError, ValType, Value};
use wasmi::Val;

pub(crate) fn func_type(ty: &FuncType) -> wasmi::FuncType {
    wasmi::FuncType::new(
        ty.params.iter().map(|t| wasm_type(*t)),
        ty.results.iter().map(|t| wasm_type(*t)),
    )
}

pub(crate) fn wasm_type(ty: ValType) -> wasmi::ValType {
    match ty {
        ValType::I32 => wasmi::ValType::I32,
        ValType::I64 => wasmi::ValType::I64,
        ValType::F32 => wasmi::ValType::F32,
        ValType::F64 => wasmi::ValType::F64,
        ValType::FuncRef => wasmi::ValType::FuncRef,
        ValType::ExternRef => wasmi::ValType::ExternRef,
    }
}

pub(crate) fn ward_type(ty: wasmi::ValType) -> ValType {
    match ty {
        wasmi::ValType::I32 => ValType::I32,
        wasmi::ValType::I64 => ValType::I64,
        wasmi::ValType::F32 => ValType::F32,
        wasmi::ValType::F64 => ValType::F64,
        wasmi::ValType::ExternRef => ValType::ExternRef,
        // v128 is outside Ward's feature set and never passes validation.
        _ => ValType::FuncRef,
    }
}

pub(crate) fn extern_type(ty: &wasmi::ExternType) -> ExternType {
    match ty {
        wasmi::ExternType::Func(f) => ExternType::Func(FuncType::new(
            f.params().iter().map(|t| ward_type(*t)),
            f.results().iter().map(|t| ward_type(*t)),
        )),
        wasmi::ExternType::Memory(_) => ExternType::Memory,
        wasmi::ExternType::Table(_) => ExternType::Table,
        wasmi::ExternType::Global(_) => ExternType::Global,
    }
}

pub(crate) fn to_val(store: impl wasmi::AsContextMut, value: Value) -> Result<Val, SandboxError> {
    Ok(match value {
        Value::I32(v) => Val::I32(v),
        Value::I64(v) => Val::I64(v),
        Value::F32(bits) => Val::F32(wasmi::F32::from_bits(bits)),
        Value::F64(bits) => Val::F64(wasmi::F64::from_bits(bits)),
        Value::FuncRef { null: true } => Val::FuncRef(wasmi::Nullable::Null),
        Value::FuncRef { null: false } => {
            return Err(SandboxError::BadArguments(
                "a non-null funcref cannot be passed in".into(),
            ));
        }
        Value::ExternRef(None) => Val::ExternRef(wasmi::Nullable::Null),
        Value::ExternRef(Some(n)) => {
            Val::ExternRef(wasmi::Nullable::Val(wasmi::ExternRef::new(store, n)))
        }
    })
}

pub(crate) fn from_val(store: impl wasmi::AsContext, val: &Val) -> Result<Value, String> {
    Ok(match val {
        Val::I32(v) => Value::I32(*v),
        Val::I64(v) => Value::I64(*v),
        Val::F32(f) => Value::F32(f.to_bits()),
        Val::F64(f) => Value::F64(f.to_bits()),
        Val::FuncRef(f) => Value::FuncRef { null: f.is_null() },
        Val::ExternRef(wasmi::Nullable::Null) => Value::ExternRef(None),
        Val::ExternRef(wasmi::Nullable::Val(r)) => {
            let n = r.data(store.as_context()).downcast_ref::<u32>().copied();
            Value::ExternRef(Some(n.ok_or("externref holds no Ward host value")?))
        }
        other => return Err(format!("value {other:?} is outside Ward's feature set")),
    })
}
