use super::*;
use mailgate_testkit::spawn_app_on_world as spawn_app;
use mailgate_testkit::{Answer, Watching, eventually};

/// The messages of ticket `number`, waiting (bounded) until there are `count`.
async fn ticket_messages(app: &TestApp, number: &Value, count: usize) -> Vec<Value> {
    let what = format!("{count} messages in ticket {number}");
    eventually(&what, Duration::from_secs(20), async || {
        let detail = app.get(&format!("/api/v1/tickets/{number}")).await.body;
        let messages = detail["messages"].as_array().cloned().unwrap_or_default();
        (messages.len() >= count).then_some(messages)
    })
    .await
}

/// The tickets, waiting (bounded) until there is one.
async fn tickets(app: &TestApp) -> Vec<Value> {
    eventually("a ticket", Duration::from_secs(20), async || {
        let tickets = app.tickets().await;
        (!tickets.is_empty()).then_some(tickets)
    })
    .await
}

/// A support mailbox, watched: read over IMAP (`import_from: all`), answered through its own
/// SMTP submission. Its address, its outgoing server, and the watcher.
async fn support_desk(app: &TestApp) -> (String, Answer, Watching) {
    let world = app.world();
    let oauth = app.google_oauth_app().await;
    let support = world.fresh_user("support");
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
    (support, outgoing, watching)
}

#[tokio::test]
async fn a_customer_round_trip_stays_in_one_ticket() {
    let app = spawn_app().await;
    let world = app.world();
    let customer = world.fresh_user("customer");
    let (support, outgoing, watching) = support_desk(&app).await;

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

/// Issue 20, item 2: a web form writes in for a customer (From the form's no-reply address,
/// Reply-To the customer), imported over IMAP. The API shows the Reply-To; the agent's reply
/// goes to the customer, not to the form; and the customer's answer, whose client writes
/// In-Reply-To and References without angle brackets, comma-separated and folded, with no tag
/// in the subject, joins that ticket and not the customer's other one. A colleague answering
/// the form's message (the customer's id, not ours) joins it too.
#[tokio::test]
async fn replies_go_to_the_reply_to_and_every_id_form_threads() {
    let app = spawn_app().await;
    let world = app.world();
    let customer = world.fresh_user("customer");
    let form = world.fresh_user("noreply-form");
    let colleague = world.fresh_user("colleague");
    let (support, _, watching) = support_desk(&app).await;

    // The customer's own earlier ticket: a reply must not land here.
    world
        .deliver(
            &customer,
            &support,
            &format!(
                "From: Casey <{customer}>\r\nTo: {support}\r\nSubject: Invoice question\r\nMessage-ID: <{}@customer.example>\r\n\r\nWhere is my invoice?\r\n",
                uuid::Uuid::new_v4().simple()
            ),
        )
        .await;
    let first = tickets(&app).await;
    assert_eq!(first.len(), 1, "{first:?}");
    let other = first[0]["number"].clone();

    let form_id = format!("{}@forms.example", uuid::Uuid::new_v4().simple());
    world
        .deliver(
            &form,
            &support,
            &format!(
                "From: Contact form <{form}>\r\nReply-To: Casey <{customer}>\r\nTo: {support}\r\nSubject: Contact form: printer\r\nMessage-ID: <{form_id}>\r\n\r\nThe printer is on fire.\r\n"
            ),
        )
        .await;
    let number = eventually(
        "the form's message opening a ticket",
        Duration::from_secs(20),
        async || {
            let all = app.get("/api/v1/tickets").await.body;
            all.as_array()
                .unwrap()
                .iter()
                .find(|t| t["number"] != other)
                .map(|t| t["number"].clone())
        },
    )
    .await;
    let messages = ticket_messages(&app, &number, 1).await;
    assert_eq!(messages[0]["reply_to"], json!([customer]));
    assert_eq!(messages[0]["in_reply_to"], json!([]));
    assert_eq!(messages[0]["references"], json!([]));

    // The agent replies without naming anyone: to the Reply-To.
    let reply = app
        .post(
            &format!("/api/v1/tickets/{number}/reply"),
            json!({"text": "A technician is on the way."}),
        )
        .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert_eq!(reply.body["to"], json!([customer]));
    let sent = deliver(&app, &reply.body["id"]).await;
    assert_eq!(sent["status"], "sent", "{sent:#}");
    let raw = received(&app, &customer).await;
    let answer = mailgate_domain::mail::parse(raw.as_bytes());
    assert_eq!(answer.in_reply_to, vec![form_id.clone()]);
    let form_inbox = world.read_inbox(&form, 0, Duration::ZERO).await;
    assert!(form_inbox.is_empty(), "the form got {form_inbox:?}");
    let reply_id = answer.message_id.clone().unwrap();
    let messages = ticket_messages(&app, &number, 2).await;
    assert_eq!(messages[1]["direction"], "out");
    assert_eq!(messages[1]["in_reply_to"], json!([form_id]));
    assert_eq!(messages[1]["references"], json!([form_id]));
    assert_eq!(messages[1]["reply_to"], json!([support]));

    // The customer answers: bare ids, with a comment, comma-separated, folded, repeated; no
    // tag in the subject (mail-parser read none of these ids).
    world
        .deliver(
            &customer,
            &support,
            &format!(
                "From: Casey <{customer}>\r\nTo: {support}\r\nSubject: Re: Contact form: printer\r\nMessage-ID: <{}@customer.example>\r\nIn-Reply-To: {reply_id} (Casey)\r\nReferences: {form_id},\r\n {reply_id}, {reply_id}\r\n\r\nIt is out, thanks.\r\n",
                uuid::Uuid::new_v4().simple()
            ),
        )
        .await;
    let messages = ticket_messages(&app, &number, 3).await;
    assert_eq!(messages.len(), 3, "the answer joined the form's ticket");
    assert_eq!(messages[2]["in_reply_to"], json!([reply_id]));
    assert_eq!(messages[2]["references"], json!([form_id, reply_id]));
    assert_eq!(messages[2]["reply_to"], json!([]));

    // A colleague answers the form's message itself: only the customer's id, in brackets
    // broken across a folded line.
    let (left, right) = form_id.split_at(10);
    world
        .deliver(
            &colleague,
            &support,
            &format!(
                "From: Dana <{colleague}>\r\nTo: {support}\r\nSubject: Re: Contact form: printer\r\nMessage-ID: <{}@customer.example>\r\nIn-Reply-To: <{left}\r\n {right}>\r\n\r\nSame here.\r\n",
                uuid::Uuid::new_v4().simple()
            ),
        )
        .await;
    assert_eq!(ticket_messages(&app, &number, 4).await.len(), 4);
    assert_eq!(ticket_messages(&app, &other, 1).await.len(), 1);
    let all = app.get("/api/v1/tickets").await.body;
    assert_eq!(all.as_array().unwrap().len(), 2, "no new ticket: {all}");
    watching.stop().await;
}
