//! The block explorer: a page served by the node itself at `/` (and at
//! `/block/…`, `/tx/…`, `/contract/…`, `/search`, so that every page is a
//! link to share), which reads the chain over the node's own JSON-RPC and
//! follows new blocks over its WebSocket. The assets are plain HTML, CSS
//! and JavaScript embedded in the binary: building Ward needs no
//! JavaScript toolchain.

use axum::{
    http::header,
    response::{IntoResponse, Response},
};

const INDEX: &str = include_str!("explorer/index.html");
const APP: &str = include_str!("explorer/app.js");
const STYLE: &str = include_str!("explorer/style.css");

/// What the page may load: only the node's own assets and endpoints (the
/// chain's data is text, never markup, and never reaches a script).
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The page, whatever explorer path was asked for: the script routes.
pub(crate) async fn page() -> Response {
    asset("text/html; charset=utf-8", INDEX)
}

/// `/explorer/app.js`.
pub(crate) async fn script() -> Response {
    asset("text/javascript; charset=utf-8", APP)
}

/// `/explorer/style.css`.
pub(crate) async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}
