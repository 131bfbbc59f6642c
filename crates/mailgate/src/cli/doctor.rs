use super::ConfigArgs;
use clap::Args;
use mailgate_core::Core;
use mailgate_core::doctor::Outcome;
use std::process::ExitCode;

#[derive(Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Exit code 1 when any check fails.
pub async fn run(args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let settings = match super::load_settings(&args.config.sources()) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let core = Core::open(settings).await?;
    let report = mailgate_core::doctor::run(&core).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if report.checks.is_empty() {
        println!(
            "no servers to check: create them with POST /api/v1/incoming-servers and /api/v1/outgoing-servers"
        );
    } else {
        for c in &report.checks {
            let mark = match c.outcome {
                Outcome::Pass => "ok  ",
                Outcome::Warn => "warn",
                Outcome::Fail => "FAIL",
                Outcome::Skip => "skip",
            };
            println!(
                "{mark}  {:<8} {:<24} {:<12} {}",
                c.direction, c.server, c.check, c.message
            );
            if let Some(hint) = &c.hint {
                println!("      fix: {hint}");
            }
        }
        println!(
            "{}",
            if report.ok {
                "all checks passed"
            } else {
                "some checks failed"
            }
        );
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
