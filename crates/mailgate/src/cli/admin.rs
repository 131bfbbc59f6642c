use super::ConfigArgs;
use clap::Subcommand;
use mailgate_core::Store;
use secrecy::ExposeSecret;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Manage admin API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (shown once; only its hash is stored). Give the same
    /// --config (or MAILGATE_CONFIG, or --data-dir) as `serve`, or the server will not know it.
    Create {
        #[command(flatten)]
        config: ConfigArgs,
        /// A label to recognise the token by.
        #[arg(long, default_value = "admin")]
        name: String,
        /// Create the data directory when it does not exist yet (before the first `serve`).
        #[arg(long)]
        init: bool,
    },
    /// List the admin tokens (their ids and names; a token's text is never stored).
    List {
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Revoke an admin token: requests with it are refused from now on.
    Revoke {
        #[command(flatten)]
        config: ConfigArgs,
        /// The token's id (from `mailgate admin token list`).
        id: String,
    },
}

/// The store `serve` uses with the same configuration, saying which one on stderr. A data
/// directory that does not exist is refused unless `init`: it would be a new, empty one (run
/// from another directory, or without the server's --config), and its tokens unknown to the
/// running server.
async fn open(config: &ConfigArgs, init: bool) -> anyhow::Result<Result<Arc<dyn Store>, ExitCode>> {
    let settings = match super::load_settings(&config.sources()) {
        Ok(s) => s,
        Err(code) => return Ok(Err(code)),
    };
    let dir = std::path::absolute(&settings.data_dir).unwrap_or(settings.data_dir.clone());
    if !dir.exists() && !init {
        eprintln!(
            "error: the data directory {} does not exist, so this is not the one `mailgate serve` uses.",
            dir.display()
        );
        eprintln!(
            "  fix: give the same --config FILE (or MAILGATE_CONFIG, or --data-dir DIR) as serve; or pass --init to create a new data directory"
        );
        return Ok(Err(ExitCode::from(2)));
    }
    let store = mailgate_core::open_store(&settings).await?;
    eprintln!(
        "data directory {} ({} database {})",
        dir.display(),
        store.backend_name(),
        settings.database_url.redacted()
    );
    Ok(Ok(store))
}

pub async fn run(cmd: AdminCommand) -> anyhow::Result<ExitCode> {
    let AdminCommand::Token(cmd) = cmd;
    match cmd {
        TokenCommand::Create { config, name, init } => {
            let store = match open(&config, init).await? {
                Ok(store) => store,
                Err(code) => return Ok(code),
            };
            let token = mailgate_core::admin::create_token(store.as_ref(), &name).await?;
            eprintln!(
                "created admin token {} ({name}); it is shown once, keep it safe:",
                token.id
            );
            println!("{}", token.token.expose_secret());
        }
        TokenCommand::List { config } => {
            let store = match open(&config, false).await? {
                Ok(store) => store,
                Err(code) => return Ok(code),
            };
            let tokens = store.list_admin_tokens().await?;
            if tokens.is_empty() {
                println!("no admin tokens yet: create one with `mailgate admin token create`");
            }
            let time = |ms: i64| mailgate_core::clock::rfc3339(ms);
            for t in tokens {
                let used = t.last_used_at_ms.map(time);
                println!(
                    "{}  {:<20}  created {}  last used {}",
                    t.id,
                    t.name,
                    time(t.created_at_ms),
                    used.as_deref().unwrap_or("never")
                );
            }
        }
        TokenCommand::Revoke { config, id } => {
            let store = match open(&config, false).await? {
                Ok(store) => store,
                Err(code) => return Ok(code),
            };
            if !mailgate_core::admin::revoke_token(store.as_ref(), &id).await? {
                eprintln!(
                    "error: no admin token has the id {id}\n  fix: list them with `mailgate admin token list`"
                );
                return Ok(ExitCode::FAILURE);
            }
            eprintln!("revoked admin token {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
