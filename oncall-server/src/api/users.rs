//! `GET/POST /api/users`, `PATCH /api/users/{id}` (admins).

use std::sync::Arc;

use oncall_core::UserPatch;
use oncall_core::users::{NewUser, User};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::{OpenApi, payload::Json};
use uuid::Uuid;

use super::{ApiResult, Tag, page_object, page_request};
use crate::AppState;
use crate::auth::BearerAuth;

page_object!(UserPage, User);

/// Account management.
#[derive(Debug)]
pub struct UsersApi;

#[OpenApi(tag = "Tag::Users")]
impl UsersApi {
    /// List accounts, by email.
    #[oai(path = "/api/users", method = "get")]
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
    ) -> ApiResult<Json<UserPage>> {
        let req = page_request(page.0, page_size.0)?;
        Ok(Json(state.oncall.list_users(&auth.0, req).await?.into()))
    }

    /// Create an account.
    #[oai(path = "/api/users", method = "post")]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        body: Json<NewUser>,
    ) -> ApiResult<Json<User>> {
        Ok(Json(state.oncall.create_user(&auth.0, body.0).await?))
    }

    /// Change an account's name, role, enabled state, or reset its password.
    #[oai(path = "/api/users/:id", method = "patch")]
    async fn update(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        id: Path<Uuid>,
        body: Json<UserPatch>,
    ) -> ApiResult<Json<User>> {
        Ok(Json(state.oncall.update_user(&auth.0, id.0, body.0).await?))
    }
}
