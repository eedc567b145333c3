//! The HTTP layer: routes, extractors, middleware and the one error-to-response mapping.

mod cached_json;
pub mod error;
pub mod extract;
mod middleware;
pub mod openapi;
pub mod proxies;
pub mod rate_limit;
pub mod routes;
pub mod web;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use error::ApiError;
use routes::{
    auth, categories, chat, dashboard, events, operations, predictions, products, settings,
    transactions, users,
};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: AppState) -> Router {
    // Each route is declared once, here: the router and the OpenAPI document both come
    // from the handlers' `#[utoipa::path]` annotations. One `routes!` per path.
    let (routes, document) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::profile, auth::update_profile))
        .routes(routes!(auth::change_password))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::approve))
        .routes(routes!(users::reset_password))
        .routes(routes!(users::change_role))
        .routes(routes!(users::change_status))
        .routes(routes!(products::list, products::create))
        .routes(routes!(products::stats))
        .routes(routes!(products::lookup))
        .routes(routes!(products::get, products::update, products::remove))
        .routes(routes!(products::ledger, products::change_stock))
        .routes(routes!(categories::list, categories::create))
        .routes(routes!(categories::update, categories::remove))
        .routes(routes!(transactions::list, transactions::checkout))
        .routes(routes!(transactions::export_csv))
        .routes(routes!(transactions::quote))
        .routes(routes!(transactions::get))
        .routes(routes!(events::list, events::create))
        .routes(routes!(events::get, events::update, events::remove))
        .routes(routes!(predictions::model_versions))
        .routes(routes!(predictions::predict))
        .routes(routes!(predictions::predict_async))
        .routes(routes!(predictions::predict_task))
        .routes(routes!(predictions::recommendations))
        .routes(routes!(predictions::train_product))
        .routes(routes!(predictions::train_all))
        .routes(routes!(predictions::active))
        .routes(routes!(predictions::scheduled))
        .routes(routes!(predictions::task))
        .routes(routes!(predictions::cancel))
        .routes(routes!(chat::send))
        .routes(routes!(chat::stream))
        .routes(routes!(chat::sessions))
        .routes(routes!(chat::history))
        .routes(routes!(chat::delete))
        .routes(routes!(dashboard::stats))
        .routes(routes!(settings::get, settings::update))
        .routes(routes!(settings::status))
        .routes(routes!(operations::health))
        .routes(routes!(operations::ready))
        .routes(routes!(operations::metrics))
        .routes(routes!(operations::cache_stats))
        .split_for_parts();
    let mut document = document;
    openapi::document_common_errors(&mut document);
    openapi::name_operations_uniquely(&mut document);
    let document = openapi::render(&document);

    let request_timeout = state.config.request_timeout();
    let max_body = state.config.max_body_bytes;
    routes
        .route(
            "/api/openapi.json",
            get(move || async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    document,
                )
            }),
        )
        .fallback({
            let web = web::assets();
            move |request| web::app_or_no_route(web, request)
        })
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
        .layer(axum::middleware::from_fn(error::ensure_error_body))
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
