//! # SIPREMS assistant model providers
//!
//! The external chat models behind the SIPREMS assistant, and the tool-call loop that lets
//! them read the shop's data. Like `siprems-forecast`, this crate knows no database, no HTTP
//! server and no SIPREMS domain type: the main crate hands it a system instruction, the
//! conversation so far, the tool declarations and a [`ToolExecutor`] callback, and gets back
//! the answer (streamed as [`StreamEvent`]s) and the turns to append to the stored history.
//!
//! Two providers implement [`Provider`]:
//!
//! | constructor | wire format | endpoint |
//! | --- | --- | --- |
//! | [`gemini`] | Gemini REST `generateContent` | `POST {base_url}/v1beta/models/{model}:generateContent` or `:streamGenerateContent?alt=sse`, key in `x-goog-api-key` |
//! | [`openai_compatible`] | OpenAI chat completions | `POST {base_url}/chat/completions`, `Authorization: Bearer {key}` when a key is set (OpenAI, llama.cpp server, Ollama, vLLM) |
//!
//! The built-in (offline) assistant lives in the main crate and may implement [`Provider`]
//! too; nothing here depends on it.
//!
//! ## Interface
//!
//! ```text
//! pub struct ToolSpec { pub name: String, pub description: String, pub parameters: Value }
//! pub struct ToolCall { pub id: String, pub name: String, pub arguments: Value, pub signature: Option<String> }
//! pub struct ToolOutput { pub call_id: String, pub name: String, pub content: Value }
//! pub enum Turn { User { text }, Model { text, tool_calls }, ToolResults { outputs } }  // serde tag "kind"
//! pub enum StreamEvent { Token(String), ToolCall { name: String, arguments: Value } }
//! pub trait ToolExecutor: Send + Sync {
//!     fn execute<'a>(&'a self, call: &'a ToolCall) -> BoxFuture<'a, Value>;
//! }
//! pub struct Request<'a> { pub system: &'a str, pub history: &'a [Turn], pub tools: &'a [ToolSpec], pub max_rounds: usize }
//! pub struct Completion { pub text: String, pub new_turns: Vec<Turn> }
//! pub trait Provider: Send + Sync {
//!     fn name(&self) -> &'static str;
//!     fn complete<'a>(&'a self, request: Request<'a>, tools: &'a dyn ToolExecutor,
//!                     events: UnboundedSender<StreamEvent>) -> BoxFuture<'a, Result<Completion, ProviderError>>;
//! }
//! pub enum ProviderError { Timeout, Unreachable(_), Status { status, message }, Malformed(String),
//!                          Blocked(String), TooManyToolRounds(usize) }   // .http_status() -> 504/503/502
//! pub fn gemini(GeminiConfig) -> Result<Box<dyn Provider>, ConfigError>;
//! pub fn openai_compatible(OpenAiConfig) -> Result<Box<dyn Provider>, ConfigError>;
//! ```
//!
//! ## One call of [`Provider::complete`]
//!
//! 1. The model is called with the system instruction, the history (which ends with the new
//!    [`Turn::User`]) and the tool declarations.
//! 2. While its answer asks for tools and fewer than [`Request::max_rounds`] tool rounds have
//!    run: each call is announced as [`StreamEvent::ToolCall`], run through the
//!    [`ToolExecutor`] (one after the other, in the model's order), and the model turn plus one
//!    [`Turn::ToolResults`] holding *every* call's output (ids matched) are appended; then the
//!    model is called again. A model that still asks for tools after `max_rounds` rounds ends
//!    the call with [`ProviderError::TooManyToolRounds`].
//! 3. Arguments that are not a JSON object (OpenAI's `arguments` string that does not parse,
//!    or parses to a non-object) never reach the executor: the model gets
//!    `{"error": "..."}` as that call's result and may try again.
//! 4. Every piece of text the model writes is sent as [`StreamEvent::Token`], in order, as
//!    it arrives (several tokens per answer when streaming). Text of different model calls is
//!    separated by a blank line. [`Completion::text`] is exactly the concatenation of the
//!    tokens, so a streamed answer and the stored one are the same.
//! 5. [`Completion::new_turns`] holds every [`Turn::Model`] and [`Turn::ToolResults`] this call
//!    produced, the final model turn last: append them to the stored history. On an error
//!    nothing is returned, so the stored history stays as it was.
//!
//! A model answer with neither text nor tool calls is [`ProviderError::Malformed`]; a prompt
//! the provider refuses (Gemini's `promptFeedback.blockReason`, or a candidate stopped for
//! safety with no content) is [`ProviderError::Blocked`]: never an empty answer.
//!
//! ## Wire formats
//!
//! **Gemini** (`generateContent`): `systemInstruction: {parts: [{text}]}`; `contents` with
//! roles `user` and `model`: a [`Turn::User`] is `{role: "user", parts: [{text}]}`, a
//! [`Turn::Model`] is `{role: "model", parts: [{text}?, {functionCall: {id?, name, args},
//! thoughtSignature?}...]}`, a [`Turn::ToolResults`] is *one* `user` content with one
//! `{functionResponse: {id?, name, response}}` part per call (a non-object result is wrapped
//! as `{"output": result}`, since `response` must be an object). `tools:
//! [{functionDeclarations: [{name, description, parameters}]}]`, where `parameters` is the
//! JSON Schema reduced to the OpenAPI subset Gemini accepts (unknown keywords such as
//! `additionalProperties` and `$schema` removed, `type: [T, "null"]` turned into `type: T,
//! nullable: true`). `generationConfig` carries the temperature when one is configured.
//! The answer is `candidates[0].content.parts[]` (`text`, `functionCall`, `thoughtSignature`,
//! `thought`); `finishReason` and `usageMetadata` are logged at debug level.
//!
//! Within one [`Provider::complete`] call, the next request repeats the model's content
//! exactly as received (every part, `thoughtSignature` included, thought parts included), as
//! Gemini requires for function calling with thinking models. In the stored history a model
//! turn keeps its text and its calls with their signatures ([`ToolCall::signature`]), which
//! is what later turns need (Gemini validates signatures only in the current turn).
//! Gemini may give a call no `id`: then [`ToolCall::id`] is generated (it starts with
//! [`GENERATED_ID_PREFIX`]), and no id is sent back with the call or its response; the
//! responses are matched by order and name.
//!
//! Streaming uses `:streamGenerateContent?alt=sse`: every SSE `data:` event is a whole
//! `GenerateContentResponse` holding the next parts (text in pieces, function calls whole).
//!
//! **OpenAI-compatible** (`chat/completions`): `messages` are `{role: "system", content}`,
//! `{role: "user", content}`, `{role: "assistant", content: text or null, tool_calls: [{id,
//! type: "function", function: {name, arguments: "<JSON string>"}}]}` and one `{role: "tool",
//! tool_call_id, content: "<JSON string>"}` per call; `tools: [{type: "function", function:
//! {name, description, parameters}}]`. The answer is `choices[0].message`; streamed
//! (`stream: true`), `choices[0].delta.content` pieces and `delta.tool_calls` fragments
//! assembled by `index` (id and name in the first fragment, `arguments` concatenated), up to
//! `data: [DONE]`. An `arguments` string that is empty means `{}`; one that is not valid JSON
//! is kept as a JSON string in [`ToolCall::arguments`]. Within one [`Provider::complete`]
//! call the assistant message goes back with the `arguments` strings exactly as the model
//! wrote them; from the stored history, a parsed object is sent as compact JSON.
//!
//! ## Errors and timeouts
//!
//! Every HTTP call (request and whole response, streamed or not) is bounded by the
//! configured timeout ([`ProviderError::Timeout`], 504). A refused or broken connection is
//! [`ProviderError::Unreachable`] (503); a provider's 429 or 5xx is [`ProviderError::Status`]
//! answered 503, any other non-success status [`ProviderError::Status`] answered 502; a body
//! that does not parse is [`ProviderError::Malformed`] (502). See
//! [`ProviderError::http_status`]. The API key is sent only in a header, never logged, and
//! removed from any error message that would contain it; the configs' `Debug` redacts it.

mod gemini;
mod http;
mod openai;
mod tool_loop;

use std::fmt;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;

/// A tool the model may call: its name, what it does, and its arguments as a JSON Schema
/// object (`{"type": "object", "properties": {...}, "required": [...]}`).
#[derive(Clone, Debug, PartialEq)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub parameters: Value,
}

/// Ids of calls Gemini gave no id start with this; such ids are never sent to Gemini.
pub const GENERATED_ID_PREFIX: &str = "siprems-call-";

/// One function call the model asked for.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ToolCall {
    /// The provider's id (OpenAI `tool_calls[].id`, Gemini `functionCall.id`), or one made
    /// here starting with [`GENERATED_ID_PREFIX`] when Gemini gave none.
    pub id: String,
    pub name: String,
    /// The arguments as a JSON object. OpenAI's `arguments` string is parsed; when it is not
    /// valid JSON it stays here as a JSON string (and the call is answered with an error).
    pub arguments: Value,
    /// Gemini's `thoughtSignature` on this call's part, sent back unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// The result of one [`ToolCall`], matched to it by `call_id` (and `name`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ToolOutput {
    pub call_id: String,
    pub name: String,
    /// The tool's JSON result; a refused or failed call is `{"error": "..."}`.
    pub content: Value,
}

/// One entry of a conversation, as stored in the history (serde: tagged by `"kind"`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Turn {
    User {
        text: String,
    },
    Model {
        text: String,
        #[serde(default)]
        tool_calls: Vec<ToolCall>,
    },
    /// The outputs of every call of the preceding [`Turn::Model`], in its order.
    ToolResults {
        outputs: Vec<ToolOutput>,
    },
}

/// What [`Provider::complete`] reports while it works.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamEvent {
    /// The next piece of the answer's text.
    Token(String),
    /// A tool call about to be run (arguments as in [`ToolCall::arguments`]).
    ToolCall { name: String, arguments: Value },
}

/// Runs the model's tool calls; implemented by the main crate.
pub trait ToolExecutor: Send + Sync {
    /// Runs one tool; a refused or failed call comes back as JSON `{"error": "..."}` for the
    /// model. Called only with `call.arguments` a JSON object.
    fn execute<'a>(&'a self, call: &'a ToolCall) -> BoxFuture<'a, Value>;
}

/// One question to a provider.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The system instruction.
    pub system: &'a str,
    /// The conversation so far, ending with the new [`Turn::User`].
    pub history: &'a [Turn],
    /// The tools the model may call (none: the model cannot call any).
    pub tools: &'a [ToolSpec],
    /// How many tool rounds (model asks, tools run, results go back) one answer may take.
    pub max_rounds: usize,
}

/// The answer of [`Provider::complete`].
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    /// The answer's text: exactly the concatenation of the [`StreamEvent::Token`]s sent.
    pub text: String,
    /// Every model turn and tool-results turn produced, the final model turn last.
    pub new_turns: Vec<Turn>,
}

/// A chat model reached over HTTP.
pub trait Provider: Send + Sync {
    /// `"gemini"` or `"openai-compatible"`.
    fn name(&self) -> &'static str;

    /// Answers `request`, running the model's tool calls through `tools`; streams the text
    /// as [`StreamEvent::Token`]s and announces each call as [`StreamEvent::ToolCall`] on
    /// `events` (a closed receiver is ignored: the answer is still completed).
    fn complete<'a>(
        &'a self,
        request: Request<'a>,
        tools: &'a dyn ToolExecutor,
        events: UnboundedSender<StreamEvent>,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>>;
}

/// Why a provider gave no answer. Messages never contain the API key.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("the model provider did not answer in time")]
    Timeout,
    #[error("the model provider cannot be reached: {0}")]
    Unreachable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the model provider answered HTTP {status}: {message}")]
    Status { status: u16, message: String },
    #[error("the model provider's answer could not be understood: {0}")]
    Malformed(String),
    #[error("the model provider refused the prompt ({0})")]
    Blocked(String),
    #[error("the model still asked for tools after {0} rounds")]
    TooManyToolRounds(usize),
}

impl ProviderError {
    /// The status SIPREMS answers with: 504 for a timeout; 503 when the provider cannot be
    /// reached, is rate-limiting (429) or failing (5xx); 502 otherwise.
    pub fn http_status(&self) -> u16 {
        match self {
            ProviderError::Timeout => 504,
            ProviderError::Unreachable(_) => 503,
            ProviderError::Status { status, .. } if *status == 429 || *status >= 500 => 503,
            ProviderError::Status { .. }
            | ProviderError::Malformed(_)
            | ProviderError::Blocked(_)
            | ProviderError::TooManyToolRounds(_) => 502,
        }
    }
}

/// A provider configuration that cannot work (empty key or model, unusable URL).
#[derive(Debug, thiserror::Error)]
#[error("invalid model provider configuration: {0}")]
pub struct ConfigError(pub String);

/// The default Gemini model.
pub const DEFAULT_GEMINI_MODEL: &str = "gemini-2.5-flash";
/// The Gemini API's address.
pub const DEFAULT_GEMINI_BASE_URL: &str = "https://generativelanguage.googleapis.com";
/// The default timeout of one HTTP call to a provider.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Gemini's settings. `Debug` does not show the key.
#[derive(Clone)]
pub struct GeminiConfig {
    pub api_key: String,
    /// e.g. [`DEFAULT_GEMINI_MODEL`].
    pub model: String,
    /// e.g. [`DEFAULT_GEMINI_BASE_URL`] (no trailing `/v1beta`).
    pub base_url: String,
    /// Bound of one HTTP call, streamed body included.
    pub timeout: Duration,
    /// `true`: `:streamGenerateContent?alt=sse`, text as it is written; `false`:
    /// `:generateContent`, the text of each model call as one token.
    pub stream: bool,
    /// `generationConfig.temperature`; `None` leaves the model's default (Google advises
    /// keeping it for Gemini 3).
    pub temperature: Option<f32>,
}

impl GeminiConfig {
    /// The defaults: [`DEFAULT_GEMINI_MODEL`], [`DEFAULT_GEMINI_BASE_URL`],
    /// [`DEFAULT_TIMEOUT`], streaming, the model's temperature.
    pub fn new(api_key: impl Into<String>) -> Self {
        Self {
            api_key: api_key.into(),
            model: DEFAULT_GEMINI_MODEL.to_owned(),
            base_url: DEFAULT_GEMINI_BASE_URL.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            stream: true,
            temperature: None,
        }
    }
}

impl fmt::Debug for GeminiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeminiConfig")
            .field("api_key", &"[redacted]")
            .field("model", &self.model)
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("stream", &self.stream)
            .field("temperature", &self.temperature)
            .finish()
    }
}

/// An OpenAI-compatible endpoint's settings. `Debug` does not show the key.
#[derive(Clone)]
pub struct OpenAiConfig {
    /// Up to and including the version, e.g. `https://api.openai.com/v1` or
    /// `http://127.0.0.1:8081/v1`; `/chat/completions` is appended.
    pub base_url: String,
    pub model: String,
    /// Sent as `Authorization: Bearer` when set (local servers usually need none).
    pub api_key: Option<String>,
    /// Bound of one HTTP call, streamed body included.
    pub timeout: Duration,
    /// `true`: `stream: true` (SSE), text as it is written; `false`: one JSON answer per
    /// model call, its text as one token.
    pub stream: bool,
    /// `temperature`; `None` leaves the server's default.
    pub temperature: Option<f32>,
}

impl OpenAiConfig {
    /// No key, [`DEFAULT_TIMEOUT`], streaming, the server's temperature.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            model: model.into(),
            api_key: None,
            timeout: DEFAULT_TIMEOUT,
            stream: true,
            temperature: None,
        }
    }
}

impl fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("timeout", &self.timeout)
            .field("stream", &self.stream)
            .field("temperature", &self.temperature)
            .finish()
    }
}

/// The Gemini provider. Fails on an empty key or model or a base URL that is not http(s).
pub fn gemini(config: GeminiConfig) -> Result<Box<dyn Provider>, ConfigError> {
    Ok(Box::new(gemini::Gemini::new(config)?))
}

/// The OpenAI-compatible provider. Fails on an empty model, an empty key (use `None`) or a
/// base URL that is not http(s).
pub fn openai_compatible(config: OpenAiConfig) -> Result<Box<dyn Provider>, ConfigError> {
    Ok(Box::new(openai::OpenAi::new(config)?))
}
