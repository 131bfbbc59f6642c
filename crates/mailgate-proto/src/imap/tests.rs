//! The IMAP client against scripted servers: known answers, the SASL dance, IDLE, and faults.
//! Tags: `m1`, `m2`... are the client's own before login; async-imap numbers `A0001`, `A0002`...
//! from login on.

use super::*;
use crate::sasl::Credentials;
use crate::testing::{FakeTls, Step, expect, scripted, send, tls_config};
use mailgate_domain::troubleshoot::ProviderKind;
use secrecy::{ExposeSecret, SecretString};
use std::sync::atomic::Ordering;
use tokio::io::DuplexStream;
use tokio::task::JoinHandle;

const TIMEOUT: Duration = Duration::from_secs(30);
const GREETING: &str = "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN AUTH=XOAUTH2 AUTH=OAUTHBEARER] Dovecot (Debian) ready.\r\n";
const AFTER_LOGIN: &str = "* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SEARCHRES WITHIN CONDSTORE QRESYNC LITERAL+ MOVE UIDPLUS SPECIAL-USE\r\n";

fn options() -> ImapOptions {
    ImapOptions::new(TIMEOUT)
}

fn xoauth2(token: &str) -> Credentials {
    Credentials::XOAuth2 {
        user: "alice@example.test".into(),
        token: SecretString::from(token),
    }
}

fn ir(creds: &Credentials) -> String {
    creds.initial_response_base64().expose_secret().to_owned()
}

/// The login exchange of async-imap (no SASL-IR: the response follows an empty `+`).
fn login_steps(creds: &Credentials, capabilities: &str) -> Vec<Step> {
    vec![
        expect(&format!("A0001 AUTHENTICATE {}", creds.mechanism().name())),
        send("+ \r\n"),
        expect(&ir(creds)),
        send("A0001 OK Logged in\r\n"),
        expect("A0002 CAPABILITY"),
        send(format!("{capabilities}A0002 OK Capability completed.\r\n")),
    ]
}

/// A session logged in with XOAUTH2 on a scripted Dovecot-like server, then `steps`.
async fn session_with(
    capabilities: &str,
    steps: Vec<Step>,
) -> (ImapSession<DuplexStream>, JoinHandle<Vec<String>>) {
    let creds = xoauth2("ya29.ok");
    let mut script = vec![send(GREETING)];
    script.extend(login_steps(&creds, capabilities));
    script.extend(steps);
    let (stream, server) = scripted(script);
    let client = ImapClient::greet(stream, "imap.example.test", 993, options())
        .await
        .unwrap();
    let session = client.login(&creds).await.unwrap();
    (session, server)
}

async fn session(steps: Vec<Step>) -> (ImapSession<DuplexStream>, JoinHandle<Vec<String>>) {
    session_with(AFTER_LOGIN, steps).await
}

const SELECT_ANSWER: &str = "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n\
* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n\
* 3 EXISTS\r\n\
* 0 RECENT\r\n\
* OK [UIDVALIDITY 1700000000] UIDs valid\r\n\
* OK [UIDNEXT 8] Predicted next UID\r\n\
A0003 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).\r\n";

/// A session with INBOX selected (SELECT is `A0003`), then `steps`.
async fn selected(
    capabilities: &str,
    steps: Vec<Step>,
) -> (ImapSession<DuplexStream>, JoinHandle<Vec<String>>) {
    let mut script = vec![expect("A0003 SELECT \"INBOX\""), send(SELECT_ANSWER)];
    script.extend(steps);
    let (mut s, server) = session_with(capabilities, script).await;
    s.select("INBOX").await.unwrap();
    (s, server)
}

#[tokio::test]
async fn a_whole_session_known_answers() {
    let message = b"From: a@example.test\r\nSubject: hi\r\n\r\nbody {with braces}\r\n";
    let (mut s, server) = session(vec![
        expect("A0003 SELECT \"INBOX\""),
        send(SELECT_ANSWER),
        expect("A0004 UID SEARCH UID 1:*"),
        send("* SEARCH 7 5 6\r\nA0004 OK Search completed.\r\n"),
        // `8:*` with 7 as the highest UID: the server answers 7 (RFC 3501 reads it as 7:8).
        expect("A0005 UID SEARCH UID 8:*"),
        send("* SEARCH 7\r\nA0005 OK Search completed.\r\n"),
        expect("A0006 UID FETCH 5 (UID RFC822.SIZE BODY.PEEK[]<0.1001>)"),
        send(format!(
            "* 2 FETCH (FLAGS (\\Seen))\r\n* 1 FETCH (UID 5 RFC822.SIZE {len} BODY[]<0> {{{len}}}\r\n",
            len = message.len()
        )),
        send(message),
        send(")\r\nA0006 OK Fetch completed.\r\n"),
        expect("A0007 UID STORE 5 +FLAGS.SILENT (\\Seen)"),
        send("A0007 OK Store completed.\r\n"),
        expect("A0008 UID MOVE 5 \"Archive\""),
        send("* OK [COPYUID 1700000001 5 1] Moved UIDs.\r\n* 1 EXPUNGE\r\nA0008 OK Move completed.\r\n"),
        expect("A0009 UID STORE 6 +FLAGS.SILENT (\\Deleted)"),
        send("A0009 OK Store completed.\r\n"),
        expect("A0010 UID EXPUNGE 6"),
        send("* 1 EXPUNGE\r\nA0010 OK Expunge completed.\r\n"),
        expect("A0011 LOGOUT"),
        send("* BYE Logging out\r\nA0011 OK Logout completed.\r\n"),
    ])
    .await;
    assert!(s.supports_idle());
    assert!(s.capabilities().has("uidplus"));
    let mailbox = s.select("INBOX").await.unwrap();
    assert_eq!(
        mailbox,
        SelectedFolder {
            uid_validity: 1_700_000_000,
            uid_next: Some(8),
            exists: 3
        }
    );
    assert_eq!(s.selected(), Some("INBOX"));
    assert_eq!(s.uids_since(0).await.unwrap(), [5, 6, 7]);
    assert_eq!(s.uids_since(7).await.unwrap(), Vec::<u32>::new());
    assert_eq!(s.fetch(5, 1000).await.unwrap(), message);
    s.mark_seen(&[5]).await.unwrap();
    s.move_to(&[5], "Archive").await.unwrap();
    s.delete(&[6]).await.unwrap();
    s.logout().await.unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn without_move_a_move_is_copy_delete_expunge() {
    let caps = "* CAPABILITY IMAP4rev1 UIDPLUS\r\n";
    let (mut s, server) = session_with(
        caps,
        vec![
            expect("A0003 UID COPY 5 \"Entr&AOk-e\""),
            send("A0003 OK Copy completed.\r\n"),
            expect("A0004 UID STORE 5 +FLAGS.SILENT (\\Deleted)"),
            send("A0004 OK\r\n"),
            expect("A0005 UID EXPUNGE 5"),
            send("A0005 OK\r\n"),
        ],
    )
    .await;
    s.move_to(&[5], "Entrée").await.unwrap();
    server.await.unwrap();
}

/// Without UIDPLUS only EXPUNGE is left, which also removes what other mail programs flagged
/// \Deleted: a delete, and a move without MOVE, are refused before anything is sent.
#[tokio::test]
async fn without_uidplus_nothing_is_expunged() {
    let (mut s, server) = session_with(
        "* CAPABILITY IMAP4rev1 IDLE\r\n",
        vec![expect("A0003 NOOP"), send("A0003 OK\r\n")],
    )
    .await;
    for (e, what) in [
        (s.delete(&[9]).await.unwrap_err(), REMOVAL_NEEDS_UIDPLUS),
        (
            s.move_to(&[9], "Archive").await.unwrap_err(),
            REMOVAL_NEEDS_MOVE,
        ),
    ] {
        assert!(
            matches!(&e, ProtoError::NotOffered { what: w, .. } if w == what),
            "{e}"
        );
        let d = e.diagnosis(ProviderKind::Generic);
        assert_eq!(d.code, "mailbox_not_accessible", "{d:?}");
        assert!(d.hint.contains("after_import"), "{d:?}");
    }
    assert!(s.removes_only_ours(false).is_err());
    // The session is still usable: nothing was sent.
    s.noop().await.unwrap();
    server.await.unwrap();

    // MOVE alone is enough to move.
    let (mut s, server) = session_with(
        "* CAPABILITY IMAP4rev1 MOVE\r\n",
        vec![expect("A0003 UID MOVE 5 \"Archive\""), send("A0003 OK\r\n")],
    )
    .await;
    assert!(s.removes_only_ours(true).is_ok());
    s.move_to(&[5], "Archive").await.unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn batches_list_sizes_fetch_many_in_one_command_and_act_on_uid_sets() {
    let (one, two) = (b"Subject: one\r\n\r\n1\r\n", b"Subject: two\r\n\r\n22\r\n");
    let (mut s, server) = session(vec![
        // `6:*` with 5 as the highest UID answers 5: filtered out.
        expect("A0003 UID FETCH 6:* (UID RFC822.SIZE)"),
        send("* 1 FETCH (UID 5 RFC822.SIZE 20)\r\n* 2 FETCH (FLAGS (\\Seen))\r\n* 4 FETCH (UID 9 RFC822.SIZE 5000)\r\n* 3 FETCH (UID 7 RFC822.SIZE 21)\r\nA0003 OK Fetch completed.\r\n"),
        expect("A0004 UID FETCH 7:9,12 (UID RFC822.SIZE BODY.PEEK[]<0.101>)"),
        send(format!(
            "* 3 FETCH (UID 7 RFC822.SIZE {} BODY[]<0> {{{}}}\r\n",
            one.len(),
            one.len()
        )),
        send(&one[..]),
        send(")\r\n* 1 FETCH (FLAGS (\\Deleted))\r\n"),
        send("* 4 FETCH (UID 9 RFC822.SIZE 5000 BODY[]<0> {101}\r\n"),
        send("x".repeat(101)),
        send(format!(
            ")\r\n* 5 FETCH (UID 8 RFC822.SIZE {} BODY[]<0> {{{}}}\r\n",
            two.len(),
            two.len()
        )),
        send(&two[..]),
        // UID 12 was expunged meanwhile: no answer for it.
        send(")\r\nA0004 OK Fetch completed.\r\n"),
        expect("A0005 UID STORE 7:8 +FLAGS.SILENT (\\Seen)"),
        send("A0005 OK Store completed.\r\n"),
        expect("A0006 UID MOVE 3,7:9 \"Archive\""),
        send("A0006 OK Move completed.\r\n"),
    ])
    .await;
    assert_eq!(s.sizes_since(5).await.unwrap(), [(7, 21), (9, 5000)]);
    let fetched = s.fetch_many(&[7, 8, 9, 12], 100).await.unwrap();
    let uids: Vec<u32> = fetched.iter().map(|(u, _)| *u).collect();
    assert_eq!(uids, [7, 8, 9, 12], "in the order asked");
    assert_eq!(fetched[0].1.as_deref().unwrap(), one);
    assert_eq!(fetched[1].1.as_deref().unwrap(), two);
    assert!(
        matches!(
            fetched[2].1,
            Err(ProtoError::TooLarge {
                size: Some(5000),
                max: 100,
                ..
            })
        ),
        "{:?}",
        fetched[2].1
    );
    assert!(
        matches!(fetched[3].1, Err(ProtoError::NoSuchMessage { .. })),
        "{:?}",
        fetched[3].1
    );
    s.mark_seen(&[8, 7]).await.unwrap();
    s.move_to(&[9, 3, 8, 7], "Archive").await.unwrap();
    // Nothing to do, nothing sent.
    s.mark_seen(&[]).await.unwrap();
    s.delete(&[]).await.unwrap();
    server.await.unwrap();
}

#[test]
fn uid_sets_fold_runs() {
    for (uids, want) in [
        (&[5][..], "5"),
        (&[1, 2, 3, 5, 7, 8][..], "1:3,5,7:8"),
        (&[9, 8, 8, 1][..], "1,8:9"),
        (&[u32::MAX - 1, u32::MAX][..], "4294967294:4294967295"),
    ] {
        assert_eq!(listing::uid_set(uids), want, "{uids:?}");
    }
}

#[tokio::test]
async fn listing_with_fetch_is_a_named_switch_and_is_filtered_too() {
    let creds = xoauth2("t");
    let mut script = vec![send(GREETING)];
    script.extend(login_steps(&creds, AFTER_LOGIN));
    script.extend([
        expect("A0003 UID FETCH 8:* (UID)"),
        send("* 3 FETCH (UID 7)\r\nA0003 OK Fetch completed.\r\n"),
    ]);
    let (stream, server) = scripted(script);
    let mut options = options();
    options.list_uids_with_fetch = true;
    let client = ImapClient::greet(stream, "h", 993, options).await.unwrap();
    let mut s = client.login(&creds).await.unwrap();
    assert!(s.uids_since(7).await.unwrap().is_empty());
    assert!(s.uids_since(u32::MAX).await.unwrap().is_empty());
    server.await.unwrap();
}

#[tokio::test]
async fn uids_up_to_searches_the_range_and_drops_what_lies_beyond_it() {
    let creds = xoauth2("t");
    let mut script = vec![send(GREETING)];
    script.extend(login_steps(&creds, AFTER_LOGIN));
    script.extend([
        expect("A0003 UID SEARCH UID 1:9 UNSEEN"),
        // A server may answer with UIDs outside the range; they are not ours to act on.
        send("* SEARCH 4 2 12\r\nA0003 OK Search completed.\r\n"),
        expect("A0004 UID SEARCH UID 1:9"),
        send("* SEARCH 1 2 4 9\r\nA0004 OK Search completed.\r\n"),
    ]);
    let (stream, server) = scripted(script);
    let client = ImapClient::greet(stream, "h", 993, options())
        .await
        .unwrap();
    let mut s = client.login(&creds).await.unwrap();
    assert_eq!(s.uids_up_to(9, true).await.unwrap(), [2, 4]);
    assert_eq!(s.uids_up_to(9, false).await.unwrap(), [1, 2, 4, 9]);
    assert!(
        s.uids_up_to(0, false).await.unwrap().is_empty(),
        "no command"
    );
    server.await.unwrap();
}

#[tokio::test]
async fn uids_matching_searches_unseen_and_by_received_day() {
    let creds = xoauth2("t");
    let mut script = vec![send(GREETING)];
    script.extend(login_steps(&creds, AFTER_LOGIN));
    script.extend([
        expect("A0003 UID SEARCH UNSEEN"),
        send("* SEARCH 9 4\r\nA0003 OK Search completed.\r\n"),
        expect("A0004 UID SEARCH SINCE 5-Feb-2026"),
        send("* SEARCH\r\nA0004 OK Search completed.\r\n"),
    ]);
    let (stream, server) = scripted(script);
    let client = ImapClient::greet(stream, "h", 993, options())
        .await
        .unwrap();
    let mut s = client.login(&creds).await.unwrap();
    assert_eq!(
        s.uids_matching(super::Search::Unseen).await.unwrap(),
        [4, 9]
    );
    let day = chrono::NaiveDate::from_ymd_opt(2026, 2, 5).unwrap();
    assert!(
        s.uids_matching(super::Search::ReceivedSince(day))
            .await
            .unwrap()
            .is_empty()
    );
    server.await.unwrap();
}

#[tokio::test]
async fn xoauth2_failure_answers_the_challenge_empty_and_keeps_the_json() {
    let creds = xoauth2("ya29.revoked");
    let (stream, server) = scripted(vec![
        send(GREETING),
        expect("A0001 AUTHENTICATE XOAUTH2"),
        send("+ \r\n"),
        expect(&ir(&creds)),
        send("+ eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJtYWlsIn0=\r\n"),
        expect(""),
        send("A0001 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
    ]);
    let client = ImapClient::greet(stream, "h", 993, options())
        .await
        .unwrap();
    let e = client.login(&creds).await.unwrap_err();
    assert!(e.is_auth(), "{e}");
    assert_eq!(
        e.server_reply(),
        Some("NO [AUTHENTICATIONFAILED] Authentication failed.")
    );
    assert_eq!(e.sasl_status().as_deref(), Some("401"));
    assert_eq!(
        e.diagnosis(ProviderKind::Google).code,
        "access_token_rejected"
    );
    assert!(!format!("{e:?}{e}").contains("ya29.revoked"));
    server.await.unwrap();
}

#[tokio::test]
async fn oauthbearer_failure_is_answered_with_0x01_and_alerts_keep_their_code() {
    let creds = Credentials::OAuthBearer {
        user: "alice@example.test".into(),
        token: SecretString::from("bad"),
        host: "imap.example.test".into(),
        port: 993,
    };
    let (stream, server) = scripted(vec![
        send(GREETING),
        expect("A0001 AUTHENTICATE OAUTHBEARER"),
        send("+ \r\n"),
        expect(&ir(&creds)),
        send("+ eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=\r\n"),
        expect("AQ=="),
        send("A0001 NO [ALERT] Too many simultaneous connections. (Failure)\r\n"),
    ]);
    let client = ImapClient::greet(stream, "h", 993, options())
        .await
        .unwrap();
    let e = client.login(&creds).await.unwrap_err();
    assert_eq!(e.sasl_challenge(), Some(r#"{"status":"invalid_token"}"#));
    // The final reply is more specific than the challenge, and wins.
    assert_eq!(
        e.diagnosis(ProviderKind::Google).code,
        "too_many_connections"
    );
    assert!(e.is_transient());
    server.await.unwrap();
}

#[tokio::test]
async fn passwords_use_authenticate_plain_or_login_and_respect_logindisabled() {
    let creds = Credentials::Plain {
        user: "alice@example.test".into(),
        password: SecretString::from("alice-password"),
    };
    let mut script = vec![send(GREETING)];
    script.extend(login_steps(&creds, AFTER_LOGIN));
    let (stream, server) = scripted(script);
    let client = ImapClient::greet(stream, "h", 993, options())
        .await
        .unwrap();
    client.login(&creds).await.unwrap();
    server.await.unwrap();

    let (stream, server) = scripted(vec![
        send("* OK [CAPABILITY IMAP4rev1] hi\r\n"),
        expect("A0001 LOGIN \"alice@example.test\" \"alice-password\""),
        send("A0001 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"),
    ]);
    let client = ImapClient::greet(stream, "h", 143, options())
        .await
        .unwrap();
    let e = client.login(&creds).await.unwrap_err();
    assert!(e.is_auth());
    assert_eq!(e.diagnosis(ProviderKind::Generic).code, "auth_failed");
    assert!(!format!("{e:?}{e}").contains("alice-password"));
    server.await.unwrap();

    // The server could not judge the credentials for now: not a refusal of them.
    let (stream, server) = scripted(vec![
        send("* OK [CAPABILITY IMAP4rev1] hi\r\n"),
        expect("A0001 LOGIN \"alice@example.test\" \"alice-password\""),
        send("A0001 NO [UNAVAILABLE] Temporary authentication failure.\r\n"),
    ]);
    let client = ImapClient::greet(stream, "h", 143, options())
        .await
        .unwrap();
    let e = client.login(&creds).await.unwrap_err();
    assert!(!e.is_auth() && e.is_transient(), "{e:?}");
    assert!(e.server_reply().unwrap().contains("[UNAVAILABLE]"), "{e:?}");
    server.await.unwrap();

    let (stream, _server) = scripted(vec![
        send("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] hi\r\n"),
        Step::Stall,
    ]);
    let client = ImapClient::greet(stream, "h", 143, options())
        .await
        .unwrap();
    let e = client.login(&creds).await.unwrap_err();
    assert!(matches!(e, ProtoError::NotOffered { .. }), "{e}");
    assert_eq!(
        e.diagnosis(ProviderKind::Generic).code,
        "tls_handshake_failed"
    );

    let (stream, _server) = scripted(vec![
        send("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi\r\n"),
        Step::Stall,
    ]);
    let client = ImapClient::greet(stream, "h", 143, options())
        .await
        .unwrap();
    let e = client.login(&xoauth2("t")).await.unwrap_err();
    assert_eq!(
        e.diagnosis(ProviderKind::Generic).code,
        "auth_mechanism_unsupported"
    );
}

/// base64 of `text`, as SASL answers go on the wire.
fn b64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[tokio::test]
async fn authenticate_login_asks_user_then_password_when_plain_and_login_are_unavailable() {
    let creds = Credentials::Plain {
        user: "alice@example.test".into(),
        password: SecretString::from("alice-password"),
    };
    let greeting = "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED AUTH=LOGIN] hi\r\n";
    let (stream, server) = scripted(vec![
        send(greeting),
        expect("A0001 AUTHENTICATE LOGIN"),
        send("+ VXNlcm5hbWU6\r\n"),
        expect(&b64("alice@example.test")),
        send("+ UGFzc3dvcmQ6\r\n"),
        expect(&b64("alice-password")),
        send("A0001 OK Logged in\r\n"),
        expect("A0002 CAPABILITY"),
        send(format!("{AFTER_LOGIN}A0002 OK Capability completed.\r\n")),
    ]);
    let client = ImapClient::greet(stream, "h", 143, options())
        .await
        .unwrap();
    client.login(&creds).await.unwrap();
    server.await.unwrap();

    // A refusal is an authentication failure that never quotes the password, raw or base64.
    let (stream, server) = scripted(vec![
        send(greeting),
        expect("A0001 AUTHENTICATE LOGIN"),
        send("+ VXNlcm5hbWU6\r\n"),
        expect(&b64("alice@example.test")),
        send("+ UGFzc3dvcmQ6\r\n"),
        expect(&b64("alice-password")),
        send(format!(
            "A0001 NO [AUTHENTICATIONFAILED] bad {}\r\n",
            b64("alice-password")
        )),
    ]);
    let client = ImapClient::greet(stream, "h", 143, options())
        .await
        .unwrap();
    let e = client.login(&creds).await.unwrap_err();
    assert!(e.is_auth(), "{e}");
    assert!(e.to_string().contains("LOGIN"), "{e}");
    let shown = format!("{e:?}{e}");
    assert!(
        !shown.contains("alice-password") && !shown.contains(&b64("alice-password")),
        "{shown}"
    );
    server.await.unwrap();
}

#[tokio::test]
async fn an_access_token_goes_over_oauthbearer_when_the_server_offers_only_that() {
    let token = xoauth2("ya29.ok");
    let bearer = Credentials::OAuthBearer {
        user: "alice@example.test".into(),
        token: SecretString::from("ya29.ok"),
        host: "imap.example.test".into(),
        port: 993,
    };
    let (stream, server) = scripted(vec![
        send("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=OAUTHBEARER] hi\r\n"),
        expect("A0001 AUTHENTICATE OAUTHBEARER"),
        send("+ \r\n"),
        expect(&ir(&bearer)),
        send("A0001 OK Logged in\r\n"),
        expect("A0002 CAPABILITY"),
        send(format!("{AFTER_LOGIN}A0002 OK Capability completed.\r\n")),
    ]);
    let client = ImapClient::greet(stream, "imap.example.test", 993, options())
        .await
        .unwrap();
    client.login(&token).await.unwrap();
    server.await.unwrap();
}

#[tokio::test]
async fn starttls_upgrades_asks_again_and_refuses_injected_bytes() {
    let (stream, server) = scripted(vec![
        send("* OK Dovecot ready.\r\n"),
        expect("m1 CAPABILITY"),
        send(
            "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\nm1 OK Pre-login capabilities listed.\r\n",
        ),
        expect("m2 STARTTLS"),
        send("m2 OK Begin TLS negotiation now.\r\n"),
        expect("m3 CAPABILITY"),
        send("* CAPABILITY IMAP4rev1 AUTH=XOAUTH2\r\nm3 OK\r\n"),
    ]);
    let (stream, upgraded) = FakeTls::new(stream);
    let client = ImapClient::greet(stream, "h", 143, options())
        .await
        .unwrap();
    let client = client.starttls(tls_config()).await.unwrap();
    assert!(upgraded.load(Ordering::SeqCst));
    assert!(client.capabilities().has_auth("XOAUTH2"));
    assert!(!client.capabilities().has("LOGINDISABLED"));
    assert_eq!(client.greeting(), "Dovecot ready.");
    server.await.unwrap();

    let (stream, _server) = scripted(vec![
        send("* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n"),
        expect("m1 STARTTLS"),
        send("m1 OK Begin TLS\r\n* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n"),
        Step::Stall,
    ]);
    let (stream, upgraded) = FakeTls::new(stream);
    let client = ImapClient::greet(stream, "h", 143, options())
        .await
        .unwrap();
    let e = client.starttls(tls_config()).await.unwrap_err();
    assert!(e.to_string().contains("injected"), "{e}");
    assert!(!upgraded.load(Ordering::SeqCst));

    let (stream, _server) = scripted(vec![
        send("* OK [CAPABILITY IMAP4rev1] hi\r\n"),
        Step::Stall,
    ]);
    let (stream, _) = FakeTls::new(stream);
    let client = ImapClient::greet(stream, "h", 143, options())
        .await
        .unwrap();
    let e = client.starttls(tls_config()).await.unwrap_err();
    assert_eq!(
        e.diagnosis(ProviderKind::Generic).code,
        "tls_handshake_failed"
    );
}

#[tokio::test]
async fn a_connection_dropped_mid_literal_fails_and_the_session_refuses_more() {
    let (mut s, _server) = session(vec![
        expect("A0003 UID FETCH 5 (UID RFC822.SIZE BODY.PEEK[]<0.1001>)"),
        send("* 1 FETCH (UID 5 RFC822.SIZE 500 BODY[]<0> {500}\r\nSubject: cut\r\n\r\nhalf"),
        Step::Close,
    ])
    .await;
    let e = s.fetch(5, 1000).await.unwrap_err();
    assert!(matches!(e, ProtoError::Closed { .. }), "{e}");
    assert!(e.is_transient());
    assert!(matches!(s.noop().await, Err(ProtoError::Unusable)));
}

#[tokio::test]
async fn garbage_is_a_protocol_error_before_and_after_login() {
    let (stream, _server) = scripted(vec![send("+OK POP3 ready\r\n")]);
    let e = ImapClient::greet(stream, "h", 993, options())
        .await
        .unwrap_err();
    assert!(matches!(e, ProtoError::Protocol { .. }), "{e}");
    assert_eq!(e.server_reply(), Some("+OK POP3 ready"));

    let (mut s, _server) = session(vec![
        expect("A0003 NOOP"),
        send("\x00\x01\x02 garbage )))\r\n"),
        Step::Stall,
    ])
    .await;
    let e = s.noop().await.unwrap_err();
    assert!(matches!(e, ProtoError::Protocol { .. }), "{e}");
    assert!(matches!(s.noop().await, Err(ProtoError::Unusable)));

    let (stream, _server) = scripted(vec![send("* BYE [UNAVAILABLE] Server shutting down.\r\n")]);
    let e = ImapClient::greet(stream, "h", 993, options())
        .await
        .unwrap_err();
    assert!(e.is_transient(), "{e}");
}

#[tokio::test(start_paused = true)]
async fn a_silent_server_times_out_on_the_greeting_and_mid_literal() {
    let (stream, _server) = scripted(vec![Step::Stall]);
    let started = tokio::time::Instant::now();
    let e = ImapClient::greet(stream, "h", 993, options())
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e}");
    assert_eq!(started.elapsed(), TIMEOUT);

    let (mut s, _server) = session(vec![
        expect("A0003 UID FETCH 5 *"),
        send("* 1 FETCH (UID 5 BODY[]<0> {100}\r\nSubject: slow\r\n"),
        Step::Stall,
    ])
    .await;
    let e = s.fetch(5, 1000).await.unwrap_err();
    assert!(e.is_timeout(), "{e}");
    assert_eq!(
        e.diagnosis(ProviderKind::Generic).code,
        "connection_timeout"
    );
    assert!(matches!(s.noop().await, Err(ProtoError::Unusable)));
}

#[tokio::test]
async fn refusals_keep_the_servers_words_and_the_session() {
    let (mut s, server) = session(vec![
        expect("A0003 SELECT \"Tickets\""),
        send("A0003 NO [NONEXISTENT] Mailbox doesn't exist: Tickets\r\n"),
        expect("A0004 UID SEARCH UID 1:*"),
        send("A0004 BAD Error in IMAP command UID SEARCH: No mailbox selected\r\n"),
        expect("A0005 UID FETCH 9 *"),
        send("A0005 OK Fetch completed (no messages).\r\n"),
        expect("A0006 NOOP"),
        send("A0006 OK\r\n"),
    ])
    .await;
    let e = s.select("Tickets").await.unwrap_err();
    assert_eq!(
        e.server_reply(),
        Some("NO [NONEXISTENT] Mailbox doesn't exist: Tickets")
    );
    assert_eq!(
        e.diagnosis(ProviderKind::Generic).code,
        "mailbox_not_accessible"
    );
    // async-imap's own SEARCH would have answered "nothing found" here.
    let e = s.uids_since(0).await.unwrap_err();
    assert!(e.server_reply().unwrap().starts_with("BAD Error"), "{e}");
    let e = s.fetch(9, 1000).await.unwrap_err();
    assert!(matches!(e, ProtoError::NoSuchMessage { .. }), "{e}");
    s.noop().await.unwrap();
    server.await.unwrap();

    let e = ImapSession::connect(
        &Endpoint::new("127.0.0.1", 1, Security::None),
        tls_config(),
        TIMEOUT,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, ProtoError::Connect { .. }), "{e}");
}

#[tokio::test]
async fn oversized_messages_fail_at_the_cap_and_keep_the_session() {
    let (mut s, server) = session(vec![
        expect("A0003 UID FETCH 5 (UID RFC822.SIZE BODY.PEEK[]<0.11>)"),
        send("* 1 FETCH (UID 5 RFC822.SIZE 5000 BODY[]<0> {11}\r\n01234567890)\r\nA0003 OK\r\n"),
        expect("A0004 UID FETCH 6 (UID RFC822.SIZE BODY.PEEK[]<0.11>)"),
        send("* 2 FETCH (UID 6 RFC822.SIZE 10 BODY[]<0> {10}\r\n0123456789)\r\nA0004 OK\r\n"),
    ])
    .await;
    let e = s.fetch(5, 10).await.unwrap_err();
    assert!(
        matches!(
            e,
            ProtoError::TooLarge {
                size: Some(5000),
                max: 10,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(s.fetch(6, 10).await.unwrap(), b"0123456789");
    server.await.unwrap();
}

#[tokio::test]
async fn idle_wakes_up_on_exists_and_says_done() {
    let (s, server) = selected(
        AFTER_LOGIN,
        vec![
            expect("A0004 IDLE"),
            send("+ idling\r\n"),
            send("* 1 FETCH (FLAGS (\\Seen))\r\n* 4 EXISTS\r\n"),
            expect("DONE"),
            send("A0004 OK Idle completed.\r\n"),
            expect("A0005 NOOP"),
            send("A0005 OK\r\n"),
        ],
    )
    .await;
    let (mut s, outcome) = s.idle(Duration::from_secs(60)).await.unwrap();
    assert_eq!(outcome, IdleOutcome::NewData);
    s.noop().await.unwrap();
    server.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn idle_times_out_at_its_deadline_despite_keepalives() {
    let (s, server) = selected(
        AFTER_LOGIN,
        vec![
            expect("A0004 IDLE"),
            send("+ idling\r\n"),
            Step::Wait(Duration::from_secs(60)),
            // async-imap restarts its own timeout here (it would end at 160 s).
            send("* OK Still here\r\n"),
            expect("DONE"),
            send("A0004 OK Idle completed.\r\n"),
        ],
    )
    .await;
    let started = tokio::time::Instant::now();
    let (_s, outcome) = s.idle(Duration::from_secs(100)).await.unwrap();
    assert_eq!(outcome, IdleOutcome::Timeout);
    assert_eq!(started.elapsed(), Duration::from_secs(100));
    server.await.unwrap();
}

#[tokio::test]
async fn news_seen_before_idle_returns_at_once_and_a_drop_during_idle_is_an_error() {
    let (mut s, _server) = selected(
        AFTER_LOGIN,
        vec![
            expect("A0004 NOOP"),
            send("* 5 EXISTS\r\nA0004 OK\r\n"),
            expect("A0005 IDLE"),
            send("+ idling\r\n"),
            Step::Close,
        ],
    )
    .await;
    s.noop().await.unwrap();
    let (s, outcome) = s.idle(Duration::from_secs(60)).await.unwrap();
    assert_eq!(outcome, IdleOutcome::NewData);
    let e = s.idle(Duration::from_secs(60)).await.unwrap_err();
    assert!(matches!(e, ProtoError::Closed { .. }), "{e}");
}

#[tokio::test(start_paused = true)]
async fn without_idle_the_wait_polls_with_noop() {
    let (s, server) = selected(
        "* CAPABILITY IMAP4rev1\r\n",
        vec![
            expect("A0004 NOOP"),
            send("A0004 OK\r\n"),
            expect("A0005 NOOP"),
            send("* 6 EXISTS\r\nA0005 OK\r\n"),
        ],
    )
    .await;
    assert!(!s.supports_idle());
    let started = tokio::time::Instant::now();
    let (_s, outcome) = s.idle(Duration::from_secs(600)).await.unwrap();
    assert_eq!(outcome, IdleOutcome::NewData);
    assert_eq!(started.elapsed(), Duration::from_secs(60));
    server.await.unwrap();
}

/// Random server answers after login never panic the client (a fuzz target run every time).
#[tokio::test]
async fn random_answers_never_panic() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet: &[u8] = b"* A0003 OK NO BAD FETCH (UID 5 BODY[]<0> {3}\r\n) EXISTS 7 SEARCH \xff";
    for _ in 0..200 {
        let len = (next() % 80) as usize;
        let noise: Vec<u8> = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        let (mut s, _server) = session(vec![
            Step::Expect("A0003 *".into()),
            Step::Send(noise),
            Step::Close,
        ])
        .await;
        let _ = match next() % 3 {
            0 => s.fetch(5, 100).await.map(drop),
            1 => s.uids_since(1).await.map(drop),
            _ => s.select("INBOX").await.map(drop),
        };
    }
}

#[tokio::test]
async fn idle_needs_a_selected_folder_and_a_refusal_keeps_the_words() {
    let (s, _server) = session(vec![Step::Stall]).await;
    let e = s.idle(Duration::from_secs(5)).await.unwrap_err();
    assert!(matches!(e, ProtoError::InvalidInput(_)), "{e}");

    let (mut s, _server) = session(vec![
        expect("A0003 SELECT \"INBOX\""),
        send(SELECT_ANSWER),
        expect("A0004 IDLE"),
        send("A0004 BAD IDLE not allowed now.\r\n"),
        Step::Stall,
    ])
    .await;
    s.select("INBOX").await.unwrap();
    let e = s.idle(Duration::from_secs(5)).await.unwrap_err();
    assert!(matches!(e, ProtoError::Rejected { .. }), "{e}");
    assert!(e.to_string().contains("IDLE not allowed now"), "{e}");
}

/// The watchers spawn these futures on a multi-threaded runtime: they must be `Send`.
#[test]
fn session_futures_are_send() {
    fn assert_send<F: std::future::Future + Send>(_: F) {}
    async fn everything(ep: Endpoint, tls: Arc<rustls::ClientConfig>, creds: Credentials) {
        let client = connect(&ep, tls, TIMEOUT).await.unwrap();
        let mut s = client.login(&creds).await.unwrap();
        s.select("INBOX").await.unwrap();
        let uids = s.uids_since(0).await.unwrap();
        s.fetch(uids[0], 10).await.unwrap();
        s.sizes_since(0).await.unwrap();
        s.fetch_many(&uids, 10).await.unwrap();
        s.mark_seen(&[1]).await.unwrap();
        s.move_to(&[1], "Archive").await.unwrap();
        s.delete(&[1]).await.unwrap();
        let (s, _) = s.idle(TIMEOUT).await.unwrap();
        s.logout().await.unwrap();
    }
    assert_send(everything(
        Endpoint::new("h", 993, Security::Ssl),
        tls_config(),
        xoauth2("t"),
    ));
}

/// What a hostile server announces (item: a literal just under async-imap's own 512 MiB cap,
/// which it would allocate at once, zero-filled, before a byte of it arrives).
const HUGE_LITERAL: u64 = 536_000_000;

#[tokio::test]
async fn a_huge_literal_fails_at_once_without_being_allocated() {
    let (mut s, _server) = session(vec![
        expect("A0003 UID FETCH 5 (UID RFC822.SIZE BODY.PEEK[]<0.1001>)"),
        send(format!(
            "* 1 FETCH (UID 5 RFC822.SIZE 10 BODY[]<0> {{{HUGE_LITERAL}}}\r\nSubject: x\r\n"
        )),
        Step::Stall,
    ])
    .await;
    // Without the guard, async-imap allocates the 536 MB and waits for them until the 30 s
    // timeout; with it the announcement alone fails the read.
    let e = tokio::time::timeout(Duration::from_secs(10), s.fetch(5, 1000))
        .await
        .expect("the client must not wait for the literal")
        .unwrap_err();
    match &e {
        ProtoError::OverLimit { size, limit, .. } => {
            assert_eq!(*size, HUGE_LITERAL);
            assert_eq!(*limit, 1001 + LITERAL_MARGIN);
        }
        other => panic!("expected OverLimit, got {other}"),
    }
    assert!(e.to_string().contains("bytes in one literal"), "{e}");
    assert_eq!(e.diagnosis(ProviderKind::Generic).code, "connection_closed");
    assert!(matches!(s.noop().await, Err(ProtoError::Unusable)));
}

#[tokio::test]
async fn literals_outside_a_fetch_of_bodies_and_long_responses_are_bounded() {
    // A literal where none is expected: the default bound, not the body's.
    let (mut s, _server) = session(vec![
        expect("A0003 NOOP"),
        send(format!("* LIST () \"/\" {{{}}}\r\n", MAX_LITERAL + 1)),
        Step::Stall,
    ])
    .await;
    let e = tokio::time::timeout(Duration::from_secs(10), s.noop())
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(e, ProtoError::OverLimit { size, limit: MAX_LITERAL, .. } if size == MAX_LITERAL + 1),
        "{e}"
    );

    // A SEARCH answer that never ends: over the text bound, the connection fails instead of
    // buffering (and parsing again from its start at every read) without end. A small bound
    // here: async-imap's parsing again is quadratic, slow in a debug build.
    let limits = Limits {
        text: 64 * 1024,
        ..Limits::default()
    };
    let mut endless = b"* SEARCH".to_vec();
    while endless.len() as u64 <= limits.text + 10 {
        endless.extend_from_slice(b" 1234567");
    }
    let creds = xoauth2("ya29.ok");
    let mut script = vec![send(GREETING)];
    script.extend(login_steps(&creds, AFTER_LOGIN));
    script.extend([
        expect("A0003 UID SEARCH UID 1:*"),
        send(endless),
        Step::Stall,
    ]);
    let (stream, _server) = scripted(script);
    let options = ImapOptions {
        limits,
        ..options()
    };
    let client = ImapClient::greet(stream, "h", 993, options).await.unwrap();
    let mut s = client.login(&creds).await.unwrap();
    let e = tokio::time::timeout(Duration::from_secs(10), s.uids_since(0))
        .await
        .expect("the client must not wait for the end of the line")
        .unwrap_err();
    assert!(
        matches!(e, ProtoError::OverLimit { limit, .. } if limit == limits.text),
        "{e}"
    );
    assert!(
        e.to_string().contains("bytes of text in one response"),
        "{e}"
    );
}

#[tokio::test]
async fn a_flood_of_untagged_lines_before_login_is_bounded() {
    let mut flood = String::from(GREETING);
    let mut script = Vec::new();
    while flood.len() < 400 * 1024 {
        flood.push_str("* OK [ALERT] this line repeats to fill the client's memory\r\n");
    }
    script.push(send("* OK ready without capabilities\r\n"));
    script.push(expect("m1 CAPABILITY"));
    script.push(send(flood));
    script.push(Step::Stall);
    let (stream, _server) = scripted(script);
    let mut client = ImapClient::greet(stream, "h", 993, options())
        .await
        .unwrap();
    let e = tokio::time::timeout(Duration::from_secs(10), client.capability())
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(e, ProtoError::OverLimit { .. }), "{e}");
    assert!(e.to_string().contains("before login"), "{e}");
}

#[tokio::test]
async fn non_ascii_text_right_after_a_response_code_is_read_without_a_panic() {
    // imap-proto 0.17 slices the text after `]` at byte 1: a multi-byte character there (or a
    // byte that is not UTF-8 at all) panicked inside async-imap. A message body that holds the
    // same bytes is a literal and comes back unchanged.
    let message = "Subject: [#7]é\r\n\r\n[x]\u{fffd}\r\n".as_bytes();
    let (mut s, _server) = session(vec![
        expect("A0003 SELECT \"INBOX\""),
        send("* OK [UIDVALIDITY 1700000000]é\r\n* 3 EXISTS\r\n"),
        send(b"A0003 OK [READ-WRITE]\xff\xfe Select completed.\r\n".as_slice()),
        expect("A0004 UID FETCH 5 (UID RFC822.SIZE BODY.PEEK[]<0.1001>)"),
        send(format!(
            "* 1 FETCH (UID 5 RFC822.SIZE {len} BODY[]<0> {{{len}}}\r\n",
            len = message.len()
        )),
        send(message),
        send(")\r\nA0004 OK [x]\u{e9} done\r\n"),
    ])
    .await;
    let mailbox = s.select("INBOX").await.unwrap();
    assert_eq!(mailbox.uid_validity, 1_700_000_000);
    assert_eq!(s.fetch(5, 1000).await.unwrap(), message);
}
