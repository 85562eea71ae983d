//! The host ABI and the embedder's host imports, as wasmi functions.

use std::sync::Arc;

use ward_abi::{HostFn, WasiFn};
use ward_vm::{
    Config, ErrorKind, Failure, HostStop, ValType, Value, define_abi_functions,
    guest::{self, AbiResult},
};
use wasmi::{Caller, Engine, Linker, Val};

use crate::convert::{from_val, func_type, to_val};
use crate::guest::Guest;
use crate::sandbox::StoreData;
use crate::trap::Stop;

// Every host ABI and WASI function, typed, from the ABI table.
ward_abi::for_each_host_function!(
    define_abi_functions,
    define_abi HostFn abi_call (Linker<StoreData>, Caller<'_, StoreData>, Result<(), wasmi::errors::LinkerError>, wasmi::Error);
);
ward_abi::for_each_wasi_function!(
    define_abi_functions,
    define_wasi WasiFn wasi_call (Linker<StoreData>, Caller<'_, StoreData>, Result<(), wasmi::errors::LinkerError>, wasmi::Error);
);

/// One wasmi linker for the backend: the host ABI and the configured host
/// imports (a suspension is a host error that the sandbox resumes from).
pub(crate) fn build_linker(
    engine: &Engine,
    config: &Config,
) -> Result<Linker<StoreData>, wasmi::errors::LinkerError> {
    let mut linker = Linker::new(engine);
    define_abi(&mut linker)?;
    define_wasi(&mut linker)?;
    ward_vm::define_profile_hooks!(linker, Caller<'_, StoreData>, Guest::caller)?;
    let mut embedder = config.host_imports.iter().enumerate();
    embedder
        .try_for_each(|(i, h)| define_host(&mut linker, &h.module, &h.name, &h.ty, i, false))?;
    Ok(linker)
}

/// A wasmi function for `module.name` (type `ty`): the embedder's host
/// import `index`, or, with `syscall`, the module's import number `index`
/// as a syscall. Either may suspend: the host error that carries the
/// request unwinds to the sandbox, which resumes from it.
pub(crate) fn define_host(
    linker: &mut Linker<StoreData>,
    module: &str,
    name: &str,
    ty: &ward_vm::FuncType,
    index: usize,
    syscall: bool,
) -> Result<(), wasmi::errors::LinkerError> {
    let expected: Arc<[ValType]> = ty.results.clone().into();
    linker.func_new(
        module,
        name,
        func_type(ty),
        move |caller, params, results| {
            host_call(caller, (index, syscall), &expected, params, results)
        },
    )?;
    Ok(())
}

/// One call of a host ABI function. `ward.call` suspends by returning its
/// request as a host error: the sandbox finishes it on resumption.
/// Inlined into each function's closure, with `f` a constant there.
#[inline(always)]
fn abi_call<R: AbiResult>(
    caller: &mut Caller<'_, StoreData>,
    f: HostFn,
    args: &[Value],
) -> Result<R, wasmi::Error> {
    guest::abi_call(&mut Guest::caller(caller), f, args)
        .map(R::from_abi)
        .map_err(|stop| wasmi::Error::host(Stop(stop)))
}

/// One call of a WASI function (never suspends).
fn wasi_call<R: AbiResult>(
    caller: &mut Caller<'_, StoreData>,
    f: WasiFn,
    args: &[Value],
) -> Result<R, wasmi::Error> {
    guest::wasi_call(&mut Guest::caller(caller), f, args)
        .map(R::from_abi)
        .map_err(|stop| wasmi::Error::host(Stop(stop)))
}

/// One call of embedder host import `index`, whose results must have the
/// types `expected`. A suspension returns its request as a host error: the
/// sandbox finishes it on resumption.
fn host_call(
    mut caller: Caller<'_, StoreData>,
    (index, syscall): (usize, bool),
    expected: &[ValType],
    params: &[Val],
    results: &mut [Val],
) -> Result<(), wasmi::Error> {
    let host_error = |message: String| {
        wasmi::Error::host(Stop(HostStop::Trap(Failure::new(
            ErrorKind::HostError,
            message,
        ))))
    };
    let args = params
        .iter()
        .map(|v| from_val(&caller, v))
        .collect::<Result<Vec<_>, _>>()
        .map_err(host_error)?;
    let mut guest = Guest::caller(&mut caller);
    let values = if syscall {
        guest::syscall(&mut guest, index, expected, &args)
    } else {
        guest::host_call(&mut guest, index, expected, &args)
    }
    .map_err(|stop| wasmi::Error::host(Stop(stop)))?;
    for (slot, value) in results.iter_mut().zip(values) {
        *slot = to_val(&mut caller, value).map_err(|e| host_error(e.to_string()))?;
    }
    Ok(())
}
