//! The provider-independent part of [`crate::Provider::complete`]: call the model, run the
//! tools it asks for, call it again, up to `max_rounds` tool rounds.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedSender;

use crate::{
    Completion, GENERATED_ID_PREFIX, ProviderError, Request, StreamEvent, ToolCall, ToolExecutor,
    ToolOutput, Turn,
};

/// A turn produced during this call, with the provider's own form of a model turn when it
/// must be repeated exactly (Gemini's parts with their signatures).
pub(crate) struct LoopTurn {
    pub turn: Turn,
    pub raw: Option<Value>,
}

/// What one model call gave.
pub(crate) struct ModelReply {
    /// Its text (what it pushed to the sink).
    pub text: String,
    pub calls: Vec<ToolCall>,
    /// The provider's form of this model turn, repeated as is in the next request.
    pub raw: Option<Value>,
}

/// One provider's wire format.
pub(crate) trait Backend: Send + Sync {
    /// Calls the model once with the request plus the turns of this call so far, pushing its
    /// text to `sink` as it arrives.
    fn call<'a>(
        &'a self,
        request: &'a Request<'a>,
        new_turns: &'a [LoopTurn],
        sink: &'a mut TextSink,
    ) -> impl Future<Output = Result<ModelReply, ProviderError>> + Send + 'a;
}

/// Sends the text as tokens and keeps it; separates the text of successive model calls.
pub(crate) struct TextSink {
    events: UnboundedSender<StreamEvent>,
    text: String,
    separate: bool,
}

impl TextSink {
    fn new(events: UnboundedSender<StreamEvent>) -> Self {
        Self {
            events,
            text: String::new(),
            separate: false,
        }
    }

    fn begin_model_call(&mut self) {
        self.separate = !self.text.is_empty();
    }

    pub(crate) fn push(&mut self, piece: &str) {
        if piece.is_empty() {
            return;
        }
        if self.separate {
            self.separate = false;
            self.token("\n\n");
        }
        self.token(piece);
    }

    fn token(&mut self, piece: &str) {
        self.text.push_str(piece);
        // A closed receiver (the client went away) does not stop the answer: it is stored.
        let _ = self.events.send(StreamEvent::Token(piece.to_owned()));
    }

    fn event(&self, event: StreamEvent) {
        let _ = self.events.send(event);
    }
}

pub(crate) async fn run<B: Backend>(
    backend: &B,
    request: Request<'_>,
    tools: &dyn ToolExecutor,
    events: UnboundedSender<StreamEvent>,
) -> Result<Completion, ProviderError> {
    let mut sink = TextSink::new(events);
    let mut turns: Vec<LoopTurn> = Vec::new();
    let mut rounds = 0;
    loop {
        sink.begin_model_call();
        let reply = backend.call(&request, &turns, &mut sink).await?;
        if reply.calls.is_empty() {
            if reply.text.trim().is_empty() {
                return Err(ProviderError::Malformed(
                    "the model answered with neither text nor a tool call".into(),
                ));
            }
            turns.push(LoopTurn {
                turn: Turn::Model {
                    text: reply.text,
                    tool_calls: Vec::new(),
                },
                raw: reply.raw,
            });
            return Ok(Completion {
                text: sink.text,
                new_turns: turns.into_iter().map(|t| t.turn).collect(),
            });
        }
        if rounds >= request.max_rounds {
            return Err(ProviderError::TooManyToolRounds(request.max_rounds));
        }
        rounds += 1;
        let mut outputs = Vec::with_capacity(reply.calls.len());
        for call in &reply.calls {
            sink.event(StreamEvent::ToolCall {
                name: call.name.clone(),
                arguments: call.arguments.clone(),
            });
            let content = if call.arguments.is_object() {
                tools.execute(call).await
            } else {
                json!({ "error": invalid_arguments(call) })
            };
            outputs.push(ToolOutput {
                call_id: call.id.clone(),
                name: call.name.clone(),
                content,
            });
        }
        tracing::debug!(round = rounds, calls = outputs.len(), "model tool round");
        turns.push(LoopTurn {
            turn: Turn::Model {
                text: reply.text,
                tool_calls: reply.calls,
            },
            raw: reply.raw,
        });
        turns.push(LoopTurn {
            turn: Turn::ToolResults { outputs },
            raw: None,
        });
    }
}

/// What the model is told when its arguments are not a JSON object.
fn invalid_arguments(call: &ToolCall) -> String {
    let problem = match &call.arguments {
        Value::String(raw) => match serde_json::from_str::<Value>(raw) {
            Err(e) => format!("are not valid JSON ({e})"),
            Ok(_) => "are not a JSON object".to_owned(),
        },
        _ => "are not a JSON object".to_owned(),
    };
    format!(
        "the arguments of {} {problem}; call it again with a JSON object that fits its parameters",
        call.name
    )
}

/// OpenAI's `arguments` string as [`ToolCall::arguments`]: the object it holds (`{}` when
/// empty), or the string itself when it is not a JSON object.
pub(crate) fn parse_arguments(raw: &str) -> Value {
    if raw.trim().is_empty() {
        return json!({});
    }
    match serde_json::from_str::<Value>(raw) {
        Ok(value @ Value::Object(_)) => value,
        _ => Value::String(raw.to_owned()),
    }
}

/// [`ToolCall::arguments`] as OpenAI's `arguments` string: what the model sent, unchanged.
pub(crate) fn arguments_string(arguments: &Value) -> String {
    match arguments {
        Value::String(raw) => raw.clone(),
        other => other.to_string(),
    }
}

/// An id for a call the provider gave none: unique in this process and across restarts.
pub(crate) fn generated_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{GENERATED_ID_PREFIX}{nanos:x}-{n}")
}

pub(crate) fn is_generated_id(id: &str) -> bool {
    id.starts_with(GENERATED_ID_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_round_trip_unchanged() {
        assert_eq!(parse_arguments(""), json!({}));
        assert_eq!(
            parse_arguments(r#"{"sku":"BRD-001"}"#),
            json!({"sku": "BRD-001"})
        );
        let broken = r#"{"sku": "BRD-001""#;
        assert_eq!(parse_arguments(broken), Value::String(broken.into()));
        assert_eq!(arguments_string(&parse_arguments(broken)), broken);
        assert_eq!(parse_arguments("[1]"), Value::String("[1]".into()));
        assert_eq!(
            arguments_string(&json!({"a": 1})),
            r#"{"a":1}"#,
            "an object is sent compact"
        );
    }

    #[test]
    fn generated_ids_are_marked_and_distinct() {
        let (a, b) = (generated_id(), generated_id());
        assert!(is_generated_id(&a) && is_generated_id(&b));
        assert_ne!(a, b);
        assert!(!is_generated_id("call_abc"));
    }

    #[test]
    fn the_model_is_told_what_is_wrong_with_its_arguments() {
        let call = ToolCall {
            id: "c".into(),
            name: "low_stock".into(),
            arguments: Value::String("{oops".into()),
            signature: None,
        };
        let message = invalid_arguments(&call);
        assert!(
            message.starts_with("the arguments of low_stock are not valid JSON"),
            "{message}"
        );
    }
}
