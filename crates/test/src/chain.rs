//! The in-process chain: one executor per backend, run in lockstep.

mod builder;

pub use builder::TxBuilder;

use std::sync::Arc;

use serde_json::Value;
use ward_chain::{
    schema::Schema,
    tx::{TxBody, VerifiedTx},
};
use ward_executor::{ExecError, Executor, Patch, Payload, Tx};
use ward_primitives::{Address, Hash32};
use ward_sdk::codec::{Decode, Encode, call_input};
use ward_state::{MemoryStore, Receipt, StateRead};
use ward_vm::{BackendKind, CacheOptions, Config, ModuleCache};

use crate::{Wasm, outcome::Outcome};

/// The first block's time (seconds since the Unix epoch).
pub const START_TIME: u64 = 1_700_000_000;
/// How far the clock moves from one block to the next unless the test
/// sets it.
pub const BLOCK_TIME: u64 = 5;
/// A call's gas unless the test says otherwise.
pub const CALL_GAS: u64 = 10_000_000;
/// A deploy's gas unless the test says otherwise (deploys pay for every
/// byte of their code first, `docs/gas.md`).
pub const DEPLOY_GAS: u64 = 100_000_000;
/// The sender of queries.
const QUERIER: Address = Address([0; 32]);

/// A deployed contract: its address, and its schema when its module has
/// one (for JSON arguments and results).
#[derive(Clone, Debug)]
pub struct Contract {
    address: Address,
    name: String,
    schema: Option<Arc<Schema>>,
}

impl Contract {
    /// Its address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// The name of the module it was deployed from.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its schema, if its module carries one.
    pub fn schema(&self) -> Option<&Schema> {
        self.schema.as_deref()
    }

    fn schema_or_panic(&self) -> &Schema {
        self.schema().unwrap_or_else(|| {
            panic!(
                "ward-test: {} has no schema section: JSON needs one",
                self.name
            )
        })
    }
}

/// One backend's executor.
#[derive(Clone)]
struct Lane {
    kind: BackendKind,
    cache: Arc<ModuleCache>,
    exec: Arc<Executor<MemoryStore>>,
}

/// The whole chain at one moment ([`Chain::snapshot`]).
#[derive(Clone)]
pub struct Snapshot {
    stores: Vec<Arc<MemoryStore>>,
    time: u64,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("time", &self.time)
            .finish_non_exhaustive()
    }
}

/// An in-process chain: Ward's executor over a store in memory, on one
/// or both backends. Every transaction is a block of its own.
pub struct Chain {
    lanes: Vec<Lane>,
    /// The next block's time.
    time: u64,
    /// Check every successful call's gas estimate ([`Chain::check_estimates`]).
    check_estimates: bool,
}

impl Default for Chain {
    fn default() -> Self {
        Chain::new()
    }
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("backends", &self.backends())
            .field("time", &self.time)
            .finish_non_exhaustive()
    }
}

/// The backends [`Chain::new`] runs on: both, or wasmi alone without the
/// `wasmtime` feature.
pub const BACKENDS: &[BackendKind] = if cfg!(feature = "wasmtime") {
    &BackendKind::ALL
} else {
    &[BackendKind::Wasmi]
};

impl Chain {
    /// A chain on both backends: every transaction and query runs on
    /// each, and they must agree. Without the `wasmtime` feature (on by
    /// default; `ward new` turns it off for a fast first build), on
    /// wasmi alone ([`BACKENDS`]).
    pub fn new() -> Chain {
        Chain::on(BACKENDS)
    }

    /// A chain on `kinds` only (one backend: faster, no cross-check).
    ///
    /// # Panics
    ///
    /// When `kinds` is empty or a backend cannot be created.
    pub fn on(kinds: &[BackendKind]) -> Chain {
        assert!(!kinds.is_empty(), "ward-test: a chain needs a backend");
        let config = Config::default();
        let lanes = kinds
            .iter()
            .map(|&kind| {
                let backend = ward_backends::new(kind, &config)
                    .unwrap_or_else(|e| panic!("ward-test: the {kind} backend: {e}"));
                let cache = Arc::new(
                    ModuleCache::new(backend, &config, CacheOptions::default())
                        .unwrap_or_else(|e| panic!("ward-test: a module cache: {e}")),
                );
                let store = Arc::new(MemoryStore::default());
                Lane {
                    kind,
                    exec: Arc::new(Executor::with_cache(store, cache.clone())),
                    cache,
                }
            })
            .collect();
        Chain {
            lanes,
            time: START_TIME,
            check_estimates: false,
        }
    }

    /// The backends it runs on.
    pub fn backends(&self) -> Vec<BackendKind> {
        self.lanes.iter().map(|lane| lane.kind).collect()
    }

    /// The executor of `kind`, for what this API does not cover.
    pub fn executor(&self, kind: BackendKind) -> Option<&Executor<MemoryStore>> {
        self.lanes
            .iter()
            .find(|lane| lane.kind == kind)
            .map(|lane| &*lane.exec)
    }

    /// From now on, check before every call that Ward's gas estimate
    /// ([`Executor::estimate_gas`], what `estimateGas` and `--gas auto`
    /// use) is right for it: when the call succeeds, the estimate gives
    /// the same outcome and 1 % less does not.
    pub fn check_estimates(&mut self) {
        self.check_estimates = true;
    }

    /// The gas `sender`'s call of `method` would need in the next block
    /// (the smallest limit with the outcome it has with the most gas), or
    /// the outcome when it fails even then.
    ///
    /// # Errors
    ///
    /// The failing outcome.
    pub fn estimate_gas(
        &self,
        sender: Address,
        contract: &Contract,
        method: &str,
        args: &impl Encode,
    ) -> Result<u64, Box<Outcome>> {
        let tx = Tx {
            sender,
            gas_limit: CALL_GAS,
            value: 0,
            payload: Payload::Call {
                to: contract.address,
                input: call_input(method, args),
            },
        };
        let estimates: Vec<_> = self
            .lanes
            .iter()
            .map(|lane| {
                let cap = ward_executor::ChainLimits::default().max_tx_gas;
                match lane.exec.estimate_gas(&tx, self.time, cap) {
                    Ok(Ok(estimate)) => Ok(estimate.gas),
                    Ok(Err(receipt)) => Err(Box::new(receipt)),
                    Err(e) => panic!("ward-test: the estimate failed to run: {e}"),
                }
            })
            .collect();
        if estimates.windows(2).any(|w| w[0] != w[1]) {
            panic!("ward-test: the backends' estimates differ: {estimates:#?}");
        }
        match estimates
            .into_iter()
            .next()
            .unwrap_or_else(|| unreachable!())
        {
            Ok(gas) => Ok(gas),
            Err(receipt) => Err(Box::new(Outcome::new(
                *receipt,
                Some(method.to_owned()),
                Some(contract.clone()),
                None,
            ))),
        }
    }

    /// A transaction from `sender` (any address: no key is needed), with
    /// value, gas or salt set on the builder.
    pub fn tx(&mut self, sender: Address) -> TxBuilder<'_> {
        TxBuilder {
            chain: self,
            sender,
            value: 0,
            gas: None,
            salt: None,
            admin: None,
        }
    }

    /// Deploys `wasm` from `sender` with `init`'s arguments (a value, or
    /// a tuple for several; `&()` for none).
    ///
    /// # Panics
    ///
    /// When the deploy fails, with its message and trace.
    pub fn deploy(&mut self, sender: Address, wasm: &Wasm, init: &impl Encode) -> Contract {
        self.tx(sender).deploy(wasm, init).contract()
    }

    /// Calls `method` of `contract` from `sender` with `args` (a value, or
    /// a tuple for several; `&()` for none).
    pub fn call(
        &mut self,
        sender: Address,
        contract: &Contract,
        method: &str,
        args: &impl Encode,
    ) -> Outcome {
        self.tx(sender).call(contract, method, args)
    }

    /// Calls `method` with arguments as JSON (an object by argument name,
    /// or `null`), encoded through the contract's schema.
    ///
    /// # Panics
    ///
    /// When the contract has no schema or the arguments do not fit it.
    pub fn call_json(
        &mut self,
        sender: Address,
        contract: &Contract,
        method: &str,
        args: Value,
    ) -> Outcome {
        self.tx(sender).call_json(contract, method, args)
    }

    /// Runs `method` read-only and decodes its result.
    ///
    /// # Panics
    ///
    /// When the query fails or its output is not a `T`.
    pub fn query<T: Decode>(&self, contract: &Contract, method: &str, args: &impl Encode) -> T {
        self.try_query(contract, method, args).decode()
    }

    /// Runs `method` read-only: its outcome, success or not.
    pub fn try_query(&self, contract: &Contract, method: &str, args: &impl Encode) -> Outcome {
        let input = call_input(method, args);
        self.run_query(contract, Some(method), input)
    }

    /// Runs `method` read-only with JSON arguments; its result as JSON.
    ///
    /// # Panics
    ///
    /// When the contract has no schema, the arguments do not fit it, or
    /// the query fails.
    pub fn query_json(&self, contract: &Contract, method: &str, args: Value) -> Value {
        let input = contract
            .schema_or_panic()
            .encode_call(method, &args)
            .unwrap_or_else(|e| panic!("ward-test: {method}: {e}"));
        self.run_query(contract, Some(method), input).json()
    }

    pub(crate) fn run_query(
        &self,
        contract: &Contract,
        method: Option<&str>,
        input: Vec<u8>,
    ) -> Outcome {
        let receipts: Vec<Receipt> = self
            .lanes
            .iter()
            .map(|lane| {
                lane.exec
                    .query(QUERIER, contract.address, input.clone(), CALL_GAS)
                    .unwrap_or_else(|e| panic!("ward-test: the query failed to run: {e}"))
            })
            .collect();
        self.agree(&receipts, None);
        Outcome::new(
            receipts
                .into_iter()
                .next()
                .unwrap_or_else(|| unreachable!()),
            method.map(str::to_owned),
            Some(contract.clone()),
            None,
        )
    }

    /// A contract already on the chain at `address` (one a contract
    /// created, say), with the schema of its code.
    ///
    /// # Panics
    ///
    /// When there is no contract there.
    pub fn contract_at(&self, address: Address) -> Contract {
        let store = self.lanes[0].exec.store();
        let info = store
            .contract(&address)
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("ward-test: no contract at {address}"));
        let code = store
            .code(&info.code_hash)
            .ok()
            .flatten()
            .unwrap_or_default();
        Contract {
            address,
            name: address.to_string(),
            schema: Schema::from_module(&code).ok().flatten().map(Arc::new),
        }
    }

    /// `contract`'s record: its code hash, deployer, admin and code
    /// history.
    pub fn contract_info(&self, contract: &Contract) -> ward_state::ContractInfo {
        self.read(|store| store.contract(&contract.address))
            .unwrap_or_else(|| panic!("ward-test: no contract at {}", contract.address))
    }

    /// `who`'s balance of the native asset.
    pub fn balance(&self, who: Address) -> u128 {
        self.read(|store| store.balance(&who))
    }

    /// Sets `who`'s balance (a block of its own, with no transaction).
    pub fn fund(&mut self, who: Address, amount: u128) {
        let mut patch = Patch::default();
        patch.balances.insert(who, amount);
        self.patch(&patch);
    }

    /// The value under `key` in `contract`'s storage.
    pub fn storage(&self, contract: &Contract, key: &[u8]) -> Option<Vec<u8>> {
        self.read(|store| store.storage(&contract.address, key))
    }

    /// Every key and value of `contract`'s storage, in key order.
    pub fn storage_entries(&self, contract: &Contract) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.read(|store| store.storage_entries(&contract.address))
    }

    /// The value under `key` in `contract`'s storage, decoded (what the
    /// SDK's `Item` stores).
    ///
    /// # Panics
    ///
    /// When the value is not a `T`.
    pub fn item<T: Decode>(&self, contract: &Contract, key: &[u8]) -> Option<T> {
        self.storage(contract, key).map(|bytes| {
            ward_sdk::codec::decode_exact(&bytes)
                .unwrap_or_else(|e| panic!("ward-test: storage key {key:?}: {e:?}"))
        })
    }

    /// Writes (`Some`) or removes (`None`) `key` in `contract`'s storage
    /// (a block of its own).
    pub fn set_storage(&mut self, contract: &Contract, key: &[u8], value: Option<Vec<u8>>) {
        let mut patch = Patch::default();
        patch
            .storage
            .insert((contract.address, key.to_vec()), value);
        self.patch(&patch);
    }

    /// Replaces `contract`'s code, keeping its address, storage and
    /// balance (a block of its own): a dev chain's `setCode`.
    pub fn set_code(&mut self, contract: &mut Contract, wasm: &Wasm) {
        let mut patch = Patch::default();
        patch.code.insert(contract.address, wasm.bytes().to_vec());
        self.patch(&patch);
        contract.schema = Schema::from_module(wasm.bytes())
            .ok()
            .flatten()
            .map(Arc::new);
        contract.name = wasm.name().to_owned();
    }

    /// The last block's height.
    pub fn height(&self) -> u64 {
        self.read(|store| store.height())
    }

    /// The next block's time.
    pub fn time(&self) -> u64 {
        self.time
    }

    /// Sets the next block's time; later blocks follow it by
    /// [`BLOCK_TIME`].
    pub fn set_time(&mut self, time: u64) {
        self.time = time;
    }

    /// Moves the clock `seconds` forward.
    pub fn advance_time(&mut self, seconds: u64) {
        self.time = self.time.saturating_add(seconds);
    }

    /// Commits `n` empty blocks.
    pub fn mine(&mut self, n: u64) {
        for _ in 0..n {
            self.patch(&Patch::default());
        }
    }

    /// Commits empty blocks until the last one is `height`.
    ///
    /// # Panics
    ///
    /// When the chain is past `height` already.
    pub fn mine_to(&mut self, height: u64) {
        let now = self.height();
        assert!(
            now <= height,
            "ward-test: the chain is at {now}, past {height}"
        );
        self.mine(height - now);
    }

    /// The whole chain as it is now, to [`Chain::restore`] later.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            stores: self
                .lanes
                .iter()
                .map(|lane| Arc::new(lane.exec.store().fork()))
                .collect(),
            time: self.time,
        }
    }

    /// Goes back to `snapshot` (which stays usable: restore it again
    /// later if you like). Compiled modules are kept.
    ///
    /// # Panics
    ///
    /// When `snapshot` was taken of a chain with other backends.
    pub fn restore(&mut self, snapshot: &Snapshot) {
        assert_eq!(
            snapshot.stores.len(),
            self.lanes.len(),
            "ward-test: a snapshot of another chain"
        );
        for (lane, store) in self.lanes.iter_mut().zip(&snapshot.stores) {
            let store = Arc::new(store.fork());
            lane.exec = Arc::new(Executor::with_cache(store, lane.cache.clone()));
        }
        self.time = snapshot.time;
    }

    /// Reads the first lane's committed state (the lanes agree on it:
    /// their state roots are compared after every block).
    fn read<T>(&self, f: impl Fn(&MemoryStore) -> Result<T, ward_state::StateError>) -> T {
        f(self.lanes[0].exec.store()).unwrap_or_else(|e| panic!("ward-test: the store: {e}"))
    }

    fn next_time(&mut self) -> u64 {
        let time = self.time;
        self.time = self.time.saturating_add(BLOCK_TIME);
        time
    }

    fn patch(&mut self, patch: &Patch) {
        let time = self.next_time();
        let roots: Vec<Hash32> = self
            .lanes
            .iter()
            .map(|lane| {
                let block = lane
                    .exec
                    .commit_patch(patch, time)
                    .unwrap_or_else(|e| panic!("ward-test: {e}"));
                block.record.header.state_root
            })
            .collect();
        if roots.windows(2).any(|w| w[0] != w[1]) {
            panic!("ward-test: the backends' state roots differ after a patch: {roots:?}");
        }
    }

    /// Runs `tx` as a block of its own on every lane.
    fn submit(&mut self, tx: Tx, method: Option<String>, contract: Option<Contract>) -> Outcome {
        let time = self.next_time();
        // Estimated on the state before the block, as a client would.
        let estimate_on = self.check_estimates.then(|| {
            let lane = &self.lanes[0];
            Executor::with_cache(Arc::new(lane.exec.store().fork()), lane.cache.clone())
        });
        let block_tx = self.block_tx(&tx);
        let mut receipts = Vec::with_capacity(self.lanes.len());
        let mut roots = Vec::with_capacity(self.lanes.len());
        for lane in &self.lanes {
            let ran = lane
                .exec
                .execute_signed_block(std::slice::from_ref(&block_tx), time)
                .map(|block| block.receipts);
            let receipt = match ran {
                Ok(mut receipts) => receipts.remove(0),
                Err(ExecError::Refused { refusal, .. }) => {
                    // Refused before it ran: no block, nothing charged.
                    self.agree_refused(&refusal.to_string());
                    return Outcome::refused(refusal.to_string(), method, contract);
                }
                Err(e) => panic!("ward-test: the transaction could not run: {e}"),
            };
            let height = receipt.height;
            roots.push(self.read_lane(lane, height));
            receipts.push(receipt);
        }
        self.agree(&receipts, Some(&roots));
        let receipt = receipts.remove(0);
        if let Some(before) = estimate_on {
            check_estimate(&before, &tx, time, &receipt);
        }
        let source = (self.lanes[0].exec.clone(), receipt.height, block_tx);
        Outcome::new(receipt, method, contract, Some(source))
    }

    /// How `tx` runs: an Ethereum account's ([`Address::from_eth`]'s
    /// form) as a transaction it signed, with its nonce, so that its
    /// deploys land at `CREATE` addresses (`docs/evm.md`, "Addresses")
    /// and Solidity contracts can name them; any other as the embedder's.
    fn block_tx(&self, tx: &Tx) -> VerifiedTx {
        if tx.sender.eth().is_none() {
            return tx.clone().vouched();
        }
        let nonce = self.lanes[0]
            .exec
            .store()
            .nonce(&tx.sender)
            .unwrap_or_else(|e| panic!("ward-test: {e}"));
        let body = TxBody {
            chain_id: "ward-test".into(),
            public_key: [0; 32],
            nonce,
            gas_limit: tx.gas_limit,
            gas_price: 0,
            value: tx.value,
            payload: tx.payload.clone(),
        };
        body.impersonated(tx.sender)
    }

    /// A refusal must come from the first lane, before any other ran.
    fn agree_refused(&self, refusal: &str) {
        let heights: Vec<u64> = self
            .lanes
            .iter()
            .map(|lane| lane.exec.store().height().unwrap_or_default())
            .collect();
        if heights.windows(2).any(|w| w[0] != w[1]) {
            panic!("ward-test: one backend refused the transaction ({refusal}), another ran it");
        }
    }

    fn read_lane(&self, lane: &Lane, height: u64) -> Hash32 {
        lane.exec
            .store()
            .block(height)
            .ok()
            .flatten()
            .map(|block| block.header.state_root)
            .unwrap_or_else(|| panic!("ward-test: block {height} is missing"))
    }

    /// Insists that every lane answered the same, and reached the same
    /// state root.
    fn agree(&self, receipts: &[Receipt], roots: Option<&[Hash32]>) {
        let first = &receipts[0];
        for (lane, receipt) in self.lanes.iter().zip(receipts).skip(1) {
            if receipt != first {
                panic!(
                    "ward-test: the backends disagree: {} answered\n{first:#?}\nand {} answered\n{receipt:#?}",
                    self.lanes[0].kind, lane.kind
                );
            }
        }
        if let Some(roots) = roots
            && roots.windows(2).any(|w| w[0] != w[1])
        {
            panic!("ward-test: the backends' state roots differ: {roots:?}");
        }
    }
}

/// Checks `exec`'s estimate for `tx` against `receipt`, its outcome in a
/// block at `time` on `exec`'s state ([`Chain::check_estimates`]).
fn check_estimate(exec: &Executor<MemoryStore>, tx: &Tx, time: u64, receipt: &Receipt) {
    if !receipt.status.is_ok() || !matches!(tx.payload, Payload::Call { .. }) {
        return;
    }
    let with = |gas: u64| {
        let mut tx = tx.clone();
        tx.gas_limit = gas;
        exec.simulate(&tx.vouched(), time).ok().map(|s| s.receipt)
    };
    let same = |r: &Option<Receipt>| {
        r.as_ref().is_some_and(|r| {
            r.status == receipt.status && r.output == receipt.output && r.events == receipt.events
        })
    };
    let estimate = match exec.estimate_gas(tx, time, tx.gas_limit()) {
        Ok(Ok(estimate)) => estimate.gas,
        other => panic!("ward-test: a call that succeeds has no estimate: {other:?}"),
    };
    assert!(
        same(&with(estimate)),
        "ward-test: the estimate {estimate} does not do what the call did"
    );
    assert!(
        !same(&with(estimate * 99 / 100)),
        "ward-test: 1 % under the estimate {estimate} does the same: not the least"
    );
}

impl Contract {
    pub(crate) fn deployed_at(mut self, address: Address) -> Contract {
        self.address = address;
        self
    }
}
