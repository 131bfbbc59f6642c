//! Outgoing Test Connection: every step (credential, connect, tls, ehlo, authenticate; for the
//! Gmail API credential and profile), signed in as delivery does, with the fix for a failure.

use super::*;
use crate::reports::{self, names, step};
use mailgate_core::tokens::SCOPE_GMAIL_SEND;
use mailgate_emulator::{DelegationGrant, Emulator, EmulatorConfig, RunningEmulator};
use mailgate_testkit::spawn_app_on_world as spawn_app;

async fn test_connection(app: &TestApp, server: &Value) -> Value {
    reports::test_connection(app, "outgoing", &server["id"]).await
}

/// A password server (the password is never checked: these tests stop before authenticate).
async fn password_server(app: &TestApp, port: u16, security: &str) -> Value {
    let created = app
        .post("/api/v1/outgoing-servers", json!({"name": format!("SMTP {port} {security}"), "email": "x@example.test",
            "protocol": "smtp", "host": "127.0.0.1", "port": port, "security": security, "auth": "basic", "password": "p"}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    created.body
}

#[tokio::test]
async fn implicit_tls_reports_the_tls_step_before_ehlo() {
    let app = spawn_app().await;
    let (_, server) = stack_smtp_server(
        &app,
        json!({"port": app.world().stack.smtps_port, "security": "ssl"}),
    )
    .await;
    let report = test_connection(&app, &server).await;
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(
        names(&report),
        ["credential", "connect", "tls", "ehlo", "authenticate"]
    );
    assert!(
        step(&report, "tls")["detail"]
            .as_str()
            .unwrap()
            .contains("ssl")
    );
}

#[tokio::test]
async fn a_certificate_mailgate_does_not_trust_fails_the_tls_step_with_the_fix() {
    // No [tls] extra_ca_file: the stack's test CA is unknown.
    let app = mailgate_testkit::spawn_app().await;
    let stack = &mailgate_testkit::world().stack;
    for (port, security) in [
        (stack.smtps_port, "ssl"),
        (stack.submission_port, "starttls"),
    ] {
        let report = test_connection(&app, &password_server(&app, port, security).await).await;
        let tls = reports::stopped_at_tls(&report, "tls_untrusted_certificate");
        assert!(
            tls["diagnosis"]["hint"]
                .as_str()
                .unwrap()
                .contains("extra_ca_file"),
            "{tls:#}"
        );
    }
}

#[tokio::test]
async fn ssl_on_a_plain_port_fails_the_tls_step() {
    let app = spawn_app().await;
    let fake = fake::FakeSmtp::start(&[]).await;
    let report = test_connection(&app, &password_server(&app, fake.port, "ssl").await).await;
    reports::stopped_at_tls(&report, "tls_handshake_failed");
}

#[tokio::test]
async fn a_plain_server_reports_tls_as_skipped_and_oauthbearer_as_delivery_uses_it() {
    let app = spawn_app().await;
    let fake = fake::FakeSmtp::start_with(&[], &["AUTH OAUTHBEARER"]).await;
    let (_, server) = stack_smtp_server(&app, json!({})).await;
    let id = server["id"].as_str().unwrap();
    let moved = app
        .patch(
            &format!("/api/v1/outgoing-servers/{id}"),
            json!({"port": fake.port, "security": "none"}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    let report = test_connection(&app, &server).await;
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(
        names(&report),
        ["credential", "connect", "tls", "ehlo", "authenticate"]
    );
    let tls = step(&report, "tls");
    assert_eq!(tls["ok"], true);
    assert!(
        tls["detail"].as_str().unwrap().starts_with("skipped: "),
        "{tls:#}"
    );
    assert!(
        step(&report, "authenticate")["detail"]
            .as_str()
            .unwrap()
            .contains("OAUTHBEARER"),
        "{report:#}"
    );
    let auth = fake.script.lock().unwrap().auth.clone();
    assert_eq!(auth.len(), 1, "{auth:?}");
    assert!(auth[0].starts_with("AUTH OAUTHBEARER "), "{auth:?}");
}

#[tokio::test]
async fn a_refused_token_is_replaced_once_as_delivery_does() {
    let app = spawn_app().await;
    let (mailbox, server) = stack_smtp_server(&app, json!({})).await;
    // The provider forgets the access tokens mailgate holds; the refresh token still works.
    assert!(
        app.world()
            .emulator
            .control()
            .expire_access_tokens(&mailbox)
            > 0
    );
    let report = test_connection(&app, &server).await;
    assert_eq!(report["ok"], true, "{report:#}");
    assert!(
        step(&report, "authenticate")["detail"]
            .as_str()
            .unwrap()
            .contains("a fresh one was accepted"),
        "{report:#}"
    );
}

/// A private emulator with a service account and a Gmail API server using it (as in
/// `gmail.rs`); no delegation yet.
async fn service_account_server(app: &TestApp) -> (RunningEmulator, String, Value) {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let (client_id, account) = app.service_account(&emulator).await;
    let mailbox = app.world().fresh_user("sa-test");
    let server = app
        .post(
            "/api/v1/outgoing-servers",
            json!({"name": "Gmail API (service account)", "email": mailbox, "protocol": "gmail_api", "auth": "oauth",
                   "service_account_id": account["id"], "api_base_url": emulator.base_url()}),
        )
        .await;
    assert_eq!(server.status, 201, "{}", server.body);
    (emulator, client_id, server.body)
}

#[tokio::test]
async fn gmail_api_with_a_send_only_service_account_passes_without_the_profile_call() {
    let app = spawn_app().await;
    let (emulator, client_id, server) = service_account_server(&app).await;
    emulator.control().grant_delegation(DelegationGrant {
        client_id,
        scopes: vec![SCOPE_GMAIL_SEND.into()],
    });
    let report = test_connection(&app, &server).await;
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(names(&report), ["credential", "profile"]);
    assert!(
        step(&report, "credential")["detail"]
            .as_str()
            .unwrap()
            .contains(SCOPE_GMAIL_SEND),
        "{report:#}"
    );
    let profile = step(&report, "profile");
    assert!(
        profile["detail"].as_str().unwrap().starts_with("skipped: "),
        "{profile:#}"
    );
    assert!(emulator.control().sent_messages().is_empty());
}

#[tokio::test]
async fn gmail_api_with_an_undelegated_service_account_fails_the_credential_with_the_fix() {
    let app = spawn_app().await;
    let (_emulator, _, server) = service_account_server(&app).await;
    let report = test_connection(&app, &server).await;
    assert_eq!(report["ok"], false, "{report:#}");
    assert_eq!(names(&report), ["credential"]);
    let d = &step(&report, "credential")["diagnosis"];
    assert_eq!(d["code"], "delegation_not_granted", "{d:#}");
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("unauthorized_client"),
        "{d:#}"
    );
    assert!(
        d["hint"].as_str().unwrap().contains(SCOPE_GMAIL_SEND),
        "{d:#}"
    );
}

#[tokio::test]
async fn gmail_api_with_an_oauth_grant_of_gmail_send_only_passes() {
    let app = spawn_app().await;
    let oauth = app.google_oauth_app().await;
    let patched = app
        .patch(
            &format!("/api/v1/oauth-apps/{}", oauth["id"].as_str().unwrap()),
            json!({"scopes": [SCOPE_GMAIL_SEND, "openid", "email"]}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    let mailbox = app.world().fresh_user("gmail-send-only");
    let body = json!({"name": "Gmail API send only", "email": mailbox, "protocol": "gmail_api", "auth": "oauth",
                      "oauth_app_id": oauth["id"], "api_base_url": app.world().emulator.base_url()});
    let server = app.authorized_server("outgoing", body, &mailbox).await;
    let report = test_connection(&app, &server).await;
    assert_eq!(report["ok"], true, "{report:#}");
    assert!(
        step(&report, "profile")["detail"]
            .as_str()
            .unwrap()
            .starts_with("skipped: "),
        "{report:#}"
    );
}
