//! Subcommands, one file each.

mod admin;
mod config;
mod doctor;
mod outbox;
mod serve;
mod server;

use clap::{Args, Parser, Subcommand};
use mailgate_core::config::{Settings, Sources};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "mailgate",
    version,
    about = "Self-hosted email channel: OAuth2 mailboxes in, tickets and events out, mail sent with fallback"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (HTTP API, OAuth callback, workers).
    Serve(serve::ServeArgs),
    /// Print or check the configuration.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Administer access to the API.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Check every server's credential end to end and say how to fix what fails.
    Doctor(doctor::DoctorArgs),
    /// Act on the outbox (messages queued for sending).
    #[command(subcommand)]
    Outbox(outbox::OutboxCommand),
    /// Inspect incoming and outgoing servers.
    #[command(subcommand)]
    Server(server::ServerCommand),
}

/// Where the configuration comes from; shared by the commands that read it.
#[derive(Args, Clone)]
pub struct ConfigArgs {
    /// Configuration file (TOML). Default: $MAILGATE_CONFIG, else built-in defaults.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory (SQLite database and master key). Default: ./mailgate-data.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

impl ConfigArgs {
    fn sources(&self) -> Sources {
        Sources::from_process(self.config.clone()).flag(
            "storage.data_dir",
            self.data_dir.as_ref().map(|d| d.display()),
            "--data-dir",
        )
    }
}

/// Loads the settings or explains every problem; exit code 2 for configuration errors.
fn load_settings(sources: &Sources) -> Result<Settings, ExitCode> {
    mailgate_core::config::load(sources).map_err(|errors| {
        eprintln!(
            "error: the configuration has {} problem(s):",
            errors.0.len()
        );
        for problem in &errors.0 {
            eprintln!("  - {problem}");
        }
        ExitCode::from(2)
    })
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::Config(cmd) => config::run(cmd),
        Command::Admin(cmd) => admin::run(cmd).await,
        Command::Server(cmd) => server::run(cmd).await,
        Command::Outbox(cmd) => outbox::run(cmd).await,
        Command::Doctor(args) => doctor::run(args).await,
    }
}
