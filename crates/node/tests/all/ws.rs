//! Subscriptions over WebSocket.

use std::{net::TcpStream, time::Duration};

use serde_json::{Value, json};
use tungstenite::{Message, WebSocket, stream::MaybeTlsStream};

use crate::*;
use ward_devkeys as devkeys;

type Socket = WebSocket<MaybeTlsStream<TcpStream>>;

fn connect(node: &Node) -> Socket {
    let (socket, _) = tungstenite::connect(format!("ws://{}/ws", node.addr())).unwrap();
    if let MaybeTlsStream::Plain(stream) = socket.get_ref() {
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
    }
    socket
}

fn request(socket: &mut Socket, id: u64, method: &str, params: Value) {
    let body = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
    socket.send(Message::text(body.to_string())).unwrap();
}

fn next(socket: &mut Socket) -> Value {
    loop {
        match socket.read().unwrap() {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn blocks_and_events_reach_subscribers() {
    let node = dev_node("ws", |c| c.limits.max_subscriptions = 2);
    let mut socket = connect(&node);
    request(&mut socket, 1, "subscribe", json!({ "topic": "blocks" }));
    let blocks = next(&mut socket)["result"].as_u64().unwrap();
    request(
        &mut socket,
        2,
        "subscribe",
        json!({ "topic": "events", "event_topic": format!("0x{}", ::hex::encode(b"set")) }),
    );
    let events = next(&mut socket)["result"].as_u64().unwrap();
    request(&mut socket, 3, "subscribe", json!({ "topic": "blocks" }));
    assert_eq!(next(&mut socket)["error"]["data"]["kind"], "limit");
    // A method over the socket.
    request(&mut socket, 4, "getNetwork", json!({}));
    assert_eq!(next(&mut socket)["result"]["chain_id"], "ward-dev");

    let from = devkeys::address(0).to_string();
    let deployed = ok(
        &node,
        "sendTransaction",
        json!({ "from": from, "deploy": { "code": format!("0x{}", ::hex::encode(counter_code())) }, "wait": true }),
    );
    let note = next(&mut socket);
    assert_eq!(note["method"], "subscription");
    assert_eq!(note["params"]["id"], blocks);
    assert_eq!(note["params"]["result"]["height"], 1);
    ok(
        &node,
        "sendTransaction",
        json!({ "from": from, "call": { "to": deployed["address"], "input": "0x0102" }, "wait": true }),
    );
    let mut seen = Vec::new();
    for _ in 0..2 {
        let note = next(&mut socket);
        seen.push((
            note["params"]["id"].as_u64().unwrap(),
            note["params"]["result"].clone(),
        ));
    }
    let event = seen.iter().find(|(id, _)| *id == events).unwrap();
    assert_eq!(event.1["data"], "0x0102");
    assert_eq!(event.1["contract"], deployed["address"]);
    assert_eq!(event.1["height"], 2);
    // Unsubscribed: only the events subscription is left.
    request(&mut socket, 5, "unsubscribe", json!({ "id": blocks }));
    assert_eq!(next(&mut socket)["result"], true);
    ok(
        &node,
        "sendTransaction",
        json!({ "from": from, "call": { "to": deployed["address"], "input": "0x03" }, "wait": true }),
    );
    let note = next(&mut socket);
    assert_eq!(note["params"]["id"], events);
    assert_eq!(note["params"]["result"]["data"], "0x03");
    node.shutdown().unwrap();
}

#[test]
fn a_subscriber_that_does_not_read_is_dropped() {
    let node = dev_node("ws-slow", |c| {
        c.limits.ws_queue = 2;
        c.limits.ws_send_timeout = Duration::from_millis(200);
    });
    let mut socket = connect(&node);
    request(&mut socket, 1, "subscribe", json!({ "topic": "events" }));
    assert_eq!(next(&mut socket)["result"], 1);
    let from = devkeys::address(0).to_string();
    let deployed = ok(
        &node,
        "sendTransaction",
        json!({ "from": from, "deploy": { "code": format!("0x{}", ::hex::encode(counter_code())) }, "wait": true }),
    );
    // 300 events of 60 KB (120 KB of hex each, 36 MB in all): far more
    // than the sockets' buffers hold (a few MB) while the client reads
    // nothing.
    let input = format!("0x{}", "ab".repeat(60_000));
    let count = 300;
    for i in 0..count {
        let last = i + 1 == count;
        let receipt = ok(
            &node,
            "sendTransaction",
            json!({ "from": from, "call": { "to": deployed["address"], "input": input }, "gas": 5_000_000, "wait": last }),
        );
        if last {
            assert_eq!(receipt["status"], "ok", "{receipt}");
        }
    }
    let mut events = 0;
    let closed = loop {
        match socket.read() {
            Ok(Message::Text(_)) => events += 1,
            Ok(Message::Close(frame)) => break frame.map(|f| f.reason.to_string()),
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                panic!("the connection is still open after {events} events");
            }
            Err(_) => break None,
        }
    };
    assert!(events < count, "every notification was delivered: {events}");
    if let Some(reason) = closed {
        assert!(reason.contains("slow"), "{reason}");
    }
    // The node carries on.
    assert_eq!(
        ok(&node, "getNonce", json!({ "address": from }))["nonce"],
        count + 1
    );
    node.shutdown().unwrap();
}

#[test]
fn a_reply_over_the_response_bound_is_an_error_over_websocket_too() {
    let node = dev_node("ws-bound", |c| c.limits.max_response_bytes = 1 << 20);
    let input = vec![0x5a_u8; 600_000]; // 1.2 MB as hex
    let sent = ok(
        &node,
        "sendTransaction",
        json!({
            "from": devkeys::address(0).to_string(),
            "call": { "to": ward_primitives::Address([3; 32]).to_string(), "input": format!("0x{}", ::hex::encode(&input)) },
            "gas": 50_000_000,
            "wait": true
        }),
    );
    let mut socket = connect(&node);
    request(
        &mut socket,
        1,
        "getTransaction",
        json!({ "tx": sent["tx"], "full_input": true }),
    );
    let reply = next(&mut socket);
    assert_eq!(reply["id"], 1);
    assert_eq!(
        reply["error"]["data"]["kind"], "response_too_large",
        "{reply}"
    );
    // Without the payload it fits, on the same connection.
    request(
        &mut socket,
        2,
        "getTransaction",
        json!({ "tx": sent["tx"] }),
    );
    let reply = next(&mut socket);
    assert_eq!(
        reply["result"]["transaction"]["call"]["input_size"],
        600_000
    );
    node.shutdown().unwrap();
}
