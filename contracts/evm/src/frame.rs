//! One EVM frame: revm's interpreter over [`WardHost`], with the calls it
//! makes served as Ward calls (or here, for precompiles) and its gas
//! charged to Ward at [`GAS_RATE`].

use alloc::vec::Vec;

use revm_interpreter::bytecode::JumpTable;
use revm_interpreter::{
    CallInput, CallInputs, CallScheme, CreateInputs, FrameInput, Gas, Host, InputsImpl,
    InstructionContext, InstructionExecResult, InstructionResult, Interpreter, InterpreterAction,
    InterpreterResult, SharedMemory,
    bytecode::opcode,
    instructions::{GasTable, InstructionTable, gas_table_spec, instruction_table},
    interpreter::{EthInterpreter, ExtBytecode, resize_memory},
    interpreter_types::ReturnData,
    primitives::{Address, Bytes, KECCAK_EMPTY, U256},
    state::Bytecode,
};
use ward_sdk::{env, sys};

use crate::{
    GAS_RATE, MAX_CODE_SIZE, SPEC,
    host::WardHost,
    precompile::{self, Native, Surcharge},
    ward_address,
};

/// The Ward account value sent to the 20-byte `target` reaches: the
/// frame's caller's own 32-byte address when `target` is its last 20
/// bytes (so that `payable(msg.sender).transfer(...)` pays a Ward account
/// back), else the Ward address of the EVM address (`docs/evm.md`).
pub(crate) fn payee(target: &Address) -> ward_sdk::Address {
    let caller = env::caller();
    if crate::evm_address(&caller.0) == *target {
        caller
    } else {
        ward_sdk::Address(ward_address(target))
    }
}

/// What a Ward call returned (`ward_abi::call`).
const CALL_OK: i32 = 0;
const CALL_REVERTED: i32 = 1;

/// Ward's `call` flags: a read-only call, a delegate call, a code call.
const READ_ONLY: i32 = 1;
const DELEGATE: i32 = 2;
const CALL_CODE: i32 = 4;

/// The Ward storage key of this contract's EVM nonce (shorter than any
/// slot's 32-byte key, so it never collides with one).
const NONCE_KEY: &[u8] = b"nonce";

/// A running EVM frame.
pub(crate) struct Frame {
    interpreter: Interpreter<EthInterpreter>,
    host: WardHost,
    table: InstructionTable<EthInterpreter, WardHost>,
    gas_table: GasTable,
    /// EVM gas whose Ward gas has been charged (by this frame, or by the
    /// host for what its callees used).
    charged: u64,
}

/// `KECCAK256` as revm's (the same gas and memory rules), its digest
/// from Ward's host (`ward.hash_keccak256`, free for a runtime): native
/// speed, where keccak compiled to Wasm is the runtime's hottest code.
fn keccak(ctx: InstructionContext<'_, WardHost, EthInterpreter>) -> InstructionExecResult {
    let interpreter = ctx.interpreter;
    revm_interpreter::popn_top!([offset], top, interpreter);
    let len = revm_interpreter::as_usize_or_fail!(interpreter, top);
    revm_interpreter::gas!(interpreter, ctx.host.gas_params().keccak256_cost(len));
    let hash = if len == 0 {
        KECCAK_EMPTY
    } else {
        let from = revm_interpreter::as_usize_or_fail!(interpreter, offset);
        resize_memory(
            &mut interpreter.gas,
            &mut interpreter.memory,
            ctx.host.gas_params(),
            from,
            len,
        )?;
        crate::host::keccak(&interpreter.memory.slice_len(from, len))
    };
    *top = hash.into();
    Ok(())
}

/// Zero bytes after the code, enough for revm to read any immediate past
/// its end (a `PUSH32` at the last byte, then the `STOP` it appends).
const PADDING: usize = 33;

/// What `analyze` outputs for `code`: its jump table, a bit per byte of
/// code (least significant first), set at each `JUMPDEST` revm's own
/// analysis finds; empty when there is no legacy bytecode to analyse
/// (none, or an EIP-7702 designator).
pub(crate) fn analysis(code: &[u8]) -> Vec<u8> {
    match Bytecode::new_raw_checked(Bytes::copy_from_slice(code)) {
        Ok(bytecode) if !code.is_empty() => bytecode
            .legacy_jump_table()
            .map(|jumps| jumps.as_slice().to_vec())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// `code` as revm runs it: from `jumps` (its [`analysis`], passed by the
/// executor) when they fit it, else analysed now.
fn bytecode(code: Bytes, jumps: Option<&[u8]>) -> Bytecode {
    match jumps {
        Some(jumps) if !code.is_empty() && jumps.len() == code.len().div_ceil(8) => {
            let mut padded = Vec::with_capacity(code.len() + PADDING);
            padded.extend_from_slice(&code);
            padded.resize(code.len() + PADDING, 0);
            let table = JumpTable::from_slice(jumps, code.len());
            // SAFETY: `padded` is the code followed by `PADDING` zeros, as
            // many as revm's analysis ever appends, so no immediate is
            // read past it; the table has a bit for every byte of code.
            // Only which JUMPDESTs are valid comes from the executor, and
            // that is this runtime's own analysis of the same code.
            unsafe { Bytecode::new_analyzed(padded.into(), code.len(), table) }
        }
        _ => Bytecode::new_raw(code),
    }
}

impl Frame {
    /// A frame running `code` on `calldata` with `limit` EVM gas (a
    /// deploy's frame runs the creation code, with no calldata); `jumps`
    /// is the code's [`analysis`] when the executor passed it.
    pub(crate) fn new(
        code: Vec<u8>,
        jumps: Option<&[u8]>,
        calldata: &[u8],
        limit: u64,
        deploying: bool,
    ) -> Frame {
        let code = Bytes::from(code);
        let host = WardHost::new(if deploying {
            Bytes::new()
        } else {
            code.clone()
        });
        let inputs = InputsImpl {
            target_address: host.me,
            bytecode_address: None,
            caller_address: host.caller,
            input: CallInput::Bytes(Bytes::copy_from_slice(calldata)),
            // `CALLVALUE`: the native asset this Ward frame received.
            call_value: U256::from(env::value()),
            depth: 0,
        };
        let interpreter = Interpreter::new(
            SharedMemory::new(),
            ExtBytecode::new(bytecode(code, jumps)),
            inputs,
            crate::access::in_static_call(),
            SPEC,
            limit,
        );
        let mut table = instruction_table::<EthInterpreter, WardHost>();
        table[opcode::KECCAK256 as usize] = revm_interpreter::Instruction::new(keccak);
        Frame {
            interpreter,
            host,
            table,
            gas_table: gas_table_spec(SPEC),
            charged: 0,
        }
    }

    /// Runs the frame to its end, serving the calls it makes.
    pub(crate) fn run(&mut self) -> InterpreterResult {
        loop {
            let action = self
                .interpreter
                .run_plain(&self.table, &self.gas_table, &mut self.host);
            match action {
                InterpreterAction::Return(result) => return finish(result),
                InterpreterAction::NewFrame(FrameInput::Call(inputs)) => {
                    let outcome = self.call(&inputs);
                    self.insert(&inputs, outcome);
                }
                InterpreterAction::NewFrame(FrameInput::Create(inputs)) => {
                    let outcome = self.create(&inputs);
                    self.insert_created(outcome);
                }
                InterpreterAction::NewFrame(FrameInput::Empty) => {
                    return InterpreterResult::new(
                        InstructionResult::FatalExternalError,
                        Bytes::new(),
                        self.interpreter.gas,
                    );
                }
            }
        }
    }

    /// Charges Ward for the EVM gas spent and not yet charged.
    fn charge_spent(&mut self, spent: u64) {
        let owed = spent.saturating_sub(self.charged);
        if owed > 0 {
            env::charge_gas(owed.saturating_mul(GAS_RATE));
            self.charged += owed;
        }
    }

    /// Charges what is left to charge once the frame is over.
    /// Runs the precompile at this frame's own address on `calldata`
    /// with all the frame's EVM gas, as Ethereum runs a transaction (or a
    /// call) to a precompile's address; the executor runs the runtime
    /// there with no code. `None` when the address holds no precompile.
    pub(crate) fn run_as_precompile(&mut self, calldata: &[u8]) -> Option<InterpreterResult> {
        let me = self.host.me;
        if !self.host.precompiles.contains(&me) {
            return None;
        }
        let limit = self.interpreter.gas.limit();
        let (result, output, left) = self.precompile(&me, calldata, limit);
        let mut gas = Gas::new(limit);
        let _ = gas.record_regular_cost(limit - left);
        Some(InterpreterResult::new(result, output.into(), gas))
    }

    pub(crate) fn settle(&mut self, gas: &Gas) {
        self.charge_spent(gas.total_gas_spent());
    }

    /// Serves a call: a precompile here, a contract as a Ward call.
    /// Returns the result, the return data and the EVM gas left of what
    /// was forwarded.
    fn call(&mut self, inputs: &CallInputs) -> (InstructionResult, Vec<u8>, u64) {
        let input: Vec<u8> = inputs
            .input
            .as_bytes_memory(&self.interpreter.memory)
            .to_vec();
        let forwarded = inputs.gas_limit;
        // A `CALLCODE`'s value moves from this contract to itself: it must
        // have it, and nothing changes.
        let to_self = inputs.scheme == CallScheme::CallCode;
        // The native asset a `CALL` moves (a `DELEGATECALL`'s value is
        // only apparent: nothing moves).
        let value = match inputs.transfer_value() {
            Some(value) if !value.is_zero() => match u128::try_from(value) {
                Ok(value) if value <= env::balance(&env::self_address()) => value,
                // More than this contract holds: the call fails at once,
                // as the EVM's does.
                _ => return (InstructionResult::OutOfFunds, Vec::new(), forwarded),
            },
            _ => 0,
        };
        let target = inputs.bytecode_address;
        let gateway = self.host.is_gateway(&target);
        if !gateway {
            if self.host.precompiles.contains(&target) {
                // The value moves to the precompile's account when it
                // succeeds, and stays when it fails (the EVM reverts a
                // failed frame's transfer).
                let (result, output, left) = self.precompile(&target, &input, forwarded);
                if value > 0 && !to_self && result.is_ok() {
                    if env::transfer(&payee(&target), value).is_err() {
                        return (InstructionResult::OutOfFunds, Vec::new(), forwarded);
                    }
                    self.host.invalidate();
                }
                return (result, output, left);
            }
            if inputs.known_bytecode.1.is_empty() {
                // An account without code: the value moves, and the call
                // succeeds at once.
                if value > 0 && !to_self {
                    if env::transfer(&payee(&target), value).is_err() {
                        return (InstructionResult::OutOfFunds, Vec::new(), forwarded);
                    }
                    self.host.invalidate();
                }
                return (InstructionResult::Stop, Vec::new(), forwarded);
            }
        }
        let (address, input) = if gateway {
            if input.len() < 32 {
                return (InstructionResult::Revert, Vec::new(), forwarded);
            }
            let mut address = [0u8; 32];
            address.copy_from_slice(&input[..32]);
            (address, input[32..].to_vec())
        } else {
            (ward_address(&target), input)
        };
        let mut flags = if inputs.is_static { READ_ONLY } else { 0 };
        match inputs.scheme {
            CallScheme::DelegateCall => flags |= DELEGATE,
            CallScheme::CallCode => flags |= CALL_CODE,
            _ => {}
        }
        let amount = value.to_le_bytes();
        // The frame that makes the first `STATICCALL` marks the static
        // context its callees see, and unmarks it when the call returns.
        let enters_static = inputs.is_static && !self.interpreter.runtime_flag.is_static;
        if enters_static {
            crate::access::set_static_call(true);
        }
        let (status, used) = self.ward_call(forwarded, |gas| {
            // SAFETY: the address, the input and the amount are live
            // buffers of the given lengths.
            unsafe {
                if value == 0 {
                    sys::call(
                        address.as_ptr() as i32,
                        input.as_ptr() as i32,
                        input.len() as i32,
                        gas,
                        flags,
                    )
                } else {
                    sys::call_with_value(
                        address.as_ptr() as i32,
                        input.as_ptr() as i32,
                        input.len() as i32,
                        gas,
                        flags,
                        amount.as_ptr() as i32,
                    )
                }
            }
        });
        if enters_static {
            crate::access::set_static_call(false);
        }
        let data = ward_sdk::call::return_data();
        match status {
            CALL_OK => (InstructionResult::Return, data, forwarded - used),
            CALL_REVERTED => (InstructionResult::Revert, data, forwarded - used),
            _ => (InstructionResult::Revert, Vec::new(), forwarded - used),
        }
    }

    /// Runs precompile `at` on `input` with `forwarded` gas. ecrecover,
    /// SHA-256 and bn254's (`0x01`, `0x02`, `0x06` to `0x08`) run natively
    /// in Ward's host ([`Native`]); the others run here, and those whose
    /// Wasm costs more per gas than [`GAS_RATE`] pays for charge a
    /// [`Surcharge`] of Ward gas more. Never inlined: in [`Frame::call`]
    /// its locals would hold stack units at every Ward call, and EVM
    /// frames would nest less deep (`docs/evm.md`, "Depth").
    #[inline(never)]
    fn precompile(
        &mut self,
        at: &Address,
        input: &[u8],
        forwarded: u64,
    ) -> (InstructionResult, Vec<u8>, u64) {
        let index = precompile::index(at);
        if let Some(native) = Native::of(index) {
            let cost = native.cost(input);
            if cost > forwarded {
                return (InstructionResult::PrecompileOOG, Vec::new(), 0);
            }
            return match native.run(input) {
                Some(output) => (InstructionResult::Return, output, forwarded - cost),
                None => (InstructionResult::PrecompileError, Vec::new(), 0),
            };
        }
        let Some(extra) = index.and_then(|index| Surcharge::of(index, input)) else {
            return (InstructionResult::PrecompileError, Vec::new(), 0);
        };
        let Some(precompile) = self.host.precompiles.get(at) else {
            return (InstructionResult::PrecompileError, Vec::new(), 0);
        };
        // What the frame's Ward gas can pay for at the rate and the
        // surcharge, once the frame's own EVM gas so far is charged (as
        // before a Ward call): the precompile checks its gas before it
        // works, so one the frame cannot pay for fails as out of gas (as
        // one the caller forwarded too little to does) without working.
        let own = self
            .interpreter
            .gas
            .total_gas_spent()
            .saturating_sub(forwarded);
        self.charge_spent(own);
        let limit = forwarded.min(extra.limit(env::gas_left()));
        match precompile.execute(input, limit, 0) {
            Ok(output) if output.gas_used <= limit => {
                let surcharge = match output.status {
                    revm_precompile::PrecompileStatus::Halt(
                        revm_precompile::PrecompileHalt::OutOfGas,
                    ) => 0,
                    // A halt uses up the forwarded gas, which pays for
                    // work at the rate, and may come after the work (a
                    // proof that does not verify, a point outside the
                    // subgroup): it pays what the work's cost at the rate
                    // and the surcharge comes to beyond that. One before
                    // the work pays nothing more.
                    revm_precompile::PrecompileStatus::Halt(_) => {
                        match precompile::cost_before_halt(index.unwrap_or(0), input.len()) {
                            0 => 0,
                            cost => {
                                let cost = cost.min(limit);
                                GAS_RATE
                                    .saturating_mul(cost)
                                    .saturating_add(extra.on(cost))
                                    .saturating_sub(GAS_RATE.saturating_mul(forwarded))
                            }
                        }
                    }
                    _ => extra.on(output.gas_used),
                };
                if surcharge > 0 {
                    env::charge_gas(surcharge);
                }
                match output.status {
                    revm_precompile::PrecompileStatus::Success => (
                        InstructionResult::Return,
                        output.bytes.to_vec(),
                        forwarded - output.gas_used,
                    ),
                    revm_precompile::PrecompileStatus::Revert => (
                        InstructionResult::Revert,
                        output.bytes.to_vec(),
                        forwarded - output.gas_used,
                    ),
                    revm_precompile::PrecompileStatus::Halt(_) => {
                        (InstructionResult::PrecompileError, Vec::new(), 0)
                    }
                }
            }
            _ => (InstructionResult::PrecompileOOG, Vec::new(), 0),
        }
    }

    /// Runs a Ward call or create (`call`, given the Ward gas to forward)
    /// with `forwarded` EVM gas; returns its status and the EVM gas it
    /// used. The callee's Ward gas, charged by the host, is turned into
    /// EVM gas rounded up (the rounding is charged too).
    ///
    /// This frame's own EVM gas so far is charged after the call, not
    /// before: Ward gives a callee at most all but one 64th of the Ward gas
    /// left (`docs/host-abi.md`), and that 64th, taken of Ward gas, rounds
    /// differently from EIP-150's of EVM gas, which `forwarded` already
    /// obeys: with only the EVM's remaining gas left in Ward, the cap could
    /// fall up to 63 Ward gas short, and the callee got one EVM gas less
    /// than on Ethereum. With the frame's own gas still in (the call's own
    /// cost, at least 100 EVM gas, is among it), the cap is never below
    /// the forward.
    fn ward_call(&mut self, forwarded: u64, call: impl FnOnce(i64) -> i32) -> (i32, u64) {
        let own = self
            .interpreter
            .gas
            .total_gas_spent()
            .saturating_sub(forwarded)
            .saturating_sub(self.charged);
        let before = env::gas_left();
        let status = call(i64::try_from(forwarded.saturating_mul(GAS_RATE)).unwrap_or(i64::MAX));
        self.host.invalidate();
        let used_ward = before.saturating_sub(env::gas_left());
        let used = used_ward.div_ceil(GAS_RATE).min(forwarded);
        let rounding = (used * GAS_RATE).saturating_sub(used_ward);
        let owed = rounding.saturating_add(own.saturating_mul(GAS_RATE));
        if owed > 0 {
            env::charge_gas(owed);
        }
        self.charged += own + used;
        (status, used)
    }

    /// Serves a `CREATE` or `CREATE2` as a Ward create: the address is the
    /// EVM's (from this contract's nonce, or the salt and the code's hash),
    /// and the nonce goes up first. Returns the result, the new address on
    /// success, the return data, and the EVM gas left of what was
    /// forwarded.
    fn create(
        &mut self,
        inputs: &CreateInputs,
    ) -> (InstructionResult, Option<Address>, Vec<u8>, u64) {
        let forwarded = inputs.gas_limit();
        let value = match u128::try_from(inputs.value()) {
            Ok(value) if value <= env::balance(&env::self_address()) => value,
            // More than this contract holds: the EVM fails the creation
            // before the nonce moves.
            _ => return (InstructionResult::OutOfFunds, None, Vec::new(), forwarded),
        };
        let nonce = read_nonce();
        let Some(next) = nonce.checked_add(1) else {
            // EIP-2681: a nonce at its maximum creates nothing, and the
            // creation fails with its gas given back.
            return (InstructionResult::Return, None, Vec::new(), forwarded);
        };
        write_nonce(next);
        let address = inputs.created_address(nonce);
        // Accessed by the creation (EIP-2929), whether it succeeds or not.
        crate::access::mark_address(&address);
        let salt = ward_address(&address);
        let code = inputs.init_code().clone();
        let amount = value.to_le_bytes();
        let (status, used) = self.ward_call(forwarded, |gas| {
            // SAFETY: the code, the salt and the amount are live buffers of
            // the given lengths; the input is empty.
            unsafe {
                if value == 0 {
                    sys::create(
                        code.as_ptr() as i32,
                        code.len() as i32,
                        0,
                        0,
                        salt.as_ptr() as i32,
                        gas,
                    )
                } else {
                    sys::create_with_value(
                        code.as_ptr() as i32,
                        code.len() as i32,
                        0,
                        0,
                        salt.as_ptr() as i32,
                        gas,
                        amount.as_ptr() as i32,
                    )
                }
            }
        });
        match status {
            CALL_OK => (
                InstructionResult::Return,
                Some(address),
                Vec::new(),
                forwarded - used,
            ),
            CALL_REVERTED => (
                InstructionResult::Revert,
                None,
                ward_sdk::call::return_data(),
                forwarded - used,
            ),
            _ => {
                // A collision or a deploy that failed uses all it was
                // given.
                self.charge_spent(self.interpreter.gas.total_gas_spent());
                (InstructionResult::CreateCollision, None, Vec::new(), 0)
            }
        }
    }

    /// Puts a creation's outcome where the EVM expects it: the address (or
    /// zero) on the stack, the return data (a revert's), the gas back.
    fn insert_created(
        &mut self,
        (result, address, data, left): (InstructionResult, Option<Address>, Vec<u8>, u64),
    ) {
        let interpreter = &mut self.interpreter;
        let word = address.map_or(U256::ZERO, |a| a.into_word().into());
        let _ = interpreter.stack.push(word);
        if result.is_revert() {
            interpreter.return_data.set_buffer(data.into());
        } else {
            interpreter.return_data.clear();
        }
        if result.is_ok_or_revert() {
            interpreter.gas.erase_cost(left);
        }
    }

    /// Puts a call's outcome where the EVM expects it: the success flag on
    /// the stack, the return data, its copy into memory, the gas back.
    fn insert(
        &mut self,
        inputs: &CallInputs,
        (result, data, left): (InstructionResult, Vec<u8>, u64),
    ) {
        let interpreter = &mut self.interpreter;
        let _ = interpreter.stack.push(if result.is_ok() {
            U256::from(1)
        } else {
            U256::ZERO
        });
        let range = inputs.return_memory_offset.clone();
        if result.is_ok_or_revert() {
            let n = range.len().min(data.len());
            interpreter.memory.set(range.start, &data[..n]);
        }
        interpreter.return_data.set_buffer(data.into());
        if result.is_ok_or_revert() {
            interpreter.gas.erase_cost(left);
        }
    }
}

/// This contract's EVM nonce: 1 until it first creates (EIP-161).
fn read_nonce() -> u64 {
    let mut value = [0u8; 8];
    // SAFETY: the key and the destination are live buffers of the given
    // lengths.
    let len = unsafe {
        sys::storage_read(
            NONCE_KEY.as_ptr() as i32,
            NONCE_KEY.len() as i32,
            value.as_mut_ptr() as i32,
            8,
        )
    };
    if len == 8 {
        u64::from_le_bytes(value)
    } else {
        1
    }
}

fn write_nonce(nonce: u64) {
    let value = nonce.to_le_bytes();
    // SAFETY: the key and the value are live buffers of the given lengths.
    unsafe {
        sys::storage_write(
            NONCE_KEY.as_ptr() as i32,
            NONCE_KEY.len() as i32,
            value.as_ptr() as i32,
            8,
        )
    };
}

/// An exceptional halt uses all the frame's gas.
fn finish(mut result: InterpreterResult) -> InterpreterResult {
    if !result.result.is_ok_or_revert() {
        result.gas.spend_all();
    }
    result
}

/// A successful creation's code deposit: EIP-3541 refuses code starting
/// with `0xEF`, EIP-170 code over [`MAX_CODE_SIZE`]; each byte costs 200
/// gas.
pub(crate) fn deposit(result: &mut InterpreterResult) {
    let code = &result.output;
    if code.first() == Some(&0xEF) {
        result.result = InstructionResult::CreateContractStartingWithEF;
    } else if code.len() > MAX_CODE_SIZE {
        result.result = InstructionResult::CreateContractSizeLimit;
    } else if !result.gas.record_regular_cost(200 * code.len() as u64) {
        result.result = InstructionResult::OutOfGas;
    }
    if !result.result.is_ok() {
        result.gas.spend_all();
        result.output = Bytes::new();
    }
}
