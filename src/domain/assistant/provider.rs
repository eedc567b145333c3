//! The seam for external chat models (Gemini, OpenAI-compatible endpoints).
//!
//! These types mirror the interface of the provider crate `crates/llm` (package
//! `siprems-llm`, see `/work/plan/llm-interface.md`) field for field and serde shape for
//! serde shape, so that stored histories stay readable when the crate's own types replace
//! them: at the merge this module becomes `pub use siprems_llm::{...}` and nothing else in
//! the assistant changes. The built-in assistant needs none of it except [`Turn`], the
//! stored form of a conversation.

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

/// A tool an external model may call: its name, what it does and its JSON-Schema
/// parameters.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub parameters: serde_json::Value,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ToolCall {
    /// The provider's id of the call (generated when the provider gives none).
    pub id: String,
    pub name: String,
    pub arguments: serde_json::Value,
    /// Gemini's `thoughtSignature`, sent back unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ToolOutput {
    pub call_id: String,
    pub name: String,
    pub content: serde_json::Value,
}

/// One entry of a conversation, as stored in the history.
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
    ToolResults {
        outputs: Vec<ToolOutput>,
    },
}

/// What a provider reports while it works: answer text as it arrives, and each tool call.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamEvent {
    Token(String),
    ToolCall {
        name: String,
        arguments: serde_json::Value,
    },
}

/// Runs the assistant's read tools for a provider's tool calls.
pub trait ToolExecutor: Send + Sync {
    /// Runs one tool; a refused or failed call comes back as JSON `{"error": "..."}`.
    fn execute<'a>(&'a self, call: &'a ToolCall) -> BoxFuture<'a, serde_json::Value>;
}

pub struct Request<'a> {
    pub system: &'a str,
    /// The conversation so far, ending with the new user turn.
    pub history: &'a [Turn],
    pub tools: &'a [ToolSpec],
    pub max_rounds: usize,
}

pub struct Completion {
    pub text: String,
    /// Every model and tool-result turn produced, the final model turn last.
    pub new_turns: Vec<Turn>,
}

pub trait Provider: Send + Sync {
    /// `gemini`, `openai-compatible`.
    fn name(&self) -> &'static str;
    fn complete<'a>(
        &'a self,
        request: Request<'a>,
        tools: &'a dyn ToolExecutor,
        events: tokio::sync::mpsc::UnboundedSender<StreamEvent>,
    ) -> BoxFuture<'a, Result<Completion, ProviderError>>;
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("the assistant's provider did not answer in time")]
    Timeout,
    #[error("the assistant's provider is unreachable")]
    Unreachable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the assistant's provider answered {status}: {message}")]
    Status { status: u16, message: String },
    #[error("the assistant's provider answered something unreadable: {0}")]
    Malformed(String),
    #[error("the assistant's provider asked for tools more than {0} times")]
    TooManyToolRounds(usize),
}

impl ProviderError {
    /// 504 for a timeout; 503 when the provider is unreachable, rate limited or failing;
    /// 502 for anything else it got wrong.
    pub fn http_status(&self) -> u16 {
        match self {
            ProviderError::Timeout => 504,
            ProviderError::Unreachable(_) => 503,
            ProviderError::Status { status, .. } if *status == 429 || *status >= 500 => 503,
            _ => 502,
        }
    }
}
