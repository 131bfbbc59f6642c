//! The OAuth2 and credential lifecycle against the Google emulator: consent, state, PKCE,
//! provider errors, token refresh (single flight, ahead of expiry, rotation, revocation),
//! service accounts, doctor.

mod consent;
mod doctor;
mod grants;
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
