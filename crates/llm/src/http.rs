//! The HTTP side shared by both providers: one client with the configured timeout, the
//! secret header, error mapping (with the key redacted) and Server-Sent Events.

use std::time::Duration;

use eventsource_stream::{EventStreamError, Eventsource};
use futures::{Stream, StreamExt};
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::Value;

use crate::{ConfigError, ProviderError};

/// The longest provider error message kept (their bodies can be long HTML pages).
const MAX_MESSAGE_CHARS: usize = 300;

pub(crate) struct HttpClient {
    client: reqwest::Client,
    /// The header carrying the key (`x-goog-api-key`, `authorization`), marked sensitive.
    auth: Option<(HeaderName, HeaderValue)>,
    /// The key itself, only to strip it from error messages.
    secret: Option<String>,
}

impl HttpClient {
    /// `auth`: the header name, its value, and the secret inside that value.
    pub(crate) fn new(
        timeout: Duration,
        auth: Option<(&'static str, String, String)>,
    ) -> Result<Self, ConfigError> {
        if timeout.is_zero() {
            return Err(ConfigError("the timeout must be more than 0".into()));
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| ConfigError(format!("cannot build the HTTP client: {e}")))?;
        let (auth, secret) = match auth {
            None => (None, None),
            Some((name, value, secret)) => {
                let mut value = HeaderValue::from_str(&value).map_err(|_| {
                    ConfigError("the API key has characters a header cannot carry".into())
                })?;
                value.set_sensitive(true);
                (Some((HeaderName::from_static(name), value)), Some(secret))
            }
        };
        Ok(Self {
            client,
            auth,
            secret,
        })
    }

    /// POSTs `body` as JSON; a non-success status becomes [`ProviderError::Status`].
    pub(crate) async fn post(
        &self,
        url: &str,
        body: &Value,
    ) -> Result<reqwest::Response, ProviderError> {
        let mut builder = self.client.post(url).json(body);
        if let Some((name, value)) = &self.auth {
            builder = builder.header(name.clone(), value.clone());
        }
        let response = builder.send().await.map_err(|e| self.transport_error(e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        // The body only explains the status: when it cannot be read, the status still stands.
        let text = response.text().await.unwrap_or_default();
        Err(ProviderError::Status {
            status: status.as_u16(),
            message: self.redact(&error_message(&text, status)),
        })
    }

    /// The whole body as JSON.
    pub(crate) async fn json(&self, response: reqwest::Response) -> Result<Value, ProviderError> {
        let bytes = response
            .bytes()
            .await
            .map_err(|e| self.transport_error(e))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| ProviderError::Malformed(format!("the body is not JSON: {e}")))
    }

    /// The `data` of each Server-Sent Event of the body, in order.
    pub(crate) fn sse_data<'a>(
        &'a self,
        response: reqwest::Response,
    ) -> impl Stream<Item = Result<String, ProviderError>> + Send + 'a {
        response
            .bytes_stream()
            .eventsource()
            .map(move |event| match event {
                Ok(event) => Ok(event.data),
                Err(EventStreamError::Transport(e)) => Err(self.transport_error(e)),
                Err(e) => Err(ProviderError::Malformed(format!(
                    "the event stream is broken: {e}"
                ))),
            })
    }

    pub(crate) fn transport_error(&self, e: reqwest::Error) -> ProviderError {
        if e.is_timeout() {
            ProviderError::Timeout
        } else if e.is_decode() {
            ProviderError::Malformed(self.redact(&e.without_url().to_string()))
        } else {
            // Connect errors, and a connection broken while the body streams. reqwest's own
            // message is only "error sending request": the causes say what went wrong. The URL
            // never holds the key, but it is left out anyway.
            ProviderError::Unreachable(self.redact(&causes(&e.without_url())).into())
        }
    }

    /// The error with the key removed from its message (provider text can quote anything).
    pub(crate) fn redact_error(&self, error: ProviderError) -> ProviderError {
        match error {
            ProviderError::Status { status, message } => ProviderError::Status {
                status,
                message: self.redact(&message),
            },
            ProviderError::Malformed(m) => ProviderError::Malformed(self.redact(&m)),
            ProviderError::Blocked(m) => ProviderError::Blocked(self.redact(&m)),
            other => other,
        }
    }

    /// `text` without the key in it.
    pub(crate) fn redact(&self, text: &str) -> String {
        match &self.secret {
            Some(secret) if !secret.is_empty() => text.replace(secret.as_str(), "[redacted]"),
            _ => text.to_owned(),
        }
    }
}

/// An error and its sources as one line, repeated messages once.
fn causes(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line
}

/// What a provider's error body says: `error.message` (Gemini's and OpenAI's shape), a bare
/// `error` string (some local servers), or the start of the body.
fn error_message(body: &str, status: reqwest::StatusCode) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let message = parsed.as_ref().and_then(|v| {
        let error = v.get("error")?;
        error
            .get("message")
            .and_then(Value::as_str)
            .or_else(|| error.as_str())
            .map(str::to_owned)
    });
    let message = match message {
        Some(m) => m,
        None if body.trim().is_empty() => status
            .canonical_reason()
            .unwrap_or("no explanation")
            .to_owned(),
        None => body.trim().to_owned(),
    };
    truncate(&message, MAX_MESSAGE_CHARS)
}

pub(crate) fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_owned(),
    }
}

/// `base` without trailing slashes, checked to be an http(s) URL.
pub(crate) fn base_url(base: &str) -> Result<String, ConfigError> {
    let trimmed = base.trim().trim_end_matches('/');
    let url = reqwest::Url::parse(trimmed)
        .map_err(|e| ConfigError(format!("base URL {trimmed:?}: {e}")))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(ConfigError(format!(
            "base URL {trimmed:?} is not http or https"
        )));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_come_from_either_shape_or_the_body() {
        let status = reqwest::StatusCode::BAD_REQUEST;
        let gemini = r#"{"error": {"code": 400, "message": "API key not valid.", "status": "INVALID_ARGUMENT"}}"#;
        assert_eq!(error_message(gemini, status), "API key not valid.");
        assert_eq!(
            error_message(r#"{"error": "bad model"}"#, status),
            "bad model"
        );
        assert_eq!(error_message("", status), "Bad Request");
        assert_eq!(error_message(&"x".repeat(400), status).len(), 303);
    }

    #[test]
    fn base_urls_are_trimmed_and_checked() {
        assert_eq!(base_url("http://h:1/v1/").unwrap(), "http://h:1/v1");
        assert!(base_url("ftp://h").is_err());
        assert!(base_url("not a url").is_err());
    }

    #[test]
    fn the_key_is_redacted() {
        let client = HttpClient::new(
            Duration::from_secs(1),
            Some(("x-goog-api-key", "k-123".into(), "k-123".into())),
        )
        .unwrap();
        assert_eq!(
            client.redact("bad key k-123 given"),
            "bad key [redacted] given"
        );
    }
}
