//! The shop's rules. Nothing here knows about HTTP: functions take the database handle
//! and plain inputs, and return views or a [`DomainError`].

pub mod assistant;
pub mod auth;
pub mod barcode;
pub mod calendar;
pub mod categories;
pub mod changes;
pub mod checkout;
pub mod dashboard;
pub mod events;
pub mod forecasting;
pub mod idempotency;
pub mod money;
pub mod products;
pub mod recommendations;
pub mod sales;
pub mod schema;
pub mod settings;
pub mod sku;
pub mod stock;
pub mod users;

use serde::Serialize;

use crate::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("{message}")]
    Validation {
        message: String,
        details: Option<serde_json::Value>,
    },
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("insufficient stock")]
    InsufficientStock(Vec<Shortage>),
    #[error("{0}")]
    Unprocessable(String),
    /// The Idempotency-Key was used before for a different request: the client must pick
    /// a new key (a retry would be refused the same way).
    #[error("this Idempotency-Key was already used for a different request")]
    IdempotencyKeyReused,
    /// A request with this Idempotency-Key is still running: retry it shortly.
    #[error("a request with this Idempotency-Key is still being processed")]
    IdempotencyKeyInFlight,
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after: std::time::Duration,
    },
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A dependency other than the database is down (the shared store holding chat
    /// history): retry later.
    #[error("{0}")]
    Unavailable(String),
    /// The assistant's external chat model failed; `status` is 502, 503 or 504.
    #[error("{message}")]
    Provider { status: u16, message: String },
    /// A failure that is nobody's input (a broken invariant, a crashed task); the cause is
    /// kept for the log, the client sees a plain 500.
    #[error("{context}")]
    Internal {
        context: String,
        #[source]
        source: Option<BoxError>,
    },
}

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl DomainError {
    pub fn validation(message: impl Into<String>) -> Self {
        DomainError::Validation {
            message: message.into(),
            details: None,
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        DomainError::NotFound(what.into())
    }

    /// An internal failure caused by `source`.
    pub fn internal(context: impl Into<String>, source: impl Into<BoxError>) -> Self {
        DomainError::Internal {
            context: context.into(),
            source: Some(source.into()),
        }
    }

    /// Something that should not happen, with no underlying error (data that should exist
    /// does not, a job that ran out of time).
    pub fn unexpected(context: impl Into<String>) -> Self {
        DomainError::Internal {
            context: context.into(),
            source: None,
        }
    }
}

/// One cart line that could not be served from stock.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Shortage {
    pub product_sku: String,
    pub requested: i64,
    pub available: i64,
}

pub type DomainResult<T> = Result<T, DomainError>;

/// Bounds for paging parameters shared by every list.
pub fn page_bounds(limit: Option<i64>, offset: Option<i64>) -> DomainResult<(i64, i64)> {
    let limit = limit.unwrap_or(50);
    let offset = offset.unwrap_or(0);
    if !(1..=500).contains(&limit) {
        return Err(DomainError::validation("limit must be between 1 and 500"));
    }
    if !(0..=10_000_000).contains(&offset) {
        return Err(DomainError::validation(
            "offset must be between 0 and 10000000",
        ));
    }
    Ok((limit, offset))
}

/// Checks a required free-text field: trimmed, non-empty, bounded.
pub fn required_text(field: &str, value: &str, max_chars: usize) -> DomainResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(DomainError::validation(format!(
            "{field} must not be empty"
        )));
    }
    optional_text(field, Some(value), max_chars).map(|v| v.unwrap_or_default())
}

/// Checks an optional free-text field; blank becomes `None`.
pub fn optional_text(
    field: &str,
    value: Option<&str>,
    max_chars: usize,
) -> DomainResult<Option<String>> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > max_chars {
        return Err(DomainError::validation(format!(
            "{field} must be at most {max_chars} characters"
        )));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(DomainError::validation(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(Some(value.to_owned()))
}

pub fn millis_to_rfc3339(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
