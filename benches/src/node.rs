//! `node_transfer`: the node under load beside the executor in process.
//!
//! A node on a temporary data directory (redb, the default block
//! production: a block as soon as transactions wait) and, in the same
//! process, a load generator: many accounts, each a thread sending signed
//! SDK-token transfers over HTTP (`sendRawTransaction` with `wait`), one at
//! a time. It reports committed transactions per second and the latency
//! from send to acknowledgement (after the block's durable commit). Beside
//! it, in the same run, the same number of transactions of the same shape
//! (signed by the same accounts, decoded and signature-checked from their
//! bytes) applied by the executor in process on a fresh redb directory, in
//! blocks of the size the node built, through a block pipeline as the
//! node's producer runs them (each block executed while the one before
//! commits): the ratio is what the node adds (HTTP, the mempool,
//! acknowledgements, the load generator's threads).
//!
//! The same two runs measured by what they spend: the node's CPU time per
//! committed transaction (the process's during the load, less the load
//! generator's threads' own, whose requests are signed before the window)
//! beside the executor's in process (every thread of the pipeline).

use std::{sync::Arc, time::Duration};

use ed25519_dalek::SigningKey;
use serde_json::{Value, json};
use ward_chain::tx::{ChainRules, Deploy, Payload, SignedTx, TxBody, VerifiedTx, account_address};
use ward_devkeys as devkeys;
use ward_executor::Executor;
use ward_node::{Node, NodeConfig};
use ward_primitives::{Address, Hash32};
use ward_state::RedbStore;
use ward_vm::{BackendKind, CodeHash, Config};

use crate::{
    load::{self, post_text},
    scratch::Scratch,
};

pub(crate) const CHAIN: &str = "ward-bench";
const GAS: u64 = 2_000_000;

/// What one `node_transfer` run measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NodeFigures {
    /// Transactions committed per second through the node.
    pub node_tps: f64,
    /// The same transactions per second through the executor in process.
    pub inprocess_tps: f64,
    /// Median send-to-acknowledgement latency, ms.
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// Transactions per block the node built under the load.
    pub block_txs: f64,
    /// Time per block in process (execute, root, commit), ms.
    pub inprocess_block_ms: f64,
    /// Of that, computing the state tree's update and root, ms.
    pub state_root_ms: f64,
    /// Of that, the durable commit, ms.
    pub commit_ms: f64,
    /// The node's CPU time per committed transaction (the process's
    /// during the load, less the load generator's own threads'), µs.
    pub node_cpu_us: f64,
    /// The load generator's CPU time per transaction, µs.
    pub load_cpu_us: f64,
    /// The executor's CPU time per transaction in process (every thread
    /// of the pipeline, decoding and verifying included), µs.
    pub inprocess_cpu_us: f64,
}

fn owner() -> SigningKey {
    devkeys::key(1_000)
}

fn sender(i: usize) -> SigningKey {
    devkeys::key(2_000 + i as u32)
}

fn sign(key: &SigningKey, nonce: u64, payload: Payload) -> SignedTx {
    let gas_limit = if matches!(payload, Payload::Deploy(_)) {
        100_000_000
    } else {
        GAS
    };
    TxBody::new(CHAIN, &key.verifying_key(), nonce, gas_limit, payload).sign(key)
}

fn transfer(token: Address, to: Address, amount: u128) -> Payload {
    use ward_sdk::codec::call_input;
    Payload::Call {
        to: token,
        input: call_input("transfer", &(to, amount)),
    }
}

/// The token's deploy, and one transfer from the owner to each sender.
pub(crate) fn setup(code: &[u8], senders: usize) -> (Address, Vec<SignedTx>) {
    let owner = owner();
    let deploy = sign(
        &owner,
        0,
        Payload::Deploy(Deploy::new(
            code.to_vec(),
            ward_sdk::codec::encode(&1_000_000_000_000u128),
        )),
    );
    let from = account_address(&owner.verifying_key().to_bytes());
    let token = ward_executor::contract_address(&from, &Hash32(CodeHash::of(code).0), &[]);
    let mut txs = vec![deploy];
    for i in 0..senders {
        let to = account_address(&sender(i).verifying_key().to_bytes());
        txs.push(sign(&owner, 1 + i as u64, transfer(token, to, 1_000_000)));
    }
    (token, txs)
}

/// `sendRawTransaction` of `tx` (`wait`: answered once committed).
pub(crate) fn send(
    agent: &ureq::Agent,
    url: &str,
    tx: &SignedTx,
    wait: bool,
) -> Result<Value, String> {
    post_text(agent, url, &load::send_request(&tx.to_bytes(), wait))
}

pub(crate) fn height(agent: &ureq::Agent, url: &str) -> u64 {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "getNetwork" });
    post_text(agent, url, &body.to_string())
        .ok()
        .and_then(|n| n["height"].as_u64())
        .unwrap_or(0)
}

/// Sends the setup's transactions to `url`, waiting for the last (and
/// now and then, which keeps the owner within the mempool's nonce gap).
pub(crate) fn fund(agent: &ureq::Agent, url: &str, setup: &[SignedTx]) {
    let last = setup.len() - 1;
    for (i, tx) in setup.iter().enumerate() {
        send(agent, url, tx, i == last || i % 32 == 0).expect("setup transactions are accepted");
    }
}

/// Where every transfer of the load goes.
const RECIPIENT: Address = Address([0xb0; 32]);

/// Each of `senders` accounts' transfers of the token at `token`, one
/// unit each, signed before the timed window ([`load::prepare`]).
pub(crate) fn transfers(token: Address, senders: usize, load: Duration) -> Vec<Vec<String>> {
    load::prepare(senders, load, &|i, nonce| {
        sign(&sender(i), nonce, transfer(token, RECIPIENT, 1)).to_bytes()
    })
}

/// Runs the node under `senders` concurrent accounts for `load`, then the
/// same transactions in process. `None` when the SDK token is not built.
pub fn node_transfer(kind: BackendKind, load: Duration, senders: usize) -> Option<NodeFigures> {
    let code = crate::sdk_contract("token")?;
    let (token, setup_txs) = setup(&code, senders);

    // The node.
    let dir = Scratch::new("node");
    let mut config = NodeConfig::new(dir.path().to_path_buf());
    config.listen = "127.0.0.1:0".parse().ok()?;
    config.backend = kind;
    config.chain_id = CHAIN.into();
    // A chain that takes free gas (the figure compares with the executor
    // in process, which charges none).
    config.genesis = Some(ward_node::Genesis::dev(CHAIN));
    config.limits.mempool_size = senders * 4 + setup_txs.len();
    config.limits.max_connections = senders + 16;
    let node = Node::start(config).expect("the node starts");
    let url = format!("{}/rpc", node.url());
    let agent = load::agent();
    fund(&agent, &url, &setup_txs);
    let requests = transfers(token, senders, load);
    let start_height = height(&agent, &url);
    let (started, cpu_started) = (ward_vm::clock::now(), crate::cpu::process());
    let driven = load::drive(std::slice::from_ref(&url), requests, load);
    let process_cpu = crate::cpu::process().saturating_sub(cpu_started);
    let elapsed = (ward_vm::clock::now() - started).as_secs_f64();
    let blocks = height(&agent, &url).saturating_sub(start_height).max(1);
    node.shutdown().expect("the node stops");
    drop(dir);
    let mut latencies = driven.latencies;
    latencies.sort_by(f64::total_cmp);
    let count = latencies.len();
    let percentile = |p: f64| {
        latencies
            .get(((count as f64 * p) as usize).min(count.saturating_sub(1)))
            .map_or(f64::NAN, |s| s * 1e3)
    };
    let per_tx_us = |cpu: Duration| cpu.as_secs_f64() * 1e6 / count.max(1) as f64;
    let block_txs = count as f64 / blocks as f64;

    // The same work in process: as many transfers, from the same senders
    // in turn, in blocks of the node's size, each decoded and verified.
    let dir = Scratch::new("inprocess");
    let store = Arc::new(RedbStore::create(dir.path()).expect("a redb store"));
    let config = Config::default();
    let exec = Executor::new(store, crate::ward_backend(kind, &config), &config);
    let verify = |tx: &SignedTx| -> VerifiedTx {
        VerifiedTx::from_bytes(&tx.to_bytes(), &ChainRules::new(CHAIN)).expect("verifies")
    };
    let setup_verified: Vec<VerifiedTx> = setup_txs.iter().map(verify).collect();
    exec.execute_signed_block(&setup_verified[..1], 1)
        .expect("deploys");
    let mut time = 2;
    for funding in setup_verified[1..].chunks(64) {
        exec.execute_signed_block(funding, time).expect("funds");
        time += 1;
    }
    let mut nonces = vec![0u64; senders];
    let bytes: Vec<Vec<u8>> = (0..count)
        .map(|n| {
            let i = n % senders;
            let tx = sign(&sender(i), nonces[i], transfer(token, RECIPIENT, 1));
            nonces[i] += 1;
            tx.to_bytes()
        })
        .collect();
    let per_block = (block_txs.round() as usize).max(1);
    let (mut root, mut commit) = (0.0, 0.0);
    let mut pipeline = ward_executor::Pipeline::new(Arc::new(exec)).expect("a pipeline starts");
    let mut add = |block: Option<Result<ward_executor::Block, _>>,
                   pipeline: &ward_executor::Pipeline<_>| {
        if let Some(block) = block {
            let block = block.expect("commits");
            debug_assert!(block.receipts.iter().all(|r| r.status.is_ok()));
            let timings = pipeline.last_timings();
            root += timings.state_root.as_secs_f64();
            commit += timings.commit.as_secs_f64();
        }
    };
    let (started, cpu_started) = (ward_vm::clock::now(), crate::cpu::process());
    for chunk in bytes.chunks(per_block) {
        let txs: Vec<VerifiedTx> = chunk
            .iter()
            .map(|b| VerifiedTx::from_bytes(b, &ChainRules::new(CHAIN)).expect("verifies"))
            .collect();
        let pushed = pipeline.push(&txs, time);
        pushed.executed.expect("executes");
        add(pushed.committed, &pipeline);
        time += 1;
    }
    let last = pipeline.flush();
    add(last, &pipeline);
    let inprocess = (ward_vm::clock::now() - started).as_secs_f64();
    let inprocess_cpu = crate::cpu::process().saturating_sub(cpu_started);
    drop(pipeline);
    drop(dir);
    let in_blocks = count.div_ceil(per_block).max(1);
    Some(NodeFigures {
        node_tps: count as f64 / elapsed,
        inprocess_tps: count as f64 / inprocess,
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
        block_txs,
        inprocess_block_ms: inprocess * 1e3 / in_blocks as f64,
        state_root_ms: root * 1e3 / in_blocks as f64,
        commit_ms: commit * 1e3 / in_blocks as f64,
        node_cpu_us: per_tx_us(process_cpu.saturating_sub(driven.cpu)),
        load_cpu_us: per_tx_us(driven.cpu),
        inprocess_cpu_us: per_tx_us(inprocess_cpu),
    })
}
