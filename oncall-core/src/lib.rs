//! # oncall-core
//!
//! The oncall-assistant engine as a library. An on-call engineer's alert goes in;
//! the engine parses it, pulls logs (Elasticsearch/ELK, Grafana Loki) and metrics
//! (Prometheus) around its time, reduces them to evidence, names the probable root
//! cause, and keeps analyses and tickets in SQLite (embedded default) or MySQL.
//!
//! Everything the REST server, the `oncall` CLI and the Python package do is a call
//! into [`OnCall`]; a Rust program can embed this crate alone and do the same,
//! without HTTP. Roles are enforced here, not in the front ends.
//!
//! ```
//! use oncall_core::{OnCall, Settings, users::{NewUser, Role}};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> oncall_core::Result<()> {
//! let dir = tempfile::tempdir().expect("temp dir");
//! let url = format!("sqlite://{}", dir.path().join("oncall.db").display());
//! let oncall = OnCall::open(Settings::with_database(url)).await?;
//!
//! // An empty database gets the first admin account.
//! let admin = oncall.authenticate("admin@oncall.example.com", "admin123").await?;
//! assert!(oncall.default_password_in_use().await?);
//!
//! // Admins manage accounts; the engine checks the role.
//! let new = NewUser {
//!     email: "li.lei@example.com".into(),
//!     name: Some("李雷".into()),
//!     password: "s3cret-pass".into(),
//!     role: Role::Engineer,
//! };
//! let engineer = oncall.create_user(&admin, new).await?;
//! assert_eq!(engineer.role, Role::Engineer);
//! # Ok(())
//! # }
//! ```

pub mod alert;
pub mod analysis;
pub mod config;
pub mod connectors;
mod engine;
pub mod error;
pub mod evidence;
pub mod llm;
pub mod memory;
pub mod notify;
pub mod secrets;
pub mod store;
pub mod synthetic;
pub mod tickets;
pub mod users;
pub mod webhooks;

pub use config::Settings;
pub use engine::*;
pub use error::{Error, ErrorCode, Result};
