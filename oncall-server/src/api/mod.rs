//! The REST API (SPEC §4): each operation translates HTTP into one `OnCall` call.

use std::collections::HashMap;
use std::sync::Arc;

use oncall_core::store::PageRequest;
use poem_openapi::{OpenApiService, Tags};

use crate::error::ApiError;

mod analysis;
mod auth;
mod channels;
mod datasources;
mod json_body;
mod tickets;
mod users;
mod webhooks;

/// Groups in the OpenAPI document.
#[derive(Tags)]
enum Tag {
    /// Login and the current account.
    Auth,
    /// Account management (admins).
    Users,
    /// Prometheus, Elasticsearch/ELK and Loki connections.
    Datasources,
    /// Alert analyses.
    Analysis,
    /// Incident tickets.
    Tickets,
    /// Alertmanager / Grafana webhook endpoints and their receivers.
    Webhooks,
    /// Channels results are posted to (Slack, Feishu, DingTalk, WeCom, webhook).
    Notifications,
}

/// The result type of every operation.
type ApiResult<T> = Result<T, ApiError>;

/// A checked page request from `?page=&page_size=`.
fn page_request(page: Option<u32>, page_size: Option<u32>) -> ApiResult<PageRequest> {
    Ok(PageRequest::new(
        page.unwrap_or(1),
        page_size.unwrap_or(20),
    )?)
}

/// Declares a page-of-`$item` response object.
macro_rules! page_object {
    ($name:ident, $item:ty) => {
        #[doc = concat!("One page of ", stringify!($item), " results.")]
        #[derive(Debug, poem_openapi::Object)]
        pub struct $name {
            /// The rows of this page.
            pub items: Vec<$item>,
            /// Matching rows in all.
            pub total: u64,
            /// 1-based page number.
            pub page: u32,
            /// Page size.
            pub page_size: u32,
        }

        impl From<oncall_core::store::Page<$item>> for $name {
            fn from(p: oncall_core::store::Page<$item>) -> Self {
                $name {
                    items: p.items,
                    total: p.total,
                    page: p.page,
                    page_size: p.page_size,
                }
            }
        }
    };
}
pub(crate) use page_object;

/// All operations, as one OpenAPI service.
pub type Api = (
    auth::AuthApi,
    users::UsersApi,
    datasources::DataSourcesApi,
    analysis::AnalysisApi,
    tickets::TicketsApi,
    webhooks::WebhooksApi,
    channels::ChannelsApi,
);

/// The API's route templates as documented (`/api/tickets/{no}`), by the pattern
/// poem-openapi puts in its route table for each (`/api/tickets/:param0`: it
/// numbers the path parameters), which is what a response carries as its
/// `poem::PathPattern`.
pub(crate) fn route_templates() -> HashMap<String, Arc<str>> {
    <Api as poem_openapi::OpenApi>::meta()
        .into_iter()
        .flat_map(|api| api.paths)
        .map(|p| (table_pattern(&p.path), Arc::from(p.path.as_str())))
        .collect()
}

/// `/api/tickets/{no}` → `/api/tickets/:param0`, as poem-openapi registers it.
fn table_pattern(template: &str) -> String {
    let mut n = 0;
    let segments: Vec<String> = template
        .split('/')
        .map(|s| {
            if s.starts_with('{') || s.starts_with(':') {
                n += 1;
                format!(":param{}", n - 1)
            } else {
                s.to_owned()
            }
        })
        .collect();
    segments.join("/")
}

/// The API service, documented at `/api/openapi.json`.
pub fn service() -> OpenApiService<Api, ()> {
    OpenApiService::new(
        (
            auth::AuthApi,
            users::UsersApi,
            datasources::DataSourcesApi,
            analysis::AnalysisApi,
            tickets::TicketsApi,
            webhooks::WebhooksApi,
            channels::ChannelsApi,
        ),
        "oncall-assistant",
        env!("CARGO_PKG_VERSION"),
    )
    .description("AI-assisted alert analysis for on-call engineers. Log in with `POST /api/auth/login`, then send `Authorization: Bearer <access_token>`.")
    .server("/")
}
