//! WebSocket subscribers that never read cannot take a node's memory: a
//! `ward serve` process under a steady load of token transfers (each
//! block full of `Transfer` events) with 240 connections of 16
//! subscriptions each that read nothing, beside one client that reads
//! every block. The node drops the slow ones, its peak resident memory
//! (`VmHWM`) stays within [`BOUND`] of what it was before, the memory
//! they held is given back once they are gone, and the reading client
//! gets every block in order (its delivery latency is printed, not
//! judged: this is a memory bound, not a benchmark). Before the queues
//! were bounded in bytes, the same load took the node from 53 MB to
//! 1.14 GB, and about 1 GB stayed after the connections closed.

use std::{net::TcpStream, time::Duration};

use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

use super::{node_dir, post_batch, proc_bytes, rpc, serve};

/// Connections that never read, and the subscriptions each holds.
const SLOW: usize = 240;
const SUBSCRIPTIONS: usize = 16;

/// How much the node's memory may grow under the load (the bound:
/// 200 MB above its baseline).
const BOUND: u64 = 200 << 20;

/// Transfers sent, in batches of [`BATCH`], [`WAIT_EVERY`] batches at a
/// time (60 per sender, within the 64 a sender may have waiting), to a
/// node that makes a block a second: blocks of a few hundred transfers,
/// each with its event.
const TRANSFERS: usize = 6_000;
const BATCH: usize = 100;
const WAIT_EVERY: usize = 6;

fn connect(url: &str) -> WebSocket<TcpStream> {
    let address = url.trim_start_matches("http://");
    let stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    let (socket, _) = tungstenite::client(format!("ws://{address}/ws"), stream).unwrap();
    socket
}

fn subscribe(socket: &mut WebSocket<TcpStream>, id: usize, topic: &str) {
    let request =
        json!({ "jsonrpc": "2.0", "id": id, "method": "subscribe", "params": { "topic": topic } });
    socket.send(Message::text(request.to_string())).unwrap();
}

/// The milliseconds since the Unix epoch: a block's time is the node's
/// clock on this machine, so arrival less block time is delivery latency.
#[allow(clippy::disallowed_methods, reason = "a latency measured for a report")]
fn unix_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[test]
fn subscribers_that_never_read_keep_the_nodes_memory_bounded() {
    let dir = node_dir("ws-slow");
    let served = serve(&dir, &["--block-time-ms", "1000"]);
    let url = served.url.clone();
    let pid = served.child.id();
    let network = rpc(&url, "getNetwork", json!({})).unwrap();
    let senders: Vec<Value> = network["dev_accounts"].as_array().unwrap().clone();
    let token_wasm = ward_testkit::contracts::build().unwrap().join("token.wasm");
    let code = format!("0x{}", hex::encode(std::fs::read(token_wasm).unwrap()));
    let mut tokens = Vec::new();
    for from in &senders {
        let deployed = rpc(
            &url,
            "sendTransaction",
            json!({ "from": from, "deploy": { "code": code, "args": { "initial_supply": "1000000000" } }, "gas": 100_000_000, "wait": true }),
        )
        .unwrap();
        assert_eq!(deployed["status"], "ok", "{deployed}");
        tokens.push(deployed["address"].clone());
    }

    // The reading client: every block's height and delivery latency, sent
    // on from its own thread as they arrive.
    let mut reader = connect(&url);
    subscribe(&mut reader, 1, "blocks");
    let (arrivals, arrived) = std::sync::mpsc::channel::<(u64, u64)>();
    std::thread::spawn(move || {
        while let Ok(message) = reader.read() {
            let Message::Text(text) = message else {
                continue;
            };
            let now = unix_millis();
            let value: Value = serde_json::from_str(&text).unwrap();
            let block = &value["params"]["result"];
            if let (Some(height), Some(time)) = (block["height"].as_u64(), block["time"].as_u64())
                && arrivals.send((height, now.saturating_sub(time))).is_err()
            {
                break;
            }
        }
    });
    let baseline = proc_bytes(pid, "VmRSS:");
    let baseline_peak = proc_bytes(pid, "VmHWM:");

    // The connections that never read: half their subscriptions to
    // blocks, half to every event.
    let mut slow = Vec::with_capacity(SLOW);
    for _ in 0..SLOW {
        let mut socket = connect(&url);
        for i in 0..SUBSCRIPTIONS {
            subscribe(&mut socket, i, if i % 2 == 0 { "blocks" } else { "events" });
        }
        slow.push(socket);
    }

    // The load: transfers from every dev account of its own token.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into();
    let first = rpc(&url, "getLatestBlock", json!({})).unwrap()["height"]
        .as_u64()
        .unwrap();
    for round in 0..TRANSFERS / BATCH {
        let batch: Vec<Value> = (0..BATCH)
            .map(|i| {
                let who = i % senders.len();
                let to = format!("0x{:064x}", round * BATCH + i + 1);
                json!({ "jsonrpc": "2.0", "id": i, "method": "sendTransaction", "params": {
                    "from": senders[who], "gas": 200_000, "call": { "to": tokens[who], "method": "transfer",
                    "args": { "to": to, "amount": "1" } } } })
            })
            .collect();
        let answers = post_batch(&agent, &url, batch);
        for answer in &answers {
            assert!(answer["result"]["tx"].is_string(), "{answer}");
        }
        // Every few batches are in blocks before the next: full blocks,
        // never a backlog past what a sender may have waiting (64).
        if (round + 1) % WAIT_EVERY != 0 {
            continue;
        }
        let last = answers.last().unwrap()["result"]["tx"].clone();
        let deadline = ward_vm::clock::now() + Duration::from_secs(300);
        loop {
            let got = rpc(&url, "getTransaction", json!({ "tx": last })).unwrap();
            if got["status"] != "pending" {
                assert_eq!(got["status"], "ok", "{got}");
                break;
            }
            assert!(!ward_vm::clock::passed(deadline), "the node stalled");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let top = rpc(&url, "getLatestBlock", json!({})).unwrap()["height"]
        .as_u64()
        .unwrap();
    let peak = proc_bytes(pid, "VmHWM:");
    // The reading client has every block to the top, in order.
    let mut seen = Vec::new();
    while seen.last().is_none_or(|&(height, _)| height < top) {
        let Ok(next) = arrived.recv_timeout(Duration::from_secs(120)) else {
            panic!("the reading client stopped at {:?} of {top}", seen.last());
        };
        // Blocks come every second: one may have come between the
        // subscription and `first`.
        if next.0 > first {
            seen.push(next);
        }
    }
    drop(slow);
    let heights: Vec<u64> = seen.iter().map(|(h, _)| *h).collect();
    let expected: Vec<u64> = (first + 1..=top).collect();
    assert_eq!(heights, expected, "the reading client's blocks");
    let mut latencies: Vec<u64> = seen.iter().map(|(_, l)| *l).collect();
    latencies.sort_unstable();
    let at = |q: usize| latencies[(latencies.len() * q / 100).min(latencies.len() - 1)];

    // What the slow connections held is given back once they are gone.
    let deadline = ward_vm::clock::now() + Duration::from_secs(60);
    let mut after = proc_bytes(pid, "VmRSS:");
    while after > baseline + BOUND / 2 && !ward_vm::clock::passed(deadline) {
        std::thread::sleep(Duration::from_millis(500));
        after = proc_bytes(pid, "VmRSS:");
    }
    eprintln!(
        "{} blocks; resident memory {} MiB before, peak {} MiB (was {} MiB), {} MiB after the slow clients left; the reading client's latency from each block's time (set before it runs and commits) p50 {} ms, p99 {} ms, max {} ms",
        top - first,
        baseline >> 20,
        peak >> 20,
        baseline_peak >> 20,
        after >> 20,
        at(50),
        at(99),
        latencies.last().unwrap()
    );
    assert!(
        peak <= baseline_peak.max(baseline) + BOUND,
        "the node's peak memory grew by {} MiB",
        (peak - baseline) >> 20
    );
    assert!(
        after <= baseline + BOUND / 2,
        "{} MiB stayed after the slow clients left",
        (after - baseline) >> 20
    );
    // The node answers as before.
    rpc(&url, "getLatestBlock", json!({})).unwrap();
}
