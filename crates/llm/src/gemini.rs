//! Gemini REST `generateContent` / `streamGenerateContent?alt=sse`.

use std::time::Instant;

use futures::StreamExt;
use futures::future::BoxFuture;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc::UnboundedSender;

use crate::http::{HttpClient, base_url};
use crate::tool_loop::{self, Backend, LoopTurn, ModelReply, TextSink};
use crate::{
    Completion, ConfigError, GeminiConfig, Provider, ProviderError, Request, StreamEvent, ToolCall,
    ToolExecutor, ToolSpec, Turn,
};

pub(crate) struct Gemini {
    http: HttpClient,
    url: String,
    model: String,
    stream: bool,
    temperature: Option<f32>,
}

impl Gemini {
    pub(crate) fn new(config: GeminiConfig) -> Result<Self, ConfigError> {
        let key = config.api_key.trim().to_owned();
        if key.is_empty() {
            return Err(ConfigError("the Gemini API key is empty".into()));
        }
        let model = config.model.trim();
        let model = model.strip_prefix("models/").unwrap_or(model).to_owned();
        if model.is_empty() || model.contains(['/', '?', '#', ' ']) {
            return Err(ConfigError(format!(
                "Gemini model {model:?} is not a model name"
            )));
        }
        let base = base_url(&config.base_url)?;
        let url = if config.stream {
            format!("{base}/v1beta/models/{model}:streamGenerateContent?alt=sse")
        } else {
            format!("{base}/v1beta/models/{model}:generateContent")
        };
        let http = HttpClient::new(config.timeout, Some(("x-goog-api-key", key.clone(), key)))?;
        Ok(Self {
            http,
            url,
            model,
            stream: config.stream,
            temperature: config.temperature,
        })
    }

    fn body(&self, request: &Request<'_>, new_turns: &[LoopTurn]) -> Value {
        let mut contents: Vec<Value> = request.history.iter().filter_map(content).collect();
        for turn in new_turns {
            match &turn.raw {
                Some(raw) => contents.push(raw.clone()),
                None => contents.extend(content(&turn.turn)),
            }
        }
        let mut body = Map::new();
        if !request.system.is_empty() {
            body.insert(
                "systemInstruction".into(),
                json!({ "parts": [{ "text": request.system }] }),
            );
        }
        body.insert("contents".into(), Value::Array(contents));
        if !request.tools.is_empty() {
            let declarations: Vec<Value> = request.tools.iter().map(declaration).collect();
            body.insert(
                "tools".into(),
                json!([{ "functionDeclarations": declarations }]),
            );
        }
        if let Some(t) = self.temperature {
            body.insert("generationConfig".into(), json!({ "temperature": t }));
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
                let chunk: Value = serde_json::from_str(&data).map_err(|e| {
                    ProviderError::Malformed(format!("a streamed chunk is not JSON: {e}"))
                })?;
                answer.feed(&chunk, sink)?;
            }
        } else {
            let body = self.http.json(response).await?;
            answer.feed(&body, sink)?;
        }
        tracing::debug!(
            provider = "gemini",
            model = %self.model,
            finish_reason = answer.finish_reason.as_deref().unwrap_or(""),
            usage = %answer.usage,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "model call"
        );
        answer.finish()
    }
}

impl Backend for Gemini {
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

impl Provider for Gemini {
    fn name(&self) -> &'static str {
        "gemini"
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

/// A model answer gathered from one body or from the chunks of a stream.
#[derive(Default)]
struct Answer {
    /// The parts as received; consecutive plain text pieces of a stream joined.
    parts: Vec<Value>,
    finish_reason: Option<String>,
    usage: Value,
    saw_candidate: bool,
}

impl Answer {
    fn feed(&mut self, response: &Value, sink: &mut TextSink) -> Result<(), ProviderError> {
        if let Some(reason) = response
            .pointer("/promptFeedback/blockReason")
            .and_then(Value::as_str)
        {
            return Err(ProviderError::Blocked(format!("blockReason {reason}")));
        }
        if let Some(usage) = response.get("usageMetadata") {
            self.usage = usage.clone();
        }
        let Some(candidate) = response.pointer("/candidates/0") else {
            // A stream may end with a chunk holding only usageMetadata.
            return if response.get("usageMetadata").is_some() || self.saw_candidate {
                Ok(())
            } else {
                Err(ProviderError::Malformed(
                    "the answer has no candidate".into(),
                ))
            };
        };
        self.saw_candidate = true;
        if let Some(reason) = candidate.get("finishReason").and_then(Value::as_str) {
            self.finish_reason = Some(reason.to_owned());
        }
        let parts = candidate
            .pointer("/content/parts")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for part in parts {
            if !part.is_object() {
                return Err(ProviderError::Malformed("a part is not an object".into()));
            }
            if let Some(text) = part.get("text").and_then(Value::as_str)
                && !is_thought(part)
            {
                sink.push(text);
            }
            self.add_part(part);
        }
        Ok(())
    }

    fn add_part(&mut self, part: &Value) {
        if let Some(last) = self.parts.last_mut()
            && is_plain_text(last)
            && is_plain_text(part)
            && is_thought(last) == is_thought(part)
        {
            let joined = format!(
                "{}{}",
                last["text"].as_str().unwrap_or_default(),
                part["text"].as_str().unwrap_or_default()
            );
            last["text"] = Value::String(joined);
            return;
        }
        self.parts.push(part.clone());
    }

    fn finish(self) -> Result<ModelReply, ProviderError> {
        let mut text = String::new();
        let mut calls = Vec::new();
        for part in &self.parts {
            if let Some(t) = part.get("text").and_then(Value::as_str)
                && !is_thought(part)
            {
                text.push_str(t);
            }
            if let Some(call) = part.get("functionCall") {
                calls.push(tool_call(call, part)?);
            }
        }
        if text.is_empty() && calls.is_empty() {
            let reason = self.finish_reason.as_deref().unwrap_or("none");
            if BLOCKING_FINISH_REASONS.contains(&reason) {
                return Err(ProviderError::Blocked(format!("finishReason {reason}")));
            }
            return Err(ProviderError::Malformed(format!(
                "the model answered with neither text nor a function call (finishReason {reason})"
            )));
        }
        Ok(ModelReply {
            text,
            calls,
            raw: Some(json!({ "role": "model", "parts": self.parts })),
        })
    }
}

/// Finish reasons that mean the answer was withheld, not that it was empty.
const BLOCKING_FINISH_REASONS: &[&str] = &[
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
];

fn is_thought(part: &Value) -> bool {
    part.get("thought").and_then(Value::as_bool) == Some(true)
}

/// A text part with nothing else but possibly the `thought` flag (no signature).
fn is_plain_text(part: &Value) -> bool {
    part.as_object().is_some_and(|o| {
        o.get("text").is_some_and(Value::is_string)
            && o.keys().all(|k| k == "text" || k == "thought")
    })
}

fn tool_call(call: &Value, part: &Value) -> Result<ToolCall, ProviderError> {
    let name = call
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ProviderError::Malformed("a functionCall has no name".into()))?;
    let arguments = match call.get("args") {
        None | Some(Value::Null) => json!({}),
        Some(args) => args.clone(),
    };
    let id = match call.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => id.to_owned(),
        _ => tool_loop::generated_id(),
    };
    Ok(ToolCall {
        id,
        name: name.to_owned(),
        arguments,
        signature: part
            .get("thoughtSignature")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// A stored turn as a Gemini `Content` (none for an empty model turn).
fn content(turn: &Turn) -> Option<Value> {
    match turn {
        Turn::User { text } => Some(json!({ "role": "user", "parts": [{ "text": text }] })),
        Turn::Model { text, tool_calls } => {
            let mut parts = Vec::new();
            if !text.is_empty() {
                parts.push(json!({ "text": text }));
            }
            for call in tool_calls {
                let mut function_call = Map::new();
                if !tool_loop::is_generated_id(&call.id) {
                    function_call.insert("id".into(), json!(call.id));
                }
                function_call.insert("name".into(), json!(call.name));
                let args = match &call.arguments {
                    Value::Object(_) => call.arguments.clone(),
                    other => json!({ "arguments": other }),
                };
                function_call.insert("args".into(), args);
                let mut part = Map::new();
                part.insert("functionCall".into(), Value::Object(function_call));
                if let Some(signature) = &call.signature {
                    part.insert("thoughtSignature".into(), json!(signature));
                }
                parts.push(Value::Object(part));
            }
            (!parts.is_empty()).then(|| json!({ "role": "model", "parts": parts }))
        }
        Turn::ToolResults { outputs } => {
            let parts: Vec<Value> = outputs
                .iter()
                .map(|output| {
                    let mut response = Map::new();
                    if !tool_loop::is_generated_id(&output.call_id) {
                        response.insert("id".into(), json!(output.call_id));
                    }
                    response.insert("name".into(), json!(output.name));
                    let value = match &output.content {
                        Value::Object(_) => output.content.clone(),
                        other => json!({ "output": other }),
                    };
                    response.insert("response".into(), value);
                    json!({ "functionResponse": response })
                })
                .collect();
            (!parts.is_empty()).then(|| json!({ "role": "user", "parts": parts }))
        }
    }
}

fn declaration(tool: &ToolSpec) -> Value {
    let mut declaration = Map::new();
    declaration.insert("name".into(), json!(tool.name));
    declaration.insert("description".into(), json!(tool.description));
    let parameters = schema(&tool.parameters);
    // Gemini refuses an OBJECT schema without properties: a tool without arguments has none.
    let has_properties = parameters
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty());
    if has_properties {
        declaration.insert("parameters".into(), parameters);
    }
    Value::Object(declaration)
}

/// The JSON Schema keywords Gemini's OpenAPI-subset `Schema` accepts.
const SCHEMA_KEYS: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
];

/// A JSON Schema reduced to what Gemini accepts (recursively).
fn schema(input: &Value) -> Value {
    let Some(object) = input.as_object() else {
        return input.clone();
    };
    let mut out = Map::new();
    for (key, value) in object {
        match key.as_str() {
            "type" => match value {
                // ["string", "null"] -> "string", nullable
                Value::Array(types) => {
                    if types.iter().any(|t| t == "null") {
                        out.insert("nullable".into(), json!(true));
                    }
                    if let Some(t) = types.iter().find(|t| *t != "null") {
                        out.insert("type".into(), t.clone());
                    }
                }
                other => {
                    out.insert("type".into(), other.clone());
                }
            },
            "properties" => {
                let properties = value
                    .as_object()
                    .map(|p| p.iter().map(|(k, v)| (k.clone(), schema(v))).collect())
                    .unwrap_or_default();
                out.insert(key.clone(), Value::Object(properties));
            }
            "items" => {
                out.insert(key.clone(), schema(value));
            }
            "anyOf" => {
                let variants = value
                    .as_array()
                    .map(|a| a.iter().map(schema).collect())
                    .unwrap_or_default();
                out.insert(key.clone(), Value::Array(variants));
            }
            "const" if !object.contains_key("enum") => {
                out.insert("enum".into(), json!([value]));
            }
            k if SCHEMA_KEYS.contains(&k) => {
                out.insert(key.clone(), value.clone());
            }
            _ => {}
        }
    }
    // Gemini knows only these formats; "date", "email", ... are refused.
    if let Some(format) = out.get("format").and_then(Value::as_str) {
        let known = matches!(
            (out.get("type").and_then(Value::as_str), format),
            (Some("string"), "enum" | "date-time")
                | (Some("number"), "float" | "double")
                | (Some("integer"), "int32" | "int64")
        );
        if !known {
            out.remove("format");
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_lose_what_gemini_refuses() {
        let input = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "sku": { "type": "string", "description": "SKU", "format": "uuid" },
                "since": { "type": ["string", "null"], "format": "date-time" },
                "days": { "type": "integer", "minimum": 1, "maximum": 90, "exclusiveMaximum": 91 },
                "tags": { "type": "array", "items": { "type": "string", "$id": "x" } },
                "unit": { "const": "pcs" }
            },
            "required": ["sku"]
        });
        assert_eq!(
            schema(&input),
            json!({
                "type": "object",
                "properties": {
                    "sku": { "type": "string", "description": "SKU" },
                    "since": { "type": "string", "nullable": true, "format": "date-time" },
                    "days": { "type": "integer", "minimum": 1, "maximum": 90 },
                    "tags": { "type": "array", "items": { "type": "string" } },
                    "unit": { "enum": ["pcs"] }
                },
                "required": ["sku"]
            })
        );
    }

    #[test]
    fn a_tool_without_arguments_declares_no_parameters() {
        let tool = ToolSpec {
            name: "upcoming_events".into(),
            description: "Events ahead".into(),
            parameters: json!({ "type": "object", "properties": {} }),
        };
        assert_eq!(
            declaration(&tool),
            json!({ "name": "upcoming_events", "description": "Events ahead" })
        );
    }
}
