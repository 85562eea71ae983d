//! The HTTP server: `POST /rpc`, `GET /ws`, `GET /health`, `GET /metrics`,
//! the explorer's page and assets (`GET /` and its paths),
//! with the limits on untrusted clients ([`crate::RpcLimits`]): body size
//! (413), request time (408), open connections (closed at once over the
//! limit), JSON depth and batch length (JSON-RPC errors).

use std::{
    io,
    net::SocketAddr,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Request, State, WebSocketUpgrade},
    http::{StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore, watch},
};
use ward_state::StateRead;

use crate::{
    explorer,
    rpc::{self, RpcError},
    state::{Shared, lock},
    ws,
};

/// Serves until `stop` turns true, then finishes open requests.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
) -> io::Result<()> {
    let limits = shared.config.limits.clone();
    let app = Router::new()
        .route("/rpc", post(rpc_handler))
        .route("/ws", get(ws_handler))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/", get(explorer::page))
        .route("/block/{key}", get(explorer::page))
        .route("/tx/{key}", get(explorer::page))
        .route("/contract/{key}", get(explorer::page))
        .route("/search", get(explorer::page))
        .route("/explorer/app.js", get(explorer::script))
        .route("/explorer/style.css", get(explorer::style))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            limits.request_timeout,
            request_timeout,
        ))
        .with_state(AppState {
            shared,
            stop: stop.clone(),
        });
    let listener = Limited {
        inner: listener,
        permits: Arc::new(Semaphore::new(limits.max_connections)),
    };
    let mut stop = stop;
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|stopping| *stopping).await;
        })
        .await
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
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

async fn rpc_handler(State(app): State<AppState>, body: Bytes) -> Response {
    let shared = app.shared;
    let limits = &shared.config.limits;
    let deadline = tokio::time::Instant::now() + rpc::wait_budget(limits.request_timeout);
    let error = |e: RpcError| json_response(StatusCode::OK, &rpc::response(Value::Null, Err(e)));
    if rpc::json_depth_exceeds(&body, limits.max_json_depth) {
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
            let mut responses = Vec::new();
            for item in items {
                if let Some(response) = one(&shared, item, deadline).await {
                    responses.push(response);
                }
            }
            if responses.is_empty() {
                StatusCode::NO_CONTENT.into_response()
            } else {
                json_response(StatusCode::OK, &Value::Array(responses))
            }
        }
        single => match one(&shared, single, deadline).await {
            Some(response) => json_response(StatusCode::OK, &response),
            None => StatusCode::NO_CONTENT.into_response(),
        },
    }
}

/// One request's response (none for a notification).
pub(crate) async fn one(
    shared: &Arc<Shared>,
    value: Value,
    deadline: tokio::time::Instant,
) -> Option<Value> {
    let request = match rpc::request(value) {
        Ok(request) => request,
        Err(invalid) => {
            let (id, error) = *invalid;
            return Some(rpc::response(id, Err(error)));
        }
    };
    let id = request.id.clone();
    let result = rpc::call(shared.clone(), request, deadline).await;
    id.map(|id| rpc::response(id, result))
}

async fn ws_handler(State(app): State<AppState>, upgrade: WebSocketUpgrade) -> Response {
    let limit = app.shared.config.limits.max_body_bytes;
    upgrade
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| ws::serve(socket, app.shared, app.stop))
}

async fn health(State(app): State<AppState>) -> Response {
    let shared = app.shared;
    let height = shared.store.height().unwrap_or(0);
    let diverged = shared.replica.as_ref().and_then(|r| r.diverged());
    let (status, mut body) = match (lock(&shared.fault).clone(), diverged) {
        (_, Some(divergence)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "status": "diverged", "height": height, "error": divergence.to_string() }),
        ),
        (Some(error), None) => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "status": "faulted", "height": height, "error": error }),
        ),
        (None, None) => (StatusCode::OK, json!({ "status": "ok", "height": height })),
    };
    if let Some(replica) = &shared.replica {
        body["replica"] = replica.status();
    }
    json_response(status, &body)
}

async fn metrics(State(app): State<AppState>) -> Response {
    let text = app.shared.metrics.render(app.shared.cache.stats());
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// A listener that keeps at most a number of connections open: one over
/// the limit is accepted and closed at once, so a client learns at once
/// rather than waiting in the backlog.
struct Limited {
    inner: TcpListener,
    permits: Arc<Semaphore>,
}

impl axum::serve::Listener for Limited {
    type Io = LimitedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (stream, addr) = match self.inner.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors and the like: back off, go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            match self.permits.clone().try_acquire_owned() {
                Ok(permit) => {
                    let _ = stream.set_nodelay(true);
                    return (
                        LimitedStream {
                            stream,
                            _permit: permit,
                        },
                        addr,
                    );
                }
                Err(_) => {
                    tracing::debug!(%addr, "connection limit reached: closed");
                    drop(stream);
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A connection holding its place under the limit until it closes.
pub(crate) struct LimitedStream {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
}

impl AsyncRead for LimitedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for LimitedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
