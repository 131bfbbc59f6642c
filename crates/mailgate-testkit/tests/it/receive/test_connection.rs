//! Incoming Test Connection: connect, tls (skipped for a plain server), authenticate and select,
//! each with the fix of the provider the server belongs to.

use super::watch::oauth_server;
use crate::reports::{self, names, step};
use mailgate_testkit::{TestApp, spawn_app_on_world as spawn_app};
use serde_json::{Value, json};

async fn test_connection(app: &TestApp, id: &Value) -> Value {
    reports::test_connection(app, "incoming", id).await
}

async fn alice(app: &TestApp, port: u16, security: &str) -> Value {
    let (alice, password) = mailgate_testkit::mailstack::ALICE;
    let created = app
        .post("/api/v1/incoming-servers", json!({"name": format!("Alice {security}"), "email": alice, "protocol": "imap",
            "host": "127.0.0.1", "port": port, "security": security, "auth": "basic", "password": password}))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    created.body["id"].clone()
}

#[tokio::test]
async fn starttls_and_plain_servers_report_their_tls_step() {
    let app = spawn_app().await;
    let port = app.world().stack.imap_port;
    let report = test_connection(&app, &alice(&app, port, "starttls").await).await;
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(
        names(&report),
        ["credential", "connect", "tls", "authenticate", "select"]
    );
    assert!(
        step(&report, "tls")["detail"]
            .as_str()
            .unwrap()
            .contains("STARTTLS"),
        "{report:#}"
    );

    let report = test_connection(&app, &alice(&app, port, "none").await).await;
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(
        names(&report),
        ["credential", "connect", "tls", "authenticate", "select"]
    );
    let tls = step(&report, "tls");
    assert_eq!(tls["ok"], true);
    assert!(
        tls["detail"].as_str().unwrap().starts_with("skipped: "),
        "{tls:#}"
    );
}

#[tokio::test]
async fn a_certificate_mailgate_does_not_trust_fails_the_tls_step_with_the_fix() {
    // No [tls] extra_ca_file: the stack's test CA is unknown.
    let app = mailgate_testkit::spawn_app().await;
    let stack = &mailgate_testkit::world().stack;
    for (port, security) in [(stack.imaps_port, "ssl"), (stack.imap_port, "starttls")] {
        let report = test_connection(&app, &alice(&app, port, security).await).await;
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
async fn a_refused_token_is_replaced_once_as_the_watcher_does() {
    let app = spawn_app().await;
    let (mailbox, server) = oauth_server(&app, json!({})).await;
    // The provider forgets the access token mailgate holds: Dovecot refuses it, and the refresh
    // token brings a new one.
    assert!(
        app.world()
            .emulator
            .control()
            .expire_access_tokens(&mailbox)
            > 0
    );
    let report = test_connection(&app, &server["id"]).await;
    assert_eq!(report["ok"], true, "{report:#}");
    let auth = step(&report, "authenticate");
    assert!(
        auth["detail"]
            .as_str()
            .unwrap()
            .contains("with a new access token"),
        "{auth:#}"
    );
}

#[tokio::test]
async fn a_refused_token_is_diagnosed_for_the_servers_provider() {
    let app = spawn_app().await;
    let (mailbox, server) = oauth_server(&app, json!({})).await;
    // The provider forgets the access token and the refresh token: Dovecot refuses the one,
    // and the other brings no new one.
    assert!(app.world().emulator.control().expire_tokens(&mailbox) > 0);
    let report = test_connection(&app, &server["id"]).await;
    assert_eq!(report["ok"], false, "{report:#}");
    let auth = step(&report, "authenticate");
    let diagnosis = &auth["diagnosis"];
    assert_eq!(diagnosis["severity"], "reauthorize", "{auth:#}");
    // What Dovecot said is told with the fix of the server's provider (its OAuth app is
    // Google's), not the generic one.
    let message = diagnosis["message"].as_str().unwrap();
    assert!(
        message.contains(
            "Before that, the mail server refused the access token in store: Google's server"
        ),
        "{auth:#}"
    );
}
