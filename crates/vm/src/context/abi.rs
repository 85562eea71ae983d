//! The host ABI, implemented once for both backends: one method per
//! function of the ABI table, each acting on a plain byte slice of guest
//! memory. Every pointer and length is checked in 64-bit arithmetic so
//! that `ptr + len` cannot wrap; a bad range is a `memory_out_of_bounds`
//! trap, never a host panic.

use std::ops::Range;

use ward_abi::HostFn;

use super::{CallContext, GuestMemory, HostStop, aborted, host_error};
use crate::{ErrorKind, Failure, Request, Value};

/// A call's arguments, already of its signature's types (the engine
/// checked them against the ABI table).
#[derive(Clone, Copy)]
pub(super) struct Args<'a>(&'a [Value]);

impl Args<'_> {
    /// The i32 argument at `i`.
    pub(super) fn i32(self, i: usize) -> i32 {
        match self.0.get(i) {
            Some(Value::I32(v)) => *v,
            _ => 0,
        }
    }

    /// The i32 argument at `i` read as an unsigned length.
    pub(super) fn len(self, i: usize) -> u64 {
        u64::from(self.i32(i) as u32)
    }

    /// The i64 argument at `i`.
    pub(super) fn i64(self, i: usize) -> Option<i64> {
        match self.0.get(i) {
            Some(Value::I64(v)) => Some(*v),
            _ => None,
        }
    }

    /// The range of `memory` given by a pointer at `ptr` and a length at
    /// `len`.
    pub(super) fn range(
        self,
        ptr: usize,
        len: usize,
        memory: &[u8],
        what: &str,
    ) -> Result<Range<usize>, HostStop> {
        checked_range(self.i32(ptr), self.i32(len), memory.len(), what)
    }

    /// [`Args::range`] for a length the ABI bounds by `max`.
    fn bounded(
        self,
        ptr: usize,
        len: usize,
        memory: &[u8],
        max: u32,
        what: &str,
    ) -> Result<Range<usize>, HostStop> {
        bounded(self.i32(ptr), self.i32(len), memory.len(), max, what)
    }
}

/// What host functions return: nothing, a value, or a stop.
pub(super) type Answer = Result<Option<Value>, HostStop>;

/// A non-negative count for the guest, clamped rather than wrapped (inputs
/// and heights are bounded far below by every embedder).
fn count_i32(n: usize) -> Answer {
    Ok(Some(Value::I32(i32::try_from(n).unwrap_or(i32::MAX))))
}

fn count_i64(n: u64) -> Answer {
    Ok(Some(Value::I64(i64::try_from(n).unwrap_or(i64::MAX))))
}

impl CallContext {
    /// Runs host ABI function `f` with `args` (already checked against its
    /// signature by the engine) on the guest's `memory`. Every call first
    /// pays its documented cost: the host-call base, plus the per-byte rate
    /// for the bytes it moves (charged on the requested length, before any
    /// range is checked, so a bad range is never cheaper than a good one).
    ///
    /// # Errors
    ///
    /// A [`HostStop`] when the guest must not simply continue: `exit`,
    /// `out_of_gas`, or a trap on a bad pointer or length.
    #[inline(always)]
    pub fn call_abi(&mut self, f: HostFn, args: &[Value], memory: &mut GuestMemory<'_>) -> Answer {
        if self.is_aborted() {
            return Err(aborted());
        }
        let args = Args(args);
        // The documented cost (the ABI table's formula), from the requested
        // lengths, before anything is checked; less the fixed part when the
        // caller's instrumentation prepaid it.
        self.pay(f.cost(), |i| args.len(i))?;
        match f {
            HostFn::InputSize => count_i32(self.input.len()),
            HostFn::InputRead => self.input_read(args, memory),
            HostFn::OutputWrite => self.output_write(args, memory),
            HostFn::Exit => Err(HostStop::Exit(args.i32(0))),
            HostFn::GasLeft => count_i64(self.gas_left().get()),
            HostFn::DebugLog => self.debug_log(args, memory),
            HostFn::ChargeGas => self.charge_gas(args),
            HostFn::ReportGas => self.report_gas(args),
            HostFn::StorageRead => self.storage_read(args, memory),
            HostFn::StorageWrite => self.storage_write(args, memory),
            HostFn::StorageRemove => self.storage_remove(args, memory),
            HostFn::EmitEvent => self.emit_event(args, memory),
            HostFn::Caller => {
                let address = self.chain.caller();
                write_address(args, memory, &address)
            }
            HostFn::SelfAddress => {
                let address = self.chain.self_address();
                write_address(args, memory, &address)
            }
            HostFn::Origin => {
                let address = self.chain.origin();
                write_address(args, memory, &address)
            }
            HostFn::BlockHeight => count_i64(self.chain.block_height()),
            HostFn::BlockTime => count_i64(self.chain.block_time()),
            HostFn::ChainId => count_i64(self.chain.chain_id()),
            HostFn::HashSha256 | HostFn::HashKeccak256 | HostFn::HashBlake3 => {
                hash(f, args, memory)
            }
            HostFn::Call => self.call(args, memory, None),
            HostFn::Create => self.create(args, memory, None),
            HostFn::CallWithValue => {
                let value = read_amount(args.i32(5), memory, "call_with_value: value")?;
                self.call(args, memory, Some(value))
            }
            HostFn::CreateWithValue => {
                let value = read_amount(args.i32(6), memory, "create_with_value: value")?;
                self.create(args, memory, Some(value))
            }
            HostFn::CallValue => {
                let dst = checked_range(args.i32(0), 16, memory.len(), "call_value: destination")?;
                memory[dst].copy_from_slice(&self.chain.call_value().to_le_bytes());
                Ok(None)
            }
            HostFn::Balance => self.balance(args, memory),
            HostFn::Transfer => self.transfer(args, memory),
            HostFn::ReturnDataSize => count_i32(self.return_data.len()),
            HostFn::ReturnDataRead => self.return_data_read(args, memory),
            HostFn::VerifyEd25519 => verify_ed25519(args, memory),
            HostFn::RecoverSecp256k1 => recover_secp256k1(args, memory),
            HostFn::Bn254Add => bn254_point(
                args,
                memory,
                128,
                ["bn254_add: input", "bn254_add: destination"],
                crate::bn254::add,
            ),
            HostFn::Bn254Mul => bn254_point(
                args,
                memory,
                96,
                ["bn254_mul: input", "bn254_mul: destination"],
                crate::bn254::mul,
            ),
            HostFn::Bn254Pairing => bn254_pairing(args, memory),
            HostFn::CodeAt => self.code_at(args, memory),
            HostFn::AccountNonce => {
                let address = read_address(args.i32(0), memory, "account_nonce: address")?;
                let nonce = self
                    .chain
                    .account_nonce(&address)
                    .map_err(|e| self.chain_stop(e))?;
                count_i64(nonce)
            }
            HostFn::TransientRead => self.transient_read(args, memory),
            HostFn::TransientWrite => self.transient_write(args, memory),
            HostFn::VmCompile
            | HostFn::VmCompileStored
            | HostFn::VmLookup
            | HostFn::VmInstantiate
            | HostFn::VmRun
            | HostFn::VmResume
            | HostFn::VmReadMemory
            | HostFn::VmWriteMemory
            | HostFn::VmDestroy => self.call_vm(f, args, memory),
        }
    }

    fn input_read(&mut self, args: Args<'_>, memory: &mut GuestMemory<'_>) -> Answer {
        let (dst, offset, len) = (args.i32(0), args.i32(1), args.i32(2));
        let src = checked_range(offset, len, self.input.len(), "input_read: input")?;
        let dst = checked_range(dst, len, memory.len(), "input_read: destination")?;
        memory[dst].copy_from_slice(&self.input[src]);
        Ok(None)
    }

    fn output_write(&mut self, args: Args<'_>, memory: &mut GuestMemory<'_>) -> Answer {
        let src = args.range(0, 1, memory, "output_write: source")?;
        self.output.clear();
        self.output.extend_from_slice(&memory[src]);
        Ok(None)
    }

    fn debug_log(&mut self, args: Args<'_>, memory: &mut GuestMemory<'_>) -> Answer {
        let src = args.range(0, 1, memory, "debug_log: source")?;
        if let Some(log) = &mut self.debug_log {
            log.push(&memory[src]);
        }
        Ok(None)
    }

    fn charge_gas(&mut self, args: Args<'_>) -> Answer {
        match args.i64(0) {
            Some(amount) if amount >= 0 => {
                self.charge(amount as u64)?;
                Ok(None)
            }
            _ => Err(HostStop::Trap(Failure::new(
                ErrorKind::HostError,
                "charge_gas: negative amount",
            ))),
        }
    }

    fn report_gas(&mut self, args: Args<'_>) -> Answer {
        if !self.costs_waived {
            return Err(HostStop::Trap(Failure::new(
                ErrorKind::HostError,
                "report_gas: only a system runtime reports gas in its own units",
            )));
        }
        match args.i64(0) {
            Some(units) if units >= 0 => {
                self.runtime_gas = Some(units as u64);
                Ok(None)
            }
            _ => Err(HostStop::Trap(Failure::new(
                ErrorKind::HostError,
                "report_gas: negative amount",
            ))),
        }
    }

    fn code_at(&mut self, args: Args<'_>, memory: &mut GuestMemory<'_>) -> Answer {
        let address = read_address(args.i32(0), memory, "code_at: address")?;
        let dst = args.range(1, 2, memory, "code_at: destination")?;
        let code = self
            .chain
            .code_at(&address)
            .map_err(|e| self.chain_stop(e))?;
        match code {
            None => Ok(Some(Value::I64(-1))),
            Some(code) => {
                let n = code.len().min(dst.len());
                memory[dst.start..dst.start + n].copy_from_slice(&code[..n]);
                count_i64(code.len() as u64)
            }
        }
    }

    /// Suspends with `request` for the embedder, a storage call or an
    /// event of a call with chain requests (a start function's traps).
    fn chain_request(&mut self, request: Request) -> Answer {
        if !self.suspend_allowed {
            return Err(host_error(
                "storage and events: a start function cannot ask the host".into(),
            ));
        }
        Err(HostStop::Suspend(Box::new(request)))
    }

    fn storage_read(&mut self, args: Args<'_>, memory: &mut GuestMemory<'_>) -> Answer {
        let key = args.bounded(0, 1, memory, ward_abi::MAX_KEY_BYTES, "storage_read: key")?;
        let dst = args.range(2, 3, memory, "storage_read: destination")?;
        if self.chain_requests() {
            let request = Request::StorageRead {
                key: memory[key].to_vec(),
            };
            let asked = self.chain_request(request);
            self.pending_read = Some(dst);
            return asked;
        }
        let value = self
            .chain
            .storage_read(&memory[key])
            .map_err(|e| self.chain_stop(e))?;
        Ok(Some(read_into(memory, dst, value)))
    }

    fn storage_write(&mut self, args: Args<'_>, memory: &mut GuestMemory<'_>) -> Answer {
        let key = args.bounded(0, 1, memory, ward_abi::MAX_KEY_BYTES, "storage_write: key")?;
        let value = args.bounded(
            2,
            3,
            memory,
            ward_abi::MAX_VALUE_BYTES,
            "storage_write: value",
        )?;
        if self.chain_requests() {
            return self.chain_request(Request::StorageWrite {
                key: memory[key].to_vec(),
                value: Some(memory[value].to_vec()),
            });
        }
        let written = self.chain.storage_write(&memory[key], Some(&memory[value]));
        written.map_err(|e| self.chain_stop(e))?;
        Ok(None)
    }

    fn storage_remove(&mut self, args: Args<'_>, memory: &mut GuestMemory<'_>) -> Answer {
        let key = args.bounded(0, 1, memory, ward_abi::MAX_KEY_BYTES, "storage_remove: key")?;
        if self.chain_requests() {
            return self.chain_request(Request::StorageWrite {
                key: memory[key].to_vec(),
                value: None,
            });
        }
        let removed = self.chain.storage_write(&memory[key], None);
        removed.map_err(|e| self.chain_stop(e))?;
        Ok(None)
    }

    fn transient_read(&mut self, args: Args<'_>, memory: &mut GuestMemory<'_>) -> Answer {
        let key = args.bounded(0, 1, memory, ward_abi::MAX_KEY_BYTES, "transient_read: key")?;
        let dst = args.range(2, 3, memory, "transient_read: destination")?;
        let value = self
            .chain
            .transient_read(&memory[key])
            .map_err(|e| self.chain_stop(e))?;
        Ok(Some(read_into(memory, dst, value)))
    }

    fn transient_write(&mut self, args: Args<'_>, memory: &mut GuestMemory<'_>) -> Answer {
        let key = args.bounded(
            0,
            1,
            memory,
            ward_abi::MAX_KEY_BYTES,
            "transient_write: key",
        )?;
        let value = args.bounded(
            2,
            3,
            memory,
            ward_abi::MAX_VALUE_BYTES,
            "transient_write: value",
        )?;
        let value = (!value.is_empty()).then(|| &memory[value]);
        let written = self.chain.transient_write(&memory[key], value);
        written.map_err(|e| self.chain_stop(e))?;
        Ok(None)
    }

    fn emit_event(&mut self, args: Args<'_>, memory: &mut GuestMemory<'_>) -> Answer {
        let topic = args.bounded(0, 1, memory, ward_abi::MAX_TOPIC_BYTES, "emit_event: topic")?;
        let data = args.bounded(
            2,
            3,
            memory,
            ward_abi::MAX_EVENT_DATA_BYTES,
            "emit_event: data",
        )?;
        if self.chain_requests() {
            return self.chain_request(Request::Event {
                topic: memory[topic].to_vec(),
                data: memory[data].to_vec(),
            });
        }
        let emitted = self.chain.emit_event(&memory[topic], &memory[data]);
        emitted.map_err(|e| self.chain_stop(e))?;
        Ok(None)
    }

    fn balance(&mut self, args: Args<'_>, memory: &mut GuestMemory<'_>) -> Answer {
        let address = read_address(args.i32(0), memory, "balance: address")?;
        let dst = checked_range(args.i32(1), 16, memory.len(), "balance: destination")?;
        let balance = self
            .chain
            .balance(&address)
            .map_err(|e| self.chain_stop(e))?;
        memory[dst].copy_from_slice(&balance.to_le_bytes());
        Ok(None)
    }

    fn transfer(&mut self, args: Args<'_>, memory: &mut GuestMemory<'_>) -> Answer {
        let to = read_address(args.i32(0), memory, "transfer: address")?;
        let amount = read_amount(args.i32(1), memory, "transfer: amount")?;
        let moved = self
            .chain
            .transfer(&to, amount)
            .map_err(|e| self.chain_stop(e))?;
        Ok(Some(Value::I32(i32::from(!moved))))
    }

    /// `ward.call` (`value`: none) and `ward.call_with_value`.
    fn call(
        &mut self,
        args: Args<'_>,
        memory: &mut GuestMemory<'_>,
        value: Option<u128>,
    ) -> Answer {
        let address = checked_range(args.i32(0), 32, memory.len(), "call: address")?;
        let input = args.range(1, 2, memory, "call: input")?;
        let requested = match args.i64(3) {
            Some(gas) if gas >= 0 => gas as u64,
            _ => return Err(host_error("call: negative gas".into())),
        };
        let flags = args.i32(4);
        if flags & !ward_abi::call::KNOWN_FLAGS != 0 {
            return Err(host_error(format!("call: unknown flags {flags:#x}")));
        }
        let mode = match (
            flags & ward_abi::call::DELEGATE != 0,
            flags & ward_abi::call::CALL_CODE != 0,
        ) {
            (false, false) => crate::CallMode::Plain,
            (true, false) => crate::CallMode::Delegate,
            (false, true) => crate::CallMode::Code,
            (true, true) => {
                return Err(host_error(
                    "call: DELEGATE and CALL_CODE are exclusive".into(),
                ));
            }
        };
        if !self.suspend_allowed {
            return Err(host_error("call: a start function cannot call".into()));
        }
        let mut to = [0u8; 32];
        to.copy_from_slice(&memory[address]);
        Err(HostStop::Suspend(Box::new(Request::Call {
            address: to,
            input: memory[input].to_vec(),
            // At most all but one 64th of what is left (EIP-150's rule): a
            // callee that burns everything it was given leaves its caller
            // enough to handle the failure.
            gas: requested.min(self.gas_left.get() - self.gas_left.get() / 64),
            read_only: flags & ward_abi::call::READ_ONLY != 0,
            mode,
            stack_base: self.stack_above(ward_abi::call::STACK_UNITS),
            value: value.unwrap_or(0),
        })))
    }

    /// `ward.create`: suspends with the deploy for the embedder, which runs
    /// it and [`CallContext::complete_call`] finishes it, as for a call.
    fn create(
        &mut self,
        args: Args<'_>,
        memory: &mut GuestMemory<'_>,
        value: Option<u128>,
    ) -> Answer {
        let code = args.range(0, 1, memory, "create: code")?;
        let input = args.range(2, 3, memory, "create: input")?;
        let salt = checked_range(args.i32(4), 32, memory.len(), "create: salt")?;
        let requested = match args.i64(5) {
            Some(gas) if gas >= 0 => gas as u64,
            _ => return Err(host_error("create: negative gas".into())),
        };
        if !self.suspend_allowed {
            return Err(host_error("create: a start function cannot create".into()));
        }
        let mut salt_bytes = [0u8; 32];
        salt_bytes.copy_from_slice(&memory[salt]);
        Err(HostStop::Suspend(Box::new(Request::Create {
            code: memory[code].to_vec(),
            input: memory[input].to_vec(),
            salt: salt_bytes,
            gas: requested.min(self.gas_left.get() - self.gas_left.get() / 64),
            stack_base: self.stack_above(ward_abi::call::STACK_UNITS),
            value: value.unwrap_or(0),
        })))
    }

    fn return_data_read(&mut self, args: Args<'_>, memory: &mut GuestMemory<'_>) -> Answer {
        let (dst, offset, len) = (args.i32(0), args.i32(1), args.i32(2));
        let src = checked_range(
            offset,
            len,
            self.return_data.len(),
            "return_data_read: data",
        )?;
        let dst = checked_range(dst, len, memory.len(), "return_data_read: destination")?;
        memory[dst].copy_from_slice(&self.return_data[src]);
        Ok(None)
    }
}

/// `storage_read`'s result: as much of `value` as fits copied to `dst`
/// (in bounds), and its whole length, or -1 when there is none.
pub(super) fn read_into(
    memory: &mut GuestMemory<'_>,
    dst: Range<usize>,
    value: Option<Vec<u8>>,
) -> Value {
    Value::I64(match value {
        None => -1,
        Some(value) => {
            let n = value.len().min(dst.len());
            memory[dst.start..dst.start + n].copy_from_slice(&value[..n]);
            value.len() as i64
        }
    })
}

/// An amount of the native asset at `at`: 16 bytes, a little-endian `u128`.
fn read_amount(at: i32, memory: &[u8], what: &str) -> Result<u128, HostStop> {
    let range = checked_range(at, 16, memory.len(), what)?;
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&memory[range]);
    Ok(u128::from_le_bytes(bytes))
}

/// The 32-byte address at `at` in guest memory.
fn read_address(at: i32, memory: &[u8], what: &str) -> Result<[u8; 32], HostStop> {
    let range = checked_range(at, 32, memory.len(), what)?;
    let mut address = [0u8; 32];
    address.copy_from_slice(&memory[range]);
    Ok(address)
}

/// `caller` and `self_address`: a 32-byte address into guest memory.
fn write_address(args: Args<'_>, memory: &mut GuestMemory<'_>, address: &[u8; 32]) -> Answer {
    let dst = checked_range(args.i32(0), 32, memory.len(), "address destination")?;
    memory[dst].copy_from_slice(address);
    Ok(None)
}

/// The hash functions: a 32-byte digest of a range of guest memory.
fn hash(f: HostFn, args: Args<'_>, memory: &mut GuestMemory<'_>) -> Answer {
    let src = args.range(0, 1, memory, "hash: source")?;
    let dst = checked_range(args.i32(2), 32, memory.len(), "hash: destination")?;
    let digest = crate::crypto::digest(f, &memory[src]);
    memory[dst].copy_from_slice(&digest);
    Ok(None)
}

fn verify_ed25519(args: Args<'_>, memory: &mut GuestMemory<'_>) -> Answer {
    let key = checked_range(args.i32(0), 32, memory.len(), "verify_ed25519: key")?;
    let msg = args.bounded(
        1,
        2,
        memory,
        ward_abi::MAX_MESSAGE_BYTES,
        "verify_ed25519: message",
    )?;
    let sig = checked_range(args.i32(3), 64, memory.len(), "verify_ed25519: signature")?;
    let valid = crate::crypto::verify_ed25519(&memory[key], &memory[msg], &memory[sig]);
    Ok(Some(Value::I32(i32::from(valid))))
}

fn recover_secp256k1(args: Args<'_>, memory: &mut GuestMemory<'_>) -> Answer {
    let hash = checked_range(args.i32(0), 32, memory.len(), "recover_secp256k1: hash")?;
    let sig = checked_range(
        args.i32(1),
        64,
        memory.len(),
        "recover_secp256k1: signature",
    )?;
    let dst = checked_range(
        args.i32(3),
        64,
        memory.len(),
        "recover_secp256k1: destination",
    )?;
    let key = crate::crypto::recover_secp256k1(&memory[hash], &memory[sig], args.i32(2));
    if let Some(key) = &key {
        memory[dst].copy_from_slice(key);
    }
    Ok(Some(Value::I32(i32::from(key.is_some()))))
}

/// `bn254_add` and `bn254_mul`: `len` bytes at the first argument, the
/// 64-byte point `f` makes of them written at the second (`what` names
/// the two ranges).
fn bn254_point(
    args: Args<'_>,
    memory: &mut GuestMemory<'_>,
    len: i32,
    what: [&str; 2],
    f: fn(&[u8]) -> Option<[u8; 64]>,
) -> Answer {
    let input = checked_range(args.i32(0), len, memory.len(), what[0])?;
    let dst = checked_range(args.i32(1), 64, memory.len(), what[1])?;
    let point = f(&memory[input]);
    if let Some(point) = &point {
        memory[dst].copy_from_slice(point);
    }
    Ok(Some(Value::I32(i32::from(point.is_some()))))
}

fn bn254_pairing(args: Args<'_>, memory: &mut GuestMemory<'_>) -> Answer {
    let input = args.bounded(
        0,
        1,
        memory,
        ward_abi::MAX_BN254_PAIRING_BYTES,
        "bn254_pairing: input",
    )?;
    let answer = match crate::bn254::pairing(&memory[input]) {
        Some(true) => 1,
        Some(false) => 0,
        None => -1,
    };
    Ok(Some(Value::I32(answer)))
}

/// [`checked_range`] for a length the ABI bounds: a longer one traps with
/// `host_error` naming the limit.
fn bounded(
    ptr: i32,
    len: i32,
    size: usize,
    max: u32,
    what: &str,
) -> Result<Range<usize>, HostStop> {
    if len as u32 > max {
        return Err(host_error(format!(
            "{what} of {} bytes exceeds the limit of {max}",
            len as u32
        )));
    }
    checked_range(ptr, len, size, what)
}

/// The byte range `[ptr, ptr + len)` of a region `size` bytes long, with
/// `ptr` and `len` read as unsigned 32-bit values and added in 64 bits.
pub(super) fn checked_range(
    ptr: i32,
    len: i32,
    size: usize,
    what: &str,
) -> Result<Range<usize>, HostStop> {
    let start = u64::from(ptr as u32);
    let end = start + u64::from(len as u32);
    if end > size as u64 {
        return Err(HostStop::Trap(Failure::new(
            ErrorKind::MemoryOutOfBounds,
            format!("{what} range {start}..{end} is outside 0..{size}"),
        )));
    }
    // Both bounds are <= size, which is a usize.
    Ok(start as usize..end as usize)
}
