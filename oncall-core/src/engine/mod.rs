//! [`OnCall`]: the facade every front end holds. Each method checks the caller's
//! role here, in core, so the server, the CLI and the Python bindings enforce the
//! same rules.

use std::sync::Arc;

use chrono::Utc;
use uuid::Uuid;

use crate::config::{DEFAULT_ADMIN_PASSWORD, Settings};
use crate::error::{Error, Result};
use crate::secrets::SecretBox;
use crate::store::{self, Page, PageRequest, Store};
use crate::users::{self, NewUser, Role, User};

mod analyses;
pub(crate) mod claims;
mod datasources;
mod identities;
pub(crate) mod memory;
mod notifications;
mod stream_tickets;
mod tickets;
pub(crate) mod understood;
mod webhooks;

pub use analyses::{
    AlertQueryView, AlertSeriesView, AnalysisOptions, AnalysisTiming, AnalysisView, CoverageView,
    EdgeShiftView, ErrorOriginView, EvidenceKindName, EvidenceView, EvidenceWindow, GraphEdgeView,
    GraphEdgeWhat, GraphSuspectView, LatencySuspectView, LogLevelName, LogTemplateView,
    MAX_ALERT_BYTES, MAX_SCOPE_NAMES, MetricPoint, MetricShiftView, PathDivergenceView,
    PathExampleView, ResourceFindingView, ResourceName, ServiceGraphView, ShiftDirection,
    SubjectView, SuspectKind, SuspectView, TemplateServiceCount, alert_title,
};
pub use claims::Background;
pub use datasources::{
    AuthInput, AuthView, DEFAULT_TIMEOUT_MS, DataSourceInput, DataSourceTestView, DataSourceView,
    MAX_URL_LEN, validate_url,
};
pub use identities::IDENTITY_TTL;
pub use notifications::{ChannelInput, ChannelTest, ChannelView, Notifier};
pub use stream_tickets::{STREAM_TICKET_TTL, StreamTicket};
pub use tickets::{TicketDetail, TicketInput, TicketPatch};
pub use understood::{
    DISCOVERY_TIMEOUT, MAX_SUGGESTIONS, UnderstoodAlert, apply_corrections, notices,
    result_language, scope_found,
};
pub use webhooks::{IntakeMetrics, WebhookInput, WebhookReceipt, WebhookView, WebhookWithToken};

/// The oncall-assistant engine: open one per process and share it (it is cheap to
/// clone; clones share the database pool).
#[derive(Debug, Clone)]
pub struct OnCall {
    pub(crate) settings: Arc<Settings>,
    pub(crate) store: Arc<dyn Store>,
    secrets: Option<SecretBox>,
    /// Wakes idle workers of this process when an analysis is submitted here.
    pub(crate) wake: Arc<tokio::sync::Notify>,
    /// The LLM agent's client, when an LLM is configured.
    pub(crate) llm: Option<Arc<crate::llm::LlmClient>>,
    /// Accounts behind verified tokens, for [`OnCall::identify`].
    identities: Arc<identities::IdentityCache>,
    /// Wakes the idle notification sender of this process when something is enqueued.
    pub(crate) outbox_wake: Arc<tokio::sync::Notify>,
    /// Webhook intake and notification counters of this process.
    pub(crate) intake: Arc<webhooks::IntakeCounters>,
    /// The metric sources' names, for free-text alerts (cached per source).
    pub(crate) names: Arc<crate::alert::names::NameLookups>,
    /// The threads every password hash and check runs on (bounded memory).
    hashes: users::HashPool,
    /// Unredeemed event-stream tickets of this process.
    stream_tickets: Arc<stream_tickets::StreamTickets>,
}

/// Why [`OnCall::login`] refused, and how long to wait before trying again when
/// waiting helps (a front end sends it as `Retry-After`).
#[derive(Debug)]
pub struct LoginRefused {
    /// What to tell the client: [`Error::Unauthorized`] for wrong credentials
    /// (never saying which part was wrong, nor that the account is disabled),
    /// [`Error::RateLimited`] for too many attempts or a busy server.
    pub error: Error,
    /// Whole seconds to wait, for [`Error::RateLimited`].
    pub retry_after: Option<u64>,
}

impl From<Error> for LoginRefused {
    fn from(error: Error) -> Self {
        let retry_after = (error.code() == crate::ErrorCode::RateLimited).then_some(1);
        LoginRefused { error, retry_after }
    }
}

/// Changes an admin may make to an account; unset fields stay as they are.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(deny_unknown_fields)
)]
pub struct UserPatch {
    /// New display name.
    pub name: Option<String>,
    /// New role.
    pub role: Option<Role>,
    /// Disable or re-enable the account.
    pub disabled: Option<bool>,
    /// Reset the password to this.
    pub password: Option<String>,
}

impl OnCall {
    /// Connects to `settings.database_url`, applies the migrations and, in an empty
    /// database, creates the first admin account.
    pub async fn open(settings: Settings) -> Result<Self> {
        let secrets = settings
            .encryption_key
            .as_deref()
            .map(SecretBox::from_base64)
            .transpose()?;
        let llm = crate::llm::LlmClient::from_settings(&settings)?.map(Arc::new);
        crate::connectors::outbound::install(settings.outbound.clone());
        let store = store::open(&settings.database_url).await?;
        let engine = OnCall {
            settings: Arc::new(settings),
            store,
            secrets,
            wake: Arc::new(tokio::sync::Notify::new()),
            llm,
            identities: Arc::default(),
            outbox_wake: Arc::new(tokio::sync::Notify::new()),
            intake: Arc::default(),
            names: Arc::default(),
            hashes: users::HashPool::for_this_machine()?,
            stream_tickets: Arc::default(),
        };
        engine.ensure_first_admin().await?;
        Ok(engine)
    }

    /// The settings the engine was opened with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The configured LLM as `(model, endpoint)`, or `None` for statistical only.
    pub fn llm_model(&self) -> Option<(&str, &str)> {
        self.llm.as_deref().map(|c| (c.model(), c.base_url()))
    }

    /// `sqlite` or `mysql`.
    pub fn database_dialect(&self) -> &'static str {
        self.store.dialect()
    }

    /// Answers when the database can be reached (for readiness checks).
    pub async fn ping(&self) -> Result<()> {
        self.store.ping().await
    }

    /// Closes the database pool; the engine is unusable afterwards.
    pub async fn close(&self) {
        self.store.close().await;
    }

    /// An admin identity for trusted in-process callers (the CLI and scripts that
    /// already hold the database credentials). Never hand it to remote callers.
    pub fn local_admin(&self) -> User {
        let now = Utc::now();
        User {
            id: Uuid::nil(),
            email: "local-admin@localhost".into(),
            name: "local admin".into(),
            role: Role::Admin,
            disabled: false,
            password_is_default: false,
            created_at: now,
            updated_at: now,
            token_version: 0,
        }
    }

    async fn ensure_first_admin(&self) -> Result<()> {
        if self.store.count_users().await? == 0 {
            let email = users::normalize_email(&self.settings.admin_email)?;
            let password = &self.settings.admin_password;
            let is_default = password == DEFAULT_ADMIN_PASSWORD;
            if is_default && self.settings.admin_password_required {
                return Err(Error::Config(format!(
                    "the database has no accounts yet: set ONCALL_ADMIN_PASSWORD to the first \
                     admin's ({email}) password; outside development mode the built-in default \
                     password is refused"
                )));
            }
            let now = Utc::now();
            let admin = User {
                id: Uuid::now_v7(),
                name: email.split('@').next().unwrap_or("admin").to_owned(),
                email,
                role: Role::Admin,
                disabled: false,
                password_is_default: is_default,
                created_at: now,
                updated_at: now,
                token_version: 0,
            };
            let hash = self.hash(password.clone()).await?;
            match self.store.insert_user(&admin, &hash).await {
                Ok(()) => tracing::info!(email = %admin.email, "created the first admin account"),
                // Another process sharing the database created it first.
                Err(Error::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        if self.default_password_in_use().await? {
            tracing::warn!(
                email = %self.settings.admin_email,
                "the admin account still has the default password; change it now"
            );
        }
        Ok(())
    }

    /// True while the first admin account still has the built-in default password.
    pub async fn default_password_in_use(&self) -> Result<bool> {
        let email = users::normalize_email(&self.settings.admin_email)?;
        Ok(self
            .store
            .user_by_email(&email)
            .await?
            .is_some_and(|(u, _)| u.password_is_default))
    }

    /// The enabled account with this email and password, or [`Error::Unauthorized`]
    /// (the same error whether the email or the password is wrong, or the account
    /// is disabled). The check runs on the engine's hashing threads: beyond what
    /// they can take this is [`Error::RateLimited`]. An unknown email costs the
    /// same hash as a known one. Not throttled: front ends facing the network use
    /// [`OnCall::login`].
    pub async fn authenticate(&self, email: &str, password: &str) -> Result<User> {
        let wrong = || Error::Unauthorized("wrong email or password".into());
        let Ok(email) = users::normalize_email(email) else {
            return Err(wrong());
        };
        if password.len() > users::MAX_PASSWORD_LEN {
            return Err(wrong());
        }
        let found = self.store.user_by_email(&email).await?;
        let hash = found
            .as_ref()
            .map_or(users::dummy_hash(), |(_, h)| h.as_str())
            .to_owned();
        let password = password.to_owned();
        let matches = self
            .hashes
            .run(move || users::verify_password(&password, &hash))
            .await?;
        match found {
            Some((user, _)) if matches && !user.disabled => Ok(user),
            _ => Err(wrong()),
        }
    }

    /// [`OnCall::authenticate`] behind the login throttle (see
    /// [`users::throttle`]): the attempt is charged to the (account, `client`)
    /// pair before the password is checked, atomically through the database, so
    /// parallel guesses are counted one by one; a success clears the pair.
    /// `client` is the caller's address as the front end determined it.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        client: &str,
    ) -> std::result::Result<User, LoginRefused> {
        let key = users::throttle::key(email, client);
        self.charge_login_attempt(&key).await?;
        let user = self.authenticate(email, password).await?;
        self.store.clear_login_throttle(&key).await?;
        Ok(user)
    }

    async fn charge_login_attempt(&self, key: &str) -> std::result::Result<(), LoginRefused> {
        use crate::store::ThrottleState;
        let refuse = |secs: u64| LoginRefused {
            error: Error::RateLimited(format!("too many login attempts; try again in {secs} s")),
            retry_after: Some(secs),
        };
        // Each round either charges the attempt or sees that a parallel attempt
        // changed the row first; a few rounds settle any race.
        for _ in 0..8 {
            let now = Utc::now();
            let seen = self.store.login_throttle(key).await?;
            if let Some(seen) = seen
                && seen.next_allowed_at > now
            {
                let wait = (seen.next_allowed_at - now).num_milliseconds();
                return Err(refuse(
                    u64::try_from((wait + 999) / 1000).unwrap_or(1).max(1),
                ));
            }
            let failures = seen.map_or(0, |s| s.failures) + 1;
            let delay = users::throttle::delay_after(failures);
            let next = ThrottleState {
                failures,
                next_allowed_at: now + chrono::Duration::from_std(delay).unwrap_or_default(),
            };
            if self
                .store
                .charge_login_attempt(key, seen, next, now)
                .await?
            {
                if seen.is_none() && fastrand::u8(..) == 0 {
                    let forget = chrono::Duration::from_std(users::throttle::FORGET_AFTER)
                        .unwrap_or_default();
                    if let Err(e) = self.store.prune_login_throttle(now - forget).await {
                        tracing::warn!(error = %e, "pruning the login throttle");
                    }
                }
                return Ok(());
            }
        }
        Err(refuse(1))
    }

    /// The enabled account with this id, for a front end that verified a token
    /// naming it and issued at `token_version` (the account's
    /// [`User::token_version`] when the token was issued);
    /// [`Error::Unauthorized`] when the account is gone or disabled, or its password
    /// changed since (every password change or reset revokes earlier tokens).
    ///
    /// Served from a short-lived cache: a change made through this engine
    /// ([`OnCall::update_user`], [`OnCall::change_password`]) is seen at once, one
    /// made by another process sharing the database within [`IDENTITY_TTL`].
    pub async fn identify(&self, id: Uuid, token_version: i64) -> Result<User> {
        let user = match self.identities.get(id) {
            Ok(user) => user,
            Err(generation) => match self.store.user(id).await {
                Ok(user) if !user.disabled => {
                    self.identities.put(generation, &user);
                    user
                }
                Ok(_) | Err(Error::NotFound { .. }) => {
                    return Err(Error::Unauthorized(
                        "the account is disabled or gone".into(),
                    ));
                }
                Err(e) => return Err(e),
            },
        };
        if user.token_version != token_version {
            return Err(Error::Unauthorized(
                "the password changed since this token was issued; log in again".into(),
            ));
        }
        Ok(user)
    }

    /// The account with this id. Anyone may read their own; admins any.
    pub async fn user(&self, actor: &User, id: Uuid) -> Result<User> {
        if actor.id != id {
            actor.require(Role::Admin)?;
        }
        self.store.user(id).await
    }

    /// The account with this email (admin).
    pub async fn user_by_email(&self, actor: &User, email: &str) -> Result<User> {
        actor.require(Role::Admin)?;
        let email = users::normalize_email(email)?;
        match self.store.user_by_email(&email).await? {
            Some((user, _)) => Ok(user),
            None => Err(Error::not_found("user", email)),
        }
    }

    /// All accounts (admin).
    pub async fn list_users(&self, actor: &User, page: PageRequest) -> Result<Page<User>> {
        actor.require(Role::Admin)?;
        self.store.list_users(page).await
    }

    /// Creates an account (admin). A taken email is [`Error::Conflict`].
    pub async fn create_user(&self, actor: &User, new: NewUser) -> Result<User> {
        actor.require(Role::Admin)?;
        let email = users::normalize_email(&new.email)?;
        users::check_new_password(&new.password)?;
        let name = clean_name(new.name.as_deref(), &email)?;
        let now = Utc::now();
        let user = User {
            id: Uuid::now_v7(),
            email,
            name,
            role: new.role,
            disabled: false,
            password_is_default: false,
            created_at: now,
            updated_at: now,
            token_version: 0,
        };
        let hash = self.hash(new.password).await?;
        self.store.insert_user(&user, &hash).await?;
        Ok(user)
    }

    /// Changes an account's name, role, enabled state or password (admin). An admin
    /// cannot demote or disable themselves, so there is always one admin left.
    pub async fn update_user(&self, actor: &User, id: Uuid, patch: UserPatch) -> Result<User> {
        actor.require(Role::Admin)?;
        let mut user = self.store.user(id).await?;
        if actor.id == id
            && (patch.role.is_some_and(|r| r != Role::Admin) || patch.disabled == Some(true))
        {
            return Err(Error::Conflict(
                "you cannot demote or disable your own account".into(),
            ));
        }
        if let Some(name) = patch.name.as_deref() {
            user.name = clean_name(Some(name), &user.email)?;
        }
        if let Some(role) = patch.role {
            user.role = role;
        }
        // Disabling revokes every token for good: re-enabling does not revive them.
        let revoke = patch.disabled == Some(true) && !user.disabled;
        if let Some(disabled) = patch.disabled {
            user.disabled = disabled;
        }
        let password = match patch.password {
            Some(password) => {
                users::check_new_password(&password)?;
                Some(self.hash(password).await?)
            }
            None => None,
        };
        user.updated_at = Utc::now();
        let mut saved = self.save_user(&mut user, password.as_deref()).await;
        if revoke && saved.is_ok() {
            saved = self.store.revoke_tokens(user.id).await;
            user.token_version += 1;
        }
        // Whatever was written, cached identities may be stale now.
        self.identities.invalidate();
        saved.map(|()| user)
    }

    async fn save_user(&self, user: &mut User, password_hash: Option<&str>) -> Result<()> {
        if let Some(hash) = password_hash {
            self.store.set_password_hash(user.id, hash, false).await?;
            user.password_is_default = false;
            user.token_version += 1;
        }
        self.store.update_user(user).await
    }

    /// Changes the caller's own password after checking the current one. Every
    /// access token issued before stops working; the account as it is now (with its
    /// new [`User::token_version`], to issue a token from) is returned.
    pub async fn change_password(&self, actor: &User, current: &str, new: &str) -> Result<User> {
        let user = self
            .authenticate(&actor.email, current)
            .await
            .map_err(|e| match e {
                Error::Unauthorized(_) => Error::invalid("current_password", "is not correct"),
                other => other,
            })?;
        users::check_new_password(new)?;
        if new == current {
            return Err(Error::invalid(
                "new_password",
                "must differ from the current one",
            ));
        }
        let hash = self.hash(new.to_owned()).await?;
        let saved = self.store.set_password_hash(user.id, &hash, false).await;
        self.identities.invalidate();
        saved?;
        self.store.user(user.id).await
    }
}

fn clean_name(name: Option<&str>, email: &str) -> Result<String> {
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    let name = name.unwrap_or_else(|| email.split('@').next().unwrap_or(email));
    if name.chars().count() > 100 {
        return Err(Error::invalid("name", "must be at most 100 characters"));
    }
    Ok(name.to_owned())
}

impl OnCall {
    /// argon2 takes tens of milliseconds of CPU and 19 MiB: keep it off the async
    /// workers, on the bounded hashing threads.
    async fn hash(&self, password: String) -> Result<String> {
        self.hashes
            .run(move || users::hash_password(&password))
            .await?
    }
}
