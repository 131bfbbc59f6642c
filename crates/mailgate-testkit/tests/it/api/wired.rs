//! spawn_app() wired to the world: an OAuth app pointing at the emulator, a server at the stack.

use mailgate_testkit::spawn_app;
use std::time::Duration;

#[tokio::test]
async fn an_app_configured_against_the_emulator_and_the_stack() {
    let app = spawn_app().await;
    let oauth = app.google_oauth_app().await;
    assert!(
        oauth["token_url"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:"),
        "{oauth}"
    );
    assert_eq!(
        oauth["redirect_uri"],
        format!("{}/oauth/callback", app.address)
    );
    let (mailbox, server) = app.stack_imap_server(&oauth, "wired").await;
    assert_eq!(
        (server["port"].as_u64(), server["status"].as_str()),
        (
            Some(u64::from(app.world().stack.imaps_port)),
            Some("authorization_required")
        )
    );

    // The helpers deliver to and read that mailbox for real.
    let message = format!(
        "From: customer@example.com\r\nTo: {mailbox}\r\nSubject: Printer on fire\r\n\r\n.Help: it is on fire.\r\n"
    );
    app.world()
        .deliver("customer@example.com", &mailbox, &message)
        .await;
    let inbox = app
        .world()
        .read_inbox(&mailbox, 1, Duration::from_secs(10))
        .await;
    assert_eq!(inbox.len(), 1);
    assert!(
        inbox[0].contains("Subject: Printer on fire")
            && inbox[0].contains("\r\n.Help: it is on fire."),
        "dot-stuffing round trip: {}",
        inbox[0]
    );
}
