//! Raw-engine steps for the profiling examples (`warm_ladder`,
//! `warm_probe`): the same work as Ward's warm call, on Ward's own engines,
//! without Ward's code, so each step of the difference can be timed.

use std::hint::black_box;

use ward_vm::Config;

use crate::{TRIVIAL_WAT, Work};

/// The trivial contract as Ward's policy instruments it.
///
/// # Panics
///
/// When the policy refuses it.
pub fn instrumented_trivial(config: &Config) -> Vec<u8> {
    let wasm = wat::parse_str(TRIVIAL_WAT).expect("parses");
    ward_instrument::prepare(&wasm, &config.effective_policy())
        .expect("instruments")
        .wasm
}

/// Raw wasmtime on `engine` (Ward's, epoch-interruptible): a store with no
/// deadline, an instance of `wasm` from a pre-linked module, `main`, drop;
/// with `arm_gas`, the instrumented module's gas global is set before and
/// read after, as Ward does.
///
/// # Panics
///
/// When the module does not compile or lacks what the step uses.
pub fn raw_wasmtime_on(engine: wasmtime::Engine, wasm: &[u8], arm_gas: bool) -> Work {
    let module = wasmtime::Module::new(&engine, wasm).expect("compiles");
    let pre = wasmtime::Linker::<()>::new(&engine)
        .instantiate_pre(&module)
        .expect("links");
    let gas = module
        .get_export_index(ward_instrument::GAS_EXPORT)
        .filter(|_| arm_gas);
    let main = module.get_export_index("main").expect("main");
    Box::new(move || {
        let mut store = wasmtime::Store::new(&engine, ());
        store.epoch_deadline_trap();
        store.set_epoch_deadline(u64::MAX / 4);
        let instance = pre.instantiate(&mut store).expect("instantiates");
        let gas = gas.map(|gas| {
            let global = instance
                .get_module_export(&mut store, &gas)
                .and_then(wasmtime::Extern::into_global)
                .expect("gas global");
            global
                .set(&mut store, wasmtime::Val::I64(1 << 40))
                .expect("sets gas");
            global
        });
        instance
            .get_module_export(&mut store, &main)
            .and_then(wasmtime::Extern::into_func)
            .expect("main")
            .typed::<(), ()>(&store)
            .expect("main: [] -> []")
            .call(&mut store, ())
            .expect("runs");
        if let Some(global) = gas {
            black_box(global.get(&mut store));
        }
        black_box(store);
    })
}

/// Raw wasmi on `engine` (Ward's): the same steps as [`raw_wasmtime_on`].
///
/// # Panics
///
/// When the module does not compile or lacks what the step uses.
pub fn raw_wasmi_on(engine: wasmi::Engine, wasm: &[u8], arm_gas: bool) -> Work {
    let module = wasmi::Module::new(&engine, wasm).expect("compiles");
    let linker = wasmi::Linker::<()>::new(&engine);
    Box::new(move || {
        let mut store = wasmi::Store::new(&engine, ());
        // Ward's interruptible engines meter fuel (for time slices only);
        // elsewhere there is nothing to fill.
        let _ = store.set_fuel(u64::MAX);
        let instance = linker
            .instantiate_and_start(&mut store, &module)
            .expect("instantiates");
        let gas = arm_gas
            .then(|| instance.get_global(&store, ward_instrument::GAS_EXPORT))
            .flatten();
        if let Some(global) = gas {
            global
                .set(&mut store, wasmi::Val::I64(1 << 40))
                .expect("sets gas");
        }
        instance
            .get_typed_func::<(), ()>(&store, "main")
            .expect("main")
            .call(&mut store, ())
            .expect("runs");
        if let Some(global) = gas {
            black_box(global.get(&store));
        }
        black_box(store);
    })
}
