//! `traceTransaction` and `simulateTransaction` with `"trace": true` over
//! real HTTP: a committed token transfer replayed on its block's parent
//! state, decoded by the token's schema, its frames' gas adding up to the
//! receipt's; a failing transfer's revert message in its frame; and a
//! traced simulation agreeing with the plain one.

use serde_json::{Value, json};

use crate::{dev_address, dev_node, error_kind, ok};

#[test]
fn a_committed_transfer_is_traced_and_a_simulation_too() {
    let node = dev_node("trace", |_| {});
    let from = dev_address(0).to_string();
    let bob = dev_address(1).to_string();
    let code = format!("0x{}", hex::encode(ward_testkit::contracts::wasm("token")));
    let deployed = ok(
        &node,
        "sendTransaction",
        json!({ "from": from, "deploy": { "code": code, "args": { "initial_supply": "1000" } }, "gas": 100_000_000, "wait": true }),
    );
    let token = deployed["address"].clone();
    let transfer = |amount: &str| json!({ "from": from, "call": { "to": token, "method": "transfer", "args": { "to": bob, "amount": amount } } });
    let mut send = transfer("100");
    send["wait"] = json!(true);
    let sent = ok(&node, "sendTransaction", send);
    assert_eq!(sent["status"], "ok", "{sent}");

    let trace = ok(&node, "traceTransaction", json!({ "tx": sent["tx"] }));
    assert_eq!(trace["receipt"]["gas_used"], sent["gas_used"], "{trace}");
    assert_eq!(trace["gas_accounted"], sent["gas_used"]);
    assert_eq!(trace["charged"][0]["what"], "intrinsic");
    let root = &trace["root"];
    assert_eq!(root["call"], "call");
    assert_eq!(root["status"], "ok");
    assert_eq!(root["caller"], json!(from));
    assert_eq!(root["method"], "transfer");
    assert_eq!(root["args"], json!({ "to": bob, "amount": "100" }));
    let writes: Vec<&Value> = root["accesses"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a.get("write"))
        .collect();
    assert_eq!(writes.len(), 2, "{root}");
    let event = root["accesses"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|a| a.get("event"))
        .unwrap();
    assert_eq!(event["name"], "Transfer");
    assert_eq!(event["fields"]["amount"], "100");

    // A transfer of more than is held: reverted, its message decoded in
    // the frame; the trace says the same as the receipt.
    let mut too_much = transfer("5000");
    too_much["wait"] = json!(true);
    let failed = ok(&node, "sendTransaction", too_much);
    assert_eq!(failed["status"], "reverted");
    let trace = ok(&node, "traceTransaction", json!({ "tx": failed["tx"] }));
    assert_eq!(trace["root"]["status"], "reverted");
    assert_eq!(trace["root"]["decoded"], failed["decoded"], "{trace}");
    assert_eq!(trace["gas_accounted"], failed["gas_used"]);

    // A traced simulation: the same receipt as an untraced one.
    let plain = ok(&node, "simulateTransaction", transfer("7"));
    let mut traced = transfer("7");
    traced["trace"] = json!(true);
    let mut with_trace = ok(&node, "simulateTransaction", traced);
    let frames = with_trace.as_object_mut().unwrap().remove("trace").unwrap();
    assert_eq!(with_trace, plain);
    assert_eq!(frames["gas_accounted"], plain["gas_used"]);
    assert_eq!(frames["root"]["args"]["amount"], "7");

    // estimateGas, then a send with that gas: it succeeds; the least gas
    // it found, less 1 %, does not.
    let estimate = ok(&node, "estimateGas", transfer("3"));
    let needed = estimate["gas_needed"].as_u64().unwrap();
    let margin = ward_node::ESTIMATE_MARGIN_PERCENT;
    assert_eq!(
        estimate["gas"].as_u64().unwrap(),
        needed + needed * margin / 100
    );
    let with_gas = |gas: u64| {
        let mut send = transfer("3");
        send["gas"] = json!(gas);
        send
    };
    let simulated = ok(&node, "simulateTransaction", with_gas(needed * 99 / 100));
    assert_ne!(simulated["status"], "ok", "{simulated}");
    let mut send = with_gas(estimate["gas"].as_u64().unwrap());
    send["wait"] = json!(true);
    assert_eq!(ok(&node, "sendTransaction", send)["status"], "ok");
    assert_eq!(
        error_kind(&node, "estimateGas", transfer("100000")),
        "execution_failed"
    );

    let unknown = json!({ "tx": format!("0x{}", "11".repeat(32)) });
    assert_eq!(error_kind(&node, "traceTransaction", unknown), "not_found");
    node.shutdown().unwrap();
}
