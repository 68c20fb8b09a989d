//! Data sources through the facade: validation, sealed credentials, roles.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::OnCall;
use crate::connectors::{AuthKind, Credentials, DataSource, DataSourceKind};
use crate::error::{Error, Result};
use crate::store::{Page, PageRequest};
use crate::users::{Role, User};

/// Default per-request timeout of a data source.
pub const DEFAULT_TIMEOUT_MS: i64 = 10_000;
/// Longest URL accepted for a data source or a notification channel.
pub const MAX_URL_LEN: usize = 2048;

/// Authentication as a client sends it. Secrets are write-only: omitted on an edit,
/// the stored ones are kept.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(deny_unknown_fields)
)]
pub struct AuthInput {
    /// `none`, `basic` or `bearer`.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", oai(rename = "type"))]
    pub kind: Option<AuthKind>,
    /// Basic-auth user name.
    pub username: Option<String>,
    /// Basic-auth password.
    pub password: Option<String>,
    /// Bearer token.
    pub token: Option<String>,
}

/// A data source as a client creates or replaces it.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(deny_unknown_fields)
)]
pub struct DataSourceInput {
    /// Unique display name.
    pub name: String,
    /// `elk`, `loki` or `prometheus`.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", oai(rename = "type"))]
    pub kind: DataSourceKind,
    /// Base URL, http or https.
    pub url: String,
    /// Credentials.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", oai(default))]
    pub auth: AuthInput,
    /// Type-specific settings (`index` for ELK, `labels` for Loki, ...).
    #[serde(default)]
    pub config: Option<Value>,
    /// Defaults to true.
    pub enabled: Option<bool>,
    /// Per-request timeout, 100..=120000 ms; defaults to 10 s.
    pub timeout_ms: Option<i64>,
}

impl DataSourceInput {
    /// An enabled source with default timeout, no credentials and empty config.
    pub fn new(name: impl Into<String>, kind: DataSourceKind, url: impl Into<String>) -> Self {
        DataSourceInput {
            name: name.into(),
            kind,
            url: url.into(),
            auth: AuthInput::default(),
            config: None,
            enabled: None,
            timeout_ms: None,
        }
    }

    /// Credentials from flat options, as the CLI and the Python package take them:
    /// bearer when a token is given, else basic when a username is, else none.
    pub fn with_credentials(
        mut self,
        username: Option<String>,
        password: Option<String>,
        token: Option<String>,
    ) -> Self {
        let kind = if token.is_some() {
            AuthKind::Bearer
        } else if username.is_some() {
            AuthKind::Basic
        } else {
            AuthKind::None
        };
        self.auth = AuthInput {
            kind: Some(kind),
            username,
            password,
            token,
        };
        self
    }

    /// `config` (an object, or nothing) plus the usual shorthands: `index` for ELK
    /// and `labels` for Loki.
    pub fn with_config(
        mut self,
        config: Option<Value>,
        index: Option<String>,
        labels: Option<String>,
    ) -> Self {
        let mut config = config.unwrap_or_else(|| serde_json::json!({}));
        if let Some(obj) = config.as_object_mut() {
            if let Some(i) = index {
                obj.insert("index".into(), i.into());
            }
            if let Some(l) = labels {
                obj.insert("labels".into(), l.into());
            }
        }
        self.config = Some(config);
        self
    }
}

/// Authentication as shown: never the secrets, only whether they are set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct AuthView {
    /// `none`, `basic` or `bearer`.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", oai(rename = "type"))]
    pub kind: AuthKind,
    /// Basic-auth user name.
    pub username: Option<String>,
    /// A password is stored.
    pub has_password: bool,
    /// A token is stored.
    pub has_token: bool,
}

/// A data source as every front end shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct DataSourceView {
    /// Id.
    pub id: Uuid,
    /// Unique display name.
    pub name: String,
    /// `elk`, `loki` or `prometheus`.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", oai(rename = "type"))]
    pub kind: DataSourceKind,
    /// Base URL.
    pub url: String,
    /// Credentials, masked.
    pub auth: AuthView,
    /// Type-specific settings.
    pub config: Value,
    /// Queried by analyses.
    pub enabled: bool,
    /// Per-request timeout.
    pub timeout_ms: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// The last connectivity test and when it ran; none until tested.
    pub last_test: Option<DataSourceTestView>,
}

/// A connectivity test as kept: its outcome and when it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct DataSourceTestView {
    /// When the test ran (UTC).
    pub tested_at: DateTime<Utc>,
    /// What it found.
    pub result: crate::connectors::ConnectionTest,
}

impl From<DataSource> for DataSourceView {
    fn from(d: DataSource) -> Self {
        DataSourceView {
            id: d.id,
            name: d.name,
            kind: d.kind,
            url: d.url,
            auth: AuthView {
                kind: d.auth_kind,
                username: d.username,
                has_password: d.password_sealed.is_some(),
                has_token: d.token_sealed.is_some(),
            },
            config: d.config,
            enabled: d.enabled,
            timeout_ms: d.timeout_ms,
            created_at: d.created_at,
            updated_at: d.updated_at,
            last_test: None,
        }
    }
}

/// Checks a base URL: http or https, with a host, no credentials in it, at most
/// [`MAX_URL_LEN`] bytes, and a host the outbound policy allows
/// (`ONCALL_OUTBOUND_DENY` / `ONCALL_OUTBOUND_ALLOW`).
pub fn validate_url(raw: &str) -> Result<String> {
    if raw.trim().len() > MAX_URL_LEN {
        return Err(Error::invalid(
            "url",
            format!("must be at most {MAX_URL_LEN} bytes"),
        ));
    }
    let parsed = url::Url::parse(raw.trim())
        .map_err(|e| Error::invalid("url", format!("`{raw}` is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::invalid("url", "must start with http:// or https://"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid("url", "must name a host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::invalid(
            "url",
            "put credentials in `auth`, not in the URL",
        ));
    }
    crate::connectors::outbound::check_url(&parsed)?;
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

/// Scheme, host and port: where stored credentials may be sent.
fn origin(raw: &str) -> Option<(String, String, Option<u16>)> {
    let u = url::Url::parse(raw).ok()?;
    Some((
        u.scheme().to_owned(),
        u.host_str()?.to_ascii_lowercase(),
        u.port_or_known_default(),
    ))
}

fn validate_config(kind: DataSourceKind, config: Option<Value>) -> Result<Value> {
    let config = match config {
        None | Some(Value::Null) => serde_json::json!({}),
        Some(v @ Value::Object(_)) => v,
        Some(_) => return Err(Error::invalid("config", "must be a JSON object")),
    };
    let text = |key: &str| config.get(key).and_then(Value::as_str).map(str::trim);
    match kind {
        DataSourceKind::Elk => {
            if text("index").is_none_or(str::is_empty) {
                return Err(Error::invalid(
                    "config.index",
                    "an index pattern is required, e.g. logs-*",
                ));
            }
        }
        DataSourceKind::Loki => {
            if let Some(sel) = text("labels").filter(|s| !s.is_empty())
                && !(sel.starts_with('{') && sel.ends_with('}'))
            {
                return Err(Error::invalid(
                    "config.labels",
                    "must be a stream selector like {app=\"api\"}",
                ));
            }
        }
        DataSourceKind::Prometheus => {}
    }
    Ok(config)
}

fn reentry(field: &str) -> Error {
    Error::invalid(
        field,
        "the URL now points at another scheme, host or port: enter the credential \
         again (stored ones are never sent to a new server)",
    )
}

fn context(id: Uuid, what: &str) -> String {
    format!("datasource:{id}:{what}")
}

impl OnCall {
    pub(super) fn secret_box(&self) -> Result<&crate::secrets::SecretBox> {
        self.secrets.as_ref().ok_or_else(|| {
            Error::Config(
                "storing credentials needs ONCALL_ENCRYPTION_KEY (or development mode)".into(),
            )
        })
    }

    /// Applies `input` onto `ds` (new or existing), sealing any new secrets.
    fn apply_datasource_input(&self, ds: &mut DataSource, input: DataSourceInput) -> Result<()> {
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::invalid("name", "must be 1 to 100 characters"));
        }
        let timeout_ms = input.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
        if !(100..=120_000).contains(&timeout_ms) {
            return Err(Error::invalid(
                "timeout_ms",
                "must be between 100 and 120000",
            ));
        }
        ds.name = name.to_owned();
        ds.kind = input.kind;
        let url = validate_url(&input.url)?;
        // Stored secrets only ever go to the origin they were entered for: moving
        // the URL to another scheme, host or port drops them, so they must be
        // entered again (else whoever may edit the URL could read them back).
        let moved = !ds.url.is_empty() && origin(&ds.url) != origin(&url);
        if moved {
            ds.password_sealed = None;
            ds.token_sealed = None;
        }
        ds.url = url;
        ds.config = validate_config(input.kind, input.config)?;
        ds.enabled = input.enabled.unwrap_or(true);
        ds.timeout_ms = timeout_ms;

        let auth = input.auth;
        let kind = auth.kind.unwrap_or(AuthKind::None);
        let nonempty = |s: Option<String>| s.filter(|v| !v.is_empty());
        let (password, token) = (nonempty(auth.password), nonempty(auth.token));
        let kind_changed = kind != ds.auth_kind;
        match kind {
            AuthKind::None => {
                ds.username = None;
                ds.password_sealed = None;
                ds.token_sealed = None;
            }
            AuthKind::Basic => {
                let username =
                    nonempty(auth.username.map(|u| u.trim().to_owned())).ok_or_else(|| {
                        Error::invalid("auth.username", "basic auth needs a username")
                    })?;
                if let Some(p) = password {
                    ds.password_sealed =
                        Some(self.secret_box()?.seal(&p, &context(ds.id, "password"))?);
                } else if moved {
                    return Err(reentry("auth.password"));
                } else if kind_changed || ds.password_sealed.is_none() {
                    return Err(Error::invalid(
                        "auth.password",
                        "basic auth needs a password",
                    ));
                }
                ds.username = Some(username);
                ds.token_sealed = None;
            }
            AuthKind::Bearer => {
                if let Some(t) = token {
                    ds.token_sealed = Some(self.secret_box()?.seal(&t, &context(ds.id, "token"))?);
                } else if moved {
                    return Err(reentry("auth.token"));
                } else if kind_changed || ds.token_sealed.is_none() {
                    return Err(Error::invalid("auth.token", "bearer auth needs a token"));
                }
                ds.username = None;
                ds.password_sealed = None;
            }
        }
        ds.auth_kind = kind;
        Ok(())
    }

    /// Adds a data source (admin).
    pub async fn create_datasource(
        &self,
        actor: &User,
        input: DataSourceInput,
    ) -> Result<DataSourceView> {
        actor.require(Role::Admin)?;
        let now = Utc::now();
        let mut ds = DataSource {
            id: Uuid::now_v7(),
            name: String::new(),
            kind: input.kind,
            url: String::new(),
            auth_kind: AuthKind::None,
            username: None,
            password_sealed: None,
            token_sealed: None,
            config: Value::Null,
            enabled: true,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            created_at: now,
            updated_at: now,
        };
        self.apply_datasource_input(&mut ds, input)?;
        self.store.insert_datasource(&ds).await?;
        Ok(ds.into())
    }

    /// Replaces a data source's settings (admin). Omitted secrets are kept.
    pub async fn update_datasource(
        &self,
        actor: &User,
        id: Uuid,
        input: DataSourceInput,
    ) -> Result<DataSourceView> {
        actor.require(Role::Admin)?;
        let mut ds = self.store.datasource(id).await?;
        self.apply_datasource_input(&mut ds, input)?;
        ds.updated_at = Utc::now();
        self.store.update_datasource(&ds).await?;
        Ok(ds.into())
    }

    /// Removes a data source (admin).
    pub async fn delete_datasource(&self, actor: &User, id: Uuid) -> Result<()> {
        actor.require(Role::Admin)?;
        self.store.delete_datasource(id).await
    }

    /// One data source (any role).
    pub async fn datasource(&self, actor: &User, id: Uuid) -> Result<DataSourceView> {
        actor.require(Role::Viewer)?;
        let mut view: DataSourceView = self.store.datasource(id).await?.into();
        self.attach_tests(std::slice::from_mut(&mut view)).await?;
        Ok(view)
    }

    /// Fills in the last test of each data source.
    async fn attach_tests(&self, views: &mut [DataSourceView]) -> Result<()> {
        let tests = self.store.datasource_tests().await?;
        for v in views {
            v.last_test = tests
                .iter()
                .find(|(id, _, _)| *id == v.id)
                .and_then(|(_, r, at)| {
                    serde_json::from_value(r.clone())
                        .ok()
                        .map(|result| DataSourceTestView {
                            tested_at: *at,
                            result,
                        })
                });
        }
        Ok(())
    }

    /// Data sources by name (any role).
    pub async fn list_datasources(
        &self,
        actor: &User,
        page: PageRequest,
    ) -> Result<Page<DataSourceView>> {
        actor.require(Role::Viewer)?;
        let mut page = self
            .store
            .list_datasources(page)
            .await?
            .map(DataSourceView::from);
        self.attach_tests(&mut page.items).await?;
        Ok(page)
    }

    /// Tests connectivity of a data source (engineer): reachable, authenticated,
    /// server version, latency — or why not. Never fails for an unreachable server;
    /// the answer says so.
    pub async fn test_datasource(
        &self,
        actor: &User,
        id: Uuid,
    ) -> Result<crate::connectors::ConnectionTest> {
        actor.require(Role::Engineer)?;
        let (ds, credentials) = self.datasource_with_credentials(id).await?;
        let result = crate::connectors::test_data_source(&ds, credentials).await;
        // Kept so that the page shows it after a reload; the answer stands without it.
        let kept = match serde_json::to_value(&result) {
            Ok(doc) => {
                self.store
                    .record_datasource_test(id, &doc, Utc::now())
                    .await
            }
            Err(e) => Err(Error::Internal(e.to_string())),
        };
        if let Err(e) = kept {
            tracing::warn!(datasource = %id, error = %e, "keeping a data source test");
        }
        tracing::info!(datasource = %ds.name, ok = result.ok, latency_ms = result.latency_ms, "data source tested");
        Ok(result)
    }

    /// The stored record and its decrypted credentials, for a connector.
    pub(crate) async fn datasource_with_credentials(
        &self,
        id: Uuid,
    ) -> Result<(DataSource, Credentials)> {
        let ds = self.store.datasource(id).await?;
        let credentials = self.credentials_of(&ds)?;
        Ok((ds, credentials))
    }

    /// The decrypted credentials of a stored data source.
    pub(crate) fn credentials_of(&self, ds: &DataSource) -> Result<Credentials> {
        let open = |sealed: &Option<String>, what: &str| -> Result<Option<String>> {
            sealed
                .as_deref()
                .map(|s| self.secret_box()?.open(s, &context(ds.id, what)))
                .transpose()
        };
        Ok(Credentials {
            username: ds.username.clone(),
            password: open(&ds.password_sealed, "password")?,
            token: open(&ds.token_sealed, "token")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        assert_eq!(
            validate_url("http://prom:9090/").unwrap(),
            "http://prom:9090"
        );
        assert_eq!(
            validate_url(" https://es.example.com/base ").unwrap(),
            "https://es.example.com/base"
        );
        for bad in [
            "ftp://x",
            "prom:9090",
            "http://",
            "http://u:p@host",
            "not a url",
            "http://169.254.169.254/latest/meta-data",
            "http://metadata.google.internal/computeMetadata/v1",
        ] {
            assert!(validate_url(bad).is_err(), "{bad}");
        }
        let long = format!("http://prom:9090/{}", "a".repeat(MAX_URL_LEN));
        assert!(validate_url(&long).is_err());
    }

    #[test]
    fn configs_are_checked_per_kind() {
        assert!(validate_config(DataSourceKind::Elk, None).is_err());
        assert!(
            validate_config(
                DataSourceKind::Elk,
                Some(serde_json::json!({"index": "logs-*"}))
            )
            .is_ok()
        );
        assert!(
            validate_config(
                DataSourceKind::Loki,
                Some(serde_json::json!({"labels": "app=api"}))
            )
            .is_err()
        );
        assert!(
            validate_config(
                DataSourceKind::Loki,
                Some(serde_json::json!({"labels": "{app=\"api\"}"}))
            )
            .is_ok()
        );
        assert!(validate_config(DataSourceKind::Prometheus, Some(serde_json::json!([1]))).is_err());
        assert_eq!(
            validate_config(DataSourceKind::Prometheus, None).unwrap(),
            serde_json::json!({})
        );
    }
}
