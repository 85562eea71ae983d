//! What a module may import: the host ABI's functions by exact signature,
//! or WASI's.

use std::fmt;

use wasmparser::ValType;

/// Which imports a module may declare.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ImportPolicy {
    /// Functions only, each by module, name and exact signature, from this
    /// list: no imported memories, tables or globals. The default is the
    /// Ward ABI ([`ImportPolicy::abi`]); an embedder appends its own host
    /// functions.
    Functions(Vec<HostSignature>),
    /// Any import, resolved and type-checked when instantiating: for an
    /// embedder that links modules together itself (the spec runner).
    Any,
    /// Syscalls only: functions of `module`, under any name, whose
    /// parameters are at most `max_params` `i64`s and whose result is
    /// nothing or one `i64`. What a module run by another module imports:
    /// each call suspends it and hands the import's index and arguments to
    /// the embedder.
    Syscalls {
        /// The one import module (`"env"`).
        module: String,
        /// Most parameters a syscall takes.
        max_params: u8,
    },
}

impl ImportPolicy {
    /// The functions of the Ward host ABI, in table order.
    pub fn abi() -> Self {
        ImportPolicy::Functions(Self::ward_signatures().collect())
    }

    /// The Ward ABI and WASI preview 1 (`wasi_snapshot_preview1`), for
    /// programs built by a WASI toolchain.
    pub fn wasi() -> Self {
        let wasi = ward_abi::WasiFn::ALL.iter().map(|f| {
            HostSignature::of_table(ward_abi::WASI_MODULE, f.name(), f.params(), f.results())
        });
        ImportPolicy::Functions(Self::ward_signatures().chain(wasi).collect())
    }

    /// The Ward table's functions, in table order.
    fn ward_signatures() -> impl Iterator<Item = HostSignature> {
        ward_abi::HostFn::ALL
            .iter()
            .map(|f| HostSignature::of_table(ward_abi::MODULE, f.name(), f.params(), f.results()))
    }

    /// Whether `params -> results` is a syscall's signature under
    /// [`ImportPolicy::Syscalls`] with `max_params`.
    pub fn is_syscall_signature(params: &[ValType], results: &[ValType], max_params: u8) -> bool {
        params.len() <= usize::from(max_params)
            && params.iter().all(|t| *t == ValType::I64)
            && matches!(results, [] | [ValType::I64])
    }
}

impl Default for ImportPolicy {
    fn default() -> Self {
        ImportPolicy::abi()
    }
}

impl HostSignature {
    /// The signature of a row of one of `ward-abi`'s tables.
    fn of_table(
        module: &str,
        name: &str,
        params: &[ward_abi::ValType],
        results: &[ward_abi::ValType],
    ) -> HostSignature {
        let wasm = |t: &ward_abi::ValType| match t {
            ward_abi::ValType::I32 => ValType::I32,
            ward_abi::ValType::I64 => ValType::I64,
        };
        HostSignature {
            module: module.to_string(),
            name: name.to_string(),
            params: params.iter().map(wasm).collect(),
            results: results.iter().map(wasm).collect(),
        }
    }
}

/// A function a module may import.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostSignature {
    /// Import module.
    pub module: String,
    /// Import name.
    pub name: String,
    /// Parameter types.
    pub params: Vec<ValType>,
    /// Result types.
    pub results: Vec<ValType>,
}

impl fmt::Display for HostSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}: ", self.module, self.name)?;
        write_signature(f, &self.params, &self.results)
    }
}

/// `[i32 i64] -> [i32]`.
pub(crate) fn write_signature(
    f: &mut impl fmt::Write,
    params: &[ValType],
    results: &[ValType],
) -> fmt::Result {
    let list = |f: &mut dyn fmt::Write, types: &[ValType]| -> fmt::Result {
        f.write_char('[')?;
        for (i, t) in types.iter().enumerate() {
            if i > 0 {
                f.write_char(' ')?;
            }
            write!(f, "{t}")?;
        }
        f.write_char(']')
    };
    list(f, params)?;
    f.write_str(" -> ")?;
    list(f, results)
}
