//! `POST /api/analysis` (accepted as `pending` at once), `GET /api/analysis[/{id}]`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use oncall_core::AnalysisOptions;
use oncall_core::analysis::{Analysis, AnalysisStatus};
use oncall_core::store::AnalysisFilter;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::{Object, OpenApi, payload::Json};
use uuid::Uuid;

use super::{ApiResult, Tag, page_object, page_request};
use crate::AppState;
use crate::auth::BearerAuth;

page_object!(AnalysisPage, Analysis);

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

    /// One analysis: status, parsed alert, evidence and result.
    #[oai(path = "/api/analysis/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<Analysis>> {
        Ok(Json(state.oncall.analysis(&auth.0, id.0).await?))
    }

    /// Analysis history, newest first; filter by status, creation time and text.
    #[oai(path = "/api/analysis", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        page: Query<Option<u32>>,
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
                .list_analyses(&auth.0, &filter, req)
                .await?
                .into(),
        ))
    }
}
