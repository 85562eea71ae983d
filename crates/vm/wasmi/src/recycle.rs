//! Finished instances restored to the state of new ones.

use ward_vm::recycle::RecyclePool;
use wasmi::{Instance, Store};

use crate::sandbox::{StoreData, WasmiSandbox};

/// A finished instance restored to the state of a new one, alone in the
/// store of the sandbox that ran it (kept whole: nothing is allocated or
/// moved to reuse it).
pub(crate) struct Recycled {
    pub(crate) sandbox: Box<WasmiSandbox>,
    pub(crate) instance: Instance,
}

/// Restores a finished instance to the state of a new one: its memory to
/// the module's initial image and its mutable globals through
/// `__ward_reset`. `false` when it cannot be: the memory grew, or the reset
/// failed.
pub(crate) fn restore(
    store: &mut Store<StoreData>,
    memory: Option<wasmi::Memory>,
    reset: Option<wasmi::Func>,
    pool: &RecyclePool<Recycled>,
    metered_by_fuel: bool,
) -> bool {
    if let Some(memory) = memory
        && !pool.restore_memory(memory.data_mut(&mut *store))
    {
        return false;
    }
    if let Some(reset) = reset {
        // Fuel only measures time here; the reset is a few global sets.
        if metered_by_fuel && store.set_fuel(u64::MAX).is_err() {
            return false;
        }
        let Ok(reset) = reset.typed::<(), ()>(&*store) else {
            return false;
        };
        if reset.call(&mut *store, ()).is_err() {
            return false;
        }
    }
    true
}
