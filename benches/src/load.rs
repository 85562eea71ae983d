//! The load generator of the node figures (`node_transfer`,
//! `node_eth_transfer`, `cluster_transfer`): many accounts, each a thread
//! sending one transaction at a time and waiting for its acknowledgement.
//!
//! Every request is signed and encoded before the timed window, so that
//! the window holds only the sending; each sender's thread measures its own
//! CPU time, so that a figure can put the node's CPU apart from the load's
//! though both run in this process.

use std::time::Duration;

use serde_json::{Value, json};

/// The most transactions per second one sender is prepared for. A sender
/// waits for each acknowledgement (a block's durable commit), so it sends
/// a few tens a second here; one that runs out stops early, and
/// [`Driven::ran_out`] says so.
const MAX_RATE_PER_SENDER: f64 = 100.0;

/// The `sendRawTransaction` request of stored transaction bytes `tx`
/// (`wait`: answered once committed).
pub(crate) fn send_request(tx: &[u8], wait: bool) -> String {
    json!({ "jsonrpc": "2.0", "id": 1, "method": "sendRawTransaction",
            "params": { "tx": format!("0x{}", hex::encode(tx)), "wait": wait } })
    .to_string()
}

/// For each of `senders` accounts, enough requests for `load`: those of
/// the transactions `make(sender, nonce)` signs, nonces from 0, signed on
/// every core.
pub(crate) fn prepare(
    senders: usize,
    load: Duration,
    make: &(dyn Fn(usize, u64) -> Vec<u8> + Sync),
) -> Vec<Vec<String>> {
    let each = (load.as_secs_f64() * MAX_RATE_PER_SENDER).ceil() as u64 + 16;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let per_core = senders.div_ceil(cores).max(1);
    let mut bodies: Vec<Vec<String>> = vec![Vec::new(); senders];
    std::thread::scope(|scope| {
        for (part, chunk) in bodies.chunks_mut(per_core).enumerate() {
            let first = part * per_core;
            scope.spawn(move || {
                for (offset, mine) in chunk.iter_mut().enumerate() {
                    *mine = (0..each)
                        .map(|nonce| send_request(&make(first + offset, nonce), true))
                        .collect();
                }
            });
        }
    });
    bodies
}

/// What a load run measured.
#[derive(Default)]
pub(crate) struct Driven {
    /// Each acknowledgement's latency, in seconds.
    pub latencies: Vec<f64>,
    /// The senders' threads' own CPU time, together.
    pub cpu: Duration,
    /// How many senders used every request [`prepare`] made before the
    /// window ended.
    pub ran_out: usize,
}

/// Sends each sender's `bodies` in order from its own thread, one at a
/// time, to `urls` (`.../rpc`, spread by sender) until `load` has passed.
pub(crate) fn drive(urls: &[String], bodies: Vec<Vec<String>>, load: Duration) -> Driven {
    let deadline = ward_vm::clock::now() + load;
    let threads: Vec<_> = bodies
        .into_iter()
        .enumerate()
        .map(|(i, mine)| {
            let url = urls[i % urls.len()].clone();
            std::thread::spawn(move || send_until(&url, &mine, deadline))
        })
        .collect();
    let mut driven = Driven::default();
    for thread in threads {
        let mine = thread.join().expect("a sender panicked");
        driven.latencies.extend(mine.latencies);
        driven.cpu += mine.cpu;
        driven.ran_out += mine.ran_out;
    }
    if driven.ran_out > 0 {
        eprintln!(
            "note: {} senders sent every transfer prepared for them ({MAX_RATE_PER_SENDER}/s each)",
            driven.ran_out
        );
    }
    driven
}

/// One sender: `requests` in order to `url`, each once the last is
/// acknowledged, until `deadline` or the last; what it measured, with its
/// own thread's CPU time.
fn send_until(url: &str, requests: &[String], deadline: std::time::Instant) -> Driven {
    let started = crate::cpu::thread();
    let agent = agent();
    let mut latencies = Vec::with_capacity(requests.len());
    let mut requests = requests.iter();
    let mut ran_out = 0;
    while !ward_vm::clock::passed(deadline) {
        let Some(body) = requests.next() else {
            ran_out = 1;
            break;
        };
        let sent = ward_vm::clock::now();
        match post_text(&agent, url, body) {
            Ok(receipt) if receipt["status"] == "ok" => {
                latencies.push((ward_vm::clock::now() - sent).as_secs_f64());
            }
            Ok(receipt) => panic!("a transaction failed: {receipt}"),
            Err(e) => panic!("a transaction was refused: {e}"),
        }
    }
    Driven {
        latencies,
        cpu: crate::cpu::thread().saturating_sub(started),
        ran_out,
    }
}

/// An HTTP agent for one sender (or the setup).
pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// Posts the JSON-RPC request `body` to `url`: its result, or its error
/// as text.
pub(crate) fn post_text(agent: &ureq::Agent, url: &str, body: &str) -> Result<Value, String> {
    let mut response = agent
        .post(url)
        .header("content-type", "application/json")
        .send(body)
        .map_err(|e| e.to_string())?;
    let text = response
        .body_mut()
        .read_to_string()
        .map_err(|e| e.to_string())?;
    let value: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    match value.get("error") {
        Some(error) => Err(error.to_string()),
        None => Ok(value["result"].clone()),
    }
}
