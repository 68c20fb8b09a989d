//! Tickets through the facade: creation (by hand or from an analysis), the state
//! machine, optimistic concurrency and history.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::OnCall;
use crate::error::{Error, Result};
use crate::store::{NewTicketRecord, Page, PageRequest, TicketFilter};
use crate::tickets::{self, AccuracyReport, Severity, Ticket, TicketHistoryEntry, TicketStatus};
use crate::users::{self, Role, User};

/// A ticket as a client creates it. With `analysis_id`, omitted title, root cause
/// and severity come from the analysis result.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(deny_unknown_fields)
)]
pub struct TicketInput {
    /// One line.
    pub title: Option<String>,
    /// Probable root cause.
    pub root_cause: Option<String>,
    /// Urgency; defaults to P2 (or the analysis's).
    pub severity: Option<Severity>,
    /// Email of the user to work on it.
    pub assignee: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// The analysis it comes from.
    pub analysis_id: Option<Uuid>,
}

/// Changes to a ticket; unset fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TicketPatch {
    /// New title.
    pub title: Option<String>,
    /// New root cause.
    pub root_cause: Option<String>,
    /// New severity.
    pub severity: Option<Severity>,
    /// `Some(None)` (JSON `null`) unassigns.
    #[serde(default, deserialize_with = "present")]
    pub assignee: Option<Option<String>>,
    /// `Some(None)` clears.
    #[serde(default, deserialize_with = "present")]
    pub description: Option<Option<String>>,
    /// The component (service, pod or host) confirmed as the root cause, trimmed,
    /// at most [`tickets::MAX_CONFIRMED_ROOT_CAUSE`] characters, no spaces;
    /// `Some(None)` (JSON `null`) or an empty text clears it.
    #[serde(default, deserialize_with = "present")]
    pub confirmed_root_cause: Option<Option<String>>,
    /// What fixed it, trimmed, at most [`tickets::MAX_RESOLUTION`] characters;
    /// `Some(None)` (JSON `null`) or an empty text clears it.
    #[serde(default, deserialize_with = "present")]
    pub resolution: Option<Option<String>>,
    /// Move to this status (checked by [`tickets::transition`]). Reopening a
    /// resolved or closed ticket clears its confirmed root cause and resolution
    /// (unless this patch sets new ones); the history keeps the old values.
    pub status: Option<TicketStatus>,
    /// Why (required to close an open ticket).
    pub reason: Option<String>,
    /// The version the client read; a stale one is a conflict. Without it, the
    /// change applies to the current version.
    pub version: Option<i64>,
}

/// Distinguishes a field sent as `null` (Some(None)) from one left out (None).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A ticket with its history, oldest change first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct TicketDetail {
    /// The ticket.
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", oai(flatten))]
    pub ticket: Ticket,
    /// Every change.
    pub history: Vec<TicketHistoryEntry>,
}

fn clean(field: &str, value: &str, max: usize) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if v.chars().count() > max {
        return Err(Error::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(v.to_owned())
}

impl OnCall {
    async fn check_assignee(&self, assignee: Option<&str>) -> Result<Option<String>> {
        let Some(email) = assignee.map(str::trim).filter(|a| !a.is_empty()) else {
            return Ok(None);
        };
        let email = users::normalize_email(email)
            .map_err(|_| Error::invalid("assignee", "is not an email address"))?;
        match self.store.user_by_email(&email).await? {
            Some((u, _)) if !u.disabled => Ok(Some(u.email)),
            _ => Err(Error::invalid(
                "assignee",
                format!("{email} is not an active user"),
            )),
        }
    }

    /// Creates a ticket (engineer). From an analysis, its result pre-fills what the
    /// input leaves out.
    pub async fn create_ticket(&self, actor: &User, input: TicketInput) -> Result<TicketDetail> {
        actor.require(Role::Engineer)?;
        let result = match input.analysis_id {
            Some(id) => {
                let analysis = self.store.analysis(id).await.map_err(|e| match e {
                    Error::NotFound { .. } => {
                        Error::invalid("analysis_id", format!("no analysis {id}"))
                    }
                    other => other,
                })?;
                Some((analysis.title, analysis.result.unwrap_or(Value::Null)))
            }
            None => None,
        };
        let from_result = |key: &str| {
            result
                .as_ref()
                .and_then(|(_, r)| r.get(key))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let title = input
            .title
            .or_else(|| from_result("summary").map(|s| s.chars().take(200).collect()))
            .or_else(|| result.as_ref().map(|(t, _)| t.clone()))
            .ok_or_else(|| Error::invalid("title", "is required"))?;
        let root_cause = input
            .root_cause
            .or_else(|| from_result("root_cause"))
            .unwrap_or_default();
        let severity = match input.severity {
            Some(s) => s,
            None => from_result("severity")
                .and_then(|s| s.parse().ok())
                .unwrap_or(Severity::P2),
        };
        let new = NewTicketRecord {
            title: clean("title", &title, 500)?,
            root_cause: root_cause.trim().to_owned(),
            severity,
            assignee: self.check_assignee(input.assignee.as_deref()).await?,
            analysis_id: input.analysis_id,
            description: input
                .description
                .map(|d| d.trim().to_owned())
                .filter(|d| !d.is_empty()),
            created_by: actor.email.clone(),
        };
        if new.root_cause.chars().count() > 10_000 {
            return Err(Error::invalid(
                "root_cause",
                "must be at most 10000 characters",
            ));
        }
        let ticket = self
            .store
            .create_ticket(&new, Utc::now().date_naive())
            .await?;
        let history = self.store.ticket_history(&ticket.no).await?;
        Ok(TicketDetail { ticket, history })
    }

    /// One ticket with its history (any role).
    pub async fn ticket(&self, actor: &User, no: &str) -> Result<TicketDetail> {
        actor.require(Role::Viewer)?;
        let ticket = self.store.ticket(no).await?;
        let history = self.store.ticket_history(no).await?;
        Ok(TicketDetail { ticket, history })
    }

    /// Tickets, newest first (any role).
    pub async fn list_tickets(
        &self,
        actor: &User,
        filter: &TicketFilter,
        page: PageRequest,
    ) -> Result<Page<Ticket>> {
        actor.require(Role::Viewer)?;
        self.store.list_tickets(filter, page).await
    }

    /// The analyzer's accuracy on real incidents (any role): of the resolved and
    /// closed tickets opened in `[since, until)`, how many had their confirmed root
    /// cause as the analysis' #1 suspect or among its first three, in all, by
    /// month and by alert name, with the misses (see [`tickets::accuracy_report`]).
    pub async fn accuracy_stats(
        &self,
        actor: &User,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<AccuracyReport> {
        actor.require(Role::Viewer)?;
        if let (Some(s), Some(u)) = (since, until)
            && s >= u
        {
            return Err(Error::invalid("until", "must be after `since`"));
        }
        let rows = self.store.accuracy_rows(since, until).await?;
        Ok(tickets::accuracy_report(rows, since, until))
    }

    /// Changes a ticket's status and/or fields (engineer), keeping a history entry.
    pub async fn update_ticket(
        &self,
        actor: &User,
        no: &str,
        patch: TicketPatch,
    ) -> Result<TicketDetail> {
        actor.require(Role::Engineer)?;
        let current = self.store.ticket(no).await?;
        let expected = patch.version.unwrap_or(current.version);
        if expected != current.version {
            return Err(Error::Conflict(format!(
                "ticket {no} was changed by someone else (version {}, you read {expected}); reload and try again",
                current.version
            )));
        }
        let mut next = current.clone();
        let mut changes = Map::new();
        let mut note = |field: &str, from: Value, to: Value| {
            if from != to {
                changes.insert(field.to_owned(), json!({"from": from, "to": to}));
            }
        };
        if let Some(t) = &patch.title {
            next.title = clean("title", t, 500)?;
            note("title", json!(current.title), json!(next.title));
        }
        if let Some(r) = &patch.root_cause {
            next.root_cause = r.trim().to_owned();
            note(
                "root_cause",
                json!(current.root_cause),
                json!(next.root_cause),
            );
        }
        if let Some(s) = patch.severity {
            next.severity = s;
            note("severity", json!(current.severity), json!(next.severity));
        }
        if let Some(a) = &patch.assignee {
            next.assignee = self.check_assignee(a.as_deref()).await?;
            note("assignee", json!(current.assignee), json!(next.assignee));
        }
        if let Some(d) = &patch.description {
            next.description = d
                .as_deref()
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(str::to_owned);
            note(
                "description",
                json!(current.description),
                json!(next.description),
            );
        }
        let reason = patch
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        let mut confirmation_changed = false;
        if let Some(c) = &patch.confirmed_root_cause {
            next.confirmed_root_cause = tickets::clean_confirmed_root_cause(c.as_deref())?;
            confirmation_changed |= next.confirmed_root_cause != current.confirmed_root_cause;
        }
        if let Some(r) = &patch.resolution {
            next.resolution = tickets::clean_resolution(r.as_deref())?;
            confirmation_changed |= next.resolution != current.resolution;
        }
        let status_changed = match patch.status {
            Some(to) => {
                next.status = tickets::transition(current.status, to, reason)?;
                note("status", json!(current.status), json!(next.status));
                true
            }
            None => false,
        };
        let reopened = status_changed
            && next.status == TicketStatus::Processing
            && matches!(
                current.status,
                TicketStatus::Resolved | TicketStatus::Closed
            );
        if reopened {
            // The old confirmation was about the incident as it was resolved; it is
            // back, so the cause is open again. The history keeps the old values.
            if patch.confirmed_root_cause.is_none() {
                next.confirmed_root_cause = None;
            }
            if patch.resolution.is_none() {
                next.resolution = None;
            }
            confirmation_changed = next.confirmed_root_cause != current.confirmed_root_cause
                || next.resolution != current.resolution;
        }
        note(
            "confirmed_root_cause",
            json!(current.confirmed_root_cause),
            json!(next.confirmed_root_cause),
        );
        note(
            "resolution",
            json!(current.resolution),
            json!(next.resolution),
        );
        if changes.is_empty() {
            return Err(Error::Invalid {
                field: None,
                message: "nothing to change".into(),
            });
        }
        next.version = current.version + 1;
        next.updated_at = Utc::now();
        if confirmation_changed {
            let confirmed = next.confirmed_root_cause.is_some() || next.resolution.is_some();
            next.confirmed_by = confirmed.then(|| actor.email.clone());
            next.confirmed_at = confirmed.then_some(next.updated_at);
        }
        let entry = TicketHistoryEntry {
            id: Uuid::now_v7(),
            ticket_no: no.to_owned(),
            actor: actor.email.clone(),
            action: if status_changed { "status" } else { "edit" }.into(),
            from_status: status_changed.then_some(current.status),
            to_status: status_changed.then_some(next.status),
            changes: Value::Object(changes),
            reason: reason.map(str::to_owned),
            at: next.updated_at,
        };
        self.store
            .update_ticket(&next, current.version, &entry)
            .await?;
        if status_changed {
            self.ticket_status_changed(&next, current.status, actor, reason)
                .await;
        }
        self.ticket(actor, no).await
    }
}
