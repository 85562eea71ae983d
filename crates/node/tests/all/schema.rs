//! JSON arguments and decoded answers: the SDK token deployed and called
//! by method name with JSON, on both backends; every refusal of arguments
//! that do not fit the schema happens before anything reaches a block.

use serde_json::{Value, json};
use ward_devkeys as devkeys;
use ward_node::Node;

use crate::{both_backends, call, dev_node, ok};

fn hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

const BOB: &str = "0xb0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0";

fn token(node: &Node) -> String {
    let code = ward_testkit::contracts::wasm("token");
    let receipt = ok(
        node,
        "sendTransaction",
        json!({
            "from": devkeys::address(0).to_string(),
            "deploy": { "code": hex(&code), "args": { "initial_supply": "1000000" } },
            "gas": 100_000_000,
            "wait": true,
        }),
    );
    assert_eq!(receipt["status"], "ok", "{receipt}");
    assert_eq!(receipt["events"][0]["name"], "Transfer");
    assert_eq!(receipt["events"][0]["fields"]["amount"], "1000000");
    receipt["address"].as_str().unwrap().to_owned()
}

/// The answers of one scenario, without what differs by design between
/// nodes (nothing here: same keys, same transactions).
fn scenario(node: &Node) -> Vec<Value> {
    let token = token(node);
    let mut answers = Vec::new();
    let contract = ok(node, "getContract", json!({ "address": token }));
    let schema = &contract["schema"];
    assert_eq!(schema["version"], 1);
    assert_eq!(
        schema["init"]["args"][0],
        json!({"name": "initial_supply", "type": "u128"})
    );
    let balance_of = schema["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "balance_of")
        .unwrap();
    assert_eq!(balance_of["returns"], "u128");
    assert_eq!(balance_of["read_only"], true);
    answers.push(contract["schema"].clone());

    let sent = ok(
        node,
        "sendTransaction",
        json!({
            "from": devkeys::address(0).to_string(),
            "call": { "to": token, "method": "transfer", "args": { "to": BOB, "amount": "250" } },
            "wait": true,
        }),
    );
    assert_eq!(sent["status"], "ok", "{sent}");
    assert_eq!(sent["method"], "transfer");
    assert_eq!(sent["decoded"], Value::Null);
    let event = &sent["events"][0];
    assert_eq!(event["name"], "Transfer");
    assert_eq!(event["fields"]["to"], BOB);
    assert_eq!(event["fields"]["amount"], "250");
    assert_eq!(event["fields"]["from"], devkeys::address(0).to_string());

    let tx = ok(node, "getTransaction", json!({ "tx": sent["tx"] }));
    assert_eq!(tx["events"][0]["name"], "Transfer");
    let transaction = &tx["transaction"];
    assert_eq!(transaction["signed"], true);
    assert_eq!(transaction["from"], devkeys::address(0).to_string());
    assert_eq!(transaction["call"]["method"], "transfer");
    assert_eq!(
        transaction["call"]["signature"],
        "transfer(to: address, amount: u128)"
    );
    assert_eq!(
        transaction["call"]["args"],
        json!({ "to": BOB, "amount": "250" })
    );
    let mut tx = tx.clone();
    tx.as_object_mut().unwrap().remove("block");
    answers.push(tx);

    let balance = ok(
        node,
        "query",
        json!({ "to": token, "method": "balance_of", "args": { "who": BOB } }),
    );
    assert_eq!(balance["decoded"], "250");
    assert_eq!(balance["method"], "balance_of");
    answers.push(balance);

    let reverted = ok(
        node,
        "simulateTransaction",
        json!({
            "from": devkeys::address(1).to_string(),
            "call": { "to": token, "method": "transfer", "args": { "to": BOB, "amount": "1" } },
        }),
    );
    assert_eq!(reverted["status"], "reverted");
    assert_eq!(reverted["decoded"], "insufficient balance: 0 < 1");
    answers.push(reverted);

    // The raw codec keeps working beside JSON.
    let raw = ok(
        node,
        "query",
        json!({ "to": token, "input": hex(&ward_sdk::codec::call_input("total_supply", &())) }),
    );
    assert_eq!(raw["decoded"], "1000000");
    answers
}

#[test]
fn json_arguments_in_decoded_answers_out_on_both_backends() {
    let mut runs = Vec::new();
    for backend in both_backends() {
        let node = dev_node(&format!("schema-{backend}"), |c| c.backend = backend);
        runs.push(scenario(&node));
        node.shutdown().unwrap();
    }
    assert_eq!(runs[0], runs[1], "the backends answer differently");
}

#[test]
fn arguments_that_do_not_fit_are_refused_before_any_block() {
    let node = dev_node("schema-refusals", |_| {});
    let token = token(&node);
    let height = ok(&node, "getLatestBlock", json!({}))["height"].clone();
    let send = |call: Value| {
        let error = crate::call(
            &node,
            "sendTransaction",
            json!({ "from": devkeys::address(0).to_string(), "call": call, "wait": true }),
        )
        .unwrap_err();
        (
            error["data"]["kind"].as_str().unwrap().to_owned(),
            error["message"].as_str().unwrap().to_owned(),
        )
    };
    let signature = "transfer(to: address, amount: u128)";
    for (args, problem) in [
        (json!({ "to": BOB }), "missing argument `amount`"),
        (
            json!({ "to": BOB, "amount": "1", "memo": "x" }),
            "unexpected argument `memo`",
        ),
        (json!({ "to": BOB, "amount": -1 }), "is negative"),
        (
            json!({ "to": BOB, "amount": "340282366920938463463374607431768211456" }),
            "decimal integer",
        ),
        (json!({ "to": "0x12", "amount": "1" }), "64 hex digits"),
    ] {
        let (kind, message) = send(json!({ "to": token, "method": "transfer", "args": args }));
        assert_eq!(kind, "bad_arguments", "{message}");
        assert!(message.contains(problem), "{message}");
        assert!(message.contains(signature), "{message}");
    }
    let (kind, message) = send(json!({ "to": token, "method": "burn", "args": {} }));
    assert_eq!(kind, "bad_arguments");
    assert!(message.contains("unknown method `burn`"), "{message}");
    let (kind, _) = send(json!({ "to": token, "method": "transfer", "input": "0x" }));
    assert_eq!(kind, "invalid_params");
    let (kind, _) = send(json!({ "to": token, "args": {} }));
    assert_eq!(kind, "invalid_params");
    let nowhere = format!("0x{}", "77".repeat(32));
    let (kind, _) = send(json!({ "to": nowhere, "method": "transfer", "args": {} }));
    assert_eq!(kind, "not_found");
    let error = call(
        &node,
        "query",
        json!({ "to": token, "method": "balance_of", "args": { "who": 5 } }),
    )
    .unwrap_err();
    assert_eq!(error["data"]["kind"], "bad_arguments");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("balance_of(who: address) -> u128")
    );
    // Nothing reached a block or the mempool.
    assert_eq!(ok(&node, "getLatestBlock", json!({}))["height"], height);
    assert_eq!(
        ok(
            &node,
            "getNonce",
            json!({ "address": devkeys::address(0).to_string() })
        )["pending"],
        1
    );
    node.shutdown().unwrap();
}
