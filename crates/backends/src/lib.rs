//! Both of Ward's backends behind one factory.
//!
//! An embedder (the CLI, the tests, the benchmarks, a node) that lets its
//! user choose an engine names it by [`BackendKind`] and gets an
//! `Arc<dyn Backend>`; only this crate and the backends themselves name
//! the backend types. An embedder that wants one engine only can depend on
//! that backend crate alone, or on this one without its default
//! `wasmtime` feature (wasmi alone, which builds in a fraction of the
//! time: what `ward-test` does unless asked for both).
//!
//! ```
//! use ward_vm::{BackendKind, Config};
//!
//! let config = Config::default();
//! for kind in BackendKind::ALL {
//!     let backend = ward_backends::new(kind, &config)?;
//!     assert_eq!(backend.kind(), kind);
//! }
//! # Ok::<(), ward_vm::Failure>(())
//! ```

use std::sync::Arc;

#[cfg(feature = "wasmtime")]
use ward_vm::TieredBackend;
use ward_vm::{Backend, BackendKind, Config, Failure};
use ward_vm_wasmi::WasmiBackend;
#[cfg(feature = "wasmtime")]
use ward_vm_wasmtime::WasmtimeBackend;

/// Wasmtime with tier-up: wasmi runs a module until wasmtime (compiling
/// on one worker thread, see [`Config::tier_up`]) has compiled it.
///
/// # Errors
///
/// When either engine cannot be built for `config`.
#[cfg(feature = "wasmtime")]
pub fn tiered(config: &Config) -> Result<TieredBackend, Failure> {
    let config = Config {
        tier_up: true,
        ..config.clone()
    };
    Ok(TieredBackend::new(
        Arc::new(WasmiBackend::new(&config)?),
        Arc::new(WasmtimeBackend::new(&config)?),
    ))
}

/// The backend of `kind` for `config`: for wasmtime with
/// [`Config::tier_up`], a [`TieredBackend`] that runs a module on wasmi
/// until wasmtime has compiled it.
///
/// # Errors
///
/// When the engine cannot be built for `config`, or is wasmtime in a
/// build without the `wasmtime` feature.
pub fn new(kind: BackendKind, config: &Config) -> Result<Arc<dyn Backend>, Failure> {
    Ok(match kind {
        #[cfg(feature = "wasmtime")]
        BackendKind::Wasmtime if config.tier_up => Arc::new(tiered(config)?),
        #[cfg(feature = "wasmtime")]
        BackendKind::Wasmtime => Arc::new(WasmtimeBackend::new(config)?),
        #[cfg(not(feature = "wasmtime"))]
        BackendKind::Wasmtime => {
            return Err(Failure::new(
                ward_vm::ErrorKind::UnsupportedFeature,
                "this build of ward-backends has no wasmtime (its `wasmtime` feature is off)",
            ));
        }
        BackendKind::Wasmi => Arc::new(WasmiBackend::new(config)?),
    })
}
