//! Read-only calls on the committed state (`query`).

use crate::error::ExecError;
use crate::frame::Frame;
use crate::receipt::receipt_of;
use crate::tx::{Tx, tx_id};
use crate::view::View;
use crate::{Executor, SharedJournal, lock};
use std::sync::{Arc, Mutex};
use ward_chain::tx::Payload;
use ward_primitives::{Address, Gas};
use ward_state::{Journal, Receipt, StateCommit};

impl<S: StateCommit + Send + Sync + 'static> Executor<S> {
    /// Runs `main` of `to` read-only on the committed state: storage writes
    /// and events trap; nothing is committed.
    ///
    /// # Errors
    ///
    /// A state failure, no contract at `to`, or a gas limit above
    /// [`ChainLimits::max_tx_gas`](crate::ChainLimits::max_tx_gas) (a
    /// query is not a transaction and pays no intrinsic cost, but it is
    /// bounded the same).
    pub fn query(
        &self,
        sender: Address,
        to: Address,
        input: Vec<u8>,
        gas_limit: u64,
    ) -> Result<Receipt, ExecError> {
        self.gas_within_maximum(gas_limit)
            .map_err(|refusal| ExecError::Refused { index: 0, refusal })?;
        let height = self.store.height()?;
        let time = self.contract_time(self.store.block(height)?.map_or(0, |b| b.header.time));
        let journal: SharedJournal<S> =
            Arc::new(Mutex::new(Journal::new(View::plain(self.store.clone()))));
        lock(&journal).begin_tx(self.limits.max_tx_event_bytes);
        let tx = Tx {
            sender,
            gas_limit,
            value: 0,
            payload: Payload::Call { to, input },
        };
        let frame = Frame {
            value: 0,
            journal: journal.clone(),
            address: to,
            caller: sender,
            origin: sender,
            height,
            time,
            chain_id: self.eth_chain_id,
            read_only: true,
            trace: None,
            runtime_space: None,
        };
        let (code, kind) = self.code_of(&journal, &to)?;
        let id = tx_id(&tx, height, 0);
        let entry = kind.call_entry();
        let execution = self.run(
            code,
            kind,
            entry,
            (tx.input(), id),
            Gas::new(gas_limit),
            frame,
        )?;
        Ok(receipt_of(tx.hash(), height, &execution, Vec::new(), None))
    }
}
