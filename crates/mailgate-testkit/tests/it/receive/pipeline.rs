use mailgate_core::objects::{IncomingServers, Objects};
use mailgate_core::receive::pipeline::{self, WatchedMailbox};
use mailgate_store::testing::TestQueries as _;
use mailgate_store::{ImportOutcome, MailSource};
use mailgate_testkit::{TestApp, spawn_app};
use serde_json::{Value, json};

/// An incoming server (password auth: the pipeline does not connect) and its mailbox context.
async fn mailbox(app: &TestApp, extra: Value) -> WatchedMailbox {
    let mut body = json!({"name": format!("Support {}", uuid::Uuid::new_v4()), "email": "support@example.test", "protocol": "imap", "host": "127.0.0.1",
                          "auth": "basic", "password": "p", "group": "IT", "category": "Hardware"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let created = app.post("/api/v1/incoming-servers", body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().parse().unwrap();
    let (_, spec, _) = Objects::<IncomingServers>::load(&app.core, id)
        .await
        .unwrap();
    WatchedMailbox {
        server_id: id,
        name: spec.name.clone(),
        spec,
        thread_by_tag: app.core.settings.receive_thread_by_tag,
    }
}

async fn feed(app: &TestApp, mailbox: &WatchedMailbox, uid: i64, raw: &str) -> ImportOutcome {
    let source = MailSource {
        server_id: mailbox.server_id,
        key: format!("{}:1:{uid}", mailbox.server_id),
        progress: Some((1, uid)),
    };
    pipeline::process(&app.core, mailbox, source, raw.as_bytes().to_vec())
        .await
        .unwrap()
}

fn message(from: &str, subject: &str, extra_headers: &str, body: &str) -> String {
    format!(
        "From: Customer <{from}>\r\nTo: support@example.test\r\nSubject: {subject}\r\nMessage-ID: <{}@customer.example>\r\n{extra_headers}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
        uuid::Uuid::new_v4()
    )
}

#[tokio::test]
async fn a_new_message_opens_a_ticket_and_a_tagged_reply_joins_it() {
    let app = spawn_app().await;
    let mb = mailbox(&app, json!({})).await;
    let ImportOutcome::Imported {
        ticket_number,
        new_ticket: true,
        ..
    } = feed(
        &app,
        &mb,
        1,
        &message("ann@customer.example", "Printer on fire", "", "It burns."),
    )
    .await
    else {
        panic!()
    };
    let reply = message(
        "ann@customer.example",
        &format!("Re: [#{ticket_number}] Printer on fire"),
        "",
        "Still burning.",
    );
    assert!(
        matches!(feed(&app, &mb, 2, &reply).await, ImportOutcome::Imported { new_ticket: false, ticket_number: n, .. } if n == ticket_number)
    );
    // A reply naming one of our Message-IDs that is not on record still follows the tag.
    let domain = pipeline::message_id_domain(&app.core);
    let unknown_ours = format!(
        "In-Reply-To: <{}@{domain}>\r\n",
        uuid::Uuid::new_v4().simple()
    );
    let reply = message(
        "ann@customer.example",
        &format!("Re: [#{ticket_number}] Printer on fire"),
        &unknown_ours,
        "Any news?",
    );
    assert!(
        matches!(feed(&app, &mb, 3, &reply).await, ImportOutcome::Imported { new_ticket: false, ticket_number: n, .. } if n == ticket_number),
        "the tag is the fallback for unknown Message-IDs"
    );

    let ticket = app.get(&format!("/api/v1/tickets/{ticket_number}")).await;
    assert_eq!(ticket.status, 200, "{}", ticket.body);
    assert_eq!(
        (
            ticket.body["group"].as_str(),
            ticket.body["category"].as_str(),
            ticket.body["requester"].as_str()
        ),
        (Some("IT"), Some("Hardware"), Some("ann@customer.example"))
    );
    let texts: Vec<&str> = ticket.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().trim())
        .collect();
    assert_eq!(texts, ["It burns.", "Still burning.", "Any news?"]);
    let kinds: Vec<_> = app
        .get("/api/v1/events")
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        kinds.contains(&"ticket.created".to_owned())
            && kinds.contains(&"ticket.message_added".to_owned()),
        "{kinds:?}"
    );
    let listed = app.get("/api/v1/tickets?q=printer").await.body;
    assert_eq!(listed[0]["number"], ticket_number);
}

#[tokio::test]
async fn filters_work_both_ways_and_ignored_mail_is_recorded() {
    let app = spawn_app().await;
    let allow = mailbox(&app, json!({"filter": {"type": "allow", "domains": ["customer.example"], "keywords": ["urgent"]}})).await;
    assert!(matches!(
        feed(
            &app,
            &allow,
            1,
            &message("a@customer.example", "Hi", "", "x")
        )
        .await,
        ImportOutcome::Imported { .. }
    ));
    assert!(
        matches!(
            feed(
                &app,
                &allow,
                2,
                &message("b@elsewhere.example", "An URGENT matter", "", "x")
            )
            .await,
            ImportOutcome::Imported { .. }
        ),
        "a keyword in the subject passes"
    );
    assert!(
        matches!(
            feed(
                &app,
                &allow,
                4,
                &message(
                    "d@elsewhere.example",
                    "Question",
                    "",
                    "This is Urgent, please."
                )
            )
            .await,
            ImportOutcome::Imported { .. }
        ),
        "a keyword in the body passes, whatever its case"
    );
    assert_eq!(
        feed(
            &app,
            &allow,
            3,
            &message("c@elsewhere.example", "Hello", "", "nothing special")
        )
        .await,
        ImportOutcome::Skipped
    );

    let ignore = mailbox(&app, json!({"filter": {"type": "ignore", "emails": ["noreply@vendor.example"], "domains": ["spam.example"]}})).await;
    assert_eq!(
        feed(
            &app,
            &ignore,
            1,
            &message("NoReply@Vendor.example", "Newsletter", "", "x")
        )
        .await,
        ImportOutcome::Skipped,
        "case-insensitive"
    );
    assert_eq!(
        feed(&app, &ignore, 2, &message("x@spam.example", "Win", "", "x")).await,
        ImportOutcome::Skipped
    );
    assert!(matches!(
        feed(
            &app,
            &ignore,
            3,
            &message("real@customer.example", "Help", "", "x")
        )
        .await,
        ImportOutcome::Imported { .. }
    ));

    let ignored: Vec<Value> = app
        .get("/api/v1/events")
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "message.ignored")
        .cloned()
        .collect();
    assert_eq!(ignored.len(), 3);
    assert!(
        ignored[0]["data"]["reason"]
            .as_str()
            .unwrap()
            .contains("allow"),
        "{:?}",
        ignored[0]
    );
    assert_eq!(
        ignored[1]["data"]["from"]
            .as_str()
            .map(str::to_lowercase)
            .as_deref(),
        Some("noreply@vendor.example")
    );
}

#[tokio::test]
async fn auto_replies_bounces_and_loops_never_open_tickets() {
    let app = spawn_app().await;
    let mb = mailbox(&app, json!({})).await;
    let original = message("ann@customer.example", "Broken screen", "", "Please help.");
    let original_id = original
        .lines()
        .find_map(|l| l.strip_prefix("Message-ID: <"))
        .unwrap()
        .trim_end_matches('>')
        .to_owned();
    let ImportOutcome::Imported { ticket_number, .. } = feed(&app, &mb, 1, &original).await else {
        panic!()
    };

    // An out-of-office that answers no ticket is dropped; one quoting the tag joins its ticket.
    let oof = message(
        "bob@customer.example",
        "Automatic reply: hello",
        "Auto-Submitted: auto-replied\r\n",
        "I am away.",
    );
    assert_eq!(feed(&app, &mb, 2, &oof).await, ImportOutcome::Skipped);
    let tagged_oof = message(
        "ann@customer.example",
        &format!("Automatic reply: [#{ticket_number}] Broken screen"),
        "Auto-Submitted: auto-replied\r\n",
        "Away.",
    );
    assert!(matches!(
        feed(&app, &mb, 3, &tagged_oof).await,
        ImportOutcome::Imported {
            new_ticket: false,
            ..
        }
    ));

    // A delivery failure report about a message of the ticket joins that ticket.
    let bounce = format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.customer.example>\r\nTo: support@example.test\r\nSubject: Undelivered Mail Returned to Sender\r\n\
         Message-ID: <bounce-{0}@mx.customer.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
         --B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.customer.example\r\n\r\n\
         Final-Recipient: rfc822; gone@customer.example\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user\r\n\r\n\
         --B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{original_id}>\r\nSubject: Broken screen\r\n\r\n--B--\r\n",
        uuid::Uuid::new_v4()
    );
    assert!(
        matches!(feed(&app, &mb, 4, &bounce).await, ImportOutcome::Imported { new_ticket: false, ticket_number: n, .. } if n == ticket_number)
    );

    // Our own mail coming back is a loop.
    let looped = message(
        "someone@customer.example",
        "Fwd",
        "X-Loop: mailgate\r\n",
        "x",
    );
    assert_eq!(feed(&app, &mb, 5, &looped).await, ImportOutcome::Skipped);

    let ticket = app
        .get(&format!("/api/v1/tickets/{ticket_number}"))
        .await
        .body;
    let kinds: Vec<&str> = ticket["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["normal", "auto_reply", "bounce"]);
    assert_eq!(
        app.get("/api/v1/tickets")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1,
        "no other ticket was opened"
    );
}

#[tokio::test]
async fn malformed_mail_is_kept_and_flagged_and_nothing_is_doubled() {
    let app = spawn_app().await;
    let mb = mailbox(&app, json!({})).await;
    let garbage = "\u{1}\u{2}this is not\r\nan email at all \u{ff}";
    let ImportOutcome::Imported { ticket_number, .. } = feed(&app, &mb, 1, garbage).await else {
        panic!()
    };
    let ticket = app
        .get(&format!("/api/v1/tickets/{ticket_number}"))
        .await
        .body;
    assert_eq!(ticket["subject"], "(no subject)");
    assert!(
        !ticket["messages"][0]["problems"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{ticket}"
    );

    // The same source again (a crash between commit and the mailbox action): not imported twice.
    assert_eq!(
        feed(&app, &mb, 1, garbage).await,
        ImportOutcome::AlreadySeen
    );
    // The same Message-ID from another source (sent to two of our mailboxes): one message.
    let once = message("ann@customer.example", "Twice", "", "x");
    let ImportOutcome::Imported { ticket_number, .. } = feed(&app, &mb, 2, &once).await else {
        panic!()
    };
    assert_eq!(
        feed(&app, &mb, 3, &once).await,
        ImportOutcome::Duplicate { ticket_number }
    );
    assert_eq!(app.core.store.count_messages().await.unwrap(), 2);
}

/// The requester is the address a reply goes to: read per RFC 5322, taken from Sender,
/// Reply-To or Return-Path when From has none (flagged), never a word that is no address.
#[tokio::test]
async fn the_requester_is_an_address_from_a_fallback_or_unknown() {
    let app = spawn_app().await;
    let mb = mailbox(&app, json!({})).await;
    let cases = [
        // (headers, requester, requester_name, a problem fragment)
        (
            "From: \"john doe\"@customer.example\r\n",
            "\"john doe\"@customer.example",
            None,
            None,
        ),
        (
            "From: Ann <@relay.example:ann@[IPv6:2001:db8::1]>\r\n",
            "ann@[IPv6:2001:db8::1]",
            Some("Ann"),
            None,
        ),
        (
            "From: Support Team\r\nSender: helper@customer.example\r\n",
            "helper@customer.example",
            Some("Support Team"),
            Some("taken from Sender"),
        ),
        (
            "From: <>\r\nReply-To: Form <form@customer.example>\r\n",
            "form@customer.example",
            Some("Form"),
            Some("taken from Reply-To"),
        ),
        (
            "From: Support Team\r\nReturn-Path: <>\r\n",
            "unknown",
            Some("Support Team"),
            Some("no sender address"),
        ),
    ];
    for (uid, (headers, requester, name, problem)) in cases.into_iter().enumerate() {
        let raw = format!(
            "{headers}To: support@example.test\r\nSubject: Help {uid}\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\nMessage-ID: <{}@customer.example>\r\n\r\nhelp\r\n",
            uuid::Uuid::new_v4()
        );
        let ImportOutcome::Imported {
            ticket_number,
            new_ticket: true,
            ..
        } = feed(&app, &mb, uid as i64 + 1, &raw).await
        else {
            panic!("{headers:?} was not imported")
        };
        let ticket = app
            .get(&format!("/api/v1/tickets/{ticket_number}"))
            .await
            .body;
        assert_eq!(ticket["requester"], requester, "{headers:?}: {ticket}");
        assert_eq!(ticket["requester_name"].as_str(), name, "{headers:?}");
        let message = &ticket["messages"][0];
        assert_eq!(
            message["from"].as_str(),
            (requester != "unknown").then_some(requester),
            "{headers:?}"
        );
        assert_eq!(message["from_name"].as_str(), name, "{headers:?}");
        let problems = message["problems"].as_array().unwrap();
        match problem {
            None => assert!(problems.is_empty(), "{headers:?}: {problems:?}"),
            Some(fragment) => assert!(
                problems
                    .iter()
                    .any(|p| p.as_str().unwrap().contains(fragment)),
                "{headers:?}: {problems:?}"
            ),
        }
    }
}

/// The first attachment of a ticket's first message, as the API lists it.
async fn first_attachment(app: &TestApp, ticket_number: i64) -> Value {
    let ticket = app
        .get(&format!("/api/v1/tickets/{ticket_number}"))
        .await
        .body;
    ticket["messages"][0]["attachments"][0].clone()
}

/// An attachment's download link, followed.
async fn download(app: &TestApp, attachment: &Value) -> reqwest::Response {
    let url = format!("{}{}", app.address, attachment["url"].as_str().unwrap());
    let res = app.http.get(url).bearer_auth(&app.token).send().await;
    res.unwrap()
}

#[tokio::test]
async fn attachments_are_stored_with_safe_names_and_downloadable() {
    let app = spawn_app().await;
    let mb = mailbox(&app, json!({})).await;
    let raw = "From: ann@customer.example\r\nTo: support@example.test\r\nSubject: Logs\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"X\"\r\n\r\n\
               --X\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--X\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"../../etc/passwd\"\r\n\
               Content-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29ybGQ=\r\n--X--\r\n";
    let ImportOutcome::Imported { ticket_number, .. } = feed(&app, &mb, 1, raw).await else {
        panic!()
    };
    let attachment = first_attachment(&app, ticket_number).await;
    assert_eq!(attachment["filename"], "passwd");
    assert_eq!(attachment["size"], 11);
    let res = download(&app, &attachment).await;
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"passwd\""
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"hello world");
}

/// A message from ann with `headers` (From and To given), a text part, and `bytes` attached
/// as `name` in base64 lines of 76 characters.
fn with_attachment(headers: &str, name: &str, bytes: &[u8]) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "From: ann@customer.example\r\nTo: support@example.test\r\n{headers}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"X\"\r\n\r\n\
         --X\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--X\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--X--\r\n",
        lines.join("\r\n")
    )
}

/// A large attachment is kept as its place in the raw message (not stored twice) and is
/// downloaded with its exact bytes, decoded from there.
#[tokio::test]
async fn a_large_attachment_is_read_back_from_the_raw_message() {
    let app = spawn_app().await;
    let mb = mailbox(&app, json!({})).await;
    let bytes: Vec<u8> = (0..100_000u32).map(|i| (i * 31 % 251) as u8).collect();
    let raw = with_attachment("Subject: Dump\r\n", "core.bin", &bytes);
    let ImportOutcome::Imported { ticket_number, .. } = feed(&app, &mb, 1, &raw).await else {
        panic!()
    };
    let listed = app.core.store.ticket_messages(ticket_number).await.unwrap();
    let kept = &listed[0].attachments[0];
    assert!(kept.in_raw.is_some(), "{kept:?} kept in the raw message");
    let attachment = first_attachment(&app, ticket_number).await;
    assert_eq!(attachment["size"], 100_000);
    let res = download(&app, &attachment).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().as_ref(), bytes.as_slice());
}

/// RFC 5322 allows one Subject: the first is kept (mail-parser alone would take the last), the
/// message is flagged, and the attachment after the rewritten header section is still read
/// back from the raw message, which is stored as it came.
#[tokio::test]
async fn a_duplicated_subject_keeps_the_first_and_is_flagged() {
    let app = spawn_app().await;
    let mb = mailbox(&app, json!({})).await;
    let bytes: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let headers = "Date: Mon, 07 Dec 2026 10:00:00 +0000\r\nSubject: Printer on fire\r\nSubject: Ignore me\r\n";
    let raw = with_attachment(headers, "log.bin", &bytes);
    let ImportOutcome::Imported { ticket_number, .. } = feed(&app, &mb, 1, &raw).await else {
        panic!()
    };
    let ticket = app
        .get(&format!("/api/v1/tickets/{ticket_number}"))
        .await
        .body;
    assert_eq!(ticket["subject"], "Printer on fire", "{ticket}");
    assert_eq!(
        ticket["messages"][0]["problems"],
        json!(["duplicate Subject header (the first is kept)"]),
        "{ticket}"
    );
    let listed = app.core.store.ticket_messages(ticket_number).await.unwrap();
    let kept = &listed[0].attachments[0];
    assert!(kept.in_raw.is_some(), "{kept:?} kept in the raw message");
    let attachment = first_attachment(&app, ticket_number).await;
    let res = download(&app, &attachment).await;
    assert_eq!(res.bytes().await.unwrap().as_ref(), bytes.as_slice());
}

/// Anyone can send mail: the API hands its HTML out without scripts, event handlers or
/// `javascript:` links (the raw message keeps it as it came).
#[tokio::test]
async fn incoming_html_is_returned_cleaned() {
    let app = spawn_app().await;
    let mb = mailbox(&app, json!({})).await;
    let raw = format!(
        "From: Eve <eve@evil.example>\r\nTo: support@example.test\r\nSubject: Look\r\nMessage-ID: <{}@evil.example>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p onclick=\"steal()\">Hello<script>steal()</script> <a href=\"javascript:steal()\">here</a></p><img src=\"x\" onerror=\"steal()\">\r\n",
        uuid::Uuid::new_v4()
    );
    let ImportOutcome::Imported { ticket_number, .. } = feed(&app, &mb, 1, &raw).await else {
        panic!()
    };
    let ticket = app.get(&format!("/api/v1/tickets/{ticket_number}")).await;
    let html = ticket.body["messages"][0]["html"].as_str().unwrap();
    assert!(html.contains("Hello") && html.contains("here"), "{html}");
    for unsafe_part in ["script", "onclick", "onerror", "javascript:", "steal"] {
        assert!(!html.contains(unsafe_part), "{unsafe_part} in {html}");
    }
}
