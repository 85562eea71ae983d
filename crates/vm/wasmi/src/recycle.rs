//! Finished instances restored to the state of new ones: wasmi's side of
//! [`ward_vm::recycle::Recyclable`].

use ward_vm::{
    CallContext,
    recycle::{Home, Recyclable, RecyclePool, Recycled},
};
use wasmi::Instance;

use crate::engine::Compiled;
use crate::sandbox::WasmiSandbox;

impl Recyclable for WasmiSandbox {
    type Compiled = Compiled;
    type Instance = Instance;

    fn pool(compiled: &Compiled) -> &RecyclePool<Recycled<WasmiSandbox, Instance>> {
        &compiled.recycled
    }

    fn home(&mut self) -> &mut Option<Home<Compiled, Instance>> {
        &mut self.home
    }

    fn set_context(&mut self, context: CallContext) {
        self.store.data_mut().context = context;
    }

    fn only_instance(&self) -> Option<(Instance, u64)> {
        let &[instance] = self.instances.as_slice() else {
            return None;
        };
        if self.suspended.is_some() {
            return None;
        }
        let memory = self.store.data().exports.newest().0;
        Some((
            instance,
            memory.map_or(0, |m| m.data(&self.store).len() as u64),
        ))
    }

    fn memory_mut(&mut self) -> Option<&mut [u8]> {
        let memory = self.store.data().exports.newest().0?;
        Some(memory.data_mut(&mut self.store))
    }

    fn take_written(&mut self, _instance: Instance, _compiled: &Compiled) -> Option<u64> {
        let host = self.store.data_mut().context.take_written();
        // Found when the instance was new, and kept with the sandbox.
        let dirty = self.dirty?;
        let marked = dirty.get(&self.store).i64()?;
        // A mutable i64 made by the instrumentation: setting it cannot fail.
        dirty.set(&mut self.store, wasmi::Val::I64(0)).ok()?;
        Some(marked as u64 | host)
    }

    fn reset_globals(&mut self, _instance: Instance, _compiled: &Compiled) -> bool {
        // Found when the instance was new, and kept with the sandbox.
        let Some(reset) = self.reset else {
            return true;
        };
        // Fuel only measures time here; the reset is a few global sets.
        if self.shared.config.interruptible && self.store.set_fuel(u64::MAX).is_err() {
            return false;
        }
        reset
            .typed::<(), ()>(&self.store)
            .is_ok_and(|reset| reset.call(&mut self.store, ()).is_ok())
    }

    fn clear(&mut self) {
        self.store.data_mut().context = CallContext::default();
        self.instances.clear();
        self.externs.clear();
        self.deadline = None;
        self.cancel = None;
    }
}
