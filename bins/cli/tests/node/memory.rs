//! Large reads keep a node's memory bounded: concurrent batches of reads
//! of a large transaction, against a `ward serve` process whose peak
//! resident memory (`VmHWM`) is read from `/proc` before and after.
//! Before responses were bounded, one batch of 100 reads of a 5 MiB
//! transaction answered 1.05 GB and added 2 GB of RSS.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Served, node_dir, post_batch, proc_bytes, rpc, serve};

/// How much a node's peak memory may grow under the load below: four
/// requests at once, each answer bounded at 16 MiB (`--max-response-bytes`)
/// and built one result at a time, with room for the allocator (measured:
/// about 230 MiB; the same load without the bound grew it by 814 MiB).
const MAX_GROWTH_BYTES: u64 = 384 << 20;

/// A dev node in directory `name`, its URL and its first dev account.
/// The property is the memory a node holds, not how fast it answers: its
/// request deadline is far past anything a loaded machine takes.
fn patient_node(name: &str) -> (Served, String, Value) {
    let served = serve(&node_dir(name), &["--request-timeout-ms", "600000"]);
    let url = served.url.clone();
    let network = rpc(&url, "getNetwork", json!({})).unwrap();
    let from = network["dev_accounts"][0].clone();
    (served, url, from)
}

#[test]
fn concurrent_large_reads_keep_the_nodes_memory_bounded() {
    let (served, url, from) = patient_node("memory");
    // A call with 1 MB of input (to no contract: a receipt all the same).
    let input = format!("0x{}", "5a".repeat(1_000_000));
    let sent = rpc(
        &url,
        "sendTransaction",
        json!({ "from": from, "call": { "to": format!("0x{}", "03".repeat(32)), "input": input }, "gas": 50_000_000, "wait": true }),
    )
    .unwrap();
    let tx = sent["tx"].clone();
    let before = proc_bytes(served.child.id(), "VmHWM:");
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (url, tx) = (url.clone(), tx.clone());
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .timeout_global(Some(Duration::from_secs(600)))
                    .build()
                    .into();
                let mut refused = 0;
                for _ in 0..5 {
                    let batch: Vec<Value> = (0..100)
                        .map(|i| json!({ "jsonrpc": "2.0", "id": i, "method": "getTransaction", "params": { "tx": tx, "full_input": true } }))
                        .collect();
                    let answers = post_batch(&agent, &url, batch);
                    // The batch's text: the answers, commas and brackets.
                    let bytes: usize = answers.iter().map(|a| a.to_string().len()).sum::<usize>()
                        + answers.len()
                        + 1;
                    assert!(bytes <= 16 << 20, "{bytes} bytes");
                    assert_eq!(answers.len(), 100);
                    refused += answers
                        .iter()
                        .filter(|a| a["error"]["data"]["kind"] == "response_too_large")
                        .count();
                }
                refused
            })
        })
        .collect();
    let refused: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert!(refused > 0, "the bound was reached");
    let growth = proc_bytes(served.child.id(), "VmHWM:").saturating_sub(before);
    eprintln!("the node's peak memory grew by {} MiB", growth >> 20);
    assert!(
        growth <= MAX_GROWTH_BYTES,
        "the node's peak memory grew by {} MiB under the reads, more than {} MiB",
        growth >> 20,
        MAX_GROWTH_BYTES >> 20
    );
}

/// A contract whose `main` emits 4,000 events of 200 bytes each.
const CHATTY: &str = r#"(module
  (import "ward" "emit_event" (func $emit (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "chatter")
  (func (export "main") (local $i i32)
    (loop $more
      (call $emit (i32.const 0) (i32.const 7) (i32.const 64) (i32.const 200))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $more (i32.lt_u (local.get $i) (i32.const 4000))))))"#;

/// How much a node's peak memory may grow under 32 log queries at once
/// over 52,000 logs: each is refused once its count passes `MAX_LOGS`
/// (10,000), having held one block's receipts at a time and no log
/// (measured: 65 to 124 MiB, the answered query of 8,000 logs included).
/// Before, each built its whole 25 MB answer first and the node grew by
/// about 2 GB.
const MAX_LOG_GROWTH_BYTES: u64 = 256 << 20;

#[test]
fn concurrent_log_queries_are_refused_before_their_answers_are_built() {
    let (served, url, from) = patient_node("memory-logs");
    let code = format!("0x{}", hex::encode(ward_testkit::wasm(CHATTY)));
    let deployed = rpc(
        &url,
        "sendTransaction",
        json!({ "from": from, "deploy": { "code": code }, "gas": 50_000_000, "wait": true }),
    )
    .unwrap();
    let contract = deployed["address"].clone();
    let mut heights = Vec::new();
    for _ in 0..13 {
        let sent = rpc(
            &url,
            "sendTransaction",
            json!({ "from": from, "call": { "to": contract, "input": "0x" }, "gas": 50_000_000, "wait": true }),
        )
        .unwrap();
        assert_eq!(sent["status"], "ok", "{sent}");
        heights.push(sent["height"].as_u64().unwrap());
    }
    let before = proc_bytes(served.child.id(), "VmHWM:");
    let threads: Vec<_> = (0..32)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let query = json!([{ "fromBlock": "0x0", "toBlock": "latest" }]);
                rpc(&url, "eth_getLogs", query).unwrap_err()
            })
        })
        .collect();
    for thread in threads {
        let error = thread.join().unwrap();
        assert!(
            error.contains("-32005") && error.contains("query returned more than 10000 results"),
            "{error}"
        );
    }
    // A range within the bound is answered whole.
    let (first, second) = (format!("{:#x}", heights[0]), format!("{:#x}", heights[1]));
    let some = rpc(
        &url,
        "eth_getLogs",
        json!([{ "fromBlock": first, "toBlock": second }]),
    )
    .unwrap();
    assert_eq!(some.as_array().unwrap().len(), 8_000);
    let growth = proc_bytes(served.child.id(), "VmHWM:").saturating_sub(before);
    eprintln!(
        "the node's peak memory grew by {} MiB under 32 log queries",
        growth >> 20
    );
    assert!(
        growth <= MAX_LOG_GROWTH_BYTES,
        "the node's peak memory grew by {} MiB, more than {} MiB",
        growth >> 20,
        MAX_LOG_GROWTH_BYTES >> 20
    );
}
