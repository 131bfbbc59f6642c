use mailgate_core::tokens::{self, CredentialKey, SCOPE_GMAIL_SEND};
use mailgate_core::workers::{refresh_once, step::Outcome};
use mailgate_emulator::{DelegationGrant, Emulator, EmulatorConfig, RunningEmulator};
use mailgate_store::CredentialKind;
use mailgate_testkit::spawn_app;
use serde_json::json;

/// A service account registered at a private emulator (fixture key) and uploaded to mailgate, and
/// a Gmail API sender for a fresh mailbox that uses it. No delegation is granted yet. The
/// emulator is this test's own, so its clock can move with the service's: a signed assertion
/// carries the service's time, and a provider refuses one from the future.
async fn gmail_api_sender(
    app: &mailgate_testkit::TestApp,
) -> (
    RunningEmulator,
    String,
    String,
    serde_json::Value,
    CredentialKey,
) {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let (client_id, account) = app.service_account(&emulator).await;
    let mailbox = format!("sa-sender-{}@example.test", uuid::Uuid::new_v4().simple());
    let server = app
        .post(
            "/api/v1/outgoing-servers",
            json!({"name": format!("Gmail API {mailbox}"), "email": mailbox, "protocol": "gmail_api", "auth": "oauth",
                   "service_account_id": account["id"], "api_base_url": emulator.base_url()}),
        )
        .await;
    assert_eq!(server.status, 201, "{}", server.body);
    let key = CredentialKey {
        kind: CredentialKind::ServiceAccount,
        owner_id: account["id"].as_str().unwrap().parse().unwrap(),
        subject: mailbox.clone(),
        scope: SCOPE_GMAIL_SEND.into(),
    };
    (emulator, client_id, mailbox, server.body, key)
}

#[tokio::test]
async fn without_delegation_the_token_is_refused_with_the_scope_to_grant() {
    let app = spawn_app().await;
    let (emulator, client_id, _, server, key) = gmail_api_sender(&app).await;
    let error = tokens::access_token(&app.core, &key)
        .await
        .unwrap_err()
        .into_diagnosis();
    assert_eq!(error.code, "delegation_not_granted", "{error:?}");
    assert!(
        error
            .hint
            .contains("https://www.googleapis.com/auth/gmail.send"),
        "the hint names the exact scope: {}",
        error.hint
    );
    assert!(
        error.hint.contains("Domain-wide delegation")
            || error.hint.contains("domain-wide delegation"),
        "{}",
        error.hint
    );
    let shown = app
        .get(&format!(
            "/api/v1/outgoing-servers/{}",
            server["id"].as_str().unwrap()
        ))
        .await
        .body;
    assert_eq!(shown["status"], "failed", "{shown}");

    // The admin grants delegation for that client ID and scope. The failure is remembered for a
    // minute (no hammering of the provider), then the next attempt works without anything reset.
    emulator.control().grant_delegation(DelegationGrant {
        client_id,
        scopes: vec![SCOPE_GMAIL_SEND.into()],
    });
    assert_eq!(
        tokens::access_token(&app.core, &key)
            .await
            .unwrap_err()
            .diagnosis()
            .code,
        "delegation_not_granted"
    );
    app.clock.advance_secs(61);
    let token = tokens::access_token(&app.core, &key).await.unwrap();
    assert!(secrecy::ExposeSecret::expose_secret(&token.token).starts_with("ya29."));
}

#[tokio::test]
async fn with_delegation_a_token_acts_for_the_mailbox_and_is_renewed_ahead() {
    let app = spawn_app().await;
    let (emulator, client_id, mailbox, server, key) = gmail_api_sender(&app).await;
    emulator.control().grant_delegation(DelegationGrant {
        client_id,
        scopes: vec![SCOPE_GMAIL_SEND.into()],
    });
    let token = tokens::access_token(&app.core, &key).await.unwrap();
    // The emulator's tokeninfo says whom the token acts for.
    let info: serde_json::Value = app
        .http
        .get(format!("{}/tokeninfo", emulator.base_url()))
        .query(&[(
            "access_token",
            secrecy::ExposeSecret::expose_secret(&token.token),
        )])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["email"], mailbox.as_str(), "{info}");
    assert!(info["scope"].as_str().unwrap().contains("gmail.send"));
    let shown = app
        .get(&format!(
            "/api/v1/outgoing-servers/{}",
            server["id"].as_str().unwrap()
        ))
        .await
        .body;
    assert_eq!(shown["status"], "connected", "{shown}");
    app.clock.advance_secs(50 * 60);
    emulator.control().advance_clock(50 * 60);
    assert_eq!(
        refresh_once(&app.core).await.unwrap(),
        Outcome::DidWork(1),
        "a fresh assertion before the hour is over"
    );
}
