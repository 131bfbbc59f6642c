//! The OAuth2 and credential lifecycle against the Google emulator: consent, state, PKCE,
//! provider errors, token refresh (single flight, ahead of expiry, rotation, revocation),
//! service accounts, doctor.

mod consent;
mod doctor;
mod grants;
mod rotation;
mod service_accounts;
mod tokens;

use mailgate_core::tokens::CredentialKey;
use mailgate_store::CredentialKind;
use mailgate_testkit::TestApp;
use serde_json::Value;

/// An emulator-backed OAuth app and a connected IMAP server for a fresh mailbox.
pub async fn connected_server(
    app: &TestApp,
    oauth: &Value,
    prefix: &str,
) -> (String, Value, CredentialKey) {
    let (mailbox, server) = app.stack_imap_server(oauth, prefix).await;
    let (status, page) = app
        .consent("incoming", server["id"].as_str().unwrap(), &mailbox, true)
        .await;
    assert_eq!(status, 200, "{page}");
    let key = CredentialKey {
        kind: CredentialKind::OAuthGrant,
        owner_id: oauth["id"].as_str().unwrap().parse().unwrap(),
        subject: mailbox.clone(),
        scope: String::new(),
    };
    (mailbox, server, key)
}

/// Token requests the emulator saw for this OAuth app's client (every test has its own client;
/// the emulator's other counters are shared by the tests running beside it).
pub fn token_requests(app: &TestApp, oauth: &Value) -> u64 {
    let client = oauth["client_id"].as_str().unwrap();
    app.world()
        .emulator
        .control()
        .counters()
        .token_requests_by_client
        .get(client)
        .copied()
        .unwrap_or(0)
}

pub fn connected_key(oauth: &Value, mailbox: &str) -> CredentialKey {
    CredentialKey {
        kind: CredentialKind::OAuthGrant,
        owner_id: oauth["id"].as_str().unwrap().parse().unwrap(),
        subject: mailbox.to_lowercase(),
        scope: String::new(),
    }
}

/// A private emulator (its outages touch no other test) with a Google OAuth app of `app`
/// pointing at it, and an IMAP server connected through it. Returns the emulator, the app, the
/// server and the credential's key.
pub async fn private_provider(
    app: &TestApp,
) -> (
    mailgate_emulator::RunningEmulator,
    Value,
    Value,
    CredentialKey,
) {
    use mailgate_emulator::{ClientRegistration, Emulator, EmulatorConfig};
    use serde_json::json;
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client_id = format!(
        "{}.apps.googleusercontent.com",
        uuid::Uuid::new_v4().simple()
    );
    emulator.control().register_client(ClientRegistration::new(
        client_id.clone(),
        "private-secret",
        [format!("{}/oauth/callback", app.address)],
    ));
    let base = emulator.base_url();
    let oauth = app
        .post(
            "/api/v1/oauth-apps",
            json!({"name": "Private emulator", "provider": "google", "client_id": client_id, "client_secret": "private-secret",
                   "authorization_url": format!("{base}/o/oauth2/v2/auth"), "token_url": format!("{base}/token")}),
        )
        .await;
    assert_eq!(oauth.status, 201, "{}", oauth.body);
    let mailbox = format!("support-{}@example.test", &client_id[..8]);
    let created = app
        .post(
            "/api/v1/incoming-servers",
            json!({"name": "Private", "email": mailbox, "protocol": "imap", "host": "127.0.0.1", "port": 993,
                   "security": "ssl", "auth": "oauth", "oauth_app_id": oauth.body["id"]}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let (status, page) = grants::consent_declining(
        app,
        emulator.control(),
        "incoming",
        created.body["id"].as_str().unwrap(),
        &mailbox,
        &[],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let key = connected_key(&oauth.body, &mailbox);
    (emulator, oauth.body, created.body, key)
}
