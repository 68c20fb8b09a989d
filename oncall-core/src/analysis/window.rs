//! The windows of an analysis: a baseline, then an incident window that starts a
//! little before the alert (rules fire after a `for:` delay) and runs past it.
//!
//! Its own module so the pipeline and the LLM agent and tools, which both take a
//! [`WindowPlan`], share it without importing each other.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::alert::Alert;
use crate::engine::AnalysisOptions;
use crate::evidence::metrics::TimeWindow;

/// Default minutes of baseline before the incident window.
pub const DEFAULT_BASELINE_MINUTES: u32 = 30;
/// Default minutes after the alert start looked at.
pub const DEFAULT_INCIDENT_MINUTES: u32 = 10;
/// The incident window starts this long before the alert's start: alert rules
/// fire after a `for:` delay, so the trouble began earlier.
pub const LEAD_MINUTES: i64 = 2;

/// The windows of an analysis, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct WindowPlan {
    /// Start of the baseline.
    pub baseline_start: DateTime<Utc>,
    /// Start of the incident window.
    pub incident_start: DateTime<Utc>,
    /// End of the incident window.
    pub incident_end: DateTime<Utc>,
    /// The alert's start.
    pub alert_start: DateTime<Utc>,
}

impl WindowPlan {
    /// The baseline and incident bounds, as the metric evidence takes them.
    pub(crate) fn time_window(&self) -> TimeWindow {
        TimeWindow {
            baseline_start: self.baseline_start,
            incident_start: self.incident_start,
            incident_end: self.incident_end,
        }
    }
}

/// Plans the windows for an alert.
pub fn plan_window(alert: &Alert, options: &AnalysisOptions) -> WindowPlan {
    let baseline = i64::from(options.baseline_minutes.unwrap_or(DEFAULT_BASELINE_MINUTES));
    let incident = i64::from(options.incident_minutes.unwrap_or(DEFAULT_INCIDENT_MINUTES));
    let lead = LEAD_MINUTES.min(incident);
    let incident_start = alert.starts_at - chrono::Duration::minutes(lead);
    WindowPlan {
        baseline_start: incident_start - chrono::Duration::minutes(baseline),
        incident_start,
        incident_end: alert.starts_at + chrono::Duration::minutes(incident),
        alert_start: alert.starts_at,
    }
}
