//! The one place where errors become HTTP responses: `{"error": "...", "details": ...}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::DomainError;
use crate::storage::StorageError;

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A request the HTTP layer could not read (bad JSON, query or path).
    #[error("{message}")]
    BadRequest { status: StatusCode, message: String },
    #[error("no route for this path")]
    NoRoute,
    #[error("method not allowed")]
    MethodNotAllowed,
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        ApiError::Domain(DomainError::Storage(error))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn bad_request(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            status,
            message: message.into(),
        }
    }

    fn status_and_body(&self) -> (StatusCode, ErrorBody) {
        let body = |error: String, details: Option<serde_json::Value>| ErrorBody { error, details };
        match self {
            ApiError::BadRequest { status, message } => (*status, body(message.clone(), None)),
            ApiError::NoRoute => (StatusCode::NOT_FOUND, body(self.to_string(), None)),
            ApiError::MethodNotAllowed => {
                (StatusCode::METHOD_NOT_ALLOWED, body(self.to_string(), None))
            }
            ApiError::Domain(error) => match error {
                DomainError::Validation { message, details } => (
                    StatusCode::BAD_REQUEST,
                    body(message.clone(), details.clone()),
                ),
                DomainError::NotFound(_) => (StatusCode::NOT_FOUND, body(error.to_string(), None)),
                DomainError::Conflict(message) => {
                    (StatusCode::CONFLICT, body(message.clone(), None))
                }
                DomainError::InsufficientStock(lines) => (
                    StatusCode::CONFLICT,
                    body(error.to_string(), serde_json::to_value(lines).ok()),
                ),
                DomainError::Unprocessable(message) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    body(message.clone(), None),
                ),
                DomainError::Unauthenticated(message) => {
                    (StatusCode::UNAUTHORIZED, body(message.clone(), None))
                }
                DomainError::Forbidden(message) => {
                    (StatusCode::FORBIDDEN, body(message.clone(), None))
                }
                DomainError::RateLimited { message, .. } => {
                    (StatusCode::TOO_MANY_REQUESTS, body(message.clone(), None))
                }
                DomainError::Storage(StorageError::Unavailable(_)) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    body(
                        "the database is unavailable; try again shortly".into(),
                        None,
                    ),
                ),
                DomainError::Storage(_) | DomainError::Internal { .. } => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    body("internal server error".into(), None),
                ),
            },
        }
    }
}

/// An error and its causes, `outer: inner: innermost`, for the log.
struct ErrorChain<'a>(&'a dyn std::error::Error);

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = self.status_and_body();
        if status.is_server_error() {
            tracing::error!(error = %ErrorChain(&self), "request failed");
        }
        let mut response = (status, axum::Json(body)).into_response();
        match status {
            StatusCode::UNAUTHORIZED => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            StatusCode::TOO_MANY_REQUESTS => {
                if let ApiError::Domain(DomainError::RateLimited { retry_after, .. }) = &self {
                    response.headers_mut().insert(
                        header::RETRY_AFTER,
                        HeaderValue::from(retry_after_seconds(*retry_after)),
                    );
                }
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            _ => {}
        }
        response
    }
}

/// Whole seconds to wait, at least one (Retry-After takes no fractions).
pub fn retry_after_seconds(wait: std::time::Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

/// Turns a handler panic into the same JSON 500 every other failure gets.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = message, "handler panicked");
    let body = ErrorBody {
        error: "internal server error".into(),
        details: None,
    };
    (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_becomes_the_usual_json_500() {
        let response = panic_response(Box::new("index out of bounds"));
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["error"], "internal server error");
    }

    #[test]
    fn every_domain_error_has_its_status() {
        let cases = [
            (DomainError::validation("x"), StatusCode::BAD_REQUEST),
            (DomainError::not_found("x"), StatusCode::NOT_FOUND),
            (DomainError::Conflict("x".into()), StatusCode::CONFLICT),
            (DomainError::InsufficientStock(vec![]), StatusCode::CONFLICT),
            (
                DomainError::Unprocessable("x".into()),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                DomainError::Unauthenticated("x".into()),
                StatusCode::UNAUTHORIZED,
            ),
            (DomainError::Forbidden("x".into()), StatusCode::FORBIDDEN),
            (
                DomainError::unexpected("x"),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
        ];
        for (error, status) in cases {
            assert_eq!(ApiError::from(error).status_and_body().0, status);
        }
    }
}
