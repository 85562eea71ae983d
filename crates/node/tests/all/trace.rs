//! `traceTransaction` and `simulateTransaction` with `"trace": true` over
//! real HTTP: a committed token transfer replayed on its block's parent
//! state, decoded by the token's schema, its frames' gas adding up to the
//! receipt's; a failing transfer's revert message in its frame; and a
//! traced simulation agreeing with the plain one.

use serde_json::{Value, json};
use ward_devkeys as devkeys;
use ward_vm::BackendKind;

use crate::{agent, both_backends, dev_node, error_kind, ok};

#[test]
fn a_committed_transfer_is_traced_and_a_simulation_too() {
    let node = dev_node("trace", |_| {});
    let from = devkeys::address(0).to_string();
    let bob = devkeys::address(1).to_string();
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

/// The sum of a folded profile's lines.
fn folded_total(folded: &Value) -> u64 {
    folded
        .as_str()
        .unwrap()
        .lines()
        .map(|l| l.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap())
        .sum()
}

/// The contract built with debug info panics in a helper: its trace's
/// backtrace names the helper and the line of the `panic!`, the same on
/// both backends, and its gas profile adds up to the receipt's gas.
#[test]
fn a_panic_in_a_helper_shows_its_function_and_line() {
    let [a, b] = [BackendKind::Wasmtime, BackendKind::Wasmi].map(|backend| {
        let node = dev_node("panic-trace", |c| c.backend = backend);
        let from = devkeys::address(0).to_string();
        let code = ward_testkit::contracts::wasm_with_debug_info("faults");
        let deployed = ok(
            &node,
            "sendTransaction",
            json!({ "from": from, "deploy": { "code": format!("0x{}", hex::encode(code)) }, "gas": 100_000_000, "wait": true }),
        );
        assert_eq!(deployed["status"], "ok", "{deployed}");
        let share = json!({ "from": from, "call": { "to": deployed["address"], "method": "share", "args": { "total": 10, "parts": 0 } }, "wait": true });
        let failed = ok(&node, "sendTransaction", share);
        assert_eq!(failed["status"], "reverted", "{failed}");
        assert_eq!(failed["decoded"], "panicked: cannot split 10 into zero parts");
        let trace = ok(
            &node,
            "traceTransaction",
            json!({ "tx": failed["tx"], "profile": true }),
        );
        node.shutdown().unwrap();
        let gas = failed["gas_used"].as_u64().unwrap();
        assert_eq!(trace["profile"]["total"], gas, "{trace}");
        assert_eq!(folded_total(&trace["profile"]["folded"]), gas);
        (trace["root"].clone(), trace["profile"].clone())
    });
    assert_eq!(a, b, "the backends' traces differ");
    let (root, profile) = a;
    let backtrace = root["backtrace"].as_array().unwrap();
    assert_eq!(backtrace[0]["function"], "ward.exit", "{root}");
    assert_eq!(backtrace[0]["host"], true);
    let helper = backtrace
        .iter()
        .find(|f| {
            f["function"]
                .as_str()
                .unwrap_or("")
                .ends_with("split_evenly")
        })
        .unwrap_or_else(|| panic!("no split_evenly in {backtrace:#?}"));
    assert!(
        helper["file"]
            .as_str()
            .unwrap()
            .ends_with("faults/src/lib.rs"),
        "{helper}"
    );
    assert_eq!(
        helper["line"],
        u64::from(ward_testkit::contracts::source_line(
            "faults",
            "panic!(\"cannot split"
        )),
        "{helper}"
    );
    // The method it was inlined into, at the helper's call.
    let index = backtrace.iter().position(|f| f == helper).unwrap();
    let share = &backtrace[index + 1];
    assert_eq!(share["function"], "share", "{backtrace:#?}");
    assert_eq!(share["inlined"], true);
    assert_eq!(
        share["line"],
        u64::from(ward_testkit::contracts::source_line(
            "faults",
            "split_evenly(total, parts)"
        ))
    );
    // The panic's formatting is the helper's, in the profile.
    let top = profile["top"].as_array().unwrap();
    let helper = top
        .iter()
        .find(|f| f["name"] == "faults::split_evenly")
        .unwrap();
    assert!(helper["total_gas"].as_u64().unwrap() > helper["self_gas"].as_u64().unwrap());
}

/// The gas profiles of the SDK token's transfer and the Solidity ERC-20's,
/// through the EVM runtime, add up to their receipts' gas, the same on
/// both backends; the flame graph of each is an SVG served at
/// `/trace/TX/flamegraph.svg`.
#[test]
fn gas_profiles_of_token_transfers_add_up_to_their_receipts() {
    let runs = both_backends().map(|backend| {
        let node = dev_node("profile", |c| {
            c.backend = backend;
            let path = ward_testkit::contracts::out_dir().join("evm.wasm");
            c.runtimes = vec![ward_node::runtimes::RuntimeSpec::parse(&format!("evm={}", path.display())).unwrap()];
        });
        let from = devkeys::address(0).to_string();
        let bob = devkeys::address(1);
        let send = |payload: Value| {
            let mut tx = json!({ "from": from, "wait": true, "gas": 100_000_000 });
            tx.as_object_mut().unwrap().extend(payload.as_object().unwrap().clone());
            let receipt = ok(&node, "sendTransaction", tx);
            assert_eq!(receipt["status"], "ok", "{receipt}");
            receipt
        };
        let code = ward_testkit::contracts::wasm("token");
        let token = send(json!({ "deploy": { "code": format!("0x{}", hex::encode(code)), "args": { "initial_supply": "1000" } } }));
        let sdk = send(json!({ "call": { "to": token["address"], "method": "transfer", "args": { "to": bob.to_string(), "amount": "100" } } }));
        let mut creation = ward_testkit::evm::creation("Token");
        creation.extend(ward_testkit::evm::word(5_000));
        let erc20 = send(json!({ "deploy": { "code": format!("0x{}", hex::encode(creation)), "kind": "evm" } }));
        let input = ward_testkit::evm::calldata(
            "transfer(address,uint256)",
            &[ward_testkit::evm::address_word(&bob.0), ward_testkit::evm::word(1_200)],
        );
        let evm = send(json!({ "call": { "to": erc20["address"], "input": format!("0x{}", hex::encode(input)) } }));
        let profiles = [sdk, evm].map(|receipt| {
            let trace = ok(&node, "traceTransaction", json!({ "tx": receipt["tx"], "profile": true }));
            let profile = trace["profile"].clone();
            let gas = receipt["gas_used"].as_u64().unwrap();
            assert_eq!(profile["total"], gas, "{profile}");
            assert_eq!(folded_total(&profile["folded"]), gas);
            let url = format!("{}/trace/{}/flamegraph.svg", node.url(), receipt["tx"].as_str().unwrap());
            let mut response = agent().get(&url).call().unwrap();
            assert_eq!(response.status().as_u16(), 200);
            assert_eq!(response.headers()["content-type"], "image/svg+xml");
            let svg = response.body_mut().read_to_string().unwrap();
            assert!(svg.contains("<svg") && svg.contains(&format!("{gas} gas")), "{}", &svg[..svg.len().min(400)]);
            profile
        });
        let missing = format!("{}/trace/0x{}/flamegraph.svg", node.url(), "11".repeat(32));
        assert_eq!(agent().get(&missing).call().unwrap().status().as_u16(), 404);
        let junk = format!("{}/trace/nope/flamegraph.svg", node.url());
        assert_eq!(agent().get(&junk).call().unwrap().status().as_u16(), 400);
        node.shutdown().unwrap();
        profiles
    });
    assert_eq!(runs[0], runs[1], "the backends' profiles differ");
    let [sdk, evm] = &runs[0];
    let names = |p: &Value| -> Vec<String> {
        p["top"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(
        names(sdk).iter().any(|n| n == "ward.storage_write"),
        "{sdk}"
    );
    assert!(
        names(evm).iter().any(|n| n.ends_with("0xa9059cbb [evm]")),
        "{evm}"
    );
}
