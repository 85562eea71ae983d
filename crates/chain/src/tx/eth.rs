//! Ethereum transactions as wallets sign them (`docs/ethereum.md`):
//! legacy ones with EIP-155 replay protection, EIP-2930 and EIP-1559
//! envelopes (EIP-2718), their sender recovered from the secp256k1
//! signature with a low `s` only (EIP-2), and their hash what wallets
//! compute, keccak-256 of the envelope.
//!
//! An Ethereum account is a Ward account: its Ward address is 12 zero
//! bytes followed by its 20 ([`Address::from_eth`]), the form the EVM runtime
//! already gives its contracts. The stored form of an Ethereum
//! transaction is [`ETH_TAG`] followed by the envelope exactly as it was
//! signed ([`EthTx::to_stored`]).
//!
//! Blob (type 3) and set-code (type 4) transactions are refused, as is
//! a legacy transaction without a chain id (geth's default too).

use alloy_consensus::{Transaction, TxEnvelope, crypto::secp256k1};
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_primitives::{TxKind, keccak256};
use ward_primitives::{Address, CodeKind, Hash32, RuntimeName};

use super::{AccessListSize, Deploy, GasUnit, Payload, Sender, VerifiedTx, verified::Fields};

/// The first byte of a stored Ethereum transaction; the envelope follows.
pub const ETH_TAG: u8 = 0xd2;

/// The longest envelope read, in bytes (geth's limit for a transaction
/// in its pool: 4 slots of 32 KiB).
pub const MAX_ETH_TX_BYTES: usize = 128 * 1024;

/// Which of Ethereum's transaction types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EthTxType {
    /// Type 0, with EIP-155's chain id in `v`.
    Legacy,
    /// Type 1: an access list, one gas price.
    Eip2930,
    /// Type 2: a fee cap and a priority fee.
    Eip1559,
}

impl EthTxType {
    /// Its number (a receipt's `type`).
    pub fn number(self) -> u8 {
        match self {
            EthTxType::Legacy => 0,
            EthTxType::Eip2930 => 1,
            EthTxType::Eip1559 => 2,
        }
    }
}

/// Why Ethereum transaction bytes were refused. The messages are geth's
/// where geth has one, because clients match on them.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EthTxError {
    /// No bytes, more than [`MAX_ETH_TX_BYTES`], bad RLP, a field out of
    /// range or bytes after the transaction.
    #[error("rlp: {0}")]
    Malformed(String),
    /// A blob or set-code transaction, or a type Ethereum has not
    /// defined.
    #[error("transaction type {ty} not supported: {why}")]
    Unsupported {
        /// The type byte.
        ty: u8,
        /// Why.
        why: &'static str,
    },
    /// A legacy transaction without EIP-155's chain id.
    #[error("only replay-protected (EIP-155) transactions allowed over RPC")]
    Unprotected,
    /// Signed for another chain.
    #[error("invalid chain id for signer: have {found} want {expected}")]
    WrongChain {
        /// This chain's Ethereum chain id.
        expected: u64,
        /// The transaction's.
        found: u64,
    },
    /// `s` above half the curve's order (EIP-2), or a signature no key
    /// made.
    #[error("invalid transaction v, r, s values")]
    BadSignature,
    /// A value Ward's native asset cannot hold (above 2^128 - 1).
    #[error("value {0} is above the largest amount (2^128 - 1)")]
    ValueTooLarge(String),
    /// Creation data that starts with [`WASM_CREATION_PREFIX`] but whose
    /// length field points past its end.
    #[error("wasm creation data: {0}")]
    BadWasmCreation(String),
    /// An EIP-1559 transaction that offers a tip above its fee cap:
    /// invalid on Ethereum (geth, Hardhat and anvil refuse it).
    #[error("max priority fee per gas higher than max fee per gas: {tip} > {cap}")]
    TipAboveFeeCap {
        /// `maxPriorityFeePerGas`.
        tip: u128,
        /// `maxFeePerGas`.
        cap: u128,
    },
}

/// A verified Ethereum transaction: its fields, its sender and its hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EthTx {
    envelope: Vec<u8>,
    hash: Hash32,
    from: [u8; 20],
    /// Its type.
    pub ty: EthTxType,
    /// The chain it was signed for.
    pub chain_id: u64,
    /// The sender's transaction count before this one.
    pub nonce: u64,
    /// The most gas it may use.
    pub gas_limit: u64,
    /// The most it pays per unit of gas: the gas price of a legacy or
    /// EIP-2930 transaction, `maxFeePerGas` of an EIP-1559 one.
    pub max_fee_per_gas: u128,
    /// What it offers the producer above the base fee: the gas price of
    /// a legacy or EIP-2930 transaction, `maxPriorityFeePerGas` of an
    /// EIP-1559 one.
    pub max_priority_fee_per_gas: u128,
    /// The native asset it moves.
    pub value: u128,
    /// The called address, or `None` for a deploy (of EVM creation code,
    /// or of Wasm in [`wasm_creation_code`]'s form).
    pub to: Option<[u8; 20]>,
    /// The call data, or the creation code.
    pub input: Vec<u8>,
    /// Its access list's size (EIP-2930; none for a legacy one).
    pub access_list: AccessListSize,
}

impl EthTx {
    /// Reads a signed envelope as a wallet sends it
    /// (`eth_sendRawTransaction`'s bytes) and recovers its sender; the
    /// chain id is not checked here ([`EthTx::verify`] does).
    ///
    /// # Errors
    ///
    /// [`EthTxError`], never a panic, whatever the bytes.
    pub fn decode(envelope: &[u8]) -> Result<EthTx, EthTxError> {
        let ty = match envelope.first() {
            None => return Err(EthTxError::Malformed("no bytes".into())),
            Some(_) if envelope.len() > MAX_ETH_TX_BYTES => {
                return Err(EthTxError::Malformed(format!(
                    "{} bytes, at most {MAX_ETH_TX_BYTES}",
                    envelope.len()
                )));
            }
            Some(0xc0..) => EthTxType::Legacy,
            Some(1) => EthTxType::Eip2930,
            Some(2) => EthTxType::Eip1559,
            Some(3) => return Err(unsupported(3, "blob transactions carry no blobs here")),
            Some(4) => return Err(unsupported(4, "set-code (EIP-7702) transactions")),
            Some(&ty) => return Err(unsupported(ty, "not a transaction type this chain reads")),
        };
        let tx = TxEnvelope::decode_2718_exact(envelope)
            .map_err(|e| EthTxError::Malformed(e.to_string()))?;
        // One transaction, one encoding, one hash.
        if tx.encoded_2718() != envelope {
            return Err(EthTxError::Malformed("not the canonical encoding".into()));
        }
        let chain_id = tx.chain_id().ok_or(EthTxError::Unprotected)?;
        let from = secp256k1::recover_signer(tx.signature(), tx.signature_hash())
            .map_err(|_| EthTxError::BadSignature)?;
        let value = u128::try_from(tx.value())
            .map_err(|_| EthTxError::ValueTooLarge(tx.value().to_string()))?;
        let to = match tx.kind() {
            TxKind::Create => None,
            TxKind::Call(to) => Some(to.into_array()),
        };
        if to.is_none() {
            creation_payload(tx.input())?;
        }
        if let Some(tip) = tx.max_priority_fee_per_gas()
            && tip > tx.max_fee_per_gas()
        {
            return Err(EthTxError::TipAboveFeeCap {
                tip,
                cap: tx.max_fee_per_gas(),
            });
        }
        Ok(EthTx {
            hash: Hash32(keccak256(envelope).0),
            envelope: envelope.to_vec(),
            from: from.into_array(),
            ty,
            chain_id,
            nonce: tx.nonce(),
            gas_limit: tx.gas_limit(),
            max_fee_per_gas: tx.max_fee_per_gas(),
            max_priority_fee_per_gas: tx
                .max_priority_fee_per_gas()
                .unwrap_or(tx.max_fee_per_gas()),
            value,
            to,
            input: tx.input().to_vec(),
            access_list: access_list_size(&tx),
        })
    }

    /// [`EthTx::decode`], and signed for chain `chain_id`.
    ///
    /// # Errors
    ///
    /// [`EthTxError::WrongChain`] besides [`EthTx::decode`]'s.
    pub fn verify(envelope: &[u8], chain_id: u64) -> Result<EthTx, EthTxError> {
        let tx = EthTx::decode(envelope)?;
        if tx.chain_id != chain_id {
            return Err(EthTxError::WrongChain {
                expected: chain_id,
                found: tx.chain_id,
            });
        }
        Ok(tx)
    }

    /// Reads a stored one ([`ETH_TAG`], then the envelope).
    ///
    /// # Errors
    ///
    /// Another first byte, or [`EthTx::decode`]'s.
    pub(crate) fn from_stored(bytes: &[u8]) -> Result<EthTx, EthTxError> {
        match bytes.split_first() {
            Some((&ETH_TAG, envelope)) => EthTx::decode(envelope),
            _ => Err(EthTxError::Malformed(
                "a stored Ethereum transaction starts with 0xd2".into(),
            )),
        }
    }

    /// How a block stores it: [`ETH_TAG`], then the envelope.
    pub fn to_stored(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + self.envelope.len());
        out.push(ETH_TAG);
        out.extend_from_slice(&self.envelope);
        out
    }

    /// The envelope as it was signed.
    pub fn envelope(&self) -> &[u8] {
        &self.envelope
    }

    /// Its hash as wallets compute it: keccak-256 of the envelope.
    pub fn hash(&self) -> Hash32 {
        self.hash
    }

    /// The sender's 20-byte Ethereum address.
    pub fn from(&self) -> [u8; 20] {
        self.from
    }

    /// The sender's Ward account ([`Address::from_eth`] of
    /// [`EthTx::from`]).
    pub fn sender(&self) -> Address {
        Address::from_eth(self.from)
    }

    /// What it pays per unit of gas on a chain whose base fee is
    /// `base_fee` (EIP-1559's effective gas price): its priority fee
    /// above the base fee, but never more than its fee cap. Below the
    /// base fee when the cap is: admission refuses it then.
    pub fn gas_price(&self, base_fee: u128) -> u128 {
        self.max_fee_per_gas
            .min(base_fee.saturating_add(self.max_priority_fee_per_gas))
    }

    /// What it does in Ward's terms: a call of the contract (or a
    /// transfer to the account) at `to`'s Ward address, or with no `to`
    /// a deploy ([`creation_payload`]) at the sender's `CREATE` address
    /// ([`create_address`]).
    pub fn payload(&self) -> Payload {
        match self.to {
            Some(to) => Payload::Call {
                to: Address::from_eth(to),
                input: self.input.clone(),
            },
            // `decode` refused creation data `creation_payload` refuses.
            None => creation_payload(&self.input).unwrap_or_else(|_| evm_deploy(Vec::new())),
        }
    }

    /// The transaction as it runs on a chain whose base fee is
    /// `base_fee` (the caller checked its chain id): its gas price
    /// [`EthTx::gas_price`] at that fee, its payload [`EthTx::payload`],
    /// its hash [`EthTx::hash`], its bytes [`EthTx::to_stored`].
    pub(crate) fn verified(&self, base_fee: u128) -> VerifiedTx {
        VerifiedTx::new(
            Sender::Ethereum(self.from),
            Fields {
                nonce: self.nonce,
                gas_limit: self.gas_limit,
                gas_price: self.gas_price(base_fee),
                fee_cap: self.max_fee_per_gas,
                value: self.value,
                payload: self.payload(),
                unit: GasUnit::Ethereum(self.access_list),
            },
            self.hash,
            self.to_stored(),
        )
    }
}

/// What an access list (EIP-2930) names: each address, with its storage
/// keys.
pub type AccessList = Vec<([u8; 20], Vec<[u8; 32]>)>;

/// The access list of the Ethereum transaction `envelope` (EIP-2718),
/// empty when it names none or is not one.
pub fn access_list_of(envelope: &[u8]) -> AccessList {
    let Ok(tx) = TxEnvelope::decode_2718_exact(envelope) else {
        return AccessList::new();
    };
    tx.access_list()
        .map(|list| {
            list.iter()
                .map(|item| {
                    let keys = item.storage_keys.iter().map(|key| key.0).collect();
                    (item.address.into_array(), keys)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// How many addresses and storage keys `tx`'s access list names.
fn access_list_size(tx: &TxEnvelope) -> AccessListSize {
    tx.access_list()
        .map(|list| AccessListSize {
            accounts: list.len() as u64,
            keys: list.iter().map(|item| item.storage_keys.len() as u64).sum(),
        })
        .unwrap_or_default()
}

/// The 20-byte address of secp256k1 public key `key`: the last 20 bytes
/// of keccak-256 of its uncompressed form, as Ethereum derives it.
pub fn address_of(key: &k256::ecdsa::VerifyingKey) -> [u8; 20] {
    let point = key.to_encoded_point(false);
    let hash = alloy_primitives::keccak256(&point.as_bytes()[1..]);
    let mut out = [0u8; 20];
    out.copy_from_slice(&hash[12..]);
    out
}

/// The name of the system runtime an Ethereum deploy's creation code
/// runs on (`docs/evm.md`).
pub const EVM_RUNTIME: &str = "evm";

/// The deploy of EVM creation code `code` (constructor arguments
/// appended, as the EVM takes them) for the [`EVM_RUNTIME`]: what an
/// Ethereum transaction without `to` does.
pub fn evm_deploy(code: Vec<u8>) -> Payload {
    let evm = RuntimeName::new(EVM_RUNTIME).expect("`evm` is a valid runtime name");
    Payload::Deploy(Deploy::new(code, Vec::new()).with_kind(CodeKind::Runtime(evm)))
}

/// The first bytes of a Wasm contract's creation data in an Ethereum
/// transaction ([`wasm_creation_code`]): `0xEF`, which no EVM creation
/// code can start with (EIP-3541 reserves it: such code halts at once),
/// then `W` and the format's version, 0.
pub const WASM_CREATION_PREFIX: [u8; 3] = [0xef, 0x57, 0x00];

/// The creation data that deploys Wasm module `wasm` from an Ethereum
/// transaction, before the constructor's arguments: [`WASM_CREATION_PREFIX`],
/// the module's length (4 bytes, big-endian), the module. Ethereum tools
/// append the ABI-encoded arguments to it as they append them to EVM
/// creation code, and the constructor (`init`) gets them as its input.
/// This is what `ward build` writes as `NAME.bin`, in hex, as solc does.
///
/// # Panics
///
/// For a module of 4 GiB or more, which no transaction could carry.
pub fn wasm_creation_code(wasm: &[u8]) -> Vec<u8> {
    let len = u32::try_from(wasm.len()).expect("a module under 4 GiB");
    let mut out = Vec::with_capacity(WASM_CREATION_PREFIX.len() + 4 + wasm.len());
    out.extend_from_slice(&WASM_CREATION_PREFIX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(wasm);
    out
}

/// What an Ethereum deploy's creation data deploys: with
/// [`WASM_CREATION_PREFIX`], the Wasm module of [`wasm_creation_code`]'s
/// form, the bytes after it the constructor's input; otherwise EVM
/// creation code ([`evm_deploy`]).
///
/// # Errors
///
/// [`EthTxError::BadWasmCreation`] for data with the prefix whose length
/// field is cut short or runs past the data's end.
pub fn creation_payload(data: &[u8]) -> Result<Payload, EthTxError> {
    let Some(rest) = data.strip_prefix(&WASM_CREATION_PREFIX) else {
        return Ok(evm_deploy(data.to_vec()));
    };
    let bad = |why: &str| EthTxError::BadWasmCreation(why.to_string());
    let (len, rest) = rest
        .split_first_chunk::<4>()
        .ok_or_else(|| bad("no 4-byte length after the prefix"))?;
    let len = usize::try_from(u32::from_be_bytes(*len)).map_err(|_| bad("too long"))?;
    let (wasm, input) = rest
        .split_at_checked(len)
        .ok_or_else(|| bad(&format!("a {len}-byte module in {} bytes", rest.len())))?;
    Ok(Payload::Deploy(Deploy::new(wasm.to_vec(), input.to_vec())))
}

/// The address `CREATE` gives the contract that `from` deploys with its
/// transaction number `nonce`: the last 20 bytes of keccak-256 of the
/// RLP list of the two, as Ethereum computes it.
pub fn create_address(from: [u8; 20], nonce: u64) -> [u8; 20] {
    alloy_primitives::Address::from(from)
        .create(nonce)
        .into_array()
}

/// The address `CREATE2` gives the contract that `from` creates with
/// `salt` from creation data `init_code` (the constructor's arguments
/// included): the last 20 bytes of keccak-256 of `0xff`, `from`, `salt`
/// and keccak-256 of `init_code`, as the EVM computes it. A Wasm contract
/// of 20-byte form creates Wasm contracts here, `init_code` being
/// [`wasm_creation_code`] and the constructor's input.
pub fn create2_address(from: [u8; 20], salt: [u8; 32], init_code: &[u8]) -> [u8; 20] {
    alloy_primitives::Address::from(from)
        .create2_from_code(salt, init_code)
        .into_array()
}

fn unsupported(ty: u8, why: &'static str) -> EthTxError {
    EthTxError::Unsupported { ty, why }
}

#[cfg(test)]
mod tests;
