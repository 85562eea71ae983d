//! A node run with `--prune-history`: the tree of its last blocks only,
//! proofs below that window answered `pruned`, every proof inside it
//! verifying, and the same roots as an archive node given the same blocks.

use serde_json::{Value, json};
use ward_chain::tx::Payload;
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
    // Blocks and receipts are still kept.
    assert_eq!(
        ok(&pruning, "getBlock", json!({ "height": 1 }))["height"],
        1
    );
    assert_eq!(
        error_kind(&pruning, "getBlock", json!({ "height": top + 5 })),
        "not_found"
    );
    pruning.shutdown().unwrap();
    archive.shutdown().unwrap();
}
