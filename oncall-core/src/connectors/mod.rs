//! Data sources: where logs (Elasticsearch/ELK, Grafana Loki) and metrics
//! (Prometheus) come from, and how to reach them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};

/// Which kind of server a data source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Enum),
    oai(rename_all = "snake_case")
)]
pub enum DataSourceKind {
    /// Elasticsearch or OpenSearch (logs).
    Elk,
    /// Grafana Loki (logs).
    Loki,
    /// Prometheus (metrics).
    Prometheus,
}

impl DataSourceKind {
    /// Every kind.
    pub const ALL: [DataSourceKind; 3] = [
        DataSourceKind::Elk,
        DataSourceKind::Loki,
        DataSourceKind::Prometheus,
    ];

    /// The stored and serialized name.
    pub fn as_str(self) -> &'static str {
        match self {
            DataSourceKind::Elk => "elk",
            DataSourceKind::Loki => "loki",
            DataSourceKind::Prometheus => "prometheus",
        }
    }

    /// The port the server listens on by default.
    pub fn default_port(self) -> u16 {
        match self {
            DataSourceKind::Elk => 9200,
            DataSourceKind::Loki => 3100,
            DataSourceKind::Prometheus => 9090,
        }
    }
}

impl std::str::FromStr for DataSourceKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        DataSourceKind::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "type",
                    format!("`{s}` is not a data source type (elk, loki, prometheus)"),
                )
            })
    }
}

/// How to authenticate to a data source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Enum),
    oai(rename_all = "snake_case")
)]
pub enum AuthKind {
    /// No credentials.
    None,
    /// HTTP basic: username and password.
    Basic,
    /// `Authorization: Bearer <token>`.
    Bearer,
}

impl AuthKind {
    /// The stored and serialized name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthKind::None => "none",
            AuthKind::Basic => "basic",
            AuthKind::Bearer => "bearer",
        }
    }
}

impl std::str::FromStr for AuthKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        [AuthKind::None, AuthKind::Basic, AuthKind::Bearer]
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                Error::invalid("auth.type", format!("`{s}` is not none, basic or bearer"))
            })
    }
}

/// A configured data source. Secrets are held sealed (encrypted at rest) and are
/// never part of what the API returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSource {
    /// Generated in the application (UUID v7).
    pub id: Uuid,
    /// Unique display name; also how the LLM's tools name the source.
    pub name: String,
    /// Which kind of server.
    pub kind: DataSourceKind,
    /// Base URL (http/https).
    pub url: String,
    /// How to authenticate.
    pub auth_kind: AuthKind,
    /// Basic-auth user name.
    pub username: Option<String>,
    /// Sealed basic-auth password.
    #[serde(skip_serializing)]
    pub password_sealed: Option<String>,
    /// Sealed bearer token.
    #[serde(skip_serializing)]
    pub token_sealed: Option<String>,
    /// Type-specific settings (`index`, `labels`, field names, ...).
    pub config: serde_json::Value,
    /// Disabled sources are not queried.
    pub enabled: bool,
    /// Per-request timeout.
    pub timeout_ms: i64,
    /// Creation time (UTC).
    pub created_at: DateTime<Utc>,
    /// Last change (UTC).
    pub updated_at: DateTime<Utc>,
}
