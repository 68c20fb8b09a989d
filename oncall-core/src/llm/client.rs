//! The chat-completions client: `async-openai` against any OpenAI-compatible
//! endpoint, with our own wire types (compatible servers differ in the fields they
//! send back, so parsing is lenient) and our own retry policy: 429, 5xx and
//! connection errors are retried with exponential backoff and full jitter,
//! honouring `Retry-After` (seconds or an HTTP date), never past the caller's
//! deadline.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::config::{LlmLimits, LlmProvider, Settings};
use crate::error::{Error, Result};

/// One message of a conversation, as sent and as received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// `system`, `user`, `assistant` or `tool`.
    pub role: String,
    /// The text. Always a string when sent: some servers (llama.cpp) reject an
    /// assistant message whose content is `null`.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub content: String,
    /// Tool calls the assistant asked for.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub tool_calls: Vec<ToolCall>,
    /// Which call a `tool` message answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl Message {
    /// A message with text only.
    pub fn new(role: &str, content: impl Into<String>) -> Self {
        Message {
            role: role.to_owned(),
            content: content.into(),
            tool_calls: vec![],
            tool_call_id: None,
        }
    }

    /// The answer to one tool call.
    pub fn tool(call_id: &str, content: impl Into<String>) -> Self {
        Message {
            tool_call_id: Some(call_id.to_owned()),
            ..Message::new("tool", content)
        }
    }
}

/// A function call the model asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The call's id, echoed in the answer.
    #[serde(default)]
    pub id: String,
    /// Always `function`.
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    /// Which function, with which arguments.
    pub function: FunctionCall,
}

fn function_type() -> String {
    "function".into()
}

/// Name and arguments of a function call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall {
    /// The tool's name.
    #[serde(default)]
    pub name: String,
    /// JSON text of the arguments (some servers send an object; it is kept as text).
    #[serde(default, deserialize_with = "json_text")]
    pub arguments: String,
}

/// A tool offered to the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolSpec {
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Name, description and JSON-schema parameters.
    pub function: Value,
}

/// A chat-completions request.
#[derive(Debug, Clone, Serialize)]
pub struct ChatRequest<'a> {
    /// Model name.
    pub model: &'a str,
    /// The conversation so far.
    pub messages: &'a [Message],
    /// Tools the model may call (omitted when empty).
    #[serde(skip_serializing_if = "<[ToolSpec]>::is_empty")]
    pub tools: &'a [ToolSpec],
    /// `"auto"` when tools are offered (or a forced `{"type":"function",...}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    /// Low: we want the same answer for the same evidence.
    pub temperature: f32,
    /// Most tokens of the answer.
    pub max_tokens: u32,
    /// Set by [`LlmClient::chat_streamed`]: the answer comes as server-sent
    /// events, piece by piece.
    pub stream: bool,
    /// With `stream`: asks for the token counts in the last event (OpenAI,
    /// vLLM, Ollama and others honour it; servers that don't leave the counts
    /// to be estimated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<Value>,
}

/// Token counts of one call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    /// Tokens sent.
    #[serde(default)]
    pub prompt_tokens: u64,
    /// Tokens written by the model.
    #[serde(default)]
    pub completion_tokens: u64,
}

/// One choice of an answer.
#[derive(Debug, Clone, Deserialize)]
pub struct Choice {
    /// The assistant's message.
    pub message: Message,
    /// Why it stopped (`stop`, `tool_calls`, `length`, ...).
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// A chat-completions answer.
#[derive(Debug, Clone, Deserialize)]
pub struct ChatResponse {
    /// Usually one.
    #[serde(default)]
    pub choices: Vec<Choice>,
    /// Token counts, when the server reports them.
    #[serde(default)]
    pub usage: Option<TokenUsage>,
    /// The model that answered.
    #[serde(default)]
    pub model: Option<String>,
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

fn null_as_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn json_text<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

/// One server-sent event of a streamed answer.
#[derive(Debug, Deserialize)]
struct ChatChunk {
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    #[serde(default)]
    usage: Option<TokenUsage>,
    #[serde(default)]
    model: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    index: u32,
    #[serde(default)]
    delta: Delta,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Delta {
    #[serde(default, deserialize_with = "null_as_empty")]
    content: String,
    #[serde(default, deserialize_with = "null_as_default")]
    tool_calls: Vec<ToolCallDelta>,
}

/// A piece of a tool call: the first names it, the next ones add arguments.
#[derive(Debug, Deserialize)]
struct ToolCallDelta {
    #[serde(default)]
    index: usize,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<FunctionDelta>,
}

#[derive(Debug, Deserialize)]
struct FunctionDelta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

/// Puts a streamed answer back together as one [`ChatResponse`].
#[derive(Debug, Default)]
struct Assembly {
    content: String,
    tool_calls: Vec<ToolCall>,
    finish_reason: Option<String>,
    usage: Option<TokenUsage>,
    model: Option<String>,
    pieces: u64,
    choices: u32,
}

impl Assembly {
    fn add(&mut self, chunk: ChatChunk) {
        if chunk.usage.is_some() {
            self.usage = chunk.usage;
        }
        if self.model.is_none() {
            self.model = chunk.model;
        }
        // Only the first choice is used, as with a whole answer.
        for choice in chunk.choices.into_iter().filter(|c| c.index == 0) {
            self.choices += 1;
            if choice.finish_reason.is_some() {
                self.finish_reason = choice.finish_reason;
            }
            let delta = choice.delta;
            if !delta.content.is_empty() || !delta.tool_calls.is_empty() {
                self.pieces += 1;
            }
            self.content.push_str(&delta.content);
            for piece in delta.tool_calls {
                while self.tool_calls.len() <= piece.index {
                    self.tool_calls.push(ToolCall {
                        id: String::new(),
                        kind: function_type(),
                        function: FunctionCall {
                            name: String::new(),
                            arguments: String::new(),
                        },
                    });
                }
                let call = &mut self.tool_calls[piece.index];
                if let Some(id) = piece.id.filter(|id| !id.is_empty()) {
                    call.id = id;
                }
                if let Some(f) = piece.function {
                    if let Some(name) = f.name {
                        call.function.name.push_str(&name);
                    }
                    if let Some(args) = f.arguments {
                        call.function.arguments.push_str(&args);
                    }
                }
            }
        }
    }

    fn finish(self) -> ChatResponse {
        let choices = if self.choices == 0 {
            vec![]
        } else {
            vec![Choice {
                message: Message {
                    role: "assistant".into(),
                    content: self.content,
                    tool_calls: self.tool_calls,
                    tool_call_id: None,
                },
                finish_reason: self.finish_reason,
            }]
        };
        ChatResponse {
            choices,
            usage: self.usage,
            model: self.model,
        }
    }
}

/// An OpenAI-compatible chat endpoint.
#[derive(Clone)]
pub struct LlmClient {
    client: async_openai::Client<OpenAIConfig>,
    model: String,
    base_url: String,
    limits: LlmLimits,
}

impl std::fmt::Debug for LlmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmClient")
            .field("model", &self.model)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl LlmClient {
    /// The client `settings` configure, or `None` with `LLM_PROVIDER=none`.
    pub fn from_settings(settings: &Settings) -> Result<Option<Self>> {
        if settings.llm_provider == LlmProvider::None {
            return Ok(None);
        }
        let base = settings.openai_base_url.trim_end_matches('/').to_owned();
        let parsed = url::Url::parse(&base)
            .map_err(|e| Error::Config(format!("OPENAI_BASE_URL `{base}` is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(Error::Config(format!(
                "OPENAI_BASE_URL `{base}` must be an http(s) URL with a host"
            )));
        }
        let key = settings.openai_api_key.clone().unwrap_or_default();
        if key.chars().any(|c| !c.is_ascii_graphic()) {
            return Err(Error::Config(
                "OPENAI_API_KEY may hold only visible ASCII characters".into(),
            ));
        }
        crate::connectors::install_default_tls_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(settings.llm.request_timeout)
            .build()
            .map_err(|e| Error::Config(format!("building the LLM HTTP client: {e}")))?;
        let config = OpenAIConfig::new()
            .with_api_base(base.clone())
            .with_api_key(key);
        let client = async_openai::Client::with_config(config)
            .with_http_client(http.clone())
            .with_http_service(RetryService {
                http,
                max_retries: settings.llm.max_retries,
            });
        Ok(Some(LlmClient {
            client,
            model: settings.openai_model.clone(),
            base_url: base,
            limits: settings.llm.clone(),
        }))
    }

    /// The model asked.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The endpoint (no credentials in it).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The agent's limits.
    pub fn limits(&self) -> &LlmLimits {
        &self.limits
    }

    /// Sends one request (retried as the module says), giving up at `deadline`.
    pub async fn chat(&self, request: &ChatRequest<'_>, deadline: Instant) -> Result<ChatResponse> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::Unavailable("LLM time budget used up".into()));
        }
        let chat = self.client.chat();
        let call = DEADLINE.scope(deadline, chat.create_byot::<_, ChatResponse>(request));
        settle(tokio::time::timeout(left, call).await, left)
    }

    /// Sends one request as a stream (`stream: true`, usage asked for) and puts
    /// the answer together; `written` hears the number of pieces received so
    /// far after each one, for progress. Retries as [`LlmClient::chat`] until
    /// the first byte; a stream that breaks off is an error.
    pub async fn chat_streamed(
        &self,
        request: &ChatRequest<'_>,
        deadline: Instant,
        mut written: impl FnMut(u64) + Send,
    ) -> Result<ChatResponse> {
        use futures_util::StreamExt;
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::Unavailable("LLM time budget used up".into()));
        }
        let request = ChatRequest {
            stream: true,
            stream_options: Some(serde_json::json!({"include_usage": true})),
            ..request.clone()
        };
        let chat = self.client.chat();
        let call = DEADLINE.scope(deadline, async {
            let mut stream = chat.create_stream_byot::<_, ChatChunk>(&request).await?;
            let mut answer = Assembly::default();
            while let Some(chunk) = stream.next().await {
                answer.add(chunk?);
                written(answer.pieces);
            }
            Ok::<_, OpenAIError>(answer.finish())
        });
        settle(tokio::time::timeout(left, call).await, left)
    }
}

/// The outcome of one request within its time budget.
fn settle(
    outcome: std::result::Result<
        std::result::Result<ChatResponse, OpenAIError>,
        tokio::time::error::Elapsed,
    >,
    left: Duration,
) -> Result<ChatResponse> {
    match outcome {
        Err(_) => Err(Error::Unavailable(format!(
            "LLM did not answer within the time budget ({} s left)",
            left.as_secs()
        ))),
        Ok(Err(e)) => Err(describe(e)),
        Ok(Ok(r)) if r.choices.is_empty() => {
            Err(Error::Unavailable("LLM answered without any choice".into()))
        }
        Ok(Ok(r)) => Ok(r),
    }
}

tokio::task_local! {
    /// The deadline of the request being retried (no retry sleeps past it).
    static DEADLINE: Instant;
}

fn describe(e: OpenAIError) -> Error {
    match e {
        OpenAIError::ApiError(api) => Error::Unavailable(format!(
            "LLM answered {}: {}",
            api.status_code,
            truncate(&api.api_error.message, 300)
        )),
        OpenAIError::Reqwest(e) if e.is_timeout() => {
            Error::Unavailable("LLM request timed out".into())
        }
        OpenAIError::Reqwest(e) if e.is_connect() => {
            Error::Unavailable(format!("cannot reach the LLM: {e}"))
        }
        OpenAIError::JSONDeserialize(e, body) => Error::Unavailable(format!(
            "LLM answer is not a chat completion ({e}): {}",
            truncate(&body, 200)
        )),
        other => Error::Unavailable(format!(
            "LLM request failed: {}",
            truncate(&other.to_string(), 300)
        )),
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Plain reqwest transport with our retry policy.
#[derive(Clone)]
struct RetryService {
    http: reqwest::Client,
    max_retries: u32,
}

type HttpFuture =
    Pin<Box<dyn Future<Output = std::result::Result<reqwest::Response, OpenAIError>> + Send>>;

impl tower::Service<HttpRequestFactory> for RetryService {
    type Response = reqwest::Response;
    type Error = OpenAIError;
    type Future = HttpFuture;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::result::Result<(), OpenAIError>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, factory: HttpRequestFactory) -> HttpFuture {
        let http = self.http.clone();
        let max_retries = self.max_retries;
        let deadline = DEADLINE.try_with(|d| *d).ok();
        Box::pin(async move {
            let mut attempt: u32 = 0;
            loop {
                let request = factory.build().await?;
                let outcome = http.execute(request).await;
                let retry_after = match &outcome {
                    Ok(r) if r.status().as_u16() == 429 || r.status().is_server_error() => {
                        Some(retry_after(r.headers()))
                    }
                    Err(e) if e.is_connect() => Some(None),
                    _ => None,
                };
                let Some(retry_after) = retry_after else {
                    return outcome.map_err(OpenAIError::Reqwest);
                };
                if attempt >= max_retries {
                    return outcome.map_err(OpenAIError::Reqwest);
                }
                let delay = retry_after.unwrap_or_else(|| backoff(attempt));
                if let Some(deadline) = deadline {
                    if Instant::now() + delay >= deadline {
                        return outcome.map_err(OpenAIError::Reqwest);
                    }
                }
                tracing::warn!(
                    attempt = attempt + 1,
                    delay_ms = delay.as_millis() as u64,
                    status = outcome.as_ref().map(|r| r.status().as_u16()).unwrap_or(0),
                    "retrying an LLM request"
                );
                drop(outcome);
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
        })
    }
}

/// Full jitter over an exponential ceiling: 0.5 s, 1 s, 2 s, ... capped at 8 s.
fn backoff(attempt: u32) -> Duration {
    let ceiling = Duration::from_millis(500)
        .saturating_mul(2u32.saturating_pow(attempt))
        .min(Duration::from_secs(8));
    let ms = u64::try_from(ceiling.as_millis()).unwrap_or(8000);
    Duration::from_millis(ms / 2 + fastrand::u64(0..=ms / 2))
}

/// `Retry-After` as seconds or an HTTP date, at most 60 s.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    let wait = if let Ok(secs) = value.parse::<f64>() {
        Duration::from_secs_f64(secs.clamp(0.0, 60.0))
    } else {
        let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
        let secs = (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_milliseconds();
        Duration::from_millis(u64::try_from(secs.max(0)).unwrap_or(0))
    };
    Some(wait.min(Duration::from_secs(60)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_parsing_of_answers() {
        let r: ChatResponse = serde_json::from_str(
            r#"{"choices":[{"message":{"role":"assistant","content":null,
                "tool_calls":[{"id":"c1","function":{"name":"list_metrics","arguments":{"source":"prom"}}}]},
                "finish_reason":"tool_calls"}],"usage":{"prompt_tokens":12,"completion_tokens":3}}"#,
        )
        .unwrap();
        let m = &r.choices[0].message;
        assert_eq!(m.content, "");
        assert_eq!(m.tool_calls[0].kind, "function");
        assert_eq!(m.tool_calls[0].function.arguments, r#"{"source":"prom"}"#);
        assert_eq!(r.usage.unwrap().prompt_tokens, 12);
    }

    #[test]
    fn assistant_tool_messages_are_sent_with_empty_string_content() {
        let mut m = Message::new("assistant", "");
        m.tool_calls.push(ToolCall {
            id: "c".into(),
            kind: "function".into(),
            function: FunctionCall {
                name: "x".into(),
                arguments: "{}".into(),
            },
        });
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["content"], "");
    }

    #[test]
    fn retry_after_reads_seconds_and_dates_and_backoff_stays_bounded() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert(reqwest::header::RETRY_AFTER, "9999".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(60)));
        let later = (chrono::Utc::now() + chrono::Duration::seconds(5)).to_rfc2822();
        h.insert(reqwest::header::RETRY_AFTER, later.parse().unwrap());
        let d = retry_after(&h).unwrap();
        assert!(
            d <= Duration::from_secs(5) && d >= Duration::from_secs(3),
            "{d:?}"
        );
        for attempt in 0..10 {
            let d = backoff(attempt);
            assert!(d <= Duration::from_secs(8), "{d:?}");
            assert!(d >= Duration::from_millis(250), "{d:?}");
        }
    }

    #[test]
    fn settings_select_the_client() {
        let s = Settings::default();
        assert!(LlmClient::from_settings(&s).unwrap().is_none());
        let s = Settings {
            llm_provider: LlmProvider::OpenAi,
            openai_base_url: "ftp://x".into(),
            ..Settings::default()
        };
        assert!(LlmClient::from_settings(&s).is_err());
        let s = Settings {
            llm_provider: LlmProvider::OpenAi,
            openai_base_url: "http://127.0.0.1:9/v1/".into(),
            ..Settings::default()
        };
        let c = LlmClient::from_settings(&s).unwrap().unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:9/v1");
    }
}
