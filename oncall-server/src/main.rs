//! `oncall-server`: serves the oncall-assistant REST API and web UI.

use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use oncall_core::secrets::{SecretSource, resolve_secrets};
use oncall_core::{OnCall, Settings};
use oncall_server::{AppState, NoDelayAcceptor, app};
use poem::Server;

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
    if let SecretSource::DevelopmentFile(file) =
        resolve_secrets(&mut settings, Path::new("data/dev-secrets.json"))?
    {
        tracing::warn!(
            %file,
            "DEVELOPMENT MODE: using generated JWT and encryption keys kept in {file}; \
             set JWT_SECRET_KEY and ONCALL_ENCRYPTION_KEY in production"
        );
    }
    let jwt_secret = settings.jwt_secret_key.clone().unwrap_or_default();
    let addr = settings.addr.clone();
    let web_dir = settings.web_dir.clone();
    let oncall = OnCall::open(settings).await?;
    oncall_core::connectors::install_default_tls_provider();
    let workers = oncall.start_workers();
    let state = AppState::new(oncall.clone(), &jwt_secret);
    tracing::info!(%addr, dialect = oncall.database_dialect(), "oncall-server listening; API docs at /docs");
    let acceptor = NoDelayAcceptor::bind(&addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(
            app(state, &web_dir),
            async {
                let _ = tokio::signal::ctrl_c().await;
            },
            Some(std::time::Duration::from_secs(10)),
        )
        .await?;
    workers.shutdown(std::time::Duration::from_secs(10)).await;
    oncall.close().await;
    Ok(())
}
