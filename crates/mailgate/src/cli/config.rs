use clap::Subcommand;
use mailgate_core::config::Sources;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Print the commented example configuration (every key with its default).
    Example,
    /// Check a configuration without starting; lists every problem at once.
    Check {
        /// Configuration file. Default: $MAILGATE_CONFIG, else built-in defaults.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

pub fn run(cmd: ConfigCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ConfigCommand::Example => {
            print!("{}", mailgate_core::config::EXAMPLE);
            Ok(ExitCode::SUCCESS)
        }
        ConfigCommand::Check { config } => {
            let settings = match super::load_settings(&Sources::from_process(config)) {
                Ok(s) => s,
                Err(code) => return Ok(code),
            };
            println!("configuration is valid");
            println!("  listen:        {}", settings.listen);
            println!("  base URL:      {}", settings.base_url);
            println!("  redirect URI:  {}", settings.redirect_uri());
            println!("  data dir:      {}", settings.data_dir.display());
            println!("  database:      {}", settings.database_url);
            Ok(ExitCode::SUCCESS)
        }
    }
}
