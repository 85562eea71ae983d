//! Each limit on untrusted clients, one by one.

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::Duration,
};

use serde_json::{Value, json};

use crate::*;
use ward_devkeys as devkeys;

/// How long a test waits for an answer the node owes (a bound for a hung
/// node, far past what a loaded machine takes: an answer that is owed
/// comes sooner, and a connection the node closes ends at once).
const WAIT: Duration = Duration::from_secs(60);

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
        b"POST /rpc HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{",
        WAIT,
    );
    assert!(stalled.starts_with("HTTP/1.1 408"), "{stalled}");
    // Garbage instead of HTTP: a 400 and a closed connection, never a hang.
    let garbage = exchange(&node, b"\x16\x03\x01garbage\r\n\r\n", WAIT);
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

/// A request for `path` (`/rpc` with a `getNetwork` body, else a GET)
/// on a connection of its own that closes after the answer.
fn request(path: &str, headers: &str) -> String {
    if path == "/rpc" {
        let body = r#"{"jsonrpc":"2.0","id":1,"method":"getNetwork"}"#;
        format!(
            "POST /rpc HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n{headers}content-length: {}\r\n\r\n{body}",
            body.len()
        )
    } else {
        format!("GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n{headers}\r\n")
    }
}

const JSON: &str = "content-type: application/json\r\n";

#[test]
fn connections_over_the_limit_get_monitoring_slots_then_are_closed_at_once() {
    let node = dev_node("connections", |c| c.limits.max_connections = 2);
    let rpc = request("/rpc", JSON);
    let mut idle: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(node.addr()).unwrap())
        .collect();
    // Give the server a moment to accept both.
    std::thread::sleep(Duration::from_millis(200));
    // Past the limit, a connection takes a reserved slot: monitoring is
    // answered, anything else is refused.
    let health = exchange(&node, request("/health", "").as_bytes(), WAIT);
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let metrics = exchange(&node, request("/metrics", "").as_bytes(), WAIT);
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    let refused = exchange(&node, rpc.as_bytes(), WAIT);
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    // Once the reserved slots are held too, a connection is closed at once.
    idle.extend(
        (0..ward_node::RESERVED_CONNECTIONS).map(|_| TcpStream::connect(node.addr()).unwrap()),
    );
    std::thread::sleep(Duration::from_millis(200));
    let closed = exchange(&node, request("/health", "").as_bytes(), WAIT);
    assert!(closed.is_empty(), "served past every slot: {closed}");
    drop(idle);
    // Once they close, a client is served again.
    eventually("a client is served again", PATIENCE, || {
        exchange(&node, rpc.as_bytes(), WAIT).starts_with("HTTP/1.1 200")
    });
    node.shutdown().unwrap();
}

#[test]
fn idle_and_slow_connections_are_closed_after_the_header_timeout() {
    let node = dev_node("idle", |c| {
        c.limits.max_connections = 2;
        c.limits.header_timeout = Duration::from_millis(500);
    });
    // Two connections that send nothing, and one that sends a header byte
    // every 200 ms: every one is closed by the node, well before the
    // client would give up (read returns the end of the stream).
    let silent: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(node.addr()).unwrap())
        .collect();
    for mut stream in silent {
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut rest = Vec::new();
        assert!(
            stream.read_to_end(&mut rest).is_ok(),
            "an idle connection is closed"
        );
    }
    let mut slow = TcpStream::connect(node.addr()).unwrap();
    slow.set_read_timeout(Some(Duration::from_millis(10)))
        .unwrap();
    let mut closed = false;
    for byte in b"POST /rpc HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: "
        .iter()
        .cycle()
        .take(200)
    {
        let mut buf = [0u8; 64];
        if slow.write_all(&[*byte]).is_err() || matches!(slow.read(&mut buf), Ok(0)) {
            closed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(closed, "a connection dribbling its headers is closed");
    // Everyone else is served.
    let served = exchange(&node, request("/rpc", JSON).as_bytes(), WAIT);
    assert!(served.starts_with("HTTP/1.1 200"), "{served}");
    node.shutdown().unwrap();
}

#[test]
fn pages_of_other_origins_forms_and_rebound_hosts_are_refused() {
    let node = dev_node("origins", |c| {
        c.access.origins = vec!["https://wallet.example".into()];
        c.access.hosts = vec!["node.example".into()];
    });
    let status = |raw: String| {
        let answer = exchange(&node, raw.as_bytes(), WAIT);
        answer.get(9..12).unwrap_or("").to_string()
    };
    // What a page may send without a CORS preflight: refused.
    assert_eq!(
        status(request("/rpc", "content-type: text/plain\r\n")),
        "415"
    );
    assert_eq!(
        status(request(
            "/rpc",
            "content-type: application/x-www-form-urlencoded\r\n"
        )),
        "415"
    );
    assert_eq!(status(request("/rpc", "")), "415");
    // JSON with a charset is JSON.
    assert_eq!(
        status(request(
            "/rpc",
            "content-type: application/json; charset=utf-8\r\n"
        )),
        "200"
    );
    // Origins: loopback pages and listed ones may; others may not.
    for (origin, expected) in [
        ("http://evil.example", "403"),
        ("null", "403"),
        ("http://127.0.0.1:3000", "200"),
        ("http://localhost:8645", "200"),
        ("https://wallet.example", "200"),
    ] {
        let headers = format!("{JSON}origin: {origin}\r\n");
        assert_eq!(status(request("/rpc", &headers)), expected, "{origin}");
    }
    // Hosts: a name that is not listed (DNS rebinding) is refused on every
    // path; addresses, localhost and listed names are served.
    for (host, expected) in [
        ("rebind.evil.example:8645", "403"),
        ("localhost:8645", "200"),
        ("node.example", "200"),
        ("[::1]:8645", "200"),
    ] {
        let raw = request("/health", "").replace("host: 127.0.0.1", &format!("host: {host}"));
        assert_eq!(status(raw), expected, "{host}");
    }
    // A WebSocket from another origin is refused before the upgrade; from
    // loopback it upgrades.
    let upgrade = |origin: &str| {
        format!(
            "GET /ws HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\norigin: {origin}\r\n\r\n"
        )
    };
    let mut stream = TcpStream::connect(node.addr()).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream
        .write_all(upgrade("http://evil.example").as_bytes())
        .unwrap();
    let mut buf = [0u8; 512];
    let n = stream.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 403"));
    let mut stream = TcpStream::connect(node.addr()).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream
        .write_all(upgrade("http://127.0.0.1:8645").as_bytes())
        .unwrap();
    let n = stream.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 101"));
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
        // The contract's module alone in the disk cache's counts (no
        // EVM runtime, which a dev node would register and cache too).
        config.dev_runtimes = false;
        config.chain_id = chain.into();
        Node::start(config)
    };
    let node = start("ward-dev").unwrap();
    let receipt = ok(
        &node,
        "sendTransaction",
        json!({ "from": devkeys::address(0).to_string(), "deploy": { "code": format!("0x{}", ::hex::encode(counter_code())) }, "wait": true }),
    );
    let root = ok(&node, "getLatestBlock", json!({}))["state_root"].clone();
    node.shutdown().unwrap();
    assert!(matches!(
        start("another"),
        Err(ward_node::NodeError::Settings(_))
    ));
    // A directory that lost its store is refused, not taken for a new
    // chain; once the store is back, it serves as before.
    let store = dir.join(ward_state::DATABASE_FILE);
    let kept = dir.join("kept.redb");
    std::fs::rename(&store, &kept).unwrap();
    match start("ward-dev") {
        Err(ward_node::NodeError::Settings(why)) => {
            assert!(why.contains(ward_node::settings::CHAIN_FILE), "{why}");
        }
        other => panic!(
            "a directory without its store was served: {:?}",
            other.is_ok()
        ),
    }
    assert!(!store.exists(), "nothing was created in its place");
    std::fs::rename(&kept, &store).unwrap();
    let node = start("ward-dev").unwrap();
    assert_eq!(ok(&node, "getLatestBlock", json!({}))["state_root"], root);
    // The restarted node loads the contract from the disk cache under the
    // data directory instead of compiling it again.
    let called = ok(
        &node,
        "sendTransaction",
        json!({ "from": devkeys::address(0).to_string(), "call": { "to": receipt["address"] }, "wait": true }),
    );
    assert_eq!(called["status"], "ok");
    loaded_without_a_compile(&node);
    assert_eq!(
        ok(&node, "getTransaction", json!({ "tx": receipt["tx"] }))["status"],
        "ok"
    );
    assert_eq!(crate::dev_nonce(&node, 0), 2);
    node.shutdown().unwrap();
}

/// The node's one contract came from the disk cache: one load, no miss.
fn loaded_without_a_compile(node: &Node) {
    let metrics = crate::metrics(node);
    for line in [
        "ward_module_cache_disk_loads_total 1",
        "ward_module_cache_misses_total 0",
    ] {
        assert!(metrics.contains(line), "{line}: {metrics}");
    }
}

/// Two nodes on two data directories sharing one `--cache-dir`: a
/// contract the first compiled, the second loads from the disk without
/// compiling it, and neither data directory holds a cache of its own.
#[test]
fn nodes_sharing_a_cache_directory_compile_a_module_once() {
    let cache = temp_dir("shared-cache");
    let start = |name: &str| {
        let mut config = NodeConfig::new(temp_dir(name));
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.dev = true;
        // The contract's module alone in the cache's counts.
        config.dev_runtimes = false;
        config.cache_dir = Some(cache.clone());
        Node::start(config).unwrap()
    };
    let deploy = |node: &Node| {
        ok(
            node,
            "sendTransaction",
            json!({ "from": devkeys::address(0).to_string(), "deploy": { "code": format!("0x{}", ::hex::encode(counter_code())) }, "wait": true }),
        )
    };
    let first = start("shared-cache-a");
    assert_eq!(deploy(&first)["status"], "ok");
    let written = || {
        std::fs::read_dir(&cache)
            .map(|files| {
                files
                    .flatten()
                    .any(|f| f.path().extension().is_some_and(|e| e == "wmod"))
            })
            .unwrap_or(false)
    };
    // Written once wasmtime's compile (in the background) is done.
    eventually(
        "the first node's artifact in the shared cache",
        PATIENCE,
        written,
    );
    assert!(crate::metrics(&first).contains("ward_module_cache_misses_total 1"));
    first.shutdown().unwrap();

    let second = start("shared-cache-b");
    assert_eq!(deploy(&second)["status"], "ok");
    loaded_without_a_compile(&second);
    second.shutdown().unwrap();
    for name in ["shared-cache-a", "shared-cache-b"] {
        assert!(!data_dir(name).join("cache").exists(), "{name}");
    }
}

/// `key`'s call of `to` with all the gas a transaction may have, as
/// `sendRawTransaction` hex.
fn raw_call(key: u32, nonce: u64, to: Address) -> String {
    let payload = Payload::Call {
        to,
        input: Vec::new(),
    };
    let gas = ward_executor::ChainLimits::default().max_tx_gas;
    crate::raw_with_gas(ward_node::DEFAULT_CHAIN_ID, key, nonce, gas, payload)
}

#[test]
fn a_transaction_past_the_backstop_is_not_taken_again_and_its_sender_waits() {
    // A backstop far below what the loop's gas buys, to trip it.
    let node = dev_node("backstop", |c| c.tx_timeout = Duration::from_millis(2));
    let code = format!("0x{}", hex::encode(wat::parse_str(SPIN).unwrap()));
    let deployed = ok(
        &node,
        "sendTransaction",
        json!({ "from": devkeys::address(0).to_string(), "deploy": { "code": code }, "wait": true }),
    );
    let spin = Address(ward_node::json::unhex32(deployed["address"].as_str().unwrap()).unwrap());
    let tx = raw_call(1, 0, spin);
    let first = call(
        &node,
        "sendRawTransaction",
        json!({ "tx": tx, "wait": true }),
    );
    assert_eq!(first.unwrap_err()["data"]["kind"], "fault");
    // The same bytes again: refused before the mempool, for good.
    assert_eq!(
        error_kind(&node, "sendRawTransaction", json!({ "tx": tx })),
        "timed_out"
    );
    // Its sender's next transaction: throttled.
    assert_eq!(
        error_kind(
            &node,
            "sendRawTransaction",
            json!({ "tx": raw_call(1, 0, Address([7; 32])) })
        ),
        "throttled"
    );
    // Another sender is served.
    let other = raw(
        ward_node::DEFAULT_CHAIN_ID,
        2,
        0,
        Payload::Call {
            to: Address([7; 32]),
            input: vec![0],
        },
    );
    assert_eq!(
        ok(
            &node,
            "sendRawTransaction",
            json!({ "tx": other, "wait": true })
        )["status"],
        "rejected"
    );
    node.shutdown().unwrap();
}

#[test]
fn free_reads_have_their_own_gas_cap_and_time_budget() {
    let node = dev_node("reads", |c| {
        c.limits.query_gas_cap = 150_000_000;
        c.limits.read_timeout = Duration::from_millis(2);
    });
    let code = format!("0x{}", hex::encode(wat::parse_str(SPIN).unwrap()));
    let deployed = ok(
        &node,
        "sendTransaction",
        json!({ "from": devkeys::address(0).to_string(), "deploy": { "code": code }, "wait": true }),
    );
    let spin = deployed["address"].clone();
    // Within the cap, past the time budget: `timeout`, and the node goes on.
    assert_eq!(
        error_kind(&node, "query", json!({ "to": spin, "gas": 150_000_000 })),
        "timeout"
    );
    assert_eq!(
        error_kind(
            &node,
            "simulateTransaction",
            json!({ "from": devkeys::address(0).to_string(), "call": { "to": spin }, "gas": 150_000_000 })
        ),
        "timeout"
    );
    // Over the cap: refused before running, for queries and simulations.
    assert_eq!(
        error_kind(&node, "query", json!({ "to": spin, "gas": 150_000_001 })),
        "invalid_params"
    );
    assert_eq!(
        error_kind(
            &node,
            "simulateTransaction",
            json!({ "from": devkeys::address(0).to_string(), "call": { "to": spin }, "gas": 150_000_001 })
        ),
        "invalid_params"
    );
    assert_eq!(ok(&node, "getNetwork", json!({}))["height"], 1);
    node.shutdown().unwrap();
}

#[test]
fn large_transactions_are_read_back_in_bounded_answers() {
    let node = dev_node("large-reads", |c| c.limits.max_response_bytes = 4 << 20);
    // A call with 1 MB of input (to no contract: a receipt all the same).
    let input = vec![0x5a_u8; 1_000_000];
    let sent = ok(
        &node,
        "sendTransaction",
        json!({
            "from": devkeys::address(0).to_string(),
            "call": { "to": Address([3; 32]).to_string(), "input": format!("0x{}", hex::encode(&input)) },
            "gas": 50_000_000,
            "wait": true
        }),
    );
    let tx = sent["tx"].clone();
    // By default the input is left out, its size shown.
    let read = ok(&node, "getTransaction", json!({ "tx": tx }));
    assert_eq!(read["transaction"]["call"]["input"], Value::Null);
    assert_eq!(read["transaction"]["call"]["input_size"], 1_000_000);
    // Asked for, it comes whole.
    let full = ok(
        &node,
        "getTransaction",
        json!({ "tx": tx, "full_input": true }),
    );
    assert_eq!(
        full["transaction"]["call"]["input"].as_str().unwrap().len(),
        2 + 2 * input.len()
    );
    // A batch of ten full reads (20 MB of hex) stays within the bound: the
    // answers that do not fit are errors, in order, and the rest are whole.
    let batch: Vec<Value> = (0..10)
        .map(|i| json!({ "jsonrpc": "2.0", "id": i, "method": "getTransaction", "params": { "tx": tx, "full_input": true } }))
        .collect();
    let (status, text) = post(&node, &Value::Array(batch).to_string());
    assert_eq!(status, 200);
    assert!(text.len() <= 4 << 20, "{} bytes", text.len());
    let answers: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(answers.len(), 10);
    let kinds: Vec<&str> = answers
        .iter()
        .map(|a| a["error"]["data"]["kind"].as_str().unwrap_or("ok"))
        .collect();
    assert_eq!(kinds[0], "ok");
    assert_eq!(kinds[9], "response_too_large");
    let first_error = kinds.iter().position(|k| *k != "ok").unwrap();
    assert!(
        kinds[first_error..]
            .iter()
            .all(|k| *k == "response_too_large"),
        "{kinds:?}"
    );
    assert_eq!(answers[9]["id"], 9);
    // The same ten without full inputs fit easily.
    let batch: Vec<Value> = (0..10)
        .map(|i| json!({ "jsonrpc": "2.0", "id": i, "method": "getTransaction", "params": { "tx": tx } }))
        .collect();
    let (_, text) = post(&node, &Value::Array(batch).to_string());
    assert!(text.len() < 64 << 10, "{} bytes", text.len());
    node.shutdown().unwrap();
}
