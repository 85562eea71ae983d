//! Large reads keep a node's memory bounded: concurrent batches of reads
//! of a large transaction, against a `ward serve` process whose peak
//! resident memory (`VmHWM`) is read from `/proc` before and after.
//! Before responses were bounded, one batch of 100 reads of a 5 MiB
//! transaction answered 1.05 GB and added 2 GB of RSS.

use std::time::Duration;

use serde_json::{Value, json};

use super::{node_dir, post_batch, proc_bytes, rpc, serve};

/// How much a node's peak memory may grow under the load below: four
/// requests at once, each answer bounded at 16 MiB (`--max-response-bytes`)
/// and built one result at a time, with room for the allocator (measured:
/// about 230 MiB; the same load without the bound grew it by 814 MiB).
const MAX_GROWTH_BYTES: u64 = 384 << 20;

#[test]
fn concurrent_large_reads_keep_the_nodes_memory_bounded() {
    let dir = node_dir("memory");
    // The property is the memory a node holds, not how fast it answers:
    // its request deadline is far past anything a loaded machine takes.
    let served = serve(&dir, &["--request-timeout-ms", "600000"]);
    let url = served.url.clone();
    let network = rpc(&url, "getNetwork", json!({})).unwrap();
    let from = network["dev_accounts"][0].clone();
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
