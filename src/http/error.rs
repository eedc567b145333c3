//! The one place where errors become HTTP responses:
//! `{"error": "...", "code": "...", "details": ...}`. Clients act on (and translate) the
//! `code`; the `error` sentence is for people reading logs and may change.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::DomainError;
use crate::storage::StorageError;

/// What went wrong, for machines: stable, snake_case, one per kind of failure a client
/// handles differently. New codes may be added; existing ones keep their meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: a field failed validation (`details` may say which).
    ValidationFailed,
    /// 400: the request could not be read (malformed JSON, query, path or header).
    BadRequest,
    /// 401: no valid access token, or wrong credentials.
    Unauthenticated,
    /// 403: signed in, but the role does not allow this.
    Forbidden,
    /// 404: the thing named in the path does not exist.
    NotFound,
    /// 404: no such route.
    NoRoute,
    /// 405: the route exists but not with this method.
    MethodNotAllowed,
    /// 409: the request conflicts with the current state (a duplicate, a cancelled task).
    Conflict,
    /// 409: a checkout asked for more than is in stock; `details` lists the short lines.
    InsufficientStock,
    /// 413: the body is larger than the server accepts.
    PayloadTooLarge,
    /// 415: the body is not `application/json`.
    UnsupportedMediaType,
    /// 422: well formed but cannot be carried out (e.g. paid less than the total).
    Unprocessable,
    /// 422: this Idempotency-Key was used for a different request; use a new key.
    IdempotencyKeyReused,
    /// 409: a request with this Idempotency-Key is still running; retry it shortly.
    IdempotencyKeyInFlight,
    /// 429: too many requests or login attempts; wait `Retry-After` seconds.
    RateLimited,
    /// 503: a dependency is down or the request took too long; retry later.
    Unavailable,
    /// 502, 503 or 504: the assistant's external chat model failed or timed out; the
    /// conversation is kept as it was, retry later.
    AssistantProviderFailed,
    /// 500: a bug or an unexpected failure; the details are in the server log.
    Internal,
}

impl ErrorCode {
    /// The code for an error status the HTTP layer produced without a more specific cause.
    pub fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::UNAUTHORIZED => ErrorCode::Unauthenticated,
            StatusCode::FORBIDDEN => ErrorCode::Forbidden,
            StatusCode::NOT_FOUND => ErrorCode::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
            StatusCode::CONFLICT => ErrorCode::Conflict,
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
            StatusCode::UNPROCESSABLE_ENTITY => ErrorCode::Unprocessable,
            StatusCode::TOO_MANY_REQUESTS => ErrorCode::RateLimited,
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT => ErrorCode::Unavailable,
            s if s.is_server_error() => ErrorCode::Internal,
            _ => ErrorCode::BadRequest,
        }
    }
}

/// Every error response's body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A sentence in English for people; do not match on it.
    pub error: String,
    pub code: ErrorCode,
    /// More about the failure, when there is more (the short lines of a checkout, the
    /// fields that failed validation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, error: impl Into<String>) -> Self {
        ErrorBody {
            error: error.into(),
            code,
            details: None,
        }
    }
}

/// A JSON error response with no more specific cause than its status (the body limit,
/// the timeout, the panic handler): the usual body, the code from the status.
pub fn status_response(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(ErrorBody::new(ErrorCode::for_status(status), message)),
    )
        .into_response()
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

    pub(crate) fn status_and_body(&self) -> (StatusCode, ErrorBody) {
        use ErrorCode as C;
        let body = |code: ErrorCode, error: String, details: Option<serde_json::Value>| ErrorBody {
            error,
            code,
            details,
        };
        match self {
            ApiError::BadRequest { status, message } => (
                *status,
                body(ErrorCode::for_status(*status), message.clone(), None),
            ),
            ApiError::NoRoute => (
                StatusCode::NOT_FOUND,
                body(C::NoRoute, self.to_string(), None),
            ),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                body(C::MethodNotAllowed, self.to_string(), None),
            ),
            ApiError::Domain(error) => match error {
                DomainError::Validation { message, details } => (
                    StatusCode::BAD_REQUEST,
                    body(C::ValidationFailed, message.clone(), details.clone()),
                ),
                DomainError::NotFound(_) => (
                    StatusCode::NOT_FOUND,
                    body(C::NotFound, error.to_string(), None),
                ),
                DomainError::Conflict(message) => (
                    StatusCode::CONFLICT,
                    body(C::Conflict, message.clone(), None),
                ),
                DomainError::InsufficientStock(lines) => (
                    StatusCode::CONFLICT,
                    body(
                        C::InsufficientStock,
                        error.to_string(),
                        serde_json::to_value(lines).ok(),
                    ),
                ),
                DomainError::Unprocessable(message) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    body(C::Unprocessable, message.clone(), None),
                ),
                DomainError::Unauthenticated(message) => (
                    StatusCode::UNAUTHORIZED,
                    body(C::Unauthenticated, message.clone(), None),
                ),
                DomainError::Forbidden(message) => (
                    StatusCode::FORBIDDEN,
                    body(C::Forbidden, message.clone(), None),
                ),
                DomainError::IdempotencyKeyReused => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    body(C::IdempotencyKeyReused, error.to_string(), None),
                ),
                DomainError::IdempotencyKeyInFlight => (
                    StatusCode::CONFLICT,
                    body(C::IdempotencyKeyInFlight, error.to_string(), None),
                ),
                DomainError::RateLimited { message, .. } => (
                    StatusCode::TOO_MANY_REQUESTS,
                    body(C::RateLimited, message.clone(), None),
                ),
                DomainError::Unavailable(message) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    body(C::Unavailable, message.clone(), None),
                ),
                DomainError::Provider { status, message } => (
                    StatusCode::from_u16(*status)
                        .ok()
                        .filter(|s| matches!(s.as_u16(), 502..=504))
                        .unwrap_or(StatusCode::BAD_GATEWAY),
                    body(C::AssistantProviderFailed, message.clone(), None),
                ),
                DomainError::Storage(StorageError::Unavailable(_)) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    body(
                        C::Unavailable,
                        "the database is unavailable; try again shortly".into(),
                        None,
                    ),
                ),
                DomainError::Storage(_) | DomainError::Internal { .. } => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    body(C::Internal, "internal server error".into(), None),
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
    status_response(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
}

/// The safety net under every other layer: an error status answered without a JSON body
/// (tower-http's timeout, a rejection some layer made on its own) gets the usual body, so
/// that every error a client sees has a `code`.
pub async fn ensure_error_body(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let message = match status {
        StatusCode::SERVICE_UNAVAILABLE => "the request took too long; try again shortly",
        StatusCode::PAYLOAD_TOO_LARGE => "request body is too large",
        _ => status.canonical_reason().unwrap_or("error"),
    };
    let (parts, _) = response.into_parts();
    let mut fresh = status_response(status, message);
    for name in [header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(value) = parts.headers.get(&name) {
            fresh.headers_mut().insert(name, value.clone());
        }
    }
    if status == StatusCode::SERVICE_UNAVAILABLE
        && !fresh.headers().contains_key(header::RETRY_AFTER)
    {
        fresh
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    fresh
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
        assert_eq!(json["code"], "internal");
    }

    #[tokio::test]
    async fn a_timeout_or_a_bare_status_gets_the_usual_body_and_a_code() {
        use axum::routing::get;
        use tower::ServiceExt;
        let app = axum::Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .route("/bare", get(|| async { StatusCode::PAYLOAD_TOO_LARGE }))
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                StatusCode::SERVICE_UNAVAILABLE,
                std::time::Duration::from_millis(10),
            ))
            .layer(axum::middleware::from_fn(ensure_error_body));
        for (path, status, code) in [
            ("/slow", StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ("/bare", StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        ] {
            let request = axum::http::Request::get(path)
                .body(axum::body::Body::empty())
                .unwrap();
            let response = app.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), status);
            if status == StatusCode::SERVICE_UNAVAILABLE {
                assert!(response.headers().contains_key(header::RETRY_AFTER));
            }
            let body = axum::body::to_bytes(response.into_body(), 4096)
                .await
                .unwrap();
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(json["code"], code);
            assert!(json["error"].as_str().is_some_and(|e| !e.is_empty()));
        }
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
                DomainError::IdempotencyKeyReused,
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (DomainError::IdempotencyKeyInFlight, StatusCode::CONFLICT),
            (
                DomainError::Unavailable("x".into()),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                DomainError::Provider {
                    status: 504,
                    message: "x".into(),
                },
                StatusCode::GATEWAY_TIMEOUT,
            ),
            (
                DomainError::unexpected("x"),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
        ];
        for (error, status) in cases {
            let (actual, body) = ApiError::from(error).status_and_body();
            assert_eq!(actual, status);
            let code = serde_json::to_value(body.code).unwrap();
            assert!(code.as_str().is_some_and(|c| !c.is_empty()));
        }
    }
}
