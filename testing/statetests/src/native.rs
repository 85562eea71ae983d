//! A case run by revm natively: once for the fixture's own fork, which
//! must reproduce the fixture's state root and logs hash (that proves
//! the reference), and once for the EVM runtime's revision, the outcome
//! Ward's runtime is held to.

use std::collections::BTreeMap;

use crate::fixture::{Case as Test, Unit as TestUnit};
use alloy_trie::{
    TrieAccount,
    root::{state_root_unhashed, storage_root_unhashed},
};
use revm::{
    Context, InspectCommitEvm, Inspector, MainBuilder, MainContext,
    context::{BlockEnv, CfgEnv, TxEnv, result::ExecutionResult},
    context_interface::Transaction,
    database::State,
    interpreter::{CallInputs, CallOutcome, CreateInputs, CreateOutcome},
    primitives::{Address, B256, Bytes, U256, hardfork::SpecId, keccak256},
};

use crate::post::{Account, Outcome, Status};

/// What revm did with a case.
pub struct Native {
    /// The outcome, as revm's receipt and state say.
    pub outcome: Outcome,
    /// The state root after it (of every account, as the fixture's).
    pub state_root: B256,
    /// keccak-256 of its logs' RLP.
    pub logs_hash: B256,
    /// What Ward's chain charges differently, for [`Native::as_ward_counts`].
    fees: Fees,
    /// What the run did that Ward's runtime does otherwise.
    pub seen: Seen,
}

/// What a run did that the sorting of differences asks about
/// ([`crate::Cause`]): which precompiles it called, how deep its frames
/// went, whether a contract it created destroyed itself, its largest log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// The precompiles (`0x01`..`0x11`) it called, by number.
    pub precompiles: std::collections::BTreeSet<u8>,
    /// The most frames open at once (the transaction's own is 1).
    pub depth: usize,
    /// Whether a contract created in the transaction ran `SELFDESTRUCT`
    /// (EIP-6780 deletes it).
    pub destroyed_new: bool,
    /// The most data one log carried, in bytes.
    pub largest_log: usize,
    /// Frames open now.
    open: usize,
    /// The contracts created so far.
    created: std::collections::BTreeSet<Address>,
    /// Creations under way (a constructor that destroys its contract).
    creating: usize,
}

impl Seen {
    fn enter(&mut self) {
        self.open += 1;
        self.depth = self.depth.max(self.open);
    }

    fn leave(&mut self) {
        self.open = self.open.saturating_sub(1);
    }
}

impl<CTX> Inspector<CTX> for Seen {
    fn call(&mut self, _: &mut CTX, inputs: &mut CallInputs) -> Option<CallOutcome> {
        let at = inputs.bytecode_address;
        if at.as_slice()[..19].iter().all(|b| *b == 0) && (1..=0x11).contains(&at.as_slice()[19]) {
            self.precompiles.insert(at.as_slice()[19]);
        }
        self.enter();
        None
    }

    fn call_end(&mut self, _: &mut CTX, _: &CallInputs, _: &mut CallOutcome) {
        self.leave();
    }

    fn log(&mut self, _: &mut CTX, log: revm::primitives::Log) {
        self.largest_log = self.largest_log.max(log.data.data.len());
    }

    fn create(&mut self, _: &mut CTX, _: &mut CreateInputs) -> Option<CreateOutcome> {
        self.creating += 1;
        self.enter();
        None
    }

    fn create_end(&mut self, _: &mut CTX, _: &CreateInputs, outcome: &mut CreateOutcome) {
        if let Some(address) = outcome.address {
            self.created.insert(address);
        }
        self.creating = self.creating.saturating_sub(1);
        self.leave();
    }

    fn selfdestruct(&mut self, contract: Address, _: Address, _: U256) {
        // Created earlier in the transaction, or (a creation under way)
        // most likely the contract being constructed.
        self.destroyed_new |= self.created.contains(&contract) || self.creating > 0;
    }
}

/// A transaction's fees as Ethereum pays them.
#[derive(Clone, Copy, Default)]
struct Fees {
    sender: revm::primitives::Address,
    coinbase: revm::primitives::Address,
    /// Wei per gas the sender pays.
    price: U256,
    /// Wei per gas the coinbase gets (the price over the base fee).
    tip: U256,
    /// The gas the receipt says (after refunds, at least the floor).
    used: u64,
    /// The gas before refunds, at least EIP-7623's floor: what Ward,
    /// which gives no refunds, charges.
    spent: u64,
}

/// The block and transaction environment of `test` at `spec`, or why it
/// has none (a fixture transaction revm cannot build: no key, no type).
fn environment(
    unit: &TestUnit,
    test: &Test,
    spec: SpecId,
) -> Result<(CfgEnv, BlockEnv, TxEnv), String> {
    let mut cfg = CfgEnv::default();
    cfg.chain_id = unit.chain_id();
    cfg.set_spec_and_mainnet_gas_params(spec);
    cfg.set_max_blobs_per_tx(if spec.is_enabled_in(SpecId::PRAGUE) {
        9
    } else {
        6
    });
    let block = unit.block_env(&cfg);
    let tx = unit.tx_env(test)?;
    Ok((cfg, block, tx))
}

/// Runs `test` of `unit` at `spec`: `Err` when revm cannot even build
/// the transaction (the fixture expects it refused, or it is malformed).
pub fn run(unit: &TestUnit, test: &Test, spec: SpecId) -> Result<Native, String> {
    let (cfg, block, tx) = environment(unit, test, spec)?;
    let mut state = State::builder()
        .with_cached_prestate(unit.state())
        .with_bundle_update()
        .build();
    let mut seen = Seen::default();
    let result = {
        let mut evm = Context::mainnet()
            .with_block(&block)
            .with_tx(&tx)
            .with_cfg(cfg)
            .with_db(&mut state)
            .build_mainnet_with_inspector(&mut seen);
        evm.inspect_tx_commit(&tx)
    };
    let mut accounts = BTreeMap::new();
    let mut trie = Vec::new();
    for (address, plain) in state.cache.trie_account() {
        let storage: BTreeMap<U256, U256> = plain
            .storage
            .iter()
            .filter(|(_, v)| !v.is_zero())
            .map(|(k, v)| (*k, *v))
            .collect();
        trie.push((
            address,
            TrieAccount {
                nonce: plain.info.nonce,
                balance: plain.info.balance,
                storage_root: storage_root_unhashed(
                    storage
                        .iter()
                        .map(|(k, v)| (B256::from(k.to_be_bytes::<32>()), *v)),
                ),
                code_hash: plain.info.code_hash,
            },
        ));
        let code = plain
            .info
            .code
            .as_ref()
            .or_else(|| state.cache.contracts.get(&plain.info.code_hash))
            .map(|c| c.original_bytes())
            .unwrap_or_default();
        let account = Account {
            balance: plain.info.balance,
            nonce: plain.info.nonce,
            code,
            storage,
        };
        if !account.is_empty() {
            accounts.insert(address, account);
        }
    }
    let state_root = state_root_unhashed(trie);
    let (outcome, logs_hash, fees) = match result {
        Err(_) => (Outcome::refused(accounts), logs_hash(&[]), Fees::default()),
        Ok(result) => {
            let gas = *result.gas();
            let basefee = u128::from(block.basefee);
            let price = tx.effective_gas_price(basefee);
            let fees = Fees {
                sender: tx.caller,
                coinbase: block.beneficiary,
                price: U256::from(price),
                tip: U256::from(price.saturating_sub(basefee)),
                used: gas.tx_gas_used(),
                spent: gas.total_gas_spent().max(gas.floor_gas()),
            };
            let hash = logs_hash(result.logs());
            let (status, output) = match &result {
                ExecutionResult::Success { output, .. } => (
                    Status::Ok,
                    match output.address() {
                        Some(created) => Bytes::copy_from_slice(created.as_slice()),
                        None => output.data().clone(),
                    },
                ),
                ExecutionResult::Revert { output, .. } => (Status::Reverted, output.clone()),
                ExecutionResult::Halt { .. } => (Status::Halted, Bytes::new()),
            };
            let logs = result
                .logs()
                .iter()
                .map(|l| (l.address, l.data.topics().to_vec(), l.data.data.clone()))
                .collect();
            (
                Outcome {
                    status,
                    output,
                    logs,
                    gas: fees.used,
                    accounts,
                },
                hash,
                fees,
            )
        }
    };
    Ok(Native {
        outcome,
        state_root,
        logs_hash,
        fees,
        seen,
    })
}

/// The outcome of a transaction refused before it ran: `unit`'s `pre`
/// as it was.
pub fn refused(unit: &TestUnit) -> Outcome {
    let accounts = unit
        .pre
        .iter()
        .map(|(address, info)| {
            let account = Account {
                balance: info.balance,
                nonce: info.nonce.saturating_to(),
                code: info.code.clone(),
                storage: info
                    .storage
                    .iter()
                    .filter(|(_, v)| !v.is_zero())
                    .map(|(k, v)| (*k, *v))
                    .collect(),
            };
            (*address, account)
        })
        .filter(|(_, account)| !account.is_empty())
        .collect();
    Outcome::refused(accounts)
}

/// keccak-256 of the RLP list of `logs`.
fn logs_hash(logs: &[revm::primitives::Log]) -> B256 {
    let mut out = Vec::new();
    alloy_rlp::encode_list(logs, &mut out);
    keccak256(&out)
}

impl Native {
    /// Whether it reproduces `test`'s expectations: refused where the
    /// fixture expects an exception, otherwise its state root and logs
    /// hash.
    pub fn reproduces(&self, test: &Test) -> bool {
        match test.expect_exception {
            Some(_) => self.outcome.status == Status::Refused,
            None => {
                self.outcome.status != Status::Refused
                    && self.state_root == test.hash
                    && self.logs_hash == test.logs
            }
        }
    }

    /// The outcome with gas and fees as Ward's chain counts them for an
    /// Ethereum transaction (docs/ethereum.md, "Gas and fees"): no
    /// refunds, so the receipt's gas is the gas spent (at least the
    /// floor) and the sender pays for it; and the whole fee leaves the
    /// chain (a chain without a fee collector burns it), so the
    /// coinbase gets no tip.
    pub fn as_ward_counts(&self) -> Outcome {
        let mut outcome = self.outcome.clone();
        if outcome.status == Status::Refused {
            return outcome;
        }
        let fees = self.fees;
        outcome.gas = fees.spent;
        let extra = U256::from(fees.spent - fees.used) * fees.price;
        let tip = U256::from(fees.used) * fees.tip;
        for (address, less) in [(fees.sender, extra), (fees.coinbase, tip)] {
            let account = outcome.accounts.entry(address).or_default();
            account.balance = account.balance.saturating_sub(less);
            if account.is_empty() {
                outcome.accounts.remove(&address);
            }
        }
        outcome
    }
}
