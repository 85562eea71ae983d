//! `node_eth_transfer`: Ethereum-signed ERC-20 transfers through a node.
//!
//! As `node_transfer` ([`crate::node`]), but each sender is a secp256k1
//! account signing EIP-1559 transactions that call the Solidity ERC-20
//! (`contracts/evm/solidity/Token.sol`) on the EVM runtime, sent over HTTP
//! and acknowledged once committed (`sendRawTransaction` with `wait`, the
//! envelope in the chain's stored form). Beside it, in the same run, the
//! same transfers of the same token signed by Ed25519 keys (Ward's own
//! transactions), which isolates what Ethereum's signatures cost, and the
//! time one signature check takes in process for each kind.

use std::time::Duration;

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope, crypto::secp256k1};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{B256, TxKind, U256};
use ed25519_dalek::SigningKey;
use serde_json::Value;
use ward_chain::tx::{ChainRules, Payload, TxBody, VerifiedTx, account_address, eth};
use ward_devkeys as devkeys;
use ward_node::{Node, NodeConfig};
use ward_primitives::Address;
use ward_vm::BackendKind;

use crate::{
    load,
    node::{CHAIN, height},
    scratch::Scratch,
};

/// What one `node_eth_transfer` run measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EthNodeFigures {
    /// Ethereum-signed transfers committed per second through the node.
    pub eth_tps: f64,
    /// The same transfers signed by Ed25519 keys, per second.
    pub ward_tps: f64,
    /// One Ethereum transaction's check in process (decode, secp256k1
    /// recovery), microseconds.
    pub eth_verify_us: f64,
    /// One Ward transaction's check in process (decode, Ed25519), µs.
    pub ward_verify_us: f64,
}

/// The Solidity ERC-20's creation code, hex.
const TOKEN_BIN: &str = include_str!("../../contracts/evm/solidity/Token.bin");
const GAS: u64 = 20_000_000;
/// The Ethereum chain id of a dev chain.
const ETH_CHAIN: u64 = 31_337;
/// Where every transfer goes.
const RECIPIENT: [u8; 20] = [0xb0; 20];

/// Sender `i`'s secp256k1 key and its 20-byte address.
fn eth_key(i: usize) -> devkeys::EthKey {
    devkeys::EthKey::from_secret(alloy_primitives::keccak256(format!("ward bench sender {i}")).0)
}

fn ward_key(i: usize) -> SigningKey {
    devkeys::key(3_000 + i as u32)
}

/// Calldata of `transfer(to, amount)`.
fn transfer_data(to: [u8; 20], amount: u128) -> Vec<u8> {
    let mut data = alloy_primitives::keccak256("transfer(address,uint256)")[..4].to_vec();
    data.extend([0u8; 12]);
    data.extend(to);
    data.extend(U256::from(amount).to_be_bytes::<32>());
    data
}

/// An EIP-1559 transaction signed by `secret`, in the chain's stored
/// form (`0xd2` and the envelope).
fn eth_tx(secret: B256, nonce: u64, to: TxKind, input: Vec<u8>) -> Vec<u8> {
    let tx = TxEip1559 {
        chain_id: ETH_CHAIN,
        nonce,
        // EVM gas: as much Ward gas as a Ward transfer's `GAS`, and a
        // deploy of at most a transaction's 200 000 000 Ward gas.
        gas_limit: if to == TxKind::Create {
            200_000_000 / ward_executor::EVM_GAS_RATE
        } else {
            GAS / ward_executor::EVM_GAS_RATE
        },
        max_fee_per_gas: 0,
        max_priority_fee_per_gas: 0,
        to,
        value: U256::ZERO,
        access_list: Default::default(),
        input: input.into(),
    };
    let signature = secp256k1::sign_message(secret, tx.signature_hash()).expect("signs");
    let mut stored = vec![eth::ETH_TAG];
    stored.extend(TxEnvelope::from(tx.into_signed(signature)).encoded_2718());
    stored
}

/// A Ward transaction calling `to` with `input`, signed by `key`.
fn ward_tx(key: &SigningKey, nonce: u64, to: Address, input: Vec<u8>) -> Vec<u8> {
    let call = Payload::Call { to, input };
    TxBody::new(CHAIN, &key.verifying_key(), nonce, GAS, call)
        .sign(key)
        .to_bytes()
}

/// `sendRawTransaction` of stored bytes `bytes`.
fn post(agent: &ureq::Agent, url: &str, bytes: &[u8], wait: bool) -> Result<Value, String> {
    load::post_text(agent, url, &load::send_request(bytes, wait))
}

/// A dev node with the EVM runtime and the Token deployed by the test
/// mnemonic's account 0, which gives every sender (both kinds) tokens.
/// The node, its `/rpc` URL, the token's Ward address and the node's
/// directory (to drop after the node stops).
fn node_with_token(kind: BackendKind, senders: usize) -> Option<(Node, String, Address, Scratch)> {
    let dir = Scratch::new("eth-node");
    let mut config = NodeConfig::new(dir.path().to_path_buf());
    config.listen = "127.0.0.1:0".parse().ok()?;
    config.backend = kind;
    config.chain_id = CHAIN.into();
    config.dev = true;
    config.runtimes = vec![ward_node::runtimes::RuntimeSpec::parse("evm").ok()?];
    config.limits.mempool_size = senders * 8 + 64;
    config.limits.max_connections = senders + 16;
    let node = Node::start(config).expect("the node starts");
    let url = format!("{}/rpc", node.url());
    let agent = load::agent();
    let owner_key = devkeys::EthKey::dev(0);
    let (owner, owner_address) = (B256::from(owner_key.secret), owner_key.address);
    let mut init = hex::decode(TOKEN_BIN.trim()).expect("Token.bin is hex");
    init.extend(U256::from(10u128.pow(30)).to_be_bytes::<32>());
    post(&agent, &url, &eth_tx(owner, 0, TxKind::Create, init), true).expect("deploys");
    let token20 = eth::create_address(owner_address, 0);
    let token = Address::from_eth(token20);
    let mut nonce = 1;
    for i in 0..senders {
        let ward = account_address(&ward_key(i).verifying_key().to_bytes());
        let mut ward20 = [0u8; 20];
        ward20.copy_from_slice(&ward.0[12..]);
        for to in [eth_key(i).address, ward20] {
            let tx = eth_tx(
                owner,
                nonce,
                TxKind::Call(token20.into()),
                transfer_data(to, 10u128.pow(24)),
            );
            post(&agent, &url, &tx, nonce % 32 == 0).expect("funds");
            nonce += 1;
        }
    }
    let last = eth_tx(
        owner,
        nonce,
        TxKind::Call(token20.into()),
        transfer_data(RECIPIENT, 1),
    );
    post(&agent, &url, &last, true).expect("funds");
    Some((node, url, token, dir))
}

/// `senders` threads, each sending what `make(i, nonce)` signs (before
/// the window) one at a time for `load`; transactions committed per second.
fn drive(
    url: &str,
    load: Duration,
    senders: usize,
    make: &(dyn Fn(usize, u64) -> Vec<u8> + Sync),
) -> f64 {
    let requests = load::prepare(senders, load, make);
    let started = ward_vm::clock::now();
    let count = load::drive(&[url.to_owned()], requests, load)
        .latencies
        .len();
    count as f64 / (ward_vm::clock::now() - started).as_secs_f64()
}

/// Microseconds per check of each of `txs` (stored bytes) for `rules`.
fn verify_us(txs: &[Vec<u8>], rules: &ChainRules) -> f64 {
    let started = ward_vm::clock::now();
    for tx in txs {
        std::hint::black_box(VerifiedTx::from_bytes(tx, rules).expect("verifies"));
    }
    (ward_vm::clock::now() - started).as_secs_f64() * 1e6 / txs.len() as f64
}

/// Runs the Ethereum-signed transfers, then the Ed25519-signed ones, each
/// on a fresh node under `senders` accounts for `load`, and times one
/// check of each kind in process. `None` when the EVM runtime is not built.
pub fn node_eth_transfer(
    kind: BackendKind,
    load: Duration,
    senders: usize,
) -> Option<EthNodeFigures> {
    crate::sdk_contract("evm")?;
    let (node, url, token, dir) = node_with_token(kind, senders)?;
    let token20: [u8; 20] = token.eth()?;
    let eth_make = move |i: usize, nonce: u64| {
        eth_tx(
            B256::from(eth_key(i).secret),
            nonce,
            TxKind::Call(token20.into()),
            transfer_data(RECIPIENT, 1),
        )
    };
    let eth_tps = drive(&url, load, senders, &eth_make);
    let _ = height(&load::agent(), &url);
    node.shutdown().expect("the node stops");
    drop(dir);

    let (node, url, token, dir) = node_with_token(kind, senders)?;
    let ward_make = move |i: usize, nonce: u64| {
        ward_tx(&ward_key(i), nonce, token, transfer_data(RECIPIENT, 1))
    };
    let ward_tps = drive(&url, load, senders, &ward_make);
    node.shutdown().expect("the node stops");
    drop(dir);

    let rules = ChainRules {
        eth_chain_id: Some(ETH_CHAIN),
        ..ChainRules::new(CHAIN)
    };
    let eth_txs: Vec<Vec<u8>> = (0..2_000).map(|n| eth_make(n % 64, n as u64)).collect();
    let ward_txs: Vec<Vec<u8>> = (0..2_000).map(|n| ward_make(n % 64, n as u64)).collect();
    Some(EthNodeFigures {
        eth_tps,
        ward_tps,
        eth_verify_us: verify_us(&eth_txs, &rules),
        ward_verify_us: verify_us(&ward_txs, &rules),
    })
}
