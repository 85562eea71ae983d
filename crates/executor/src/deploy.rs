//! Deploys: the deploy charge, Ward's checks of the code, the contract's
//! record, and the `deploy` entry point (or a system runtime's).

use crate::error::ExecError;
use crate::runtime::Code;
use crate::{Deployed, Executor, SharedJournal, lock, runtime};
use std::sync::Arc;
use ward_primitives::{Address, CodeKind, Gas, Hash32};
use ward_state::{ContractInfo, StateCommit};
use ward_vm::{CodeHash, ErrorKind, Execution, Failure, Outcome, Status};

impl<S: StateCommit + Send + Sync + 'static> Executor<S> {
    /// A deploy once its address is known to be free: the deploy charge,
    /// validation and compilation, the code and the contract record, and
    /// the `deploy` entry point on the gas that is left.
    pub(crate) fn deploy(
        &self,
        journal: &SharedJournal<S>,
        tx: (&[u8], Hash32),
        code: &[u8],
        limit: Gas,
        at: Deployed,
    ) -> Result<Execution, ExecError> {
        if let CodeKind::Runtime(name) = at.kind {
            return self.deploy_for_runtime(journal, tx, code, limit, (at, name));
        }
        let (charge, module) = match self.check_wasm_deploy(code, at.kind, limit) {
            Ok(checked) => checked,
            Err((failure, used)) => {
                at.charged(used);
                return Ok(Execution::of(Outcome::failed(failure, used)));
            }
        };
        at.charged(charge);
        let info = ContractInfo {
            code_hash: at.code_hash,
            deployer: at.deployer,
            created_at: at.height,
            kind: at.kind,
            admin: at.admin,
            history: Vec::new(),
        };
        put_contract(journal, at.address, info, code.to_vec());
        let mut execution = if runs_deploy(&module, at.kind) {
            let frame = at.frame(journal);
            let left = limit.saturating_sub(charge);
            self.run(
                Code::Wasm(module, at.code_hash),
                at.kind,
                "deploy",
                tx,
                left,
                frame,
            )?
        } else {
            Execution::of(Outcome::finished(0, Vec::new(), Gas::ZERO))
        };
        execution.outcome.gas_used = execution.outcome.gas_used.saturating_add(charge);
        if execution.outcome.status != Status::Ok {
            // No code, no address, no cache entry.
            self.cache.forget(&CodeHash(at.code_hash.0));
        }
        Ok(execution)
    }

    /// Ward's checks of Wasm code being deployed as a contract of `kind`
    /// (by a transaction or by `ward.create`), in order: the deploy charge,
    /// which `limit` must cover; the schema section; compiling; the kind's
    /// entry points. The charge and the module, or the failure and the gas
    /// it used (all of `limit` when the charge is not covered, the charge
    /// otherwise).
    pub(crate) fn check_wasm_deploy(
        &self,
        code: &[u8],
        kind: CodeKind,
        limit: Gas,
    ) -> Result<(Gas, ward_vm::Module), (Failure, Gas)> {
        let charge = self.deploy_charge(code, limit).map_err(|f| (f, limit))?;
        if let Err(e) = ward_chain::schema::Schema::from_module(code) {
            let failure = Failure::new(ErrorKind::InvalidSchema, e.to_string());
            return Err((failure, charge));
        }
        let module = self.cache.get_or_compile(code).map_err(|f| (f, charge))?;
        fits_kind(&module, kind).map_err(|f| (f, charge))?;
        Ok((charge, module))
    }

    /// Ward's deploy charge for `code` (`docs/gas.md`), or, when `limit`
    /// does not cover it, the deploy's `out_of_gas` failure (which uses all
    /// of `limit`).
    pub(crate) fn deploy_charge(&self, code: &[u8], limit: Gas) -> Result<Gas, Failure> {
        let charge = Gas::new(self.schedule.deploy_cost(code.len() as u64));
        if charge > limit {
            let failure = Failure::new(
                ErrorKind::OutOfGas,
                format!(
                    "deploying {} bytes costs {charge} gas, more than the limit {limit}",
                    code.len()
                ),
            );
            return Err(failure);
        }
        Ok(charge)
    }

    /// A deploy for the system runtime `name`. If the runtime exports
    /// `deploy`, it runs with the deploy's code and input in one envelope,
    /// and what it outputs is the contract's code (an EVM constructor's
    /// return); the runtime charges for it. Otherwise the deploy's code is
    /// the contract's, and pays Ward's deploy cost for its bytes. While
    /// `deploy` runs, the contract exists with empty code.
    pub(crate) fn deploy_for_runtime(
        &self,
        journal: &SharedJournal<S>,
        (input, id): (&[u8], Hash32),
        code: &[u8],
        limit: Gas,
        (at, name): (Deployed, ward_primitives::RuntimeName),
    ) -> Result<Execution, ExecError> {
        let Some((runtime, deploys)) = self.runtimes.get(&name) else {
            let failure = Failure::new(
                ErrorKind::EntryNotFound,
                format!("this chain has no system runtime named `{name}`"),
            );
            return Ok(Execution::rejected(failure));
        };
        let record = |journal: &SharedJournal<S>, code: Vec<u8>| {
            let info = ContractInfo {
                code_hash: Hash32(CodeHash::of(&code).0),
                deployer: at.deployer,
                created_at: at.height,
                kind: at.kind,
                admin: None,
                history: Vec::new(),
            };
            put_contract(journal, at.address, info, code);
        };
        if !deploys {
            let charge = match self.deploy_charge(code, limit) {
                Ok(charge) => charge,
                Err(failure) => {
                    at.charged(limit);
                    return Ok(Execution::of(Outcome::failed(failure, limit)));
                }
            };
            at.charged(charge);
            record(journal, code.to_vec());
            return Ok(Execution::of(Outcome::finished(0, Vec::new(), charge)));
        }
        record(journal, Vec::new());
        let frame = at.frame(journal);
        let envelope = runtime::envelope(code, input);
        let code = Code::Runtime(runtime, Arc::new(runtime::head(&[], None)));
        let execution = self.run_with(code, at.kind, "deploy", (envelope, id), limit, frame)?;
        if execution.outcome.status == Status::Ok {
            record(journal, execution.outcome.output.clone());
        }
        Ok(execution)
    }
}

/// Whether `module` may be deployed as `kind`: a Ward contract imports
/// nothing from WASI; a WASI command exports `_start: [] -> []`; a WASI
/// reactor's `_initialize`, when it has one, is `[] -> []`.
pub(crate) fn fits_kind(module: &ward_vm::Module, kind: CodeKind) -> Result<(), Failure> {
    match kind {
        CodeKind::Ward => match module
            .imports()
            .iter()
            .find(|i| i.module == ward_abi::WASI_MODULE)
        {
            Some(import) => Err(Failure::new(
                ErrorKind::UnknownImport,
                format!(
                    "import {}.{}: WASI is refused unless the contract is deployed as a WASI command or reactor (`ward deploy --wasi` or `--wasi-reactor`)",
                    import.module, import.name
                ),
            )),
            None => Ok(()),
        },
        // A runtime's contract is not Wasm: it is never compiled.
        CodeKind::Runtime(_) => Ok(()),
        CodeKind::Wasi => match module.export_func("_start") {
            None => Err(Failure::new(
                ErrorKind::EntryNotFound,
                "a WASI command exports `_start`",
            )),
            Some(ty) if !ty.params.is_empty() || !ty.results.is_empty() => Err(Failure::new(
                ErrorKind::BadEntrySignature,
                format!("`_start` has type {ty}; a WASI command's is [] -> []"),
            )),
            Some(_) => Ok(()),
        },
        CodeKind::WasiReactor => match module.export_func("_initialize") {
            Some(ty) if !ty.params.is_empty() || !ty.results.is_empty() => Err(Failure::new(
                ErrorKind::BadEntrySignature,
                format!("`_initialize` has type {ty}; a WASI reactor's is [] -> []"),
            )),
            _ => Ok(()),
        },
    }
}

/// Stores `code` under `info.code_hash` and the contract `info` at
/// `address`, in the journal.
pub(crate) fn put_contract<S: StateCommit + Send + Sync + 'static>(
    journal: &SharedJournal<S>,
    address: Address,
    info: ContractInfo,
    code: Vec<u8>,
) {
    let mut j = lock(journal);
    j.put_code(info.code_hash, code);
    j.create_contract(address, info);
}

/// Whether a Wasm contract of `kind` runs a `deploy` entry when deployed
/// (a WASI command has none: `_start` is its call).
pub(crate) fn runs_deploy(module: &ward_vm::Module, kind: CodeKind) -> bool {
    kind == CodeKind::Ward && module.export_func("deploy").is_some()
}
