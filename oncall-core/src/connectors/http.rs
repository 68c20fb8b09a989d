//! The HTTP side every connector shares: one reqwest client per data source with
//! its TLS settings (rustls on the *ring* provider, the same one sqlx uses), auth,
//! timeout, a response-size cap, retries for idempotent reads, and the mapping of
//! transport failures and HTTP statuses to [`ConnectorErrorKind`].
//!
//! Credentials live only in [`Auth`], whose `Debug` hides them; no error message is
//! built from a request (reqwest's own messages carry the URL, ours carry only the
//! credential-free base URL).

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Client, Method, StatusCode, Url};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde_json::Value;

use super::{
    AuthKind, ConnectorError, ConnectorErrorKind, ConnectorResult, Credentials, DataSource,
};
use crate::error::{Error, Result};

/// Per-request timeout when the data source sets none.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Response-size cap when the data source sets none.
pub(crate) const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;
/// Retries after the first attempt, for idempotent reads only.
const RETRIES: u32 = 2;
/// How much of an error body is kept to find the server's message.
const ERROR_BODY_BYTES: usize = 64 * 1024;

/// How requests authenticate. `Debug` never shows a secret.
#[derive(Clone)]
enum Auth {
    None,
    Basic {
        username: String,
        password: Option<String>,
    },
    Bearer(HeaderValue),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Basic { username, .. } => write!(f, "Basic({username:?}, <redacted>)"),
            Auth::Bearer(_) => f.write_str("Bearer(<redacted>)"),
        }
    }
}

/// Typed access to a data source's `config` object.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Config<'a>(pub(crate) &'a Value);

impl<'a> Config<'a> {
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    /// A string setting; empty strings count as absent.
    pub(crate) fn str(&self, key: &str) -> Result<Option<&'a str>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim())),
            Some(_) => Err(Error::invalid(format!("config.{key}"), "must be a string")),
        }
    }

    /// A boolean setting (`true`/`false`, also as strings).
    pub(crate) fn bool(&self, key: &str) -> Result<bool> {
        match self.get(key) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) if s == "true" => Ok(true),
            Some(Value::String(s)) if s == "false" || s.is_empty() => Ok(false),
            Some(_) => Err(Error::invalid(
                format!("config.{key}"),
                "must be true or false",
            )),
        }
    }

    /// A positive integer setting (also as a string).
    pub(crate) fn positive(&self, key: &str) -> Result<Option<u64>> {
        let n = match self.get(key) {
            None => return Ok(None),
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            Some(_) => None,
        };
        match n {
            Some(n) if n > 0 => Ok(Some(n)),
            _ => Err(Error::invalid(
                format!("config.{key}"),
                "must be a positive integer",
            )),
        }
    }
}

/// One data source's HTTP client.
#[derive(Debug)]
pub(crate) struct HttpClient {
    client: Client,
    /// Credential-free, ends with `/`.
    base: Url,
    auth: Auth,
    headers: HeaderMap,
    max_bytes: u64,
    timeout: Duration,
}

impl HttpClient {
    /// A client for `ds`; `headers` are sent with every request (e.g. a Loki tenant).
    pub(crate) fn new(
        ds: &DataSource,
        credentials: Credentials,
        headers: HeaderMap,
    ) -> Result<Self> {
        let config = Config(&ds.config);
        let mut base = Url::parse(ds.url.trim())
            .map_err(|e| Error::invalid("url", format!("not a URL ({e})")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(Error::invalid("url", "must start with http:// or https://"));
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(Error::invalid(
                "url",
                "must not contain credentials; use the data source's auth settings",
            ));
        }
        if base.host_str().is_none() {
            return Err(Error::invalid("url", "has no host"));
        }
        super::outbound::check_url(&base)?;
        base.set_query(None);
        base.set_fragment(None);
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }

        let auth = match ds.auth_kind {
            AuthKind::None => Auth::None,
            AuthKind::Basic => Auth::Basic {
                username: credentials
                    .username
                    .or_else(|| ds.username.clone())
                    .filter(|u| !u.is_empty())
                    .ok_or_else(|| {
                        Error::invalid("auth.username", "basic auth needs a user name")
                    })?,
                password: credentials.password,
            },
            AuthKind::Bearer => {
                let token = credentials
                    .token
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| Error::invalid("auth.token", "bearer auth needs a token"))?;
                let mut value =
                    HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                        Error::invalid("auth.token", "contains characters not allowed in a header")
                    })?;
                value.set_sensitive(true);
                Auth::Bearer(value)
            }
        };

        let timeout = u64::try_from(ds.timeout_ms)
            .ok()
            .filter(|ms| *ms > 0)
            .map_or(DEFAULT_TIMEOUT, Duration::from_millis);
        let max_bytes = config
            .positive("max_response_bytes")?
            .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES);
        let tls = tls_config(config.str("ca_cert")?, config.bool("insecure_skip_verify")?)?;

        let client = Client::builder()
            .tls_backend_preconfigured(tls)
            .dns_resolver(Arc::new(super::outbound::GuardedResolver::default()))
            .redirect(super::outbound::same_origin_redirects())
            .timeout(timeout)
            .connect_timeout(timeout.min(DEFAULT_TIMEOUT))
            .user_agent(concat!("oncall-assistant/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Internal(format!("building the HTTP client: {e}")))?;
        Ok(HttpClient {
            client,
            base,
            auth,
            headers,
            max_bytes,
            timeout,
        })
    }

    /// The base URL as shown in messages (no credentials, no trailing slash).
    pub(crate) fn base_display(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> ConnectorResult<Url> {
        let mut url = self.base.join(path).map_err(|e| {
            ConnectorError::new(
                ConnectorErrorKind::Config,
                format!("bad path `{path}`: {e}"),
            )
        })?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// `GET`, retried on connection errors and 502/503/504.
    pub(crate) async fn get(&self, path: &str, query: &[(&str, &str)]) -> ConnectorResult<Vec<u8>> {
        self.send(Method::GET, path, query, None, true).await
    }

    /// `GET` without retries (connectivity tests answer fast).
    pub(crate) async fn get_once(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> ConnectorResult<Vec<u8>> {
        self.send(Method::GET, path, query, None, false).await
    }

    /// `POST` of a JSON body for a read (e.g. `_search`), retried like [`Self::get`].
    pub(crate) async fn post_read(&self, path: &str, body: &Value) -> ConnectorResult<Vec<u8>> {
        let body = serde_json::to_vec(body).map_err(|e| {
            ConnectorError::new(
                ConnectorErrorKind::BadQuery,
                format!("cannot encode the query: {e}"),
            )
        })?;
        self.send(Method::POST, path, &[], Some(body), true).await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Vec<u8>>,
        retry: bool,
    ) -> ConnectorResult<Vec<u8>> {
        let url = self.url(path, query)?;
        let attempts = if retry { 1 + RETRIES } else { 1 };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = self
                .client
                .request(method.clone(), url.clone())
                .headers(self.headers.clone());
            req = match &self.auth {
                Auth::None => req,
                Auth::Basic { username, password } => req.basic_auth(username, password.as_ref()),
                Auth::Bearer(value) => req.header(AUTHORIZATION, value.clone()),
            };
            if let Some(body) = &body {
                req = req
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            tracing::debug!(%method, path, attempt, "data source request");
            let (err, retryable) = match req.send().await {
                Err(e) => (self.transport_error(&e), e.is_connect() && !e.is_timeout()),
                Ok(resp) if resp.status().is_success() => return self.read_body(resp).await,
                Ok(resp) => {
                    let status = resp.status();
                    let body = self.read_error_body(resp).await;
                    (
                        status_error(status, &body),
                        matches!(status.as_u16(), 502..=504),
                    )
                }
            };
            if !retryable || attempt >= attempts {
                return Err(err);
            }
            tracing::debug!(path, attempt, error = %err, "retrying data source request");
            tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
        }
    }

    async fn read_body(&self, mut resp: reqwest::Response) -> ConnectorResult<Vec<u8>> {
        let too_large = || {
            ConnectorError::new(
                ConnectorErrorKind::TooLarge,
                format!(
                    "the answer is larger than max_response_bytes ({} bytes); narrow the \
                     query or raise the limit",
                    self.max_bytes
                ),
            )
        };
        let announced = resp.content_length();
        if announced.is_some_and(|n| n > self.max_bytes) {
            return Err(too_large());
        }
        let capacity = announced.unwrap_or(64 * 1024).min(self.max_bytes);
        let mut buf = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport_error(&e))? {
            if (buf.len() + chunk.len()) as u64 > self.max_bytes {
                return Err(too_large());
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf)
    }

    /// At most [`ERROR_BODY_BYTES`] of an error answer; a broken body is just cut short.
    async fn read_error_body(&self, mut resp: reqwest::Response) -> Vec<u8> {
        let mut buf = Vec::new();
        while let Ok(Some(chunk)) = resp.chunk().await {
            let room = ERROR_BODY_BYTES.saturating_sub(buf.len());
            buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if buf.len() >= ERROR_BODY_BYTES {
                break;
            }
        }
        buf
    }

    fn transport_error(&self, e: &reqwest::Error) -> ConnectorError {
        let base = self.base_display();
        let cause = root_cause(e);
        if e.is_timeout() {
            return ConnectorError::new(
                ConnectorErrorKind::Timeout,
                format!(
                    "{base} did not answer within {} ms (the data source's timeout)",
                    self.timeout.as_millis()
                ),
            );
        }
        if let Some(tls) = tls_cause(e) {
            return ConnectorError::new(
                ConnectorErrorKind::Tls,
                format!(
                    "TLS with {base} failed: {tls}; trust the server's CA with `ca_cert` \
                     (or, for testing only, set `insecure_skip_verify`)"
                ),
            );
        }
        if e.is_connect() {
            return ConnectorError::new(
                ConnectorErrorKind::Unreachable,
                format!("cannot connect to {base}: {cause}"),
            );
        }
        if e.is_body() || e.is_decode() {
            return ConnectorError::new(
                ConnectorErrorKind::ServerError,
                format!("the answer from {base} broke off: {cause}"),
            );
        }
        ConnectorError::new(
            ConnectorErrorKind::Unreachable,
            format!("request to {base} failed: {cause}"),
        )
    }
}

/// The innermost message of an error chain (reqwest's outer messages carry the URL).
fn root_cause(e: &reqwest::Error) -> String {
    let mut last: Option<&dyn std::error::Error> = None;
    let mut next = std::error::Error::source(e);
    while let Some(err) = next {
        last = Some(err);
        next = err.source();
    }
    last.map_or_else(|| "connection failed".to_owned(), |err| err.to_string())
}

/// A rustls error anywhere in the chain. hyper wraps it in an `io::Error`, whose
/// `source()` skips the wrapped error itself, so wrapped errors are opened too; as
/// a last resort rustls's own wording is recognised.
fn tls_cause(e: &reqwest::Error) -> Option<String> {
    let mut stack: Vec<&(dyn std::error::Error + 'static)> = Vec::new();
    if let Some(s) = std::error::Error::source(e) {
        stack.push(s);
    }
    while let Some(err) = stack.pop() {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls.to_string());
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            stack.push(inner);
        }
        if let Some(next) = err.source() {
            stack.push(next);
        }
    }
    let cause = root_cause(e);
    const RUSTLS_WORDING: [&str; 4] = [
        "invalid peer certificate",
        "received fatal alert",
        "peer is incompatible",
        "peer sent no certificates",
    ];
    RUSTLS_WORDING
        .iter()
        .any(|w| cause.contains(w))
        .then_some(cause)
}

/// Maps a non-2xx answer to an error kind, with the server's own message when it
/// is one this kind of server sends (see [`server_message`]).
pub(crate) fn status_error(status: StatusCode, body: &[u8]) -> ConnectorError {
    if status.is_redirection() {
        return ConnectorError::new(
            ConnectorErrorKind::Config,
            format!(
                "the server redirects (HTTP {}) to another origin; redirects are only \
                 followed within the same scheme, host and port, so that credentials \
                 never go elsewhere: set the data source's URL to where it points",
                status.as_u16()
            ),
        );
    }
    let message = if status == StatusCode::BAD_REQUEST {
        server_message(body)
    } else {
        json_server_message(body).unwrap_or_else(|| describe_body(body))
    };
    let detail = if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    };
    let code = status.as_u16();
    match code {
        401 | 403 => ConnectorError::new(
            ConnectorErrorKind::AuthFailed,
            format!(
                "the server refused the credentials (HTTP {code}){detail}; check the data \
                 source's auth settings"
            ),
        ),
        400..=499 if code != 429 => ConnectorError::new(
            ConnectorErrorKind::BadQuery,
            format!("the server rejected the request (HTTP {code}){detail}"),
        ),
        _ => ConnectorError::new(
            ConnectorErrorKind::ServerError,
            format!("the server failed (HTTP {code}){detail}"),
        ),
    }
}

/// The error text in a body: Prometheus/Loki `{"error": "..."}`, Elasticsearch
/// `{"error": {"type", "reason", "root_cause": [...]}}`, `{"message": "..."}`, or the
/// first 300 characters of plain text (Loki answers a bad query with plain text;
/// only a 400's body is read this way).
pub(crate) fn server_message(body: &[u8]) -> String {
    json_server_message(body).unwrap_or_else(|| clip(String::from_utf8_lossy(body).trim(), 300))
}

/// The error text of a JSON error body, as the data source kinds send them.
fn json_server_message(body: &[u8]) -> Option<String> {
    let v = serde_json::from_slice::<Value>(body).ok()?;
    json_error_text(&v).map(|text| clip(&text, 1000))
}

/// What kind of answer `body` is, without any of its content: whatever answered
/// at a data source's URL (a metadata service, an internal page) is never echoed
/// back to the user.
pub(crate) fn describe_body(body: &[u8]) -> String {
    let size = body.len();
    let start = String::from_utf8_lossy(&body[..size.min(512)]);
    let start = start.trim_start().to_ascii_lowercase();
    let kind = if size == 0 {
        return "an empty answer".to_owned();
    } else if start.starts_with("<!doctype html") || start.starts_with("<html") {
        "an HTML page"
    } else if start.starts_with("<?xml") || start.starts_with('<') {
        "an XML document"
    } else if serde_json::from_slice::<Value>(body).is_ok() {
        "JSON of another shape"
    } else if std::str::from_utf8(body).is_ok() {
        "plain text"
    } else {
        "binary data"
    };
    format!("{kind} of {size} bytes")
}

fn json_error_text(v: &Value) -> Option<String> {
    match v.get("error") {
        Some(Value::String(s)) => return Some(s.clone()),
        Some(err @ Value::Object(_)) => {
            let reason = |e: &Value| -> Option<String> {
                let ty = e.get("type").and_then(Value::as_str).unwrap_or("error");
                e.get("reason")
                    .and_then(Value::as_str)
                    .map(|r| format!("{ty}: {r}"))
            };
            let root = err
                .get("root_cause")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .and_then(reason);
            let top = reason(err);
            return match (top, root) {
                (Some(t), Some(r)) if t != r => Some(format!("{t} ({r})")),
                (Some(t), _) => Some(t),
                (None, r) => r,
            };
        }
        _ => {}
    }
    v.get("message").and_then(Value::as_str).map(str::to_owned)
}

/// At most `max` characters, on one line.
pub(crate) fn clip(s: &str, max: usize) -> String {
    let one_line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max + 1)
        .collect();
    if one_line.chars().count() > max {
        let cut: String = one_line.chars().take(max).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

/// Parses a JSON answer; a body that is not the expected JSON is a `bad_response`.
pub(crate) fn parse_json<'de, T: serde::Deserialize<'de>>(
    body: &'de [u8],
    what: &str,
) -> ConnectorResult<T> {
    serde_json::from_slice(body).map_err(|_| {
        ConnectorError::bad_response(format!(
            "the answer is not {what} but {}; is the URL right?",
            describe_body(body)
        ))
    })
}

fn crypto_provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// rustls on *ring*: the platform's roots plus `ca_cert`, or no verification at all.
pub(crate) fn tls_config(ca_cert: Option<&str>, insecure: bool) -> Result<rustls::ClientConfig> {
    let provider = crypto_provider();
    let verifier: Arc<dyn ServerCertVerifier> = if insecure {
        Arc::new(AcceptAnyCertificate(provider.clone()))
    } else {
        match ca_cert {
            None => system_verifier(),
            Some(pem) => {
                let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| Error::invalid("config.ca_cert", format!("not PEM ({e})")))?;
                if certs.is_empty() {
                    return Err(Error::invalid(
                        "config.ca_cert",
                        "holds no `BEGIN CERTIFICATE` block",
                    ));
                }
                let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
                    certs,
                    provider.clone(),
                )
                .map_err(|e| Error::invalid("config.ca_cert", format!("unusable: {e}")))?;
                Arc::new(verifier)
            }
        }
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Internal(format!("TLS setup: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The platform's roots, loaded once per process. A machine without any CA
/// certificates still gets working plain-HTTP connectors; HTTPS then fails with a
/// TLS error that says to set `ca_cert`.
fn system_verifier() -> Arc<dyn ServerCertVerifier> {
    static VERIFIER: OnceLock<Arc<dyn ServerCertVerifier>> = OnceLock::new();
    VERIFIER
        .get_or_init(|| {
            let provider = crypto_provider();
            match rustls_platform_verifier::Verifier::new(provider.clone()) {
                Ok(v) => Arc::new(v),
                Err(e) => {
                    tracing::warn!(error = %e, "no system CA certificates; HTTPS data sources need ca_cert");
                    Arc::new(NoTrustedRoots(e.to_string(), provider))
                }
            }
        })
        .clone()
}

/// Rejects every certificate: the system has no roots and no `ca_cert` was given.
#[derive(Debug)]
struct NoTrustedRoots(String, Arc<CryptoProvider>);

impl ServerCertVerifier for NoTrustedRoots {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Err(rustls::Error::General(format!(
            "invalid peer certificate: no trusted CA certificates on this machine ({})",
            self.0
        )))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        AcceptAnyCertificate(self.1.clone()).verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        AcceptAnyCertificate(self.1.clone()).verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.1.signature_verification_algorithms.supported_schemes()
    }
}

/// `insecure_skip_verify`: any certificate for any name is accepted; handshake
/// signatures are still checked so the connection itself is sound.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_messages_are_found() {
        assert_eq!(
            server_message(br#"{"status":"error","errorType":"bad_data","error":"parse error"}"#),
            "parse error"
        );
        assert_eq!(
            server_message(
                br#"{"error":{"type":"index_not_found_exception","reason":"no such index [x]","root_cause":[{"type":"index_not_found_exception","reason":"no such index [x]"}]},"status":404}"#
            ),
            "index_not_found_exception: no such index [x]"
        );
        assert_eq!(server_message(b"  plain\ntext "), "plain text");
    }

    #[test]
    fn foreign_bodies_are_described_not_echoed() {
        let secret = br#"{"Code":"Success","AccessKeyId":"ASIAXXSECRET","SecretAccessKey":"abc"}"#;
        let e = parse_json::<Vec<u8>>(secret, "a Prometheus answer").unwrap_err();
        assert!(!e.message.contains("ASIA"), "{}", e.message);
        assert!(e.message.contains("JSON of another shape"), "{}", e.message);
        let page = b"<!DOCTYPE html><title>internal admin</title>";
        let e = parse_json::<Vec<u8>>(page, "x").unwrap_err();
        assert!(e.message.contains("an HTML page") && !e.message.contains("internal"));
        let e = status_error(StatusCode::NOT_FOUND, b"ami-id\nhostname\niam/");
        assert!(!e.message.contains("iam"), "{}", e.message);
        let e = status_error(StatusCode::FOUND, b"");
        assert_eq!(e.kind, ConnectorErrorKind::Config);
        // A Loki query error (400, plain text) is still shown.
        let e = status_error(StatusCode::BAD_REQUEST, b"parse error at line 1");
        assert!(e.message.contains("parse error at line 1"));
    }

    #[test]
    fn auth_debug_hides_secrets() {
        let a = Auth::Basic {
            username: "u".into(),
            password: Some("hunter2".into()),
        };
        assert!(!format!("{a:?}").contains("hunter2"));
    }
}
