//! `oncall analyze --server URL`: the same analysis submitted to a running
//! oncall-server over its REST API (`oncall-server/openapi.json`): log in if
//! needed, `POST /api/analysis`, follow `GET /api/analysis/{id}/events` (Server-Sent
//! Events) and read the final `GET /api/analysis/{id}`, polling when the event
//! stream is not available. The shapes read are core's own types.

use std::time::Duration;

use oncall_core::analysis::AnalysisEvent;
use oncall_core::{AnalysisOptions, AnalysisView, ErrorCode};
use reqwest::{RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::Failure;
use crate::progress::Progress;

/// Longest a plain request (not the event stream) may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the analysis is read when polling.
const POLL: Duration = Duration::from_millis(500);

/// A server and the token to call it with.
#[derive(Debug)]
pub struct Remote {
    http: reqwest::Client,
    base: String,
    token: String,
}

/// How to authenticate: a token, or an account to log in with.
#[derive(Debug)]
pub struct Login {
    /// A bearer token from `POST /api/auth/login` (or the web UI).
    pub token: Option<String>,
    /// Account email, used when there is no token.
    pub email: Option<String>,
    /// Its password.
    pub password: Option<String>,
}

#[derive(Serialize)]
struct SubmitAnalysis<'a> {
    alert: &'a Value,
    options: &'a AnalysisOptions,
}

#[derive(Deserialize)]
struct Accepted {
    id: Uuid,
}

#[derive(Deserialize)]
struct LoginResponse {
    access_token: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    code: String,
    message: String,
}

impl Remote {
    /// Checks the URL and gets a token (logging in when only an account is given).
    pub async fn connect(server: &str, login: Login) -> Result<Self, Failure> {
        let base = server.trim().trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) || base.len() < 10 {
            return Err(Failure::new(
                ErrorCode::Invalid,
                format!("--server: `{server}` is not an http:// or https:// URL"),
            ));
        }
        oncall_core::connectors::install_default_tls_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("oncall-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Failure::new(ErrorCode::Internal, format!("HTTP client: {e}")))?;
        let mut remote = Remote {
            http,
            base,
            token: String::new(),
        };
        remote.token = match login {
            Login {
                token: Some(token), ..
            } if !token.trim().is_empty() => token.trim().to_owned(),
            Login {
                email: Some(email),
                password: Some(password),
                ..
            } => remote.login(&email, &password).await?,
            _ => {
                return Err(Failure::new(
                    ErrorCode::Unauthorized,
                    "--server needs --token (ONCALL_TOKEN) or --email and --password \
                     (ONCALL_EMAIL, ONCALL_PASSWORD)",
                ));
            }
        };
        Ok(remote)
    }

    async fn login(&self, email: &str, password: &str) -> Result<String, Failure> {
        let req = self
            .http
            .post(self.url("/api/auth/login"))
            .json(&serde_json::json!({"email": email, "password": password}));
        let answer: LoginResponse = self.send(req).await.map_err(|f| Failure {
            message: format!("logging in as {email}: {}", f.message),
            ..f
        })?;
        Ok(answer.access_token)
    }

    /// Submits the alert; the id of the accepted (`pending`) analysis.
    pub async fn submit(&self, alert: &Value, options: &AnalysisOptions) -> Result<Uuid, Failure> {
        let req = self
            .http
            .post(self.url("/api/analysis"))
            .bearer_auth(&self.token)
            .json(&SubmitAnalysis { alert, options });
        let accepted: Accepted = self.send(req).await?;
        Ok(accepted.id)
    }

    /// Shows the analysis' progress until it is final and returns it.
    pub async fn wait(&self, id: Uuid, progress: &Progress) -> Result<AnalysisView, Failure> {
        if let Err(e) = self.follow_events(id, progress).await {
            // Proxies may not pass event streams; reading the analysis still works.
            tracing::debug!(error = %e.message, "event stream unavailable; polling");
        }
        loop {
            let current = self.analysis(id).await?;
            if current.status.is_final() {
                return Ok(current);
            }
            progress.status(current.status);
            tokio::time::sleep(POLL).await;
        }
    }

    /// One analysis.
    pub async fn analysis(&self, id: Uuid) -> Result<AnalysisView, Failure> {
        let req = self
            .http
            .get(self.url(&format!("/api/analysis/{id}")))
            .bearer_auth(&self.token);
        self.send(req).await
    }

    /// Reads the event stream until a final stage or its end.
    async fn follow_events(&self, id: Uuid, progress: &Progress) -> Result<(), Failure> {
        let url = self.url(&format!("/api/analysis/{id}/events"));
        let mut resp = self
            .http
            .get(&url)
            .bearer_auth(&self.token)
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        if !resp.status().is_success() {
            let status = resp.status();
            let body = resp.bytes().await.unwrap_or_default();
            return Err(api_error(status, &body, &url));
        }
        let mut stream = EventStream::default();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.unreachable(&e))? {
            for data in stream.feed(&chunk) {
                match serde_json::from_str::<AnalysisEvent>(&data) {
                    Ok(event) => {
                        progress.event(&event);
                        if event.stage.is_final() {
                            return Ok(());
                        }
                    }
                    Err(e) => tracing::debug!(error = %e, data, "unreadable event; skipped"),
                }
            }
        }
        Ok(())
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request and reads the JSON answer, or the server's error.
    async fn send<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T, Failure> {
        let resp = req
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(|e| self.unreachable(&e))?;
        let status = resp.status();
        let url = resp.url().to_string();
        let body = resp.bytes().await.map_err(|e| self.unreachable(&e))?;
        if !status.is_success() {
            return Err(api_error(status, &body, &url));
        }
        serde_json::from_slice(&body).map_err(|e| {
            Failure::new(
                ErrorCode::Internal,
                format!(
                    "{url} answered something that is not what oncall-server sends ({e}); \
                     is --server the right URL?"
                ),
            )
        })
    }

    /// A transport failure, with its causes (`connection refused`, ...).
    fn unreachable(&self, e: &reqwest::Error) -> Failure {
        let mut message = format!("cannot reach {}: {e}", self.base);
        let mut source = std::error::Error::source(e);
        while let Some(cause) = source {
            let text = cause.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = cause.source();
        }
        let code = if e.is_timeout() || e.is_connect() || e.is_request() || e.is_body() {
            ErrorCode::Unavailable
        } else {
            ErrorCode::Internal
        };
        Failure::new(code, message)
    }
}

/// The server's `{"code","message"}` as a failure of the same kind.
fn api_error(status: StatusCode, body: &[u8], url: &str) -> Failure {
    let by_status = match status.as_u16() {
        400 | 415 | 422 => ErrorCode::Invalid,
        401 => ErrorCode::Unauthorized,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        409 => ErrorCode::Conflict,
        413 => ErrorCode::TooLarge,
        429 => ErrorCode::RateLimited,
        502..=504 => ErrorCode::Unavailable,
        _ => ErrorCode::Internal,
    };
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(b) => {
            let code = serde_json::from_value(Value::String(b.code)).unwrap_or(by_status);
            let mut message = b.message;
            if code == ErrorCode::Unauthorized && !url.ends_with("/api/auth/login") {
                message.push_str(" (give --token, or --email and --password)");
            }
            Failure::new(code, message)
        }
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let text: String = text.trim().chars().take(160).collect();
            Failure::new(by_status, format!("{url} answered {status}: {text}"))
        }
    }
}

/// A Server-Sent Events decoder: bytes in, the `data` of each complete event out.
#[derive(Debug, Default)]
struct EventStream {
    buffer: Vec<u8>,
    data: Vec<String>,
}

impl EventStream {
    fn feed(&mut self, chunk: &[u8]) -> Vec<String> {
        self.buffer.extend_from_slice(chunk);
        let mut events = Vec::new();
        while let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
            let raw: Vec<u8> = self.buffer.drain(..=end).collect();
            let line = String::from_utf8_lossy(&raw);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if !self.data.is_empty() {
                    events.push(self.data.join("\n"));
                    self.data.clear();
                }
            } else if let Some(value) = line.strip_prefix("data:") {
                self.data
                    .push(value.strip_prefix(' ').unwrap_or(value).to_owned());
            }
            // `event:`, `id:`, `retry:` and `:` comments (keep-alives) are not needed.
        }
        events
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn events_are_decoded_across_chunks() {
        let mut s = EventStream::default();
        assert!(
            s.feed(b": keep-alive\n\nevent: message\r\ndata: {\"a\"")
                .is_empty()
        );
        assert_eq!(s.feed(b":1}\r\n\r\ndata: x\ndata: y\n"), vec!["{\"a\":1}"]);
        assert_eq!(s.feed(b"\n"), vec!["x\ny"]);
    }

    #[test]
    fn server_errors_keep_their_kind() {
        let f = api_error(
            StatusCode::CONFLICT,
            br#"{"code":"conflict","message":"stale"}"#,
            "http://h/api/x",
        );
        assert_eq!((f.code, f.message.as_str()), (ErrorCode::Conflict, "stale"));
        let f = api_error(StatusCode::BAD_GATEWAY, b"<html>", "http://h/api/x");
        assert_eq!(f.code, ErrorCode::Unavailable);
        assert!(f.message.contains("502"), "{}", f.message);
        let f = api_error(
            StatusCode::UNAUTHORIZED,
            br#"{"code":"unauthorized","message":"expired"}"#,
            "http://h/api/analysis",
        );
        assert_eq!(f.code, ErrorCode::Unauthorized);
        assert!(f.message.contains("--token"));
    }
}
