//! A stub model provider on 127.0.0.1 (port 0): it records every request it receives and
//! answers each with the next scripted reply, so a test can assert the exact requests
//! (path, headers, JSON body) after the call. A request beyond the script is answered 500
//! and recorded, so it fails the test's assertions instead of hanging.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the support"
)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use futures::future::BoxFuture;
use llm::{StreamEvent, ToolCall, ToolExecutor};
use serde_json::{Value, json};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

/// One scripted answer of the stub.
pub enum Reply {
    /// `application/json` with this status.
    Json(u16, Value),
    /// `text/event-stream`: one `data:` event per string, in order, with this line ending.
    Sse(Vec<String>, &'static str),
    /// Any body with this status.
    Text(u16, &'static str),
    /// Waits this long before answering (to trip the client's timeout).
    Slow(Duration, Box<Reply>),
}

impl Reply {
    /// SSE events from JSON values, `\n\n` framing.
    pub fn sse(events: &[Value]) -> Reply {
        Reply::Sse(events.iter().map(Value::to_string).collect(), "\n")
    }
}

/// What the stub received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query, e.g. `/v1beta/models/m:streamGenerateContent?alt=sse`.
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Default)]
struct Script {
    replies: VecDeque<Reply>,
    received: Vec<Recorded>,
}

pub struct Stub {
    pub base: String,
    script: Arc<Mutex<Script>>,
}

impl Stub {
    pub async fn start(replies: Vec<Reply>) -> Stub {
        let script = Arc::new(Mutex::new(Script {
            replies: replies.into(),
            received: Vec::new(),
        }));
        let app = Router::new()
            .fallback(answer)
            .with_state(Arc::clone(&script));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Stub {
            base: format!("http://{addr}"),
            script,
        }
    }

    /// Every request received so far, in order.
    pub fn received(&self) -> Vec<Recorded> {
        self.script.lock().unwrap().received.clone()
    }

    /// How many scripted replies were not used.
    pub fn unused(&self) -> usize {
        self.script.lock().unwrap().replies.len()
    }
}

async fn answer(State(script): State<Arc<Mutex<Script>>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    let reply = {
        let mut script = script.lock().unwrap();
        script.received.push(Recorded {
            method: parts.method.to_string(),
            uri: parts
                .uri
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            headers: parts.headers,
            body,
        });
        script.replies.pop_front()
    };
    match reply {
        Some(reply) => respond(reply).await,
        None => respond(Reply::Text(500, "stub: no reply scripted for this request")).await,
    }
}

fn respond(reply: Reply) -> BoxFuture<'static, Response> {
    Box::pin(async move {
        let (status, content_type, body) = match reply {
            Reply::Json(status, value) => (status, "application/json", value.to_string()),
            Reply::Sse(events, eol) => {
                let body: String = events
                    .iter()
                    .map(|e| format!("data: {e}{eol}{eol}"))
                    .collect();
                (200, "text/event-stream", body)
            }
            Reply::Text(status, text) => (status, "text/plain", text.to_owned()),
            Reply::Slow(wait, reply) => {
                tokio::time::sleep(wait).await;
                return respond(*reply).await;
            }
        };
        Response::builder()
            .status(StatusCode::from_u16(status).unwrap())
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap()
    })
}

/// A [`ToolExecutor`] that records the calls it runs and answers from a fixed table.
pub struct Tools {
    results: Vec<(&'static str, Value)>,
    pub ran: Mutex<Vec<ToolCall>>,
}

impl Tools {
    pub fn new(results: Vec<(&'static str, Value)>) -> Self {
        Self {
            results,
            ran: Mutex::new(Vec::new()),
        }
    }

    pub fn ran(&self) -> Vec<ToolCall> {
        self.ran.lock().unwrap().clone()
    }
}

impl ToolExecutor for Tools {
    fn execute<'a>(&'a self, call: &'a ToolCall) -> BoxFuture<'a, Value> {
        Box::pin(async move {
            self.ran.lock().unwrap().push(call.clone());
            self.results
                .iter()
                .find(|(name, _)| *name == call.name)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| json!({ "error": format!("unknown tool {}", call.name) }))
        })
    }
}

/// A sender for `complete` and a way to read everything sent once it is done.
pub fn events() -> (UnboundedSender<StreamEvent>, Events) {
    let (tx, rx) = unbounded_channel();
    (tx, Events(rx))
}

pub struct Events(tokio::sync::mpsc::UnboundedReceiver<StreamEvent>);

impl Events {
    /// Every event sent (call after `complete` returned: the sender is gone then).
    pub fn all(mut self) -> Vec<StreamEvent> {
        let mut all = Vec::new();
        while let Ok(event) = self.0.try_recv() {
            all.push(event);
        }
        all
    }
}

pub fn token(text: &str) -> StreamEvent {
    StreamEvent::Token(text.to_owned())
}

/// The shop's tools as the main crate might declare them, with keywords Gemini refuses.
pub fn shop_tools() -> Vec<llm::ToolSpec> {
    vec![
        llm::ToolSpec {
            name: "low_stock".into(),
            description: "Products at or below their reorder point".into(),
            parameters: json!({
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "properties": {
                    "limit": { "type": "integer", "minimum": 1, "maximum": 50 }
                },
                "additionalProperties": false
            }),
        },
        llm::ToolSpec {
            name: "product_forecast".into(),
            description: "Forecast of a product's daily demand".into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "sku": { "type": "string", "description": "Product SKU" },
                    "days": { "type": "integer", "minimum": 1, "maximum": 90 }
                },
                "required": ["sku"],
                "additionalProperties": false
            }),
        },
    ]
}

/// A port nothing listens on (bound, then released).
pub async fn closed_port() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

pub const SYSTEM: &str = "You are the SIPREMS shop assistant. Answer only from the tools' data.";
