//! One EVM frame: revm's interpreter over [`WardHost`], with the calls it
//! makes served as Ward calls (or here, for precompiles) and its gas
//! charged to Ward at [`GAS_RATE`].

use alloc::vec::Vec;

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

use crate::{GAS_RATE, MAX_CODE_SIZE, SPEC, WARD_CALL, host::WardHost, ward_address};

/// What a Ward call returned (`ward_abi::call`).
const CALL_OK: i32 = 0;
const CALL_REVERTED: i32 = 1;

/// Ward's `call` flags: a read-only call, a delegate call.
const READ_ONLY: i32 = 1;
const DELEGATE: i32 = 2;

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

/// `TLOAD` and `TSTORE` halt: transient storage lives for a transaction,
/// which one Ward frame cannot see (`docs/evm.md`).
fn refused(ctx: InstructionContext<'_, WardHost, EthInterpreter>) -> InstructionExecResult {
    let _ = ctx;
    Err(InstructionResult::NotActivated)
}

impl Frame {
    /// A frame running `code` on `calldata` with `limit` EVM gas (a
    /// deploy's frame runs the creation code, with no calldata).
    pub(crate) fn new(code: Vec<u8>, calldata: &[u8], limit: u64, deploying: bool) -> Frame {
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
            call_value: U256::ZERO,
            depth: 0,
        };
        let interpreter = Interpreter::new(
            SharedMemory::new(),
            ExtBytecode::new(Bytecode::new_raw(code)),
            inputs,
            false,
            SPEC,
            limit,
        );
        let mut table = instruction_table::<EthInterpreter, WardHost>();
        table[opcode::TLOAD as usize] = revm_interpreter::Instruction::new(refused);
        table[opcode::TSTORE as usize] = revm_interpreter::Instruction::new(refused);
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
        if !inputs.value.get().is_zero() {
            // Ward has no native currency: value cannot move.
            return (InstructionResult::OutOfFunds, Vec::new(), forwarded);
        }
        if inputs.scheme == CallScheme::CallCode {
            return (InstructionResult::NotActivated, Vec::new(), 0);
        }
        let target = inputs.bytecode_address;
        if target != WARD_CALL {
            if self.host.precompiles.contains(&target) {
                return self.precompile(&target, &input, forwarded);
            }
            if inputs.known_bytecode.1.is_empty() {
                // An account without code: the call succeeds at once.
                return (InstructionResult::Stop, Vec::new(), forwarded);
            }
        }
        let (address, input) = if target == WARD_CALL {
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
        if inputs.scheme == CallScheme::DelegateCall {
            flags |= DELEGATE;
        }
        let (status, used) = self.ward_call(forwarded, |gas| {
            // SAFETY: the address and the input are live buffers of the
            // given lengths.
            unsafe {
                sys::call(
                    address.as_ptr() as i32,
                    input.as_ptr() as i32,
                    input.len() as i32,
                    gas,
                    flags,
                )
            }
        });
        let data = ward_sdk::call::return_data();
        match status {
            CALL_OK => (InstructionResult::Return, data, forwarded - used),
            CALL_REVERTED => (InstructionResult::Revert, data, forwarded - used),
            _ => (InstructionResult::Revert, Vec::new(), forwarded - used),
        }
    }

    /// Runs precompile `at` on `input` with `forwarded` gas. SHA-256
    /// (`0x02`) hashes through Ward's host (`ward.hash_sha256`, native);
    /// those whose Wasm costs more per gas than [`GAS_RATE`] pays for
    /// charge [`surcharge`] Ward gas more; those not yet measured are
    /// refused (the call fails, using its gas).
    fn precompile(
        &mut self,
        at: &Address,
        input: &[u8],
        forwarded: u64,
    ) -> (InstructionResult, Vec<u8>, u64) {
        let index = precompile_index(at);
        if index == Some(2) {
            let cost = 60 + 12 * (input.len() as u64).div_ceil(32);
            if cost > forwarded {
                return (InstructionResult::PrecompileOOG, Vec::new(), 0);
            }
            return (
                InstructionResult::Return,
                crate::host::sha256(input).to_vec(),
                forwarded - cost,
            );
        }
        let Some(extra) = index.and_then(surcharge) else {
            return (InstructionResult::PrecompileError, Vec::new(), 0);
        };
        let Some(precompile) = self.host.precompiles.get(at) else {
            return (InstructionResult::PrecompileError, Vec::new(), 0);
        };
        match precompile.execute(input, forwarded, 0) {
            Ok(output) if output.gas_used <= forwarded => {
                if extra > 0 {
                    env::charge_gas(output.gas_used.saturating_mul(extra));
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
    /// with `forwarded` EVM gas, once this frame's own gas so far is
    /// charged (so that Ward's gas left is what the EVM's is); returns its
    /// status and the EVM gas it used. The callee's Ward gas, charged by
    /// the host, is turned into EVM gas rounded up (the rounding is
    /// charged too).
    fn ward_call(&mut self, forwarded: u64, call: impl FnOnce(i64) -> i32) -> (i32, u64) {
        let own = self
            .interpreter
            .gas
            .total_gas_spent()
            .saturating_sub(forwarded);
        self.charge_spent(own);
        let before = env::gas_left();
        let status = call(i64::try_from(forwarded.saturating_mul(GAS_RATE)).unwrap_or(i64::MAX));
        self.host.invalidate();
        let used_ward = before.saturating_sub(env::gas_left());
        let used = used_ward.div_ceil(GAS_RATE).min(forwarded);
        let rounding = (used * GAS_RATE).saturating_sub(used_ward);
        if rounding > 0 {
            env::charge_gas(rounding);
        }
        self.charged += used;
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
        if !inputs.value().is_zero() {
            return (InstructionResult::OutOfFunds, None, Vec::new(), forwarded);
        }
        let nonce = read_nonce();
        write_nonce(nonce + 1);
        let address = inputs.created_address(nonce);
        let salt = ward_address(&address);
        let code = inputs.init_code().clone();
        let (status, used) = self.ward_call(forwarded, |gas| {
            // SAFETY: the code and the salt are live buffers of the given
            // lengths; the input is empty.
            unsafe {
                sys::create(
                    code.as_ptr() as i32,
                    code.len() as i32,
                    0,
                    0,
                    salt.as_ptr() as i32,
                    gas,
                )
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

/// The number of a precompile's address (`0x01`..), if it is that small.
fn precompile_index(at: &Address) -> Option<u8> {
    let bytes = at.as_slice();
    bytes[..19].iter().all(|b| *b == 0).then_some(bytes[19])
}

/// Ward gas a precompile pays per unit of its EVM gas beyond
/// [`GAS_RATE`] (`docs/evm.md`): what its Wasm costs over the rate, as
/// measured by `crates/executor/tests/all/evm_rate.rs`, rounded up. `None`:
/// not offered (its cost per gas is not measured).
fn surcharge(index: u8) -> Option<u64> {
    match index {
        // ripemd160, identity: within the rate.
        3 | 4 => Some(0),
        1 => Some(ECRECOVER_SURCHARGE),
        _ => None,
    }
}

/// `ecrecover`'s surcharge per EVM gas.
const ECRECOVER_SURCHARGE: u64 = 6_000;

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
