//! Operations endpoints for load balancers and monitoring (no authentication).

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::AppState;
use crate::http::extract::Query;
use crate::infra::cache::CacheStats;
use crate::observability::MetricsSummary;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, body = Health, description = "The process is up; no dependency is called")))]
pub async fn health() -> axum::Json<Health> {
    axum::Json(Health { status: "healthy" })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`, `degraded` (an optional dependency is down) or `unavailable`.
    pub status: &'static str,
    pub checks: BTreeMap<&'static str, String>,
}

#[utoipa::path(get, path = "/ready", tag = "operations",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness, description = "The database is unreachable")))]
pub async fn ready(State(state): State<AppState>) -> (StatusCode, axum::Json<Readiness>) {
    let mut checks = BTreeMap::new();
    let database_ok = matches!(
        tokio::time::timeout(Duration::from_secs(2), state.db.ping()).await,
        Ok(Ok(()))
    );
    checks.insert(
        "database",
        if database_ok {
            "ok".to_owned()
        } else {
            "unreachable".to_owned()
        },
    );
    checks.insert("database_backend", state.db.backend().name().to_owned());
    // Without Redis the cache lives in this process and is up when we are; with Redis, an
    // outage degrades us (cache bypassed, limits open) but does not stop us.
    let cache_ok = state.cache.available().await;
    let cache = match (state.cache.backend(), cache_ok) {
        ("in-process", _) => "in-process",
        (_, true) => "ok",
        (_, false) => "unreachable",
    };
    checks.insert("cache", cache.to_owned());
    checks.insert("queue", "database".to_owned());
    checks.insert("model_store", state.forecaster.store_description());
    let assistant = state.assistant.status();
    checks.insert(
        "assistant",
        match assistant.last_call_ok {
            None => assistant.name.to_owned(),
            Some(true) => format!("{}: last call ok", assistant.name),
            Some(false) => format!("{}: last call failed", assistant.name),
        },
    );
    let (status, label) = match (database_ok, cache_ok) {
        (false, _) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        (true, false) => (StatusCode::OK, "degraded"),
        (true, true) => (StatusCode::OK, "ready"),
    };
    (
        status,
        axum::Json(Readiness {
            status: label,
            checks,
        }),
    )
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MetricsQuery {
    /// `json` (default for browsers and scripts) or `prometheus`.
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/metrics", tag = "operations", params(MetricsQuery),
    responses((status = 200, body = MetricsSummary,
        description = "JSON summary per route; Prometheus text when asked with ?format=prometheus or Accept: text/plain")))]
pub async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<MetricsQuery>,
) -> Response {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let wants_text = match query.format.as_deref() {
        Some(format) => format.eq_ignore_ascii_case("prometheus"),
        // Prometheus asks for text/plain or OpenMetrics; everyone else gets JSON.
        None => {
            (accept.contains("text/plain") || accept.contains("openmetrics"))
                && !accept.contains("application/json")
        }
    };
    let uptime = state.started_at.elapsed();
    if wants_text {
        (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            state.metrics.prometheus(uptime),
        )
            .into_response()
    } else {
        axum::Json(state.metrics.summary(uptime)).into_response()
    }
}

#[utoipa::path(get, path = "/cache-stats", tag = "operations",
    responses((status = 200, body = CacheStats,
        description = "Hits, misses and hit ratio per namespace (this instance); keys and memory (the shared store)")))]
pub async fn cache_stats(State(state): State<AppState>) -> axum::Json<CacheStats> {
    axum::Json(state.cache.stats().await)
}
