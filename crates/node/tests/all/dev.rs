//! A dev node's controls over HTTP (docs/node.md, "Dev mode"): snapshot
//! and revert, impersonation, state set directly, several blocks at once;
//! each refused on a node without `--dev`.

use serde_json::{Value, json};
use ward_devkeys as devkeys;
use ward_node::NodeConfig;
use ward_primitives::Address;

use crate::{
    PATIENCE, both_backends, bump_with, call, counter_code, counter_count as count, dev_node,
    error_kind, eventually, ok, temp_dir,
};

/// What a call of the test counter sends, from dev account 0.
fn bump(node: &ward_node::Node, counter: &Value) -> Value {
    bump_with(node, counter, "0x")
}

fn deploy_counter(node: &ward_node::Node) -> Value {
    let code = format!("0x{}", hex::encode(counter_code()));
    ok(
        node,
        "sendTransaction",
        json!({ "from": devkeys::address(0).to_string(), "deploy": { "code": code }, "gas": 100_000_000, "wait": true }),
    )["address"]
        .clone()
}

fn height(node: &ward_node::Node) -> u64 {
    ok(node, "getLatestBlock", json!({}))["height"]
        .as_u64()
        .unwrap()
}

fn state_root(node: &ward_node::Node, height: u64) -> Value {
    ok(node, "getBlock", json!({ "height": height }))["state_root"].clone()
}

#[test]
fn revert_puts_the_whole_chain_back_to_a_snapshot() {
    let mut roots = Vec::new();
    for backend in both_backends() {
        let node = dev_node(&format!("revert-{}", backend.as_str()), |c| {
            c.backend = backend;
        });
        let counter = deploy_counter(&node);
        bump(&node, &counter);
        let first = ok(&node, "snapshot", json!({}));
        let at_first = height(&node);
        assert_eq!(first["height"], at_first);
        let next = bump(&node, &counter);
        let root_after_next = state_root(&node, next["height"].as_u64().unwrap());
        bump(&node, &counter);
        let bob = Address([0xb0; 32]).to_string();
        ok(
            &node,
            "setBalance",
            json!({ "address": bob, "balance": "77" }),
        );
        let second = ok(&node, "snapshot", json!({}));
        assert!(second["id"].as_u64() > first["id"].as_u64());
        bump(&node, &counter);
        assert_eq!(count(&node, &counter), 4);

        // Back to the second: the balance set before it stays.
        let back = ok(&node, "revert", json!({ "id": second["id"] }));
        assert_eq!(back["height"], second["height"]);
        assert_eq!(count(&node, &counter), 3);
        assert_eq!(
            ok(&node, "getBalance", json!({ "address": bob }))["balance"],
            "77"
        );
        // A transaction waiting behind a nonce gap is dropped by a revert.
        let gapped = ok(
            &node,
            "sendTransaction",
            json!({ "from": devkeys::address(1).to_string(), "call": { "to": counter, "input": "0x" }, "nonce": 5 }),
        );
        assert_eq!(
            ok(&node, "getTransaction", json!({ "tx": gapped["tx"] }))["status"],
            "pending"
        );

        // Back to the first: what came after is gone, blocks included,
        // and the second snapshot with it.
        let back = ok(&node, "revert", json!({ "id": first["id"] }));
        assert_eq!(back["height"], at_first);
        assert_eq!(height(&node), at_first);
        assert_eq!(count(&node, &counter), 1);
        assert_eq!(
            ok(&node, "getBalance", json!({ "address": bob }))["balance"],
            "0"
        );
        assert_eq!(
            error_kind(&node, "getBlock", json!({ "height": at_first + 1 })),
            "not_found"
        );
        assert_eq!(
            error_kind(&node, "getTransaction", json!({ "tx": gapped["tx"] })),
            "not_found"
        );
        assert_eq!(
            error_kind(&node, "revert", json!({ "id": second["id"] })),
            "not_found"
        );
        assert_eq!(
            error_kind(&node, "revert", json!({ "id": first["id"] })),
            "not_found",
            "a revert uses up its snapshot"
        );
        assert_eq!(crate::dev_nonce(&node, 0), 2);

        // The chain goes on from there, past where it had been: the same
        // calls make the same states as on a chain that never went back
        // (the state tree, and what the node keeps of it, went back too).
        let again = bump(&node, &counter);
        assert_eq!(again["height"], next["height"]);
        assert_eq!(
            state_root(&node, again["height"].as_u64().unwrap()),
            root_after_next
        );
        for _ in 0..5 {
            bump(&node, &counter);
        }
        assert_eq!(count(&node, &counter), 7);
        let reference = dev_node(&format!("reference-{}", backend.as_str()), |c| {
            c.backend = backend;
        });
        let same = deploy_counter(&reference);
        assert_eq!(same, counter);
        for _ in 0..7 {
            bump(&reference, &same);
        }
        assert_eq!(height(&reference), height(&node));
        for h in 1..=height(&node) {
            assert_eq!(state_root(&reference, h), state_root(&node, h), "block {h}");
        }
        reference.shutdown().unwrap();
        roots.push(root_after_next);

        // A snapshot outlives a restart.
        let kept = ok(&node, "snapshot", json!({}));
        bump(&node, &counter);
        node.shutdown().unwrap();
        let mut config = NodeConfig::new(crate::data_dir(&format!("revert-{}", backend.as_str())));
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.dev = true;
        config.backend = backend;
        let node = ward_node::Node::start(config).unwrap();
        assert_eq!(count(&node, &counter), 8);
        ok(&node, "revert", json!({ "id": kept["id"] }));
        assert_eq!(count(&node, &counter), 7);
        node.shutdown().unwrap();
    }
    assert_eq!(roots[0], roots[1], "both backends");
}

#[test]
fn an_impersonated_address_sends_without_its_key() {
    let node = dev_node("impersonate", |_| {});
    let counter = deploy_counter(&node);
    let bob = Address([0xb0; 32]).to_string();
    let send = |from: &str| {
        call(
            &node,
            "sendTransaction",
            json!({ "from": from, "call": { "to": counter, "input": "0x68" }, "wait": true }),
        )
    };
    assert_eq!(send(&bob).unwrap_err()["data"]["kind"], "invalid_params");

    let on = ok(&node, "impersonate", json!({ "address": bob }));
    assert_eq!(
        on,
        json!({ "address": bob, "impersonated": true, "applied_height": height(&node) })
    );
    let receipt = send(&bob).unwrap();
    assert_eq!(receipt["status"], "ok");
    assert_eq!(count(&node, &counter), 1);
    assert_eq!(ok(&node, "getNonce", json!({ "address": bob }))["nonce"], 1);
    // Its record says who sent it, and that nobody signed it.
    let stored = ok(&node, "getTransaction", json!({ "tx": receipt["tx"] }));
    assert_eq!(stored["transaction"]["from"], bob);
    assert_eq!(stored["transaction"]["impersonated"], true);
    assert_eq!(stored["transaction"]["signed"], false);
    // It replays as it ran.
    let trace = ok(&node, "traceTransaction", json!({ "tx": receipt["tx"] }));
    assert_eq!(trace["receipt"]["gas_used"], receipt["gas_used"]);
    // Its nonce counts: a second one follows.
    assert_eq!(send(&bob).unwrap()["status"], "ok");
    assert_eq!(ok(&node, "getNonce", json!({ "address": bob }))["nonce"], 2);

    let off = ok(&node, "stopImpersonating", json!({ "address": bob }));
    assert_eq!(off["impersonated"], false);
    assert_eq!(send(&bob).unwrap_err()["data"]["kind"], "invalid_params");
    node.shutdown().unwrap();
}

#[test]
fn state_and_code_are_set_directly_and_blocks_mined_in_numbers() {
    let node = dev_node("set-state", |_| {});
    let counter = deploy_counter(&node);
    let before = height(&node);

    // setStorage: the next call counts on from the value set.
    let block = ok(
        &node,
        "setStorage",
        json!({ "address": counter, "key": "0x6e", "value": format!("0x{}", hex::encode(41u64.to_le_bytes())) }),
    );
    assert_eq!(block["height"], before + 1);
    assert_eq!(count(&node, &counter), 41);
    let output = bump(&node, &counter)["output"].clone();
    assert_eq!(output, format!("0x{}", hex::encode(42u64.to_le_bytes())));
    ok(
        &node,
        "setStorage",
        json!({ "address": counter, "key": "0x6e", "value": null }),
    );
    assert_eq!(count(&node, &counter), 0);
    let nowhere = Address([0x99; 32]).to_string();
    for (method, params, kind) in [
        (
            "setStorage",
            json!({ "address": nowhere, "key": "0x6e", "value": null }),
            "not_found",
        ),
        (
            "setStorage",
            json!({ "address": counter, "key": "0x6e" }),
            "invalid_params",
        ),
        (
            "setStorage",
            json!({ "address": counter, "key": format!("0x{}", "00".repeat(257)), "value": null }),
            "invalid_params",
        ),
        (
            "setCode",
            json!({ "address": nowhere, "code": "0x0061736d01000000" }),
            "not_found",
        ),
        (
            "setCode",
            json!({ "address": counter, "code": "0x00010203" }),
            "invalid",
        ),
        ("mine", json!({ "blocks": 0 }), "invalid_params"),
        (
            "mine",
            json!({ "blocks": ward_node::MAX_MINE_BLOCKS + 1 }),
            "invalid_params",
        ),
    ] {
        assert_eq!(
            error_kind(&node, method, params.clone()),
            kind,
            "{method} {params}"
        );
    }

    // setCode: new code at the same address over the same storage.
    let fixed = wat::parse_str(
        r#"(module
          (import "ward" "output_write" (func $out (param i32 i32)))
          (memory (export "memory") 1)
          (data (i32.const 0) "v2")
          (func (export "main") (call $out (i32.const 0) (i32.const 2))))"#,
    )
    .unwrap();
    let old_hash = ok(&node, "getContract", json!({ "address": counter }))["code_hash"].clone();
    ok(
        &node,
        "setCode",
        json!({ "address": counter, "code": format!("0x{}", hex::encode(&fixed)) }),
    );
    let contract = ok(&node, "getContract", json!({ "address": counter }));
    assert_ne!(contract["code_hash"], old_hash);
    assert_eq!(bump(&node, &counter)["output"], "0x7632");

    // mine {blocks}: that many blocks, the last one returned.
    let at = height(&node);
    let last = ok(&node, "mine", json!({ "blocks": 5 }));
    assert_eq!(last["height"], at + 5);
    assert_eq!(height(&node), at + 5);
    node.shutdown().unwrap();
}

#[test]
fn every_dev_control_is_refused_without_dev() {
    let plain = dev_node("not-dev", |c| {
        c.dev = false;
        c.genesis = Some(ward_node::Genesis::dev(&c.chain_id));
    });
    let someone = Address([0xb0; 32]).to_string();
    let calls = [
        (
            "sendTransaction",
            json!({ "from": someone, "call": { "to": someone } }),
        ),
        ("mine", json!({ "blocks": 2 })),
        ("setNextBlockTime", json!({ "time": 1 })),
        ("setBalance", json!({ "address": someone, "balance": "1" })),
        (
            "setStorage",
            json!({ "address": someone, "key": "0x00", "value": null }),
        ),
        ("setCode", json!({ "address": someone, "code": "0x00" })),
        ("impersonate", json!({ "address": someone })),
        ("stopImpersonating", json!({ "address": someone })),
        ("snapshot", json!({})),
        ("revert", json!({ "id": 1 })),
    ];
    let named: Vec<&str> = calls.iter().map(|(method, _)| *method).collect();
    assert_eq!(named, ward_node::DEV_METHODS, "every dev method is tried");
    for method in ward_node::DEV_METHODS {
        assert!(
            ward_node::METHODS.contains(method),
            "METHODS lists {method}"
        );
    }
    for (method, params) in calls {
        assert_eq!(error_kind(&plain, method, params), "dev_only", "{method}");
    }
    assert_eq!(
        ok(&plain, "getNetwork", json!({}))["height"],
        0,
        "nothing was mined"
    );
    plain.shutdown().unwrap();
    let _ = std::fs::remove_dir_all(temp_dir("not-dev"));
}

/// A `mine` of many blocks whose client went away stops: the node does not
/// go on building blocks nobody waits for.
#[test]
fn a_long_mine_stops_when_its_client_goes_away() {
    use std::io::Write;
    let node = dev_node("dev-mine-gone", |_| {});
    ok(&node, "mine", json!({}));
    let start = height(&node);
    let blocks = ward_node::MAX_MINE_BLOCKS;
    let body =
        json!({ "jsonrpc": "2.0", "id": 1, "method": "mine", "params": { "blocks": blocks } })
            .to_string();
    let mut stream = std::net::TcpStream::connect(node.addr()).unwrap();
    write!(
        stream,
        "POST /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    eventually("the first block of the mine", PATIENCE, || {
        height(&node) > start
    });
    drop(stream);
    // The height settles (the same a second later) below the asked-for
    // end: the mine stopped.
    let mut last = height(&node);
    eventually("the mine stops", PATIENCE, || {
        std::thread::sleep(std::time::Duration::from_secs(1));
        let now = height(&node);
        std::mem::replace(&mut last, now) == now
    });
    assert!(
        last < start + blocks,
        "{} of {blocks} blocks were mined for a client that went away",
        last - start
    );
    node.shutdown().unwrap();
}
