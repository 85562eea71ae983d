//! The calling instance as the host ABI sees it: its memory and gas meter,
//! found once per store when it has one instance, and [`Guest`], the
//! adapter the host-function trampolines hand to [`ward_vm::guest`].

use ward_vm::CallContext;
use wasmi::{AsContextMut, Caller, Store, Val};

use crate::sandbox::StoreData;

/// What a store records of its instances' exports.
pub(crate) type CallerExports = ward_vm::guest::CallerExports<wasmi::Memory, wasmi::Global>;

/// The caller's memory: recorded, or looked up by name.
pub(crate) fn caller_memory(caller: &Caller<'_, StoreData>) -> Option<wasmi::Memory> {
    caller.data().exports.memory().unwrap_or_else(|| {
        caller
            .get_export(ward_abi::MEMORY_EXPORT)
            .and_then(wasmi::Extern::into_memory)
    })
}

/// The caller's gas global: recorded, or looked up by name.
pub(crate) fn caller_gas(caller: &Caller<'_, StoreData>) -> Option<wasmi::Global> {
    caller.data().exports.gas().unwrap_or_else(|| {
        caller
            .get_export(ward_instrument::GAS_EXPORT)
            .and_then(wasmi::Extern::into_global)
    })
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
        let gas = store.data().exports.newest().1;
        Guest { ctx: store, gas }
    }
}

/// What a caller and a store both give: the store's data and the calling
/// instance's memory.
pub(crate) trait Calling: AsContextMut<Data = StoreData> {
    fn store_data(&mut self) -> &mut StoreData;
    fn find_memory(&self) -> Option<wasmi::Memory>;
    /// The calling instance's depth global, when there is a caller.
    fn find_stack(&self) -> Option<wasmi::Global>;
}

impl Calling for Caller<'_, StoreData> {
    fn store_data(&mut self) -> &mut StoreData {
        self.data_mut()
    }

    fn find_memory(&self) -> Option<wasmi::Memory> {
        caller_memory(self)
    }

    fn find_stack(&self) -> Option<wasmi::Global> {
        self.get_export(ward_instrument::STACK_EXPORT)
            .and_then(wasmi::Extern::into_global)
    }
}

impl Calling for Store<StoreData> {
    fn store_data(&mut self) -> &mut StoreData {
        self.data_mut()
    }

    fn find_memory(&self) -> Option<wasmi::Memory> {
        self.data().exports.newest().0
    }

    // Finishing a suspended call reads no depth: only a host function
    // does, while its caller runs.
    fn find_stack(&self) -> Option<wasmi::Global> {
        None
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

    fn stack(&mut self) -> u32 {
        match self.ctx.find_stack().map(|g| g.get(&*self.ctx)) {
            Some(Val::I32(depth)) => depth as u32,
            _ => 0,
        }
    }
}
