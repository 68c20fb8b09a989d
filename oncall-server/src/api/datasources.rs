//! `/api/datasources` CRUD and connectivity test.

use std::sync::Arc;

use oncall_core::{DataSourceInput, DataSourceView};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::{ApiResponse, OpenApi, payload::Json};
use uuid::Uuid;

use super::{ApiResult, Tag, page_object, page_request};
use crate::AppState;
use crate::auth::BearerAuth;

page_object!(DataSourcePage, DataSourceView);

/// Deleted.
#[derive(Debug, ApiResponse)]
enum Deleted {
    /// The data source is gone.
    #[oai(status = 204)]
    NoContent,
}

/// Data-source operations.
#[derive(Debug)]
pub struct DataSourcesApi;

#[OpenApi(tag = "Tag::Datasources")]
impl DataSourcesApi {
    /// List data sources, by name. Credentials are never returned.
    #[oai(path = "/api/datasources", method = "get")]
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
    ) -> ApiResult<Json<DataSourcePage>> {
        let req = page_request(page.0, page_size.0)?;
        Ok(Json(
            state.oncall.list_datasources(&auth.0, req).await?.into(),
        ))
    }

    /// Add a data source (admin). Passwords and tokens are stored encrypted.
    #[oai(path = "/api/datasources", method = "post")]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        body: Json<DataSourceInput>,
    ) -> ApiResult<Json<DataSourceView>> {
        Ok(Json(state.oncall.create_datasource(&auth.0, body.0).await?))
    }

    /// One data source.
    #[oai(path = "/api/datasources/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<DataSourceView>> {
        Ok(Json(state.oncall.datasource(&auth.0, id.0).await?))
    }

    /// Replace a data source's settings (admin). Omitted password/token are kept.
    #[oai(path = "/api/datasources/:id", method = "put")]
    async fn update(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<DataSourceInput>,
    ) -> ApiResult<Json<DataSourceView>> {
        Ok(Json(
            state
                .oncall
                .update_datasource(&auth.0, id.0, body.0)
                .await?,
        ))
    }

    /// Test connectivity (engineer): `{ok, latency_ms, version, message}`. An
    /// unreachable server is `ok: false` with the reason, never an error status.
    #[oai(path = "/api/datasources/:id/test", method = "post")]
    async fn test(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Json<oncall_core::connectors::ConnectionTest>> {
        Ok(Json(state.oncall.test_datasource(&auth.0, id.0).await?))
    }

    /// Delete a data source (admin).
    #[oai(path = "/api/datasources/:id", method = "delete")]
    async fn delete(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<Uuid>,
    ) -> ApiResult<Deleted> {
        state.oncall.delete_datasource(&auth.0, id.0).await?;
        Ok(Deleted::NoContent)
    }
}
