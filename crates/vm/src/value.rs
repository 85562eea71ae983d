//! Backend-neutral values and types.

use std::fmt;

/// A value type as Ward sees it: the Wasm 2.0 number and reference types
/// (no `v128`: SIMD is outside Ward's feature set).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit float.
    F32,
    /// 64-bit float.
    F64,
    /// Function reference.
    FuncRef,
    /// External (host) reference.
    ExternRef,
}

impl From<ward_abi::ValType> for ValType {
    fn from(ty: ward_abi::ValType) -> Self {
        match ty {
            ward_abi::ValType::I32 => ValType::I32,
            ward_abi::ValType::I64 => ValType::I64,
        }
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F32 => "f32",
            ValType::F64 => "f64",
            ValType::FuncRef => "funcref",
            ValType::ExternRef => "externref",
        })
    }
}

/// A value crossing the boundary between Ward and a backend.
///
/// Floats are carried as their bit patterns so that NaN payloads survive
/// every conversion unchanged.
///
/// The tag is a `u32`: a host function's result is written to memory
/// and read back within the trampoline, and with a one-byte tag the
/// compiler stored a byte and loaded four over it, a store the processor
/// cannot forward (a stall on every host call, `host_call_x1000`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Value {
    /// 32-bit integer.
    I32(i32),
    /// 64-bit integer.
    I64(i64),
    /// 32-bit float, as bits.
    F32(u32),
    /// 64-bit float, as bits.
    F64(u64),
    /// A function reference. Only its nullness crosses the boundary: a
    /// non-null function reference is opaque and cannot be passed back in.
    FuncRef {
        /// Whether the reference is null.
        null: bool,
    },
    /// An external reference: `None` is null, `Some(n)` the host value `n`.
    ExternRef(Option<u32>),
}

impl Value {
    /// The value's type.
    pub fn ty(&self) -> ValType {
        match self {
            Value::I32(_) => ValType::I32,
            Value::I64(_) => ValType::I64,
            Value::F32(_) => ValType::F32,
            Value::F64(_) => ValType::F64,
            Value::FuncRef { .. } => ValType::FuncRef,
            Value::ExternRef(_) => ValType::ExternRef,
        }
    }

    /// The zero (or null) value of a type.
    pub fn default_for(ty: ValType) -> Value {
        match ty {
            ValType::I32 => Value::I32(0),
            ValType::I64 => Value::I64(0),
            ValType::F32 => Value::F32(0),
            ValType::F64 => Value::F64(0),
            ValType::FuncRef => Value::FuncRef { null: true },
            ValType::ExternRef => Value::ExternRef(None),
        }
    }
}

impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::I32(v)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::I64(v)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::I32(v) => write!(f, "{v}"),
            Value::I64(v) => write!(f, "{v}"),
            Value::F32(bits) => write!(f, "{}", f32::from_bits(*bits)),
            Value::F64(bits) => write!(f, "{}", f64::from_bits(*bits)),
            Value::FuncRef { null: true } | Value::ExternRef(None) => f.write_str("null"),
            Value::FuncRef { null: false } => f.write_str("<funcref>"),
            Value::ExternRef(Some(n)) => write!(f, "<externref {n}>"),
        }
    }
}

/// A function signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct FuncType {
    /// Parameter types.
    pub params: Vec<ValType>,
    /// Result types.
    pub results: Vec<ValType>,
}

impl FuncType {
    /// Builds a signature.
    pub fn new(
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> Self {
        FuncType {
            params: params.into_iter().collect(),
            results: results.into_iter().collect(),
        }
    }

    /// The signature of a host ABI function.
    pub fn of_host_fn(f: ward_abi::HostFn) -> Self {
        FuncType::of_table(f.params(), f.results())
    }

    /// Whether this is a syscall's signature under
    /// [`crate::ImportPolicy::Syscalls`] with `max_params` (and what a
    /// parent may run in a child): at most `max_params` `i64` parameters,
    /// no result or one `i64`.
    pub fn is_syscall(&self, max_params: u8) -> bool {
        self.params.len() <= usize::from(max_params)
            && self.params.iter().all(|t| *t == ValType::I64)
            && matches!(self.results.as_slice(), [] | [ValType::I64])
    }

    /// The signature of a WASI function.
    pub fn of_wasi_fn(f: ward_abi::WasiFn) -> Self {
        FuncType::of_table(f.params(), f.results())
    }

    fn of_table(params: &[ward_abi::ValType], results: &[ward_abi::ValType]) -> Self {
        FuncType::new(
            params.iter().copied().map(ValType::from),
            results.iter().copied().map(ValType::from),
        )
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |tys: &[ValType]| tys.iter().map(ToString::to_string).collect::<Vec<_>>();
        write!(
            f,
            "[{}] -> [{}]",
            list(&self.params).join(" "),
            list(&self.results).join(" ")
        )
    }
}

/// What kind of item an import or export is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ExternType {
    /// A function, with its signature.
    Func(FuncType),
    /// A linear memory.
    Memory,
    /// A table.
    Table,
    /// A global.
    Global,
}

impl ExternType {
    /// A short name of the kind: `func`, `memory`, `table` or `global`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            ExternType::Func(_) => "func",
            ExternType::Memory => "memory",
            ExternType::Table => "table",
            ExternType::Global => "global",
        }
    }
}

/// One import a module declares.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImportType {
    /// Import module name.
    pub module: String,
    /// Import field name.
    pub name: String,
    /// What is imported.
    pub ty: ExternType,
}

/// One export a module declares.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExportType {
    /// Export name.
    pub name: String,
    /// What is exported.
    pub ty: ExternType,
}
