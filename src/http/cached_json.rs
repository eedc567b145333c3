//! Cached answers go out as the JSON text the cache holds, without a parse and re-encode.

use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::infra::cache::CachedJson;

impl IntoResponse for CachedJson {
    fn into_response(self) -> Response {
        ([(header::CONTENT_TYPE, "application/json")], self.0).into_response()
    }
}
