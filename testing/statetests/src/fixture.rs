//! The fixtures' format (ethereum/tests' README; revm's `revme
//! statetest` reads the same): each file a map of tests, each test its
//! block (`env`), accounts (`pre`), transaction parts and, per fork, its
//! cases (`post`).
//!
//! Read here rather than with `revm-statetest-types`, which turns on
//! serde_json's `preserve_order` and with it changes every JSON map of
//! every crate built beside it (their key order, `ward-rpc`'s error
//! sizes).

use std::collections::BTreeMap;

use revm::{
    context::{BlockEnv, CfgEnv, TransactionType, TxEnv},
    context_interface::transaction::{AccessList, AccessListItem},
    database::CacheState,
    primitives::{Address, B256, Bytes, TxKind, U256, hardfork::SpecId, keccak256},
    state::{AccountInfo, Bytecode},
};
use serde::{Deserialize, Deserializer};

/// A file: its tests by name.
#[derive(Debug, Deserialize)]
pub struct Suite(pub BTreeMap<String, Unit>);

/// One test.
#[derive(Debug, Deserialize)]
pub struct Unit {
    /// The block.
    pub env: Env,
    /// The accounts before.
    pub pre: BTreeMap<Address, Account>,
    /// Per fork (`Cancun`), the cases.
    pub post: BTreeMap<String, Vec<Case>>,
    /// What each case's transaction is made of.
    pub transaction: Parts,
}

/// The block a test runs in.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Env {
    /// Its chain id (1 when absent).
    #[serde(rename = "currentChainID")]
    pub current_chain_id: Option<U256>,
    /// The coinbase.
    pub current_coinbase: Address,
    /// The difficulty (before the merge).
    #[serde(default)]
    pub current_difficulty: U256,
    /// The block's gas limit.
    pub current_gas_limit: U256,
    /// Its number.
    pub current_number: U256,
    /// Its timestamp, in seconds.
    pub current_timestamp: U256,
    /// Its base fee.
    pub current_base_fee: Option<U256>,
    /// `PREVRANDAO`.
    pub current_random: Option<B256>,
    /// EIP-4844's excess blob gas.
    pub current_excess_blob_gas: Option<U256>,
}

/// An account of `pre`.
#[derive(Debug, Deserialize)]
pub struct Account {
    /// Its balance, in wei.
    pub balance: U256,
    /// Its code.
    pub code: Bytes,
    /// Its nonce.
    pub nonce: U256,
    /// Its storage.
    pub storage: BTreeMap<U256, U256>,
}

/// An access list's entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessEntry {
    /// The address.
    pub address: Address,
    /// Its slots.
    pub storage_keys: Vec<B256>,
}

/// The transaction's parts: a case picks a data, a gas limit and a value
/// by index.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Parts {
    /// Its type, when given.
    #[serde(rename = "type")]
    pub tx_type: Option<u8>,
    /// Its chain id, when it is not the block's.
    pub chain_id: Option<U256>,
    /// The data choices.
    pub data: Vec<Bytes>,
    /// The gas limit choices.
    pub gas_limit: Vec<U256>,
    /// A legacy or EIP-2930 transaction's gas price.
    pub gas_price: Option<U256>,
    /// Its nonce.
    pub nonce: U256,
    /// The sender's key (none: a transaction with a bad signature).
    pub secret_key: Option<B256>,
    /// The sender, when given.
    #[serde(default)]
    pub sender: Option<Address>,
    /// The recipient (empty: a creation).
    #[serde(default, deserialize_with = "maybe_empty")]
    pub to: Option<Address>,
    /// The value choices.
    pub value: Vec<U256>,
    /// An EIP-1559 transaction's fee cap.
    pub max_fee_per_gas: Option<U256>,
    /// An EIP-1559 transaction's tip cap.
    pub max_priority_fee_per_gas: Option<U256>,
    /// Per data choice, its access list.
    #[serde(default)]
    pub access_lists: Vec<Option<Vec<AccessEntry>>>,
    /// EIP-7702's authorizations (none in Cancun's fixtures).
    pub authorization_list: Option<serde_json::Value>,
    /// EIP-4844's blob hashes.
    #[serde(default)]
    pub blob_versioned_hashes: Vec<B256>,
    /// EIP-4844's blob fee cap.
    pub max_fee_per_blob_gas: Option<U256>,
}

/// A case: the indexes it picks and what the fixture expects.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Case {
    /// The refusal it expects, if any.
    pub expect_exception: Option<String>,
    /// The parts it picks.
    pub indexes: Indexes,
    /// The state root after it.
    pub hash: B256,
    /// keccak-256 of its logs' RLP.
    pub logs: B256,
}

/// A case's picks.
#[derive(Debug, Deserialize)]
pub struct Indexes {
    /// Into `data` (and `accessLists`).
    pub data: usize,
    /// Into `gasLimit`.
    pub gas: usize,
    /// Into `value`.
    pub value: usize,
}

fn maybe_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Address>, D::Error> {
    let text = String::deserialize(deserializer)?;
    if text.is_empty() {
        Ok(None)
    } else {
        text.parse().map(Some).map_err(serde::de::Error::custom)
    }
}

/// The 20-byte address of secp256k1 key `secret`.
pub fn address_of(secret: &B256) -> Option<Address> {
    let key = k256::ecdsa::SigningKey::from_slice(secret.as_slice()).ok()?;
    Some(Address::from(ward_chain::tx::eth::address_of(
        key.verifying_key(),
    )))
}

impl Parts {
    /// The transaction's type for data choice `index` (as its fields
    /// say when it does not): `None` for a blob or set-code transaction
    /// without a recipient.
    pub fn tx_type(&self, index: usize) -> Option<TransactionType> {
        if let Some(tx_type) = self.tx_type {
            return Some(TransactionType::from(tx_type));
        }
        if self.max_fee_per_blob_gas.is_some() {
            self.to?;
            return Some(TransactionType::Eip4844);
        }
        if self.authorization_list.is_some() {
            self.to?;
            return Some(TransactionType::Eip7702);
        }
        if self.max_fee_per_gas.is_some() {
            return Some(TransactionType::Eip1559);
        }
        match self.access_lists.get(index) {
            Some(Some(_)) => Some(TransactionType::Eip2930),
            _ => Some(TransactionType::Legacy),
        }
    }

    /// The sender: given, or the key's.
    pub fn sender(&self) -> Option<Address> {
        self.sender
            .or_else(|| self.secret_key.as_ref().and_then(address_of))
    }

    /// Data choice `index`'s access list.
    pub fn access_list(&self, index: usize) -> Vec<AccessEntry> {
        self.access_lists
            .get(index)
            .cloned()
            .flatten()
            .unwrap_or_default()
    }
}

impl Unit {
    /// The chain id its block runs under.
    pub fn chain_id(&self) -> u64 {
        self.env
            .current_chain_id
            .unwrap_or(U256::ONE)
            .try_into()
            .unwrap_or(1)
    }

    /// `pre` as revm's cache.
    pub fn state(&self) -> CacheState {
        let mut cache = CacheState::new();
        for (address, account) in &self.pre {
            let code_hash = keccak256(&account.code);
            if !account.code.is_empty() {
                let code = Bytecode::new_raw_checked(account.code.clone())
                    .unwrap_or_else(|_| Bytecode::new_legacy(account.code.clone()));
                cache.contracts.insert(code_hash, code);
            }
            let info = AccountInfo {
                balance: account.balance,
                code_hash,
                code: None,
                nonce: account.nonce.saturating_to(),
                ..Default::default()
            };
            let storage = account.storage.iter().map(|(k, v)| (*k, *v)).collect();
            cache.insert_account_with_storage(*address, info, storage);
        }
        cache
    }

    /// The block, for `cfg`'s revision.
    pub fn block_env(&self, cfg: &CfgEnv) -> BlockEnv {
        let env = &self.env;
        let mut block = BlockEnv {
            number: env.current_number,
            beneficiary: env.current_coinbase,
            timestamp: env.current_timestamp,
            gas_limit: env.current_gas_limit.saturating_to(),
            basefee: env.current_base_fee.unwrap_or_default().saturating_to(),
            difficulty: env.current_difficulty,
            prevrandao: env.current_random,
            ..BlockEnv::default()
        };
        if let Some(excess) = env.current_excess_blob_gas {
            block.set_blob_excess_gas_and_price(
                excess.saturating_to(),
                cfg.blob_base_fee_update_fraction(),
            );
        }
        if cfg.spec().is_enabled_in(SpecId::MERGE) && block.prevrandao.is_none() {
            block.prevrandao = Some(B256::ZERO);
        }
        block
    }

    /// Case `case`'s transaction as revm runs it, or why there is none
    /// (no key, no type: the fixture must expect it refused).
    pub fn tx_env(&self, case: &Case) -> Result<TxEnv, String> {
        let parts = &self.transaction;
        let caller = parts.sender().ok_or("no sender key")?;
        let i = &case.indexes;
        let tx_type = parts.tx_type(i.data).ok_or("no transaction type")?;
        let nonce = u64::try_from(parts.nonce).map_err(|_| "a nonce beyond 2^64")?;
        let pick = |what: &str| format!("no {what} at the case's index");
        Ok(TxEnv {
            caller,
            gas_price: parts
                .gas_price
                .or(parts.max_fee_per_gas)
                .unwrap_or_default()
                .saturating_to(),
            gas_priority_fee: parts.max_priority_fee_per_gas.map(|f| f.saturating_to()),
            blob_hashes: parts.blob_versioned_hashes.clone(),
            max_fee_per_blob_gas: parts
                .max_fee_per_blob_gas
                .map_or(u128::MAX, |f| f.saturating_to()),
            tx_type: tx_type as u8,
            gas_limit: parts
                .gas_limit
                .get(i.gas)
                .ok_or_else(|| pick("gas limit"))?
                .saturating_to(),
            data: parts.data.get(i.data).ok_or_else(|| pick("data"))?.clone(),
            nonce,
            chain_id: Some(
                parts
                    .chain_id
                    .map_or(1, |id| id.try_into().unwrap_or(u64::MAX)),
            ),
            value: *parts.value.get(i.value).ok_or_else(|| pick("value"))?,
            access_list: AccessList(
                parts
                    .access_list(i.data)
                    .into_iter()
                    .map(|e| AccessListItem {
                        address: e.address,
                        storage_keys: e.storage_keys,
                    })
                    .collect(),
            ),
            authorization_list: Vec::new(),
            kind: match parts.to {
                Some(to) => TxKind::Call(to),
                None => TxKind::Create,
            },
        })
    }
}
