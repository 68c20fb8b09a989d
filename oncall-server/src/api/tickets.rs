//! `/api/tickets`: create (optionally from an analysis), list, detail, change.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use oncall_core::store::TicketFilter;
use oncall_core::tickets::{AccuracyReport, Severity, Ticket, TicketStatus};
use oncall_core::{TicketDetail, TicketInput, TicketPatch};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{Object, OpenApi, payload::Json};

use super::json_body::{JsonBody, Rfc3339, SizeHint};
use super::{ApiResult, Tag, page_object, page_request};
use crate::AppState;
use crate::auth::BearerAuth;
use crate::error::ApiError;

page_object!(TicketPage, Ticket);

// `GET /api/tickets` writes its page with serde (see `JsonBody`), in exactly the
// bytes poem-openapi's `ToJSON` would produce: keys in sorted order (serde_json's
// map is a `BTreeMap`), `None` fields left out (`skip_serializing_if_is_none`),
// times as `DateTime::to_rfc3339`. `tests::the_page_is_written_as_to_json_writes_it`
// holds the two encodings equal.
impl serde::Serialize for TicketPage {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct Items<'a>(&'a [Ticket]);
        impl serde::Serialize for Items<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.0.iter().map(TicketJson))
            }
        }
        let mut m = s.serialize_struct("TicketPage", 4)?;
        m.serialize_field("items", &Items(&self.items))?;
        m.serialize_field("page", &self.page)?;
        m.serialize_field("page_size", &self.page_size)?;
        m.serialize_field("total", &self.total)?;
        m.end()
    }
}

impl SizeHint for TicketPage {
    fn json_size_hint(&self) -> usize {
        // Fixed fields and punctuation take ~250 bytes a ticket, the texts the rest.
        64 + self
            .items
            .iter()
            .map(|t| {
                256 + t.no.len()
                    + t.title.len()
                    + t.root_cause.len()
                    + t.created_by.len()
                    + t.assignee.as_ref().map_or(0, String::len)
                    + t.description.as_ref().map_or(0, String::len)
                    + t.confirmed_root_cause.as_ref().map_or(0, String::len)
                    + t.resolution.as_ref().map_or(0, String::len)
                    + t.confirmed_by.as_ref().map_or(0, String::len)
            })
            .sum::<usize>()
    }
}

/// A ticket as `ToJSON` writes it (see `TicketPage`'s `Serialize`).
struct TicketJson<'a>(&'a Ticket);

impl serde::Serialize for TicketJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let t = self.0;
        let mut m = s.serialize_struct("Ticket", 16)?;
        match &t.analysis_id {
            Some(id) => m.serialize_field("analysis_id", id)?,
            None => m.skip_field("analysis_id")?,
        }
        match &t.assignee {
            Some(a) => m.serialize_field("assignee", a)?,
            None => m.skip_field("assignee")?,
        }
        match &t.confirmed_at {
            Some(at) => m.serialize_field("confirmed_at", &Rfc3339(at))?,
            None => m.skip_field("confirmed_at")?,
        }
        match &t.confirmed_by {
            Some(b) => m.serialize_field("confirmed_by", b)?,
            None => m.skip_field("confirmed_by")?,
        }
        match &t.confirmed_root_cause {
            Some(c) => m.serialize_field("confirmed_root_cause", c)?,
            None => m.skip_field("confirmed_root_cause")?,
        }
        m.serialize_field("created_at", &Rfc3339(&t.created_at))?;
        m.serialize_field("created_by", &t.created_by)?;
        match &t.description {
            Some(d) => m.serialize_field("description", d)?,
            None => m.skip_field("description")?,
        }
        m.serialize_field("no", &t.no)?;
        match &t.resolution {
            Some(r) => m.serialize_field("resolution", r)?,
            None => m.skip_field("resolution")?,
        }
        m.serialize_field("root_cause", &t.root_cause)?;
        m.serialize_field("severity", t.severity.as_str())?;
        m.serialize_field("status", t.status.as_str())?;
        m.serialize_field("title", &t.title)?;
        m.serialize_field("updated_at", &Rfc3339(&t.updated_at))?;
        m.serialize_field("version", &t.version)?;
        m.end()
    }
}

/// Changes to a ticket; omitted fields stay as they are.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
struct TicketUpdate {
    /// New title.
    title: Option<String>,
    /// New root cause.
    root_cause: Option<String>,
    /// New severity.
    severity: Option<Severity>,
    /// Assignee's email; `null` unassigns.
    assignee: MaybeUndefined<String>,
    /// Description; `null` clears.
    description: MaybeUndefined<String>,
    /// Move to this status: open → processing → resolved → closed, open → closed
    /// (with a reason), resolved → processing, closed → processing (with a
    /// reason). Reopening clears the confirmed root cause and resolution (the
    /// history keeps them) unless this request sets new ones.
    status: Option<TicketStatus>,
    /// The component (service, pod or host) confirmed as the root cause, e.g. when
    /// resolving: one name, no spaces, at most 253 characters; `null` or `""`
    /// clears it. Compared with the analysis' suspects by `/api/stats/accuracy`.
    confirmed_root_cause: MaybeUndefined<String>,
    /// What fixed it ("raised the pool size", "rolled back v2.3"), at most 2000
    /// characters; `null` or `""` clears it.
    resolution: MaybeUndefined<String>,
    /// Why; required to close an open ticket.
    reason: Option<String>,
    /// The version you read (or send `If-Match`); a stale one is 409.
    version: Option<i64>,
}

fn maybe(v: MaybeUndefined<String>) -> Option<Option<String>> {
    match v {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(s) => Some(Some(s)),
    }
}

/// Ticket operations.
#[derive(Debug)]
pub struct TicketsApi;

#[OpenApi(tag = "Tag::Tickets")]
impl TicketsApi {
    /// Create a ticket (engineer). With `analysis_id`, omitted title, root cause
    /// and severity come from the analysis.
    #[oai(path = "/api/tickets", method = "post")]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        body: Json<TicketInput>,
    ) -> ApiResult<Json<TicketDetail>> {
        Ok(Json(state.oncall.create_ticket(&auth.0, body.0).await?))
    }

    /// Tickets, newest first; filter by status, severity, assignee, text and time.
    #[oai(path = "/api/tickets", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// 1-based page number (default 1).
        #[oai(validator(minimum(value = "1")))]
        page: Query<Option<u32>>,
        /// Rows per page (default 20, at most 200).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        page_size: Query<Option<u32>>,
        status: Query<Option<TicketStatus>>,
        severity: Query<Option<Severity>>,
        assignee: Query<Option<String>>,
        q: Query<Option<String>>,
        since: Query<Option<DateTime<Utc>>>,
        until: Query<Option<DateTime<Utc>>>,
    ) -> ApiResult<JsonBody<TicketPage>> {
        let req = page_request(page.0, page_size.0)?;
        let filter = TicketFilter {
            status: status.0,
            severity: severity.0,
            assignee: assignee.0.map(|a| a.trim().to_lowercase()),
            text: q.0,
            since: since.0,
            until: until.0,
        };
        Ok(JsonBody(
            state
                .oncall
                .list_tickets(&auth.0, &filter, req)
                .await?
                .into(),
        ))
    }

    /// One ticket with its history of changes.
    #[oai(path = "/api/tickets/:no", method = "get")]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        no: Path<String>,
    ) -> ApiResult<Json<TicketDetail>> {
        Ok(Json(state.oncall.ticket(&auth.0, &no.0).await?))
    }

    /// The analyzer's accuracy on real incidents: of the resolved and closed
    /// tickets opened in `[since, until)`, the share whose confirmed root cause was
    /// the analysis' #1 suspect / in its top 3, in all, by month and by alert name,
    /// with the misses. Tickets without a confirmed root cause are counted as
    /// `unconfirmed`, never as misses.
    #[oai(path = "/api/stats/accuracy", method = "get")]
    async fn accuracy(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// Tickets opened at or after this time (RFC 3339).
        since: Query<Option<DateTime<Utc>>>,
        /// Tickets opened before this time (RFC 3339).
        until: Query<Option<DateTime<Utc>>>,
    ) -> ApiResult<Json<AccuracyReport>> {
        Ok(Json(
            state
                .oncall
                .accuracy_stats(&auth.0, since.0, until.0)
                .await?,
        ))
    }

    /// Change status and/or fields (engineer). Every change is kept in the history.
    #[oai(path = "/api/tickets/:no", method = "patch")]
    async fn update(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        no: Path<String>,
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
        body: Json<TicketUpdate>,
    ) -> ApiResult<Json<TicketDetail>> {
        let b = body.0;
        let header_version = match if_match.0 {
            Some(v) => Some(
                v.trim()
                    .trim_matches('"')
                    .trim_start_matches("W/")
                    .trim_matches('"')
                    .parse::<i64>()
                    .map_err(|_| {
                        ApiError::from(oncall_core::Error::invalid(
                            "If-Match",
                            "must be the ticket version, e.g. \"3\"",
                        ))
                    })?,
            ),
            None => None,
        };
        let patch = TicketPatch {
            title: b.title,
            root_cause: b.root_cause,
            severity: b.severity,
            assignee: maybe(b.assignee),
            description: maybe(b.description),
            confirmed_root_cause: maybe(b.confirmed_root_cause),
            resolution: maybe(b.resolution),
            status: b.status,
            reason: b.reason,
            version: b.version.or(header_version),
        };
        Ok(Json(
            state.oncall.update_ticket(&auth.0, &no.0, patch).await?,
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use chrono::TimeZone;
    use poem_openapi::types::ToJSON;

    use super::*;

    fn ticket(i: u32) -> Ticket {
        let at = Utc.timestamp_opt(1_767_000_000 + i64::from(i), 0).unwrap();
        Ticket {
            no: format!("INC-20260101-{i:04}"),
            title: format!("Ticket {i}: 支付服务错误率升高 \"quoted\" \\ \n\t\u{1}"),
            root_cause: "connection pool exhausted".into(),
            severity: Severity::ALL[i as usize % 4],
            status: [
                TicketStatus::Open,
                TicketStatus::Processing,
                TicketStatus::Resolved,
                TicketStatus::Closed,
            ][i as usize % 4],
            assignee: (i % 2 == 0).then(|| "eng@oncall.example.com".to_owned()),
            analysis_id: (i % 3 == 0).then(uuid::Uuid::now_v7),
            description: (i % 5 == 0).then(|| "line one\nline two </script>".to_owned()),
            confirmed_root_cause: (i % 4 == 2).then(|| "ts-order-service".to_owned()),
            resolution: (i % 4 == 2).then(|| "rolled back v2.3 \"quoted\"".to_owned()),
            confirmed_by: (i % 4 == 2).then(|| "eng@oncall.example.com".to_owned()),
            confirmed_at: (i % 4 == 2).then(|| at + chrono::Duration::nanoseconds(123_456_000)),
            version: i64::from(i) * 7 - 3,
            created_by: "admin@oncall.example.com".into(),
            // Whole seconds, milliseconds, microseconds and nanoseconds.
            created_at: at
                + chrono::Duration::nanoseconds([0, 5_000_000, 123_456_000, 7][i as usize % 4]),
            updated_at: at + chrono::Duration::microseconds(i64::from(i) * 1_001),
        }
    }

    #[test]
    fn the_page_is_written_as_to_json_writes_it() {
        for n in [0, 1, 20] {
            let page = TicketPage {
                items: (0..n).map(ticket).collect(),
                total: 10_000 + u64::from(n),
                page: 3,
                page_size: 20,
            };
            let ours = serde_json::to_vec(&page).unwrap();
            let theirs = serde_json::to_vec(&page.to_json().unwrap()).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                String::from_utf8(theirs).unwrap()
            );
        }
    }

    #[test]
    fn extreme_years_are_written_alike() {
        let mut t = ticket(1);
        t.created_at = Utc.with_ymd_and_hms(-262_000, 1, 1, 0, 0, 0).unwrap()
            + chrono::Duration::nanoseconds(123_456_789);
        let page = TicketPage {
            items: vec![t],
            total: 1,
            page: 1,
            page_size: 20,
        };
        assert_eq!(
            serde_json::to_string(&page).unwrap(),
            serde_json::to_string(&page.to_json().unwrap()).unwrap()
        );
    }
}
