use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use crate::app::AppState;

/// Counts every request under its route template (`GET /api/products/{sku}`), so that
/// per-SKU paths do not explode the number of series; a request no route matched is
/// counted under one fixed label.
pub async fn record_metrics(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned());
    let response = next.run(request).await;
    state.metrics.record_request(
        method,
        route.as_deref(),
        response.status(),
        started.elapsed(),
    );
    response
}

/// The standard methods by name; anything else a client makes up is counted as `OTHER`,
/// so that request input cannot grow the set of series (and the memory behind them).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    }
}
