//! `ward.create`: contracts deploying contracts (`docs/host-abi.md`).
//!
//! A contract deploys a contract of its own kind. A Wasm contract's new
//! address comes from its own address, the code's hash and the salt, as a
//! deploy transaction's does from its sender's; a system runtime's
//! contract names the address itself (the last 20 bytes of the salt: the
//! EVM computes `CREATE` and `CREATE2` addresses), since the runtime is
//! trusted. The deploy runs as a frame of its own while the creator waits,
//! exactly as a deploy transaction's would: Ward's deploy charge and
//! checks for Wasm code, the runtime's `deploy` for a runtime's code.

use std::sync::Arc;

use ward_abi::call::{FAILED as CALL_FAILED, OK as CALL_OK};
use ward_chain::tx::eth::{create2_address, wasm_creation_code};
use ward_primitives::{Address, CodeKind, Gas, Hash32};
use ward_state::{ContractInfo, Journal, StateCommit, StateError, StateRead};
use ward_vm::{CodeHash, FaultKind, NodeFault, Progress, Reply, Running};

use crate::{
    Current, ExecError, Executor, Frame, Frames, SharedJournal, Waiting, contract_address, lock,
    put_contract, runs_deploy, runtime::Code,
};

/// A `ward.create` as the executor serves it.
pub(crate) struct CreateRequest {
    pub(crate) code: Vec<u8>,
    pub(crate) input: Vec<u8>,
    pub(crate) salt: [u8; 32],
    pub(crate) gas: Gas,
    /// Where the deploy's stack starts.
    pub(crate) stack_base: u32,
    /// The native asset moved to the new contract before its deploy.
    pub(crate) value: u128,
}

/// The contract a waiting creator's `ward.create` is deploying.
pub(crate) struct Created {
    address: Address,
    /// Ward's deploy charge, paid from the create's gas before the deploy
    /// ran (none for a runtime's contract: the runtime charges).
    pub(crate) charge: Gas,
    /// A runtime's contract's record: the deploy's output becomes its
    /// code.
    record: Option<ContractInfo>,
}

impl Created {
    /// What the creator gets once the deploy returned ok: the new
    /// address. A runtime's contract first gets the deploy's output as
    /// its code.
    pub(crate) fn finish<S: StateCommit + Send + Sync + 'static>(
        self,
        journal: &SharedJournal<S>,
        output: Vec<u8>,
    ) -> Vec<u8> {
        if let Some(info) = self.record {
            let code_hash = Hash32(CodeHash::of(&output).0);
            put_contract(
                journal,
                self.address,
                ContractInfo { code_hash, ..info },
                output,
            );
        }
        self.address.0.to_vec()
    }
}

/// The creator resumes at once: `status`, `return_data`, `gas_used`.
fn resume(running: Running, status: i32, return_data: Vec<u8>, gas_used: Gas) -> Progress {
    running.resume(Reply::Call {
        status,
        return_data,
        gas_used: gas_used.get(),
    })
}

/// The deploy's frame, made the running one: `creator`'s new contract at
/// `address`, which receives `value`.
fn enter_deploy<S: StateCommit + Send + Sync + 'static>(
    frames: &mut Frames<S>,
    address: Address,
    creator: Current,
    value: u128,
) -> Frame<S> {
    frames.current = Current {
        address,
        caller: creator.address,
        kind: creator.kind,
        read_only: false,
        value,
    };
    Frame {
        value,
        journal: frames.journal.clone(),
        address,
        caller: creator.address,
        origin: frames.origin,
        height: frames.height,
        time: frames.time,
        chain_id: frames.chain_id,
        read_only: false,
        trace: frames.trace.clone(),
        runtime_space: None,
    }
}

/// Whether no contract may be created at `address`: a contract is
/// there, or an account whose nonce is not zero (EIP-684: it has sent a
/// transaction or created a contract), as on Ethereum.
pub(crate) fn address_taken<V: StateRead>(
    journal: &Journal<V>,
    address: &Address,
) -> Result<bool, StateError> {
    Ok(journal.contract(address)?.is_some() || journal.nonce(address)? > 0)
}

impl<S: StateCommit + Send + Sync + 'static> Executor<S> {
    /// A `ward.create` from the running frame: the deploy starts as a
    /// frame of its own while the creator waits, or the creator resumes at
    /// once: `failed` when it is read-only, the stack or instance budget
    /// is spent, the address is taken, or the code is refused (with the
    /// gas the refusal cost); `ok` when nothing is left to run.
    pub(crate) fn create(
        &self,
        frames: &mut Frames<S>,
        running: Running,
        request: CreateRequest,
    ) -> Result<Progress, ExecError> {
        let creator = frames.current;
        let max_stack = self.cache.config().policy.limits.max_stack_units;
        let slot = (!creator.read_only && request.stack_base < max_stack)
            .then(|| frames.instances.take())
            .flatten();
        let Some(slot) = slot else {
            return Ok(resume(running, CALL_FAILED, Vec::new(), Gas::ZERO));
        };
        let code_hash = Hash32(CodeHash::of(&request.code).0);
        let address = match creator.kind {
            CodeKind::Runtime(_) => crate::runtime_address(Address(request.salt)),
            // A contract of 20-byte form (deployed from an Ethereum
            // account) creates as the EVM's CREATE2 does, so Ethereum
            // tools compute the address.
            _ => match creator.address.eth() {
                Some(from) => {
                    let init = [wasm_creation_code(&request.code), request.input.clone()].concat();
                    Address::from_eth(create2_address(from, request.salt, &init))
                }
                None => contract_address(&creator.address, &code_hash, &request.salt),
            },
        };
        if address_taken(&lock(&frames.journal), &address)? {
            return Ok(resume(running, CALL_FAILED, Vec::new(), Gas::ZERO));
        }
        let checkpoint = lock(&frames.journal).checkpoint();
        // Inside the deploy's checkpoint: a failed deploy gives it back.
        if !lock(&frames.journal).transfer(creator.address, address, request.value)? {
            return Ok(resume(running, CALL_FAILED, Vec::new(), Gas::ZERO));
        }
        let info = ContractInfo {
            code_hash,
            deployer: creator.address,
            created_at: frames.height,
            kind: creator.kind,
            admin: None,
            history: Vec::new(),
        };
        let (code, input, charge, record) = match creator.kind {
            CodeKind::Runtime(name) => {
                let Some((runtime, deploys)) = self.runtimes.get(&name) else {
                    return Err(ExecError::Fault(NodeFault::new(
                        FaultKind::Invariant,
                        format!("system runtime `{name}` is not registered on this node"),
                    )));
                };
                if !deploys {
                    return Ok(self.store_as_is(
                        frames,
                        running,
                        request,
                        (address, info, checkpoint),
                    ));
                }
                let empty = ContractInfo {
                    code_hash: Hash32(CodeHash::of(&[]).0),
                    ..info.clone()
                };
                put_contract(&frames.journal, address, empty, Vec::new());
                let input = crate::runtime::envelope(&request.code, &request.input);
                (
                    Code::Runtime(runtime, Arc::new(crate::runtime::head(&[], None))),
                    input,
                    Gas::ZERO,
                    Some(info),
                )
            }
            kind => {
                let (charge, module) =
                    match self.check_wasm_deploy(&request.code, kind, request.gas) {
                        Ok(checked) => checked,
                        Err((_, used)) => {
                            lock(&frames.journal).revert(checkpoint);
                            return Ok(resume(running, CALL_FAILED, Vec::new(), used));
                        }
                    };
                put_contract(&frames.journal, address, info, request.code);
                if !runs_deploy(&module, kind) {
                    return Ok(resume(running, CALL_OK, address.0.to_vec(), charge));
                }
                (Code::Wasm(module, code_hash), request.input, charge, None)
            }
        };
        frames.waiting.push(Waiting {
            running,
            checkpoint,
            current: creator,
            created: Some(Created {
                address,
                charge,
                record,
            }),
            slot: frames.slot.replace(slot),
        });
        let (value, gas) = (request.value, request.gas);
        frames
            .trace_open(|| crate::trace::Opening::create(address, &creator, &input, (value, gas)));
        let frame = enter_deploy(frames, address, creator, value);
        let gas_limit = request.gas.saturating_sub(charge);
        let context = self.context(
            (creator.kind, &code),
            frames,
            frame,
            (request.stack_base, gas_limit),
        )?;
        let options = frames.run_options(input, gas_limit);
        Ok(self.start((&code, creator.kind), "deploy", options, context))
    }

    /// A runtime without `deploy`: the code is stored as it is, for Ward's
    /// deploy cost.
    fn store_as_is(
        &self,
        frames: &mut Frames<S>,
        running: Running,
        request: CreateRequest,
        (address, info, checkpoint): (Address, ContractInfo, ward_state::Checkpoint),
    ) -> Progress {
        let Ok(charge) = self.deploy_charge(&request.code, request.gas) else {
            lock(&frames.journal).revert(checkpoint);
            return resume(running, CALL_FAILED, Vec::new(), request.gas);
        };
        put_contract(&frames.journal, address, info, request.code);
        resume(running, CALL_OK, address.0.to_vec(), charge)
    }
}
