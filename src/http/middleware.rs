use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::app::AppState;

/// Counts every request under its route template (`GET /api/products/{sku}`), so that
/// per-SKU paths do not explode the number of series.
pub async fn record_metrics(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let route = match request.extensions().get::<MatchedPath>() {
        Some(path) => format!("{} {}", request.method(), path.as_str()),
        None => format!("{} (unmatched)", request.method()),
    };
    let response = next.run(request).await;
    state
        .metrics
        .record(&route, response.status().as_u16(), started.elapsed());
    response
}
