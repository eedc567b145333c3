//! OpenAI-compatible `chat/completions` (OpenAI, llama.cpp server, Ollama, vLLM).

use std::time::Instant;

use futures::StreamExt;
use futures::future::BoxFuture;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc::UnboundedSender;

use crate::http::{HttpClient, base_url, truncate};
use crate::tool_loop::{self, Backend, LoopTurn, ModelReply, TextSink};
use crate::{
    Completion, ConfigError, OpenAiConfig, Provider, ProviderError, Request, StreamEvent, ToolCall,
    ToolExecutor, Turn,
};

pub(crate) struct OpenAi {
    http: HttpClient,
    url: String,
    model: String,
    stream: bool,
    temperature: Option<f32>,
}

impl OpenAi {
    pub(crate) fn new(config: OpenAiConfig) -> Result<Self, ConfigError> {
        let model = config.model.trim().to_owned();
        if model.is_empty() {
            return Err(ConfigError("the OpenAI-compatible model is empty".into()));
        }
        let auth = match config.api_key.as_deref().map(str::trim) {
            None => None,
            Some("") => {
                return Err(ConfigError(
                    "the OpenAI-compatible API key is empty (leave it unset for none)".into(),
                ));
            }
            Some(key) => Some(("authorization", format!("Bearer {key}"), key.to_owned())),
        };
        let url = format!("{}/chat/completions", base_url(&config.base_url)?);
        Ok(Self {
            http: HttpClient::new(config.timeout, auth)?,
            url,
            model,
            stream: config.stream,
            temperature: config.temperature,
        })
    }

    fn body(&self, request: &Request<'_>, new_turns: &[LoopTurn]) -> Value {
        let mut messages = Vec::new();
        if !request.system.is_empty() {
            messages.push(json!({ "role": "system", "content": request.system }));
        }
        for turn in request.history {
            push_messages(&mut messages, turn);
        }
        for turn in new_turns {
            match &turn.raw {
                Some(raw) => messages.push(raw.clone()),
                None => push_messages(&mut messages, &turn.turn),
            }
        }
        let mut body = Map::new();
        body.insert("model".into(), json!(self.model));
        body.insert("messages".into(), Value::Array(messages));
        if !request.tools.is_empty() {
            let tools: Vec<Value> = request
                .tools
                .iter()
                .map(|tool| {
                    json!({
                        "type": "function",
                        "function": {
                            "name": tool.name,
                            "description": tool.description,
                            "parameters": tool.parameters,
                        }
                    })
                })
                .collect();
            body.insert("tools".into(), Value::Array(tools));
        }
        body.insert("stream".into(), json!(self.stream));
        if let Some(t) = self.temperature {
            body.insert("temperature".into(), json!(t));
        }
        Value::Object(body)
    }

    async fn call_model(
        &self,
        request: &Request<'_>,
        new_turns: &[LoopTurn],
        sink: &mut TextSink,
    ) -> Result<ModelReply, ProviderError> {
        let started = Instant::now();
        let response = self
            .http
            .post(&self.url, &self.body(request, new_turns))
            .await?;
        let mut answer = Answer::default();
        if self.stream {
            let mut events = std::pin::pin!(self.http.sse_data(response));
            while let Some(data) = events.next().await {
                let data = data?;
                if data.trim() == "[DONE]" {
                    break;
                }
                let chunk: Value = serde_json::from_str(&data).map_err(|e| {
                    ProviderError::Malformed(format!("a streamed chunk is not JSON: {e}"))
                })?;
                answer.feed_delta(&chunk, sink)?;
            }
        } else {
            let body = self.http.json(response).await?;
            answer.feed_message(&body, sink)?;
        }
        tracing::debug!(
            provider = "openai-compatible",
            model = %self.model,
            finish_reason = answer.finish_reason.as_deref().unwrap_or(""),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "model call"
        );
        Ok(answer.finish())
    }
}

impl Backend for OpenAi {
    async fn call(
        &self,
        request: &Request<'_>,
        new_turns: &[LoopTurn],
        sink: &mut TextSink,
    ) -> Result<ModelReply, ProviderError> {
        let reply = self.call_model(request, new_turns, sink).await;
        reply.map_err(|e| self.http.redact_error(e))
    }
}

impl Provider for OpenAi {
    fn name(&self) -> &'static str {
        "openai-compatible"
    }

    fn complete<'a>(
        &'a self,
        request: Request<'a>,
        tools: &'a dyn ToolExecutor,
        events: UnboundedSender<StreamEvent>,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>> {
        Box::pin(tool_loop::run(self, request, tools, events))
    }
}

/// A stored turn as chat-completions messages.
fn push_messages(messages: &mut Vec<Value>, turn: &Turn) {
    match turn {
        Turn::User { text } => messages.push(json!({ "role": "user", "content": text })),
        Turn::Model { text, tool_calls } => {
            let mut message = Map::new();
            message.insert("role".into(), json!("assistant"));
            let content = if text.is_empty() && !tool_calls.is_empty() {
                Value::Null
            } else {
                json!(text)
            };
            message.insert("content".into(), content);
            if !tool_calls.is_empty() {
                let calls: Vec<Value> = tool_calls
                    .iter()
                    .map(|call| {
                        json!({
                            "id": call.id,
                            "type": "function",
                            "function": {
                                "name": call.name,
                                "arguments": tool_loop::arguments_string(&call.arguments),
                            }
                        })
                    })
                    .collect();
                message.insert("tool_calls".into(), Value::Array(calls));
            }
            messages.push(Value::Object(message));
        }
        Turn::ToolResults { outputs } => {
            for output in outputs {
                messages.push(json!({
                    "role": "tool",
                    "tool_call_id": output.call_id,
                    "content": output.content.to_string(),
                }));
            }
        }
    }
}

/// A call being assembled from stream fragments.
#[derive(Default)]
struct PartialCall {
    index: Option<u64>,
    id: String,
    name: String,
    arguments: String,
}

#[derive(Default)]
struct Answer {
    text: String,
    calls: Vec<PartialCall>,
    finish_reason: Option<String>,
}

impl Answer {
    /// A whole (not streamed) answer: `choices[0].message`.
    fn feed_message(&mut self, body: &Value, sink: &mut TextSink) -> Result<(), ProviderError> {
        let choice = first_choice(body)?.ok_or_else(|| {
            ProviderError::Malformed("the answer has no choices[0].message".into())
        })?;
        let message = choice.get("message").ok_or_else(|| {
            ProviderError::Malformed("the answer has no choices[0].message".into())
        })?;
        self.absorb(choice, message, sink)
    }

    /// One streamed chunk: `choices[0].delta`.
    fn feed_delta(&mut self, chunk: &Value, sink: &mut TextSink) -> Result<(), ProviderError> {
        // Chunks without choices (a final usage chunk) carry nothing for us.
        let Some(choice) = first_choice(chunk)? else {
            return Ok(());
        };
        match choice.get("delta") {
            Some(delta) => self.absorb(choice, delta, sink),
            None => Ok(()),
        }
    }

    fn absorb(
        &mut self,
        choice: &Value,
        message: &Value,
        sink: &mut TextSink,
    ) -> Result<(), ProviderError> {
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finish_reason = Some(reason.to_owned());
        }
        if let Some(text) = message.get("content").and_then(Value::as_str) {
            sink.push(text);
            self.text.push_str(text);
        }
        let fragments = message
            .get("tool_calls")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for fragment in fragments {
            self.add_fragment(fragment)?;
        }
        Ok(())
    }

    /// Adds a `tool_calls[]` entry: a whole call, or a stream fragment joined to the call of
    /// its `index` (servers that send no index send each call whole, or its pieces in order).
    /// A fragment with a new id at an index already used starts a new call: Ollama sends
    /// every call of a parallel batch whole at index 0.
    fn add_fragment(&mut self, fragment: &Value) -> Result<(), ProviderError> {
        let index = fragment.get("index").and_then(Value::as_u64);
        let id = fragment
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let function = fragment.get("function");
        let name = function
            .and_then(|f| f.get("name"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let arguments = match function.and_then(|f| f.get("arguments")) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            // Some servers send the arguments as an object already.
            Some(other) => other.to_string(),
        };
        let existing = match index {
            Some(i) => self
                .calls
                .iter()
                .rposition(|c| c.index == Some(i))
                .filter(|&at| {
                    id.is_empty() || self.calls[at].id.is_empty() || self.calls[at].id == id
                }),
            None if id.is_empty() && name.is_empty() => self.calls.len().checked_sub(1),
            None => None,
        };
        let at = match existing {
            Some(at) => at,
            None => {
                if name.is_empty() {
                    return Err(ProviderError::Malformed(
                        "a tool call starts without a function name".into(),
                    ));
                }
                self.calls.push(PartialCall {
                    index,
                    ..PartialCall::default()
                });
                self.calls.len() - 1
            }
        };
        let call = &mut self.calls[at];
        if call.id.is_empty() {
            call.id = id.to_owned();
        }
        if call.name.is_empty() {
            call.name = name.to_owned();
        }
        call.arguments.push_str(&arguments);
        Ok(())
    }

    /// The reply, with the assistant message to repeat in the next request: the calls'
    /// `arguments` strings exactly as the model wrote them.
    fn finish(self) -> ModelReply {
        let mut calls = Vec::with_capacity(self.calls.len());
        let mut wire_calls = Vec::with_capacity(self.calls.len());
        for call in self.calls {
            let id = if call.id.is_empty() {
                tool_loop::generated_id()
            } else {
                call.id
            };
            wire_calls.push(json!({
                "id": id,
                "type": "function",
                "function": { "name": call.name, "arguments": call.arguments },
            }));
            calls.push(ToolCall {
                id,
                arguments: tool_loop::parse_arguments(&call.arguments),
                name: call.name,
                signature: None,
            });
        }
        let mut message = Map::new();
        message.insert("role".into(), json!("assistant"));
        let content = if self.text.is_empty() && !calls.is_empty() {
            Value::Null
        } else {
            json!(self.text)
        };
        message.insert("content".into(), content);
        if !wire_calls.is_empty() {
            message.insert("tool_calls".into(), Value::Array(wire_calls));
        }
        ModelReply {
            text: self.text,
            calls,
            raw: Some(Value::Object(message)),
        }
    }
}

/// `choices[0]`, or an error the server put in a 200 body or stream.
fn first_choice(body: &Value) -> Result<Option<&Value>, ProviderError> {
    if let Some(error) = body.get("error") {
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| error.to_string());
        return Err(ProviderError::Malformed(format!(
            "the provider reported an error: {}",
            truncate(&message, 300)
        )));
    }
    match body.get("choices") {
        Some(Value::Array(choices)) => Ok(choices.first()),
        _ => Err(ProviderError::Malformed("the answer has no choices".into())),
    }
}
