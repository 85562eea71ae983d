//! JSON-RPC over WebSocket at `/ws`: every method, plus `subscribe`
//! (`{"topic": "blocks"}` or `{"topic": "events", "contract"?,
//! "event_topic"?}`) and `unsubscribe` (`{"id"}`). Notifications are
//! `{"jsonrpc": "2.0", "method": "subscription", "params": {"id",
//! "result"}}`.
//!
//! Nothing is buffered without bound: blocks reach a connection through a
//! bounded broadcast queue, replies through a bounded channel, and a send
//! that does not complete in time, or a connection that falls behind the
//! queue, drops the connection (closed with a reason).

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use serde_json::{Value, json};
use tokio::sync::{broadcast::error::RecvError, mpsc, watch};
use ward_executor::Block;
use ward_primitives::Address;

use crate::{
    json::{self, unhex, unhex32},
    rpc::{self, RpcError},
    state::Shared,
};

/// What a subscription listens to.
enum Topic {
    Blocks,
    Events {
        contract: Option<Address>,
        topic: Option<Vec<u8>>,
    },
}

pub(crate) async fn serve(socket: WebSocket, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut socket = socket;
    let mut blocks = shared.blocks.subscribe();
    let limits = shared.config.limits.clone();
    let (replies, mut queued) = mpsc::channel::<Value>(limits.ws_queue);
    let mut subscriptions: BTreeMap<u64, Topic> = BTreeMap::new();
    let mut next_id = 1u64;
    let timeout = limits.ws_send_timeout;
    let close = loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break None,
                Some(Ok(Message::Text(text))) => {
                    let reply = request(
                        &shared, &replies, &mut subscriptions, &mut next_id, text.as_str(),
                    );
                    if let Some(reply) = reply
                        && !send(&mut socket, &reply, timeout).await
                    {
                        break None;
                    }
                }
                Some(Ok(Message::Binary(_))) => {
                    let reply = rpc::response(
                        Value::Null,
                        Err(RpcError::invalid_request("invalid_request", "requests are text frames")),
                    );
                    if !send(&mut socket, &reply, timeout).await {
                        break None;
                    }
                }
                Some(Ok(_)) => {}
            },
            Some(reply) = queued.recv() => {
                let text = rpc::bounded(&reply, limits.max_response_bytes);
                if !send_text(&mut socket, text, timeout).await {
                    break None;
                }
            }
            block = blocks.recv() => match block {
                Ok(block) => {
                    let mut slow = false;
                    for note in notifications(&subscriptions, &block) {
                        if !send(&mut socket, &note, timeout).await {
                            slow = true;
                            break;
                        }
                    }
                    if slow {
                        break Some("slow subscriber: a send timed out");
                    }
                }
                Err(RecvError::Lagged(_)) => break Some("slow subscriber: fell behind the block queue"),
                Err(RecvError::Closed) => break Some("the node is shutting down"),
            },
            _ = stop.changed() => break Some("the node is shutting down"),
        }
    };
    if let Some(reason) = close {
        let frame = CloseFrame {
            code: 1008,
            reason: Utf8Bytes::from(reason),
        };
        let _ = tokio::time::timeout(timeout, socket.send(Message::Close(Some(frame)))).await;
    }
}

/// Sends within `timeout`; false when the connection is done.
async fn send(socket: &mut WebSocket, value: &Value, timeout: Duration) -> bool {
    send_text(socket, value.to_string(), timeout).await
}

/// Sends `text` within `timeout`; false when the connection is done.
async fn send_text(socket: &mut WebSocket, text: String, timeout: Duration) -> bool {
    let message = Message::Text(Utf8Bytes::from(text));
    matches!(
        tokio::time::timeout(timeout, socket.send(message)).await,
        Ok(Ok(()))
    )
}

/// Handles one text frame: a subscription change answered at once, or a
/// method call answered later through `replies`.
fn request(
    shared: &Arc<Shared>,
    replies: &mpsc::Sender<Value>,
    subscriptions: &mut BTreeMap<u64, Topic>,
    next_id: &mut u64,
    text: &str,
) -> Option<Value> {
    let limits = &shared.config.limits;
    if text.len() > limits.max_body_bytes
        || rpc::json_depth_exceeds(text.as_bytes(), limits.max_json_depth)
    {
        return Some(rpc::response(
            Value::Null,
            Err(RpcError::invalid_request(
                "too_deep",
                "request too large or too deep",
            )),
        ));
    }
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => {
            return Some(rpc::response(
                Value::Null,
                Err(RpcError::parse(e.to_string())),
            ));
        }
    };
    let method = value
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if method == "subscribe" || method == "unsubscribe" {
        let request = match rpc::request(value) {
            Ok(request) => request,
            Err(invalid) => {
                let (id, error) = *invalid;
                return Some(rpc::response(id, Err(error)));
            }
        };
        let result = if method == "subscribe" {
            subscribe(shared, subscriptions, next_id, &request.params)
        } else {
            unsubscribe(subscriptions, &request.params)
        };
        return request.id.map(|id| rpc::response(id, result));
    }
    if value.is_array() {
        return Some(rpc::response(
            Value::Null,
            Err(RpcError::invalid_request(
                "invalid_request",
                "send batches over HTTP",
            )),
        ));
    }
    // A method call runs on its own, so that a `wait` does not hold up
    // notifications; a full reply queue drops the reply's connection.
    let shared = shared.clone();
    let replies = replies.clone();
    let deadline =
        tokio::time::Instant::now() + rpc::wait_budget(shared.config.limits.request_timeout);
    tokio::spawn(async move {
        if let Some(reply) = rpc::one(&shared, value, deadline).await {
            let _ = replies.try_send(reply);
        }
    });
    None
}

fn subscribe(
    shared: &Shared,
    subscriptions: &mut BTreeMap<u64, Topic>,
    next_id: &mut u64,
    params: &serde_json::Map<String, Value>,
) -> Result<Value, RpcError> {
    let max = shared.config.limits.max_subscriptions;
    if subscriptions.len() >= max {
        return Err(RpcError::invalid_request(
            "limit",
            format!("at most {max} subscriptions per connection"),
        ));
    }
    let string = |name: &str| -> Result<Option<&str>, RpcError> {
        match params.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(RpcError::invalid_request(
                "invalid_params",
                format!("{name:?} must be a string"),
            )),
        }
    };
    let bad = |m: String| RpcError::invalid_request("invalid_params", m);
    let topic = match string("topic")? {
        Some("blocks") => Topic::Blocks,
        Some("events") => Topic::Events {
            contract: string("contract")?
                .map(|c| unhex32(c).map(Address).map_err(&bad))
                .transpose()?,
            topic: string("event_topic")?
                .map(|t| unhex(t).map_err(&bad))
                .transpose()?,
        },
        _ => return Err(bad("\"topic\" is \"blocks\" or \"events\"".into())),
    };
    if let Some(name) = params
        .keys()
        .find(|k| !["topic", "contract", "event_topic"].contains(&k.as_str()))
    {
        return Err(bad(format!("unknown field {name:?}")));
    }
    let id = *next_id;
    *next_id += 1;
    subscriptions.insert(id, topic);
    Ok(json!(id))
}

fn unsubscribe(
    subscriptions: &mut BTreeMap<u64, Topic>,
    params: &serde_json::Map<String, Value>,
) -> Result<Value, RpcError> {
    let id = params
        .get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| RpcError::invalid_request("invalid_params", "\"id\" is required"))?;
    Ok(json!(subscriptions.remove(&id).is_some()))
}

fn notification(id: u64, result: Value) -> Value {
    json!({
        "jsonrpc": "2.0",
        "method": "subscription",
        "params": { "id": id, "result": result },
    })
}

/// What `block` means to each subscription.
fn notifications(subscriptions: &BTreeMap<u64, Topic>, block: &Block) -> Vec<Value> {
    let mut out = Vec::new();
    for (id, topic) in subscriptions {
        match topic {
            Topic::Blocks => out.push(notification(*id, json::block(&block.record))),
            Topic::Events { contract, topic } => {
                for receipt in &block.receipts {
                    for (index, event) in receipt.events.iter().enumerate() {
                        if contract.is_some_and(|c| c != event.contract)
                            || topic.as_ref().is_some_and(|t| *t != event.topic)
                        {
                            continue;
                        }
                        let mut result = json::event(event);
                        result["height"] = json!(receipt.height);
                        result["tx"] = json!(receipt.tx.to_string());
                        result["index"] = json!(index);
                        out.push(notification(*id, result));
                    }
                }
            }
        }
    }
    out
}
