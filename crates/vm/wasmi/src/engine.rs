//! The backend: wasmi's engine configured for Ward's feature set and stack,
//! compilation, and the [`ward_vm::Backend`] implementation.

use std::sync::Arc;

use ward_vm::{
    Backend, BackendKind, CallContext, Config, EngineModule, ErrorKind, ExportType, Failure,
    ImportType, Module, Sandbox,
    recycle::{self, RecycleBudget, RecyclePool, Recycled},
};
use wasmi::{Engine, Instance, Linker, StoreLimits, StoreLimitsBuilder};

use crate::convert::extern_type;
use crate::linker::build_linker;
use crate::sandbox::StoreData;
use crate::sandbox::WasmiSandbox;

/// wasmi's frame limit: twice the most frames Ward's default stack-unit limit
/// allows (every frame costs at least one unit).
pub(crate) const MAX_RECURSION_DEPTH: usize = 1 << 16;

/// wasmi's value-stack limit, in bytes: ample for Ward's default limit.
pub(crate) const MAX_STACK_HEIGHT: usize = 16 << 20;

/// Fuel per slice between deadline checks (roughly a millisecond of work).
pub(crate) const FUEL_SLICE: u64 = 1 << 20;

/// Ward's wasmi backend. Create one per [`Config`] and share it.
pub struct WasmiBackend {
    pub(crate) engine: Engine,
    pub(crate) shared: Arc<Shared>,
}

/// What every sandbox of a backend shares (one reference count per
/// sandbox).
pub(crate) struct Shared {
    pub(crate) linker: Linker<StoreData>,
    pub(crate) config: Config,
    pub(crate) limits: StoreLimits,
    /// What recycled instances may hold.
    pub(crate) budget: Arc<RecycleBudget>,
}

/// A compiled module and its recycled instances.
pub(crate) struct Compiled {
    pub(crate) module: wasmi::Module,
    pub(crate) recycled: RecyclePool<Recycled<WasmiSandbox, Instance>>,
}

impl WasmiBackend {
    /// Creates a backend: an engine with exactly the configured features,
    /// and a linker holding the host ABI and the configured host imports.
    ///
    /// # Errors
    ///
    /// When SIMD is enabled (this build of wasmi has no SIMD), or when a host
    /// import cannot be defined (a duplicate name).
    pub fn new(config: &Config) -> Result<Self, Failure> {
        if config.policy.features.simd {
            // Built without wasmi's `simd` feature: both backends must accept
            // the same modules, so SIMD is refused outright.
            return Err(Failure::new(
                ErrorKind::UnsupportedFeature,
                "the wasmi backend is built without SIMD",
            ));
        }
        let engine = Engine::new(&engine_config(config));
        let linker = build_linker(&engine, config).map_err(|e| {
            Failure::new(
                ErrorKind::HostError,
                format!("wasmi linker setup failed: {e}"),
            )
        })?;
        let limits = StoreLimitsBuilder::new()
            .memory_size(config.policy.limits.max_memory_pages as usize * 65536)
            .table_elements(config.policy.limits.max_table_elements as usize)
            .build();
        Ok(WasmiBackend {
            engine,
            shared: Arc::new(Shared {
                linker,
                config: config.clone(),
                limits,
                budget: Arc::new(RecycleBudget::new(
                    config.recycle_bytes,
                    u64::from(config.max_instances / 4),
                )),
            }),
        })
    }

    /// The wasmi engine (for benchmarks that compare against raw wasmi).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

pub(crate) fn engine_config(config: &Config) -> wasmi::Config {
    let mut c = wasmi::Config::default();
    c.wasm_mutable_global(true)
        .wasm_sign_extension(true)
        .wasm_saturating_float_to_int(true)
        .wasm_multi_value(true)
        .wasm_bulk_memory(true)
        .wasm_reference_types(true)
        .wasm_multi_memory(false)
        .wasm_tail_call(false)
        .wasm_extended_const(false)
        .wasm_custom_page_sizes(false)
        .wasm_wide_arithmetic(false)
        .consume_fuel(config.interruptible)
        // Fuel only measures time here (gas is Ward's instrumentation), in
        // slices between deadline checks. wasmi also charges a function's
        // lazy translation (7 fuel a byte) from the slice it is first
        // called in, where a shortfall is not resumable: the call failed
        // with out-of-fuel, which reads as `timeout`, when a large
        // function (the EVM runtime's) was first called late in a slice.
        // Translation is bounded by the policy's body limits: it is free.
        .fuel_cost(wasmi::CustomFuelCosts {
            bytes_copied_per_fuel: BYTES_COPIED_PER_FUEL,
            fuel_per_bytes_translated: 0,
            fuel_per_bytes_validated: 0,
        })
        // Ward's own call-depth limit (instrumentation) must always fire
        // first: allow far more frames and stack than it can use.
        .set_max_recursion_depth(MAX_RECURSION_DEPTH)
        .set_max_stack_height(MAX_STACK_HEIGHT);
    c
}

/// Bytes a bulk copy moves per unit of fuel: wasmi's own default.
const BYTES_COPIED_PER_FUEL: u32 = 64;

/// The wasmi release the workspace pins.
pub(crate) const WASMI_VERSION: &str = "2.0.0";

impl Backend for WasmiBackend {
    fn chain_requests(&self) -> bool {
        self.shared.config.chain_requests
    }

    fn kind(&self) -> BackendKind {
        BackendKind::Wasmi
    }

    fn sibling(&self, config: &Config) -> Result<Arc<dyn Backend>, Failure> {
        Ok(Arc::new(WasmiBackend::new(config)?))
    }

    fn compile(&self, wasm: &[u8]) -> Result<EngineModule, Failure> {
        let module = wasmi::Module::new(&self.engine, wasm)
            .map_err(|e| Failure::new(ErrorKind::InvalidWasm, e.to_string()))?;
        let imports = module
            .imports()
            .map(|i| ImportType {
                module: i.module().to_string(),
                name: i.name().to_string(),
                ty: extern_type(i.ty()),
            })
            .collect();
        let exports = module
            .exports()
            .map(|e| ExportType {
                name: e.name().to_string(),
                ty: extern_type(e.ty()),
            })
            .collect();
        // wasmi translates lazily; its footprint grows with the code, about
        // three times the bytes once translated.
        Ok(EngineModule {
            backend: BackendKind::Wasmi,
            imports,
            exports,
            footprint: wasm.len().saturating_mul(3),
            code: Arc::new(Compiled {
                module,
                recycled: RecyclePool::new(self.shared.budget.clone()),
            }),
        })
    }

    fn fingerprint(&self) -> String {
        format!("wasmi-{WASMI_VERSION};portable-dispatch")
    }

    fn sandbox(&self, context: CallContext) -> Box<dyn Sandbox> {
        Box::new(self.new_sandbox(context))
    }

    fn recycled_instances(&self) -> u64 {
        self.shared.budget.handed_out()
    }

    /// No: a mark is a handful of dispatched instructions per store,
    /// which on a contract that stores much cost more than restoring its
    /// whole memory. Interleaved in one build: `erc20_transfer_exec`
    /// 11.4-11.7 µs restored whole, 16.9-17.0 µs marked; only a call
    /// that stores almost nothing gains (`warm_call` 1.33 µs whole, 0.56
    /// µs marked).
    fn marks_writes(&self) -> bool {
        false
    }

    fn sandbox_for(&self, module: &Module, context: CallContext) -> Box<dyn Sandbox> {
        recycle::sandbox_for(module, &self.shared.budget, context, |context| {
            self.new_sandbox(context)
        })
    }
}
