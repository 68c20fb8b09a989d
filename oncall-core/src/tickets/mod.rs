//! Tickets: the record, its history, numbering and the status state machine
//! (SPEC §6). Pure code: storage applies [`transition`] with a version check.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};

mod accuracy;

pub use accuracy::{
    AccuracyCount, AccuracyMiss, AccuracyReport, AccuracyRow, AlertAccuracy, MAX_LISTED_MISSES,
    MonthAccuracy, accuracy_report, same_component, service_of_pod,
};

/// The longest confirmed root cause: a component name (DNS names stop at 253).
pub const MAX_CONFIRMED_ROOT_CAUSE: usize = 253;

/// The longest resolution ("what fixed it" is a sentence or two).
pub const MAX_RESOLUTION: usize = 2000;

/// A confirmed root cause as stored: trimmed, one name without spaces or control
/// characters, at most [`MAX_CONFIRMED_ROOT_CAUSE`] characters; `None` or an
/// empty text clears it.
pub fn clean_confirmed_root_cause(value: Option<&str>) -> Result<Option<String>> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > MAX_CONFIRMED_ROOT_CAUSE {
        return Err(Error::invalid(
            "confirmed_root_cause",
            format!("must be at most {MAX_CONFIRMED_ROOT_CAUSE} characters"),
        ));
    }
    if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid(
            "confirmed_root_cause",
            "must be one component name (service, pod or host) without spaces; put the story in `resolution`",
        ));
    }
    Ok(Some(v.to_owned()))
}

/// A resolution as stored: trimmed, at most [`MAX_RESOLUTION`] characters, no
/// control characters but line breaks and tabs; `None` or an empty text clears it.
pub fn clean_resolution(value: Option<&str>) -> Result<Option<String>> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > MAX_RESOLUTION {
        return Err(Error::invalid(
            "resolution",
            format!("must be at most {MAX_RESOLUTION} characters"),
        ));
    }
    if v.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(Error::invalid(
            "resolution",
            "must not contain control characters",
        ));
    }
    Ok(Some(v.to_owned()))
}

/// Where a ticket is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Enum),
    oai(rename_all = "snake_case")
)]
pub enum TicketStatus {
    /// Just created, nobody on it yet.
    Open,
    /// Someone is working on it.
    Processing,
    /// Fixed, waiting for confirmation.
    Resolved,
    /// Done (or a false alarm).
    Closed,
}

impl TicketStatus {
    /// Every status, in life order.
    pub const ALL: [TicketStatus; 4] = [
        TicketStatus::Open,
        TicketStatus::Processing,
        TicketStatus::Resolved,
        TicketStatus::Closed,
    ];

    /// The stored and serialized name.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Open => "open",
            TicketStatus::Processing => "processing",
            TicketStatus::Resolved => "resolved",
            TicketStatus::Closed => "closed",
        }
    }
}

impl std::str::FromStr for TicketStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        TicketStatus::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "status",
                    format!("`{s}` is not a ticket status (open, processing, resolved, closed)"),
                )
            })
    }
}

/// Moves a ticket from `from` to `to`, or says why it may not (409 Conflict).
///
/// ```text
/// open → processing → resolved → closed
/// open → closed            (false alarm; a reason is required)
/// resolved → processing    (reopen)
/// closed → processing      (reopen a closed ticket; a reason is required)
/// ```
///
/// The reason is kept in the ticket's history.
pub fn transition(
    from: TicketStatus,
    to: TicketStatus,
    reason: Option<&str>,
) -> Result<TicketStatus> {
    use TicketStatus::*;
    let has_reason = reason.is_some_and(|r| !r.trim().is_empty());
    match (from, to) {
        (Open, Processing)
        | (Processing, Resolved)
        | (Resolved, Closed)
        | (Resolved, Processing) => Ok(to),
        (Open, Closed) if has_reason => Ok(to),
        (Open, Closed) => Err(Error::invalid(
            "reason",
            "closing an open ticket (false alarm) needs a reason",
        )),
        (Closed, Processing) if has_reason => Ok(to),
        (Closed, Processing) => Err(Error::invalid(
            "reason",
            "reopening a closed ticket needs a reason (why it is back)",
        )),
        (Open | Processing | Resolved | Closed, _) => Err(Error::Conflict(format!(
            "a ticket cannot go from {} to {}",
            from.as_str(),
            to.as_str()
        ))),
    }
}

/// How urgent a ticket is; P0 is the most urgent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Enum),
    oai(rename_all = "UPPERCASE")
)]
pub enum Severity {
    /// Outage; all hands.
    P0,
    /// Major impact.
    P1,
    /// Minor impact.
    P2,
    /// Cosmetic or informational.
    P3,
}

impl Severity {
    /// Every severity, most urgent first.
    pub const ALL: [Severity; 4] = [Severity::P0, Severity::P1, Severity::P2, Severity::P3];

    /// The stored and serialized name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::P0 => "P0",
            Severity::P1 => "P1",
            Severity::P2 => "P2",
            Severity::P3 => "P3",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| Error::invalid("severity", format!("`{s}` is not P0, P1, P2 or P3")))
    }
}

/// A ticket as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct Ticket {
    /// `INC-YYYYMMDD-NNNN`, unique.
    pub no: String,
    /// One line.
    pub title: String,
    /// The probable root cause.
    pub root_cause: String,
    /// Urgency.
    pub severity: Severity,
    /// Where it is in its life.
    pub status: TicketStatus,
    /// Email of the user working on it.
    pub assignee: Option<String>,
    /// The analysis it was created from.
    pub analysis_id: Option<Uuid>,
    /// Free text.
    pub description: Option<String>,
    /// The component (service, pod or host) the engineer confirmed as the root
    /// cause, usually when resolving; compared with the analysis' suspects by
    /// [`same_component`].
    pub confirmed_root_cause: Option<String>,
    /// What fixed it, in a few words ("raised the pool size", "rolled back v2.3").
    pub resolution: Option<String>,
    /// Email of who last set the confirmed root cause or the resolution.
    pub confirmed_by: Option<String>,
    /// When the confirmed root cause or the resolution was last set (UTC).
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Bumped on every change; a write must name the version it read.
    pub version: i64,
    /// Email of the creator.
    pub created_by: String,
    /// Creation time (UTC).
    pub created_at: DateTime<Utc>,
    /// Last change (UTC).
    pub updated_at: DateTime<Utc>,
}

/// One change to a ticket, kept forever.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct TicketHistoryEntry {
    /// Generated in the application (UUID v7, so ordered by time).
    pub id: Uuid,
    /// The ticket changed.
    pub ticket_no: String,
    /// Email of who made the change.
    pub actor: String,
    /// `created`, `status` or `edit`.
    pub action: String,
    /// Status before a status change.
    pub from_status: Option<TicketStatus>,
    /// Status after a status change.
    pub to_status: Option<TicketStatus>,
    /// Changed fields: `{"field": {"from": …, "to": …}}`.
    pub changes: serde_json::Value,
    /// Why (required to close from `open`).
    pub reason: Option<String>,
    /// When (UTC).
    pub at: DateTime<Utc>,
}

/// The ticket number for the `seq`-th ticket of `day`: `INC-20261124-0007`.
pub fn ticket_number(day: NaiveDate, seq: i64) -> String {
    format!("INC-{}-{seq:04}", day.format("%Y%m%d"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use TicketStatus::*;

    const ALLOWED: [(TicketStatus, TicketStatus); 6] = [
        (Open, Processing),
        (Processing, Resolved),
        (Resolved, Closed),
        (Open, Closed),
        (Resolved, Processing),
        (Closed, Processing),
    ];

    #[test]
    fn the_allowed_transitions_are_exactly_the_specs() {
        let allowed = ALLOWED;
        for from in TicketStatus::ALL {
            for to in TicketStatus::ALL {
                let ok = transition(from, to, Some("false alarm")).is_ok();
                assert_eq!(ok, allowed.contains(&(from, to)), "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn closing_an_open_ticket_needs_a_reason() {
        for reason in [None, Some(""), Some("   ")] {
            let e = transition(Open, Closed, reason).unwrap_err();
            assert_eq!(e.code(), crate::ErrorCode::Invalid);
        }
        assert_eq!(transition(Open, Closed, Some("noise")).unwrap(), Closed);
        let e = transition(Closed, Open, Some("x")).unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::Conflict);
    }

    #[test]
    fn reopening_a_closed_ticket_needs_a_reason() {
        for reason in [None, Some(""), Some("  ")] {
            let e = transition(Closed, Processing, reason).unwrap_err();
            assert_eq!(e.code(), crate::ErrorCode::Invalid);
            assert!(e.to_string().contains("reason"), "{e}");
        }
        assert_eq!(
            transition(Closed, Processing, Some("came back at 03:10")).unwrap(),
            Processing
        );
        for to in [Open, Resolved, Closed] {
            let e = transition(Closed, to, Some("x")).unwrap_err();
            assert_eq!(e.code(), crate::ErrorCode::Conflict, "closed -> {to:?}");
        }
    }

    fn any_status() -> impl proptest::strategy::Strategy<Value = TicketStatus> {
        proptest::sample::select(TicketStatus::ALL.to_vec())
    }

    proptest::proptest! {
        /// Whatever is asked, in any order: a ticket only ever moves along the
        /// edges of SPEC §6 (`closed` is left only to reopen, with a reason) and a
        /// refused step changes nothing.
        #[test]
        fn random_walks_stay_on_the_specs_edges(
            steps in proptest::collection::vec((any_status(), proptest::option::of("[a-z ]{0,8}")), 0..40)
        ) {
            let mut status = Open;
            for (to, reason) in steps {
                let before = status;
                match transition(status, to, reason.as_deref()) {
                    Ok(next) => {
                        proptest::prop_assert_eq!(next, to);
                        proptest::prop_assert!(ALLOWED.contains(&(before, to)), "{:?} -> {:?}", before, to);
                        if matches!((before, to), (Open, Closed) | (Closed, Processing)) {
                            proptest::prop_assert!(reason.as_deref().is_some_and(|r| !r.trim().is_empty()));
                        }
                        status = next;
                    }
                    Err(e) => {
                        proptest::prop_assert!(matches!(e.code(), crate::ErrorCode::Conflict | crate::ErrorCode::Invalid));
                    }
                }
            }
        }
    }

    #[test]
    fn numbers_are_zero_padded_per_day() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        assert_eq!(ticket_number(d, 7), "INC-20261124-0007");
        assert_eq!(ticket_number(d, 12345), "INC-20261124-12345");
    }

    #[test]
    fn confirmations_are_trimmed_bounded_and_clearable() {
        assert_eq!(
            clean_confirmed_root_cause(Some("  ts-order-service \n")).unwrap(),
            Some("ts-order-service".to_owned())
        );
        assert_eq!(clean_confirmed_root_cause(Some("   ")).unwrap(), None);
        assert_eq!(clean_confirmed_root_cause(None).unwrap(), None);
        let long = "a".repeat(MAX_CONFIRMED_ROOT_CAUSE + 1);
        for bad in [long.as_str(), "the database", "db\u{1}"] {
            let e = clean_confirmed_root_cause(Some(bad)).unwrap_err();
            assert!(
                matches!(&e, Error::Invalid { field: Some(f), .. } if f == "confirmed_root_cause"),
                "{e:?}"
            );
        }
        let exact = "a".repeat(MAX_CONFIRMED_ROOT_CAUSE);
        assert!(clean_confirmed_root_cause(Some(&exact)).is_ok());

        assert_eq!(
            clean_resolution(Some(" raised the pool size\nfrom 10 to 50 ")).unwrap(),
            Some("raised the pool size\nfrom 10 to 50".to_owned())
        );
        assert_eq!(clean_resolution(Some("")).unwrap(), None);
        let long = "回".repeat(MAX_RESOLUTION + 1);
        for bad in [long.as_str(), "rolled back\u{7}"] {
            let e = clean_resolution(Some(bad)).unwrap_err();
            assert!(
                matches!(&e, Error::Invalid { field: Some(f), .. } if f == "resolution"),
                "{e:?}"
            );
        }
    }

    #[test]
    fn names_round_trip() {
        for s in TicketStatus::ALL {
            assert_eq!(s.as_str().parse::<TicketStatus>().unwrap(), s);
        }
        assert_eq!("p2".parse::<Severity>().unwrap(), Severity::P2);
        assert!("P4".parse::<Severity>().is_err());
    }
}
