use super::*;
use mailgate_testkit::spawn_app_on_world as spawn_app;
use std::time::Instant;

/// The messages of ticket `number`, waiting (bounded) until there are `count`.
async fn ticket_messages(app: &TestApp, number: &Value, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let detail = app.get(&format!("/api/v1/tickets/{number}")).await.body;
        let messages = detail["messages"].as_array().cloned().unwrap_or_default();
        if messages.len() >= count || Instant::now() > deadline {
            return messages;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The tickets, waiting (bounded) until there is one.
async fn tickets(app: &TestApp) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let tickets = app
            .get("/api/v1/tickets")
            .await
            .body
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !tickets.is_empty() || Instant::now() > deadline {
            return tickets;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_customer_round_trip_stays_in_one_ticket() {
    let app = spawn_app().await;
    let world = app.world();
    let oauth = app.google_oauth_app().await;
    let support = world.fresh_user("support");
    let customer = world.fresh_user("customer");

    // The support mailbox: read over IMAP, answered through its own SMTP submission.
    let outgoing = app
        .post(
            "/api/v1/outgoing-servers",
            json!({"name": "Support SMTP", "email": support, "sender_name": "Support", "protocol": "smtp",
                   "host": "127.0.0.1", "port": world.stack.submission_port, "security": "starttls",
                   "auth": "oauth", "oauth_app_id": oauth["id"]}),
        )
        .await;
    assert_eq!(outgoing.status, 201, "{}", outgoing.body);
    // One consent: the grant serves both servers of the mailbox.
    let body = json!({"name": "Support inbox", "email": support, "protocol": "imap", "import_from": "all", "host": "127.0.0.1",
                      "port": world.stack.imaps_port, "security": "ssl", "auth": "oauth", "oauth_app_id": oauth["id"],
                      "outgoing_server_id": outgoing.body["id"]});
    let incoming = app.authorized_server("incoming", body, &support).await;
    let watching = app.watch(&incoming["id"]);

    // 1. The customer writes in: a new ticket.
    let question_id = format!("{}@customer.example", uuid::Uuid::new_v4().simple());
    world
        .deliver(
            &customer,
            &support,
            &format!(
                "From: Casey <{customer}>\r\nTo: {support}\r\nSubject: Printer on fire\r\nMessage-ID: <{question_id}>\r\n\r\nPlease help.\r\n"
            ),
        )
        .await;
    let tickets = tickets(&app).await;
    assert_eq!(tickets.len(), 1, "{tickets:?}");
    let number = tickets[0]["number"].clone();

    // 2. The agent replies through the API.
    let reply = app
        .post(
            &format!("/api/v1/tickets/{number}/reply"),
            json!({"text": "We sent a technician."}),
        )
        .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert_eq!(reply.body["to"], json!([customer]));
    assert_eq!(reply.body["ticket_number"], number);
    let sent = deliver(&app, &reply.body["id"]).await;
    assert_eq!(sent["status"], "sent", "{sent:#}");
    assert_eq!(
        sent["sent_server_id"], outgoing.body["id"],
        "the mailbox's own server"
    );

    let raw = received(&app, &customer).await;
    let answer = mailgate_domain::mail::parse(raw.as_bytes());
    let tag = format!("[#{number}]");
    assert_eq!(answer.subject, format!("Re: {tag} Printer on fire"));
    assert_eq!(answer.in_reply_to, vec![question_id.clone()]);
    assert!(answer.references.contains(&question_id));
    assert_eq!(
        answer.reply_to.first().map(|r| r.address.as_str()),
        Some(support.as_str())
    );
    let reply_id = answer.message_id.clone().unwrap();
    let messages = ticket_messages(&app, &number, 2).await;
    assert_eq!(messages.len(), 2, "the reply is a message of the ticket");
    assert_eq!(messages[1]["direction"], "out");

    // 3. The customer answers from a client that keeps the headers but drops the tag...
    world
        .deliver(
            &customer,
            &support,
            &format!(
                "From: Casey <{customer}>\r\nTo: {support}\r\nSubject: Re: Printer on fire\r\nMessage-ID: <{}@customer.example>\r\nIn-Reply-To: <{reply_id}>\r\nReferences: <{question_id}> <{reply_id}>\r\n\r\nThanks, it is out.\r\n",
                uuid::Uuid::new_v4().simple()
            ),
        )
        .await;
    assert_eq!(ticket_messages(&app, &number, 3).await.len(), 3);
    // ...and once more from one that keeps only the subject.
    world
        .deliver(
            &customer,
            &support,
            &format!(
                "From: Casey <{customer}>\r\nTo: {support}\r\nSubject: Re: {tag} Printer on fire\r\nMessage-ID: <{}@customer.example>\r\n\r\nOne more thing.\r\n",
                uuid::Uuid::new_v4().simple()
            ),
        )
        .await;
    let messages = ticket_messages(&app, &number, 4).await;
    assert_eq!(messages.len(), 4);
    let all = app.get("/api/v1/tickets").await.body;
    assert_eq!(all.as_array().unwrap().len(), 1, "no new ticket: {all}");
    watching.stop().await;
}
