//! `/api/tickets`: create (optionally from an analysis), list, detail, change.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use oncall_core::store::TicketFilter;
use oncall_core::tickets::{Severity, Ticket, TicketStatus};
use oncall_core::{TicketDetail, TicketInput, TicketPatch};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{Object, OpenApi, payload::Json};

use super::{ApiResult, Tag, page_object, page_request};
use crate::AppState;
use crate::auth::BearerAuth;
use crate::error::ApiError;

page_object!(TicketPage, Ticket);

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
    /// (with a reason), resolved → processing.
    status: Option<TicketStatus>,
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
        page: Query<Option<u32>>,
        page_size: Query<Option<u32>>,
        status: Query<Option<TicketStatus>>,
        severity: Query<Option<Severity>>,
        assignee: Query<Option<String>>,
        q: Query<Option<String>>,
        since: Query<Option<DateTime<Utc>>>,
        until: Query<Option<DateTime<Utc>>>,
    ) -> ApiResult<Json<TicketPage>> {
        let req = page_request(page.0, page_size.0)?;
        let filter = TicketFilter {
            status: status.0,
            severity: severity.0,
            assignee: assignee.0.map(|a| a.trim().to_lowercase()),
            text: q.0,
            since: since.0,
            until: until.0,
        };
        Ok(Json(
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
            status: b.status,
            reason: b.reason,
            version: b.version.or(header_version),
        };
        Ok(Json(
            state.oncall.update_ticket(&auth.0, &no.0, patch).await?,
        ))
    }
}
