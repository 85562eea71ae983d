//! The calling instance as the host ABI sees it: its memory and gas meter,
//! found once per store when it has one instance, and [`Guest`], the
//! adapter the host-function trampolines hand to [`ward_vm::guest`].

use ward_vm::CallContext;
use wasmtime::{Caller, Val};

use crate::sandbox::StoreData;

/// What a store records of its instances' exports.
pub(crate) type CallerExports = ward_vm::guest::CallerExports<wasmtime::Memory, wasmtime::Global>;

/// The caller's memory: recorded, or looked up by name.
pub(crate) fn caller_memory(caller: &mut Caller<'_, StoreData>) -> Option<wasmtime::Memory> {
    caller.data().exports.memory().unwrap_or_else(|| {
        caller
            .get_export(ward_abi::MEMORY_EXPORT)
            .and_then(wasmtime::Extern::into_memory)
    })
}

/// The caller's gas global: recorded, or looked up by name.
pub(crate) fn caller_gas(caller: &mut Caller<'_, StoreData>) -> Option<wasmtime::Global> {
    caller.data().exports.gas().unwrap_or_else(|| {
        caller
            .get_export(ward_instrument::GAS_EXPORT)
            .and_then(wasmtime::Extern::into_global)
    })
}
/// The calling instance inside a host function, for the ABI path in
/// [`ward_vm::guest`]. The gas global is found once per call; memory only
/// when a function asks for it.
pub(crate) struct Guest<'a, 'b> {
    caller: &'a mut Caller<'b, StoreData>,
    gas: Option<wasmtime::Global>,
}

impl<'a, 'b> Guest<'a, 'b> {
    pub(crate) fn new(caller: &'a mut Caller<'b, StoreData>) -> Self {
        let gas = caller_gas(caller);
        Guest { caller, gas }
    }
}

impl ward_vm::guest::Guest for Guest<'_, '_> {
    fn context(&mut self) -> &mut CallContext {
        &mut self.caller.data_mut().context
    }

    fn context_and_memory(&mut self) -> (&mut CallContext, &mut [u8]) {
        match caller_memory(self.caller) {
            Some(memory) => {
                let (bytes, data) = memory.data_and_store_mut(&mut *self.caller);
                (&mut data.context, bytes)
            }
            None => (&mut self.caller.data_mut().context, &mut []),
        }
    }

    fn is_metered(&mut self) -> bool {
        self.gas.is_some()
    }

    fn meter(&mut self) -> i64 {
        self.gas
            .and_then(|gas| gas.get(&mut *self.caller).i64())
            .unwrap_or(0)
    }

    fn set_meter(&mut self, value: i64) {
        if let Some(gas) = self.gas {
            // The global is a mutable i64 made by the instrumentation:
            // setting it cannot fail.
            let _ = gas.set(&mut *self.caller, Val::I64(value));
        }
    }

    fn stack(&mut self) -> u32 {
        self.caller
            .get_export(ward_instrument::STACK_EXPORT)
            .and_then(wasmtime::Extern::into_global)
            .and_then(|g| g.get(&mut *self.caller).i32())
            .map_or(0, |depth| depth as u32)
    }
}
