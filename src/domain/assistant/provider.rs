//! The seam for external chat models (Gemini, OpenAI-compatible endpoints): the provider
//! crate `crates/llm` (no database, no HTTP server; it speaks the providers' wire formats
//! and runs the tool-call loop). The built-in assistant needs none of it except [`Turn`],
//! the stored form of a conversation, whose serde shape the crate defines.

pub use llm::{
    Completion, Provider, ProviderError, Request, StreamEvent, ToolCall, ToolExecutor, ToolOutput,
    ToolSpec, Turn,
};
