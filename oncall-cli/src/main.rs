//! `oncall`: the oncall-assistant engine from a terminal. Every command is a thin
//! translation of argv into one call on [`oncall_core::OnCall`].

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use oncall_core::store::PageRequest;
use oncall_core::users::{NewUser, Role, User};
use oncall_core::{Error, ErrorCode, OnCall, Settings, UserPatch};

/// Exit codes by error kind.
const AFTER_HELP: &str = "\
Exit codes: 0 ok, 2 usage or invalid input, 3 not found, 4 conflict,
5 unauthorized or forbidden, 6 database or data source unavailable, 1 other errors.
Every option can also be set in the environment or in ./.env (see .env.example).";

#[derive(Debug, Parser)]
#[command(name = "oncall", version, about = "AI-assisted alert analysis for on-call engineers")]
#[command(after_help = AFTER_HELP)]
struct Cli {
    /// Database URL (sqlite://path or mysql://user:pass@host/db).
    #[arg(long, global = true, env = "DATABASE_URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create or upgrade the database schema (also done on every start).
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// List accounts.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Create an account.
    Add {
        /// Login email.
        email: String,
        /// Role: admin, engineer or viewer.
        #[arg(long, default_value = "engineer")]
        role: String,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// Password (prefer ONCALL_NEW_PASSWORD so it stays out of the shell history).
        #[arg(long, env = "ONCALL_NEW_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Set an account's password.
    Passwd {
        /// Login email.
        email: String,
        /// The new password.
        #[arg(long, env = "ONCALL_NEW_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Change an account's role.
    SetRole {
        /// Login email.
        email: String,
        /// admin, engineer or viewer.
        role: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,oncall_core=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(exit_code(e.code()))
        }
    }
}

fn exit_code(code: ErrorCode) -> u8 {
    match code {
        ErrorCode::Invalid | ErrorCode::TooLarge => 2,
        ErrorCode::NotFound => 3,
        ErrorCode::Conflict => 4,
        ErrorCode::Unauthorized | ErrorCode::Forbidden => 5,
        ErrorCode::Unavailable | ErrorCode::RateLimited => 6,
        ErrorCode::Internal => 1,
    }
}

async fn open(database_url: Option<String>) -> Result<OnCall, Error> {
    let mut settings = Settings::load()?;
    if let Some(url) = database_url {
        settings.database_url = url;
    }
    OnCall::open(settings).await
}

async fn run(cli: Cli) -> Result<(), Error> {
    let oncall = open(cli.database_url).await?;
    let me = oncall.local_admin();
    match cli.command {
        Command::Migrate => {
            println!("database schema is up to date ({})", oncall.database_dialect());
        }
        Command::User(cmd) => user_command(&oncall, &me, cmd).await?,
    }
    oncall.close().await;
    Ok(())
}

async fn user_command(
    oncall: &OnCall,
    me: &User,
    cmd: UserCommand,
) -> Result<(), Error> {
    match cmd {
        UserCommand::List { json } => {
            let page = oncall.list_users(me, PageRequest::new(1, 200)?).await?;
            if json {
                let out = serde_json::to_string_pretty(&page.items)
                    .map_err(|e| Error::Internal(e.to_string()))?;
                println!("{out}");
            } else {
                println!("{:<36}  {:<9}  {:<8}  NAME", "EMAIL", "ROLE", "STATE");
                for u in page.items {
                    let state = if u.disabled { "disabled" } else { "active" };
                    println!("{:<36}  {:<9}  {:<8}  {}", u.email, u.role, state, u.name);
                }
            }
        }
        UserCommand::Add { email, role, name, password } => {
            let role: Role = role.parse()?;
            let user = oncall.create_user(me, NewUser { email, name, password, role }).await?;
            println!("created {} ({})", user.email, user.role);
        }
        UserCommand::Passwd { email, password } => {
            let id = find(oncall, me, &email).await?;
            let patch = UserPatch { password: Some(password), ..Default::default() };
            oncall.update_user(me, id, patch).await?;
            println!("password of {email} changed");
        }
        UserCommand::SetRole { email, role } => {
            let id = find(oncall, me, &email).await?;
            let patch = UserPatch { role: Some(role.parse()?), ..Default::default() };
            let user = oncall.update_user(me, id, patch).await?;
            println!("{} is now {}", user.email, user.role);
        }
    }
    Ok(())
}

async fn find(oncall: &OnCall, me: &User, email: &str) -> Result<uuid::Uuid, Error> {
    Ok(oncall.user_by_email(me, email).await?.id)
}
