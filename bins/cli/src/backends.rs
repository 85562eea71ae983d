//! The one place the CLI picks an engine.

use std::sync::Arc;

use ward_vm::{Backend, BackendKind, Config, Failure};
use ward_vm_wasmi::WasmiBackend;
use ward_vm_wasmtime::WasmtimeBackend;

/// Creates the backend of `kind` for `config`.
pub(crate) fn create(kind: BackendKind, config: &Config) -> Result<Arc<dyn Backend>, Failure> {
    Ok(match kind {
        BackendKind::Wasmtime => Arc::new(WasmtimeBackend::new(config)?),
        BackendKind::Wasmi => Arc::new(WasmiBackend::new(config)?),
    })
}
