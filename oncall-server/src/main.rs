//! `oncall-server`: serves the oncall-assistant REST API and web UI.

use std::process::ExitCode;

use clap::Parser;
use oncall_core::{OnCall, Settings};
use poem::listener::TcpListener;
use poem::{EndpointExt, Route, Server, get, handler, http::StatusCode, web::Data};

/// Serve the REST API and the web UI.
#[derive(Debug, Parser)]
#[command(name = "oncall-server", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "ONCALL_ADDR")]
    addr: Option<String>,
    /// Database URL.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
}

#[handler]
fn healthz() -> &'static str {
    "ok"
}

#[handler]
async fn readyz(Data(oncall): Data<&OnCall>) -> (StatusCode, String) {
    match oncall.ping().await {
        Ok(()) => (StatusCode::OK, "ready".into()),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("database: {e}")),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
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
    let addr = settings.addr.clone();
    let oncall = OnCall::open(settings).await?;
    let app = Route::new()
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz))
        .data(oncall.clone());
    tracing::info!(%addr, "listening");
    Server::new(TcpListener::bind(addr)).run_with_graceful_shutdown(
        app,
        async {
            let _ = tokio::signal::ctrl_c().await;
        },
        None,
    ).await?;
    oncall.close().await;
    Ok(())
}
