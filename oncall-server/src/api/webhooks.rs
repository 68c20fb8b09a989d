//! `/api/webhooks`: endpoint CRUD (admin) and the receivers Alertmanager and
//! Grafana post to, authenticated by the endpoint's own token.

use std::sync::Arc;

use oncall_core::store::AnalysisAlerts;
use oncall_core::webhooks::WebhookKind;
use oncall_core::{WebhookInput, WebhookReceipt, WebhookView, WebhookWithToken};
use poem::Request;
use poem::web::Data;
use poem_openapi::auth::{ApiKey, Bearer};
use poem_openapi::param::{Path, Query};
use poem_openapi::{ApiResponse, OpenApi, SecurityScheme, payload::Json};
use uuid::Uuid;

use super::{ApiResult, Tag, page_object, page_request};
use crate::AppState;
use crate::auth::BearerAuth;

page_object!(WebhookPage, WebhookView);

/// Deleted.
#[derive(Debug, ApiResponse)]
enum Deleted {
    /// The endpoint is gone.
    #[oai(status = 204)]
    NoContent,
}

/// Stored.
#[derive(Debug, ApiResponse)]
enum Received {
    /// The alerts are stored; analyses run in the background.
    #[oai(status = 202)]
    Accepted(Json<WebhookReceipt>),
}

/// The endpoint's token as `Authorization: Bearer <token>` (what Alertmanager's
/// `http_config.authorization` and Grafana's webhook contact point send).
#[derive(Debug, SecurityScheme)]
#[oai(ty = "bearer", checker = "take_bearer")]
struct WebhookBearer(String);

async fn take_bearer(_req: &Request, bearer: Bearer) -> Option<String> {
    Some(bearer.token)
}

/// The endpoint's token as `?token=<token>`, for senders that cannot set headers.
#[derive(Debug, SecurityScheme)]
#[oai(
    ty = "api_key",
    key_name = "token",
    key_in = "query",
    checker = "take_key"
)]
struct WebhookQueryToken(String);

async fn take_key(_req: &Request, key: ApiKey) -> Option<String> {
    Some(key.key)
}

/// Either way of presenting an endpoint's token (checked by the engine).
#[derive(Debug, SecurityScheme)]
enum WebhookToken {
    /// Header.
    Bearer(WebhookBearer),
    /// Query parameter.
    Query(WebhookQueryToken),
}

impl WebhookToken {
    fn token(&self) -> &str {
        match self {
            WebhookToken::Bearer(b) => &b.0,
            WebhookToken::Query(q) => &q.0,
        }
    }
}

/// Webhook operations.
#[derive(Debug)]
pub struct WebhooksApi;

#[OpenApi(tag = "Tag::Webhooks")]
impl WebhooksApi {
    /// List webhook endpoints (admin). Tokens are never shown again.
    #[oai(path = "/api/webhooks", method = "get")]
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
    ) -> ApiResult<Json<WebhookPage>> {
        let req = page_request(page.0, page_size.0)?;
        Ok(Json(state.oncall.list_webhooks(&auth.0, req).await?.into()))
    }

    /// Create an endpoint (admin). The answer carries its `token`, shown only once
    /// (stored hashed), and the `path` the sender posts to.
    #[oai(path = "/api/webhooks", method = "post")]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        body: Json<WebhookInput>,
    ) -> ApiResult<Json<WebhookWithToken>> {
        Ok(Json(state.oncall.create_webhook(&auth.0, body.0).await?))
    }

    /// One endpoint (admin).
    #[oai(path = "/api/webhooks/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<WebhookView>> {
        Ok(Json(state.oncall.webhook(&auth.0, id.0).await?))
    }

    /// Replace an endpoint's name, kind, options and enabled flag (admin).
    #[oai(path = "/api/webhooks/:id", method = "put")]
    async fn update(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<WebhookInput>,
    ) -> ApiResult<Json<WebhookView>> {
        Ok(Json(
            state.oncall.update_webhook(&auth.0, id.0, body.0).await?,
        ))
    }

    /// Give an endpoint a new token (admin), shown once; the old one stops working.
    #[oai(path = "/api/webhooks/:id/token", method = "post")]
    async fn rotate(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<WebhookWithToken>> {
        Ok(Json(
            state.oncall.rotate_webhook_token(&auth.0, id.0).await?,
        ))
    }

    /// Delete an endpoint (admin). The alerts it accepted stay.
    #[oai(path = "/api/webhooks/:id", method = "delete")]
    async fn delete(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Deleted> {
        state.oncall.delete_webhook(&auth.0, id.0).await?;
        Ok(Deleted::NoContent)
    }

    /// Alertmanager receiver (`webhook_config`, payload version 4). Each firing
    /// alert starts an analysis or joins one (same fingerprint, or same group,
    /// within the endpoint's window); resolved alerts are recorded. Answers 202 as
    /// soon as the alerts are stored, 429 while the analysis backlog is full.
    #[oai(path = "/api/webhooks/alertmanager/:id", method = "post")]
    async fn alertmanager(
        &self,
        state: Data<&Arc<AppState>>,
        auth: WebhookToken,
        id: Path<Uuid>,
        body: Json<serde_json::Value>,
    ) -> ApiResult<Received> {
        let receipt = state
            .oncall
            .receive_webhook(WebhookKind::Alertmanager, id.0, auth.token(), &body.0)
            .await?;
        Ok(Received::Accepted(Json(receipt)))
    }

    /// Grafana receiver (unified alerting webhook contact point); as the
    /// Alertmanager receiver.
    #[oai(path = "/api/webhooks/grafana/:id", method = "post")]
    async fn grafana(
        &self,
        state: Data<&Arc<AppState>>,
        auth: WebhookToken,
        id: Path<Uuid>,
        body: Json<serde_json::Value>,
    ) -> ApiResult<Received> {
        let receipt = state
            .oncall
            .receive_webhook(WebhookKind::Grafana, id.0, auth.token(), &body.0)
            .await?;
        Ok(Received::Accepted(Json(receipt)))
    }

    /// The alerts an analysis gathered from webhooks: firing and resolved counts,
    /// distinct alerts, first/last seen, the latest 50.
    #[oai(
        path = "/api/analysis/:id/alerts",
        method = "get",
        tag = "Tag::Analysis"
    )]
    async fn analysis_alerts(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<AnalysisAlerts>> {
        Ok(Json(state.oncall.analysis_alerts(&auth.0, id.0).await?))
    }
}
