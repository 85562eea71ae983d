//! JSON-RPC over WebSocket at `/ws`: every method, plus `subscribe`
//! (`{"topic": "blocks"}` or `{"topic": "events", "contract"?,
//! "event_topic"?}`) and `unsubscribe` (`{"id"}`). Notifications are
//! `{"jsonrpc": "2.0", "method": "subscription", "params": {"id",
//! "result"}}`. Ethereum's `eth_subscribe` (`["newHeads"]`, or `["logs",
//! filter]`) and `eth_unsubscribe` answer as geth does: hex ids, and
//! notifications `{"method": "eth_subscription", "params":
//! {"subscription", "result"}}` in Ethereum's shapes.
//!
//! Nothing is buffered without bound, and a client that does not read
//! costs the node little and not for long. A connection is two tasks: a
//! reader (requests, and blocks from a bounded broadcast queue) that never
//! waits on the client, and a writer that sends what the reader queued.
//! Every block's notifications are rendered once for all connections
//! ([`Announced`]); a connection queues shared pieces of them, counted by
//! the bytes they will take on the wire, within
//! [`crate::config::RpcLimits::ws_queue_bytes`] for the connection and
//! [`crate::config::RpcLimits::ws_total_bytes`] for all of them. A connection
//! over either bound (one with nothing queued may always take its next
//! message), one whose send does not complete in time, and one that falls
//! behind the block queue is dropped, closed with a reason, and what it
//! held is freed at once.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use alloy_rpc_types_eth::Filter;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt, stream::SplitSink};
use serde_json::{Value, json};
use tokio::sync::{broadcast::error::RecvError, mpsc, oneshot, watch};
use ward_primitives::Address;

use crate::{
    announce::Announced,
    api,
    error::RpcError,
    json::{unhex, unhex32},
    state::Shared,
};

/// What a subscription listens to.
enum Topic {
    Blocks,
    Events {
        contract: Option<Address>,
        topic: Option<Vec<u8>>,
    },
    /// `eth_subscribe` `newHeads`.
    EthHeads,
    /// `eth_subscribe` `logs`, with its filter.
    EthLogs(Box<Filter>),
}

/// One message waiting for the writer.
enum Outgoing {
    /// A notification: the subscription's id and its (shared) result.
    Note(u64, Arc<str>),
    /// An `eth_subscription` notification.
    EthNote(u64, Arc<str>),
    /// A reply, as text.
    Text(String),
}

/// What a notification's frame adds to its result, in bytes (its id
/// aside, counted at 20).
const NOTE_FRAME_BYTES: usize =
    r#"{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"","result":}}"#.len()
        + 20;

impl Outgoing {
    /// What it will take on the wire: what it counts for in the queues.
    fn size(&self) -> usize {
        match self {
            Outgoing::Note(_, result) | Outgoing::EthNote(_, result) => {
                result.len() + NOTE_FRAME_BYTES
            }
            Outgoing::Text(text) => text.len(),
        }
    }

    fn into_text(self) -> String {
        match self {
            // The keys in the order `serde_json` writes them (sorted), so
            // a notification reads as it did when built as a `Value`.
            Outgoing::Note(id, result) => format!(
                r#"{{"jsonrpc":"2.0","method":"subscription","params":{{"id":{id},"result":{result}}}}}"#
            ),
            Outgoing::EthNote(id, result) => format!(
                r#"{{"jsonrpc":"2.0","method":"eth_subscription","params":{{"subscription":"{id:#x}","result":{result}}}}}"#
            ),
            Outgoing::Text(text) => text,
        }
    }
}

/// A message in a connection's queue, counted in its bytes and the node's
/// until it is sent or dropped, whichever way that happens.
struct Counted {
    item: Option<Outgoing>,
    size: usize,
    mine: Arc<AtomicUsize>,
    all: Arc<AtomicUsize>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.mine.fetch_sub(self.size, Ordering::AcqRel);
        self.all.fetch_sub(self.size, Ordering::AcqRel);
    }
}

/// A connection's side of the queues: its own queued bytes, everyone's,
/// and the channel to its writer. Clones share them (a method's reply
/// is queued from its own task).
#[derive(Clone)]
struct Outbox {
    send: mpsc::UnboundedSender<Counted>,
    mine: Arc<AtomicUsize>,
    all: Arc<AtomicUsize>,
    max_mine: usize,
    max_all: usize,
    /// Set (once) when the connection must be dropped as too slow.
    slow: watch::Sender<Option<String>>,
}

impl Outbox {
    /// Queues `item`. A connection that would go over its own bound with
    /// something queued already, or over the node's with more than an
    /// eighth of its own bound queued (a client that reads keeps far
    /// less), is marked slow instead.
    fn push(&self, item: Outgoing) -> bool {
        let size = item.size();
        let before = self.mine.fetch_add(size, Ordering::AcqRel);
        let all = self.all.fetch_add(size, Ordering::AcqRel) + size;
        let counted = Counted {
            item: Some(item),
            size,
            mine: self.mine.clone(),
            all: self.all.clone(),
        };
        let over = (before > 0 && before + size > self.max_mine)
            || (before > self.max_mine / 8 && all > self.max_all);
        if over || self.send.send(counted).is_err() {
            if over {
                let why = if before + size > self.max_mine {
                    format!("slow subscriber: over {} bytes queued", self.max_mine)
                } else {
                    "slow subscriber: the node's WebSocket queues are full".to_owned()
                };
                self.slow.send_if_modified(|slow| {
                    let first = slow.is_none();
                    if first {
                        *slow = Some(why);
                    }
                    first
                });
            }
            return false;
        }
        true
    }
}

pub(crate) async fn serve(socket: WebSocket, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let (sink, mut stream) = socket.split();
    let mut blocks = shared.blocks().subscribe();
    let limits = shared.config().limits.clone();
    let (send, queued) = mpsc::unbounded_channel();
    let (slow, mut slow_watch) = watch::channel(None);
    let outbox = Outbox {
        send,
        mine: Arc::new(AtomicUsize::new(0)),
        all: shared.ws_queued().clone(),
        max_mine: limits.ws_queue_bytes,
        max_all: limits.ws_total_bytes,
        slow,
    };
    let (close, closing) = oneshot::channel();
    let mut writer = tokio::spawn(write(
        sink,
        queued,
        closing,
        limits.ws_send_timeout,
        limits.max_response_bytes,
    ));
    let mut subscriptions: BTreeMap<u64, Topic> = BTreeMap::new();
    let mut next_id = 1u64;
    let mut written = false;
    let reason: Option<String> = loop {
        tokio::select! {
            incoming = stream.next() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break None,
                Some(Ok(Message::Text(text))) => {
                    let reply = request(
                        &shared, &outbox, &mut subscriptions, &mut next_id, text.as_str(),
                    );
                    if let Some(reply) = reply {
                        outbox.push(Outgoing::Text(reply.to_string()));
                    }
                }
                Some(Ok(Message::Binary(_))) => {
                    let reply = api::response(
                        Value::Null,
                        Err(RpcError::invalid_request("invalid_request", "requests are text frames")),
                    );
                    outbox.push(Outgoing::Text(reply.to_string()));
                }
                Some(Ok(_)) => {}
            },
            block = blocks.recv() => match block {
                Ok(block) => notify(&shared, &outbox, &subscriptions, &block),
                Err(RecvError::Lagged(_)) => break Some("slow subscriber: fell behind the block queue".into()),
                Err(RecvError::Closed) => break Some("the node is shutting down".into()),
            },
            _ = slow_watch.changed() => break slow_watch.borrow().clone(),
            _ = &mut writer => {
                written = true;
                break None;
            }
            _ = stop.changed() => break Some("the node is shutting down".into()),
        }
    };
    // The writer sends the close frame (after what it is sending now, or
    // not at all if that send times out); what is queued is dropped, and
    // so leaves the counts.
    let _ = close.send(reason);
    drop(outbox);
    let grace = limits.ws_send_timeout.saturating_mul(2);
    if !written && tokio::time::timeout(grace, &mut writer).await.is_err() {
        writer.abort();
    }
}

/// Sends what the reader queued, each within `timeout`, until the
/// connection ends or the reader says to close (with a reason: a close
/// frame). Whatever is still queued then is counted out of the queues.
async fn write(
    mut sink: SplitSink<WebSocket, Message>,
    mut queued: mpsc::UnboundedReceiver<Counted>,
    mut closing: oneshot::Receiver<Option<String>>,
    timeout: Duration,
    room: usize,
) {
    let reason = loop {
        tokio::select! {
            biased;
            reason = &mut closing => break reason.ok().flatten(),
            counted = queued.recv() => {
                let Some(mut counted) = counted else { break None };
                let Some(item) = counted.item.take() else { continue };
                let text = match item {
                    // A reply longer than a response may be is an error
                    // for its id (as over HTTP).
                    Outgoing::Text(text) if text.len() > room => {
                        serde_json::from_str::<Value>(&text)
                            .map_or_else(|_| text, |answer| api::bounded(&answer, room))
                    }
                    item => item.into_text(),
                };
                let sent = tokio::time::timeout(timeout, sink.send(Message::Text(Utf8Bytes::from(text)))).await;
                // Counted until sent.
                drop(counted);
                if !matches!(sent, Ok(Ok(()))) {
                    break Some("slow subscriber: a send timed out".to_owned());
                }
            }
        }
    };
    // What is still queued is dropped, and leaves the counts.
    drop(queued);
    if let Some(reason) = reason {
        let frame = CloseFrame {
            code: 1008,
            reason: Utf8Bytes::from(reason),
        };
        let _ = tokio::time::timeout(timeout, sink.send(Message::Close(Some(frame)))).await;
    }
}

/// Queues what `block` means to each subscription, in order; stops at
/// the first that does not fit (the connection is then dropped).
fn notify(
    shared: &Shared,
    outbox: &Outbox,
    subscriptions: &BTreeMap<u64, Topic>,
    block: &Announced,
) {
    for (&id, topic) in subscriptions {
        match topic {
            Topic::EthHeads => {
                if !outbox.push(Outgoing::EthNote(
                    id,
                    block
                        .eth_header(|b| crate::api::eth::shape::head_notification(shared, b))
                        .clone(),
                )) {
                    return;
                }
            }
            Topic::EthLogs(filter) => {
                for log in block.eth_logs(crate::api::eth::shape::log_notifications) {
                    if filter.matches(&log.log)
                        && !outbox.push(Outgoing::EthNote(id, log.result.clone()))
                    {
                        return;
                    }
                }
            }
            Topic::Blocks => {
                if !outbox.push(Outgoing::Note(id, block.header().clone())) {
                    return;
                }
            }
            Topic::Events { contract, topic } => {
                for event in block.events() {
                    if contract.is_some_and(|c| c != event.contract)
                        || topic.as_ref().is_some_and(|t| *t != event.topic)
                    {
                        continue;
                    }
                    if !outbox.push(Outgoing::Note(id, event.result.clone())) {
                        return;
                    }
                }
            }
        }
    }
}

/// Handles one text frame: a subscription change answered at once, or a
/// method call answered later through `outbox`.
fn request(
    shared: &Arc<Shared>,
    outbox: &Outbox,
    subscriptions: &mut BTreeMap<u64, Topic>,
    next_id: &mut u64,
    text: &str,
) -> Option<Value> {
    let limits = &shared.config().limits;
    if text.len() > limits.max_body_bytes
        || api::json_depth_exceeds(text.as_bytes(), limits.max_json_depth)
    {
        return Some(api::response(
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
            return Some(api::response(
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
    if method == "eth_subscribe" || method == "eth_unsubscribe" {
        let request = match parsed(value) {
            Ok(request) => request,
            Err(answer) => return Some(answer),
        };
        let api::Params::Positional(params) = &request.params else {
            return None;
        };
        let result = if method == "eth_subscribe" {
            eth_subscribe(shared, subscriptions, next_id, params)
        } else {
            eth_unsubscribe(subscriptions, params)
        };
        return request.id.map(|id| api::response(id, result));
    }
    if method == "subscribe" || method == "unsubscribe" {
        let request = match parsed(value) {
            Ok(request) => request,
            Err(answer) => return Some(answer),
        };
        let result = if method == "subscribe" {
            subscribe(shared, subscriptions, next_id, &request.params.named())
        } else {
            unsubscribe(subscriptions, &request.params.named())
        };
        return request.id.map(|id| api::response(id, result));
    }
    if value.is_array() {
        return Some(api::response(
            Value::Null,
            Err(RpcError::invalid_request(
                "invalid_request",
                "send batches over HTTP",
            )),
        ));
    }
    // A method call runs on its own, so that a `wait` does not hold up
    // notifications; its reply is queued as a notification is.
    let shared = shared.clone();
    let outbox = outbox.clone();
    let deadline =
        tokio::time::Instant::now() + api::wait_budget(shared.config().limits.request_timeout);
    tokio::spawn(async move {
        if let Some(reply) = api::one(&shared, value, deadline).await {
            outbox.push(Outgoing::Text(reply.to_string()));
        }
    });
    None
}

/// The request `value` is, or the error its id is answered with.
fn parsed(value: Value) -> Result<api::Request, Value> {
    api::request(value).map_err(|invalid| {
        let (id, error) = *invalid;
        api::response(id, Err(error))
    })
}

/// `eth_subscribe ["newHeads"]` or `["logs", filter]`: a hex id.
fn eth_subscribe(
    shared: &Shared,
    subscriptions: &mut BTreeMap<u64, Topic>,
    next_id: &mut u64,
    params: &Value,
) -> Result<Value, RpcError> {
    let bad = |m: &str| RpcError::eth(-32602, m.to_owned(), None);
    let max = shared.config().limits.max_subscriptions;
    if subscriptions.len() >= max {
        return Err(RpcError::eth(
            -32005,
            format!("at most {max} subscriptions per connection"),
            None,
        ));
    }
    let topic = match params.get(0).and_then(Value::as_str) {
        Some("newHeads") => Topic::EthHeads,
        Some("logs") => {
            let filter = match params.get(1) {
                None | Some(Value::Null) => Filter::default(),
                Some(filter) => serde_json::from_value(filter.clone())
                    .map_err(|e| bad(&format!("invalid logs filter: {e}")))?,
            };
            Topic::EthLogs(Box::new(filter))
        }
        Some(other @ ("newPendingTransactions" | "syncing")) => {
            return Err(bad(&format!(
                "{other} is not offered: a Ward node mines what it admits into its next block; subscribe to newHeads"
            )));
        }
        _ => return Err(bad("subscribe to \"newHeads\" or \"logs\"")),
    };
    let id = *next_id;
    *next_id += 1;
    subscriptions.insert(id, topic);
    Ok(json!(format!("{id:#x}")))
}

/// `eth_unsubscribe [id]`: whether there was such a subscription.
fn eth_unsubscribe(
    subscriptions: &mut BTreeMap<u64, Topic>,
    params: &Value,
) -> Result<Value, RpcError> {
    let id = params
        .get(0)
        .and_then(Value::as_str)
        .and_then(|id| u64::from_str_radix(id.strip_prefix("0x")?, 16).ok())
        .ok_or_else(|| RpcError::eth(-32602, "a subscription id is a hex string".into(), None))?;
    let eth = matches!(
        subscriptions.get(&id),
        Some(Topic::EthHeads | Topic::EthLogs(_))
    );
    Ok(json!(eth && subscriptions.remove(&id).is_some()))
}

fn subscribe(
    shared: &Shared,
    subscriptions: &mut BTreeMap<u64, Topic>,
    next_id: &mut u64,
    params: &serde_json::Map<String, Value>,
) -> Result<Value, RpcError> {
    let max = shared.config().limits.max_subscriptions;
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
