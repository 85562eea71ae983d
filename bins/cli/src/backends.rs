//! The one place the CLI picks an engine.

use std::sync::Arc;

use ward_vm::{Backend, BackendKind, Config, Failure};

/// Creates the backend of `kind` for `config`.
pub(crate) fn create(kind: BackendKind, config: &Config) -> Result<Arc<dyn Backend>, Failure> {
    ward_backends::new(kind, config)
}
