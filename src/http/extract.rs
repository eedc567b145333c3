//! Extractors: JSON, query and path readers whose failures are JSON errors, and the
//! authenticated user.

use axum::extract::path::ErrorKind;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::app::AppState;
use crate::domain::DomainError;
use crate::domain::auth::Principal;

/// A JSON body; a malformed one is a 400 that says what is wrong.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::bad_request(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "expected Content-Type: application/json",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|rejection| {
                let status = rejection.status();
                let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                    "request body is too large".to_owned()
                } else {
                    rejection.body_text()
                };
                ApiError::bad_request(status, message)
            })?;
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(JsonRejection::JsonDataError(_)) => {
                // JSON has one kind of number: `3.0` is the integer 3 (JSON Schema, hence
                // the OpenAPI document, agrees), but serde refuses it for an integer field.
                // Read such a body again with integral floats written as integers; keep the
                // first error when that does not help.
                integral_floats_as_integers(&bytes)
                    .and_then(|again| axum::Json::<T>::from_bytes(&again).ok())
                    .map(|axum::Json(value)| Json(value))
                    .ok_or_else(|| invalid_field::<T>(&bytes))
            }
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// `application/json` or `application/*+json`, as axum's own `Json` accepts.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|subtype| subtype.ends_with("+json"))
}

/// The body again with every float that is a whole number in i64's range (`3.0`, `1e2`)
/// written as an integer; `None` when there is none (or the body is not JSON).
fn integral_floats_as_integers(bytes: &[u8]) -> Option<Vec<u8>> {
    fn walk(value: &mut serde_json::Value) -> bool {
        match value {
            serde_json::Value::Number(n) if n.is_f64() => {
                let f = n.as_f64().unwrap_or(f64::NAN);
                // Strictly inside i64's range: 2^63 itself is a float that does not fit.
                if f.fract() == 0.0 && f.abs() < 9.2e18 {
                    *value = serde_json::Value::from(f as i64);
                    true
                } else {
                    false
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().fold(false, |c, v| walk(v) | c),
            serde_json::Value::Object(map) => map.values_mut().fold(false, |c, v| walk(v) | c),
            _ => false,
        }
    }
    let mut value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    walk(&mut value).then(|| serde_json::to_vec(&value).ok())?
}

/// Well-formed JSON with a field that breaks its rule (a bad barcode, a negative price, a
/// missing field): a validation failure naming the field, so a form can show it there.
fn invalid_field<T: DeserializeOwned>(bytes: &[u8]) -> ApiError {
    let mut reader = serde_json::Deserializer::from_slice(bytes);
    let error = match serde_path_to_error::deserialize::<_, T>(&mut reader) {
        Ok(_) => return ApiError::bad_request(StatusCode::BAD_REQUEST, "invalid request body"),
        Err(error) => error,
    };
    let field = error.path().to_string();
    let problem = error.inner().to_string();
    // serde_json appends the position; the field name says more to a person.
    let problem = problem
        .split(" at line ")
        .next()
        .unwrap_or(&problem)
        .to_owned();
    let message = if field == "." {
        format!("invalid request body: {problem}")
    } else {
        format!("{field}: {problem}")
    };
    DomainError::Validation {
        message,
        details: Some(serde_json::json!([{ "field": field, "error": problem }])),
    }
    .into()
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let status = match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        _ => StatusCode::BAD_REQUEST,
    };
    let message = match &rejection {
        JsonRejection::JsonDataError(e) => format!("invalid request body: {}", e.body_text()),
        JsonRejection::JsonSyntaxError(e) => format!("malformed JSON: {}", e.body_text()),
        JsonRejection::MissingJsonContentType(_) => {
            "expected Content-Type: application/json".to_owned()
        }
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => "request body is too large".to_owned(),
        other => other.body_text(),
    };
    ApiError::bad_request(status, message)
}

/// Query parameters; unknown or malformed ones are a 400.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|e: QueryRejection| {
                ApiError::bad_request(
                    StatusCode::BAD_REQUEST,
                    format!("invalid query: {}", e.body_text()),
                )
            })
    }
}

/// Path parameters; a malformed id is a 400.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|rejection: PathRejection| {
                // A value our own types refused (an SKU, say) says why in its own words.
                let detail = match &rejection {
                    PathRejection::FailedToDeserializePathParams(error) => match error.kind() {
                        ErrorKind::Message(message) => message.clone(),
                        _ => error.body_text(),
                    },
                    other => other.body_text(),
                };
                ApiError::bad_request(StatusCode::BAD_REQUEST, format!("invalid path: {detail}"))
            })
    }
}

/// The token of an `Authorization: Bearer <token>` header value. The scheme name is
/// case-insensitive (RFC 9110, 11.1); an empty token is none.
pub fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim_start().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Any signed-in, active user.
pub struct CurrentUser(pub Principal);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token)
            .ok_or_else(|| DomainError::Unauthenticated("missing bearer token".into()))?;
        let principal = state.auth.authenticate(&state.db, token).await?;
        Ok(CurrentUser(principal))
    }
}

/// The client's address, as the rate limits see it (the peer, or the proxy's forwarded
/// address when `SIPREMS_TRUST_PROXY` is set); None when unknown.
pub struct ClientAddress(pub Option<std::net::IpAddr>);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0);
        Ok(ClientAddress(
            state
                .config
                .proxy_peers()
                .client_address(&parts.headers, peer),
        ))
    }
}

/// A signed-in admin; anyone else gets 403.
pub struct Admin(pub Principal);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let CurrentUser(principal) = CurrentUser::from_request_parts(parts, state).await?;
        principal.require_admin()?;
        Ok(Admin(principal))
    }
}

/// The optional `Idempotency-Key` header of a write (its rules: `domain::idempotency`).
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Ok(IdempotencyKey(None));
        };
        let key = value.to_str().map_err(|_| {
            ApiError::bad_request(
                StatusCode::BAD_REQUEST,
                "Idempotency-Key must be visible ASCII",
            )
        })?;
        Ok(IdempotencyKey(Some(key.to_owned())))
    }
}

/// Marks an answer that an `Idempotency-Key` retry got from the first request.
pub fn mark_replayed(response: &mut axum::response::Response) {
    response.headers_mut().insert(
        "idempotent-replayed",
        axum::http::HeaderValue::from_static("true"),
    );
}

#[cfg(test)]
mod tests {
    use super::{bearer_token, integral_floats_as_integers};

    #[test]
    fn whole_floats_read_as_integers() {
        let again = integral_floats_as_integers(br#"{"days": 87.0, "x": [1e2, 1.5]}"#).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&again).unwrap();
        assert_eq!(value, serde_json::json!({"days": 87, "x": [100, 1.5]}));
        assert!(integral_floats_as_integers(br#"{"days": 87}"#).is_none());
        assert!(integral_floats_as_integers(b"not json").is_none());
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_the_token_required() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer abc"), Some("abc"));
        assert_eq!(bearer_token("BEARER  abc "), Some("abc"));
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearerabc"), None);
    }
}
