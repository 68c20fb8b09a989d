//! The LLM analyzer (SPEC §5, §7): an agent over any OpenAI-compatible
//! chat-completions API that reasons over the statistical evidence and may run
//! read-only queries. Everything it sends is redacted first; alert text, log lines
//! and tool results go in as delimited data, never as instructions. When it fails
//! (unreachable, 429/5xx after retries, budgets, an invalid answer after one
//! repair) the analysis keeps the statistical result and records why.

pub mod agent;
pub mod client;
pub mod prompts;
pub mod redact;
pub mod tools;

pub use agent::{AgentEvent, AgentInput, LlmRun, ToolCallRecord};
pub use client::LlmClient;
pub use redact::Redactor;
