//! `/api/notification-channels`: where results are posted (admin).

use std::sync::Arc;

use oncall_core::store::Delivery;
use oncall_core::{ChannelInput, ChannelTest, ChannelView};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::{ApiResponse, OpenApi, payload::Json};
use uuid::Uuid;

use super::{ApiResult, Tag, page_object, page_request};
use crate::AppState;
use crate::auth::BearerAuth;

page_object!(ChannelPage, ChannelView);
page_object!(DeliveryPage, Delivery);

/// Deleted.
#[derive(Debug, ApiResponse)]
enum Deleted {
    /// The channel and its pending deliveries are gone.
    #[oai(status = 204)]
    NoContent,
}

/// Notification channel operations.
#[derive(Debug)]
pub struct ChannelsApi;

#[OpenApi(tag = "Tag::Notifications")]
impl ChannelsApi {
    /// List channels (admin). URLs are shown as hints, secrets never.
    #[oai(path = "/api/notification-channels", method = "get")]
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
    ) -> ApiResult<Json<ChannelPage>> {
        let req = page_request(page.0, page_size.0)?;
        Ok(Json(state.oncall.list_channels(&auth.0, req).await?.into()))
    }

    /// Add a channel (admin): generic JSON webhook, Slack, Feishu/Lark, DingTalk or
    /// WeCom. URL and signing secret are stored encrypted.
    #[oai(path = "/api/notification-channels", method = "post")]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        body: Json<ChannelInput>,
    ) -> ApiResult<Json<ChannelView>> {
        Ok(Json(state.oncall.create_channel(&auth.0, body.0).await?))
    }

    /// One channel (admin).
    #[oai(path = "/api/notification-channels/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<ChannelView>> {
        Ok(Json(state.oncall.channel(&auth.0, id.0).await?))
    }

    /// Replace a channel's settings (admin); omitted URL and secret are kept.
    #[oai(path = "/api/notification-channels/:id", method = "put")]
    async fn update(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<ChannelInput>,
    ) -> ApiResult<Json<ChannelView>> {
        Ok(Json(
            state.oncall.update_channel(&auth.0, id.0, body.0).await?,
        ))
    }

    /// Delete a channel (admin).
    #[oai(path = "/api/notification-channels/:id", method = "delete")]
    async fn delete(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Deleted> {
        state.oncall.delete_channel(&auth.0, id.0).await?;
        Ok(Deleted::NoContent)
    }

    /// Send a test message now (admin): `{ok, message}`; a failing channel is
    /// `ok: false` with the reason, never an error status.
    #[oai(path = "/api/notification-channels/:id/test", method = "post")]
    async fn test(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<ChannelTest>> {
        Ok(Json(state.oncall.test_channel(&auth.0, id.0).await?))
    }

    /// The channel's deliveries from the outbox, newest first (admin): status,
    /// attempts, last error.
    #[oai(path = "/api/notification-channels/:id/deliveries", method = "get")]
    async fn deliveries(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<Uuid>,
        /// 1-based page number (default 1).
        #[oai(validator(minimum(value = "1")))]
        page: Query<Option<u32>>,
        /// Rows per page (default 20, at most 200).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        page_size: Query<Option<u32>>,
    ) -> ApiResult<Json<DeliveryPage>> {
        let req = page_request(page.0, page_size.0)?;
        Ok(Json(
            state
                .oncall
                .channel_deliveries(&auth.0, id.0, req)
                .await?
                .into(),
        ))
    }
}
