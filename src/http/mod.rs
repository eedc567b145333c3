//! The HTTP layer: routes, extractors, middleware and the one error-to-response mapping.

mod cached_json;
pub mod error;
pub mod extract;
mod middleware;
pub mod openapi;
pub mod rate_limit;
pub mod routes;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::routing::{get, post, put};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::app::AppState;
use error::ApiError;
use routes::{
    auth, categories, dashboard, events, operations, predictions, products, settings, transactions,
    users,
};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/auth/register", post(auth::register))
        .route("/auth/login", post(auth::login))
        .route("/auth/refresh", post(auth::refresh))
        .route("/auth/logout", post(auth::logout))
        .route(
            "/auth/profile",
            get(auth::profile).put(auth::update_profile),
        )
        .route("/auth/change-password", post(auth::change_password))
        .route("/users", get(users::list))
        .route("/users/{user_id}/role", put(users::change_role))
        .route("/users/{user_id}/status", put(users::change_status))
        .route("/products", get(products::list).post(products::create))
        .route("/products/stats", get(products::stats))
        .route(
            "/products/{sku}",
            get(products::get)
                .put(products::update)
                .delete(products::remove),
        )
        .route(
            "/products/{sku}/stock",
            get(products::ledger).post(products::change_stock),
        )
        .route(
            "/categories",
            get(categories::list).post(categories::create),
        )
        .route(
            "/categories/{category_id}",
            put(categories::update).delete(categories::remove),
        )
        .route(
            "/transactions",
            get(transactions::list).post(transactions::checkout),
        )
        .route("/transactions/export.csv", get(transactions::export_csv))
        .route("/transactions/{transaction_id}", get(transactions::get))
        .route("/events", get(events::list).post(events::create))
        .route(
            "/events/{event_id}",
            get(events::get).put(events::update).delete(events::remove),
        )
        .route("/products/{sku}/models", get(predictions::model_versions))
        .route("/predict", post(predictions::predict))
        .route("/predict/async", post(predictions::predict_async))
        .route("/predict/task/{task_id}", get(predictions::predict_task))
        .route("/recommendations", get(predictions::recommendations))
        .route(
            "/tasks/training/product/{sku}",
            post(predictions::train_product),
        )
        .route("/tasks/training/all", post(predictions::train_all))
        .route("/tasks/active", get(predictions::active))
        .route("/tasks/scheduled", get(predictions::scheduled))
        .route("/tasks/{task_id}", get(predictions::task))
        .route("/tasks/{task_id}/cancel", post(predictions::cancel))
        .route("/dashboard-stats", get(dashboard::stats))
        .route("/settings", get(settings::get).put(settings::update))
        .route("/settings/status", get(settings::status))
        .route("/openapi.json", {
            let document = openapi::rendered();
            get(move || async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    document,
                )
            })
        });

    let request_timeout = state.config.request_timeout();
    let max_body = state.config.max_body_bytes;
    Router::new()
        .nest("/api", api)
        .route("/health", get(operations::health))
        .route("/ready", get(operations::ready))
        .route("/metrics", get(operations::metrics))
        .route("/cache-stats", get(operations::cache_stats))
        .fallback(|| async { ApiError::NoRoute })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            rate_limit::enforce,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::record_metrics))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            request_timeout,
        ))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let request_id = request
                    .headers()
                    .get(REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}
