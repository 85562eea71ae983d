//! A node run with `--prune-history`: the tree, blocks, transactions and
//! receipts of its last blocks only, proofs and blocks below that window
//! answered `pruned`, every proof inside it verifying, and the same roots
//! as an archive node given the same blocks.

use serde_json::{Value, json};
use ward_chain::tx::Payload;
use ward_devkeys as devkeys;
use ward_primitives::Address;

use crate::{counter_deploy, dev_node, error_kind, ok, raw};

fn storage(node: &ward_node::Node, counter: Address, height: u64) -> Result<Value, Value> {
    crate::call(
        node,
        "getStorage",
        json!({ "address": counter.to_string(), "key": "0x6e", "height": height }),
    )
}

#[test]
fn a_pruning_node_keeps_its_window_and_answers_pruned_below_it() {
    let keep = 8u64;
    let pruning = dev_node("pruning", |c| c.prune_history = Some(keep));
    let archive = dev_node("archive", |_| {});
    let chain = pruning.settings().chain_id.clone();
    let both = [&pruning, &archive];
    let mut counter = None;
    let mut ids = Vec::new();
    let rounds = 3 * ward_node::PRUNE_EVERY;
    for nonce in 0..rounds {
        let payload = match counter {
            None => counter_deploy(),
            Some(to) => Payload::Call {
                to,
                input: nonce.to_le_bytes().to_vec(),
            },
        };
        let tx = raw(&chain, 0, nonce, payload);
        let receipts: Vec<Value> = both
            .iter()
            .map(|n| ok(n, "sendRawTransaction", json!({ "tx": tx, "wait": true })))
            .collect();
        assert_eq!(receipts[0]["status"], "ok", "{}", receipts[0]);
        ids.push(receipts[0]["tx"].as_str().unwrap().to_owned());
        if counter.is_none() {
            counter = Some(Address::from_hex(receipts[0]["address"].as_str().unwrap()).unwrap());
        }
    }
    let counter = counter.unwrap();
    let top = ok(&pruning, "getLatestBlock", json!({}))["height"]
        .as_u64()
        .unwrap();
    assert_eq!(top, rounds);
    // The last pruning kept from the last multiple of PRUNE_EVERY less the
    // window; every height from there verifies, as on the archive.
    let kept_from = top / ward_node::PRUNE_EVERY * ward_node::PRUNE_EVERY - keep;
    for height in kept_from..=top {
        let (a, b) = (
            storage(&pruning, counter, height).unwrap(),
            storage(&archive, counter, height).unwrap(),
        );
        assert_eq!(a["state_root"], b["state_root"], "height {height}");
        assert_eq!(a["proof"], b["proof"], "height {height}");
        assert_eq!(a["value"], b["value"], "height {height}");
    }
    for height in [1, kept_from - 1] {
        let error = storage(&pruning, counter, height).unwrap_err();
        assert_eq!(error["data"]["kind"], "pruned", "{error}");
        storage(&archive, counter, height).unwrap();
    }
    // Blocks below the window are gone with their transactions; those in
    // it are kept, as on the archive.
    assert_eq!(
        error_kind(&pruning, "getBlock", json!({ "height": 1 })),
        "pruned"
    );
    assert_eq!(
        ok(&archive, "getBlock", json!({ "height": 1 }))["height"],
        1
    );
    let events = json!({ "from_height": 1 });
    assert_eq!(error_kind(&pruning, "getEvents", events.clone()), "pruned");
    ok(&archive, "getEvents", events);
    // By default, events from the first block kept.
    let kept_events = ok(&pruning, "getEvents", json!({}));
    assert_eq!(
        kept_events["events"][0]["height"], kept_from,
        "{kept_events}"
    );
    let first = &ids[0];
    let missing = crate::call(&pruning, "getTransaction", json!({ "tx": first })).unwrap_err();
    assert_eq!(missing["data"]["kind"], "not_found", "{missing}");
    assert!(
        missing["message"].as_str().unwrap().contains("pruned"),
        "{missing}"
    );
    ok(&archive, "getTransaction", json!({ "tx": first }));
    for (height, id) in (1..=top).zip(&ids).skip(kept_from as usize - 1) {
        let kept = ok(&pruning, "getTransaction", json!({ "tx": id }));
        assert_eq!(kept, ok(&archive, "getTransaction", json!({ "tx": id })));
        let block = ok(&pruning, "getBlock", json!({ "height": height }));
        let same = ok(&archive, "getBlock", json!({ "height": height }));
        for field in ["txs", "state_root", "receipts_root"] {
            assert_eq!(block[field], same[field], "block {height}");
        }
    }
    assert_eq!(
        error_kind(&pruning, "getBlock", json!({ "height": top + 5 })),
        "not_found"
    );
    pruning.shutdown().unwrap();
    archive.shutdown().unwrap();
}

/// How many transfers the disk-bound test pushes through each node
/// (`WARD_PRUNE_TRANSFERS` overrides, for a longer run by hand).
const TRANSFERS: u64 = 40_000;

/// The most transfers a block of the disk-bound test holds (its chain's
/// block gas is this many transfers' limits).
const PER_BLOCK: u64 = 50;

/// A pruning node (`--prune-history 64`) and an archive node take the same
/// steady load of transfers among a fixed set of accounts. The pruning
/// node's file stops growing once its window is full, while the archive
/// keeps growing: the most the pruned file reaches over the second half of
/// the run exceeds the most it reached over the first half by at most an
/// eighth of what the archive grew over the second half. Maxima over
/// windows, never one sample (the file breathes as blocks are pruned and
/// it is compacted), and blocks of at most [`PER_BLOCK`] transfers
/// whatever the machine's speed (a slow producer takes more per block,
/// and the window of 64 blocks then holds more). Both sizes are printed.
#[test]
fn a_pruning_node_under_steady_transfers_holds_its_file_within_a_bound() {
    use ward_chain::tx::TxBody;
    use ward_node::genesis::{Amount, Asset, GenesisLimits};
    const CHAIN: &str = "ward-prune-load";
    const SENDERS: u32 = 20;
    const BATCH: u64 = 1_000;
    const GAS: u64 = 100_000;
    let transfers: u64 = std::env::var("WARD_PRUNE_TRANSFERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(TRANSFERS);
    let genesis = ward_node::Genesis {
        chain_id: CHAIN.into(),
        asset: Asset {
            name: "MNY".into(),
            decimals: 0,
        },
        balances: (0..SENDERS)
            .map(|i| (devkeys::address(i).to_string(), Amount(1 << 60)))
            .collect(),
        min_gas_price: Amount(1),
        fee_collector: None,
        eth_chain_id: None,
        limits: GenesisLimits {
            max_tx_gas: Some(GAS),
            max_block_gas: Some(GAS * PER_BLOCK),
            ..GenesisLimits::default()
        },
    };
    let start = |name: &str, prune: Option<u64>| {
        dev_node(name, |c| {
            c.dev = false;
            c.chain_id = CHAIN.into();
            c.genesis = Some(genesis.clone());
            c.prune_history = prune;
        })
    };
    let keep = 64;
    let nodes = [
        start("load-pruning", Some(keep)),
        start("load-archive", None),
    ];
    // dev_node's data directories.
    let files = ["load-pruning", "load-archive"]
        .map(|name| crate::data_dir(name).join(ward_state::DATABASE_FILE));
    let size = |i: usize| std::fs::metadata(&files[i]).unwrap().len();
    let keys: Vec<_> = (0..SENDERS).map(devkeys::key).collect();
    let mut sizes: Vec<[u64; 2]> = Vec::new();
    let mut last = String::new();
    for round in 0..transfers.div_ceil(BATCH) {
        let batch: Vec<Value> = (0..BATCH)
            .map(|n| {
                let i = round * BATCH + n;
                let sender = (i % u64::from(SENDERS)) as usize;
                let tx = TxBody {
                    chain_id: CHAIN.into(),
                    public_key: keys[sender].verifying_key().to_bytes(),
                    nonce: i / u64::from(SENDERS),
                    gas_limit: GAS,
                    gas_price: 1,
                    value: 1,
                    // Fifty recipients: the state stays the same size.
                    payload: Payload::Call {
                        to: Address([(i % 50) as u8 + 1; 32]),
                        input: Vec::new(),
                    },
                }
                .sign(&keys[sender]);
                let tx = format!("0x{}", hex::encode(tx.to_bytes()));
                json!({ "jsonrpc": "2.0", "id": i, "method": "sendRawTransaction", "params": { "tx": tx } })
            })
            .collect();
        // JSON-RPC batches of at most `max_batch` requests.
        let limit = ward_node::NodeConfig::new(".".into()).limits.max_batch;
        for chunk in batch.chunks(limit) {
            let body = Value::Array(chunk.to_vec()).to_string();
            for node in &nodes {
                let (status, text) = crate::post(node, &body);
                assert_eq!(status, 200, "{text}");
                let answers: Vec<Value> = serde_json::from_str(&text).unwrap();
                for answer in &answers {
                    assert!(answer.get("error").is_none(), "{answer}");
                }
                last = answers.last().unwrap()["result"]["tx"]
                    .as_str()
                    .unwrap()
                    .to_owned();
            }
        }
        // Each node's mempool drained before the next batch: the load is
        // steady, never a backlog. Drained is every sender's nonce in
        // blocks, not one transaction's receipt: on the pruning node the
        // block of a transaction included early in the batch may leave the
        // window before a slow poll looks for it (`not_found`, as
        // documented for pruned transactions).
        let sent = (round + 1) * BATCH / u64::from(SENDERS);
        for node in &nodes {
            let deadline = ward_vm::clock::now() + crate::PATIENCE;
            for sender in 0..SENDERS {
                let address = devkeys::address(sender).to_string();
                while ok(node, "getNonce", json!({ "address": address }))["nonce"] != sent {
                    assert!(!ward_vm::clock::passed(deadline), "the node stalled");
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
            }
        }
        // The archive keeps every receipt: the batch's last one is a success.
        let done = ok(&nodes[1], "getTransaction", json!({ "tx": last }));
        assert_eq!(done["status"], "ok", "{done}");
        sizes.push([size(0), size(1)]);
    }
    let (first, second) = sizes.split_at(sizes.len() / 2);
    let most = |part: &[[u64; 2]]| part.iter().map(|s| s[0]).max().unwrap();
    let (before, after) = (most(first), most(second));
    let half = *first.last().unwrap();
    let end = *sizes.last().unwrap();
    let grown = end[1] - half[1];
    eprintln!(
        "{transfers} transfers: pruned {} bytes (most {before} in the first half, {after} in the second), archive {} bytes ({grown} more than at the half)",
        end[0], end[1]
    );
    assert!(
        after.saturating_sub(before) <= grown / 8,
        "the pruned file grew by {} while the archive grew by {grown}: {sizes:?}",
        after.saturating_sub(before)
    );
    assert!(end[1] > end[0] * 2, "{sizes:?}");
    // The archive's file grows in redb's steps (doubling while small, then
    // by about half again: 71 MB to 107 MB in gate T), so where they fall
    // against the half-way round is timing: it has grown past the half,
    // by at least one step.
    assert!(end[1] > half[1], "the archive grows: {sizes:?}");
    // What is kept answers; what is not, says so.
    let top = ok(&nodes[0], "getLatestBlock", json!({}))["height"]
        .as_u64()
        .unwrap();
    assert_eq!(
        error_kind(&nodes[0], "getBlock", json!({ "height": 1 })),
        "pruned"
    );
    ok(&nodes[0], "getBlock", json!({ "height": top - keep + 1 }));
    for node in nodes {
        node.shutdown().unwrap();
    }
}
