//! State set directly, outside any transaction: what a dev chain's
//! controls (`setBalance`, `setStorage`, `setCode`) and `ward-test`'s
//! `fund`/`set_storage` do. A patch is applied at the start of a block,
//! before its transactions, through the same journal they use, so the
//! block's state root covers it like any other change.

use crate::block::Block;
use crate::error::ExecError;
use crate::{Executor, SharedJournal, lock};
use ward_primitives::{Address, CodeKind, Hash32};
use ward_state::{ContractInfo, StateCommit};
use ward_vm::CodeHash;

use std::collections::BTreeMap;

/// Balances, storage values and contract code to set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Patch {
    /// Native-asset balances to set.
    pub balances: BTreeMap<Address, u128>,
    /// Storage values to write (`None` removes the key).
    pub storage: BTreeMap<(Address, Vec<u8>), Option<Vec<u8>>>,
    /// New code for existing contracts (its address, storage, balance and
    /// deployer stay).
    pub code: BTreeMap<Address, Vec<u8>>,
    /// The kind of contract `code` creates at an address that has none
    /// (deployed by nobody, the zero address, in this block); without
    /// one, code for such an address is refused.
    pub creates: BTreeMap<Address, CodeKind>,
}

impl Patch {
    /// Nothing to set.
    pub fn is_empty(&self) -> bool {
        self.balances.is_empty() && self.storage.is_empty() && self.code.is_empty()
    }

    /// Adds `older`'s entries that this patch does not set again (what a
    /// node keeps when the block that was to carry `older` failed).
    pub fn keep_older(&mut self, older: Patch) {
        for (address, balance) in older.balances {
            self.balances.entry(address).or_insert(balance);
        }
        for (key, value) in older.storage {
            self.storage.entry(key).or_insert(value);
        }
        for (address, kind) in older.creates {
            self.creates.entry(address).or_insert(kind);
        }
        for (address, code) in older.code {
            self.code.entry(address).or_insert(code);
        }
    }

    /// Writes it into `journal`.
    ///
    /// # Errors
    ///
    /// A state failure, or code for an address with no contract
    /// ([`ExecError::InvalidTx`]).
    pub(crate) fn apply<S: StateCommit + Send + Sync + 'static>(
        &self,
        journal: &SharedJournal<S>,
        height: u64,
    ) -> Result<(), ExecError> {
        let mut j = lock(journal);
        for (address, balance) in &self.balances {
            j.set_balance(*address, *balance);
        }
        for ((address, key), value) in &self.storage {
            j.write(*address, key, value.clone())?;
        }
        for (address, code) in &self.code {
            let info = match (j.contract(address)?, self.creates.get(address)) {
                (Some(info), _) => info,
                (None, Some(kind)) => ContractInfo::placed(Hash32::default(), *kind, height),
                (None, None) => {
                    return Err(ExecError::InvalidTx(format!(
                        "setCode: no contract at {address}"
                    )));
                }
            };
            let code_hash = Hash32(CodeHash::of(code).0);
            j.put_code(code_hash, code.clone());
            j.create_contract(*address, ContractInfo { code_hash, ..info });
        }
        Ok(())
    }
}

impl<S: StateCommit + Send + Sync + 'static> Executor<S> {
    /// Commits block `store.height() + 1` at `time` with no transactions
    /// and `patch` applied: a dev chain's direct change, covered by the
    /// block's state root.
    ///
    /// # Errors
    ///
    /// A state failure, or code for an address with no contract
    /// ([`ExecError::InvalidTx`]); nothing is committed.
    pub fn commit_patch(&self, patch: &Patch, time: u64) -> Result<Block, ExecError> {
        let height = self.store.height()? + 1;
        self.commit_block(&[], height, time, patch)
    }
}
