//! Hand-off: the short summaries posted to a team's chat when an analysis ends or a
//! ticket changes state, and how each kind of channel wants them.
//!
//! Bodies, as each service documents its bot / incoming-webhook API:
//!
//! * `webhook`: our own JSON: `{"event", "title", "text", "link", "analysis_id"?,
//!   "ticket_no"?, "severity"?, "status"?, "summary"?, "root_cause"?}`.
//! * `slack` (incoming webhook): `{"text": "<mrkdwn>"}`.
//! * `feishu` / Lark (custom bot): `{"msg_type": "text", "content": {"text"}}`; with
//!   a signing secret also `"timestamp"` (seconds) and `"sign"` =
//!   base64(HMAC-SHA256(key = "timestamp\nsecret", message = "")).
//! * `dingtalk` (custom robot): `{"msgtype": "markdown", "markdown": {"title",
//!   "text"}}`; with a signing secret the URL gets `&timestamp=<ms>&sign=<s>` where
//!   `s` = urlencode(base64(HMAC-SHA256(key = secret, message = "timestamp\nsecret"))).
//! * `wecom` (group robot): `{"msgtype": "markdown", "markdown": {"content"}}`.
//!
//! Nothing here does I/O; [`crate::OnCall`] keeps the outbox and sends.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;
use uuid::Uuid;

use crate::error::{Error, Result};

/// Which chat service (or plain JSON webhook) a channel posts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Enum),
    oai(rename_all = "snake_case")
)]
pub enum ChannelKind {
    /// Any URL; our JSON notice.
    Webhook,
    /// Slack incoming webhook.
    Slack,
    /// Feishu / Lark custom bot (optionally signed).
    Feishu,
    /// DingTalk custom robot (optionally signed).
    Dingtalk,
    /// WeCom (企业微信) group robot.
    Wecom,
}

impl ChannelKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Webhook => "webhook",
            ChannelKind::Slack => "slack",
            ChannelKind::Feishu => "feishu",
            ChannelKind::Dingtalk => "dingtalk",
            ChannelKind::Wecom => "wecom",
        }
    }

    /// True for the kinds that sign with a secret.
    pub fn signs(self) -> bool {
        matches!(self, ChannelKind::Feishu | ChannelKind::Dingtalk)
    }
}

impl std::str::FromStr for ChannelKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        [
            ChannelKind::Webhook,
            ChannelKind::Slack,
            ChannelKind::Feishu,
            ChannelKind::Dingtalk,
            ChannelKind::Wecom,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| Error::invalid("kind", "must be webhook, slack, feishu, dingtalk or wecom"))
    }
}

/// What a channel is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Enum),
    oai(rename_all = "snake_case")
)]
pub enum NotificationEvent {
    /// An analysis completed with a result.
    AnalysisCompleted,
    /// An analysis failed.
    AnalysisFailed,
    /// A ticket moved to another status.
    TicketStatus,
    /// A test message sent from the API.
    Test,
}

impl NotificationEvent {
    /// The name used in notices.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationEvent::AnalysisCompleted => "analysis_completed",
            NotificationEvent::AnalysisFailed => "analysis_failed",
            NotificationEvent::TicketStatus => "ticket_status",
            NotificationEvent::Test => "test",
        }
    }

    /// The events a channel gets when it does not say.
    pub const DEFAULT: [NotificationEvent; 3] = [
        NotificationEvent::AnalysisCompleted,
        NotificationEvent::AnalysisFailed,
        NotificationEvent::TicketStatus,
    ];
}

/// A channel as stored. The URL (which often carries the bot's token) and the
/// signing secret are sealed.
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationChannel {
    /// Id (UUID v7).
    pub id: Uuid,
    /// Unique display name.
    pub name: String,
    /// Service.
    pub kind: ChannelKind,
    /// The sealed URL.
    pub url_sealed: String,
    /// Scheme, host and path start of the URL, for display (no token).
    pub url_hint: String,
    /// The sealed signing secret (Feishu, DingTalk).
    pub secret_sealed: Option<String>,
    /// Events it receives.
    pub events: Vec<NotificationEvent>,
    /// Disabled channels get nothing.
    pub enabled: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// One message about to be posted, channel-neutral (stored in the outbox).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// What happened.
    pub event: NotificationEvent,
    /// One line.
    pub title: String,
    /// A few lines for people.
    pub text: String,
    /// Where to look in the web UI.
    pub link: String,
    /// The analysis it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis_id: Option<Uuid>,
    /// The ticket it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_no: Option<String>,
    /// `P0`..`P3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// Analysis or ticket status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The result's summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The result's root cause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_cause: Option<String>,
}

/// A request ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// Where to POST.
    pub url: String,
    /// The JSON body.
    pub body: Value,
}

type HmacSha256 = Hmac<Sha256>;

fn hmac_base64(key: &[u8], message: &[u8]) -> Result<String> {
    let mut mac =
        HmacSha256::new_from_slice(key).map_err(|e| Error::Internal(format!("HMAC key: {e}")))?;
    mac.update(message);
    Ok(B64.encode(mac.finalize().into_bytes()))
}

/// DingTalk's signature for `timestamp_ms`: base64(HMAC-SHA256(secret,
/// "timestamp\nsecret")), before URL encoding.
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> Result<String> {
    hmac_base64(
        secret.as_bytes(),
        format!("{timestamp_ms}\n{secret}").as_bytes(),
    )
}

/// Feishu's signature for `timestamp_s`: base64(HMAC-SHA256(key =
/// "timestamp\nsecret", message = empty)).
pub fn feishu_sign(secret: &str, timestamp_s: i64) -> Result<String> {
    hmac_base64(format!("{timestamp_s}\n{secret}").as_bytes(), b"")
}

/// Slack mrkdwn: `&`, `<` and `>` as the entities Slack documents, so alert text
/// cannot write `<!channel>`, `<@user>` or a `<url|disguised link>`.
pub fn escape_slack(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// DingTalk / WeCom markdown: Markdown's punctuation backslash-escaped (no links,
/// images, emphasis or headings from alert text), `<` and `>` as their
/// full-width forms (no `<font>`, no `<@user>` mentions), and a zero-width space
/// after every `@` (no `@all`).
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '~' | '[' | ']' | '(' | ')' | '#' | '!' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push('\u{FF1C}'),
            '>' => out.push('\u{FF1E}'),
            '@' => out.push_str("@\u{200B}"),
            c => out.push(c),
        }
    }
    out
}

/// Feishu text messages: `<` and `>` as their full-width forms (no `<at
/// user_id="all">`), and a zero-width space after every `@`.
pub fn escape_feishu_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '<' => out.push('\u{FF1C}'),
            '>' => out.push('\u{FF1E}'),
            '@' => out.push_str("@\u{200B}"),
            c => out.push(c),
        }
    }
    out
}

/// The notice as plain text lines (title first, link last), escaped for Feishu.
fn plain(n: &Notice) -> String {
    let mut s = format!(
        "{}\n{}",
        escape_feishu_text(&n.title),
        escape_feishu_text(&n.text)
    );
    if !n.link.is_empty() {
        s.push('\n');
        s.push_str(&n.link);
    }
    s
}

/// The notice as Markdown (DingTalk / WeCom flavour: `###` title, `[text](url)`).
fn markdown(n: &Notice) -> String {
    let mut s = format!(
        "### {}\n\n{}",
        escape_markdown(&n.title),
        escape_markdown(&n.text).replace('\n', "\n\n")
    );
    if !n.link.is_empty() {
        s.push_str(&format!("\n\n[{}]({})", "Open in oncall-assistant", n.link));
    }
    s
}

/// Builds the request for `kind` at `url`, signing with `secret` when the kind
/// signs, as of `now`.
pub fn prepare(
    kind: ChannelKind,
    url: &str,
    secret: Option<&str>,
    notice: &Notice,
    now: DateTime<Utc>,
) -> Result<Outgoing> {
    let secret = secret.filter(|s| !s.is_empty());
    let (url, body) = match kind {
        ChannelKind::Webhook => (
            url.to_owned(),
            serde_json::to_value(notice).map_err(|e| Error::Internal(e.to_string()))?,
        ),
        ChannelKind::Slack => {
            let mut text = format!(
                "*{}*\n{}",
                escape_slack(&notice.title),
                escape_slack(&notice.text)
            );
            if !notice.link.is_empty() {
                text.push_str(&format!("\n<{}|Open in oncall-assistant>", notice.link));
            }
            (url.to_owned(), json!({ "text": text }))
        }
        ChannelKind::Feishu => {
            let mut body = json!({"msg_type": "text", "content": {"text": plain(notice)}});
            if let Some(secret) = secret {
                let ts = now.timestamp();
                body["timestamp"] = json!(ts.to_string());
                body["sign"] = json!(feishu_sign(secret, ts)?);
            }
            (url.to_owned(), body)
        }
        ChannelKind::Dingtalk => {
            let body = json!({
                "msgtype": "markdown",
                "markdown": {"title": escape_markdown(&notice.title), "text": markdown(notice)},
            });
            let url = match secret {
                Some(secret) => {
                    let ts = now.timestamp_millis();
                    let sign = dingtalk_sign(secret, ts)?;
                    let encoded: String =
                        url::form_urlencoded::byte_serialize(sign.as_bytes()).collect();
                    let sep = if url.contains('?') { '&' } else { '?' };
                    format!("{url}{sep}timestamp={ts}&sign={encoded}")
                }
                None => url.to_owned(),
            };
            (url, body)
        }
        ChannelKind::Wecom => (
            url.to_owned(),
            json!({"msgtype": "markdown", "markdown": {"content": markdown(notice)}}),
        ),
    };
    Ok(Outgoing { url, body })
}

/// Whether a chat service's 200 answer reports success. Feishu, DingTalk and WeCom
/// answer HTTP 200 with an error code in the body (`code` / `errcode` non-zero).
pub fn accepted_body(kind: ChannelKind, body: &str) -> std::result::Result<(), String> {
    if !matches!(
        kind,
        ChannelKind::Feishu | ChannelKind::Dingtalk | ChannelKind::Wecom
    ) {
        return Ok(());
    }
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return Ok(());
    };
    let code = v
        .get("errcode")
        .or_else(|| v.get("code"))
        .or_else(|| v.get("StatusCode"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if code == 0 {
        Ok(())
    } else {
        let msg = v
            .get("errmsg")
            .or_else(|| v.get("msg"))
            .and_then(Value::as_str)
            .unwrap_or("");
        Err(format!("the service answered code {code}: {msg}"))
    }
}

/// Where a URL points, without its query or any token-looking path part, for display.
pub fn url_hint(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or("");
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let first = url
        .path_segments()
        .and_then(|mut s| s.next())
        .filter(|s| !s.is_empty())
        .map(|s| format!("/{s}/…"))
        .unwrap_or_default();
    format!("{}://{host}{port}{first}", url.scheme())
}

/// Backoff before attempt `attempts + 1` after `attempts` failures: `base` doubled
/// each time, at most an hour.
pub fn retry_delay(base: std::time::Duration, attempts: u32) -> std::time::Duration {
    let factor = 1u32 << attempts.saturating_sub(1).min(16);
    base.saturating_mul(factor)
        .min(std::time::Duration::from_secs(3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice() -> Notice {
        Notice {
            event: NotificationEvent::AnalysisCompleted,
            title: "[P1] HighErrorRate: analysis completed".into(),
            text: "Root cause: db pool exhausted\nConfidence: 0.80".into(),
            link: "http://oncall.local/analyses/1".into(),
            analysis_id: None,
            ticket_no: None,
            severity: Some("P1".into()),
            status: Some("completed".into()),
            summary: None,
            root_cause: Some("db pool exhausted".into()),
        }
    }

    #[test]
    fn dingtalk_signature_matches_its_documented_algorithm() {
        // Computed independently: printf '1700000000000\nSECxyz' | openssl dgst -sha256 -hmac SECxyz -binary | base64
        let s = dingtalk_sign("SECxyz", 1_700_000_000_000).unwrap();
        assert_eq!(s, "0PUR1j8g85Xg3vlFV/UrEcxXfF5HpCAGzcjrNfyJoyg=");
        assert_ne!(s, dingtalk_sign("SECxyz", 1_700_000_000_001).unwrap());
        let t = DateTime::from_timestamp_millis(1_700_000_000_000).unwrap();
        let out = prepare(
            ChannelKind::Dingtalk,
            "https://oapi.dingtalk.com/robot/send?access_token=abc",
            Some("SECxyz"),
            &notice(),
            t,
        )
        .unwrap();
        let encoded: String = url::form_urlencoded::byte_serialize(s.as_bytes()).collect();
        assert_eq!(
            out.url,
            format!(
                "https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1700000000000&sign={encoded}"
            )
        );
        assert_eq!(out.body["msgtype"], "markdown");
        assert!(
            out.body["markdown"]["text"]
                .as_str()
                .unwrap()
                .contains("db pool exhausted")
        );
    }

    #[test]
    fn feishu_signature_matches_its_documented_algorithm() {
        // printf '' | openssl dgst -sha256 -hmac "$(printf '1700000000\nsecret')" -binary | base64
        assert_eq!(
            feishu_sign("secret", 1_700_000_000).unwrap(),
            "fiWS2+gh28DOydAv7hzONH/mDn9+b1Y4Y5ivXWXy8vA="
        );
    }

    #[test]
    fn bodies_per_kind() {
        let now = Utc::now();
        let n = notice();
        let slack = prepare(
            ChannelKind::Slack,
            "https://hooks.slack.com/x",
            None,
            &n,
            now,
        )
        .unwrap();
        assert!(slack.body["text"].as_str().unwrap().starts_with("*[P1]"));
        let wecom = prepare(
            ChannelKind::Wecom,
            "https://qyapi.weixin.qq.com/x",
            None,
            &n,
            now,
        )
        .unwrap();
        assert_eq!(wecom.body["msgtype"], "markdown");
        let feishu = prepare(
            ChannelKind::Feishu,
            "https://open.feishu.cn/x",
            Some("s"),
            &n,
            now,
        )
        .unwrap();
        assert_eq!(feishu.body["msg_type"], "text");
        assert_eq!(
            feishu.body["sign"].as_str().unwrap(),
            feishu_sign("s", now.timestamp()).unwrap()
        );
        let plain = prepare(
            ChannelKind::Feishu,
            "https://open.feishu.cn/x",
            None,
            &n,
            now,
        )
        .unwrap();
        assert!(plain.body.get("sign").is_none());
        let hook = prepare(ChannelKind::Webhook, "http://x", None, &n, now).unwrap();
        assert_eq!(hook.body["event"], "analysis_completed");
        assert_eq!(hook.body["root_cause"], "db pool exhausted");
    }

    fn hostile() -> Notice {
        Notice {
            title: "<!channel> [click me](http://evil.example/x) @all".into(),
            text: "<@U123> <http://evil.example|docs> <at user_id=\"all\">all</at> \
                   <font color=\"red\">x</font> ![img](http://evil.example/i.png)\n# big"
                .into(),
            ..notice()
        }
    }

    #[test]
    fn slack_text_cannot_mention_or_link() {
        let out = prepare(
            ChannelKind::Slack,
            "https://hooks.slack.com/x",
            None,
            &hostile(),
            Utc::now(),
        )
        .unwrap();
        let text = out.body["text"].as_str().unwrap();
        for bad in ["<!channel>", "<@U123>", "<http://evil.example|docs>"] {
            assert!(!text.contains(bad), "{text}");
        }
        assert!(text.contains("&lt;!channel&gt;"), "{text}");
        // Our own link is still a link.
        assert!(text.contains("<http://oncall.local/analyses/1|Open in oncall-assistant>"));
    }

    fn assert_markdown_is_inert(md: &str) {
        for bad in [
            "[click me](",
            "![img](",
            "<font",
            "<@U123>",
            "@all",
            "\n# big",
            "<http",
        ] {
            assert!(!md.contains(bad), "{bad} in {md}");
        }
        assert!(
            md.contains("[Open in oncall-assistant](http://oncall.local/analyses/1)"),
            "{md}"
        );
    }

    #[test]
    fn dingtalk_markdown_cannot_link_mention_or_style() {
        let out = prepare(
            ChannelKind::Dingtalk,
            "https://oapi.dingtalk.com/x",
            None,
            &hostile(),
            Utc::now(),
        )
        .unwrap();
        assert_markdown_is_inert(out.body["markdown"]["text"].as_str().unwrap());
        assert!(
            !out.body["markdown"]["title"]
                .as_str()
                .unwrap()
                .contains("@all")
        );
    }

    #[test]
    fn wecom_markdown_cannot_link_mention_or_style() {
        let out = prepare(
            ChannelKind::Wecom,
            "https://qyapi.weixin.qq.com/x",
            None,
            &hostile(),
            Utc::now(),
        )
        .unwrap();
        assert_markdown_is_inert(out.body["markdown"]["content"].as_str().unwrap());
    }

    #[test]
    fn feishu_text_cannot_mention_all() {
        let out = prepare(
            ChannelKind::Feishu,
            "https://open.feishu.cn/x",
            None,
            &hostile(),
            Utc::now(),
        )
        .unwrap();
        let text = out.body["content"]["text"].as_str().unwrap();
        assert!(!text.contains("<at user_id"), "{text}");
        assert!(!text.contains("@all"), "{text}");
        assert!(text.contains("http://oncall.local/analyses/1"));
    }

    #[test]
    fn chat_services_report_errors_in_the_body() {
        assert!(accepted_body(ChannelKind::Dingtalk, r#"{"errcode":0,"errmsg":"ok"}"#).is_ok());
        assert!(
            accepted_body(
                ChannelKind::Dingtalk,
                r#"{"errcode":310000,"errmsg":"sign not match"}"#
            )
            .is_err()
        );
        assert!(
            accepted_body(
                ChannelKind::Feishu,
                r#"{"code":19021,"msg":"sign match fail"}"#
            )
            .is_err()
        );
        assert!(accepted_body(ChannelKind::Slack, "invalid_payload").is_ok());
    }

    #[test]
    fn hints_hide_tokens_and_delays_grow() {
        let u =
            url::Url::parse("https://oapi.dingtalk.com/robot/send?access_token=SECRET").unwrap();
        assert_eq!(url_hint(&u), "https://oapi.dingtalk.com/robot/…");
        let base = std::time::Duration::from_secs(1);
        assert_eq!(retry_delay(base, 1), base);
        assert_eq!(retry_delay(base, 3), base * 4);
        assert_eq!(retry_delay(base, 40), std::time::Duration::from_secs(3600));
    }
}
