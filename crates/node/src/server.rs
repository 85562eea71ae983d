//! The HTTP server: `POST /rpc`, `GET /ws`, `GET /health`, `GET /metrics`,
//! `GET /snapshots` (and a snapshot's manifest and chunks),
//! the explorer's page and assets (`GET /` and its paths),
//! with the limits on untrusted clients ([`crate::config::RpcLimits`]): body size
//! (413), request time (408), header and idle time (closed), open
//! connections (closed at once over the limit, with a few slots kept for
//! monitoring), JSON depth and batch length (JSON-RPC errors); and the
//! node's [`Access`] rules (`Host`, `Origin`, JSON bodies).

use std::{io, sync::Arc, time::Duration};

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, Request, State, WebSocketUpgrade},
    http::{StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};
use tokio::{
    net::TcpListener,
    sync::{Semaphore, watch},
};
use ward_state::{Hash32, StateRead};

use crate::{access::Access, api, error::RpcError, explorer, state::Shared, ws};

/// Connections kept for `/health` and `/metrics` once the others are
/// all taken: a monitor still gets an answer from a node whose slots
/// strangers hold.
pub const RESERVED_CONNECTIONS: usize = 8;

/// How long a connection in a reserved slot may take to send its request
/// headers (or stay idle between requests).
const RESERVED_HEADER_TIMEOUT: Duration = Duration::from_secs(2);

/// Which kind of slot a connection holds, seen by every request on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Slot {
    reserved: bool,
}

/// Serves until `stop` turns true, then finishes open requests.
///
/// Each connection holds one of `max_connections` slots while it is
/// open; past them, a connection takes one of [`RESERVED_CONNECTIONS`]
/// reserved slots, on which only `/health` and `/metrics` are served, or
/// is closed at once. A connection that takes longer than the header
/// timeout to send a request's headers, or stays idle that long between
/// requests, is closed (hyper's header-read timer, which runs from the
/// moment the connection waits for a request).
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
) -> io::Result<()> {
    let limits = shared.config().limits.clone();
    let access = Arc::new(shared.config().access.clone());
    let app = Router::new()
        .route("/rpc", post(rpc_handler))
        .route("/ws", get(ws_handler))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/snapshots", get(snapshot_list))
        .route("/snapshots/{height}/manifest", get(snapshot_manifest))
        .route("/snapshots/{height}/chunks/{index}", get(snapshot_chunk))
        .route("/", get(explorer::page).post(rpc_handler))
        .route("/block/{key}", get(explorer::page))
        .route("/tx/{key}", get(explorer::page))
        .route("/contract/{key}", get(explorer::page))
        .route("/trace/{tx}/flamegraph.svg", get(flame_graph))
        .route("/search", get(explorer::page))
        .route("/explorer/app.js", get(explorer::script))
        .route("/explorer/style.css", get(explorer::style))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            limits.request_timeout,
            request_timeout,
        ))
        .layer(middleware::from_fn_with_state(access, guard))
        .with_state(AppState {
            shared,
            stop: stop.clone(),
        });
    let general = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let reserve = Arc::new(Semaphore::new(RESERVED_CONNECTIONS));
    // Every connection task holds a clone; the last one dropped ends the
    // wait below.
    let (done_tx, mut done_rx) = tokio::sync::mpsc::channel::<()>(1);
    let mut stop = stop;
    loop {
        let (stream, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors and the like: back off, go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stopping(&mut stop) => break,
        };
        let (permit, slot) = match general.clone().try_acquire_owned() {
            Ok(permit) => (permit, Slot { reserved: false }),
            Err(_) => match reserve.clone().try_acquire_owned() {
                Ok(permit) => (permit, Slot { reserved: true }),
                Err(_) => {
                    tracing::debug!(%addr, "connection limit reached: closed");
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let header_timeout = if slot.reserved {
            RESERVED_HEADER_TIMEOUT.min(limits.header_timeout)
        } else {
            limits.header_timeout
        };
        let router = app.clone();
        let service = hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
            let mut request = request.map(axum::body::Body::new);
            request.extensions_mut().insert(slot);
            let mut router = router.clone();
            // A router is always ready.
            tower_service::Service::call(&mut router, request)
        });
        let mut stop = stop.clone();
        let done = done_tx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _done = done;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout);
            let connection = builder
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .with_upgrades();
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        tracing::trace!(%addr, error = %e, "connection ended");
                    }
                    return;
                }
                () = stopping(&mut stop) => {}
            }
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        });
    }
    drop(done_tx);
    let _ = done_rx.recv().await;
    Ok(())
}

/// Waits until `stop` turns true (or its sender is gone).
async fn stopping(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await;
}

/// What every request passes before it is routed: a `Host` the node
/// answers to (a page on a domain that resolves to loopback cannot reach
/// it), on a reserved slot only `/health` and `/metrics`, and for every
/// request that can act ([`acts`]: any `POST`, whatever its path, and
/// `/ws`) a page of an allowed `Origin` (none, for clients that are not
/// browsers) and, for a `POST`, a JSON body: a form or `text/plain` POST,
/// which a browser sends from any page without asking, is refused. The
/// rules follow the request's method, not a list of paths, so that no
/// route that answers JSON-RPC (`/rpc`, `/`) can be left out.
async fn guard(State(access): State<Arc<Access>>, request: Request, next: Next) -> Response {
    let refuse = |status: StatusCode, why: String| (status, format!("{why}\n")).into_response();
    let path = request.uri().path();
    let reserved = request
        .extensions()
        .get::<Slot>()
        .is_some_and(|slot| slot.reserved);
    if reserved && path != "/health" && path != "/metrics" {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "every connection slot is taken; only /health and /metrics are served".into(),
        );
    }
    let headers = request.headers();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if let Some(host) = host
        && !access.host_allowed(host)
    {
        return refuse(
            StatusCode::FORBIDDEN,
            format!("host {host:?} is not allowed (ward serve --allow-host)"),
        );
    }
    if acts(request.method(), path) {
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("");
            if !access.origin_allowed(origin) {
                return refuse(
                    StatusCode::FORBIDDEN,
                    format!("origin {origin:?} is not allowed (ward serve --allow-origin)"),
                );
            }
        }
        if request.method() == axum::http::Method::POST && !is_json(headers) {
            return refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "a JSON-RPC request is sent with Content-Type: application/json".into(),
            );
        }
    }
    next.run(request).await
}

/// Whether a request can act on the node (send, steer a dev node, open
/// a subscription): every `POST`, and a WebSocket's upgrade.
fn acts(method: &axum::http::Method, path: &str) -> bool {
    method == axum::http::Method::POST || path == "/ws"
}

/// Whether the request says its body is JSON.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

#[derive(Clone)]
struct AppState {
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
}

/// HTTP 408 past the request timeout, the body's reading included.
async fn request_timeout(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => (StatusCode::REQUEST_TIMEOUT, "request timeout\n").into_response(),
    }
}

fn json_response(status: StatusCode, value: &Value) -> Response {
    json_text(status, value.to_string())
}

async fn rpc_handler(State(app): State<AppState>, body: Bytes) -> Response {
    let shared = app.shared;
    let limits = &shared.config().limits;
    let deadline = tokio::time::Instant::now() + api::wait_budget(limits.request_timeout);
    let error = |e: RpcError| json_response(StatusCode::OK, &api::response(Value::Null, Err(e)));
    if api::json_depth_exceeds(&body, limits.max_json_depth) {
        return error(RpcError::invalid_request(
            "too_deep",
            format!("JSON nested deeper than {} levels", limits.max_json_depth),
        ));
    }
    let value: Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(e) => return error(RpcError::parse(e.to_string())),
    };
    match value {
        Value::Array(items) => {
            if items.is_empty() {
                return error(RpcError::invalid_request(
                    "invalid_request",
                    "an empty batch",
                ));
            }
            if items.len() > limits.max_batch {
                return error(RpcError::invalid_request(
                    "batch_too_large",
                    format!(
                        "a batch of {} requests, more than {}",
                        items.len(),
                        limits.max_batch
                    ),
                ));
            }
            // Each response is written out as it comes, and counted: past
            // the bound, the rest of the batch answers `response_too_large`.
            let mut body = String::from("[");
            let mut total = 0usize;
            for item in items {
                let Some(response) = api::one(&shared, item, deadline).await else {
                    continue;
                };
                let text = api::bounded(&response, limits.max_response_bytes.saturating_sub(total));
                total += text.len();
                if body.len() > 1 {
                    body.push(',');
                }
                body.push_str(&text);
            }
            if body.len() == 1 {
                StatusCode::NO_CONTENT.into_response()
            } else {
                body.push(']');
                json_text(StatusCode::OK, body)
            }
        }
        single => match api::one(&shared, single, deadline).await {
            Some(response) => json_text(
                StatusCode::OK,
                api::bounded(&response, limits.max_response_bytes),
            ),
            None => StatusCode::NO_CONTENT.into_response(),
        },
    }
}

/// JSON `text` with `status`.
fn json_text(status: StatusCode, text: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], text).into_response()
}

/// A WebSocket connection's read buffer.
const WS_BUFFER_BYTES: usize = 16 << 10;

async fn ws_handler(State(app): State<AppState>, upgrade: WebSocketUpgrade) -> Response {
    let limit = app.shared.config().limits.max_body_bytes;
    // Small buffers: a connection costs little while it idles, and its
    // writer sends (and flushes) one message at a time anyway
    // (`ws::serve`, whose queues bound what waits).
    upgrade
        .max_message_size(limit)
        .max_frame_size(limit)
        .read_buffer_size(WS_BUFFER_BYTES)
        .write_buffer_size(0)
        .on_upgrade(move |socket| ws::serve(socket, app.shared, app.stop))
}

async fn health(State(app): State<AppState>) -> Response {
    let shared = app.shared;
    let height = shared.store().height().unwrap_or(0);
    let diverged = shared.replica().and_then(|r| r.diverged());
    let (status, mut body) = match (shared.fault(), diverged) {
        (_, Some(divergence)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "status": "diverged", "height": height, "error": divergence.to_string() }),
        ),
        (Some(error), None) => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "status": "faulted", "height": height, "error": error }),
        ),
        (None, None) => match shared.cache().backend().health() {
            Ok(()) => (StatusCode::OK, json!({ "status": "ok", "height": height })),
            // Blocks go on, but a helper thread of the engine is down
            // (wasmtime's timeout thread: the backstop never fires).
            Err(why) => (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "status": "degraded", "height": height, "error": why }),
            ),
        },
    };
    if let Some(replica) = shared.replica() {
        body["replica"] = replica.status();
    }
    json_response(status, &body)
}

/// `GET /snapshots`: the snapshots held, oldest first.
async fn snapshot_list(State(app): State<AppState>) -> Response {
    json_response(
        StatusCode::OK,
        &json!({ "snapshots": app.shared.snapshots().list() }),
    )
}

fn not_held() -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &json!({ "error": "no such snapshot or chunk" }),
    )
}

/// `GET /snapshots/HEIGHT/manifest`: its `manifest.json`.
async fn snapshot_manifest(State(app): State<AppState>, Path(height): Path<u64>) -> Response {
    match app.shared.snapshots().manifest(height) {
        Some(manifest) => json_response(StatusCode::OK, &json!(manifest)),
        None => not_held(),
    }
}

/// `GET /snapshots/HEIGHT/chunks/INDEX`: the chunk's bytes.
async fn snapshot_chunk(
    State(app): State<AppState>,
    Path((height, index)): Path<(u64, usize)>,
) -> Response {
    let Some(path) = app.shared.snapshots().chunk_path(height, index) else {
        return not_held();
    };
    match tokio::task::spawn_blocking(move || std::fs::read(path)).await {
        Ok(Ok(bytes)) => {
            ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response()
        }
        // Removed by a newer snapshot meanwhile.
        Ok(Err(_)) | Err(_) => not_held(),
    }
}

/// `GET /trace/TX/flamegraph.svg`: the flame graph of a committed
/// transaction's gas profile (`docs/debugging.md`), or the reason there is
/// none as plain text.
async fn flame_graph(State(app): State<AppState>, Path(tx): Path<String>) -> Response {
    let hex = tx.strip_prefix("0x").unwrap_or(&tx);
    let hash = match hex::decode(hex)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
    {
        Some(bytes) => Hash32(bytes),
        None => {
            let why = format!("{tx:?} is not a transaction identifier (32 bytes of hex)\n");
            return (StatusCode::BAD_REQUEST, why).into_response();
        }
    };
    let shared = app.shared;
    match tokio::task::spawn_blocking(move || api::flame_graph(&shared, hash)).await {
        Ok(Ok(svg)) => ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response(),
        Ok(Err(error)) => {
            let status = match error.kind.as_str() {
                "not_found" | "pruned" => StatusCode::NOT_FOUND,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            (status, format!("{}\n", error.message)).into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    }
}

async fn metrics(State(app): State<AppState>) -> Response {
    let text = app.shared.metrics().render(app.shared.cache().stats());
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
