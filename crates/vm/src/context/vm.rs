//! The `vm_*` host functions: a guest compiles, instantiates and runs
//! child modules through the embedder's [`Children`], servicing their
//! syscalls itself. Results follow `ward_abi::vm`: a value or id, or a
//! negative error. Bad pointers in the caller's memory trap, as everywhere
//! in the ABI; everything about the child is an error code.

use ward_abi::{HostFn, vm};

use super::{
    CallContext, GuestMemory,
    abi::{Answer, Args, checked_range},
};
use crate::{ChildError, ChildStep, Children, ErrorKind, HostStop, Value};

impl ChildError {
    /// Its code in `ward_abi::vm`.
    pub fn code(self) -> i64 {
        match self {
            ChildError::InvalidModule => vm::INVALID_MODULE,
            ChildError::NotFound => vm::NOT_FOUND,
            ChildError::InvalidInstance => vm::INVALID_INSTANCE,
            ChildError::BadArgument => vm::BAD_ARGUMENT,
            ChildError::OutOfGas => vm::OUT_OF_GAS,
            ChildError::LimitExceeded => vm::LIMIT_EXCEEDED,
            ChildError::Trapped(kind) => trapped(kind),
            // Never given to the guest (`CallContext::call_vm` ends the
            // parent's call instead); `host_error`'s code if it were.
            ChildError::Interrupted(_) => trapped(ErrorKind::HostError),
        }
    }
}

/// `vm::TRAPPED - k` for trap kind `kind` (a kind not in the list, which a
/// child cannot reach, reads as `host_error`'s).
fn trapped(kind: ErrorKind) -> i64 {
    let name = kind.as_str();
    let k = vm::TRAP_KINDS
        .iter()
        .position(|&n| n == name)
        .unwrap_or(vm::TRAP_KINDS.len() - 1);
    vm::TRAPPED - (k as i64 + 1)
}

/// An export's name, which must be UTF-8 (any other is no export's).
fn export_name(bytes: &[u8]) -> Result<&str, ChildError> {
    std::str::from_utf8(bytes).map_err(|_| ChildError::NotFound)
}

fn value(v: i64) -> Answer {
    Ok(Some(Value::I64(v)))
}

impl CallContext {
    /// Offers children to the guest's `vm_*` functions (without them every
    /// `vm_*` call answers `vm::UNAVAILABLE`).
    pub fn with_children(mut self, children: Children) -> Self {
        self.children = Some(Box::new(children));
        self
    }

    /// Takes the children back.
    pub fn take_children(&mut self) -> Option<Box<Children>> {
        self.children.take()
    }

    /// Runs the children under the call's `deadline` and `cancel` flag
    /// ([`Children::set_interrupt`]; [`crate::begin`] calls it).
    pub(crate) fn interrupt_children(
        &mut self,
        deadline: Option<std::time::Instant>,
        cancel: Option<&crate::Cancel>,
    ) {
        if let Some(children) = self.children.as_mut() {
            children.set_interrupt(deadline, cancel.cloned());
        }
    }

    /// One `vm_*` function (the table's cost already paid).
    pub(super) fn call_vm(
        &mut self,
        f: HostFn,
        args: Args<'_>,
        memory: &mut GuestMemory<'_>,
    ) -> Answer {
        let Some(mut children) = self.children.take() else {
            return value(vm::UNAVAILABLE);
        };
        let result = self.vm(&mut children, f, args, memory);
        // What the children ran is the caller's to pay.
        let used = children.take_used();
        self.children = Some(children);
        let charged = self.charge(used);
        let result = result?;
        if let Err(ChildError::Interrupted(kind)) = result {
            // The parent's deadline or cancel flag: its call ends the same
            // way, with no outcome a guest could act on.
            return Err(HostStop::Trap(crate::Failure::new(
                kind,
                "a child module was interrupted by the call's deadline or cancel flag",
            )));
        }
        charged?;
        value(result.unwrap_or_else(ChildError::code))
    }

    fn vm(
        &mut self,
        children: &mut Children,
        f: HostFn,
        args: Args<'_>,
        memory: &mut GuestMemory<'_>,
    ) -> Result<Result<i64, ChildError>, HostStop> {
        // Ids and offsets are non-negative.
        let id =
            |i: usize| u64::try_from(args.i64(i).unwrap_or(-1)).map_err(|_| ChildError::NotFound);
        let offset = |i: usize| {
            u64::try_from(args.i64(i).unwrap_or(-1)).map_err(|_| ChildError::BadArgument)
        };
        Ok(match f {
            HostFn::VmCompile => {
                let code = args.range(0, 1, memory, "vm_compile: code")?;
                children.compile(&memory[code]).map(|m| m as i64)
            }
            HostFn::VmCompileStored => {
                let at = checked_range(args.i32(0), 32, memory.len(), "vm_compile_stored: hash")?;
                let mut hash = [0u8; 32];
                hash.copy_from_slice(&memory[at]);
                match self.chain.code(&hash).map_err(|e| self.chain_stop(e))? {
                    None => Err(ChildError::NotFound),
                    Some(code) => {
                        let rate = u64::from(self.schedule.deploy_per_byte);
                        self.charge(rate.saturating_mul(code.len() as u64))?;
                        children
                            .compile_stored(crate::CodeHash(hash), &code)
                            .map(|m| m as i64)
                    }
                }
            }
            HostFn::VmLookup => {
                let at = args.range(1, 2, memory, "vm_lookup: name")?;
                let export = export_name(&memory[at]);
                id(0)
                    .and_then(|module| children.lookup(module, export?))
                    .map(|n| n as i64)
            }
            HostFn::VmInstantiate => match id(0) {
                Ok(module) => {
                    // The instance's own cost (`docs/gas.md`), before it
                    // is made.
                    self.charge(children.instance_gas(module))?;
                    children.instantiate(module).map(|i| i as i64)
                }
                Err(e) => Err(e),
            },
            HostFn::VmRun => {
                let at = args.range(1, 2, memory, "vm_run: name")?;
                let nargs = args.len(4);
                let list = checked_range(
                    args.i32(3),
                    (nargs.min(u64::from(vm::MAX_ARGS)) * 8) as i32,
                    memory.len(),
                    "vm_run: arguments",
                )?;
                let out = checked_range(
                    args.i32(6),
                    vm::STEP_BYTES as i32,
                    memory.len(),
                    "vm_run: step",
                )?;
                let requested = args.i64(5).unwrap_or(-1);
                let step = if nargs > u64::from(vm::MAX_ARGS) || requested < 0 {
                    Err(ChildError::BadArgument)
                } else {
                    let values: Vec<i64> = memory[list]
                        .chunks_exact(8)
                        .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                        .collect();
                    let gas = (requested as u64).min(self.gas_left.get());
                    let export = export_name(&memory[at]);
                    let base = self.stack_above(vm::STACK_UNITS);
                    id(0).and_then(|child| children.run(child, export?, &values, gas, base))
                };
                step.map(|s| write_step(&s, &mut memory[out]))
            }
            HostFn::VmResume => {
                let out = checked_range(
                    args.i32(2),
                    vm::STEP_BYTES as i32,
                    memory.len(),
                    "vm_resume: step",
                )?;
                let value = args.i64(1).unwrap_or(0);
                id(0)
                    .and_then(|child| children.resume(child, value))
                    .map(|s| write_step(&s, &mut memory[out]))
            }
            HostFn::VmReadMemory => {
                let dst = args.range(2, 3, memory, "vm_read_memory: destination")?;
                id(0)
                    .and_then(|child| children.read_memory(child, offset(1)?, &mut memory[dst]))
                    .map(|()| 0)
            }
            HostFn::VmWriteMemory => {
                let src = args.range(2, 3, memory, "vm_write_memory: source")?;
                id(0)
                    .and_then(|child| children.write_memory(child, offset(1)?, &memory[src]))
                    .map(|()| 0)
            }
            HostFn::VmDestroy => id(0).and_then(|child| children.destroy(child)).map(|()| 0),
            _ => Err(ChildError::NotFound),
        })
    }
}

/// Writes a step record (`vm::STEP_BYTES`) and returns its code.
fn write_step(step: &ChildStep, out: &mut [u8]) -> i64 {
    let mut record = [0i64; 7];
    let code = match step {
        ChildStep::Finished { result, gas_left } => {
            record[0] = *gas_left as i64;
            record[1] = result.unwrap_or(0);
            record[2] = i64::from(result.is_some());
            vm::FINISHED
        }
        ChildStep::Syscall {
            index,
            args,
            gas_left,
        } => {
            record[0] = *gas_left as i64;
            record[1] = i64::from(*index);
            record[2] = args.len() as i64;
            for (slot, a) in record[3..].iter_mut().zip(args) {
                *slot = *a;
            }
            vm::SYSCALL
        }
    };
    for (chunk, v) in out.chunks_exact_mut(8).zip(record) {
        chunk.copy_from_slice(&v.to_le_bytes());
    }
    code
}
