//! `google-emulator`: runs the emulator for the local demo, with a demo OAuth client registered.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Parser;
use mailgate_emulator::fixtures::SERVICE_ACCOUNT_KEY_PEM;
use mailgate_emulator::{
    ClientRegistration, DelegationGrant, Emulator, EmulatorConfig, ServiceAccountRegistration,
};

/// A local emulator of Google's OAuth2 endpoints and the Gmail API (for tests and demos only).
#[derive(Debug, Parser)]
#[command(name = "google-emulator", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "GOOGLE_EMULATOR_LISTEN", default_value = "127.0.0.1:8026")]
    listen: SocketAddr,
    /// SMTP relay (plain SMTP, no auth) receiving mail sent through the Gmail API.
    #[arg(long, env = "GOOGLE_EMULATOR_SMTP_RELAY")]
    smtp_relay: Option<SocketAddr>,
    /// Recipient for mail to addresses outside the local domain.
    #[arg(long, env = "GOOGLE_EMULATOR_CATCHALL")]
    catchall: Option<String>,
    /// Domain whose users exist (service accounts may impersonate them).
    #[arg(long, default_value = "example.test")]
    local_domain: String,
    /// URL clients reach the emulator at, when not http://{listen}.
    #[arg(long, env = "GOOGLE_EMULATOR_PUBLIC_URL")]
    public_url: Option<String>,
    /// Client ID of the demo OAuth client.
    #[arg(long, default_value = "demo-client.apps.googleusercontent.com")]
    client_id: String,
    /// Client secret of the demo OAuth client.
    #[arg(long, default_value = "demo-secret")]
    client_secret: String,
    /// Redirect URI of the demo client (repeat for several).
    #[arg(
        long = "redirect-uri",
        default_values_t = [
            "http://127.0.0.1:8025/oauth/callback".to_owned(),
            "http://localhost:8025/oauth/callback".to_owned(),
        ]
    )]
    redirect_uris: Vec<String>,
    /// Also register a demo service account (test-only key, delegation for Gmail scopes) and write
    /// its JSON key file here.
    #[arg(long)]
    service_account_key_out: Option<PathBuf>,
}

const DEMO_SERVICE_ACCOUNT: &str = "demo-robot@demo-project.iam.gserviceaccount.com";
const DEMO_SERVICE_ACCOUNT_ID: &str = "100000000000000000001";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let config = EmulatorConfig {
        listen: args.listen,
        public_url: args.public_url,
        smtp_relay: args.smtp_relay,
        local_domain: args.local_domain,
        catchall: args.catchall,
        ..EmulatorConfig::default()
    };
    let emulator = Emulator::start(config).await?;
    let control = emulator.control();
    control.register_client(ClientRegistration::new(
        args.client_id.clone(),
        args.client_secret,
        args.redirect_uris.clone(),
    ));
    if let Some(path) = &args.service_account_key_out {
        control.register_service_account(ServiceAccountRegistration::with_private_key(
            DEMO_SERVICE_ACCOUNT,
            DEMO_SERVICE_ACCOUNT_ID,
            SERVICE_ACCOUNT_KEY_PEM,
        ))?;
        control.grant_delegation(DelegationGrant {
            client_id: DEMO_SERVICE_ACCOUNT_ID.to_owned(),
            scopes: vec![
                "https://mail.google.com/".to_owned(),
                "https://www.googleapis.com/auth/gmail.send".to_owned(),
            ],
        });
        let key = control.service_account_key_json(
            SERVICE_ACCOUNT_KEY_PEM,
            DEMO_SERVICE_ACCOUNT,
            DEMO_SERVICE_ACCOUNT_ID,
        )?;
        std::fs::write(path, key).with_context(|| format!("writing {}", path.display()))?;
        tracing::info!(path = %path.display(), client_email = DEMO_SERVICE_ACCOUNT, "demo service account key written");
    }

    let base = emulator.base_url().to_owned();
    tracing::info!(client_id = %args.client_id, redirect_uris = ?args.redirect_uris, "demo OAuth client registered");
    tracing::info!("authorization URL: {base}/o/oauth2/v2/auth");
    tracing::info!("token URL:         {base}/token");
    tracing::info!("tokeninfo URL:     {base}/tokeninfo");
    tracing::info!("userinfo URL:      {base}/oauth2/v3/userinfo");
    tracing::info!("revoke URL:        {base}/revoke");
    tracing::info!("Gmail API base:    {base}  (e.g. {base}/gmail/v1/users/me/messages/send)");
    tracing::info!("control:           {base}/admin/state");

    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    tracing::info!("shutting down");
    emulator.shutdown().await
}
