//! The calling instance as the host ABI sees it: its memory and gas meter,
//! found once per store when it has one instance, and [`Guest`], the
//! adapter the host-function trampolines hand to [`ward_vm::guest`].

use ward_vm::CallContext;
use wasmi::{AsContextMut, Caller, Store, Val};

use crate::sandbox::StoreData;

/// The memory and gas global of the store's only instance, found once at
/// instantiation so that host calls need no lookup by name. With a second
/// instance in the store the caller is no longer known in advance, and host
/// calls look the caller's exports up instead.
#[derive(Default)]
pub(crate) struct CallerExports {
    pub(crate) instances: u32,
    pub(crate) memory: Option<wasmi::Memory>,
    pub(crate) gas: Option<wasmi::Global>,
}

pub(crate) fn caller_memory(caller: &Caller<'_, StoreData>) -> Option<wasmi::Memory> {
    if caller.data().exports.instances == 1 {
        return caller.data().exports.memory;
    }
    caller
        .get_export(ward_abi::MEMORY_EXPORT)
        .and_then(wasmi::Extern::into_memory)
}

pub(crate) fn caller_gas(caller: &Caller<'_, StoreData>) -> Option<wasmi::Global> {
    if caller.data().exports.instances == 1 {
        return caller.data().exports.gas;
    }
    caller
        .get_export(ward_instrument::GAS_EXPORT)
        .and_then(wasmi::Extern::into_global)
}

/// The calling instance, for the ABI path in [`ward_vm::guest`]: inside a
/// host function (over its caller, `C` = [`Caller`]), or when a suspended
/// call is finished from the sandbox (over the store, whose only instance
/// made the call).
pub(crate) struct Guest<'a, C> {
    ctx: &'a mut C,
    gas: Option<wasmi::Global>,
}

impl<'a, 'b> Guest<'a, Caller<'b, StoreData>> {
    pub(crate) fn caller(caller: &'a mut Caller<'b, StoreData>) -> Self {
        let gas = caller_gas(caller);
        Guest { ctx: caller, gas }
    }
}

impl<'a> Guest<'a, Store<StoreData>> {
    pub(crate) fn store(store: &'a mut Store<StoreData>) -> Self {
        let gas = store.data().exports.gas;
        Guest { ctx: store, gas }
    }
}

/// What a caller and a store both give: the store's data and the calling
/// instance's memory.
pub(crate) trait Calling: AsContextMut<Data = StoreData> {
    fn store_data(&mut self) -> &mut StoreData;
    fn find_memory(&self) -> Option<wasmi::Memory>;
}

impl Calling for Caller<'_, StoreData> {
    fn store_data(&mut self) -> &mut StoreData {
        self.data_mut()
    }

    fn find_memory(&self) -> Option<wasmi::Memory> {
        caller_memory(self)
    }
}

impl Calling for Store<StoreData> {
    fn store_data(&mut self) -> &mut StoreData {
        self.data_mut()
    }

    fn find_memory(&self) -> Option<wasmi::Memory> {
        self.data().exports.memory
    }
}

impl<C: Calling> ward_vm::guest::Guest for Guest<'_, C> {
    fn context(&mut self) -> &mut CallContext {
        &mut self.ctx.store_data().context
    }

    fn context_and_memory(&mut self) -> (&mut CallContext, &mut [u8]) {
        match self.ctx.find_memory() {
            Some(memory) => {
                let (bytes, data) = memory.data_and_store_mut(&mut *self.ctx);
                (&mut data.context, bytes)
            }
            None => (&mut self.ctx.store_data().context, &mut []),
        }
    }

    fn is_metered(&mut self) -> bool {
        self.gas.is_some()
    }

    fn meter(&mut self) -> i64 {
        match self.gas.map(|gas| gas.get(&*self.ctx)) {
            Some(Val::I64(left)) => left,
            _ => 0,
        }
    }

    fn set_meter(&mut self, value: i64) {
        if let Some(gas) = self.gas {
            // The global is a mutable i64 made by the instrumentation:
            // setting it cannot fail.
            let _ = gas.set(&mut *self.ctx, Val::I64(value));
        }
    }
}
