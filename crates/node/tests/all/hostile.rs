//! Hostile and careless requests to the Ethereum JSON-RPC, as a probe
//! found them (an attacker's and a careless client's): each answered as
//! geth answers it, refused before any work, or refused on every route,
//! never misread. (The memory bound under concurrent log queries is the
//! CLI's test of a `ward serve` process: `bins/cli/tests/node/memory.rs`.)

use alloy_consensus::TxEip1559;
use alloy_primitives::{Bytes, TxKind, U256};
use serde_json::{Value, json};
use ward_node::Node;
use ward_testkit::evm::{creation, word};

use super::{
    agent, call, dev_node,
    eth::{Key, Signer, eth, eth_ok, hex_of},
};

/// An EVM dev node.
fn node(name: &str) -> Node {
    dev_node(name, |c| {
        let path = ward_testkit::contracts::out_dir().join("evm.wasm");
        c.runtimes = vec![
            ward_node::runtimes::RuntimeSpec::parse(&format!("evm={}", path.display())).unwrap(),
        ];
    })
}

/// The error of an Ethereum call that must fail: its code and message.
fn refused(node: &Node, method: &str, params: Value) -> (i64, String) {
    let error = eth(node, method, params).expect_err(method);
    (
        error["code"].as_i64().unwrap(),
        error["message"].as_str().unwrap_or_default().to_owned(),
    )
}

fn balance(node: &Node, who: &str) -> Value {
    eth_ok(node, "eth_getBalance", json!([who, "latest"]))
}

#[test]
fn fee_fields_that_geth_refuses_are_refused() {
    let node = node("hostile-fees");
    let alice = Key::dev(0);
    let to = Key::from_secret([0x77; 32]).hex();
    // An EIP-1559 tip above its fee cap.
    let tip_above_cap = TxEip1559 {
        chain_id: 31_337,
        nonce: 0,
        gas_limit: 100_000,
        max_fee_per_gas: 10,
        max_priority_fee_per_gas: 11,
        to: TxKind::Call(alloy_primitives::Address::from(
            Key::from_secret([0x77; 32]).address,
        )),
        value: U256::from(1),
        access_list: Default::default(),
        input: Bytes::new(),
    };
    let (code, message) = refused(
        &node,
        "eth_sendRawTransaction",
        json!([hex_of(&alice.sign(tip_above_cap))]),
    );
    assert!(
        code == -32000 && message.contains("max priority fee per gas higher than max fee per gas"),
        "{code} {message}"
    );
    // eth_sendTransaction for another chain, or with both kinds of price.
    let from = alice.hex();
    let (_, message) = refused(
        &node,
        "eth_sendTransaction",
        json!([{ "from": from, "to": to, "value": "0x1", "chainId": "0x1" }]),
    );
    assert!(message.contains("invalid chain id"), "{message}");
    let (code, message) = refused(
        &node,
        "eth_sendTransaction",
        json!([{ "from": from, "to": to, "value": "0x1", "gasPrice": "0x5", "maxFeePerGas": "0x9" }]),
    );
    assert!(
        code == -32602
            && message.contains("both gasPrice and (maxFeePerGas or maxPriorityFeePerGas)"),
        "{code} {message}"
    );
    let (_, message) = refused(
        &node,
        "eth_sendTransaction",
        json!([{ "from": from, "to": to, "value": "0x1", "maxFeePerGas": "0x2", "maxPriorityFeePerGas": "0x3" }]),
    );
    assert!(
        message.contains("max priority fee per gas higher"),
        "{message}"
    );
    // None of them moved anything.
    assert_eq!(balance(&node, &to), json!("0x0"));
    assert_eq!(
        eth_ok(&node, "eth_getTransactionCount", json!([from, "latest"])),
        json!("0x0")
    );
    // The refusals were counted at admission's one door.
    let metrics = super::metrics(&node);
    let refused_total: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("ward_refused_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(refused_total >= 2.0, "{metrics}");
    node.shutdown().unwrap();
}

#[test]
fn input_geth_refuses_is_refused_not_misread() {
    let node = node("hostile-input");
    let alice = Key::dev(0).hex();
    // Extra params: geth's "too many arguments".
    let (code, message) = refused(&node, "eth_blockNumber", json!(["latest"]));
    assert_eq!(
        (code, message.as_str()),
        (-32602, "too many arguments, want at most 0")
    );
    let (_, message) = refused(&node, "eth_getBalance", json!([alice, "latest", 1]));
    assert!(
        message.contains("too many arguments, want at most 2"),
        "{message}"
    );
    // A block number with leading zeros, or none: refused, not read as 1.
    for number in ["0x0001", "0x", "1", "0xg"] {
        let (code, message) = refused(&node, "eth_getBalance", json!([alice, number]));
        assert_eq!(code, -32602, "{number}: {message}");
    }
    let (_, message) = refused(&node, "eth_getLogs", json!([{ "fromBlock": "0x00" }]));
    assert!(message.contains("leading zero"), "{message}");
    assert_eq!(
        eth_ok(&node, "eth_getBlockByNumber", json!(["0x0", false]))["number"],
        json!("0x0")
    );
    // A block hash is a block param too (EIP-1898), not a long number.
    eth_ok(&node, "evm_mine", json!([]));
    let block = eth_ok(&node, "eth_getBlockByNumber", json!(["latest", false]))["hash"].clone();
    let receipts = eth(&node, "eth_getBlockReceipts", json!([block]));
    assert!(receipts.is_ok(), "{receipts:?}");
    let balance = eth(&node, "eth_getBalance", json!([alice, block]));
    assert!(balance.is_ok(), "{balance:?}");
    // A storage slot must be 1 to 64 hex digits.
    for slot in [
        json!(123),
        json!(""),
        json!("0x"),
        json!(format!("0x{}", "1".repeat(65))),
    ] {
        let (code, _) = refused(&node, "eth_getStorageAt", json!([alice, slot, "latest"]));
        assert_eq!(code, -32602, "{slot}");
    }
    assert_eq!(
        eth_ok(&node, "eth_getStorageAt", json!([alice, "0x0", "latest"])),
        json!(format!("0x{}", "0".repeat(64)))
    );
    // State and block overrides are refused, never ignored.
    let request = json!({ "from": alice, "to": Key::from_secret([0x55; 32]).hex() });
    let overrides = json!({ Key::from_secret([0x55; 32]).hex(): { "balance": "0x1" } });
    let (code, message) = refused(&node, "eth_call", json!([request, "latest", overrides]));
    assert!(
        code == -32602 && message.contains("overrides are not supported"),
        "{message}"
    );
    let (code, _) = refused(
        &node,
        "eth_estimateGas",
        json!([request, "latest", overrides]),
    );
    assert_eq!(code, -32602);
    // debug_traceBlockByHash takes a hash, not a tag or a number.
    for id in [json!("latest"), json!("0x1"), json!(1)] {
        let (code, _) = refused(
            &node,
            "debug_traceBlockByHash",
            json!([id, { "tracer": "callTracer" }]),
        );
        assert_eq!(code, -32602, "{id}");
    }
    // A name that is neither Ward's nor answered here: no such method.
    for method in [
        "personal_unlockAccount",
        "personal_listAccounts",
        "admin_peers",
        "getNothing",
    ] {
        let body =
            json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": ["0x00", alice] });
        let (status, text) = super::post(&node, &body.to_string());
        let answer: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            (status, &answer["error"]["code"]),
            (200, &json!(-32601)),
            "{method}: {text}"
        );
    }
    node.shutdown().unwrap();
}

#[test]
fn geth_s_wording_where_clients_parse_it() {
    let node = node("hostile-wording");
    let alice = Key::dev(0);
    // An estimate that cannot finish within its cap: one EVM gas more
    // than the creation's intrinsic gas (Prague's: EIP-3860's words,
    // EIP-7623's floor), which leaves its constructor nothing to run on.
    let mut init = creation("Token");
    init.extend(word(1_000));
    let zeros = init.iter().filter(|b| **b == 0).count() as u64;
    let others = init.len() as u64 - zeros;
    let standard = 53_000 + 4 * zeros + 16 * others + 2 * (init.len() as u64).div_ceil(32);
    let floor = 21_000 + 10 * (zeros + 4 * others);
    let cap = standard.max(floor) + 1;
    let (code, message) = refused(
        &node,
        "eth_estimateGas",
        json!([{ "from": alice.hex(), "data": hex_of(&init), "gas": format!("{cap:#x}") }]),
    );
    assert!(
        code == -32000 && message.starts_with("gas required exceeds allowance"),
        "{code} {message}"
    );
    // callTracer's top frame: the transaction's gas, and used no more.
    let hash = eth_ok(
        &node,
        "eth_sendTransaction",
        json!([{ "from": alice.hex(), "data": hex_of(&init) }]),
    );
    let mut receipt = Value::Null;
    super::eventually("a receipt", super::PATIENCE, || {
        receipt = eth_ok(&node, "eth_getTransactionReceipt", json!([hash]));
        !receipt.is_null()
    });
    let trace = eth_ok(
        &node,
        "debug_traceTransaction",
        json!([hash, { "tracer": "callTracer" }]),
    );
    let quantity =
        |v: &Value| u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
    assert!(
        quantity(&trace["gasUsed"]) <= quantity(&trace["gas"]),
        "{trace}"
    );
    assert_eq!(trace["gasUsed"], receipt["gasUsed"], "{trace}");
    node.shutdown().unwrap();
}

/// The dev node's `/` answers JSON-RPC as `/rpc` does, so it refuses what
/// `/rpc` refuses: a browser's simple request (`text/plain`, a form) and
/// a page of another origin, whatever the path of a `POST`.
#[test]
fn every_route_refuses_what_rpc_refuses() {
    let node = node("hostile-routes");
    let alice = Key::dev(0).hex();
    let victim = Key::from_secret([0x66; 32]).hex();
    let send = json!({ "jsonrpc": "2.0", "id": 1, "method": "eth_sendTransaction",
        "params": [{ "from": alice, "to": victim, "value": "0xde0b6b3a7640000" }] });
    let set = json!({ "jsonrpc": "2.0", "id": 2, "method": "hardhat_setBalance",
        "params": [victim, "0x1"] });
    for path in ["/", "/rpc", "/block/1", "/health", "/explorer/app.js"] {
        for body in [&send, &set] {
            for (content_type, origin, status) in [
                ("text/plain", None, 415),
                ("application/x-www-form-urlencoded", None, 415),
                ("application/json", Some("https://evil.example"), 403),
                ("text/plain", Some("https://evil.example"), 403),
            ] {
                let mut request = agent()
                    .post(format!("{}{path}", node.url()))
                    .header("content-type", content_type);
                if let Some(origin) = origin {
                    request = request.header("origin", origin);
                }
                let response = request.send(body.to_string()).unwrap();
                assert_eq!(
                    response.status().as_u16(),
                    status,
                    "POST {path} as {content_type} from {origin:?}"
                );
            }
        }
    }
    // Nothing was sent or set.
    assert_eq!(balance(&node, &victim), json!("0x0"));
    // A JSON request with no origin (not a browser's) is answered on both.
    for path in ["/", "/rpc"] {
        let answer = agent()
            .post(format!("{}{path}", node.url()))
            .header("content-type", "application/json")
            .send(json!({ "jsonrpc": "2.0", "id": 3, "method": "eth_chainId" }).to_string())
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        assert!(answer.contains("0x7a69"), "{path}: {answer}");
    }
    let _ = call(&node, "getNetwork", json!({}));
    node.shutdown().unwrap();
}

#[test]
fn fee_history_refuses_reward_percentiles_before_building_them() {
    let node = node("hostile-fee-history");
    let many: Vec<f64> = (0..100_000).map(|i| f64::from(i % 100)).collect();
    let (code, message) = refused(&node, "eth_feeHistory", json!(["0x400", "latest", many]));
    assert!(
        code == -32602 && message.contains("too many reward percentiles"),
        "{message}"
    );
    for bad in [json!([50.0, 10.0]), json!([-1.0]), json!([100.5])] {
        let (code, message) = refused(&node, "eth_feeHistory", json!(["0x1", "latest", bad]));
        assert!(
            code == -32602 && message.contains("invalid reward percentile"),
            "{message}"
        );
    }
    let fine = eth_ok(
        &node,
        "eth_feeHistory",
        json!(["0x1", "latest", [10.0, 50.0, 90.0]]),
    );
    assert_eq!(fine["reward"][0].as_array().unwrap().len(), 3, "{fine}");
    node.shutdown().unwrap();
}
