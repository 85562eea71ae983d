//! Ward's EVM system runtime (`docs/evm.md`).
//!
//! revm's interpreter, built for wasm32 and registered by a chain as the
//! trusted, self-metered system runtime `evm` (`docs/runtimes.md`). A
//! contract deployed for it has EVM bytecode as its code; each of its
//! frames is a Ward frame running this runtime:
//!
//! - `deploy` runs the creation code (the deploy's code with its input
//!   appended, as the EVM expects) and outputs the deployed bytecode;
//! - `main` runs the contract's bytecode on the call's input (calldata);
//! - `analyze` outputs the jump-table analysis of the bytecode it is
//!   given, which the executor makes once per code hash and passes in
//!   `main`'s envelope, so that a frame does not analyse its code again.
//!
//! Storage slots are Ward storage entries of the contract (32-byte key,
//! 32-byte big-endian value, zero is absent); logs are Ward events;
//! `CALL` and `STATICCALL` to another contract are Ward calls, which
//! suspend this frame while the callee runs; precompiles run here. EVM gas
//! is charged through `ward.charge_gas` at [`GAS_RATE`] Ward gas per EVM
//! gas (precompiles whose Wasm costs more pay a measured surcharge), and
//! reported through `ward.report_gas`: a receipt's `runtime_gas`.

#![no_std]

extern crate alloc;

mod access;
mod frame;
#[cfg(target_arch = "wasm32")]
mod heap;
mod host;
mod kzg;
mod precompile;

/// Off wasm32 (a host build, `cargo clippy`) the system allocator serves,
/// and there is nothing to keep or reset.
#[cfg(not(target_arch = "wasm32"))]
mod heap {
    pub(crate) fn keep() {}
    pub(crate) unsafe fn reset() {}
}

use alloc::vec::Vec;

use revm_interpreter::{
    InstructionResult,
    primitives::{Address, hardfork::SpecId},
};
use ward_sdk::env;

/// Ward gas charged per unit of EVM gas: at least what the Wasm the
/// runtime runs per EVM gas would cost under Ward's own metering, for every
/// workload measured (`crates/executor/tests/all/evm_rate.rs`).
pub const GAS_RATE: u64 = 64;

/// The EVM revision the runtime implements.
pub const SPEC: SpecId = SpecId::PRAGUE;

/// What `CHAINID` returns on a chain without an Ethereum chain id
/// (`ward.chain_id` answers 0): "ward" in ASCII.
pub const CHAIN_ID: u64 = 0x7761_7264;

/// What `GASLIMIT` returns: a Ward block's gas maximum (200 000 000, the
/// default `ChainLimits::max_block_gas`) in EVM gas (3 125 000).
pub const BLOCK_GAS_LIMIT: u64 = 200_000_000 / GAS_RATE;

/// The largest deployed bytecode (EIP-170).
pub const MAX_CODE_SIZE: usize = 0x6000;

/// The address through which an EVM contract calls a contract whose Ward
/// address does not fit in 20 bytes (a Wasm contract): the input is the
/// 32-byte Ward address, then the calldata; unless a contract holds this
/// address, which is then called as any other.
pub const WARD_CALL: Address = Address::new([
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xca, 0x11,
]);

/// Exit codes beside 0 (success): a revert (the output is the revert
/// data) and an exceptional halt (all gas used, no output).
const REVERTED: i32 = 1;
const HALTED: i32 = 2;

/// The EVM address of a Ward address: its last 20 bytes.
pub fn evm_address(ward: &[u8; 32]) -> Address {
    Address::from_slice(&ward[12..])
}

/// The Ward address of an EVM address: 12 zero bytes, then the address.
pub fn ward_address(evm: &Address) -> [u8; 32] {
    let mut out = [0u8; 32];
    out[12..].copy_from_slice(evm.as_slice());
    out
}

/// Calls of a contract: its bytecode on the calldata.
#[unsafe(no_mangle)]
pub extern "C" fn main() -> i32 {
    enter(false)
}

/// A deploy: the creation code (code, then input) returns the bytecode.
#[unsafe(no_mangle)]
pub extern "C" fn deploy() -> i32 {
    enter(true)
}

/// Splits the system runtimes' envelope (`docs/runtimes.md`).
#[unsafe(no_mangle)]
pub extern "C" fn analyze() -> i32 {
    unsafe { heap::reset() };
    env::set_output(&frame::analysis(&env::input()));
    0
}

/// Set in an envelope's code length when the code's analysis follows the
/// code (`docs/runtimes.md`).
const ANALYZED: u32 = 1 << 31;

/// An envelope's parts: the code, its analysis when the executor passed
/// one, and the input.
struct Envelope<'a> {
    code: &'a [u8],
    analysis: Option<&'a [u8]>,
    input: &'a [u8],
}

fn split(input: &[u8]) -> Option<Envelope<'_>> {
    let word = u32::from_le_bytes(input.get(..4)?.try_into().ok()?);
    let len = (word & !ANALYZED) as usize;
    let code = input.get(4..4usize.checked_add(len)?)?;
    let rest = &input[4 + len..];
    if word & ANALYZED == 0 {
        return Some(Envelope {
            code,
            analysis: None,
            input: rest,
        });
    }
    let analysis_len = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?) as usize;
    let analysis = rest.get(4..4usize.checked_add(analysis_len)?)?;
    Some(Envelope {
        code,
        analysis: Some(analysis),
        input: &rest[4 + analysis_len..],
    })
}

fn enter(deploying: bool) -> i32 {
    host::init_once();
    // SAFETY: nothing allocated in an earlier call is used after this but
    // what `init_once` kept.
    unsafe { heap::reset() };
    let input = env::input();
    let Some(Envelope {
        code,
        analysis,
        input: data,
    }) = split(&input)
    else {
        return halt_all();
    };
    let (code, calldata): (Vec<u8>, &[u8]) = if deploying {
        let mut init = code.to_vec();
        init.extend_from_slice(data);
        (init, &[])
    } else {
        (code.to_vec(), data)
    };
    let limit = env::gas_left() / GAS_RATE;
    let codeless = !deploying && code.is_empty();
    let mut frame = frame::Frame::new(code, analysis, calldata, limit, deploying);
    // No code at a precompile's address: the precompile runs (a
    // transaction or a Ward call to it).
    let precompiled = if codeless {
        frame.run_as_precompile(calldata)
    } else {
        None
    };
    let mut result = match precompiled {
        Some(result) => result,
        None => frame.run(),
    };
    if deploying && result.result.is_ok() {
        frame::deposit(&mut result);
    }
    // The EVM gas this frame spent (all of it after a halt), as the
    // receipt's `runtime_gas` when this is the transaction's top frame.
    env::report_gas(result.gas.total_gas_spent());
    frame.settle(&result.gas);
    match result.result {
        r if r.is_ok() => {
            env::set_output(&result.output);
            0
        }
        r if r.is_revert() => {
            env::set_output(&result.output);
            REVERTED
        }
        r if is_out_of_gas(r) => out_of_gas(),
        _ => HALTED,
    }
}

/// Whether a halt is the EVM running out of gas.
fn is_out_of_gas(result: InstructionResult) -> bool {
    matches!(
        result,
        InstructionResult::OutOfGas
            | InstructionResult::MemoryOOG
            | InstructionResult::MemoryLimitOOG
            | InstructionResult::PrecompileOOG
            | InstructionResult::InvalidOperandOOG
            | InstructionResult::ReentrancySentryOOG
    )
}

/// Ends the frame as Ward's `out_of_gas`: charges more than is left.
fn out_of_gas() -> i32 {
    env::charge_gas(env::gas_left().saturating_add(1));
    HALTED
}

/// A malformed envelope (only Ward's own bug could make one): every gas
/// unit is used, as for any exceptional halt.
fn halt_all() -> i32 {
    env::charge_gas(env::gas_left());
    HALTED
}
