//! [`Settings`]: built-in defaults, then a `.env` file, then the process
//! environment (SPEC §7). Every front end loads settings the same way.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::{Error, Result};

/// The database used when `DATABASE_URL` is unset.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/oncall.db";
/// The account created in an empty database when `ONCALL_ADMIN_EMAIL` is unset.
pub const DEFAULT_ADMIN_EMAIL: &str = "admin@oncall.example.com";
/// The password of that account when `ONCALL_ADMIN_PASSWORD` is unset.
pub const DEFAULT_ADMIN_PASSWORD: &str = "admin123";

/// Which LLM backs the agent analyzer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LlmProvider {
    /// Any OpenAI-compatible chat-completions endpoint.
    OpenAi,
    /// No LLM: the statistical analyzer only.
    None,
}

/// Everything the engine and its front ends can be configured with.
///
/// Secrets are redacted from the `Debug` output.
#[derive(Clone)]
pub struct Settings {
    /// `DATABASE_URL`: `sqlite://…` or `mysql://…`.
    pub database_url: String,
    /// `JWT_SECRET_KEY`: signing key for access tokens.
    pub jwt_secret_key: Option<String>,
    /// `JWT_EXPIRE_HOURS`: access token lifetime.
    pub jwt_expire_hours: u32,
    /// `LLM_PROVIDER`: `openai` or `none`; defaults to `openai` when a key is set.
    pub llm_provider: LlmProvider,
    /// `OPENAI_API_KEY`.
    pub openai_api_key: Option<String>,
    /// `OPENAI_MODEL`.
    pub openai_model: String,
    /// `OPENAI_BASE_URL`.
    pub openai_base_url: String,
    /// `ONCALL_ADDR`: where the server listens.
    pub addr: String,
    /// `ONCALL_DEV=1`: development mode (random secrets, said in the log).
    pub dev: bool,
    /// `ONCALL_ENCRYPTION_KEY`: base64 of 32 bytes, for credentials at rest.
    pub encryption_key: Option<String>,
    /// `ONCALL_ADMIN_EMAIL`: the account created in an empty database.
    pub admin_email: String,
    /// `ONCALL_ADMIN_PASSWORD`: that account's first password.
    pub admin_password: String,
    /// `ONCALL_WEB_DIR`: the built web UI served at `/`.
    pub web_dir: PathBuf,
    /// `ONCALL_ANALYSIS_WORKERS`: analyses run at once per process.
    pub analysis_workers: usize,
    /// `ONCALL_ANALYSIS_DEADLINE_SECONDS`: longest one analysis may run, LLM
    /// included; past it the analysis fails with the reason (default 120 s).
    pub analysis_deadline: std::time::Duration,
    /// `ONCALL_HEARTBEAT_SECONDS`: how often a process renews the claims of the
    /// analyses it runs (default 2 s). A claim lasts [`Settings::lease`] (three
    /// heartbeats), so a dead process's analyses are taken over within seconds.
    pub heartbeat: std::time::Duration,
    /// `ONCALL_STOP_GRACE_SECONDS`: on SIGTERM or Ctrl-C, how long the server lets
    /// requests and running analyses finish (default 20 s); analyses still running
    /// then are handed back (claim released, attempt not charged).
    pub stop_grace: std::time::Duration,
    /// `ONCALL_PUBLIC_URL`: the web UI's address as people reach it, for links in
    /// notifications (default: `http://` + `ONCALL_ADDR`, `0.0.0.0` as `localhost`).
    pub public_url: Option<String>,
    /// `ONCALL_WEBHOOK_BACKLOG`: pending analyses beyond which webhook intake answers
    /// 429 (the sender retries later).
    pub webhook_backlog: u64,
    /// `ONCALL_NOTIFY_RETRY_MS`: first retry delay of a failed notification; doubles
    /// with each attempt (at most an hour).
    pub notify_retry_ms: u64,
    /// `ONCALL_NOTIFY_MAX_ATTEMPTS`: attempts before a notification is given up.
    pub notify_max_attempts: u32,
    /// `ONCALL_NOTIFY_RETENTION_DAYS`: how long delivered and given-up
    /// notifications stay in the outbox (and in a channel's delivery list); pending
    /// ones stay until they end (default 30).
    pub notify_retention_days: u32,
    /// `ONCALL_MEMORY_RETENTION_DAYS`: how long an analysis' incident signature is
    /// kept for "seen before" and the memory prior (default 365); `0` turns incident
    /// memory off (nothing is stored or recalled).
    pub memory_retention_days: u32,
    /// Limits of the LLM agent (`LLM_*`).
    pub llm: LlmLimits,
    /// `ONCALL_TRUSTED_PROXY_HEADER`: the header (e.g. `X-Forwarded-For`) a
    /// reverse proxy in front of the server sets to the client's address; logins
    /// are throttled per (account, that address). Unset: the peer address.
    pub trusted_proxy_header: Option<String>,
    /// Refuse to create the first admin account with the built-in default
    /// password (`ONCALL_ADMIN_PASSWORD` unset). The server sets this outside
    /// development mode; embedded engines (tests, the CLI's local database) do not.
    pub admin_password_required: bool,
    /// `ONCALL_OUTBOUND_DENY` / `ONCALL_OUTBOUND_ALLOW`: where data sources and
    /// notification channels may not / may point (see
    /// [`crate::connectors::outbound`]).
    pub outbound: crate::connectors::outbound::OutboundPolicy,
    /// `ONCALL_METRICS_TOKEN`: when set, `/metrics` needs `Authorization: Bearer
    /// <token>`.
    pub metrics_token: Option<String>,
}

/// How far the LLM agent may go in one analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmLimits {
    /// `LLM_TIMEOUT_SECONDS`: longest one request to the LLM may take.
    pub request_timeout: std::time::Duration,
    /// `LLM_MAX_RETRIES`: retries of one request on 429, 5xx and connection errors.
    pub max_retries: u32,
    /// `LLM_MAX_TOOL_CALLS`: tool calls the model may make per analysis.
    pub max_tool_calls: u32,
    /// `LLM_TOKEN_BUDGET`: prompt + completion tokens per analysis.
    pub token_budget: u64,
    /// `LLM_TIME_BUDGET_SECONDS`: wall time of the whole agent run.
    pub time_budget: std::time::Duration,
    /// `LLM_MAX_COMPLETION_TOKENS`: most tokens the model may write per answer.
    pub max_completion_tokens: u32,
    /// `LLM_REDACT_IPS`: replace IP addresses by placeholders too (default on).
    pub redact_ips: bool,
    /// `LLM_STREAM`: receive answers without tools as a stream, so progress
    /// shows while a slow model writes (default on).
    pub stream: bool,
}

impl Default for LlmLimits {
    fn default() -> Self {
        LlmLimits {
            request_timeout: std::time::Duration::from_secs(60),
            max_retries: 3,
            max_tool_calls: 6,
            token_budget: 24_000,
            time_budget: std::time::Duration::from_secs(90),
            max_completion_tokens: 1024,
            stream: true,
            redact_ips: true,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            jwt_secret_key: None,
            jwt_expire_hours: 24,
            llm_provider: LlmProvider::None,
            openai_api_key: None,
            openai_model: "gpt-4".to_owned(),
            openai_base_url: "https://api.openai.com/v1".to_owned(),
            addr: "0.0.0.0:8000".to_owned(),
            dev: false,
            encryption_key: None,
            admin_email: DEFAULT_ADMIN_EMAIL.to_owned(),
            admin_password: DEFAULT_ADMIN_PASSWORD.to_owned(),
            web_dir: PathBuf::from("frontend/dist"),
            analysis_workers: 4,
            analysis_deadline: std::time::Duration::from_secs(120),
            heartbeat: std::time::Duration::from_secs(2),
            stop_grace: std::time::Duration::from_secs(20),
            llm: LlmLimits::default(),
            public_url: None,
            webhook_backlog: 1000,
            notify_retry_ms: 2000,
            notify_max_attempts: 10,
            notify_retention_days: 30,
            memory_retention_days: 365,
            trusted_proxy_header: None,
            admin_password_required: false,
            outbound: crate::connectors::outbound::OutboundPolicy::default(),
            metrics_token: None,
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("Settings")
            .field("database_url", &redact_url_password(&self.database_url))
            .field("jwt_secret_key", &redact(&self.jwt_secret_key))
            .field("jwt_expire_hours", &self.jwt_expire_hours)
            .field("llm_provider", &self.llm_provider)
            .field("openai_api_key", &redact(&self.openai_api_key))
            .field("openai_model", &self.openai_model)
            .field("openai_base_url", &self.openai_base_url)
            .field("addr", &self.addr)
            .field("dev", &self.dev)
            .field("encryption_key", &redact(&self.encryption_key))
            .field("admin_email", &self.admin_email)
            .field("web_dir", &self.web_dir)
            .field("analysis_workers", &self.analysis_workers)
            .field("analysis_deadline", &self.analysis_deadline)
            .field("heartbeat", &self.heartbeat)
            .field("stop_grace", &self.stop_grace)
            .field("llm", &self.llm)
            .field("public_url", &self.public_url)
            .field("webhook_backlog", &self.webhook_backlog)
            .field("notify_retry_ms", &self.notify_retry_ms)
            .field("notify_max_attempts", &self.notify_max_attempts)
            .field("notify_retention_days", &self.notify_retention_days)
            .field("memory_retention_days", &self.memory_retention_days)
            .field("trusted_proxy_header", &self.trusted_proxy_header)
            .field("outbound", &self.outbound)
            .field("metrics_token", &redact(&self.metrics_token))
            .finish_non_exhaustive()
    }
}

/// `mysql://user:secret@host/db` → `mysql://user:***@host/db`, for logs and errors.
pub fn redact_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest
        .split_once('/')
        .map_or((rest, None), |(a, p)| (a, Some(p)));
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
    let masked = if userinfo.contains(':') {
        format!("{user}:***")
    } else {
        user.to_owned()
    };
    match path {
        Some(p) => format!("{scheme}://{masked}@{host}/{p}"),
        None => format!("{scheme}://{masked}@{host}"),
    }
}

impl Settings {
    /// Defaults, then `./.env` if present, then the process environment.
    pub fn load() -> Result<Self> {
        Self::load_from(Path::new(".env"))
    }

    /// Like [`Settings::load`] with an explicit `.env` path (missing file is fine).
    pub fn load_from(dotenv: &Path) -> Result<Self> {
        Self::layered(dotenv, std::env::vars())
    }

    /// Variables from `dotenv` (if it exists), overridden by `env`.
    fn layered(dotenv: &Path, env: impl Iterator<Item = (String, String)>) -> Result<Self> {
        let mut vars: HashMap<String, String> = HashMap::new();
        if dotenv.exists() {
            let iter = dotenvy::from_path_iter(dotenv)
                .map_err(|e| Error::Config(format!("reading {}: {e}", dotenv.display())))?;
            for item in iter {
                let (k, v) =
                    item.map_err(|e| Error::Config(format!("parsing {}: {e}", dotenv.display())))?;
                vars.insert(k, v);
            }
        }
        vars.extend(env);
        Self::from_lookup(|k| vars.get(k).cloned())
    }

    /// Builds settings from any variable lookup (defaults for what it lacks).
    /// Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |k: &str| {
            lookup(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut s = Settings::default();
        if let Some(v) = get("DATABASE_URL") {
            s.database_url = v;
        }
        s.jwt_secret_key = get("JWT_SECRET_KEY");
        if let Some(v) = get("JWT_EXPIRE_HOURS") {
            s.jwt_expire_hours = parse("JWT_EXPIRE_HOURS", &v)?;
            if s.jwt_expire_hours == 0 {
                return Err(Error::Config("JWT_EXPIRE_HOURS must be at least 1".into()));
            }
        }
        s.openai_api_key = get("OPENAI_API_KEY");
        s.llm_provider = match get("LLM_PROVIDER")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            Some("openai") => LlmProvider::OpenAi,
            Some("none") => LlmProvider::None,
            Some(other) => {
                return Err(Error::Config(format!(
                    "LLM_PROVIDER must be `openai` or `none`, not `{other}`"
                )));
            }
            None if s.openai_api_key.is_some() => LlmProvider::OpenAi,
            None => LlmProvider::None,
        };
        if let Some(v) = get("OPENAI_MODEL") {
            s.openai_model = v;
        }
        if let Some(v) = get("OPENAI_BASE_URL") {
            s.openai_base_url = v;
        }
        if let Some(v) = get("ONCALL_ADDR") {
            s.addr = v;
        }
        if let Some(v) = get("ONCALL_DEV") {
            s.dev = parse_bool("ONCALL_DEV", &v)?;
        }
        s.encryption_key = get("ONCALL_ENCRYPTION_KEY");
        if let Some(v) = get("ONCALL_ADMIN_EMAIL") {
            s.admin_email = v;
        }
        if let Some(v) = get("ONCALL_ADMIN_PASSWORD") {
            s.admin_password = v;
        }
        if let Some(v) = get("ONCALL_WEB_DIR") {
            s.web_dir = PathBuf::from(v);
        }
        if let Some(v) = get("ONCALL_ANALYSIS_WORKERS") {
            s.analysis_workers = parse("ONCALL_ANALYSIS_WORKERS", &v)?;
            if s.analysis_workers == 0 {
                return Err(Error::Config(
                    "ONCALL_ANALYSIS_WORKERS must be at least 1".into(),
                ));
            }
        }
        if let Some(v) = get("ONCALL_ANALYSIS_DEADLINE_SECONDS") {
            let secs: u64 = parse("ONCALL_ANALYSIS_DEADLINE_SECONDS", &v)?;
            if secs == 0 {
                return Err(Error::Config(
                    "ONCALL_ANALYSIS_DEADLINE_SECONDS must be at least 1".into(),
                ));
            }
            s.analysis_deadline = std::time::Duration::from_secs(secs);
        }
        if let Some(v) = get("ONCALL_HEARTBEAT_SECONDS") {
            let secs: u64 = parse("ONCALL_HEARTBEAT_SECONDS", &v)?;
            if !(1..=3600).contains(&secs) {
                return Err(Error::Config(
                    "ONCALL_HEARTBEAT_SECONDS must be between 1 and 3600".into(),
                ));
            }
            s.heartbeat = std::time::Duration::from_secs(secs);
        }
        if let Some(v) = get("ONCALL_STOP_GRACE_SECONDS") {
            let secs: u64 = parse("ONCALL_STOP_GRACE_SECONDS", &v)?;
            s.stop_grace = std::time::Duration::from_secs(secs);
        }
        s.llm = llm_limits(&get)?;
        s.public_url = get("ONCALL_PUBLIC_URL").map(|u| u.trim_end_matches('/').to_owned());
        if let Some(v) = get("ONCALL_WEBHOOK_BACKLOG") {
            s.webhook_backlog = parse("ONCALL_WEBHOOK_BACKLOG", &v)?;
        }
        if let Some(v) = get("ONCALL_NOTIFY_RETRY_MS") {
            s.notify_retry_ms = parse("ONCALL_NOTIFY_RETRY_MS", &v)?;
        }
        if let Some(v) = get("ONCALL_NOTIFY_MAX_ATTEMPTS") {
            s.notify_max_attempts = parse("ONCALL_NOTIFY_MAX_ATTEMPTS", &v)?;
            if s.notify_max_attempts == 0 {
                return Err(Error::Config(
                    "ONCALL_NOTIFY_MAX_ATTEMPTS must be at least 1".into(),
                ));
            }
        }
        if let Some(v) = get("ONCALL_NOTIFY_RETENTION_DAYS") {
            s.notify_retention_days = parse("ONCALL_NOTIFY_RETENTION_DAYS", &v)?;
            if s.notify_retention_days == 0 {
                return Err(Error::Config(
                    "ONCALL_NOTIFY_RETENTION_DAYS must be at least 1".into(),
                ));
            }
        }
        if let Some(v) = get("ONCALL_MEMORY_RETENTION_DAYS") {
            s.memory_retention_days = parse("ONCALL_MEMORY_RETENTION_DAYS", &v)?;
        }
        s.outbound = crate::connectors::outbound::OutboundPolicy::parse(
            get("ONCALL_OUTBOUND_DENY").as_deref(),
            get("ONCALL_OUTBOUND_ALLOW").as_deref(),
        )?;
        s.metrics_token = get("ONCALL_METRICS_TOKEN");
        s.trusted_proxy_header = get("ONCALL_TRUSTED_PROXY_HEADER");
        if let Some(h) = &s.trusted_proxy_header
            && header_name_invalid(h)
        {
            return Err(Error::Config(format!(
                "ONCALL_TRUSTED_PROXY_HEADER=`{h}` is not a header name"
            )));
        }
        Ok(s)
    }

    /// How long a claim on an analysis lasts without renewal: three heartbeats.
    pub fn lease(&self) -> std::time::Duration {
        self.heartbeat * 3
    }

    /// The base of links into the web UI.
    pub fn ui_base_url(&self) -> String {
        match &self.public_url {
            Some(u) => u.clone(),
            None => format!("http://{}", self.addr.replace("0.0.0.0", "localhost")),
        }
    }

    /// Settings for an embedded engine on the given database, defaults otherwise.
    pub fn with_database(database_url: impl Into<String>) -> Self {
        Settings {
            database_url: database_url.into(),
            ..Settings::default()
        }
    }
}

fn llm_limits(get: &impl Fn(&str) -> Option<String>) -> Result<LlmLimits> {
    use std::time::Duration;
    let mut l = LlmLimits::default();
    let positive = |name: &str| -> Result<Option<u64>> {
        match get(name) {
            None => Ok(None),
            Some(v) => {
                let n: u64 = parse(name, &v)?;
                if n == 0 {
                    return Err(Error::Config(format!("{name} must be at least 1")));
                }
                Ok(Some(n))
            }
        }
    };
    if let Some(n) = positive("LLM_TIMEOUT_SECONDS")? {
        l.request_timeout = Duration::from_secs(n);
    }
    if let Some(v) = get("LLM_MAX_RETRIES") {
        l.max_retries = parse("LLM_MAX_RETRIES", &v)?;
    }
    if let Some(v) = get("LLM_MAX_TOOL_CALLS") {
        l.max_tool_calls = parse("LLM_MAX_TOOL_CALLS", &v)?;
    }
    if let Some(n) = positive("LLM_TOKEN_BUDGET")? {
        l.token_budget = n;
    }
    if let Some(n) = positive("LLM_TIME_BUDGET_SECONDS")? {
        l.time_budget = Duration::from_secs(n);
    }
    if let Some(n) = positive("LLM_MAX_COMPLETION_TOKENS")? {
        l.max_completion_tokens = u32::try_from(n).unwrap_or(u32::MAX);
    }
    if let Some(v) = get("LLM_REDACT_IPS") {
        l.redact_ips = parse_bool("LLM_REDACT_IPS", &v)?;
    }
    if let Some(v) = get("LLM_STREAM") {
        l.stream = parse_bool("LLM_STREAM", &v)?;
    }
    Ok(l)
}

fn parse<T: FromStr>(name: &str, value: &str) -> Result<T>
where
    T::Err: fmt::Display,
{
    value
        .parse()
        .map_err(|e| Error::Config(format!("{name}=`{value}` is not valid: {e}")))
}

/// True unless `name` is an HTTP header name (RFC 9110 token characters).
fn header_name_invalid(name: &str) -> bool {
    name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn parse_bool(name: &str, value: &str) -> Result<bool> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(Error::Config(format!(
            "{name}=`{value}` is not a boolean (use 1 or 0)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<Settings> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_match_the_spec() {
        let s = from(&[]).unwrap();
        assert_eq!(s.database_url, "sqlite://./data/oncall.db");
        assert_eq!(s.jwt_expire_hours, 24);
        assert_eq!(s.llm_provider, LlmProvider::None);
        assert_eq!(s.openai_model, "gpt-4");
        assert_eq!(s.addr, "0.0.0.0:8000");
        assert_eq!(s.analysis_workers, 4);
        assert_eq!(s.analysis_deadline.as_secs(), 120);
        assert_eq!((s.heartbeat.as_secs(), s.lease().as_secs()), (2, 6));
        assert_eq!(s.stop_grace.as_secs(), 20);
        assert!(!s.dev);
        let s = from(&[
            ("ONCALL_HEARTBEAT_SECONDS", "1"),
            ("ONCALL_STOP_GRACE_SECONDS", "0"),
        ])
        .unwrap();
        assert_eq!((s.heartbeat.as_secs(), s.stop_grace.as_secs()), (1, 0));
        for bad in ["0", "often"] {
            let e = from(&[("ONCALL_HEARTBEAT_SECONDS", bad)]).unwrap_err();
            assert!(e.to_string().contains("ONCALL_HEARTBEAT_SECONDS"), "{e}");
        }
        let s = from(&[("ONCALL_ANALYSIS_DEADLINE_SECONDS", "300")]).unwrap();
        assert_eq!(s.analysis_deadline.as_secs(), 300);
        assert_eq!(s.notify_retention_days, 30);
        let s = from(&[("ONCALL_NOTIFY_RETENTION_DAYS", "7")]).unwrap();
        assert_eq!(s.notify_retention_days, 7);
        assert_eq!(s.memory_retention_days, 365);
        let s = from(&[("ONCALL_MEMORY_RETENTION_DAYS", "0")]).unwrap();
        assert_eq!(s.memory_retention_days, 0, "memory off");
        let e = from(&[("ONCALL_MEMORY_RETENTION_DAYS", "a year")]).unwrap_err();
        assert!(
            e.to_string().contains("ONCALL_MEMORY_RETENTION_DAYS"),
            "{e}"
        );
        let e = from(&[("ONCALL_NOTIFY_RETENTION_DAYS", "0")]).unwrap_err();
        assert!(
            e.to_string().contains("ONCALL_NOTIFY_RETENTION_DAYS"),
            "{e}"
        );
        for bad in ["0", "soon"] {
            let e = from(&[("ONCALL_ANALYSIS_DEADLINE_SECONDS", bad)]).unwrap_err();
            assert!(
                e.to_string().contains("ONCALL_ANALYSIS_DEADLINE_SECONDS"),
                "{e}"
            );
        }
    }

    #[test]
    fn llm_limits_come_from_the_environment_and_reject_zero() {
        let s = from(&[
            ("LLM_MAX_TOOL_CALLS", "2"),
            ("LLM_TOKEN_BUDGET", "5000"),
            ("LLM_REDACT_IPS", "0"),
            ("LLM_STREAM", "false"),
        ])
        .unwrap();
        assert!(!s.llm.stream);
        assert!(from(&[]).unwrap().llm.stream);
        assert_eq!(s.llm.max_tool_calls, 2);
        assert_eq!(s.llm.token_budget, 5000);
        assert!(!s.llm.redact_ips);
        assert_eq!(s.llm.max_retries, 3);
        let e = from(&[("LLM_TIMEOUT_SECONDS", "0")]).unwrap_err();
        assert!(e.to_string().contains("LLM_TIMEOUT_SECONDS"), "{e}");
    }

    #[test]
    fn a_key_turns_the_llm_on_unless_told_otherwise() {
        assert_eq!(
            from(&[("OPENAI_API_KEY", "sk")]).unwrap().llm_provider,
            LlmProvider::OpenAi
        );
        let s = from(&[("OPENAI_API_KEY", "sk"), ("LLM_PROVIDER", "none")]).unwrap();
        assert_eq!(s.llm_provider, LlmProvider::None);
    }

    #[test]
    fn security_settings_are_read_and_checked() {
        let s = from(&[
            ("ONCALL_TRUSTED_PROXY_HEADER", "X-Forwarded-For"),
            ("ONCALL_OUTBOUND_DENY", "10.0.0.0/8"),
        ])
        .unwrap();
        assert_eq!(s.trusted_proxy_header.as_deref(), Some("X-Forwarded-For"));
        assert!(s.outbound.check_host("10.1.1.1").is_err());
        assert!(
            from(&[])
                .unwrap()
                .outbound
                .check_host("169.254.169.254")
                .is_err()
        );
        let e = from(&[("ONCALL_OUTBOUND_ALLOW", "10.0.0.0/99")]).unwrap_err();
        assert!(e.to_string().contains("ONCALL_OUTBOUND_ALLOW"), "{e}");
        let e = from(&[("ONCALL_TRUSTED_PROXY_HEADER", "X Forwarded")]).unwrap_err();
        assert!(e.to_string().contains("ONCALL_TRUSTED_PROXY_HEADER"), "{e}");
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = from(&[("JWT_EXPIRE_HOURS", "soon")]).unwrap_err();
        assert!(e.to_string().contains("JWT_EXPIRE_HOURS"), "{e}");
        let e = from(&[("LLM_PROVIDER", "claude")]).unwrap_err();
        assert!(e.to_string().contains("LLM_PROVIDER"), "{e}");
        assert!(from(&[("ONCALL_DEV", "maybe")]).is_err());
    }

    #[test]
    fn environment_overrides_dotenv() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, "OPENAI_MODEL=from-dotenv\nJWT_EXPIRE_HOURS=5\n").unwrap();
        let env = [("OPENAI_MODEL".to_string(), "from-env".to_string())];
        let s = Settings::layered(&path, env.into_iter()).unwrap();
        assert_eq!(s.openai_model, "from-env");
        assert_eq!(s.jwt_expire_hours, 5);
    }

    #[test]
    fn debug_output_hides_secrets() {
        let s = from(&[
            ("JWT_SECRET_KEY", "topsecret"),
            ("DATABASE_URL", "mysql://u:hunter2@db:3306/oncall"),
        ])
        .unwrap();
        let dbg = format!("{s:?}");
        assert!(
            !dbg.contains("topsecret") && !dbg.contains("hunter2"),
            "{dbg}"
        );
        assert!(dbg.contains("mysql://u:***@db:3306/oncall"), "{dbg}");
    }
}
