//! `oncall`: the oncall-assistant engine from a terminal. Every command is a thin
//! translation of argv into one call on [`oncall_core::OnCall`].

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use oncall_core::connectors::DataSourceKind;
use oncall_core::store::{AnalysisFilter, PageRequest, TicketFilter};
use oncall_core::tickets::{Severity, TicketStatus};
use oncall_core::users::{NewUser, Role, User};
use oncall_core::{
    AnalysisOptions, AnalysisView, AuthInput, DataSourceInput, Error, ErrorCode, OnCall, Settings,
    TicketInput, TicketPatch, UserPatch,
};
use serde::Serialize;

mod progress;
mod remote;
mod table;

use progress::Progress;
use table::{Column, Table};

/// Exit codes by error kind.
const AFTER_HELP: &str = "\
Exit codes: 0 ok, 2 usage, invalid input or a bad setting,
3 not found, 4 conflict (duplicate, stale --version, status change not allowed),
5 unauthorized or forbidden, 6 database, data source or server unavailable
(or an analysis that did not finish in time), 1 other errors.
Errors are one line on standard error: `error: ` and what went wrong.
Every option can also be set in the environment (its name is in [env: ...]) or in
./.env (see .env.example). Tables fit the terminal width (or COLUMNS).";

#[derive(Debug, Parser)]
#[command(
    name = "oncall",
    version,
    about = "AI-assisted alert analysis for on-call engineers"
)]
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
    /// Serve the REST API and the web UI (the same server as `oncall-server`).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "ONCALL_ADDR")]
        addr: Option<String>,
        /// Development mode: generate missing secrets into ./data/dev-secrets.json.
        /// (Also ONCALL_DEV=1.)
        #[arg(long)]
        dev: bool,
    },
    /// Print the OpenAPI document of the REST API.
    Openapi,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Create or upgrade the database schema (also done on every start).
    Migrate,
    /// Analyse an alert (in this process, or on a server with --server) and print
    /// the result. Progress goes to standard error: a spinner on a terminal, one
    /// line per stage otherwise.
    #[command(after_help = AFTER_HELP)]
    Analyze(Box<AnalyzeArgs>),
    /// Past analyses.
    #[command(subcommand)]
    Analysis(AnalysisCommand),
    /// Manage data sources.
    #[command(subcommand)]
    Datasource(DataSourceCommand),
    /// Work tickets.
    #[command(subcommand)]
    Ticket(TicketCommand),
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// The analyzer's accuracy on resolved tickets: how often the engineer's
    /// confirmed root cause was the analysis' #1 suspect or in its top 3, by month
    /// and by alert name, with the misses.
    Stats {
        /// Only tickets opened on or after this day (YYYY-MM-DD) or time (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        /// Only tickets opened before this day (YYYY-MM-DD) or time (RFC 3339).
        #[arg(long)]
        until: Option<String>,
        /// Print the whole report as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// What to analyse, how, and where.
#[derive(Debug, clap::Args)]
struct AnalyzeArgs {
    /// The alert text (or JSON); omit to use --file or standard input.
    text: Option<String>,
    /// Read the alert from a file (`-` for standard input).
    #[arg(long, short)]
    file: Option<PathBuf>,
    /// Print the whole analysis as JSON.
    #[arg(long)]
    json: bool,
    /// No progress on standard error.
    #[arg(long, short)]
    quiet: bool,
    /// Use the LLM agent (when one is configured).
    #[arg(long, overrides_with = "no_llm")]
    llm: bool,
    /// Statistical analysis only, even when an LLM is configured.
    #[arg(long)]
    no_llm: bool,
    /// Result language: zh or en (default: the alert's).
    #[arg(long, env = "ONCALL_LANG")]
    lang: Option<String>,
    /// Minutes of baseline before the incident window.
    #[arg(long, env = "ONCALL_BASELINE_MINUTES")]
    baseline_minutes: Option<u32>,
    /// Minutes after the alert start to look at.
    #[arg(long, env = "ONCALL_WINDOW_MINUTES")]
    window: Option<u32>,
    /// Give up after this many seconds (exit code 6).
    #[arg(long, env = "ONCALL_TIMEOUT", default_value_t = 180)]
    timeout: u64,
    /// Submit to this running server (e.g. http://oncall:8000) instead of
    /// analysing in this process.
    #[arg(long, env = "ONCALL_SERVER", help_heading = "Remote server")]
    server: Option<String>,
    /// Access token for --server (from the web UI or POST /api/auth/login).
    #[arg(
        long,
        env = "ONCALL_TOKEN",
        hide_env_values = true,
        help_heading = "Remote server"
    )]
    token: Option<String>,
    /// Log in to --server as this account when no token is given.
    #[arg(long, env = "ONCALL_EMAIL", help_heading = "Remote server")]
    email: Option<String>,
    /// Its password (prefer ONCALL_PASSWORD).
    #[arg(
        long,
        env = "ONCALL_PASSWORD",
        hide_env_values = true,
        help_heading = "Remote server"
    )]
    password: Option<String>,
}

#[derive(Debug, Subcommand)]
enum AnalysisCommand {
    /// List analyses, newest first.
    List {
        /// Only this status.
        #[arg(long)]
        status: Option<String>,
        /// Text to search for.
        #[arg(long)]
        query: Option<String>,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one analysis as JSON.
    Show {
        /// Analysis id.
        id: uuid::Uuid,
    },
}

#[derive(Debug, Subcommand)]
enum DataSourceCommand {
    /// List data sources.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add a data source.
    Add(Box<DataSourceAdd>),
    /// Change a data source; what is not given stays as it is (secrets too).
    #[command(after_help = AFTER_HELP)]
    Edit(Box<DataSourceEdit>),
    /// Test connectivity.
    Test {
        /// Name or id.
        name: String,
    },
    /// Remove a data source.
    Rm {
        /// Name or id.
        name: String,
    },
}

/// Settings of a new data source.
#[derive(Debug, clap::Args)]
struct DataSourceAdd {
    /// Unique name.
    name: String,
    /// elk, loki or prometheus.
    #[arg(long = "type")]
    kind: String,
    /// Base URL.
    #[arg(long)]
    url: String,
    /// Basic-auth user.
    #[arg(long)]
    username: Option<String>,
    /// Basic-auth password (prefer ONCALL_DS_PASSWORD).
    #[arg(long, env = "ONCALL_DS_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Bearer token (prefer ONCALL_DS_TOKEN).
    #[arg(long, env = "ONCALL_DS_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Index pattern (elk).
    #[arg(long)]
    index: Option<String>,
    /// Stream selector (loki), e.g. '{app="api"}'.
    #[arg(long)]
    labels: Option<String>,
    /// Other settings as a JSON object.
    #[arg(long)]
    config: Option<String>,
    /// Per-request timeout in milliseconds.
    #[arg(long)]
    timeout_ms: Option<i64>,
}

/// Changes to a data source.
#[derive(Debug, clap::Args)]
struct DataSourceEdit {
    /// Name or id.
    name: String,
    /// New unique name.
    #[arg(long = "name")]
    rename: Option<String>,
    /// New base URL.
    #[arg(long)]
    url: Option<String>,
    /// Basic-auth user (switches to basic auth; the stored password is kept
    /// unless --password is given).
    #[arg(long, visible_alias = "user")]
    username: Option<String>,
    /// New basic-auth password (prefer ONCALL_DS_PASSWORD).
    #[arg(long, env = "ONCALL_DS_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// New bearer token (switches to bearer auth; prefer ONCALL_DS_TOKEN).
    #[arg(long, env = "ONCALL_DS_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Drop the credentials.
    #[arg(long, conflicts_with_all = ["username", "password", "token"])]
    no_auth: bool,
    /// Index pattern (elk).
    #[arg(long)]
    index: Option<String>,
    /// Stream selector (loki), e.g. '{app="api"}'.
    #[arg(long)]
    labels: Option<String>,
    /// Settings to merge into the current ones, as a JSON object.
    #[arg(long)]
    config: Option<String>,
    /// Per-request timeout in milliseconds.
    #[arg(long)]
    timeout_ms: Option<i64>,
    /// Query it in analyses.
    #[arg(long, overrides_with = "disabled")]
    enabled: bool,
    /// Leave it out of analyses.
    #[arg(long)]
    disabled: bool,
    /// Print the data source as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum TicketCommand {
    /// List tickets, newest first.
    List {
        /// Only this status.
        #[arg(long)]
        status: Option<String>,
        /// Only this severity.
        #[arg(long)]
        severity: Option<String>,
        /// Text to search for.
        #[arg(long)]
        query: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a ticket with its history.
    Show {
        /// Ticket number.
        no: String,
    },
    /// Create a ticket.
    Create {
        /// Title (default: from the analysis).
        #[arg(long)]
        title: Option<String>,
        /// Pre-fill from this analysis.
        #[arg(long)]
        from_analysis: Option<uuid::Uuid>,
        /// P0..P3.
        #[arg(long)]
        severity: Option<String>,
        /// Root cause.
        #[arg(long)]
        root_cause: Option<String>,
        /// Assignee email.
        #[arg(long)]
        assignee: Option<String>,
    },
    /// Move a ticket to another status.
    SetStatus {
        /// Ticket number.
        no: String,
        /// processing, resolved or closed.
        status: String,
        /// Why (required to close an open ticket).
        #[arg(long)]
        reason: Option<String>,
        /// The component (service, pod or host) confirmed as the root cause, e.g.
        /// when resolving ('' clears it).
        #[arg(long)]
        confirmed_root_cause: Option<String>,
        /// What fixed it, e.g. "rolled back v2.3" ('' clears it).
        #[arg(long)]
        resolution: Option<String>,
        /// The version you read (`ticket show`); a stale one fails with exit code 4.
        #[arg(long)]
        version: Option<i64>,
    },
    /// Change a ticket's fields; what is not given stays as it is.
    #[command(after_help = AFTER_HELP)]
    Edit {
        /// Ticket number.
        no: String,
        /// New title.
        #[arg(long)]
        title: Option<String>,
        /// P0..P3.
        #[arg(long)]
        severity: Option<String>,
        /// Assignee email ('' unassigns).
        #[arg(long)]
        assignee: Option<String>,
        /// Root cause.
        #[arg(long)]
        root_cause: Option<String>,
        /// Description ('' clears it).
        #[arg(long)]
        description: Option<String>,
        /// The component (service, pod or host) confirmed as the root cause ('' clears it).
        #[arg(long)]
        confirmed_root_cause: Option<String>,
        /// What fixed it, e.g. "raised the pool size" ('' clears it).
        #[arg(long)]
        resolution: Option<String>,
        /// The version you read (`ticket show`); a stale one fails with exit code 4.
        #[arg(long)]
        version: Option<i64>,
        /// Print the ticket and its history as JSON.
        #[arg(long)]
        json: bool,
    },
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
    // Options from ./.env too (the process environment wins), as Settings reads it.
    if let Err(e) = dotenvy::from_path(".env")
        && !e.not_found()
    {
        eprintln!("error: reading .env: {e}");
        return ExitCode::from(exit_code(ErrorCode::Invalid));
    }
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
            eprintln!("error: {}", e.message);
            ExitCode::from(exit_code(e.code))
        }
    }
}

/// Why a command failed: the kind (for the exit code) and one line for people.
/// Engine errors and a server's `{"code","message"}` both end up here.
#[derive(Debug)]
pub struct Failure {
    /// The kind.
    pub code: ErrorCode,
    /// What went wrong.
    pub message: String,
}

impl Failure {
    /// A failure of this kind.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        // One line: a multi-line cause (a database driver's) is joined.
        let message = e
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        Failure::new(e.code(), message)
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
    // Share a development server's generated keys, so credentials stored by one
    // can be read by the other.
    let dev_file = Path::new("data/dev-secrets.json");
    if settings.encryption_key.is_none() && (settings.dev || dev_file.exists()) {
        settings.dev = true;
        oncall_core::secrets::resolve_secrets(&mut settings, dev_file)?;
    }
    oncall_core::connectors::install_default_tls_provider();
    OnCall::open(settings).await
}

fn print_json<T: Serialize>(value: &T) -> Result<(), Error> {
    let out = serde_json::to_string_pretty(value).map_err(|e| Error::Internal(e.to_string()))?;
    println!("{out}");
    Ok(())
}

fn read_alert(text: Option<String>, file: Option<PathBuf>) -> Result<serde_json::Value, Error> {
    let raw = match (text, file) {
        (Some(t), None) if t != "-" => t,
        (None, Some(f)) if f.as_os_str() != "-" => std::fs::read_to_string(&f)
            .map_err(|e| Error::invalid("file", format!("cannot read {}: {e}", f.display())))?,
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "alert",
                "give the alert as text or --file, not both",
            ));
        }
        _ => {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                .map_err(|e| Error::invalid("alert", format!("reading standard input: {e}")))?;
            s
        }
    };
    Ok(match serde_json::from_str::<serde_json::Value>(&raw) {
        Ok(v @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => v,
        _ => serde_json::Value::String(raw),
    })
}

fn print_analysis(a: &AnalysisView) {
    println!("analysis {}  [{}]  {}", a.id, a.status.as_str(), a.title);
    // What was not understood of the alert (no scope, no time), before the result.
    for notice in &a.notices {
        println!("! {notice}");
    }
    if let Some(err) = &a.error {
        println!("note: {err}");
    }
    let Some(r) = &a.result else { return };
    println!();
    println!("root cause : {}", r.root_cause);
    println!("confidence : {}", r.confidence);
    println!("severity   : {}", r.severity.as_str());
    println!();
    println!("{}", r.summary);
    if !r.suspects.is_empty() {
        println!();
        println!("suspects:");
        for (i, s) in r.suspects.iter().take(5).enumerate() {
            println!("  {}. {}  {:.2}", i + 1, s.component, s.score);
            for reason in s.reasons.iter().take(2) {
                println!("       - {reason}");
            }
        }
    }
    if !r.suggestions.is_empty() {
        println!();
        println!("suggestions:");
        for (i, s) in r.suggestions.iter().enumerate() {
            println!("  {}. {s}", i + 1);
        }
    }
}

async fn find_datasource(oncall: &OnCall, me: &User, name: &str) -> Result<uuid::Uuid, Error> {
    if let Ok(id) = name.parse::<uuid::Uuid>() {
        return Ok(id);
    }
    let all = oncall_core::store::all_pages(|p| oncall.list_datasources(me, p)).await?;
    all.into_iter()
        .find(|d| d.name == name)
        .map(|d| d.id)
        .ok_or_else(|| Error::not_found("data source", name))
}

async fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Openapi => {
            println!("{}", oncall_server::openapi_json());
            return Ok(());
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "oncall", &mut std::io::stdout());
            return Ok(());
        }
        Command::Serve { addr, dev } => {
            let mut settings = Settings::load()?;
            if let Some(url) = cli.database_url {
                settings.database_url = url;
            }
            if let Some(addr) = addr {
                settings.addr = addr;
            }
            settings.dev |= dev;
            return oncall_server::serve(settings)
                .await
                .map_err(|e| Failure::new(ErrorCode::Unavailable, e.to_string()));
        }
        Command::Analyze(args) if args.server.is_some() => return analyze_remote(*args).await,
        _ => {}
    }
    let oncall = open(cli.database_url).await?;
    let me = oncall.local_admin();
    match cli.command {
        Command::Serve { .. } | Command::Openapi | Command::Completions { .. } => {}
        Command::Migrate => {
            println!(
                "database schema is up to date ({})",
                oncall.database_dialect()
            );
        }
        Command::User(cmd) => user_command(&oncall, &me, cmd).await?,
        Command::Analyze(args) => analyze_here(&oncall, &me, *args).await?,
        Command::Analysis(AnalysisCommand::List {
            status,
            query,
            limit,
            json,
        }) => {
            let filter = AnalysisFilter {
                status: status.map(|s| s.parse()).transpose()?,
                text: query,
                ..Default::default()
            };
            let page = oncall
                .list_analyses(&me, &filter, PageRequest::new(1, limit.clamp(1, 200))?)
                .await?;
            if json {
                print_json(&page.items)?;
            } else {
                let mut table = Table::new(&[
                    Column::fixed("ID"),
                    Column::fixed("STATUS"),
                    Column::fixed("CREATED"),
                    Column::flexible("TITLE"),
                ]);
                for a in page.items {
                    table.row([
                        a.id.to_string(),
                        a.status.as_str().to_owned(),
                        a.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                        a.title,
                    ]);
                }
                table.print();
            }
        }
        Command::Analysis(AnalysisCommand::Show { id }) => {
            print_json(&oncall.analysis(&me, id).await?)?
        }
        Command::Datasource(cmd) => datasource_command(&oncall, &me, cmd).await?,
        Command::Ticket(cmd) => ticket_command(&oncall, &me, cmd).await?,
        Command::Stats { since, until, json } => {
            let since = since.as_deref().map(|s| cli_time("since", s)).transpose()?;
            let until = until.as_deref().map(|s| cli_time("until", s)).transpose()?;
            let report = oncall.accuracy_stats(&me, since, until).await?;
            if json {
                print_json(&report)?;
            } else {
                print_accuracy(&report);
            }
        }
    }
    oncall.close().await;
    Ok(())
}

/// A day (`2026-11-01`, midnight UTC) or an RFC 3339 time.
fn cli_time(field: &str, s: &str) -> Result<chrono::DateTime<chrono::Utc>, Error> {
    let s = s.trim();
    if let Ok(day) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(day.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| {
            Error::invalid(
                field,
                format!("`{s}` is neither a day (2026-11-01) nor an RFC 3339 time"),
            )
        })
}

/// A share as a percentage, `-` when nothing was confirmed.
fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "-".to_owned(), |s| format!("{:.0}%", s * 100.0))
}

/// The accuracy report as three tables: by month, by alert, the misses.
fn print_accuracy(r: &oncall_core::tickets::AccuracyReport) {
    let t = &r.totals;
    println!(
        "resolved tickets with a confirmed root cause: {}  top-1: {} ({})  top-3: {} ({})  unconfirmed: {}  without analysis: {}",
        t.confirmed,
        t.hit_at_1,
        percent(t.share_at_1),
        t.hit_at_3,
        percent(t.share_at_3),
        t.unconfirmed,
        r.without_analysis
    );
    let counts = |c: &oncall_core::tickets::AccuracyCount| {
        [
            c.confirmed.to_string(),
            format!("{} ({})", c.hit_at_1, percent(c.share_at_1)),
            format!("{} ({})", c.hit_at_3, percent(c.share_at_3)),
            c.unconfirmed.to_string(),
        ]
    };
    println!();
    let mut table = Table::new(&[
        Column::fixed("MONTH"),
        Column::fixed("CONFIRMED"),
        Column::fixed("TOP-1"),
        Column::fixed("TOP-3"),
        Column::fixed("UNCONFIRMED"),
    ]);
    for m in &r.by_month {
        let [a, b, c, d] = counts(&m.count);
        table.row([m.month.clone(), a, b, c, d]);
    }
    table.print();
    println!();
    let mut table = Table::new(&[
        Column::flexible("ALERT"),
        Column::fixed("CONFIRMED"),
        Column::fixed("TOP-1"),
        Column::fixed("TOP-3"),
        Column::fixed("UNCONFIRMED"),
    ]);
    for a in &r.by_alert {
        let [w, x, y, z] = counts(&a.count);
        table.row([a.alert_name.clone(), w, x, y, z]);
    }
    table.print();
    if r.misses.is_empty() {
        return;
    }
    println!();
    println!(
        "misses at #1: {} (newest first{})",
        r.misses_total,
        if r.misses_total > r.misses.len() as u64 {
            format!(", {} listed", r.misses.len())
        } else {
            String::new()
        }
    );
    let mut table = Table::new(&[
        Column::fixed("TICKET"),
        Column::flexible("ALERT"),
        Column::flexible("ANALYZER #1"),
        Column::flexible("CONFIRMED"),
        Column::fixed("RANK"),
    ]);
    for m in &r.misses {
        table.row([
            m.ticket_no.clone(),
            m.alert_name.clone(),
            m.analyzer_top.clone().unwrap_or_else(|| "-".into()),
            m.confirmed_root_cause.clone(),
            m.rank.map_or_else(|| ">3".to_owned(), |r| r.to_string()),
        ]);
    }
    table.print();
}

/// The analysis options of the command line.
fn analysis_options(args: &AnalyzeArgs) -> AnalysisOptions {
    AnalysisOptions {
        llm: match (args.llm, args.no_llm) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        language: args.lang.clone(),
        baseline_minutes: args.baseline_minutes,
        incident_minutes: args.window,
        ..AnalysisOptions::default()
    }
}

/// The finished analysis, as JSON or readably.
fn print_result(done: &AnalysisView, json: bool) -> Result<(), Error> {
    if json {
        print_json(done)
    } else {
        print_analysis(done);
        Ok(())
    }
}

/// Runs the analysis in this process, showing its stages as the pipeline
/// records them.
async fn analyze_here(oncall: &OnCall, me: &User, args: AnalyzeArgs) -> Result<(), Error> {
    let options = analysis_options(&args);
    let alert = read_alert(args.text, args.file)?;
    let accepted = oncall.submit_analysis(me, alert, options).await?;
    let progress = Progress::start(args.quiet, !args.json);
    progress.accepted(accepted.id, None);
    let run = oncall.run_until_done(accepted.id, Duration::from_secs(args.timeout));
    tokio::pin!(run);
    let mut seen = 0;
    let done = loop {
        tokio::select! {
            done = &mut run => break done?,
            () = tokio::time::sleep(Duration::from_millis(200)) => {
                seen = show_events(oncall, me, accepted.id, seen, &progress).await;
            }
        }
    };
    show_events(oncall, me, accepted.id, seen, &progress).await;
    progress.finish();
    print_result(&AnalysisView::from(done), args.json)
}

/// Shows the events after `seen`; the last one shown.
async fn show_events(
    oncall: &OnCall,
    me: &User,
    id: uuid::Uuid,
    seen: i64,
    progress: &Progress,
) -> i64 {
    match oncall.analysis_events(me, id, seen).await {
        Ok(events) => events.iter().fold(seen, |_, e| {
            progress.event(e);
            e.seq
        }),
        // Progress is a courtesy: the result (or its error) still comes.
        Err(_) => seen,
    }
}

/// Submits the analysis to `--server` and follows it there.
async fn analyze_remote(args: AnalyzeArgs) -> Result<(), Failure> {
    let options = analysis_options(&args);
    let server = args.server.unwrap_or_default();
    let login = remote::Login {
        token: args.token,
        email: args.email,
        password: args.password,
    };
    let alert = read_alert(args.text, args.file)?;
    let timeout = Duration::from_secs(args.timeout);
    let progress = Progress::start(args.quiet, !args.json);
    let work = async {
        let remote = remote::Remote::connect(&server, login).await?;
        let id = remote.submit(&alert, &options).await?;
        progress.accepted(id, Some(&server));
        let wait = remote.wait(id, &progress);
        match tokio::time::timeout(timeout, wait).await {
            Ok(done) => done,
            Err(_) => Err(Failure::new(
                ErrorCode::Unavailable,
                format!(
                    "analysis {id} did not finish within {} s; see `GET {server}/api/analysis/{id}`",
                    timeout.as_secs()
                ),
            )),
        }
    };
    let done = work.await?;
    progress.finish();
    Ok(print_result(&done, args.json)?)
}

async fn user_command(oncall: &OnCall, me: &User, cmd: UserCommand) -> Result<(), Error> {
    match cmd {
        UserCommand::List { json } => {
            let page = oncall.list_users(me, PageRequest::new(1, 200)?).await?;
            if json {
                print_json(&page.items)?;
            } else {
                let mut table = Table::new(&[
                    Column::flexible("EMAIL"),
                    Column::fixed("ROLE"),
                    Column::fixed("STATE"),
                    Column::flexible("NAME"),
                ]);
                for u in page.items {
                    let state = if u.disabled { "disabled" } else { "active" };
                    table.row([u.email, u.role.to_string(), state.to_owned(), u.name]);
                }
                table.print();
            }
        }
        UserCommand::Add {
            email,
            role,
            name,
            password,
        } => {
            let role: Role = role.parse()?;
            let user = oncall
                .create_user(
                    me,
                    NewUser {
                        email,
                        name,
                        password,
                        role,
                    },
                )
                .await?;
            println!("created {} ({})", user.email, user.role);
        }
        UserCommand::Passwd { email, password } => {
            let id = find(oncall, me, &email).await?;
            let patch = UserPatch {
                password: Some(password),
                ..Default::default()
            };
            oncall.update_user(me, id, patch).await?;
            println!("password of {email} changed");
        }
        UserCommand::SetRole { email, role } => {
            let id = find(oncall, me, &email).await?;
            let patch = UserPatch {
                role: Some(role.parse()?),
                ..Default::default()
            };
            let user = oncall.update_user(me, id, patch).await?;
            println!("{} is now {}", user.email, user.role);
        }
    }
    Ok(())
}

async fn find(oncall: &OnCall, me: &User, email: &str) -> Result<uuid::Uuid, Error> {
    Ok(oncall.user_by_email(me, email).await?.id)
}

async fn datasource_command(
    oncall: &OnCall,
    me: &User,
    cmd: DataSourceCommand,
) -> Result<(), Error> {
    match cmd {
        DataSourceCommand::List { json } => {
            let all = oncall_core::store::all_pages(|p| oncall.list_datasources(me, p)).await?;
            if json {
                print_json(&all)?;
            } else {
                let mut table = Table::new(&[
                    Column::flexible("NAME"),
                    Column::fixed("TYPE"),
                    Column::fixed("ENABLED"),
                    Column::flexible("URL"),
                ]);
                for d in all {
                    table.row([
                        d.name,
                        d.kind.as_str().to_owned(),
                        d.enabled.to_string(),
                        d.url,
                    ]);
                }
                table.print();
            }
        }
        DataSourceCommand::Add(add) => {
            let DataSourceAdd {
                name,
                kind,
                url,
                username,
                password,
                token,
                index,
                labels,
                config,
                timeout_ms,
            } = *add;
            let kind: DataSourceKind = kind.parse()?;
            let config = config
                .map(|c| serde_json::from_str(&c))
                .transpose()
                .map_err(|e| Error::invalid("config", format!("not JSON: {e}")))?;
            let mut input = DataSourceInput::new(name, kind, url)
                .with_credentials(username, password, token)
                .with_config(config, index, labels);
            input.timeout_ms = timeout_ms;
            let ds = oncall.create_datasource(me, input).await?;
            println!("added {} ({}) {}", ds.name, ds.kind.as_str(), ds.id);
        }
        DataSourceCommand::Edit(edit) => {
            let id = find_datasource(oncall, me, &edit.name).await?;
            let current = oncall.datasource(me, id).await?;
            let input = edited_datasource(current, *edit)?;
            let ds = oncall.update_datasource(me, id, input.0).await?;
            if input.1 {
                print_json(&ds)?;
            } else {
                println!("updated {} ({}) {}", ds.name, ds.kind.as_str(), ds.url);
            }
        }
        DataSourceCommand::Test { name } => {
            let id = find_datasource(oncall, me, &name).await?;
            let t = oncall.test_datasource(me, id).await?;
            print_json(&t)?;
            if !t.ok {
                return Err(Error::Unavailable(format!("{name}: {}", t.message)));
            }
        }
        DataSourceCommand::Rm { name } => {
            let id = find_datasource(oncall, me, &name).await?;
            oncall.delete_datasource(me, id).await?;
            println!("removed {name}");
        }
    }
    Ok(())
}

/// The full settings to store: the current ones with the command line's changes.
/// Secrets are left out unless given, so the stored ones are kept. Also returns
/// whether to print JSON.
fn edited_datasource(
    current: oncall_core::DataSourceView,
    edit: DataSourceEdit,
) -> Result<(DataSourceInput, bool), Error> {
    use oncall_core::connectors::AuthKind;
    let mut config = current.config;
    if let Some(extra) = edit.config {
        let extra: serde_json::Value = serde_json::from_str(&extra)
            .map_err(|e| Error::invalid("config", format!("not JSON: {e}")))?;
        match (config.as_object_mut(), extra) {
            (Some(obj), serde_json::Value::Object(extra)) => obj.extend(extra),
            (_, extra) => config = extra,
        }
    }
    let mut input = DataSourceInput::new(
        edit.rename.unwrap_or(current.name),
        current.kind,
        edit.url.unwrap_or(current.url),
    )
    .with_config(Some(config), edit.index, edit.labels);
    input.auth = if edit.no_auth {
        AuthInput {
            kind: Some(AuthKind::None),
            ..Default::default()
        }
    } else if edit.token.is_some() {
        AuthInput {
            kind: Some(AuthKind::Bearer),
            token: edit.token,
            ..Default::default()
        }
    } else if edit.username.is_some() || edit.password.is_some() {
        AuthInput {
            kind: Some(AuthKind::Basic),
            username: edit.username.or(current.auth.username),
            password: edit.password,
            token: None,
        }
    } else {
        AuthInput {
            kind: Some(current.auth.kind),
            username: current.auth.username,
            ..Default::default()
        }
    };
    input.enabled = Some(match (edit.enabled, edit.disabled) {
        (true, _) => true,
        (_, true) => false,
        _ => current.enabled,
    });
    input.timeout_ms = Some(edit.timeout_ms.unwrap_or(current.timeout_ms));
    Ok((input, edit.json))
}

async fn ticket_command(oncall: &OnCall, me: &User, cmd: TicketCommand) -> Result<(), Error> {
    match cmd {
        TicketCommand::List {
            status,
            severity,
            query,
            json,
        } => {
            let filter = TicketFilter {
                status: status.map(|s| s.parse::<TicketStatus>()).transpose()?,
                severity: severity.map(|s| s.parse::<Severity>()).transpose()?,
                text: query,
                ..Default::default()
            };
            let page = oncall
                .list_tickets(me, &filter, PageRequest::new(1, 200)?)
                .await?;
            if json {
                print_json(&page.items)?;
            } else {
                let mut table = Table::new(&[
                    Column::fixed("NO"),
                    Column::fixed("SEV"),
                    Column::fixed("STATUS"),
                    Column::flexible("ASSIGNEE"),
                    Column::flexible("TITLE"),
                ]);
                for t in page.items {
                    table.row([
                        t.no,
                        t.severity.as_str().to_owned(),
                        t.status.as_str().to_owned(),
                        t.assignee.unwrap_or_default(),
                        t.title,
                    ]);
                }
                table.print();
            }
        }
        TicketCommand::Show { no } => print_json(&oncall.ticket(me, &no).await?)?,
        TicketCommand::Create {
            title,
            from_analysis,
            severity,
            root_cause,
            assignee,
        } => {
            let input = TicketInput {
                title,
                root_cause,
                severity: severity.map(|s| s.parse()).transpose()?,
                assignee,
                description: None,
                analysis_id: from_analysis,
            };
            let t = oncall.create_ticket(me, input).await?;
            println!("created {}  {}", t.ticket.no, t.ticket.title);
        }
        TicketCommand::SetStatus {
            no,
            status,
            reason,
            confirmed_root_cause,
            resolution,
            version,
        } => {
            let patch = TicketPatch {
                status: Some(status.parse()?),
                reason,
                // The engine reads an empty text as "clear it".
                confirmed_root_cause: confirmed_root_cause.map(Some),
                resolution: resolution.map(Some),
                version,
                ..Default::default()
            };
            let t = oncall.update_ticket(me, &no, patch).await?;
            println!("{} is now {}", t.ticket.no, t.ticket.status.as_str());
        }
        TicketCommand::Edit {
            no,
            title,
            severity,
            assignee,
            root_cause,
            description,
            confirmed_root_cause,
            resolution,
            version,
            json,
        } => {
            let patch = TicketPatch {
                title,
                root_cause,
                severity: severity.map(|s| s.parse()).transpose()?,
                // The engine reads an empty text as "clear it".
                assignee: assignee.map(Some),
                description: description.map(Some),
                confirmed_root_cause: confirmed_root_cause.map(Some),
                resolution: resolution.map(Some),
                version,
                ..Default::default()
            };
            let t = oncall.update_ticket(me, &no, patch).await?;
            if json {
                print_json(&t)?;
            } else {
                println!(
                    "updated {} (version {})  {}",
                    t.ticket.no, t.ticket.version, t.ticket.title
                );
            }
        }
    }
    Ok(())
}
