//! Grants that lie: a consent without the mail permission, an unverified address, a refresh
//! refused for another reason than a used code, and Google answers that only look final.

use super::{connected_server, token_requests};
use crate::send::{deliver, events, queue, stack_smtp_server};
use mailgate_core::tokens::{self, SCOPE_MAIL};
use mailgate_core::workers::{refresh_once, step::Outcome};
use mailgate_emulator::{ClientRegistration, Decision, Outage};
use mailgate_testkit::{TestApp, spawn_app};
use serde_json::{Value, json};

/// Starts the consent for server `id` and answers it at `emulator` as `account`, unticking
/// `declined`; returns the callback's status and page.
pub(super) async fn consent_declining(
    app: &TestApp,
    emulator: &mailgate_emulator::Control,
    direction: &str,
    id: &str,
    account: &str,
    declined: &[&str],
) -> (u16, String) {
    let start = authorize(app, direction, id).await;
    let back = {
        let _turn = mailgate_testkit::app::provider_turn().await;
        emulator.script_partial_consent(account, Decision::Allow, declined);
        let provider = app
            .http
            .get(start["authorization_url"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(provider.status(), 302, "{:?}", provider.text().await);
        provider.headers()["location"].to_str().unwrap().to_owned()
    };
    let page = app.http.get(back).send().await.unwrap();
    (page.status().as_u16(), page.text().await.unwrap())
}

/// Starts the consent of server `id`: the answer with its `authorization_url`.
async fn authorize(app: &TestApp, direction: &str, id: &str) -> Value {
    let start = app
        .post(
            &format!("/api/v1/{direction}-servers/{id}/authorize"),
            json!({}),
        )
        .await;
    assert_eq!(start.status, 200, "{}", start.body);
    start.body
}

async fn server(app: &TestApp, direction: &str, id: &str) -> Value {
    app.get(&format!("/api/v1/{direction}-servers/{id}"))
        .await
        .body
}

#[tokio::test]
async fn a_consent_without_the_mail_permission_is_not_connected() {
    let app = spawn_app().await;
    let oauth = app.google_oauth_app().await;
    let (mailbox, created) = app.stack_imap_server(&oauth, "partial").await;
    let id = created["id"].as_str().unwrap();
    let emulator = app.world().emulator.control();

    // The user unticks "Read, compose, send and permanently delete all your email from Gmail".
    let (status, page) =
        consent_declining(&app, emulator, "incoming", id, &mailbox, &[SCOPE_MAIL]).await;
    assert_eq!(status, 400, "{page}");
    assert!(
        page.contains("Not connected: the permission to read and send mail was not granted"),
        "{page}"
    );
    assert!(
        page.contains("tick") && page.contains("Authorize the server again"),
        "{page}"
    );
    let shown = server(&app, "incoming", id).await;
    assert_eq!(shown["status"], "authorization_required", "{shown:#}");
    assert_eq!(
        shown["credential"]["last_error"]["code"], "oauth_scope_not_granted",
        "{shown:#}"
    );
    let key = super::connected_key(&oauth, &mailbox);
    let refused = tokens::access_token(&app.core, &key)
        .await
        .unwrap_err()
        .into_diagnosis();
    assert_eq!(refused.code, "oauth_scope_not_granted", "{refused:?}");

    // Signing in again with every box ticked connects it.
    let (status, page) = consent_declining(&app, emulator, "incoming", id, &mailbox, &[]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(server(&app, "incoming", id).await["status"], "connected");
}

#[tokio::test]
async fn a_gmail_api_sender_needs_a_sending_scope_and_gmail_send_is_enough() {
    let app = spawn_app().await;
    let oauth = app.google_oauth_app().await;
    let patched = app
        .patch(
            &format!("/api/v1/oauth-apps/{}", oauth["id"].as_str().unwrap()),
            json!({"scopes": [SCOPE_MAIL, tokens::SCOPE_GMAIL_SEND, "openid", "email"]}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    let mailbox = app.world().fresh_user("gmail-partial");
    let created = app
        .post(
            "/api/v1/outgoing-servers",
            json!({"name": "Gmail API", "email": mailbox, "protocol": "gmail_api", "auth": "oauth",
                   "oauth_app_id": oauth["id"], "api_base_url": app.world().emulator.base_url()}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap();
    let emulator = app.world().emulator.control();
    let (status, page) = consent_declining(
        &app,
        emulator,
        "outgoing",
        id,
        &mailbox,
        &[SCOPE_MAIL, tokens::SCOPE_GMAIL_SEND],
    )
    .await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("gmail.send"), "{page}");
    // Only full mail access unticked: gmail.send may send through the API.
    let (status, page) =
        consent_declining(&app, emulator, "outgoing", id, &mailbox, &[SCOPE_MAIL]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(server(&app, "outgoing", id).await["status"], "connected");
}

#[tokio::test]
async fn an_address_the_provider_has_not_verified_is_refused() {
    let app = spawn_app().await;
    let oauth = app.google_oauth_app().await;
    let (mailbox, created) = app.stack_imap_server(&oauth, "unverified").await;
    let id = created["id"].as_str().unwrap();
    app.world()
        .emulator
        .control()
        .set_email_unverified(&mailbox);
    let (status, page) = app.consent("incoming", id, &mailbox, true).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("has not verified that address"), "{page}");
    let shown = server(&app, "incoming", id).await;
    assert_eq!(shown["status"], "authorization_required", "{shown:#}");
    assert_eq!(
        shown["credential"]["last_error"]["code"], "oauth_email_unverified",
        "{shown:#}"
    );
}

#[tokio::test]
async fn a_generic_providers_refusal_does_not_speak_of_google_test_users() {
    let app = spawn_app().await;
    let emulator = app.world().emulator.control();
    let client_id = format!("generic-{}", uuid::Uuid::new_v4().simple());
    emulator.register_client(ClientRegistration::new(
        client_id.clone(),
        "generic-secret",
        [format!("{}/oauth/callback", app.address)],
    ));
    let base = app.world().emulator.base_url();
    let oauth = app
        .post(
            "/api/v1/oauth-apps",
            json!({"name": "Generic", "provider": "generic", "client_id": client_id, "client_secret": "generic-secret",
                   "authorization_url": format!("{base}/o/oauth2/v2/auth"), "token_url": format!("{base}/token"),
                   "scopes": [SCOPE_MAIL, "openid", "email"]}),
        )
        .await;
    assert_eq!(oauth.status, 201, "{}", oauth.body);
    let (mailbox, created) = app.stack_imap_server(&oauth.body, "generic-deny").await;
    let (status, page) = app
        .consent("incoming", created["id"].as_str().unwrap(), &mailbox, false)
        .await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("oauth_access_denied"), "{page}");
    let lower = page.to_lowercase();
    assert!(
        !lower.contains("test user") && !lower.contains("google"),
        "{page}"
    );
}

#[tokio::test]
async fn a_refused_refresh_is_an_ended_grant_and_a_refused_code_a_sign_in_to_restart() {
    let app = spawn_app().await;
    let oauth = app.google_oauth_app().await;
    let (mailbox, _, key) = connected_server(&app, &oauth, "rapt").await;
    // A Workspace session-control policy now wants the user to sign in again.
    app.world()
        .emulator
        .control()
        .require_reauthentication(&mailbox);
    // Past the access token's last minute: only a refresh can give one.
    app.clock.advance_secs(59 * 60 + 30);
    let refused = tokens::access_token(&app.core, &key)
        .await
        .unwrap_err()
        .into_diagnosis();
    assert_eq!(
        refused.code, "oauth_reauthentication_required",
        "{refused:?}"
    );
    assert!(refused.needs_reauthorization());
    assert!(
        !refused.message.contains("authorization code"),
        "{refused:?}"
    );
    assert!(
        refused.hint.contains("Authorize the server again"),
        "{refused:?}"
    );

    // A code that the provider refuses (here: not the one it issued) is a sign-in to restart.
    let (_, created) = app.stack_imap_server(&oauth, "bad-code").await;
    let start = authorize(&app, "incoming", created["id"].as_str().unwrap()).await;
    let state = url::Url::parse(start["authorization_url"].as_str().unwrap())
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let callback = url::Url::parse_with_params(
        &format!("{}/oauth/callback", app.address),
        [
            ("state", state.as_str()),
            ("code", "4/0not-a-code-it-issued"),
        ],
    )
    .unwrap();
    let page = app
        .http
        .get(callback)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("oauth_code_invalid"), "{page}");
    assert!(!page.contains("refresh token"), "{page}");
}

#[tokio::test]
async fn a_token_endpoint_internal_failure_is_retried_not_a_failed_credential() {
    let app = spawn_app().await;
    let (emulator, oauth, _, key) = super::private_provider(&app).await;
    // Google sometimes answers a refresh `400 {"error": "internal_failure"}`; its own client
    // libraries retry it.
    emulator.control().set_oauth_outage(Outage::status(400));
    app.clock.advance_secs(55 * 60);
    assert_eq!(refresh_once(&app.core).await.unwrap(), Outcome::Idle);
    let row = app
        .core
        .store
        .find_credential(key.kind, key.owner_id, &key.subject, &key.scope)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, tokens::CONNECTED, "{:?}", row.last_error);
    assert!(
        row.last_error
            .as_deref()
            .unwrap()
            .contains("service_unavailable"),
        "{:?}",
        row.last_error
    );
    assert!(events(&app, "credential.failed").await.is_empty());
    // The provider recovers: the next round renews.
    emulator.control().set_oauth_outage(Outage::NONE);
    app.clock.advance_secs(60);
    assert!(tokens::access_token(&app.core, &key).await.is_ok());
    assert!(
        token_requests(&app, &oauth) == 0,
        "the world's emulator was not asked"
    );
}

#[tokio::test]
async fn gmail_off_for_the_account_makes_the_server_unavailable_and_the_primary_sends() {
    let app = mailgate_testkit::spawn_app_on_world().await;
    let (_, primary) = stack_smtp_server(&app, json!({"primary": true})).await;
    let oauth = app.google_oauth_app().await;
    let mailbox = app.world().fresh_user("gmail-off");
    let body = json!({"name": "Gmail API", "email": mailbox, "protocol": "gmail_api", "auth": "oauth",
                      "oauth_app_id": oauth["id"], "api_base_url": app.world().emulator.base_url()});
    let gmail = app.authorized_server("outgoing", body, &mailbox).await;
    // A Workspace admin removes the user's Gmail licence: "Mail service not enabled".
    app.world()
        .emulator
        .control()
        .set_gmail_service(&mailbox, false);
    let to = app.world().fresh_user("gmail-off-to");
    let q = queue(
        &app,
        json!({"server_id": gmail["id"], "to": [to], "subject": "through the primary", "text": "hi"}),
    )
    .await;
    let sent = deliver(&app, &q["id"]).await;
    assert_eq!(sent["status"], "sent", "{sent:#}");
    let answers = sent["answers"].as_array().unwrap();
    assert_eq!(answers[0]["outcome"], "unavailable", "{sent:#}");
    assert_eq!(
        answers[0]["detail"]["error"]["code"], "gmail_service_not_enabled",
        "{sent:#}"
    );
    assert_eq!(
        answers.last().unwrap()["server_id"],
        primary["id"],
        "{sent:#}"
    );
}
