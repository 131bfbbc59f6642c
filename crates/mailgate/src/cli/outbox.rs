use super::ConfigArgs;
use clap::Subcommand;
use mailgate_core::Core;
use mailgate_core::send::retry::{self, RetryError};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum OutboxCommand {
    /// Retry now: make queued messages due at once (e.g. after fixing a relay); a failed
    /// message given by id is queued again with its attempts reset. A running `serve` starts
    /// their rounds within half a second.
    Retry {
        #[command(flatten)]
        config: ConfigArgs,
        /// The message's id (from `GET /api/v1/messages`).
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<String>,
        /// Every queued message (or, with --server, those of one outgoing server).
        #[arg(long)]
        all: bool,
        /// With --all: only messages asked to go through this outgoing server (and, when it is
        /// the primary, those that named no server).
        #[arg(long, value_name = "ID", requires = "all")]
        server: Option<String>,
        /// With --all: failed messages too, queued again with their attempts reset.
        #[arg(long, requires = "all")]
        failed: bool,
    },
}

pub async fn run(cmd: OutboxCommand) -> anyhow::Result<ExitCode> {
    let OutboxCommand::Retry {
        config,
        id,
        all: _,
        server,
        failed,
    } = cmd;
    let settings = match super::load_settings(&config.sources()) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let core = Core::open(settings).await?;
    let done = match &id {
        Some(id) => retry::one(&core, id).await,
        None => retry::all(&core, server.as_deref(), failed).await,
    };
    match done {
        Ok(retried) => {
            println!("{} message(s) due now", retried.hastened);
            for id in &retried.ids {
                println!("{id}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ RetryError::NotRetryable { .. }) => {
            eprintln!("error: {e}\n  fix: {}", e.hint());
            Ok(ExitCode::FAILURE)
        }
        Err(RetryError::Service(e)) => Err(e.into()),
    }
}
