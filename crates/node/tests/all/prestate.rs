//! geth's `prestateTracer` on `debug_traceTransaction`, `debug_traceCall`
//! and `debug_traceBlockByNumber`: every value it shows is what
//! `eth_getBalance`, `eth_getTransactionCount`, `eth_getCode` and
//! `eth_getStorageAt` answer at the block before (or, for `post`, at the
//! block of) the transaction.

use serde_json::{Value, json};
use ward_testkit::evm::{calldata, creation, word};

use crate::{
    both_backends, dev_node,
    eth::{dev_send, eth, eth_ok, first_account, hex_of, quantity},
};

/// `account`'s balance, nonce, code and the storage `slots` at `block`,
/// as the tracer shows them outside `diffMode`: the balance always, the
/// nonce and code when not zero or empty, every slot asked for.
fn read_at(node: &ward_node::Node, account: &str, slots: &[String], block: &str) -> Value {
    let balance = eth_ok(node, "eth_getBalance", json!([account, block]));
    let nonce = quantity(&eth_ok(
        node,
        "eth_getTransactionCount",
        json!([account, block]),
    ));
    let code = eth_ok(node, "eth_getCode", json!([account, block]));
    let mut shown = json!({ "balance": balance });
    if nonce != 0 {
        shown["nonce"] = json!(nonce);
    }
    if code != "0x" {
        shown["code"] = code;
    }
    if !slots.is_empty() {
        let storage: serde_json::Map<String, Value> = slots
            .iter()
            .map(|slot| {
                let value = eth_ok(node, "eth_getStorageAt", json!([account, slot, block]));
                (slot.clone(), value)
            })
            .collect();
        shown["storage"] = Value::Object(storage);
    }
    shown
}

fn slots_of(shown: &Value) -> Vec<String> {
    shown["storage"]
        .as_object()
        .map(|storage| storage.keys().cloned().collect())
        .unwrap_or_default()
}

fn block_before(receipt: &Value) -> String {
    format!("0x{:x}", quantity(&receipt["blockNumber"]) - 1)
}

/// A token transfer and a deploy, traced with `prestateTracer` plain and
/// in `diffMode`, through each method, on both backends: every account
/// and slot shown is as the chain reads it before and after, the two
/// backends show the same, and a call traced changes nothing.
#[test]
fn the_prestate_tracer_shows_what_the_chain_reads_before_and_after() {
    let runs = both_backends().map(|backend| {
        let node = dev_node("eth-prestate", |c| c.backend = backend);
        let me = first_account(&node);
        let mut init = creation("Token");
        init.extend(word(1_000));
        let deployed = dev_send(&node, None, &init);
        let token = deployed["contractAddress"].as_str().unwrap().to_owned();
        let bob = "0x00000000000000000000000000000000000000b0";
        let mut bob_word = [0u8; 32];
        bob_word[12..].copy_from_slice(&hex::decode(&bob[2..]).unwrap());
        let transfer = calldata("transfer(address,uint256)", &[bob_word, word(300)]);
        let sent = dev_send(&node, Some(&token), &transfer);
        assert_eq!(sent["status"], "0x1", "{sent}");
        let hash = sent["transactionHash"].clone();
        let before = block_before(&sent);
        let at = sent["blockNumber"].as_str().unwrap().to_owned();

        // Plain: the sender and the token as they were, the token's
        // balance slots among its storage.
        let plain = json!({ "tracer": "prestateTracer" });
        let pre = eth_ok(&node, "debug_traceTransaction", json!([hash, plain]));
        for account in [&me, &token] {
            let shown = &pre[account.as_str()];
            assert!(shown.is_object(), "{account} missing: {pre}");
            let expected = read_at(&node, account, &slots_of(shown), &before);
            assert_eq!(shown, &expected, "{account} before the transfer");
        }
        let token_slots = slots_of(&pre[token.as_str()]);
        assert!(token_slots.len() >= 2, "{pre}");
        let thousand = format!("0x{}", hex::encode(word(1_000)));
        assert!(
            pre[token.as_str()]["storage"]
                .as_object()
                .unwrap()
                .values()
                .any(|value| value == &json!(thousand)),
            "the sender's balance slot before: {pre}"
        );

        // diffMode: what changed, before and after; the token's code
        // did not, and a slot that was zero is only in `post`.
        let diff = json!({ "tracer": "prestateTracer", "tracerConfig": { "diffMode": true } });
        let changes = eth_ok(&node, "debug_traceTransaction", json!([hash, diff]));
        let sender_after = &changes["post"][me.as_str()];
        assert_eq!(
            sender_after["nonce"],
            json!(quantity(&eth_ok(&node, "eth_getTransactionCount", json!([me, at])))),
            "{changes}"
        );
        // Its balance only if the fee moved it (a dev node's price may be
        // zero).
        let paid = eth_ok(&node, "eth_getBalance", json!([me, at]));
        let had = eth_ok(&node, "eth_getBalance", json!([me, before]));
        let shown = sender_after.get("balance").cloned().unwrap_or(Value::Null);
        assert_eq!(shown, if paid == had { Value::Null } else { paid }, "{changes}");
        let token_after = &changes["post"][token.as_str()];
        assert!(token_after.get("code").is_none(), "{changes}");
        let changed = slots_of(token_after);
        assert_eq!(changed.len(), 2, "two balances changed: {changes}");
        for slot in &changed {
            assert_eq!(
                token_after["storage"][slot],
                eth_ok(&node, "eth_getStorageAt", json!([token, slot, at])),
                "{changes}"
            );
        }
        let token_before = &changes["pre"][token.as_str()];
        assert_eq!(
            slots_of(token_before).len(),
            1,
            "only the sender's slot was not zero: {changes}"
        );
        assert_eq!(token_before["storage"][&slots_of(token_before)[0]], json!(thousand));

        // A deploy in diffMode: the new contract is only in `post`, with
        // its code.
        let created = eth_ok(
            &node,
            "debug_traceTransaction",
            json!([deployed["transactionHash"], diff]),
        );
        assert!(created["pre"].get(token.as_str()).is_none(), "{created}");
        assert_eq!(
            created["post"][token.as_str()]["code"],
            eth_ok(&node, "eth_getCode", json!([token, deployed["blockNumber"]])),
            "{created}"
        );

        // Without diffMode, as geth shows it: the new contract with the
        // slots its constructor wrote, each zero before.
        let plain_deploy = eth_ok(
            &node,
            "debug_traceTransaction",
            json!([deployed["transactionHash"], plain]),
        );
        let fresh = &plain_deploy[token.as_str()];
        let zero = json!(format!("0x{}", "0".repeat(64)));
        assert!(slots_of(fresh).len() >= 2, "{plain_deploy}");
        assert!(
            fresh["storage"].as_object().unwrap().values().all(|v| v == &zero),
            "{plain_deploy}"
        );
        assert!(fresh.get("code").is_none(), "{plain_deploy}");

        // The block's trace is its transaction's; without code and
        // storage, neither is shown.
        let block = eth_ok(&node, "debug_traceBlockByNumber", json!([at, plain]));
        assert_eq!(block[0]["txHash"], hash, "{block}");
        assert_eq!(block[0]["result"], pre, "{block}");
        let bare = json!({ "tracer": "prestateTracer", "tracerConfig": { "disableCode": true, "disableStorage": true } });
        let bare = eth_ok(&node, "debug_traceTransaction", json!([hash, bare]));
        assert!(bare[token.as_str()].get("code").is_none(), "{bare}");
        assert!(bare[token.as_str()].get("storage").is_none(), "{bare}");

        // A call traced: what it would change, and nothing changed.
        let call = json!({ "from": me, "to": token, "data": hex_of(&transfer) });
        let would = eth_ok(&node, "debug_traceCall", json!([call, "latest", diff]));
        let would_after = &would["post"][token.as_str()];
        let word_of = |n: u128| json!(format!("0x{}", hex::encode(word(n))));
        let mut values: Vec<String> = slots_of(would_after)
            .iter()
            .map(|slot| would_after["storage"][slot].as_str().unwrap().to_owned())
            .collect();
        values.sort();
        assert_eq!(
            values.iter().map(|v| json!(v)).collect::<Vec<_>>(),
            vec![word_of(400), word_of(600)],
            "the sender's 700 to 400 and bob's 300 to 600: {would}"
        );
        for slot in slots_of(would_after) {
            assert_eq!(
                eth_ok(&node, "eth_getStorageAt", json!([token, slot, "latest"])),
                changes["post"][token.as_str()]["storage"][&slot],
                "a traced call commits nothing"
            );
        }

        let refused = eth(
            &node,
            "debug_traceTransaction",
            json!([hash, { "tracer": "prestateTracer", "tracerConfig": { "diffMode": "yes" } }]),
        )
        .unwrap_err();
        assert_eq!(refused["code"], -32602, "{refused}");
        (pre, changes, created, would)
    });
    assert_eq!(runs[0], runs[1]);
}
