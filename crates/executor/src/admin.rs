//! Admin transactions: a contract's admin replaces its code (running the
//! new code's `migrate`) or hands the admin on (`docs/contracts.md`,
//! "Upgrades"). The address, storage and balance stay; the contract's
//! record keeps its code history; each change is an event of the
//! contract's, emitted by the chain.

use crate::deploy::put_contract;
use crate::error::ExecError;
use crate::frame::Frame;
use crate::runtime::Code;
use crate::{Executor, SharedJournal, lock, trace};
use ward_primitives::{Address, CodeKind, Gas, Hash32};
use ward_state::{ContractInfo, Encode, Event, StateCommit};
use ward_vm::{CodeHash, ErrorKind, Execution, Failure, Outcome};

use ward_chain::tx::AdminAction;

/// The topic of the event an upgrade emits; its data is the old and the
/// new code hash.
pub const UPGRADED_TOPIC: &[u8] = b"ward.upgraded";
/// The topic of the event an admin change emits; its data is the new
/// admin (an optional address in the record encoding).
pub const ADMIN_TOPIC: &[u8] = b"ward.admin";

/// Where an admin transaction runs: its block, and the recorder when it
/// is traced.
pub(crate) struct AdminAt<'a> {
    pub(crate) height: u64,
    pub(crate) time: u64,
    pub(crate) trace: Option<&'a trace::Tracer>,
}

impl<S: StateCommit + Send + Sync + 'static> Executor<S> {
    /// Runs `action` of `sender` on `contract` on `limit` gas.
    ///
    /// # Errors
    ///
    /// No contract at `contract` (an invalid transaction), or a state
    /// failure.
    pub(crate) fn administer(
        &self,
        journal: &SharedJournal<S>,
        (input, id): (&[u8], Hash32),
        (sender, contract, action): (Address, Address, &AdminAction),
        limit: Gas,
        at: AdminAt<'_>,
    ) -> Result<Execution, ExecError> {
        let Some(info) = lock(journal).contract(&contract)? else {
            return Err(ExecError::InvalidTx(format!("no contract at {contract}")));
        };
        if info.admin != Some(sender) {
            let message = match info.admin {
                None => format!("contract {contract} has no admin: it cannot be changed"),
                Some(admin) => format!("only the admin ({admin}) may change contract {contract}"),
            };
            return Ok(Execution::rejected(Failure::new(
                ErrorKind::NotAdmin,
                message,
            )));
        }
        match action {
            AdminAction::SetAdmin(admin) => {
                let mut data = Vec::new();
                ward_chain::tx::encode_admin(*admin, &mut data);
                let mut j = lock(journal);
                j.create_contract(
                    contract,
                    ContractInfo {
                        admin: *admin,
                        ..info
                    },
                );
                j.emit(Event {
                    contract,
                    topic: ADMIN_TOPIC.to_vec(),
                    data,
                });
                Ok(Execution::of(Outcome::finished(0, Vec::new(), Gas::ZERO)))
            }
            AdminAction::Upgrade { code, .. } => self.upgrade(
                journal,
                (input, id),
                (sender, contract, info, code),
                limit,
                at,
            ),
        }
    }

    /// Replaces the code of `contract` (whose record is `info`) with
    /// `code`, then runs its `migrate` when it exports one.
    fn upgrade(
        &self,
        journal: &SharedJournal<S>,
        (input, id): (&[u8], Hash32),
        (sender, contract, info, code): (Address, Address, ContractInfo, &[u8]),
        limit: Gas,
        at: AdminAt<'_>,
    ) -> Result<Execution, ExecError> {
        if let CodeKind::Runtime(name) = info.kind {
            let failure = Failure::new(
                ErrorKind::UnsupportedFeature,
                format!(
                    "contract {contract} runs on system runtime `{name}`: only Wasm contracts are upgraded"
                ),
            );
            return Ok(Execution::rejected(failure));
        }
        let charged = |gas: Gas| {
            if let Some(trace) = at.trace {
                lock(trace).charge("upgrade", gas.get());
            }
        };
        let (charge, module) = match self.check_wasm_deploy(code, info.kind, limit) {
            Ok(checked) => checked,
            Err((failure, used)) => {
                charged(used);
                return Ok(Execution::of(Outcome::failed(failure, used)));
            }
        };
        charged(charge);
        let code_hash = Hash32(CodeHash::of(code).0);
        let mut history = info.code_history();
        history.push((at.height, code_hash));
        let old = info.code_hash;
        let kind = info.kind;
        let new = ContractInfo {
            code_hash,
            history,
            ..info
        };
        put_contract(journal, contract, new, code.to_vec());
        let mut data = Vec::new();
        old.encode(&mut data);
        code_hash.encode(&mut data);
        lock(journal).emit(Event {
            contract,
            topic: UPGRADED_TOPIC.to_vec(),
            data,
        });
        let mut execution = if kind == CodeKind::Ward && module.export_func("migrate").is_some() {
            let frame = Frame {
                value: 0,
                journal: journal.clone(),
                address: contract,
                caller: sender,
                origin: sender,
                height: at.height,
                time: at.time,
                chain_id: self.eth_chain_id,
                read_only: false,
                trace: at.trace.cloned(),
                runtime_space: None,
            };
            let left = limit.saturating_sub(charge);
            self.run(
                Code::Wasm(module, code_hash),
                kind,
                "migrate",
                (input, id),
                left,
                frame,
            )?
        } else {
            Execution::of(Outcome::finished(0, Vec::new(), Gas::ZERO))
        };
        execution.outcome.gas_used = execution.outcome.gas_used.saturating_add(charge);
        Ok(execution)
    }
}
