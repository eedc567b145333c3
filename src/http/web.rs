//! The web app: the Vite build embedded by build.rs (memory-serve: precompressed, ETag),
//! served at `/` with every other non-API path answered by `index.html`, so that a
//! reload on `/pos` or `/products/BRD-001` opens the app there.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use memory_serve::CacheControl;
use tower::ServiceExt;

use super::error::ApiError;

/// What the app needs and nothing more: its own scripts, styles and API; inline styles
/// for the chart library's SVG; no frames, no plug-ins, no foreign origins.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// The app's files, loaded once per process: memory-serve leaks what it decompresses on
/// purpose, and tests build many routers in one process.
static ASSETS: LazyLock<Router> = LazyLock::new(|| {
    memory_serve::load!()
        .index_file(Some("/index.html"))
        .fallback(Some("/index.html"))
        .fallback_status(StatusCode::OK)
        // index.html names the content-hashed bundles: it must be revalidated each time.
        .html_cache_control(CacheControl::NoCache)
        .into_router()
});

pub fn assets() -> Router {
    ASSETS.clone()
}

/// The fallback of the whole router: an unknown `/api` path stays a JSON 404, anything
/// else is the app.
pub async fn app_or_no_route(web: Router, request: Request) -> Response {
    let path = request.uri().path();
    if path == "/api" || path.starts_with("/api/") {
        return ApiError::NoRoute.into_response();
    }
    let mut response = match web.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (HeaderName::from_static("x-frame-options"), "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}
