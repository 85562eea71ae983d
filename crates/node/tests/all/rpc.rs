//! Every method over HTTP, on both backends.

use serde_json::{Value, json};
use ward_chain::tx::{Deploy, Payload};
use ward_devkeys as devkeys;
use ward_primitives::{Address, Hash32};

use crate::*;

fn hex(bytes: &[u8]) -> String {
    format!("0x{}", ::hex::encode(bytes))
}

fn address(value: &Value) -> Address {
    Address::from_hex(value.as_str().unwrap()).unwrap()
}

/// Deploys the counter from dev account 0 and calls it twice (once
/// reverting); returns its address.
fn counter(node: &Node) -> Address {
    let from = devkeys::address(0).to_string();
    let deployed = ok(
        node,
        "sendTransaction",
        json!({ "from": from, "deploy": { "code": hex(&counter_code()) }, "wait": true }),
    );
    assert_eq!(deployed["status"], "ok", "{deployed}");
    let counter = address(&deployed["address"]);
    for input in ["aa", "revert"] {
        ok(
            node,
            "sendTransaction",
            json!({ "from": from, "call": { "to": counter.to_string(), "input": hex(input.as_bytes()) }, "wait": true }),
        );
    }
    counter
}

#[test]
fn every_method_answers_in_its_documented_shape() {
    for backend in both_backends() {
        let node = dev_node(&format!("methods-{backend:?}"), |c| c.backend = backend);
        let network = ok(&node, "getNetwork", json!({}));
        assert_eq!(network["chain_id"], "ward-dev");
        assert_eq!(network["backend"], backend.as_str());
        assert_eq!(network["abi_version"], ward_vm::ABI_VERSION);
        assert_eq!(network["schedule_version"], ward_vm::SCHEDULE_VERSION);
        assert_eq!(network["dev_accounts"][0], devkeys::address(0).to_string());

        let counter = counter(&node);
        let from = devkeys::address(0);

        // Blocks: latest, by height, by hash; their shape.
        let latest = ok(&node, "getLatestBlock", json!({}));
        assert_eq!(latest["height"], 3);
        for field in [
            "hash",
            "parent",
            "time",
            "state_root",
            "tx_root",
            "receipts_root",
            "txs",
        ] {
            assert!(!latest[field].is_null(), "{field}");
        }
        let by_height = ok(&node, "getBlock", json!({ "height": 2 }));
        assert_eq!(by_height["hash"], latest["parent"]);
        let by_hash = ok(&node, "getBlock", json!({ "hash": latest["parent"] }));
        assert_eq!(by_hash, by_height);
        assert!(latest["time"].as_u64() > by_height["time"].as_u64());

        // The reverted call's receipt, by its transaction hash.
        let tx = latest["txs"][0].clone();
        let receipt = ok(&node, "getTransaction", json!({ "tx": tx }));
        assert_eq!(receipt["status"], "reverted");
        assert_eq!(receipt["exit_code"], 7);
        assert_eq!(
            (receipt["height"].clone(), receipt["index"].clone()),
            (json!(3), json!(0))
        );
        assert_eq!(
            error_kind(
                &node,
                "getTransaction",
                json!({ "tx": Hash32([5; 32]).to_string() })
            ),
            "not_found"
        );

        assert_eq!(
            ok(&node, "getNonce", json!({ "address": from.to_string() })),
            json!({ "nonce": 3, "pending": 3, "applied_height": 3 })
        );
        let contract = ok(
            &node,
            "getContract",
            json!({ "address": counter.to_string() }),
        );
        assert_eq!(contract["deployer"], from.to_string());
        assert_eq!(contract["created_at"], 1);

        // Storage with a proof that verifies, and fails once tampered.
        let proven = ok(
            &node,
            "getStorage",
            json!({ "address": counter.to_string(), "key": hex(b"n") }),
        );
        assert_eq!(proven["value"], hex(&1u64.to_le_bytes()));
        assert_eq!(proven["state_root"], latest["state_root"]);
        let root = Hash32::from_hex(proven["state_root"].as_str().unwrap()).unwrap();
        let proof = ::hex::decode(&proven["proof"].as_str().unwrap()[2..]).unwrap();
        ward_chain::tree::verify_storage(&root, &counter, b"n", Some(&1u64.to_le_bytes()), &proof)
            .unwrap();
        assert!(
            ward_chain::tree::verify_storage(
                &root,
                &counter,
                b"n",
                Some(&2u64.to_le_bytes()),
                &proof
            )
            .is_err()
        );
        // At an earlier height, and absent.
        let old = ok(
            &node,
            "getStorage",
            json!({ "address": counter.to_string(), "key": hex(b"n"), "height": 1 }),
        );
        assert_eq!(old["value"], Value::Null);
        let absent = ok(
            &node,
            "getStorage",
            json!({ "address": counter.to_string(), "key": hex(b"zz") }),
        );
        assert_eq!(absent["value"], Value::Null);
        let proof = ::hex::decode(&absent["proof"].as_str().unwrap()[2..]).unwrap();
        ward_chain::tree::verify_storage(&root, &counter, b"zz", None, &proof).unwrap();

        // The storage range, one entry per page.
        let address = json!({ "address": counter.to_string() });
        let (page, next) = two_pages(&node, "getStorageRange", address);
        assert_eq!(page["entries"][0]["key"], hex(b"last"));
        assert_eq!(next["entries"][0]["key"], hex(b"n"));
        assert_eq!(next["cursor"], Value::Null);

        // Events: one per successful call, paged.
        let events = ok(
            &node,
            "getEvents",
            json!({ "contract": counter.to_string(), "limit": 1 }),
        );
        assert_eq!(events["events"].as_array().unwrap().len(), 1);
        assert_eq!(events["events"][0]["data"], hex(b"aa"));
        assert_eq!(
            events["cursor"],
            Value::Null,
            "the reverted call emitted nothing"
        );
        let other_topic = ok(&node, "getEvents", json!({ "topic": hex(b"nope") }));
        assert_eq!(other_topic["events"], json!([]));

        // Queries: latest and at a height; writes trap; nothing commits.
        let query = ok(
            &node,
            "query",
            json!({ "to": counter.to_string(), "input": "0x" }),
        );
        assert_eq!(query["status"], "trapped");
        assert_eq!(ok(&node, "getLatestBlock", json!({}))["height"], 3);
        assert_eq!(
            error_kind(
                &node,
                "query",
                json!({ "to": Address([3; 32]).to_string() })
            ),
            "not_found"
        );
        assert_eq!(
            error_kind(
                &node,
                "query",
                json!({ "to": counter.to_string(), "height": 99 })
            ),
            "not_found"
        );

        // A simulation: its receipt and storage, nothing committed.
        let simulated = ok(
            &node,
            "simulateTransaction",
            json!({ "from": from.to_string(), "call": { "to": counter.to_string(), "input": hex(b"zz") } }),
        );
        assert_eq!(simulated["status"], "ok");
        assert_eq!(simulated["output"], hex(&2u64.to_le_bytes()));
        assert!(
            simulated["storage"]
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w["key"] == hex(b"last") && w["value"] == hex(b"zz"))
        );
        assert_eq!(
            ok(&node, "getNonce", json!({ "address": from.to_string() }))["nonce"],
            3
        );

        // A raw transaction signed elsewhere, without waiting.
        let raw_tx = raw(
            "ward-dev",
            1,
            0,
            Payload::Call {
                to: counter,
                input: b"r".to_vec(),
            },
        );
        let sent = ok(&node, "sendRawTransaction", json!({ "tx": raw_tx }));
        let hash = sent["tx"].clone();
        let mut receipt = Value::Null;
        eventually("its block", PATIENCE, || {
            receipt = ok(&node, "getTransaction", json!({ "tx": hash }));
            receipt["status"] != "pending"
        });
        assert_eq!(receipt["status"], "ok", "{receipt}");
        // Two events now: paged one at a time.
        let contract = json!({ "contract": counter.to_string() });
        let (first, second) = two_pages(&node, "getEvents", contract);
        assert_eq!(first["events"][0]["data"], hex(b"aa"));
        assert_eq!(second["events"][0]["data"], hex(b"r"));
        assert_eq!(second["events"][0]["tx"], hash);
        assert_eq!(second["cursor"], Value::Null);

        // Dev: mine an empty block at a chosen time.
        let last = ok(&node, "getLatestBlock", json!({}));
        let time = last["time"].as_u64().unwrap() + 1_000_000;
        ok(&node, "setNextBlockTime", json!({ "time": time }));
        let mined = ok(&node, "mine", json!({}));
        assert_eq!(mined["time"], time);
        assert_eq!(mined["txs"], json!([]));
        assert_eq!(mined["state_root"], last["state_root"]);
        assert_eq!(
            error_kind(&node, "setNextBlockTime", json!({ "time": 5 })),
            "invalid_params"
        );
        // A time no later block could follow is refused; the latest one
        // allowed leaves room, and the next block takes the next time.
        for time in [u64::MAX, u64::MAX - 1, ward_node::MAX_BLOCK_TIME + 1] {
            assert_eq!(
                error_kind(&node, "setNextBlockTime", json!({ "time": time })),
                "invalid_params",
                "{time}"
            );
        }
        let latest = ward_node::MAX_BLOCK_TIME;
        ok(&node, "setNextBlockTime", json!({ "time": latest }));
        assert_eq!(ok(&node, "mine", json!({}))["time"], latest);
        // The next block takes the next second, still below 2^53.
        let next = ok(&node, "mine", json!({}))["time"].as_u64().unwrap();
        assert_eq!(next, latest + 1000);
        assert!(next < 1 << 53);
        node.shutdown().unwrap();
    }
}

#[test]
fn bad_transactions_are_refused_before_any_block() {
    let node = dev_node("refusals", |c| c.limits.mempool_size = 3);
    let to = Address([4; 32]);
    // Input to an address without a contract: a call that cannot run (no
    // input would be a plain transfer).
    let call = |_nonce: u64| Payload::Call { to, input: vec![0] };
    let send = |tx: String| {
        error_kind(
            &node,
            "sendRawTransaction",
            json!({ "tx": tx, "wait": true }),
        )
    };
    // Another chain, a bad signature, garbage, an unknown version.
    assert_eq!(send(raw("other-chain", 0, 0, call(0))), "chain_id");
    let mut forged = ::hex::decode(&raw("ward-dev", 0, 0, call(0))[2..]).unwrap();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    assert_eq!(send(format!("0x{}", ::hex::encode(&forged))), "signature");
    assert_eq!(send("0x0102".into()), "malformed");
    assert_eq!(
        error_kind(&node, "sendRawTransaction", json!({ "tx": "0xzz" })),
        "invalid_params"
    );
    // A gas limit above the block's maximum.
    let key = devkeys::key(0);
    let big = ward_chain::tx::TxBody {
        gas_price: 0,
        value: 0,
        chain_id: "ward-dev".into(),
        public_key: key.verifying_key().to_bytes(),
        nonce: 0,
        gas_limit: u64::MAX,
        payload: call(0),
    }
    .sign(&key);
    assert_eq!(
        send(format!("0x{}", ::hex::encode(big.to_bytes()))),
        "limit"
    );
    // Replays: committed, then sent again.
    let first = raw("ward-dev", 0, 0, call(0));
    let receipt = ok(
        &node,
        "sendRawTransaction",
        json!({ "tx": first, "wait": true }),
    );
    assert_eq!(receipt["error"]["kind"], "no_contract", "{receipt}");
    assert_eq!(send(first), "known");
    // The same nonce, another transaction.
    assert_eq!(
        send(raw("ward-dev", 0, 0, Payload::Call { to, input: vec![1] })),
        "nonce"
    );
    // Too far ahead.
    assert_eq!(
        send(raw(
            "ward-dev",
            0,
            1 + ward_node::mempool::MAX_NONCE_GAP,
            call(0)
        )),
        "nonce"
    );
    // Behind a gap (nonce 1 never comes): a quarter of the mempool at
    // most, here one; the next is refused (the mempool's own tests cover
    // the per-sender bound, expiry and a full mempool).
    ok(
        &node,
        "sendRawTransaction",
        json!({ "tx": raw("ward-dev", 0, 2, call(0)) }),
    );
    assert_eq!(send(raw("ward-dev", 0, 3, call(0))), "nonce_gap");
    assert_eq!(
        ok(
            &node,
            "getNonce",
            json!({ "address": devkeys::address(0).to_string() })
        ),
        json!({ "nonce": 1, "pending": 1, "applied_height": 1 })
    );
    // Nothing refused became a block.
    assert_eq!(ok(&node, "getLatestBlock", json!({}))["height"], 1);
    node.shutdown().unwrap();

    // Without --dev, dev methods are refused.
    let plain = dev_node("plain", |c| {
        c.dev = false;
        c.genesis = Some(ward_node::Genesis::dev(&c.chain_id));
    });
    for (method, params) in [
        (
            "sendTransaction",
            json!({ "from": devkeys::address(0).to_string(), "call": { "to": to.to_string() } }),
        ),
        ("mine", json!({})),
        ("setNextBlockTime", json!({ "time": 1 })),
    ] {
        assert_eq!(error_kind(&plain, method, params), "dev_only", "{method}");
    }
    assert!(
        ok(&plain, "getNetwork", json!({}))
            .get("dev_accounts")
            .is_none()
    );
    plain.shutdown().unwrap();
}

#[test]
fn requests_that_are_not_right_get_json_rpc_errors() {
    let node = dev_node("errors", |c| c.limits.max_batch = 3);
    let code = |body: &str| {
        let (status, text) = post(&node, body);
        assert_eq!(status, 200, "{body}: {text}");
        let value: Value = serde_json::from_str(&text).unwrap();
        (
            value["error"]["code"].as_i64().unwrap(),
            value["error"]["data"]["kind"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(code("{"), (-32700, "parse".into()));
    assert_eq!(code("[]"), (-32600, "invalid_request".into()));
    assert_eq!(code("7"), (-32600, "invalid_request".into()));
    assert_eq!(
        code(r#"{"jsonrpc":"1.0","id":1,"method":"getNetwork"}"#),
        (-32600, "invalid_request".into())
    );
    assert_eq!(
        code(r#"{"jsonrpc":"2.0","id":1,"method":"nope"}"#),
        (-32601, "method_not_found".into())
    );
    assert_eq!(
        code(r#"{"jsonrpc":"2.0","id":1,"method":"getNonce","params":{"address":"0x12"}}"#),
        (-32602, "invalid_params".into())
    );
    assert_eq!(
        code(
            r#"{"jsonrpc":"2.0","id":1,"method":"getNonce","params":{"address":"0x12","extra":1}}"#
        )
        .0,
        -32602
    );
    assert_eq!(
        code(r#"{"jsonrpc":"2.0","id":1,"method":"getNetwork","params":7}"#).0,
        -32602
    );
    // A batch: responses in order, none for a notification.
    let (status, text) = post(
        &node,
        r#"[{"jsonrpc":"2.0","id":"a","method":"getNetwork"},{"jsonrpc":"2.0","method":"getNetwork"},{"jsonrpc":"2.0","id":2,"method":"nope"}]"#,
    );
    assert_eq!(status, 200);
    let batch: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(batch.as_array().unwrap().len(), 2);
    assert_eq!(batch[0]["id"], "a");
    assert_eq!(batch[1]["error"]["code"], -32601);
    // Only notifications: no content.
    assert_eq!(
        post(&node, r#"{"jsonrpc":"2.0","method":"getNetwork"}"#).0,
        204
    );
    // Over the batch limit.
    let four = format!(
        "[{}]",
        [r#"{"jsonrpc":"2.0","id":1,"method":"getNetwork"}"#; 4].join(",")
    );
    assert_eq!(code(&four), (-32600, "batch_too_large".into()));
    node.shutdown().unwrap();
}

#[test]
fn two_nodes_fed_the_same_transactions_agree_on_every_root() {
    let nodes = [
        dev_node("agree-wasmtime", |c| {
            c.backend = ward_vm::BackendKind::Wasmtime;
            c.block_time_ms = 3_600_000;
        }),
        dev_node("agree-wasmi", |c| {
            c.backend = ward_vm::BackendKind::Wasmi;
            c.block_time_ms = 3_600_000;
        }),
    ];
    let code = counter_code();
    let counter = ward_executor::contract_address(
        &devkeys::address(2),
        &Hash32(ward_vm::CodeHash::of(&code).0),
        &[],
    );
    let blocks = [
        vec![raw(
            "ward-dev",
            2,
            0,
            Payload::Deploy(Deploy::new(code, vec![])),
        )],
        vec![
            raw(
                "ward-dev",
                2,
                1,
                Payload::Call {
                    to: counter,
                    input: b"x".to_vec(),
                },
            ),
            raw(
                "ward-dev",
                3,
                0,
                Payload::Call {
                    to: counter,
                    input: b"revert".to_vec(),
                },
            ),
        ],
    ];
    let mut headers = Vec::new();
    for node in &nodes {
        for (height, block) in blocks.iter().enumerate() {
            // One batch per block; `mine` makes sure they land together.
            ok(
                node,
                "setNextBlockTime",
                json!({ "time": 1_000_000 + 1_000 * height as u64 }),
            );
            let mut requests: Vec<Value> = block
                .iter()
                .map(|tx| json!({ "jsonrpc": "2.0", "id": 1, "method": "sendRawTransaction", "params": { "tx": tx } }))
                .collect();
            requests.push(json!({ "jsonrpc": "2.0", "id": 2, "method": "mine" }));
            let (status, _) = post(node, &Value::Array(requests).to_string());
            assert_eq!(status, 200);
        }
        headers.push(ok(node, "getLatestBlock", json!({})));
    }
    assert_eq!(headers[0], headers[1]);
    assert_eq!(headers[0]["height"], 2);
    for node in nodes {
        node.shutdown().unwrap();
    }
}

#[test]
fn a_transaction_that_aborts_its_block_is_evicted_with_the_error() {
    // A 20 ms wall-clock backstop: a loop on 200 M gas runs past it, a
    // node fault that can never be a receipt.
    let node = dev_node("fault", |c| {
        c.tx_timeout = std::time::Duration::from_millis(20)
    });
    let spin = wat::parse_str(crate::SPIN).unwrap();
    let from = devkeys::address(0).to_string();
    let deployed = ok(
        &node,
        "sendTransaction",
        json!({ "from": from, "deploy": { "code": hex(&spin) }, "wait": true }),
    );
    let spin = deployed["address"].clone();
    let error = call(
        &node,
        "sendTransaction",
        json!({ "from": from, "call": { "to": spin }, "gas": 200_000_000, "wait": true }),
    )
    .unwrap_err();
    assert_eq!(error["data"]["kind"], "fault", "{error}");
    // Evicted, not retried: nothing pending, its nonce unused; its sender
    // is throttled (`limits::a_transaction_past_the_backstop…` has the
    // rest), and the node goes on with other senders' transactions.
    assert_eq!(
        ok(&node, "getNonce", json!({ "address": from })),
        json!({ "nonce": 1, "pending": 1, "applied_height": 1 })
    );
    let deploy = json!({ "from": from, "deploy": { "code": hex(&counter_code()) }, "wait": true });
    assert_eq!(error_kind(&node, "sendTransaction", deploy), "throttled");
    let other = devkeys::address(1).to_string();
    let next = ok(
        &node,
        "sendTransaction",
        json!({ "from": other, "deploy": { "code": hex(&counter_code()) }, "wait": true }),
    );
    assert_eq!(next["status"], "ok");
    let health: Value = serde_json::from_str(
        &agent()
            .get(format!("{}/health", node.url()))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(health["status"], "ok", "a timeout is not a storage fault");
    node.shutdown().unwrap();
}

#[test]
fn a_wasi_command_is_deployed_as_such_and_called_over_http() {
    let code = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/wasi-hello.wat"
    ))
    .unwrap();
    let code = hex(&wat::parse_str(code).unwrap());
    let from = devkeys::address(0).to_string();
    let mut outputs = Vec::new();
    for backend in both_backends() {
        let node = dev_node(&format!("wasi-{backend:?}"), |c| c.backend = backend);
        // As a Ward contract its WASI imports are refused: a receipt.
        let refused = ok(
            &node,
            "sendTransaction",
            json!({ "from": from, "deploy": { "code": code }, "wait": true }),
        );
        assert_eq!(refused["status"], "rejected", "{refused}");
        assert_eq!(refused["error"]["kind"], "unknown_import");
        let deployed = ok(
            &node,
            "sendTransaction",
            json!({ "from": from, "deploy": { "code": code, "kind": "wasi" }, "wait": true }),
        );
        assert_eq!(deployed["status"], "ok", "{deployed}");
        let at = deployed["address"].as_str().unwrap().to_string();
        let contract = ok(&node, "getContract", json!({ "address": at }));
        assert_eq!(contract["kind"], "wasi");
        let tx = ok(&node, "getTransaction", json!({ "tx": deployed["tx"] }));
        assert_eq!(tx["transaction"]["deploy"]["kind"], "wasi", "{tx}");
        let called = ok(
            &node,
            "sendTransaction",
            json!({ "from": from, "call": { "to": at, "input": hex(b"http") }, "wait": true }),
        );
        assert_eq!(called["status"], "ok", "{called}");
        assert_eq!(called["output"], hex(b"hello, http\n"));
        outputs.push((called["output"].clone(), called["gas_used"].clone()));
        // A kind that is no kind's name is an invalid parameter, before
        // any block.
        let bad = json!({ "from": from, "deploy": { "code": code, "kind": "EVM!" } });
        assert_eq!(error_kind(&node, "sendTransaction", bad), "invalid_params");
        // A runtime's name this chain has not registered (a dev chain
        // registers `evm` only) is a rejected deploy, which creates
        // nothing.
        let unknown = ok(
            &node,
            "sendTransaction",
            json!({ "from": from, "deploy": { "code": code, "kind": "stackvm" }, "wait": true }),
        );
        assert_eq!(unknown["status"], "rejected", "{unknown}");
        assert!(unknown["address"].is_null(), "{unknown}");
    }
    assert_eq!(outputs[0], outputs[1]);
}

/// `method`'s first page of one with `params`, then the page after it
/// (from the first's cursor).
fn two_pages(node: &Node, method: &str, mut params: Value) -> (Value, Value) {
    params["limit"] = json!(1);
    let first = ok(node, method, params.clone());
    params["cursor"] = first["cursor"].clone();
    (first, ok(node, method, params))
}
