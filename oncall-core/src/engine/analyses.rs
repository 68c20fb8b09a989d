//! Analyses through the facade: submission (stored `pending`, returned at once),
//! reading and history.

use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::OnCall;
use crate::analysis::Analysis;
use crate::error::{Error, Result};
use crate::store::{AnalysisFilter, Page, PageRequest};
use crate::users::{Role, User};

/// Largest alert accepted, in bytes of its text or JSON.
pub const MAX_ALERT_BYTES: usize = 1024 * 1024;

/// Options of one analysis.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(deny_unknown_fields)
)]
pub struct AnalysisOptions {
    /// Use the LLM agent (when one is configured); default: when configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub llm: Option<bool>,
    /// `zh` or `en`; default: the alert's language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Minutes before the alert used as the baseline (default 30).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_minutes: Option<u32>,
    /// Minutes after the alert start looked at (default 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident_minutes: Option<u32>,
}

impl AnalysisOptions {
    fn validate(&self) -> Result<()> {
        if let Some(l) = &self.language
            && !matches!(l.as_str(), "zh" | "en")
        {
            return Err(Error::invalid("options.language", "must be zh or en"));
        }
        if self
            .baseline_minutes
            .is_some_and(|m| !(1..=1440).contains(&m))
        {
            return Err(Error::invalid(
                "options.baseline_minutes",
                "must be 1..=1440",
            ));
        }
        if self
            .incident_minutes
            .is_some_and(|m| !(1..=720).contains(&m))
        {
            return Err(Error::invalid(
                "options.incident_minutes",
                "must be 1..=720",
            ));
        }
        Ok(())
    }
}

/// A one-line title for lists: the alert name of a JSON alert, else the first
/// non-empty line of the text.
pub fn alert_title(alert: &Value) -> String {
    let from_json = |v: &Value| -> Option<String> {
        let name = |o: &Value| {
            o.get("labels")
                .and_then(|l| l.get("alertname"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        v.get("alerts")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(name)
            .or_else(|| {
                v.get("commonLabels")
                    .and_then(|l| l.get("alertname"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .or_else(|| name(v))
            .or_else(|| v.get("title").and_then(Value::as_str).map(str::to_owned))
    };
    let title = match alert {
        Value::String(text) => text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("")
            .to_owned(),
        other => from_json(other).unwrap_or_else(|| "alert".to_owned()),
    };
    let mut t: String = title.chars().take(200).collect();
    if t.is_empty() {
        t = "alert".into();
    }
    t
}

impl OnCall {
    /// Accepts an alert for analysis (engineer): stored as `pending` and returned at
    /// once. `alert` is the text or the Alertmanager/Grafana JSON as received.
    pub async fn submit_analysis(
        &self,
        actor: &User,
        alert: Value,
        options: AnalysisOptions,
    ) -> Result<Analysis> {
        actor.require(Role::Engineer)?;
        options.validate()?;
        let raw = match &alert {
            Value::String(s) => s.clone(),
            Value::Object(_) | Value::Array(_) => alert.to_string(),
            _ => {
                return Err(Error::invalid(
                    "alert",
                    "must be the alert text or its JSON object",
                ));
            }
        };
        if raw.trim().is_empty() {
            return Err(Error::invalid("alert", "is empty"));
        }
        if raw.len() > MAX_ALERT_BYTES {
            return Err(Error::TooLarge(format!(
                "alert is {} bytes; the limit is {MAX_ALERT_BYTES}",
                raw.len()
            )));
        }
        let options = serde_json::to_value(&options).map_err(|e| Error::Internal(e.to_string()))?;
        let analysis = Analysis::pending(alert_title(&alert), raw, options, actor.email.clone());
        self.store.insert_analysis(&analysis).await?;
        self.wake.notify_one();
        Ok(analysis)
    }

    /// How many analyses are in each status, every status listed (for metrics).
    pub async fn analysis_counts(&self) -> Result<Vec<(crate::analysis::AnalysisStatus, u64)>> {
        let found = self.store.count_analyses_by_status().await?;
        Ok(crate::analysis::AnalysisStatus::ALL
            .into_iter()
            .map(|s| {
                (
                    s,
                    found.iter().find(|(f, _)| *f == s).map_or(0, |(_, n)| *n),
                )
            })
            .collect())
    }

    /// The analysis' progress events after `after` (any role).
    pub async fn analysis_events(
        &self,
        actor: &User,
        id: Uuid,
        after: i64,
    ) -> Result<Vec<crate::analysis::AnalysisEvent>> {
        actor.require(Role::Viewer)?;
        self.store.events(id, after).await
    }

    /// One analysis (any role).
    pub async fn analysis(&self, actor: &User, id: Uuid) -> Result<Analysis> {
        actor.require(Role::Viewer)?;
        self.store.analysis(id).await
    }

    /// Analyses, newest first (any role).
    pub async fn list_analyses(
        &self,
        actor: &User,
        filter: &AnalysisFilter,
        page: PageRequest,
    ) -> Result<Page<Analysis>> {
        actor.require(Role::Viewer)?;
        self.store.list_analyses(filter, page).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn titles_come_from_the_alert() {
        let am = json!({"version": "4", "alerts": [{"labels": {"alertname": "HighErrorRate"}}]});
        assert_eq!(alert_title(&am), "HighErrorRate");
        assert_eq!(
            alert_title(&json!({"commonLabels": {"alertname": "X"}, "alerts": []})),
            "X"
        );
        assert_eq!(
            alert_title(&json!({"title": "[FIRING:1] Disk"})),
            "[FIRING:1] Disk"
        );
        assert_eq!(
            alert_title(&json!("\n\n  订单服务 错误率 升高\nmore")),
            "订单服务 错误率 升高"
        );
        assert_eq!(alert_title(&json!({})), "alert");
        assert_eq!(alert_title(&json!("x".repeat(500))).len(), 200);
    }
}
