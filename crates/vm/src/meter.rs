//! The meters of an instrumented instance: the globals the pass exports.
//!
//! Ward's gas and call-depth accounting live inside the instance, in
//! exported globals, so the guest's fast path never leaves wasm. This module
//! is the embedder's side of them, the same for every backend: arm them
//! before a call, read them after, and turn the instrumentation's
//! `unreachable` into the outcome it stands for.

use ward_instrument::{TRAP_OUT_OF_GAS, TRAP_STACK_OVERFLOW};
use ward_primitives::Gas;

use crate::{ErrorKind, Extern, Failure, InstanceId, Sandbox, SandboxError, Value};

/// Handles to an instance's meter globals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meter {
    /// `__ward_gas`, present when the module is engine-metered.
    gas: Option<Extern>,
    trap: Extern,
    depth: Extern,
}

/// Gas values live in an i64 global: limits are clamped to this.
pub const MAX_GAS: Gas = Gas::new(i64::MAX as u64);

/// `gas` as the value of a `__ward_gas` global (clamped to [`MAX_GAS`]).
pub fn gas_global_value(gas: Gas) -> i64 {
    gas.min(MAX_GAS).get() as i64
}

impl Meter {
    /// The meters of `instance`, or `None` if it was not instrumented.
    pub fn find(sandbox: &mut dyn Sandbox, instance: InstanceId) -> Option<Meter> {
        let (gas, trap, depth) = sandbox.meter_exports(instance)?;
        Some(Meter { gas, trap, depth })
    }

    /// Prepares for a call: `gas_left` in the gas global (clamped to
    /// [`MAX_GAS`]), no trap reason, no stack in use.
    ///
    /// # Errors
    ///
    /// A [`SandboxError`] if the globals cannot be written.
    pub fn arm(&self, sandbox: &mut dyn Sandbox, gas_left: Gas) -> Result<(), SandboxError> {
        if let Some(gas) = self.gas {
            let left = gas_global_value(gas_left);
            sandbox.global_set(gas, Value::I64(left))?;
        }
        sandbox.global_set(self.trap, Value::I32(0))?;
        sandbox.global_set(self.depth, Value::I32(0))
    }

    /// The gas left in the instance, if it meters gas.
    ///
    /// # Errors
    ///
    /// A [`SandboxError`] if the global cannot be read.
    pub fn gas_left(&self, sandbox: &mut dyn Sandbox) -> Result<Option<Gas>, SandboxError> {
        let Some(gas) = self.gas else { return Ok(None) };
        match sandbox.global_get(gas)? {
            Value::I64(left) => Ok(Some(Gas::new(left.max(0) as u64))),
            other => Err(SandboxError::BadArguments(format!(
                "gas global holds {other:?}"
            ))),
        }
    }

    /// Turns an `unreachable` the instrumentation executed into the outcome
    /// it records (`out_of_gas`, `stack_overflow`); other failures pass
    /// through.
    pub fn classify(&self, sandbox: &mut dyn Sandbox, failure: Failure) -> Failure {
        if failure.kind != ErrorKind::Unreachable {
            return failure;
        }
        match sandbox.global_get(self.trap) {
            Ok(Value::I32(TRAP_OUT_OF_GAS)) => Failure::new(ErrorKind::OutOfGas, "out of gas"),
            Ok(Value::I32(TRAP_STACK_OVERFLOW)) => {
                Failure::new(ErrorKind::StackOverflow, "call depth limit exceeded")
            }
            _ => failure,
        }
    }
}
