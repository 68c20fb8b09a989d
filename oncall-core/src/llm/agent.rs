//! The agent loop: the model gets the alert, the window and the statistical
//! evidence as compact, redacted data; it may call the read-only tools within the
//! step, token and time budgets; it must end with the result JSON, which is
//! validated (one repair round). Whatever happens, the run is recorded; a run
//! without a valid answer leaves the caller with the statistical result.

use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc::UnboundedSender;

use super::client::{ChatRequest, LlmClient, Message, TokenUsage, ToolSpec};
use super::prompts::{self, PROMPT_VERSION};
use super::redact::Redactor;
use super::tools::{self, ToolBox};
use crate::alert::{Alert, Language};
use crate::analysis::reduce::Evidence;
use crate::analysis::statistical::{AnalysisResult, EvidenceItem, ResultSuspect, promql_selector};
use crate::analysis::window::WindowPlan;
use crate::connectors::{Connector, DataSource};
use crate::tickets::Severity;

/// One tool call the model made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCallRecord {
    /// Tool name as the model wrote it.
    pub name: String,
    /// Arguments as the model wrote them (JSON text, with placeholders).
    pub arguments: String,
    /// Rows the tool returned.
    pub rows: u64,
    /// Milliseconds it took.
    pub ms: u64,
    /// Why it failed, if it did (the model saw this).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What one agent run did; stored under `usage.llm` of the analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlmRun {
    /// The model asked.
    pub model: String,
    /// The prompt templates' version.
    pub prompt_version: String,
    /// Requests answered by the LLM.
    pub llm_calls: u32,
    /// Tokens sent, over all calls.
    pub prompt_tokens: u64,
    /// Tokens written by the model, over all calls.
    pub completion_tokens: u64,
    /// The tool calls, in order.
    pub tool_calls: Vec<ToolCallRecord>,
    /// Milliseconds waiting for the LLM.
    pub llm_ms: u64,
    /// Milliseconds running tools.
    pub tool_ms: u64,
    /// Milliseconds of the whole run.
    pub wall_ms: u64,
    /// A repair round was needed.
    pub repaired: bool,
    /// Some token counts are our estimate: the server did not report them
    /// (llama.cpp does not in streamed answers).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tokens_estimated: bool,
    /// Distinct values replaced by placeholders before sending.
    pub redacted_values: usize,
    /// `answered` (the result is the model's) or `fallback` (statistical).
    pub outcome: String,
    /// Why the model's answer was not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Progress of a run, for the analysis' event stream.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentEvent {
    /// The LLM answered one request.
    Answered {
        /// 1, 2, ...
        call: u32,
        /// Tokens of this call.
        usage: TokenUsage,
        /// Milliseconds it took.
        ms: u64,
        /// Tools it asked for.
        tool_calls: usize,
    },
    /// A streamed answer is coming in (sent every [`WRITING_EVERY`] at most).
    Writing {
        /// Which request.
        call: u32,
        /// Pieces received so far (about one token each).
        pieces: u64,
    },
    /// A tool ran.
    Tool(ToolCallRecord),
}

/// How often a streamed answer reports its progress.
pub const WRITING_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// What the agent looks at.
#[derive(Debug)]
pub struct AgentInput<'a> {
    /// The parsed alert.
    pub alert: &'a Alert,
    /// The windows.
    pub window: &'a WindowPlan,
    /// The statistical evidence.
    pub evidence: &'a Evidence,
    /// The statistical result (its suspects are the starting point).
    pub statistical: &'a AnalysisResult,
    /// Enabled data sources, for the tools.
    pub sources: &'a [(DataSource, Arc<dyn Connector>)],
    /// Language of the prompts and the answer.
    pub language: Language,
}

fn ms_since(t: Instant) -> u64 {
    u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}

/// How much of each kind of evidence goes into the context. The first request
/// (context, system prompt and tool descriptions) stays near 3,000 tokens on the
/// dev scenarios, so one round of tools and the answer fit in 8,000 tokens.
const CONTEXT_SUSPECTS: usize = 5;
/// Suspects whose reasons are shown (the others by name and score).
const CONTEXT_SUSPECTS_EXPLAINED: usize = 3;
/// Reasons shown per explained suspect.
const CONTEXT_REASONS: usize = 2;
/// Log templates shown.
const CONTEXT_TEMPLATES: usize = 5;
/// Metric shifts shown.
const CONTEXT_SHIFTS: usize = 5;
/// Error origins shown.
const CONTEXT_ORIGINS: usize = 4;
/// Characters of one template, example line, reason or metric selector.
const CONTEXT_CLIP: usize = 120;

/// The compact context: alert, window, sources and the strongest evidence.
pub fn render_context(input: &AgentInput<'_>) -> String {
    use std::fmt::Write;
    let e = input.evidence;
    let mut out = render_alert(input);
    let sources: Vec<String> = input
        .sources
        .iter()
        .map(|(d, _)| format!("{} ({})", d.name, d.kind.as_str()))
        .collect();
    let _ = writeln!(
        out,
        "data sources: {}",
        if sources.is_empty() {
            "none".to_owned()
        } else {
            sources.join(", ")
        }
    );
    let _ = writeln!(
        out,
        "looked at: {} log lines, {} metric series, {} log templates",
        e.log_lines, e.series, e.templates_total
    );
    let _ = writeln!(out, "\nstatistical suspects (score 0..1):");
    for (i, s) in input
        .statistical
        .suspects
        .iter()
        .take(CONTEXT_SUSPECTS)
        .enumerate()
    {
        let _ = write!(out, "- {} ({}) {:.2}", s.component, s.kind, s.score);
        if i < CONTEXT_SUSPECTS_EXPLAINED && !s.reasons.is_empty() {
            let reasons: Vec<String> = s
                .reasons
                .iter()
                .take(CONTEXT_REASONS)
                .map(|r| clip(r, CONTEXT_CLIP))
                .collect();
            let _ = write!(out, ": {}", reasons.join("; "));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "\nlog templates (baseline → incident counts):");
    for t in e.log_templates.iter().take(CONTEXT_TEMPLATES) {
        let mut flags = Vec::new();
        if t.is_new {
            flags.push("new");
        }
        if t.is_bursting {
            flags.push("bursting");
        }
        if t.is_error_level {
            flags.push("error");
        }
        let services: Vec<&str> = t
            .services
            .iter()
            .take(3)
            .map(|s| s.service.as_str())
            .collect();
        let _ = writeln!(
            out,
            "- [{}] {} → {} in {}: {}",
            flags.join(","),
            t.baseline_count,
            t.incident_count,
            services.join(","),
            clip(&t.template, CONTEXT_CLIP)
        );
        // The example shows the masked values; skip it when it says nothing more.
        if let Some(ex) = t.examples.first().filter(|ex| **ex != t.template) {
            let _ = writeln!(out, "  e.g. {}", clip(ex, CONTEXT_CLIP));
        }
    }
    let _ = writeln!(out, "\nmetric shifts (robust deviations):");
    for m in e.metric_shifts.iter().take(CONTEXT_SHIFTS) {
        let _ = writeln!(
            out,
            "- {} {:?} {:.3} → {:.3} ({:.1}σ) from {}",
            clip(&promql_selector(&m.metric, &m.labels), CONTEXT_CLIP),
            m.direction,
            m.baseline_median,
            m.peak,
            m.score,
            m.started_at.format("%H:%M:%S")
        );
    }
    if !e.error_origins.is_empty() {
        let _ = writeln!(
            out,
            "\nwhere failing requests' first errors appear (by trace):"
        );
        for o in e.error_origins.iter().take(CONTEXT_ORIGINS) {
            let _ = writeln!(
                out,
                "- {}: {} in incident, {} in baseline",
                o.service, o.incident, o.baseline
            );
        }
    }
    if let Some(m) = e.memory.as_ref().filter(|m| !m.similar.is_empty()) {
        let _ = writeln!(
            out,
            "\nseen before (similar past incidents; memory informs, current evidence decides; tool past_incidents has more):"
        );
        out.push_str(&clip(&m.prompt_text(), CONTEXT_CLIP * 8));
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    let _ = writeln!(
        out,
        "\nstatistical root cause: {}",
        clip(&input.statistical.root_cause, 300)
    );
    out
}

/// The alert and the windows: the head of the context, and all the repair round
/// re-sends beside the model's own answer.
fn render_alert(input: &AgentInput<'_>) -> String {
    use std::fmt::Write;
    let a = input.alert;
    let mut out = String::new();
    let _ = writeln!(out, "alert: {} (status {})", a.name, a.status);
    if let Some(s) = a.severity {
        let _ = writeln!(out, "severity: {}", s.as_str());
    }
    let _ = writeln!(out, "starts_at: {}", a.starts_at.to_rfc3339());
    if !a.summary.is_empty() {
        let _ = writeln!(out, "summary: {}", clip(&a.summary, 300));
    }
    let labels: Vec<String> = a
        .labels
        .iter()
        .take(12)
        .map(|(k, v)| format!("{k}={}", clip(v, 60)))
        .collect();
    if !labels.is_empty() {
        let _ = writeln!(out, "labels: {}", labels.join(", "));
    }
    for (k, v) in a.annotations.iter().take(3) {
        let _ = writeln!(out, "annotation {k}: {}", clip(v, 200));
    }
    let w = input.window;
    let _ = writeln!(
        out,
        "window: baseline from {}, incident {} .. {}",
        w.baseline_start.to_rfc3339(),
        w.incident_start.to_rfc3339(),
        w.incident_end.to_rfc3339()
    );
    out
}

/// What the repair round sends as context: the alert and the statistical
/// suspects by name and score. The model's own answer carries the rest.
fn render_brief(input: &AgentInput<'_>) -> String {
    use std::fmt::Write;
    let mut out = render_alert(input);
    let suspects: Vec<String> = input
        .statistical
        .suspects
        .iter()
        .take(CONTEXT_SUSPECTS)
        .map(|s| format!("{} ({}) {:.2}", s.component, s.kind, s.score))
        .collect();
    let _ = writeln!(out, "statistical suspects: {}", suspects.join(", "));
    out
}

/// Pulls the JSON object out of an answer (bare, fenced, or with prose around).
pub fn extract_json(text: &str) -> Result<Value, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("the answer is empty".into());
    }
    let start = trimmed
        .find('{')
        .ok_or("there is no JSON object in the answer")?;
    let end = trimmed.rfind('}').ok_or("the JSON object is not closed")?;
    if end < start {
        return Err("the JSON object is not closed".into());
    }
    serde_json::from_str(&trimmed[start..=end]).map_err(|e| format!("the JSON does not parse: {e}"))
}

fn text_field(v: &Value, key: &str) -> Result<String, String> {
    match v.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        Some(Value::String(_)) => Err(format!("`{key}` is empty")),
        Some(_) => Err(format!("`{key}` must be a string")),
        None => Err(format!("`{key}` is missing")),
    }
}

fn unit(v: &Value, key: &str) -> Result<f64, String> {
    match v.get(key).and_then(Value::as_f64) {
        Some(x) if (0.0..=1.0).contains(&x) => Ok(x),
        Some(x) => Err(format!("`{key}` must be between 0 and 1, not {x}")),
        None => Err(format!("`{key}` must be a number between 0 and 1")),
    }
}

fn array<'v>(v: &'v Value, key: &str) -> Result<&'v Vec<Value>, String> {
    match v.get(key) {
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(format!("`{key}` must be an array")),
        None => Err(format!("`{key}` is missing")),
    }
}

/// Checks an answer against the result shape (SPEC §5 plus suspects).
pub fn validate(v: &Value) -> Result<AnalysisResult, String> {
    if !v.is_object() {
        return Err("the answer must be a JSON object".into());
    }
    let severity = match v.get("severity").and_then(Value::as_str) {
        Some(s) => s
            .trim()
            .to_ascii_uppercase()
            .parse::<Severity>()
            .map_err(|_| format!("`severity` must be P0, P1, P2 or P3, not `{s}`"))?,
        None => return Err("`severity` is missing".into()),
    };
    let evidence = array(v, "evidence")?
        .iter()
        .enumerate()
        .map(|(i, e)| {
            Ok(EvidenceItem {
                source: e
                    .get("source")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                kind: e
                    .get("kind")
                    .and_then(Value::as_str)
                    .unwrap_or("log")
                    .to_owned(),
                detail: text_field(e, "detail").map_err(|m| format!("evidence[{i}]: {m}"))?,
                query: e
                    .get("query")
                    .and_then(Value::as_str)
                    .filter(|q| !q.is_empty())
                    .map(str::to_owned),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let suspects = match v.get("suspects") {
        None | Some(Value::Null) => vec![],
        Some(_) => array(v, "suspects")?
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let kind = s.get("kind").and_then(Value::as_str).unwrap_or("service");
                if !matches!(kind, "service" | "pod" | "host") {
                    return Err(format!(
                        "suspects[{i}]: `kind` must be service, pod or host"
                    ));
                }
                Ok(ResultSuspect {
                    component: text_field(s, "component")
                        .map_err(|m| format!("suspects[{i}]: {m}"))?,
                    kind: kind.to_owned(),
                    score: unit(s, "score").map_err(|m| format!("suspects[{i}]: {m}"))?,
                    reasons: s
                        .get("reasons")
                        .and_then(Value::as_array)
                        .map(|r| {
                            r.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default(),
                })
            })
            .collect::<Result<Vec<_>, String>>()?,
    };
    let suggestions = array(v, "suggestions")?
        .iter()
        .map(|s| {
            s.as_str()
                .map(str::to_owned)
                .ok_or("`suggestions` must hold strings".to_owned())
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(AnalysisResult {
        summary: text_field(v, "summary")?,
        root_cause: text_field(v, "root_cause")?,
        confidence: unit(v, "confidence")?,
        severity,
        evidence,
        suspects,
        suggestions,
    })
}

fn restore(result: AnalysisResult, r: &Redactor) -> AnalysisResult {
    AnalysisResult {
        summary: r.restore(&result.summary),
        root_cause: r.restore(&result.root_cause),
        confidence: result.confidence,
        severity: result.severity,
        evidence: result
            .evidence
            .into_iter()
            .map(|e| EvidenceItem {
                source: r.restore(&e.source),
                kind: e.kind,
                detail: r.restore(&e.detail),
                query: e.query.map(|q| r.restore(&q)),
            })
            .collect(),
        suspects: result
            .suspects
            .into_iter()
            .map(|s| ResultSuspect {
                component: r.restore(&s.component),
                kind: s.kind,
                score: s.score,
                reasons: s.reasons.iter().map(|x| r.restore(x)).collect(),
            })
            .collect(),
        suggestions: result.suggestions.iter().map(|x| r.restore(x)).collect(),
    }
}

/// Rough token count of a request of `messages` offering `tools` (about 3
/// characters per token, which overestimates English and underestimates nothing
/// much). The agent checks it against the token budget before each request.
pub fn estimate_tokens(messages: &[Message], tools: &[ToolSpec]) -> u64 {
    let tool_chars: usize = tools
        .iter()
        .map(|t| serde_json::to_string(t).map_or(0, |s| s.len()))
        .sum();
    let chars: usize = tool_chars
        + messages
            .iter()
            .map(|m| {
                m.content.chars().count()
                    + m.tool_calls
                        .iter()
                        .map(|c| c.function.arguments.len() + c.function.name.len())
                        .sum::<usize>()
                    + 8
            })
            .sum::<usize>();
    (chars as u64) / 3 + 300
}

/// `estimate` in the server's tokens.
fn scaled(estimate: u64, scale: f64) -> u64 {
    (estimate as f64 * scale).ceil() as u64
}

/// Token counts for an answer that came without them: the prompt estimated as
/// the budget does, the completion as the streamed pieces (about one token
/// each) or from its length.
fn estimated_usage(
    messages: &[Message],
    offered: &[ToolSpec],
    response: &super::client::ChatResponse,
    pieces: Option<u64>,
) -> TokenUsage {
    let written = response
        .choices
        .first()
        .map(|c| estimate_tokens(std::slice::from_ref(&c.message), &[]).saturating_sub(300))
        .unwrap_or(0);
    TokenUsage {
        prompt_tokens: estimate_tokens(messages, offered),
        completion_tokens: pieces.unwrap_or(written),
    }
}

/// Runs the agent until it answers, gives up, or hits `deadline`.
/// Returns the model's validated result (placeholders restored), or `None` with
/// the reason in the run's `error`.
pub async fn run(
    client: &LlmClient,
    input: AgentInput<'_>,
    deadline: Instant,
    progress: UnboundedSender<AgentEvent>,
) -> (Option<AnalysisResult>, LlmRun) {
    let started = Instant::now();
    let limits = client.limits().clone();
    let mut redactor = Redactor::new(limits.redact_ips);
    let context = redactor.redact(&render_context(&input));
    let mut messages = vec![
        Message::new(
            "system",
            prompts::system(input.language, limits.max_tool_calls),
        ),
        Message::new("user", prompts::task(input.language, &context)),
    ];
    let specs = tools::specs();
    let toolbox = ToolBox {
        sources: input.sources,
        window: input.window,
        evidence: input.evidence,
    };
    let mut run = LlmRun {
        model: client.model().to_owned(),
        prompt_version: PROMPT_VERSION.to_owned(),
        llm_calls: 0,
        prompt_tokens: 0,
        completion_tokens: 0,
        tool_calls: vec![],
        llm_ms: 0,
        tool_ms: 0,
        wall_ms: 0,
        repaired: false,
        tokens_estimated: false,
        redacted_values: 0,
        outcome: "fallback".into(),
        error: None,
    };
    let mut final_mode = limits.max_tool_calls == 0;
    // Server tokens per estimated token, learnt from each answer's counts: the
    // estimate is rough (stack traces and CJK text take more tokens per
    // character), and the budget should hold in the server's tokens.
    let mut scale = 1.0_f64;
    let max_requests = limits.max_tool_calls + 3;
    let mut requests = 0;
    let answer = loop {
        if requests >= max_requests {
            break Err(format!("no answer after {requests} requests"));
        }
        let offer_tools = !final_mode;
        let offered: &[ToolSpec] = if offer_tools { &specs } else { &[] };
        let used = run.prompt_tokens + run.completion_tokens;
        let estimate = estimate_tokens(&messages, offered);
        let next = scaled(estimate, scale) + u64::from(limits.max_completion_tokens);
        // A request that may call tools is only worth it while a request of
        // about the same size can still follow it with the answer.
        let needed = if offer_tools { 2 * next } else { next };
        if used + needed > limits.token_budget {
            if offer_tools {
                // No room for a round of tools and then the answer: ask for the
                // answer now, from what the model has.
                final_mode = true;
                if messages.len() > 2 {
                    messages.push(Message::new(
                        "user",
                        prompts::final_answer_now(input.language),
                    ));
                }
                continue;
            }
            break Err(format!(
                "token budget of {} would be exceeded ({used} used, about {next} more needed)",
                limits.token_budget
            ));
        }
        requests += 1;
        let request = ChatRequest {
            model: client.model(),
            messages: &messages,
            tools: offered,
            tool_choice: offer_tools.then(|| Value::from("auto")),
            temperature: 0.1,
            max_tokens: limits.max_completion_tokens,
            stream: false,
            stream_options: None,
        };
        let t = Instant::now();
        // Answers are streamed where they may be long (no tools offered); turns
        // that call tools are short, and some servers stream tool calls oddly.
        let streamed = limits.stream && !offer_tools;
        let mut pieces = 0;
        let response = if streamed {
            let call = run.llm_calls + 1;
            let mut reported = Instant::now();
            client
                .chat_streamed(&request, deadline, |n| {
                    pieces = n;
                    if reported.elapsed() >= WRITING_EVERY {
                        reported = Instant::now();
                        let _ = progress.send(AgentEvent::Writing { call, pieces: n });
                    }
                })
                .await
        } else {
            client.chat(&request, deadline).await
        };
        run.llm_ms += ms_since(t);
        let response = match response {
            Ok(r) => r,
            Err(e) => break Err(e.to_string()),
        };
        run.llm_calls += 1;
        let usage = match response.usage {
            Some(u) => {
                if u.prompt_tokens > 0 && estimate > 0 {
                    scale = (u.prompt_tokens as f64 / estimate as f64).clamp(0.5, 4.0);
                }
                u
            }
            None => {
                run.tokens_estimated = true;
                estimated_usage(&messages, offered, &response, streamed.then_some(pieces))
            }
        };
        run.prompt_tokens += usage.prompt_tokens;
        run.completion_tokens += usage.completion_tokens;
        let Some(choice) = response.choices.into_iter().next() else {
            break Err("LLM answered without any choice".into());
        };
        let mut message = choice.message;
        let _ = progress.send(AgentEvent::Answered {
            call: run.llm_calls,
            usage,
            ms: ms_since(t),
            tool_calls: message.tool_calls.len(),
        });

        if !message.tool_calls.is_empty() && offer_tools {
            for (i, call) in message.tool_calls.iter_mut().enumerate() {
                if call.id.is_empty() {
                    call.id = format!("call_{}_{i}", run.llm_calls);
                }
                call.kind = "function".into();
            }
            let calls = message.tool_calls.clone();
            messages.push(Message {
                role: "assistant".into(),
                content: message.content,
                tool_calls: calls.clone(),
                tool_call_id: None,
            });
            for call in &calls {
                let used = run.tool_calls.len() as u32;
                let reply = if used >= limits.max_tool_calls {
                    r#"{"error":"tool budget spent; answer with the final JSON"}"#.to_owned()
                } else {
                    let t = Instant::now();
                    let out = toolbox
                        .call(&call.function.name, &call.function.arguments)
                        .await;
                    let ms = ms_since(t);
                    run.tool_ms += ms;
                    let record = ToolCallRecord {
                        name: clip(&call.function.name, 64),
                        arguments: clip(&call.function.arguments, 500),
                        rows: out.rows,
                        ms,
                        error: out.error.clone(),
                    };
                    let _ = progress.send(AgentEvent::Tool(record.clone()));
                    run.tool_calls.push(record);
                    prompts::data_block("tool result:", &redactor.redact(&out.text))
                };
                messages.push(Message::tool(&call.id, reply));
            }
            if run.tool_calls.len() as u32 >= limits.max_tool_calls {
                final_mode = true;
                messages.push(Message::new(
                    "user",
                    prompts::final_answer_now(input.language),
                ));
            }
            continue;
        }

        let parsed = if message.tool_calls.is_empty() {
            extract_json(&message.content).and_then(|v| validate(&v))
        } else {
            Err("a tool was asked for after the tool budget was spent".to_owned())
        };
        match parsed {
            Ok(result) => break Ok(result),
            Err(problem) if !run.repaired => {
                run.repaired = true;
                final_mode = true;
                // The repair is about the answer's form: the alert, the suspects
                // and the model's own answer are enough. Sending the whole
                // conversation again would double the prompt tokens.
                let brief = redactor.redact(&render_brief(&input));
                messages = vec![
                    Message::new(
                        "system",
                        prompts::system(input.language, limits.max_tool_calls),
                    ),
                    Message::new("user", prompts::task(input.language, &brief)),
                    Message::new("assistant", clip(&message.content, 1_500)),
                    Message::new("user", prompts::repair(input.language, &problem)),
                ];
            }
            Err(problem) => break Err(format!("invalid answer after one repair: {problem}")),
        }
    };
    run.redacted_values = redactor.replaced();
    run.wall_ms = ms_since(started);
    match answer {
        Ok(mut result) => {
            if result.suspects.is_empty() {
                result.suspects = input.statistical.suspects.clone();
            }
            run.outcome = "answered".into();
            (Some(restore(result, &redactor)), run)
        }
        Err(e) => {
            run.error = Some(e);
            (None, run)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_found_bare_fenced_or_in_prose() {
        assert!(extract_json(r#"{"a":1}"#).is_ok());
        assert!(extract_json("```json\n{\"a\":1}\n```").is_ok());
        assert!(extract_json("Here you go: {\"a\": {\"b\": 2}} hope it helps").is_ok());
        assert!(extract_json("no json here").is_err());
        assert!(extract_json("{\"a\": ").is_err());
        assert!(extract_json("").is_err());
    }

    fn good() -> Value {
        serde_json::json!({
            "summary": "s", "root_cause": "db is down", "confidence": 0.7, "severity": "p1",
            "evidence": [{"source": "prom", "kind": "metric", "detail": "cpu up"}],
            "suspects": [{"component": "db", "score": 0.9, "reasons": ["cpu"]}],
            "suggestions": ["restart db"]
        })
    }

    #[test]
    fn a_valid_answer_passes_and_bad_fields_are_named() {
        let r = validate(&good()).unwrap();
        assert_eq!(r.severity, Severity::P1);
        assert_eq!(r.suspects[0].kind, "service");
        for (key, bad, needle) in [
            ("confidence", serde_json::json!(1.5), "confidence"),
            ("severity", serde_json::json!("urgent"), "severity"),
            ("summary", serde_json::json!(""), "summary"),
            ("evidence", serde_json::json!("x"), "evidence"),
            ("suggestions", serde_json::json!([1]), "suggestions"),
            (
                "suspects",
                serde_json::json!([{"component": "x", "score": 7}]),
                "suspects[0]",
            ),
        ] {
            let mut v = good();
            v[key] = bad;
            let e = validate(&v).unwrap_err();
            assert!(e.contains(needle), "{key}: {e}");
        }
        let mut v = good();
        v.as_object_mut().unwrap().remove("root_cause");
        assert!(validate(&v).unwrap_err().contains("root_cause"));
    }
}
