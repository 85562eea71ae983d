//! The host ABI and the embedder's host imports, as wasmtime functions.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use ward_abi::{HostFn, WasiFn};
use ward_vm::{
    Config, ErrorKind, Failure, HostStop, Reply, Request, ValType, Value, define_abi_functions,
    guest::{self, AbiResult},
};
use wasmtime::{Caller, Engine, Linker, Val};

use crate::convert::{from_val, func_type, to_val};
use crate::guest::Guest;
use crate::sandbox::{StoreData, lock};

// Every host ABI and WASI function, typed, from the ABI table.
ward_abi::for_each_host_function!(
    define_abi_functions,
    define_abi HostFn abi_call (Linker<StoreData>, Caller<'_, StoreData>, wasmtime::Result<()>, wasmtime::Error);
);
ward_abi::for_each_wasi_function!(
    define_abi_functions,
    define_wasi WasiFn wasi_call (Linker<StoreData>, Caller<'_, StoreData>, wasmtime::Result<()>, wasmtime::Error);
);

/// One wasmtime linker for the backend: the host ABI (`ward.call` as an
/// async function, on the guest's fiber) and the configured host imports.
pub(crate) fn build_linker(
    engine: &Engine,
    config: &Config,
) -> wasmtime::Result<Linker<StoreData>> {
    let mut linker = Linker::new(engine);
    define_abi(&mut linker)?;
    define_wasi(&mut linker)?;
    ward_vm::define_profile_hooks!(linker, Caller<'_, StoreData>, Guest::new)?;
    // The functions that suspend the caller until the embedder has run a
    // callee or a deploy (`ward.call`, `ward.create` and their forms that
    // move value), and with chain requests the storage functions and
    // events, are async instead, on the guest's fiber.
    linker.allow_shadowing(true);
    let suspends = |f: &&HostFn| {
        f.uses().suspends || (config.chain_requests && ward_vm::is_chain_request(**f))
    };
    for &f in HostFn::ALL.iter().filter(suspends) {
        let ty = func_type(engine, &ward_vm::FuncType::of_host_fn(f));
        linker.func_new_async(
            ward_abi::MODULE,
            f.name(),
            ty,
            move |caller, params, results| {
                Box::new(abi_call_suspending(caller, f, params, results))
            },
        )?;
    }
    linker.allow_shadowing(false);
    for (index, import) in config.host_imports.iter().enumerate() {
        define_host(
            &mut linker,
            &import.module,
            &import.name,
            &import.ty,
            index,
            false,
        )?;
    }
    Ok(linker)
}

/// Defines `module.name` of type `ty` in `linker` as embedder host import
/// `index` (answered by the embedder's host, at once or by suspending), or
/// with `syscall` as the module's syscall number `index` (always
/// suspending).
pub(crate) fn define_host(
    linker: &mut Linker<StoreData>,
    module: &str,
    name: &str,
    ty: &ward_vm::FuncType,
    index: usize,
    syscall: bool,
) -> wasmtime::Result<()> {
    let wasm_ty = func_type(linker.engine(), ty);
    let expected: Arc<[ValType]> = ty.results.clone().into();
    linker.func_new_async(module, name, wasm_ty, move |caller, params, results| {
        let call = HostCall {
            index,
            expected: expected.clone(),
            syscall,
        };
        Box::new(host_call(caller, call, params, results))
    })?;
    Ok(())
}

/// Which suspending import a trampoline is.
struct HostCall {
    index: usize,
    expected: Arc<[ValType]>,
    syscall: bool,
}

/// One call of a host ABI function: the fast path, never suspends.
/// Inlined into each function's closure, with `f` a constant there.
#[inline(always)]
fn abi_call<R: AbiResult>(
    caller: &mut Caller<'_, StoreData>,
    f: HostFn,
    args: &[Value],
) -> wasmtime::Result<R> {
    guest::abi_call(&mut Guest::new(caller), f, args)
        .map(R::from_abi)
        .map_err(wasmtime::Error::new)
}

/// One call of a WASI function (never suspends).
fn wasi_call<R: AbiResult>(
    caller: &mut Caller<'_, StoreData>,
    f: WasiFn,
    args: &[Value],
) -> wasmtime::Result<R> {
    guest::wasi_call(&mut Guest::new(caller), f, args)
        .map(R::from_abi)
        .map_err(wasmtime::Error::new)
}

/// A suspending ABI function (`ward.call`, `ward.create`, ...; with chain
/// requests the storage functions and events): charges and checks like
/// any ABI call, then parks the guest's fiber until the embedder replies,
/// and finishes with the reply (the callee's status, a read's value).
async fn abi_call_suspending(
    mut caller: Caller<'_, StoreData>,
    f: HostFn,
    params: &[Val],
    results: &mut [Val],
) -> wasmtime::Result<()> {
    let args = params
        .iter()
        .map(|v| from_val(&caller, v))
        .collect::<Result<Vec<_>, _>>()
        .map_err(host_error)?;
    let value = match guest::abi_call(&mut Guest::new(&mut caller), f, &args) {
        Err(HostStop::Suspend(request)) => {
            let reply = suspend(&mut caller, *request).await;
            guest::complete_abi(&mut Guest::new(&mut caller), f, reply)
        }
        answered => answered,
    }
    .map_err(wasmtime::Error::new)?;
    if let Some(slot) = results.first_mut() {
        *slot = match value {
            Some(value) => to_val(&mut caller, value).map_err(|e| host_error(e.to_string()))?,
            // A call refused before it was asked reports a failure.
            None => Val::I32(ward_abi::call::FAILED),
        };
    }
    Ok(())
}

/// Hands `request` to the embedder and waits, on the guest's fiber, for its
/// reply; `None` if none came (or the store was never made able to
/// suspend, which [`ward_vm::Sandbox::instantiate`] does for every module
/// importing something that can).
async fn suspend(caller: &mut Caller<'_, StoreData>, request: Request) -> Option<Reply> {
    let slot = caller.data().slot.clone()?;
    lock(&slot).request = Some(request);
    loop {
        YieldOnce(false).await;
        // Woken for the embedder's access to this guest's memory (a parent
        // servicing its child's syscall), or for the reply.
        let op = lock(&slot).memory_op.take();
        match op {
            Some(op) => {
                let done = op.apply(&mut *caller);
                lock(&slot).memory_done = Some(done);
            }
            None => return lock(&slot).reply.take(),
        }
    }
}

/// One call of an embedder-defined host import: answers at once, or
/// suspends the guest's fiber until the embedder replies.
async fn host_call(
    mut caller: Caller<'_, StoreData>,
    call: HostCall,
    params: &[Val],
    results: &mut [Val],
) -> wasmtime::Result<()> {
    let HostCall {
        index,
        expected,
        syscall,
    } = call;
    let args = params
        .iter()
        .map(|v| from_val(&caller, v))
        .collect::<Result<Vec<_>, _>>()
        .map_err(host_error)?;
    let first = if syscall {
        guest::syscall(&mut Guest::new(&mut caller), index, &expected, &args)
    } else {
        guest::host_call(&mut Guest::new(&mut caller), index, &expected, &args)
    };
    let values = match first {
        Err(HostStop::Suspend(request)) => {
            let reply = suspend(&mut caller, *request).await;
            guest::complete_host_call(&mut Guest::new(&mut caller), index, &expected, reply)
        }
        answered => answered,
    }
    .map_err(wasmtime::Error::new)?;
    for (slot, value) in results.iter_mut().zip(values) {
        *slot = to_val(&mut caller, value).map_err(|e| host_error(e.to_string()))?;
    }
    Ok(())
}

/// A `host_error` trap for a value the engine could not convert.
fn host_error(message: String) -> wasmtime::Error {
    wasmtime::Error::new(HostStop::Trap(Failure::new(ErrorKind::HostError, message)))
}

/// A future that is pending once, then ready: parks the guest's fiber.
pub(crate) struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            Poll::Pending
        }
    }
}
