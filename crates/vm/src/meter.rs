//! The meters of an instrumented instance: the two globals the pass
//! exports.
//!
//! Ward's gas and call-depth accounting live inside the instance, in
//! globals, so the guest's fast path never leaves wasm. The meter
//! (`__ward_gas`, or `__ward_trap` when self-metered) holds the gas left,
//! or after Ward's code trapped, why; the depth (`__ward_stack`) is where
//! the next entry's stack starts. This module is the embedder's side of
//! them, the same for every backend: arm them before a call, read the
//! meter after, and turn the instrumentation's `unreachable` into the
//! outcome it stands for.

use ward_instrument::{STACK_EXPORT, TRAP_OUT_OF_GAS, TRAP_STACK_OVERFLOW};
use ward_primitives::Gas;

use crate::{ErrorKind, Extern, Failure, InstanceId, Sandbox, SandboxError, Value};

/// The handle to an instance's meter global.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meter {
    global: Extern,
    /// The global holds gas (`__ward_gas`, engine-metered), not only a trap
    /// reason (`__ward_trap`, self-metered).
    holds_gas: bool,
    /// The depth global (`__ward_stack`).
    stack: Option<Extern>,
}

/// Gas values live in an i64 global: limits are clamped to this.
pub const MAX_GAS: Gas = Gas::MAX_LIMIT;

/// `gas` as the value of a `__ward_gas` global (clamped to [`MAX_GAS`]).
pub fn gas_global_value(gas: Gas) -> i64 {
    gas.min(MAX_GAS).get() as i64
}

impl Meter {
    /// The meter of `instance`, or `None` if it was not instrumented.
    pub fn find(sandbox: &mut dyn Sandbox, instance: InstanceId) -> Option<Meter> {
        let (global, holds_gas) = sandbox.meter_export(instance)?;
        let stack = sandbox.export(instance, STACK_EXPORT);
        Some(Meter {
            global,
            holds_gas,
            stack,
        })
    }

    /// Prepares for a call: `gas_left` in an engine-metered instance's gas
    /// global (clamped to [`MAX_GAS`]), no trap reason in a self-metered
    /// one's, and `stack_base` (what the frames below already use of the
    /// transaction's stack budget) in its depth global, where every entry
    /// from the host starts counting. Written before every entry, so that
    /// no depth a trapped call left behind survives.
    ///
    /// # Errors
    ///
    /// A [`SandboxError`] if a global cannot be written.
    pub fn arm(
        &self,
        sandbox: &mut dyn Sandbox,
        gas_left: Gas,
        stack_base: u32,
    ) -> Result<(), SandboxError> {
        let value = if self.holds_gas {
            gas_global_value(gas_left)
        } else {
            0
        };
        sandbox.global_set(self.global, Value::I64(value))?;
        match self.stack {
            Some(stack) => sandbox.global_set(stack, Value::I32(stack_base as i32)),
            None => Ok(()),
        }
    }

    /// The gas left in the instance, if it meters gas (0 after a trap).
    ///
    /// # Errors
    ///
    /// A [`SandboxError`] if the global cannot be read.
    pub fn gas_left(&self, sandbox: &mut dyn Sandbox) -> Result<Option<Gas>, SandboxError> {
        if !self.holds_gas {
            return Ok(None);
        }
        match sandbox.global_get(self.global)? {
            Value::I64(left) => Ok(Some(Gas::new(left.max(0) as u64))),
            other => Err(SandboxError::BadArguments(format!(
                "gas global holds {other:?}"
            ))),
        }
    }

    /// Turns an `unreachable` the instrumentation executed into the outcome
    /// its meter records (`out_of_gas`, `stack_overflow`); other failures
    /// pass through.
    pub fn classify(&self, sandbox: &mut dyn Sandbox, failure: Failure) -> Failure {
        if failure.kind != ErrorKind::Unreachable {
            return failure;
        }
        match sandbox.global_get(self.global) {
            Ok(Value::I64(TRAP_OUT_OF_GAS)) => Failure::new(ErrorKind::OutOfGas, "out of gas"),
            Ok(Value::I64(TRAP_STACK_OVERFLOW)) => {
                Failure::new(ErrorKind::StackOverflow, "call depth limit exceeded")
            }
            _ => failure,
        }
    }
}
