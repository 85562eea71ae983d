//! Finished instances restored to the state of new ones: wasmtime's side
//! of [`ward_vm::recycle::Recyclable`].

use ward_vm::{
    CallContext,
    recycle::{Home, Recyclable, RecyclePool, Recycled},
};
use wasmtime::{Instance, Val};

use crate::engine::Compiled;
use crate::sandbox::{NO_DEADLINE, WasmtimeSandbox, block_on};

impl Recyclable for WasmtimeSandbox {
    type Compiled = Compiled;
    type Instance = Instance;

    fn pool(compiled: &Compiled) -> &RecyclePool<Recycled<WasmtimeSandbox, Instance>> {
        &compiled.recycled
    }

    fn home(&mut self) -> &mut Option<Home<Compiled, Instance>> {
        &mut self.home
    }

    fn set_context(&mut self, context: CallContext) {
        if let Some(store) = self.store.as_mut() {
            store.data_mut().context = context;
        }
    }

    fn only_instance(&self) -> Option<(Instance, u64)> {
        let &[(instance, _)] = self.instances.as_slice() else {
            return None;
        };
        // A suspended call owns the store.
        let store = self.store.as_ref()?;
        let memory = store.data().exports.newest().0;
        Some((instance, memory.map_or(0, |m| m.data_size(store) as u64)))
    }

    fn memory_mut(&mut self) -> Option<&mut [u8]> {
        let store = self.store.as_mut()?;
        let memory = store.data().exports.newest().0?;
        Some(memory.data_mut(store))
    }

    fn take_written(&mut self, instance: Instance, compiled: &Compiled) -> Option<u64> {
        let store = self.store.as_mut()?;
        let host = store.data_mut().context.take_written();
        let dirty = instance
            .get_module_export(&mut *store, compiled.dirty.as_ref()?)
            .and_then(wasmtime::Extern::into_global)?;
        let marked = dirty.get(&mut *store).i64()?;
        // A mutable i64 made by the instrumentation: setting it cannot fail.
        dirty.set(&mut *store, Val::I64(0)).ok()?;
        Some(marked as u64 | host)
    }

    fn reset_globals(&mut self, instance: Instance, compiled: &Compiled) -> bool {
        let (async_required, ticker) = (self.async_required, self.ticker);
        let Some(store) = self.store.as_mut() else {
            return false;
        };
        if ticker {
            store.set_epoch_deadline(NO_DEADLINE);
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

    fn clear(&mut self) {
        if let Some(store) = self.store.as_mut() {
            store.data_mut().context = CallContext::default();
        }
        self.instances.clear();
        self.externs.clear();
        self.deadline = None;
        self.cancel = None;
    }
}
