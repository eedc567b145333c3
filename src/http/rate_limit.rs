//! Request rate limits per route class, per client address and per signed-in user. The
//! buckets live in the shared store, so the limit holds across every instance.
//!
//! When the shared store is unreachable the limits fail open: refusing all traffic
//! because the limiter is down would turn a Redis outage into a shop-wide outage, and
//! nginx's own per-address limits still stand in front of the API.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use std::time::Duration;

use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, retry_after_seconds};
use super::extract::bearer_token;
use crate::app::AppState;
use crate::domain::DomainError;
use crate::infra::shared_store::Admission;

/// A route class and its limit: requests per second and burst.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub class: &'static str,
    pub rate: f64,
    pub burst: u32,
}

pub const GENERAL: Limit = Limit {
    class: "api",
    rate: 10.0,
    burst: 20,
};
pub const PREDICT: Limit = Limit {
    class: "predict",
    rate: 3.0,
    burst: 5,
};
pub const CHAT: Limit = Limit {
    class: "chat",
    rate: 5.0,
    burst: 10,
};
pub const LOGIN: Limit = Limit {
    class: "login",
    rate: 1.0,
    burst: 10,
};
/// Registering and changing a password: each costs an Argon2 hash and neither is
/// something a person does often.
pub const ACCOUNT: Limit = Limit {
    class: "account",
    rate: 0.1,
    burst: 5,
};

pub fn limit_for(method: &Method, path: &str) -> Option<Limit> {
    if !path.starts_with("/api/") || path == "/api/openapi.json" {
        return None;
    }
    Some(if path.starts_with("/api/predict") {
        PREDICT
    } else if path.starts_with("/api/chat") {
        CHAT
    } else if method == Method::POST && path == "/api/auth/login" {
        LOGIN
    } else if method == Method::POST
        && (path == "/api/auth/register" || path == "/api/auth/change-password")
    {
        ACCOUNT
    } else {
        GENERAL
    })
}

pub async fn enforce(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !state.config.rate_limits {
        return next.run(request).await;
    }
    let Some(limit) = limit_for(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let mut keys = Vec::with_capacity(2);
    let proxies = state.config.proxy_peers();
    if let Some(address) = proxies.client_address(request.headers(), peer) {
        keys.push(format!("rl:{}:ip:{address}", limit.class));
    }
    let user = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_token)
        .and_then(|token| state.auth.user_id_of(token));
    if let Some(user) = user {
        keys.push(format!("rl:{}:user:{user}", limit.class));
    }
    for key in &keys {
        match state.shared.admit(key, limit.rate, limit.burst).await {
            Ok(Admission::Allowed) => {}
            Ok(Admission::RetryAfter(wait)) => return too_many_requests(wait, limit),
            Err(error) => {
                tracing::warn!(%error, "rate limiter unavailable; admitting");
                break;
            }
        }
    }
    next.run(request).await
}

fn too_many_requests(retry_after: Duration, limit: Limit) -> Response {
    let message = format!(
        "too many requests: the {} limit is {} per second (burst {}); retry in {} s",
        limit.class,
        limit.rate,
        limit.burst,
        retry_after_seconds(retry_after)
    );
    ApiError::from(DomainError::RateLimited {
        message,
        retry_after,
    })
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_fall_into_their_classes() {
        assert_eq!(limit_for(&Method::POST, "/api/predict"), Some(PREDICT));
        assert_eq!(
            limit_for(&Method::GET, "/api/predict/task/x"),
            Some(PREDICT)
        );
        assert_eq!(limit_for(&Method::POST, "/api/auth/login"), Some(LOGIN));
        assert_eq!(
            limit_for(&Method::POST, "/api/auth/register"),
            Some(ACCOUNT)
        );
        assert_eq!(
            limit_for(&Method::POST, "/api/auth/change-password"),
            Some(ACCOUNT)
        );
        assert_eq!(limit_for(&Method::GET, "/api/products"), Some(GENERAL));
        assert_eq!(limit_for(&Method::GET, "/health"), None);
        assert_eq!(limit_for(&Method::GET, "/metrics"), None);
    }
}
