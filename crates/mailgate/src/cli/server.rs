use super::ConfigArgs;
use clap::Subcommand;
use mailgate_core::Core;
use mailgate_core::objects::{IncomingServers, Objects, OutgoingServers};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ServerCommand {
    /// Test Connection: credential, connect with TLS, authenticate, open the folder; exit 1 on failure.
    Test {
        #[command(flatten)]
        config: ConfigArgs,
        /// The incoming server's id (from `mailgate server list`).
        id: String,
    },
    /// List incoming and outgoing servers with their state.
    List {
        #[command(flatten)]
        config: ConfigArgs,
        /// Print JSON (the API's representation) instead of a table.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(cmd: ServerCommand) -> anyhow::Result<ExitCode> {
    let (config, json) = match cmd {
        ServerCommand::List { config, json } => (config, json),
        ServerCommand::Test { config, id } => return test(config, &id).await,
    };
    let settings = match super::load_settings(&config.sources()) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let core = Core::open(settings).await?;
    let incoming = Objects::<IncomingServers>::list(&core).await?;
    let outgoing = Objects::<OutgoingServers>::list(&core).await?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"incoming": incoming, "outgoing": outgoing})
            )?
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut rows = vec![
        [
            "DIRECTION",
            "NAME",
            "EMAIL",
            "PROTOCOL",
            "ENDPOINT",
            "AUTH",
            "PRIMARY",
            "STATUS",
            "ID",
        ]
        .map(String::from),
    ];
    let label = |v: &dyn erased::Label| v.label();
    for s in &incoming {
        rows.push([
            "incoming".into(),
            s.name.clone(),
            s.email.clone(),
            label(&s.protocol),
            format!("{}:{} ({})", s.host, s.port, label(&s.security)),
            label(&s.auth),
            if s.primary { "yes" } else { "" }.into(),
            label(&s.status),
            s.id.clone(),
        ]);
    }
    for s in &outgoing {
        let endpoint = match (&s.host, s.port, &s.security, &s.api_base_url) {
            (Some(h), Some(p), Some(sec), _) => format!("{h}:{p} ({})", label(sec)),
            (_, _, _, Some(api)) => api.clone(),
            _ => String::new(),
        };
        rows.push([
            "outgoing".into(),
            s.name.clone(),
            s.email.clone(),
            label(&s.protocol),
            endpoint,
            label(&s.auth),
            if s.primary { "yes" } else { "" }.into(),
            label(&s.status),
            s.id.clone(),
        ]);
    }
    if rows.len() == 1 {
        println!(
            "no servers yet: create them with POST /api/v1/incoming-servers and /api/v1/outgoing-servers"
        );
        return Ok(ExitCode::SUCCESS);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
    Ok(ExitCode::SUCCESS)
}

/// The API's snake_case names for enums, reused in the table.
mod erased {
    pub trait Label {
        fn label(&self) -> String;
    }
    impl<T: serde::Serialize> Label for T {
        fn label(&self) -> String {
            serde_json::to_value(self)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        }
    }
}

async fn test(config: ConfigArgs, id: &str) -> anyhow::Result<ExitCode> {
    let settings = match super::load_settings(&config.sources()) {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let core = Core::open(settings).await?;
    let report = if Objects::<OutgoingServers>::get(&core, id).await.is_ok() {
        mailgate_core::test_connection::outgoing::run(&core, id).await
    } else {
        mailgate_core::test_connection::incoming::run(&core, id).await
    }
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    for step in &report.steps {
        println!(
            "{}  {:<13} {} ({} ms)",
            if step.ok { "ok  " } else { "FAIL" },
            step.step,
            step.detail,
            step.millis
        );
        if let Some(d) = &step.diagnosis {
            println!("      fix: {} [{}]", d.hint, d.code);
        }
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
