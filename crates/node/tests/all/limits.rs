//! Each limit on untrusted clients, one by one.

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::Duration,
};

use serde_json::{Value, json};

use crate::*;

/// Sends raw bytes on a new connection and reads what comes back until the
/// server closes it or `wait` passes.
fn exchange(node: &Node, bytes: &[u8], wait: Duration) -> String {
    let mut stream = TcpStream::connect(node.addr()).unwrap();
    stream.set_read_timeout(Some(wait)).unwrap();
    let _ = stream.write_all(bytes);
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn bodies_depth_time_and_gas_are_bounded() {
    let node = dev_node("limits", |c| {
        c.limits.max_body_bytes = 1024;
        c.limits.max_json_depth = 4;
        c.limits.request_timeout = Duration::from_millis(500);
        c.limits.query_gas_cap = 1_000;
    });
    // Over the body limit: 413, and the node goes on.
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"getNetwork","params":{{"x":"{}"}}}}"#,
        "a".repeat(2000)
    );
    assert_eq!(post(&node, &big).0, 413);
    // Too deep: a JSON-RPC error before parsing.
    let (status, text) = post(
        &node,
        r#"{"jsonrpc":"2.0","id":1,"method":"getNetwork","params":{"a":[[[[1]]]]}}"#,
    );
    assert_eq!(status, 200);
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["error"]["data"]["kind"], "too_deep");
    // Depth inside strings does not count.
    assert_eq!(
        post(
            &node,
            r#"{"jsonrpc":"2.0","id":1,"method":"getNetwork","params":{"s":"[[[[[[["}}"#
        )
        .0,
        200
    );
    // A body that never finishes: 408 once the request's time is up.
    let stalled = exchange(
        &node,
        b"POST /rpc HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{",
        Duration::from_secs(10),
    );
    assert!(stalled.starts_with("HTTP/1.1 408"), "{stalled}");
    // Garbage instead of HTTP: a 400 and a closed connection, never a hang.
    let garbage = exchange(
        &node,
        b"\x16\x03\x01garbage\r\n\r\n",
        Duration::from_secs(10),
    );
    assert!(
        garbage.is_empty() || garbage.starts_with("HTTP/1.1 400"),
        "{garbage}"
    );
    // A query over the gas cap.
    assert_eq!(
        error_kind(
            &node,
            "query",
            json!({ "to": ward_primitives::Address([1; 32]).to_string(), "gas": 2_000 })
        ),
        "invalid_params"
    );
    assert_eq!(ok(&node, "getNetwork", json!({}))["height"], 0);
    node.shutdown().unwrap();
}

#[test]
fn connections_over_the_limit_are_closed_at_once() {
    let node = dev_node("connections", |c| c.limits.max_connections = 2);
    let idle: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(node.addr()).unwrap())
        .collect();
    // Give the server a moment to accept both.
    std::thread::sleep(Duration::from_millis(200));
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"getNetwork"}"#;
    let request = format!(
        "POST /rpc HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let request = request.as_bytes();
    let refused = exchange(&node, request, Duration::from_secs(5));
    assert!(refused.is_empty(), "served over the limit: {refused}");
    drop(idle);
    // Once they close, a client is served again.
    let mut served = false;
    for _ in 0..50 {
        if exchange(&node, request, Duration::from_secs(5)).starts_with("HTTP/1.1 200") {
            served = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(served);
    node.shutdown().unwrap();
}

#[test]
fn only_loopback_unless_allowed() {
    let mut config = NodeConfig::new(temp_dir("remote"));
    config.listen = "0.0.0.0:0".parse().unwrap();
    let refused = Node::start(config.clone());
    assert!(matches!(refused, Err(ward_node::NodeError::Config(_))));
    config.chain_id = "no spaces".into();
    config.listen = "127.0.0.1:0".parse().unwrap();
    assert!(matches!(
        Node::start(config),
        Err(ward_node::NodeError::Config(_))
    ));
}

#[test]
fn a_directory_of_another_chain_is_refused_and_state_survives_a_restart() {
    let dir = temp_dir("restart");
    let start = |chain: &str| {
        let mut config = NodeConfig::new(dir.clone());
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.dev = true;
        config.chain_id = chain.into();
        Node::start(config)
    };
    let node = start("ward-dev").unwrap();
    let receipt = ok(
        &node,
        "sendTransaction",
        json!({ "from": dev_address(0).to_string(), "deploy": { "code": format!("0x{}", ::hex::encode(counter_code())) }, "wait": true }),
    );
    let root = ok(&node, "getLatestBlock", json!({}))["state_root"].clone();
    node.shutdown().unwrap();
    assert!(matches!(
        start("another"),
        Err(ward_node::NodeError::Settings(_))
    ));
    let node = start("ward-dev").unwrap();
    assert_eq!(ok(&node, "getLatestBlock", json!({}))["state_root"], root);
    // The restarted node loads the contract from the disk cache under the
    // data directory instead of compiling it again.
    let called = ok(
        &node,
        "sendTransaction",
        json!({ "from": dev_address(0).to_string(), "call": { "to": receipt["address"] }, "wait": true }),
    );
    assert_eq!(called["status"], "ok");
    let metrics = agent()
        .get(format!("{}/metrics", node.url()))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(
        metrics.contains("ward_module_cache_disk_loads_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("ward_module_cache_misses_total 0"),
        "{metrics}"
    );
    assert_eq!(
        ok(&node, "getTransaction", json!({ "tx": receipt["tx"] }))["status"],
        "ok"
    );
    assert_eq!(
        ok(
            &node,
            "getNonce",
            json!({ "address": dev_address(0).to_string() })
        )["nonce"],
        2
    );
    node.shutdown().unwrap();
}
