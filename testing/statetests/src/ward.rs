//! A case run through Ward: its `pre` written as a chain's genesis state
//! (each account at the Ward address of 12 zero bytes and its 20, code
//! as contracts of the `evm` runtime), its transaction signed with the
//! fixture's key as an Ethereum transaction of the case's chain id, and
//! run as block 1 at the case's timestamp by an executor on one backend.

use std::{collections::BTreeMap, sync::Arc};

use crate::fixture::{Case as Test, Unit as TestUnit};
use alloy_consensus::{
    SignableTransaction, TxEip1559, TxEip2930, TxEnvelope, TxLegacy, crypto::secp256k1,
};
use alloy_eips::{
    eip2718::Encodable2718,
    eip2930::{AccessList, AccessListItem},
};
use revm::{
    context::TransactionType,
    primitives::{Address as EvmAddress, B256, Bytes, TxKind, U256},
};
use ward_chain::tx::{ChainRules, VerifiedTx, eth::ETH_TAG};
use ward_executor::{ChainLimits, ExecError, Executor, Fees, Runtimes};
use ward_primitives::{Address, CodeKind, Hash32, RuntimeName};
use ward_state::{ChangeSet, ContractInfo, MemoryStore, StateRead, StateScan};
use ward_vm::{Backend, BackendKind, CodeHash, Config};

use crate::{
    Cause,
    post::{Account, Outcome, Status},
};

/// Why a case cannot be set up on a Ward chain at all (a limit of
/// Ward's own, named), or the executor failed on it: the cause it is
/// sorted under, and what happened.
#[derive(Debug, PartialEq, Eq)]
pub struct Unrepresentable(pub Cause, pub String);

/// One backend with the EVM runtime registered, for every case.
pub struct WardSide {
    kind: BackendKind,
    backend: Arc<dyn Backend>,
    runtimes: Arc<Runtimes>,
    config: Config,
}

fn evm_runtime() -> RuntimeName {
    RuntimeName::new(ward_chain::tx::eth::EVM_RUNTIME).expect("a valid runtime name")
}

impl WardSide {
    /// `kind`'s backend with the EVM runtime's module (built like the
    /// example contracts) registered.
    ///
    /// # Errors
    ///
    /// When the backend cannot be made or the module does not register.
    pub fn new(kind: BackendKind) -> anyhow::Result<WardSide> {
        let config = Config::default();
        let backend = ward_backends_for(kind, &config)?;
        let mut runtimes = Runtimes::new(backend.clone(), &config);
        runtimes
            .register(evm_runtime(), &ward_testkit::evm::runtime())
            .map_err(|e| anyhow::anyhow!("the EVM runtime does not register: {e:?}"))?;
        Ok(WardSide {
            kind,
            backend,
            runtimes: Arc::new(runtimes),
            config,
        })
    }

    /// The backend's name.
    pub fn kind(&self) -> BackendKind {
        self.kind
    }

    /// Runs `test` of `unit`.
    ///
    /// # Errors
    ///
    /// A case Ward cannot represent, or a fault of the executor (which no
    /// input should cause: reported as a difference by the caller).
    pub fn run(&self, unit: &TestUnit, test: &Test) -> Result<Outcome, Unrepresentable> {
        let chain_id = unit.chain_id();
        let base_fee: u128 = unit
            .env
            .current_base_fee
            .unwrap_or_default()
            .try_into()
            .map_err(|_| Unrepresentable(Cause::Other, "a base fee beyond 2^128".into()))?;
        // The block's gas limit, in Ward gas: a transaction asking more
        // is refused, as Ethereum refuses one above its block's.
        let block_gas = unit
            .env
            .current_gas_limit
            .saturating_to::<u64>()
            .saturating_mul(ward_executor::EVM_GAS_RATE);
        // Ethereum bounds a transaction's events and memory by its gas
        // alone; a Ward chain bounds them too (ChainLimits), by default
        // at 1 MiB of events and 64 MiB of live frames' memory, which
        // these fixtures' gas outgrows (a 5.9 MB log, 1 MB of calldata in
        // each of 69 nested frames). The runner's chain sets them as high
        // as the fixtures reach: they test the EVM, not a chain's bounds.
        let limits = ChainLimits {
            max_tx_gas: u64::MAX / 2,
            max_block_gas: block_gas.min(u64::MAX / 2),
            max_tx_event_bytes: 256 << 20,
            tx_memory_bytes: 1 << 30,
            ..ChainLimits::default()
        };
        let exec = Executor::new(
            Arc::new(MemoryStore::default()),
            self.backend.clone(),
            &self.config,
        )
        .with_runtimes(self.runtimes.clone())
        .with_limits(limits)
        .with_eth_chain_id(Some(chain_id))
        .with_fees(Fees {
            min_evm_gas_price: Some(base_fee),
            ..Fees::default()
        });
        exec.genesis_state(pre_state(unit)?)
            .map_err(|e| Unrepresentable(Cause::Other, format!("the pre-state is refused: {e}")))?;
        let refused = || Outcome::refused(accounts(exec.store()));
        let rules = ChainRules {
            eth_chain_id: Some(chain_id),
            base_fee,
            ..ChainRules::new("statetest")
        };
        // Ward gas is a u64 at 64 per EVM gas: a limit above this has
        // no Ward gas to stand for it.
        let most = u64::MAX / 2 / ward_executor::EVM_GAS_RATE;
        if let Some(limit) = unit.transaction.gas_limit.get(test.indexes.gas)
            && *limit > U256::from(most)
        {
            return Err(Unrepresentable(
                Cause::GasLimitRange,
                format!(
                    "a gas limit of {limit} EVM gas, above the {most} that 64 Ward gas each leave in a u64"
                ),
            ));
        }
        let Some(stored) = transaction(unit, test, chain_id) else {
            return Ok(refused());
        };
        let Ok(tx) = VerifiedTx::from_bytes(&stored, &rules) else {
            return Ok(refused());
        };
        if exec.admit_verified(&tx).is_err() {
            return Ok(refused());
        }
        let time: u64 = unit
            .env
            .current_timestamp
            .try_into()
            .map_err(|_| Unrepresentable(Cause::Other, "a timestamp beyond 2^64".into()))?;
        let block = match exec.execute_signed_block(&[tx], time) {
            Ok(block) => block,
            Err(ExecError::Refused { .. }) => return Ok(refused()),
            Err(e) => {
                // A transfer past a u128 balance, which a chain whose
                // supply fits the native asset cannot make, faults the
                // executor: the pre-state's balances add up beyond it.
                let message = e.to_string();
                let cause = if message.contains("balance would overflow") {
                    Cause::BalanceRange
                } else {
                    Cause::Other
                };
                return Err(Unrepresentable(
                    cause,
                    format!("the executor failed: {message}"),
                ));
            }
        };
        let receipt = &block.receipts[0];
        let status = match (receipt.status.as_str(), receipt.exit_code) {
            ("ok", _) => Status::Ok,
            ("reverted", 1) => Status::Reverted,
            ("rejected", _) => Status::Refused,
            _ => Status::Halted,
        };
        let output = match receipt.address {
            Some(address) if status == Status::Ok => Bytes::copy_from_slice(&address.0[12..]),
            _ => Bytes::from(receipt.output.clone()),
        };
        let logs = receipt
            .events
            .iter()
            .map(|e| {
                (
                    EvmAddress::from_slice(&e.contract.0[12..]),
                    e.topic.chunks(32).map(B256::from_slice).collect(),
                    Bytes::from(e.data.clone()),
                )
            })
            .collect();
        Ok(Outcome {
            status,
            output,
            logs,
            gas: receipt.gas_used,
            accounts: accounts(exec.store()),
        })
    }
}

fn ward_backends_for(kind: BackendKind, config: &Config) -> anyhow::Result<Arc<dyn Backend>> {
    ward_backends::new(kind, config).map_err(|e| anyhow::anyhow!("{kind} backend: {e}"))
}

/// The case's `pre` as a genesis state.
fn pre_state(unit: &TestUnit) -> Result<ChangeSet, Unrepresentable> {
    let mut changes = ChangeSet::default();
    for (address, info) in &unit.pre {
        let at = Address::from_eth(address.0.0);
        let balance: u128 = info.balance.try_into().map_err(|_| {
            Unrepresentable(
                Cause::BalanceRange,
                format!("{address} holds more than 2^128 - 1 wei, beyond the native asset's range"),
            )
        })?;
        if balance != 0 {
            changes.balances.insert(at, balance);
        }
        let nonce: u64 = info.nonce.try_into().map_err(|_| {
            Unrepresentable(Cause::Other, format!("{address}'s nonce is beyond 2^64"))
        })?;
        let storage: Vec<_> = info.storage.iter().filter(|(_, v)| !v.is_zero()).collect();
        // An account without code but with storage (what a creation
        // that collided left, EIP-7610) is a contract whose code is
        // empty: Ward keeps storage only for contracts.
        if info.code.is_empty() && storage.is_empty() {
            if nonce != 0 {
                changes.nonces.insert(at, nonce);
            }
            continue;
        }
        let code_hash = Hash32(CodeHash::of(&info.code).0);
        changes.code.insert(code_hash, info.code.to_vec());
        let evm = CodeKind::Runtime(evm_runtime());
        changes
            .contracts
            .insert(at, ContractInfo::placed(code_hash, evm, 0));
        for (key, value) in storage {
            changes.storage.insert(
                (at, key.to_be_bytes::<32>().to_vec()),
                Some(value.to_be_bytes::<32>().to_vec()),
            );
        }
        // The runtime keeps a contract's nonce under `nonce`, 1 when
        // absent (docs/evm.md).
        if nonce != 1 {
            changes
                .storage
                .insert((at, b"nonce".to_vec()), Some(nonce.to_le_bytes().to_vec()));
        }
    }
    Ok(changes)
}

/// Every account of the store that is not empty, as the EVM sees it.
fn accounts(store: &MemoryStore) -> BTreeMap<EvmAddress, Account> {
    let (_, state) = store.whole_state().expect("a memory store reads");
    let mut out: BTreeMap<EvmAddress, Account> = BTreeMap::new();
    let evm = |address: &Address| EvmAddress::from_slice(&address.0[12..]);
    for (address, balance) in &state.balances {
        out.entry(evm(address)).or_default().balance = U256::from(*balance);
    }
    for (address, nonce) in &state.nonces {
        out.entry(evm(address)).or_default().nonce = *nonce;
    }
    for (address, info) in &state.contracts {
        let account = out.entry(evm(address)).or_default();
        account.code = state
            .code
            .get(&info.code_hash)
            .cloned()
            .or_else(|| store.code(&info.code_hash).ok().flatten())
            .unwrap_or_default()
            .into();
        account.nonce = 1;
    }
    for ((address, key), value) in &state.storage {
        let Some(value) = value else { continue };
        let account = out.entry(evm(address)).or_default();
        if key == b"nonce" && value.len() == 8 {
            account.nonce = u64::from_le_bytes(value.as_slice().try_into().expect("8 bytes"));
        } else if key.len() == 32 && value.len() == 32 {
            let value = U256::from_be_slice(value);
            if !value.is_zero() {
                account.storage.insert(U256::from_be_slice(key), value);
            }
        }
    }
    out.retain(|_, account| !account.is_empty());
    out
}

/// `tx` signed with `secret`.
fn sign<T>(tx: T, secret: B256) -> Option<TxEnvelope>
where
    T: SignableTransaction<alloy_primitives::Signature>,
    alloy_consensus::Signed<T>: Into<TxEnvelope>,
{
    let signature = secp256k1::sign_message(secret, tx.signature_hash()).ok()?;
    Some(tx.into_signed(signature).into())
}

/// The case's transaction, signed with the fixture's key for
/// `chain_id`, in the chain's stored form: `None` when it cannot be
/// made (no key, a field beyond its type), which Ward refuses as it
/// refuses a transaction it cannot read.
///
/// A legacy transaction is signed with EIP-155's chain id (the fixtures'
/// are not, and a Ward chain refuses those as geth does): the signature
/// changes, what the transaction asks does not.
fn transaction(unit: &TestUnit, test: &Test, chain_id: u64) -> Option<Vec<u8>> {
    let parts = &unit.transaction;
    let secret = parts.secret_key?;
    let index = &test.indexes;
    let input = parts.data.get(index.data)?.clone();
    let gas_limit: u64 = (*parts.gas_limit.get(index.gas)?).try_into().ok()?;
    let value = *parts.value.get(index.value)?;
    let nonce: u64 = parts.nonce.try_into().ok()?;
    let to = match parts.to {
        Some(to) => TxKind::Call(to),
        None => TxKind::Create,
    };
    let chain_id = match parts.chain_id {
        Some(id) => id.try_into().ok()?,
        None => chain_id,
    };
    let access_list = || {
        AccessList(
            parts
                .access_list(index.data)
                .into_iter()
                .map(|entry| AccessListItem {
                    address: entry.address,
                    storage_keys: entry.storage_keys,
                })
                .collect(),
        )
    };
    let u128_of = |v: Option<U256>| -> Option<u128> { v.unwrap_or_default().try_into().ok() };
    let envelope: TxEnvelope = match parts.tx_type(index.data)? {
        TransactionType::Legacy => {
            let tx = TxLegacy {
                chain_id: Some(chain_id),
                nonce,
                gas_price: u128_of(parts.gas_price)?,
                gas_limit,
                to,
                value,
                input,
            };
            sign(tx, secret)?
        }
        TransactionType::Eip2930 => {
            let tx = TxEip2930 {
                chain_id,
                nonce,
                gas_price: u128_of(parts.gas_price)?,
                gas_limit,
                to,
                value,
                access_list: access_list(),
                input,
            };
            sign(tx, secret)?
        }
        TransactionType::Eip1559 => {
            let tx = TxEip1559 {
                chain_id,
                nonce,
                gas_limit,
                max_fee_per_gas: u128_of(parts.max_fee_per_gas)?,
                max_priority_fee_per_gas: u128_of(parts.max_priority_fee_per_gas)?,
                to,
                value,
                access_list: access_list(),
                input,
            };
            sign(tx, secret)?
        }
        // Blob and set-code transactions: a Ward chain refuses their
        // types (docs/ethereum.md, "Transactions").
        _ => return None,
    };
    let mut stored = vec![ETH_TAG];
    stored.extend(envelope.encoded_2718());
    Some(stored)
}
