//! Finished instances restored to the state of new ones.

use wasmtime::{Instance, Store};

use crate::engine::Compiled;
use crate::sandbox::{StoreData, WasmtimeSandbox, block_on};

/// A finished instance restored to the state of a new one, alone in the
/// store of the sandbox that ran it (kept whole: nothing is allocated to
/// reuse it).
pub(crate) struct Recycled {
    pub(crate) sandbox: Box<WasmtimeSandbox>,
    pub(crate) instance: Instance,
}

/// Restores a finished instance to the state of a new one: its memory to
/// the module's initial image and its mutable globals through
/// `__ward_reset`. `false` when it cannot be: the memory grew, or the
/// reset failed.
pub(crate) fn restore(
    store: &mut Store<StoreData>,
    instance: Instance,
    memory: Option<wasmtime::Memory>,
    compiled: &Compiled,
    async_required: bool,
) -> bool {
    if let Some(memory) = memory
        && !compiled
            .recycled
            .restore_memory(memory.data_mut(&mut *store))
    {
        return false;
    }
    let Some(index) = compiled.reset else {
        return true;
    };
    let Some(reset) = instance
        .get_module_export(&mut *store, &index)
        .and_then(wasmtime::Extern::into_func)
        .and_then(|f| f.typed::<(), ()>(&*store).ok())
    else {
        return false;
    };
    let done = if async_required {
        block_on(reset.call_async(&mut *store, ()))
    } else {
        reset.call(&mut *store, ())
    };
    done.is_ok()
}
