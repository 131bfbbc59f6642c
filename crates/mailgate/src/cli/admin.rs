use super::ConfigArgs;
use clap::Subcommand;
use secrecy::ExposeSecret;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Manage admin API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (shown once; only its hash is stored).
    Create {
        #[command(flatten)]
        config: ConfigArgs,
        /// A label to recognise the token by.
        #[arg(long, default_value = "admin")]
        name: String,
    },
}

pub async fn run(cmd: AdminCommand) -> anyhow::Result<ExitCode> {
    let AdminCommand::Token(TokenCommand::Create { config, name }) = cmd;
    let settings = match super::load_settings(&config.sources()) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let store = mailgate_core::open_store(&settings).await?;
    let token = mailgate_core::admin::create_token(store.as_ref(), &name).await?;
    eprintln!(
        "created admin token {} ({name}); it is shown once, keep it safe:",
        token.id
    );
    println!("{}", token.token.expose_secret());
    Ok(ExitCode::SUCCESS)
}
