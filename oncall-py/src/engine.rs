//! `OnCall` and `AsyncOnCall`: the same methods, generated once by
//! [`engine_class!`]; the first waits (GIL released), the second returns
//! awaitables. Each method turns its Python arguments into engine input while it
//! holds the GIL, then runs one engine call as the local admin (trusted
//! in-process caller, like the CLI) on the module's runtime.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use oncall_core::analysis::Workers;
use oncall_core::config::{LlmProvider, redact_url_password};
use oncall_core::connectors::DataSourceKind;
use oncall_core::store::{AnalysisFilter, PageRequest, TicketFilter};
use oncall_core::tickets::{Severity, TicketStatus};
use oncall_core::users::{NewUser, Role};
use oncall_core::{AnalysisOptions, DataSourceInput, Error, Settings, TicketInput, TicketPatch};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;

use crate::convert;
use crate::errors::{invalid, to_py};
use crate::records::{AccuracyReport, Analysis, ConnectionTest, DataSource, Ticket, User};
use crate::runtime::{awaitable, blocking, runtime};

/// Where development mode keeps generated keys (shared with the CLI and server).
const DEV_SECRETS: &str = "data/dev-secrets.json";
/// How long `close()` lets background analyses finish.
const CLOSE_GRACE: Duration = Duration::from_secs(5);
/// Largest page the engine serves; lists without paging read them all.
const PAGE_ALL: u32 = 200;

/// An engine opened in one process.
struct Opened {
    pid: u32,
    engine: oncall_core::OnCall,
    workers: Option<Workers>,
}

/// What both classes hold: the settings, and the engine opened with them in this
/// process (opened again in a forked child, whose copy of the database pool
/// belongs to threads that only the parent has).
struct Core {
    settings: Settings,
    opened: Mutex<Option<Opened>>,
}

type Shared = Arc<Core>;

impl Core {
    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Opened>> {
        self.opened.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The engine for this process, opened on first use.
    async fn engine(&self) -> PyResult<oncall_core::OnCall> {
        let pid = std::process::id();
        {
            let mut slot = self.slot();
            match slot.as_ref() {
                Some(o) if o.pid == pid => return Ok(o.engine.clone()),
                Some(_) => {
                    if let Some(inherited) = slot.take() {
                        std::mem::forget(inherited);
                    }
                }
                None => {}
            }
        }
        oncall_core::connectors::install_default_tls_provider();
        let engine = oncall_core::OnCall::open(self.settings.clone())
            .await
            .map_err(to_py)?;
        let mut slot = self.slot();
        match slot.as_ref() {
            // Another call opened it meanwhile; use that one.
            Some(o) if o.pid == pid => Ok(o.engine.clone()),
            _ => {
                *slot = Some(Opened {
                    pid,
                    engine: engine.clone(),
                    workers: None,
                });
                Ok(engine)
            }
        }
    }

    /// Starts background analysis workers in this process, once (for
    /// `analyze(wait=False)`). Must run on the runtime.
    fn ensure_workers(&self) {
        let mut slot = self.slot();
        if let Some(o) = slot.as_mut()
            && o.workers.is_none()
        {
            o.workers = Some(o.engine.start_workers());
        }
    }

    /// Stops the workers and closes the database pool; the next call opens it again.
    async fn close(&self) {
        let opened = self.slot().take();
        if let Some(o) = opened {
            if o.pid != std::process::id() {
                std::mem::forget(o);
                return;
            }
            if let Some(w) = o.workers {
                w.shutdown(CLOSE_GRACE).await;
            }
            o.engine.close().await;
        }
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        let opened = self.opened.get_mut().map_or(None, Option::take);
        let Some(o) = opened else { return };
        if o.pid != std::process::id() {
            std::mem::forget(o);
            return;
        }
        // The pool and the workers belong to the runtime: let them go there.
        if let Ok(rt) = runtime() {
            rt.spawn(async move {
                if let Some(w) = o.workers {
                    w.shutdown(CLOSE_GRACE).await;
                }
                o.engine.close().await;
            });
        }
    }
}

/// Settings: defaults, `./.env`, the environment (as the CLI), then the keyword
/// arguments; then development secrets as the CLI resolves them.
fn settings(
    database_url: Option<String>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<Settings> {
    let mut s = Settings::load().map_err(to_py)?;
    if let Some(url) = database_url {
        s.database_url = url;
    }
    for (key, value) in kwargs.into_iter().flat_map(|d| d.iter()) {
        let key: String = key.extract()?;
        let opt = |v: &Bound<'_, PyAny>| -> PyResult<Option<String>> { v.extract() };
        let text = |v: &Bound<'_, PyAny>| -> PyResult<String> { v.extract() };
        match key.as_str() {
            "database_url" => s.database_url = text(&value)?,
            "dev" => s.dev = value.extract()?,
            "encryption_key" => s.encryption_key = opt(&value)?,
            "jwt_secret_key" => s.jwt_secret_key = opt(&value)?,
            "jwt_expire_hours" => s.jwt_expire_hours = value.extract()?,
            "admin_email" => s.admin_email = text(&value)?,
            "admin_password" => s.admin_password = text(&value)?,
            "llm_provider" => {
                s.llm_provider = match text(&value)?.to_ascii_lowercase().as_str() {
                    "openai" => LlmProvider::OpenAi,
                    "none" => LlmProvider::None,
                    other => {
                        return Err(invalid(
                            "llm_provider",
                            format!("must be `openai` or `none`, not `{other}`"),
                        ));
                    }
                }
            }
            "openai_api_key" => s.openai_api_key = opt(&value)?,
            "openai_model" => s.openai_model = text(&value)?,
            "openai_base_url" => s.openai_base_url = text(&value)?,
            "analysis_workers" => {
                s.analysis_workers = value.extract()?;
                if s.analysis_workers == 0 {
                    return Err(invalid("analysis_workers", "must be at least 1"));
                }
            }
            "addr" => s.addr = text(&value)?,
            "web_dir" => s.web_dir = value.str()?.to_cow()?.into_owned().into(),
            other => {
                return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                    "unexpected setting `{other}`; known: database_url, dev, encryption_key, \
                     jwt_secret_key, jwt_expire_hours, admin_email, admin_password, llm_provider, \
                     openai_api_key, openai_model, openai_base_url, analysis_workers, addr, web_dir"
                )));
            }
        }
    }
    let dev_file = Path::new(DEV_SECRETS);
    if s.encryption_key.is_none() && (s.dev || dev_file.exists()) {
        s.dev = true;
        oncall_core::secrets::resolve_secrets(&mut s, dev_file).map_err(to_py)?;
    }
    Ok(s)
}

fn page(page: u32, page_size: u32) -> PyResult<PageRequest> {
    PageRequest::new(page, page_size).map_err(to_py)
}

fn parse<T: std::str::FromStr<Err = Error>>(text: Option<String>) -> PyResult<Option<T>> {
    text.map(|t| t.parse()).transpose().map_err(to_py)
}

fn time(
    field: &str,
    obj: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<chrono::DateTime<chrono::Utc>>> {
    obj.filter(|o| !o.is_none())
        .map(|o| convert::time(field, o))
        .transpose()
}

/// A data source named by id or by name.
async fn find_datasource(
    engine: &oncall_core::OnCall,
    me: &oncall_core::users::User,
    key: &str,
) -> PyResult<uuid::Uuid> {
    if let Ok(id) = key.trim().parse::<uuid::Uuid>() {
        return Ok(id);
    }
    let all = engine
        .list_datasources(me, page(1, PAGE_ALL)?)
        .await
        .map_err(to_py)?;
    all.items
        .into_iter()
        .find(|d| d.name == key)
        .map(|d| d.id)
        .ok_or_else(|| to_py(Error::not_found("data source", key)))
}

/// What a method without a result returns: always `None`, which Python shows as
/// `None` (a `()` would become an empty tuple).
type Nothing = Option<()>;

/// The engine calls, one per Python method, on owned input.
mod ops {
    use super::*;

    pub async fn analyze(
        core: Shared,
        alert: Value,
        options: AnalysisOptions,
        wait: bool,
        timeout: Duration,
    ) -> PyResult<Analysis> {
        let engine = core.engine().await?;
        let me = engine.local_admin();
        if !wait {
            core.ensure_workers();
        }
        let accepted = engine
            .submit_analysis(&me, alert, options)
            .await
            .map_err(to_py)?;
        if !wait {
            return Analysis::new(&oncall_core::AnalysisView::from(accepted));
        }
        let done = engine
            .run_until_done(accepted.id, timeout)
            .await
            .map_err(to_py)?;
        Analysis::new(&oncall_core::AnalysisView::from(done))
    }

    pub async fn get_analysis(core: Shared, id: uuid::Uuid) -> PyResult<Analysis> {
        let engine = core.engine().await?;
        let a = engine
            .analysis(&engine.local_admin(), id)
            .await
            .map_err(to_py)?;
        Analysis::new(&a)
    }

    pub async fn list_analyses(
        core: Shared,
        filter: AnalysisFilter,
        page: PageRequest,
    ) -> PyResult<Vec<Analysis>> {
        let engine = core.engine().await?;
        let found = engine
            .list_analyses(&engine.local_admin(), &filter, page)
            .await
            .map_err(to_py)?;
        found.items.iter().map(Analysis::new).collect()
    }

    pub async fn add_datasource(core: Shared, input: DataSourceInput) -> PyResult<DataSource> {
        let engine = core.engine().await?;
        let d = engine
            .create_datasource(&engine.local_admin(), input)
            .await
            .map_err(to_py)?;
        DataSource::new(&d)
    }

    pub async fn list_datasources(core: Shared) -> PyResult<Vec<DataSource>> {
        let engine = core.engine().await?;
        let me = engine.local_admin();
        let all = oncall_core::store::all_pages(|p| engine.list_datasources(&me, p))
            .await
            .map_err(to_py)?;
        all.iter().map(DataSource::new).collect()
    }

    pub async fn test_datasource(core: Shared, key: String) -> PyResult<ConnectionTest> {
        let engine = core.engine().await?;
        let me = engine.local_admin();
        let id = find_datasource(&engine, &me, &key).await?;
        let t = engine.test_datasource(&me, id).await.map_err(to_py)?;
        ConnectionTest::new(&t)
    }

    pub async fn remove_datasource(core: Shared, key: String) -> PyResult<Nothing> {
        let engine = core.engine().await?;
        let me = engine.local_admin();
        let id = find_datasource(&engine, &me, &key).await?;
        engine.delete_datasource(&me, id).await.map_err(to_py)?;
        Ok(None)
    }

    pub async fn create_ticket(core: Shared, input: TicketInput) -> PyResult<Ticket> {
        let engine = core.engine().await?;
        let t = engine
            .create_ticket(&engine.local_admin(), input)
            .await
            .map_err(to_py)?;
        Ticket::detailed(t)
    }

    pub async fn list_tickets(
        core: Shared,
        filter: TicketFilter,
        page: PageRequest,
    ) -> PyResult<Vec<Ticket>> {
        let engine = core.engine().await?;
        let found = engine
            .list_tickets(&engine.local_admin(), &filter, page)
            .await
            .map_err(to_py)?;
        found.items.into_iter().map(Ticket::listed).collect()
    }

    pub async fn get_ticket(core: Shared, no: String) -> PyResult<Ticket> {
        let engine = core.engine().await?;
        let t = engine
            .ticket(&engine.local_admin(), no.trim())
            .await
            .map_err(to_py)?;
        Ticket::detailed(t)
    }

    pub async fn update_ticket(core: Shared, no: String, patch: TicketPatch) -> PyResult<Ticket> {
        let engine = core.engine().await?;
        let t = engine
            .update_ticket(&engine.local_admin(), no.trim(), patch)
            .await
            .map_err(to_py)?;
        Ticket::detailed(t)
    }

    pub async fn accuracy_stats(
        core: Shared,
        since: Option<chrono::DateTime<chrono::Utc>>,
        until: Option<chrono::DateTime<chrono::Utc>>,
    ) -> PyResult<AccuracyReport> {
        let engine = core.engine().await?;
        let r = engine
            .accuracy_stats(&engine.local_admin(), since, until)
            .await
            .map_err(to_py)?;
        AccuracyReport::new(&r)
    }

    pub async fn add_user(core: Shared, new: NewUser) -> PyResult<User> {
        let engine = core.engine().await?;
        let u = engine
            .create_user(&engine.local_admin(), new)
            .await
            .map_err(to_py)?;
        User::new(&u)
    }

    pub async fn list_users(core: Shared) -> PyResult<Vec<User>> {
        let engine = core.engine().await?;
        let me = engine.local_admin();
        let all = oncall_core::store::all_pages(|p| engine.list_users(&me, p))
            .await
            .map_err(to_py)?;
        all.iter().map(User::new).collect()
    }

    pub async fn open(core: Shared) -> PyResult<()> {
        core.engine().await.map(drop)
    }

    pub async fn close(core: Shared) -> PyResult<Nothing> {
        core.close().await;
        Ok(None)
    }
}

/// Both classes: `$wait` turns an engine future into the method's return value.
macro_rules! engine_class {
    ($(#[$doc:meta])* $class:ident, $wait:ident $(, extra: { $($extra:item)* })?) => {
        $(#[$doc])*
        #[pyclass(frozen, module = "oncall")]
        pub struct $class {
            core: Shared,
        }

        impl std::fmt::Debug for $class {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($class))
                    .field("settings", &self.core.settings)
                    .finish()
            }
        }

        #[pymethods]
        impl $class {
            /// Opens the engine on `database_url` (default: `DATABASE_URL` from the
            /// environment or `./.env`, else `sqlite://./data/oncall.db`). Other
            /// settings as keyword arguments named like the `Settings` fields:
            /// `encryption_key`, `dev`, `admin_email`, `admin_password`,
            /// `llm_provider`, `openai_api_key`, `openai_model`, `openai_base_url`,
            /// `analysis_workers`, `jwt_secret_key`, `jwt_expire_hours`. The
            /// database is opened (and migrated) here, with the GIL released.
            #[new]
            #[pyo3(signature = (database_url=None, **settings))]
            fn new(
                py: Python<'_>,
                database_url: Option<String>,
                settings: Option<&Bound<'_, PyDict>>,
            ) -> PyResult<Self> {
                let core = Arc::new(Core {
                    settings: self::settings(database_url, settings)?,
                    opened: Mutex::new(None),
                });
                blocking(py, ops::open(core.clone()))?;
                Ok($class { core })
            }

            fn __repr__(&self) -> String {
                format!(
                    "{}(database_url={:?})",
                    stringify!($class),
                    redact_url_password(&self.core.settings.database_url)
                )
            }

            /// The database URL, its password masked.
            #[getter]
            fn database_url(&self) -> String {
                redact_url_password(&self.core.settings.database_url)
            }

            /// Analyses an alert: its text, or the Alertmanager/Grafana webhook JSON
            /// (a dict, or a str holding JSON). With `wait`, runs it in this process
            /// and returns the finished analysis (`completed` or `failed`); without,
            /// returns it `pending` and runs it in background workers of this
            /// process (see `get_analysis`).
            #[pyo3(signature = (alert, wait=true, llm=None, *, language=None, baseline_minutes=None, incident_minutes=None, timeout=180.0))]
            #[allow(clippy::too_many_arguments)]
            fn analyze(
                &self,
                py: Python<'_>,
                alert: &Bound<'_, PyAny>,
                wait: bool,
                llm: Option<bool>,
                language: Option<String>,
                baseline_minutes: Option<u32>,
                incident_minutes: Option<u32>,
                timeout: f64,
            ) -> PyResult<Py<PyAny>> {
                let alert = convert::alert(alert)?;
                let options = AnalysisOptions {
                    llm,
                    language,
                    baseline_minutes,
                    incident_minutes,
                    ..AnalysisOptions::default()
                };
                let timeout = Duration::try_from_secs_f64(timeout)
                    .map_err(|_| invalid("timeout", "must be a positive number of seconds"))?;
                $wait(py, ops::analyze(self.core.clone(), alert, options, wait, timeout))
            }

            /// One analysis by id (`str` or `uuid.UUID`).
            fn get_analysis(&self, py: Python<'_>, id: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
                let id = convert::id("id", id)?;
                $wait(py, ops::get_analysis(self.core.clone(), id))
            }

            /// Analyses, newest first: `status` (`pending` … `failed`), `query` (text in
            /// the title or alert), `since`/`until` (datetime or ISO 8601), one page.
            #[pyo3(signature = (*, status=None, query=None, since=None, until=None, page=1, page_size=20))]
            #[allow(clippy::too_many_arguments)]
            fn list_analyses(
                &self,
                py: Python<'_>,
                status: Option<String>,
                query: Option<String>,
                since: Option<&Bound<'_, PyAny>>,
                until: Option<&Bound<'_, PyAny>>,
                page: u32,
                page_size: u32,
            ) -> PyResult<Py<PyAny>> {
                let filter = AnalysisFilter {
                    status: parse(status)?,
                    text: query,
                    since: time("since", since)?,
                    until: time("until", until)?,
                };
                let page = self::page(page, page_size)?;
                $wait(py, ops::list_analyses(self.core.clone(), filter, page))
            }

            /// Adds a data source: `type` is `prometheus`, `loki` or `elk`. Basic auth
            /// with `username` + `password`, bearer with `token` (stored encrypted:
            /// needs `encryption_key` or `dev`). `index` (elk) and `labels` (loki) go
            /// into `config`.
            #[pyo3(signature = (name, r#type, url, *, username=None, password=None, token=None, index=None, labels=None, config=None, enabled=true, timeout_ms=None))]
            #[allow(clippy::too_many_arguments)]
            fn add_datasource(
                &self,
                py: Python<'_>,
                name: String,
                r#type: String,
                url: String,
                username: Option<String>,
                password: Option<String>,
                token: Option<String>,
                index: Option<String>,
                labels: Option<String>,
                config: Option<&Bound<'_, PyAny>>,
                enabled: bool,
                timeout_ms: Option<i64>,
            ) -> PyResult<Py<PyAny>> {
                let kind: DataSourceKind = r#type.parse().map_err(to_py)?;
                let config = config.filter(|c| !c.is_none()).map(convert::py_to_json).transpose()?;
                let mut input = DataSourceInput::new(name, kind, url)
                    .with_credentials(username, password, token)
                    .with_config(config, index, labels);
                input.enabled = Some(enabled);
                input.timeout_ms = timeout_ms;
                $wait(py, ops::add_datasource(self.core.clone(), input))
            }

            /// Every data source, by name.
            fn list_datasources(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
                $wait(py, ops::list_datasources(self.core.clone()))
            }

            /// Tests a data source (by id or name): reachable, authenticated, version,
            /// latency, or why not. An unreachable server is an answer (`ok` False),
            /// not an exception.
            fn test_datasource(&self, py: Python<'_>, id: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
                let key = id.str()?.to_cow()?.into_owned();
                $wait(py, ops::test_datasource(self.core.clone(), key))
            }

            /// Removes a data source (by id or name).
            fn remove_datasource(&self, py: Python<'_>, id: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
                let key = id.str()?.to_cow()?.into_owned();
                $wait(py, ops::remove_datasource(self.core.clone(), key))
            }

            /// Creates a ticket. With `analysis_id`, what is left out (title, root
            /// cause, severity) comes from that analysis' result. `severity`: P0..P3
            /// (default P2); `assignee`: an active user's email.
            #[pyo3(signature = (title=None, severity=None, root_cause=None, analysis_id=None, *, assignee=None, description=None))]
            #[allow(clippy::too_many_arguments)]
            fn create_ticket(
                &self,
                py: Python<'_>,
                title: Option<String>,
                severity: Option<String>,
                root_cause: Option<String>,
                analysis_id: Option<&Bound<'_, PyAny>>,
                assignee: Option<String>,
                description: Option<String>,
            ) -> PyResult<Py<PyAny>> {
                let input = TicketInput {
                    title,
                    root_cause,
                    severity: parse::<Severity>(severity)?,
                    assignee,
                    description,
                    analysis_id: analysis_id
                        .filter(|a| !a.is_none())
                        .map(|a| convert::id("analysis_id", a))
                        .transpose()?,
                };
                $wait(py, ops::create_ticket(self.core.clone(), input))
            }

            /// Tickets, newest first (without history): by `status`, `severity`,
            /// `assignee`, `query` (text in number, title or root cause),
            /// `since`/`until`, one page.
            #[pyo3(signature = (*, status=None, severity=None, assignee=None, query=None, since=None, until=None, page=1, page_size=20))]
            #[allow(clippy::too_many_arguments)]
            fn list_tickets(
                &self,
                py: Python<'_>,
                status: Option<String>,
                severity: Option<String>,
                assignee: Option<String>,
                query: Option<String>,
                since: Option<&Bound<'_, PyAny>>,
                until: Option<&Bound<'_, PyAny>>,
                page: u32,
                page_size: u32,
            ) -> PyResult<Py<PyAny>> {
                let filter = TicketFilter {
                    status: parse::<TicketStatus>(status)?,
                    severity: parse::<Severity>(severity)?,
                    assignee,
                    text: query,
                    since: time("since", since)?,
                    until: time("until", until)?,
                };
                let page = self::page(page, page_size)?;
                $wait(py, ops::list_tickets(self.core.clone(), filter, page))
            }

            /// One ticket with its history.
            fn get_ticket(&self, py: Python<'_>, no: String) -> PyResult<Py<PyAny>> {
                $wait(py, ops::get_ticket(self.core.clone(), no))
            }

            /// Moves a ticket: open → processing → resolved → closed, resolved →
            /// processing, or open → closed with a `reason` (false alarm). A move
            /// the state machine forbids raises `Conflict`; with `version`, so does
            /// a ticket changed since that version was read. Resolving can confirm
            /// the root cause (`confirmed_root_cause`: the component's name) and say
            /// what fixed it (`resolution`); reopening clears both (the history
            /// keeps them).
            #[pyo3(signature = (no, status, reason=None, *, confirmed_root_cause=None, resolution=None, version=None))]
            #[allow(clippy::too_many_arguments)]
            fn transition_ticket(
                &self,
                py: Python<'_>,
                no: String,
                status: String,
                reason: Option<String>,
                confirmed_root_cause: Option<String>,
                resolution: Option<String>,
                version: Option<i64>,
            ) -> PyResult<Py<PyAny>> {
                let patch = TicketPatch {
                    status: parse::<TicketStatus>(Some(status))?,
                    reason,
                    confirmed_root_cause: confirmed_root_cause.map(Some),
                    resolution: resolution.map(Some),
                    version,
                    ..Default::default()
                };
                $wait(py, ops::update_ticket(self.core.clone(), no, patch))
            }

            /// Edits a ticket's fields; those left None stay. `assignee=""` unassigns,
            /// `description=""`, `confirmed_root_cause=""` and `resolution=""`
            /// clear. `version`: as in `transition_ticket`.
            #[pyo3(signature = (no, *, title=None, root_cause=None, severity=None, assignee=None, description=None, confirmed_root_cause=None, resolution=None, version=None))]
            #[allow(clippy::too_many_arguments)]
            fn update_ticket(
                &self,
                py: Python<'_>,
                no: String,
                title: Option<String>,
                root_cause: Option<String>,
                severity: Option<String>,
                assignee: Option<String>,
                description: Option<String>,
                confirmed_root_cause: Option<String>,
                resolution: Option<String>,
                version: Option<i64>,
            ) -> PyResult<Py<PyAny>> {
                let patch = TicketPatch {
                    title,
                    root_cause,
                    severity: parse::<Severity>(severity)?,
                    assignee: assignee.map(Some),
                    description: description.map(Some),
                    confirmed_root_cause: confirmed_root_cause.map(Some),
                    resolution: resolution.map(Some),
                    version,
                    ..Default::default()
                };
                $wait(py, ops::update_ticket(self.core.clone(), no, patch))
            }

            /// The analyzer's accuracy on resolved tickets opened in `[since,
            /// until)`: how often the confirmed root cause was the analysis' #1
            /// suspect or in its top 3, by month and alert name, with the misses.
            /// Tickets without a confirmed root cause count as `unconfirmed`.
            #[pyo3(signature = (*, since=None, until=None))]
            fn accuracy_stats(
                &self,
                py: Python<'_>,
                since: Option<&Bound<'_, PyAny>>,
                until: Option<&Bound<'_, PyAny>>,
            ) -> PyResult<Py<PyAny>> {
                let since = time("since", since)?;
                let until = time("until", until)?;
                $wait(py, ops::accuracy_stats(self.core.clone(), since, until))
            }

            /// Creates an account: `role` is `admin`, `engineer` or `viewer`.
            #[pyo3(signature = (email, password, role="engineer", *, name=None))]
            fn add_user(
                &self,
                py: Python<'_>,
                email: String,
                password: String,
                role: &str,
                name: Option<String>,
            ) -> PyResult<Py<PyAny>> {
                let new = NewUser {
                    email,
                    name,
                    password,
                    role: role.parse::<Role>().map_err(to_py)?,
                };
                $wait(py, ops::add_user(self.core.clone(), new))
            }

            /// Every account.
            fn list_users(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
                $wait(py, ops::list_users(self.core.clone()))
            }

            /// Stops background analyses (up to 5 s) and closes the database; a
            /// later call opens it again.
            fn close(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
                $wait(py, ops::close(self.core.clone()))
            }

            $($($extra)*)?
        }
    };
}

engine_class! {
    /// The oncall-assistant engine in this process. Every method blocks until the
    /// engine answers, with the GIL released; Ctrl-C interrupts the wait. Safe to
    /// share between threads, and usable after `os.fork()` (the child opens the
    /// database again). A context manager: leaving the block calls `close()`.
    OnCall, blocking, extra: {
        fn __enter__(slf: Py<Self>) -> Py<Self> {
            slf
        }

        #[pyo3(signature = (*_exc))]
        fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
            blocking(py, ops::close(self.core.clone()))?;
            Ok(false)
        }
    }
}

engine_class! {
    /// The engine for asyncio: the same methods as `OnCall`, each returning an
    /// awaitable (cancelling it cancels the engine call). The constructor opens
    /// the database before returning.
    AsyncOnCall, awaitable
}
