use super::ConfigArgs;
use clap::Args;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Address to listen on. Default: 127.0.0.1:8025.
    #[arg(long, value_name = "HOST:PORT")]
    listen: Option<SocketAddr>,
    /// Log lines as `text` (coloured only on a terminal) or `json` (one object per line, for
    /// log collectors). Overrides `[log] format`.
    #[arg(long, value_name = "FORMAT", value_parser = ["text", "json"])]
    log_format: Option<String>,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let sources = args
        .config
        .sources()
        .flag("server.listen", args.listen, "--listen")
        .flag("log.format", args.log_format.as_deref(), "--log-format");
    let settings = match super::load_settings(&sources) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    init_logging(&settings.log_level, settings.log_json);
    let app = mailgate_http::Application::build(settings).await?;
    let base = app
        .core()
        .settings
        .base_url
        .trim_end_matches('/')
        .to_owned();
    println!(
        "mailgate is listening on {}: API {base}/api/v1, OpenAPI document {base}/api/openapi.json",
        app.local_addr()
    );
    app.run_until_stopped(shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

fn init_logging(level: &str, json: bool) {
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new(level));
    // Colour codes only for a person at a terminal, never in a file, a pipe or a journal.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
