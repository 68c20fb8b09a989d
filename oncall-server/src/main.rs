//! `oncall-server`: serves the oncall-assistant REST API and web UI.

use std::process::ExitCode;

use clap::Parser;
use oncall_core::Settings;

/// Serve the oncall-assistant REST API and web UI.
#[derive(Debug, Parser)]
#[command(name = "oncall-server", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "ONCALL_ADDR")]
    addr: Option<String>,
    /// Database URL.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Development mode: generate missing secrets (kept in ./data/dev-secrets.json).
    #[arg(long)]
    dev: bool,
    /// Print the OpenAPI document and exit.
    #[arg(long)]
    openapi: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,poem=warn".into()),
        )
        .init();
    let args = Args::parse();
    if args.openapi {
        println!("{}", oncall_server::openapi_json());
        return ExitCode::SUCCESS;
    }
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut settings = Settings::load()?;
    if let Some(addr) = args.addr {
        settings.addr = addr;
    }
    if let Some(url) = args.database_url {
        settings.database_url = url;
    }
    settings.dev |= args.dev;
    oncall_server::serve(settings).await
}
