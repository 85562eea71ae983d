//! Children: other Wasm modules this contract compiles, instantiates and
//! runs, servicing their syscalls itself (`docs/host-abi.md`, "Children").
//!
//! A child imports nothing but syscalls (functions of module `"env"` taking
//! at most four `i64`s and returning nothing or one `i64`). Running one
//! ends in [`Step::Finished`] or [`Step::Syscall`]: the contract does what
//! the syscall asks and [`Instance::resume`]s it with the result. The
//! child's gas comes out of this contract's; an [`Instance`] is destroyed
//! when dropped, and everything is destroyed when the call ends.
//!
//! ```no_run
//! use ward_sdk::vm::{self, Step};
//!
//! # let code: &[u8] = &[];
//! let module = vm::compile(code).unwrap();
//! let child = module.instantiate().unwrap();
//! let mut step = child.run("double", &[21], 1_000_000);
//! while let Ok(Step::Syscall { index, args, .. }) = step {
//!     // Service syscall `index` with `args`; answer 0.
//!     step = child.resume(0);
//! }
//! assert!(matches!(step, Ok(Step::Finished { result: Some(42), .. })));
//! ```
#![allow(unsafe_code, reason = "thin wrappers over the raw host imports")]

use alloc::vec::Vec;

pub use ward_abi::vm::{
    BAD_ARGUMENT, INVALID_INSTANCE, INVALID_MODULE, LIMIT_EXCEEDED, NOT_FOUND, OUT_OF_GAS,
    TRAP_KINDS, TRAPPED, UNAVAILABLE,
};
use ward_abi::vm::{FINISHED, MAX_ARGS, STEP_BYTES, SYSCALL};
use ward_primitives::Hash32;

use crate::{
    env::{len, ptr},
    sys,
};

/// A `vm_*` error: one of the negative codes of `ward_abi::vm`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VmError(pub i64);

impl VmError {
    /// The trap kind (`"unreachable"`, `"stack_overflow"`, ...) when the
    /// child trapped.
    pub fn trap_kind(self) -> Option<&'static str> {
        let k = TRAPPED.checked_sub(self.0)?.checked_sub(1)?;
        TRAP_KINDS.get(usize::try_from(k).ok()?).copied()
    }
}

/// A result of the host: non-negative is a value, negative an error.
fn checked(code: i64) -> Result<u64, VmError> {
    u64::try_from(code).map_err(|_| VmError(code))
}

/// A compiled child module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Module(u64);

/// Compiles `code` under the child policy.
///
/// # Errors
///
/// [`INVALID_MODULE`], [`LIMIT_EXCEEDED`], or [`UNAVAILABLE`].
pub fn compile(code: &[u8]) -> Result<Module, VmError> {
    // SAFETY: the host checks the range; `code` is a live slice.
    checked(unsafe { sys::vm_compile(ptr(code.as_ptr()), len(code.len())) }).map(Module)
}

/// Compiles the code stored on the chain under `hash` (any deployed
/// contract's, for instance) as a child module.
///
/// # Errors
///
/// [`NOT_FOUND`], or as [`compile`].
pub fn compile_stored(hash: &Hash32) -> Result<Module, VmError> {
    // SAFETY: the host reads 32 bytes at the pointer: a live `[u8; 32]`.
    checked(unsafe { sys::vm_compile_stored(ptr(hash.0.as_ptr())) }).map(Module)
}

impl Module {
    /// How many `i64`s export `name` takes, when a parent can run it.
    ///
    /// # Errors
    ///
    /// [`NOT_FOUND`], or [`BAD_ARGUMENT`] for an export of another shape.
    pub fn arity(self, name: &str) -> Result<u64, VmError> {
        // SAFETY: the host checks the range; `name` is a live string.
        checked(unsafe { sys::vm_lookup(self.0 as i64, ptr(name.as_ptr()), len(name.len())) })
    }

    /// A new instance.
    ///
    /// # Errors
    ///
    /// [`NOT_FOUND`], [`LIMIT_EXCEEDED`], or the trap of its start.
    pub fn instantiate(self) -> Result<Instance, VmError> {
        // SAFETY: plain values.
        checked(unsafe { sys::vm_instantiate(self.0 as i64) }).map(Instance)
    }
}

/// Where a child's run stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// The export returned.
    Finished {
        /// Its `i64` result, if it has one.
        result: Option<i64>,
        /// What is left of the gas it was given.
        gas_left: u64,
    },
    /// The child called syscall `index` (its import's number) and waits
    /// for [`Instance::resume`].
    Syscall {
        /// The import's number in the child module.
        index: u32,
        /// Its arguments.
        args: Vec<i64>,
        /// What is left of the gas it was given.
        gas_left: u64,
    },
}

/// A live child instance; destroyed when dropped.
#[derive(Debug, PartialEq, Eq)]
pub struct Instance(u64);

impl Instance {
    /// Runs export `name` with `args` (at most four) and at most `gas`,
    /// until it returns or makes a syscall.
    ///
    /// # Errors
    ///
    /// A [`VmError`]; after [`OUT_OF_GAS`] or a trap the instance is dead.
    pub fn run(&self, name: &str, args: &[i64], gas: u64) -> Result<Step, VmError> {
        let mut record = [0u8; STEP_BYTES as usize];
        let words: Vec<u8> = args.iter().flat_map(|a| a.to_le_bytes()).collect();
        // SAFETY: the host checks every range; all are live buffers of
        // the lengths passed, and `record` holds `STEP_BYTES`.
        let code = unsafe {
            sys::vm_run(
                self.0 as i64,
                ptr(name.as_ptr()),
                len(name.len()),
                ptr(words.as_ptr()),
                len(args.len()),
                i64::try_from(gas).unwrap_or(i64::MAX),
                ptr(record.as_mut_ptr()),
            )
        };
        step(code, &record)
    }

    /// Resumes the instance, waiting in a syscall, with `value` as its
    /// result (ignored by a syscall that returns nothing).
    ///
    /// # Errors
    ///
    /// As [`Instance::run`]; [`INVALID_INSTANCE`] when it is not waiting.
    pub fn resume(&self, value: i64) -> Result<Step, VmError> {
        let mut record = [0u8; STEP_BYTES as usize];
        // SAFETY: `record` is a live buffer of `STEP_BYTES`.
        let code = unsafe { sys::vm_resume(self.0 as i64, value, ptr(record.as_mut_ptr())) };
        step(code, &record)
    }

    /// Copies `out.len()` bytes of the child's memory from `offset`.
    ///
    /// # Errors
    ///
    /// [`BAD_ARGUMENT`] for a range outside its memory; [`NOT_FOUND`]
    /// when it exports none.
    pub fn read_memory(&self, offset: u64, out: &mut [u8]) -> Result<(), VmError> {
        // SAFETY: the host checks the range; `out` is a live buffer.
        checked(unsafe {
            sys::vm_read_memory(
                self.0 as i64,
                offset as i64,
                ptr(out.as_mut_ptr()),
                len(out.len()),
            )
        })
        .map(drop)
    }

    /// Writes `data` into the child's memory at `offset`.
    ///
    /// # Errors
    ///
    /// As [`Instance::read_memory`].
    pub fn write_memory(&self, offset: u64, data: &[u8]) -> Result<(), VmError> {
        // SAFETY: the host checks the range; `data` is a live slice.
        checked(unsafe {
            sys::vm_write_memory(
                self.0 as i64,
                offset as i64,
                ptr(data.as_ptr()),
                len(data.len()),
            )
        })
        .map(drop)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // SAFETY: a plain value. Destroying a live instance cannot fail.
        unsafe { sys::vm_destroy(self.0 as i64) };
    }
}

/// The step a `vm_run` or `vm_resume` returned, from its code and record.
fn step(code: i64, record: &[u8; STEP_BYTES as usize]) -> Result<Step, VmError> {
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&record[i * 8..i * 8 + 8]);
        i64::from_le_bytes(w)
    };
    let gas_left = word(0) as u64;
    match code {
        FINISHED => Ok(Step::Finished {
            result: (word(2) != 0).then(|| word(1)),
            gas_left,
        }),
        SYSCALL => {
            let n = (word(2) as usize).min(MAX_ARGS as usize);
            Ok(Step::Syscall {
                index: word(1) as u32,
                args: (0..n).map(|i| word(3 + i)).collect(),
                gas_left,
            })
        }
        error => Err(VmError(error)),
    }
}
