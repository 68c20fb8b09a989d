//! `POST /api/analysis` (accepted as `pending` at once), `GET /api/analysis[/{id}]`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, BoxStream, StreamExt};
use oncall_core::analysis::AnalysisEvent;
use oncall_core::analysis::{AnalysisStatus, AnalysisSummary};
use oncall_core::store::AnalysisFilter;
use oncall_core::{AnalysisOptions, AnalysisView, UnderstoodAlert};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::EventStream;
use poem_openapi::{Object, OpenApi, payload::Json};
use uuid::Uuid;

use super::{ApiResult, Tag, page_object, page_request};
use crate::AppState;
use crate::auth::{BearerAuth, StreamAuth};

/// Longest an event stream stays open.
const STREAM_LIFETIME: std::time::Duration = std::time::Duration::from_secs(15 * 60);
/// How often the stream looks for new events (they may come from another process).
const STREAM_POLL: std::time::Duration = std::time::Duration::from_millis(400);

page_object!(AnalysisPage, AnalysisSummary);

/// An alert to analyse.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
struct SubmitAnalysis {
    /// The alert: its text (Chinese or English), or the Alertmanager/Grafana
    /// webhook JSON object as received.
    alert: serde_json::Value,
    /// Options for this analysis.
    options: Option<AnalysisOptions>,
}

/// An accepted analysis.
#[derive(Debug, Object)]
struct Accepted {
    /// Id to poll at `GET /api/analysis/{id}`.
    id: Uuid,
    /// `pending`.
    status: AnalysisStatus,
}

/// A single-use ticket for one analysis's event stream.
#[derive(Debug, Object)]
struct StreamTicketResponse {
    /// Open `GET /api/analysis/{id}/events?ticket=<ticket>` with it, once.
    ticket: String,
    /// Seconds until it expires unused.
    expires_in: u64,
}

/// Analysis operations.
#[derive(Debug)]
pub struct AnalysisApi;

#[OpenApi(tag = "Tag::Analysis")]
impl AnalysisApi {
    /// Submit an alert (engineer). Returns at once with the id and `pending`.
    #[oai(path = "/api/analysis", method = "post")]
    async fn submit(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        body: Json<SubmitAnalysis>,
    ) -> ApiResult<Json<Accepted>> {
        let body = body.0;
        let analysis = state
            .oncall
            .submit_analysis(&auth.0, body.alert, body.options.unwrap_or_default())
            .await?;
        Ok(Json(Accepted {
            id: analysis.id,
            status: analysis.status,
        }))
    }

    /// What an analysis of this alert would look at, without starting it (engineer):
    /// the time (with its date, in UTC) and scope understood, after the corrections in
    /// `options` (`starts_at`, `services`, `namespace`, `pods`, `instances`); the
    /// windows; the services the data sources know around that time; and notices
    /// saying what was not understood and how to fix it.
    #[oai(path = "/api/analysis/understand", method = "post")]
    async fn understand(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        body: Json<SubmitAnalysis>,
    ) -> ApiResult<Json<UnderstoodAlert>> {
        let body = body.0;
        Ok(Json(
            state
                .oncall
                .understand_alert(&auth.0, body.alert, body.options.unwrap_or_default())
                .await?,
        ))
    }

    /// One analysis: status, parsed alert, windows, per-source reports, evidence
    /// (log templates, metric shifts, error origins, suspects) and result.
    #[oai(path = "/api/analysis/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<AnalysisView>> {
        Ok(Json(state.oncall.analysis(&auth.0, id.0).await?))
    }

    /// The earlier runs of an analysis, oldest first, each as the analysis stood
    /// when that run ended (same shape as `GET /api/analysis/{id}`). A webhook's
    /// analysis that completed while its incident window was still open runs again
    /// once the window has filled; the run before is kept here, never overwritten.
    /// Empty when it ran once.
    #[oai(path = "/api/analysis/:id/revisions", method = "get")]
    async fn revisions(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<Vec<AnalysisView>>> {
        Ok(Json(state.oncall.analysis_revisions(&auth.0, id.0).await?))
    }

    /// A short-lived (30 s), single-use ticket to open this analysis's event
    /// stream with `?ticket=`, for clients that cannot send an `Authorization`
    /// header (a browser's `EventSource`): no access token in a URL.
    #[oai(path = "/api/analysis/:id/stream-ticket", method = "post")]
    async fn stream_ticket(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<StreamTicketResponse>> {
        let t = state.oncall.issue_stream_ticket(&auth.0, id.0).await?;
        Ok(Json(StreamTicketResponse {
            ticket: t.ticket,
            expires_in: t.expires_in,
        }))
    }

    /// Progress as Server-Sent Events: every past event first, then new ones as
    /// they happen, until `done` or `failed`. Each event's data is an
    /// `AnalysisEvent` (`seq`, `stage`, `message`, `data`, `at`). Authenticate with
    /// the bearer token, or with `?ticket=` from `POST
    /// /api/analysis/{id}/stream-ticket` (browsers' `EventSource`).
    #[oai(path = "/api/analysis/:id/events", method = "get")]
    async fn events(
        &self,
        state: Data<&Arc<AppState>>,
        auth: StreamAuth,
        id: Path<Uuid>,
    ) -> ApiResult<EventStream<BoxStream<'static, AnalysisEvent>>> {
        if !auth.allows(id.0) {
            return Err(crate::error::ApiError::unauthorized(
                "this stream ticket is for another analysis",
            ));
        }
        let user = auth.user().clone();
        let oncall = state.oncall.clone();
        // 404 before the stream starts, for an unknown id.
        oncall.analysis(&user, id.0).await?;
        let started = std::time::Instant::now();
        let events = stream::unfold((0i64, false), move |(after, finished)| {
            let oncall = oncall.clone();
            let user = user.clone();
            async move {
                if finished {
                    return None;
                }
                loop {
                    if started.elapsed() > STREAM_LIFETIME {
                        return None;
                    }
                    let batch = oncall.analysis_events(&user, id.0, after).await.ok()?;
                    if let Some(last) = batch.last() {
                        let next = last.seq;
                        let done = batch.iter().any(|e| e.stage.is_final());
                        return Some((stream::iter(batch), (next, done)));
                    }
                    // No events and already final (e.g. failed before any event): stop.
                    let current = oncall.analysis(&user, id.0).await.ok()?;
                    if current.status.is_final() && after > 0 {
                        return None;
                    }
                    tokio::time::sleep(STREAM_POLL).await;
                }
            }
        })
        .flatten()
        .boxed();
        Ok(EventStream::new(events).keep_alive(std::time::Duration::from_secs(15)))
    }

    /// Analysis history, newest first; filter by status, creation time and text.
    /// Rows carry the status, title, the start of the alert and the times; read
    /// one analysis for its evidence and result.
    #[oai(path = "/api/analysis", method = "get")]
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
        status: Query<Option<AnalysisStatus>>,
        since: Query<Option<DateTime<Utc>>>,
        until: Query<Option<DateTime<Utc>>>,
        q: Query<Option<String>>,
    ) -> ApiResult<Json<AnalysisPage>> {
        let req = page_request(page.0, page_size.0)?;
        let filter = AnalysisFilter {
            status: status.0,
            since: since.0,
            until: until.0,
            text: q.0,
        };
        Ok(Json(
            state
                .oncall
                .list_analysis_summaries(&auth.0, &filter, req)
                .await?
                .into(),
        ))
    }
}
