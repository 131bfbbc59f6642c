use crate::store_test;
use mailgate_domain::Id;
use mailgate_domain::outbox::{AttemptOutcome, OutboxStatus};
use mailgate_store::{AttemptRow, OutboxFinish, OutboxQuery, OutboxRow, Store};

fn queued(key: Option<&str>, at: i64) -> OutboxRow {
    OutboxRow {
        id: Id::new(),
        idempotency_key: key.map(str::to_owned),
        request_hash: vec![1, 2, 3],
        status: OutboxStatus::Queued,
        server_id: None,
        ticket_number: None,
        message_id: format!("{}@mailgate.localhost", Id::new()),
        draft: r#"{"subject":"hi"}"#.into(),
        attempts: 0,
        next_attempt_at_ms: at,
        lease_until_ms: None,
        sent_server_id: None,
        result: None,
        created_at_ms: at,
        updated_at_ms: at,
        sent_at_ms: None,
    }
}

fn finish(id: Id, status: &str, next: i64) -> OutboxFinish {
    OutboxFinish {
        id,
        status: OutboxStatus::parse(status).unwrap(),
        next_attempt_at_ms: next,
        sent_server_id: None,
        result: Some(r#"{"ok":true}"#.into()),
        attempts: vec![AttemptRow {
            round: 1,
            server_id: None,
            server_name: "Support SMTP".into(),
            outcome: if status == "sent" {
                AttemptOutcome::Sent
            } else {
                AttemptOutcome::Transient
            },
            detail: "{}".into(),
            started_at_ms: 10,
            finished_at_ms: 11,
        }],
        event: Some((mailgate_domain::EventKind::MessageSent, "{}".into())),
        ticket_message: None,
    }
}

async fn claim(store: &dyn Store, now: i64) -> Vec<OutboxRow> {
    store.claim_outgoing(now, 1_000, 10).await.unwrap()
}

store_test!(an_idempotency_key_queues_once, |store| {
    let first = queued(Some("order-42"), 100);
    assert_eq!(store.enqueue_outgoing(&first).await.unwrap(), None);
    let again = queued(Some("order-42"), 200);
    let earlier = store.enqueue_outgoing(&again).await.unwrap().unwrap();
    assert_eq!(earlier.id, first.id);
    assert!(store.get_outgoing(again.id).await.unwrap().is_none());
    // Without a key, every request is a new message.
    store.enqueue_outgoing(&queued(None, 1)).await.unwrap();
    assert_eq!(
        store.enqueue_outgoing(&queued(None, 1)).await.unwrap(),
        None
    );
    let all = store
        .list_outgoing(&OutboxQuery {
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
});

store_test!(
    a_claim_takes_due_messages_once_and_counts_the_attempt,
    |store| {
        let due = queued(None, 100);
        let later = queued(None, 5_000);
        store.enqueue_outgoing(&due).await.unwrap();
        store.enqueue_outgoing(&later).await.unwrap();
        let taken = claim(store.as_ref(), 1_000).await;
        assert_eq!(taken.iter().map(|r| r.id).collect::<Vec<_>>(), vec![due.id]);
        assert_eq!(taken[0].status.as_str(), "sending");
        assert_eq!(taken[0].attempts, 1);
        assert_eq!(taken[0].lease_until_ms, Some(2_000));
        // Leased: not handed out again while the lease holds.
        assert!(claim(store.as_ref(), 1_500).await.is_empty());
        // A lapsed lease (its worker died) gives it back, with one more attempt counted.
        let retaken = claim(store.as_ref(), 2_001).await;
        assert_eq!(retaken.len(), 1);
        assert_eq!(retaken[0].id, due.id);
        assert_eq!(retaken[0].attempts, 2);
    }
);

store_test!(
    finishing_a_round_records_answers_and_event_at_once,
    |store| {
        let row = queued(None, 0);
        store.enqueue_outgoing(&row).await.unwrap();
        claim(store.as_ref(), 10).await;
        assert!(
            store
                .finish_outgoing(&finish(row.id, "queued", 60_000), 20)
                .await
                .unwrap()
        );
        let back = store.get_outgoing(row.id).await.unwrap().unwrap();
        assert_eq!(
            (
                back.status.as_str(),
                back.next_attempt_at_ms,
                back.lease_until_ms
            ),
            ("queued", 60_000, None)
        );
        assert!(claim(store.as_ref(), 30_000).await.is_empty());
        claim(store.as_ref(), 60_000).await;
        assert!(
            store
                .finish_outgoing(&finish(row.id, "sent", 0), 60_010)
                .await
                .unwrap()
        );
        let sent = store.get_outgoing(row.id).await.unwrap().unwrap();
        assert_eq!(sent.status.as_str(), "sent");
        assert_eq!(sent.sent_at_ms, Some(60_010));
        assert_eq!(sent.attempts, 2);
        let answers = store.outgoing_attempts(row.id).await.unwrap();
        assert_eq!(answers.len(), 2);
        assert_eq!(answers[1].outcome.as_str(), "sent");
        let events = store.list_events(0, 10).await.unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(
            events[0].subject_id.as_deref(),
            Some(row.id.to_string().as_str())
        );
        // A message that is not being sent cannot be finished again.
        assert!(
            !store
                .finish_outgoing(&finish(row.id, "failed", 0), 70_000)
                .await
                .unwrap()
        );
        assert_eq!(store.list_events(0, 10).await.unwrap().len(), 2);
    }
);

store_test!(a_restart_requeues_what_was_in_flight, |store| {
    let row = queued(None, 0);
    store.enqueue_outgoing(&row).await.unwrap();
    claim(store.as_ref(), 10).await;
    assert_eq!(store.requeue_in_flight(500).await.unwrap(), 1);
    let back = store.get_outgoing(row.id).await.unwrap().unwrap();
    assert_eq!(
        (back.status.as_str(), back.next_attempt_at_ms),
        ("queued", 500)
    );
    assert_eq!(claim(store.as_ref(), 500).await.len(), 1);
});

store_test!(listing_filters_and_pages_newest_first, |store| {
    let mut ids = Vec::new();
    for at in 1..=5 {
        let row = queued(None, at);
        ids.push(row.id);
        store.enqueue_outgoing(&row).await.unwrap();
    }
    let first = store
        .list_outgoing(&OutboxQuery {
            limit: 2,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        first.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![ids[4], ids[3]]
    );
    let next = store
        .list_outgoing(&OutboxQuery {
            limit: 2,
            before: Some(ids[3]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        next.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![ids[2], ids[1]]
    );
    claim(store.as_ref(), 100).await;
    let sending = store
        .list_outgoing(&OutboxQuery {
            status: Some(OutboxStatus::Sending),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(sending.len(), 5);
    assert!(
        store
            .list_outgoing(&OutboxQuery {
                status: Some(OutboxStatus::Queued),
                limit: 50,
                ..Default::default()
            })
            .await
            .unwrap()
            .is_empty()
    );
});

store_test!(
    retry_now_hastens_queued_messages_and_requeues_failed_ones,
    |store| {
        use mailgate_store::{Link, ObjectKind, ObjectRow, OutboxRetry};
        let relay = Id::new();
        let server = ObjectRow {
            id: relay,
            kind: ObjectKind::OutgoingServer,
            name: "Relay".into(),
            spec: "{}".into(),
            sealed: None,
            enabled: true,
            is_primary: true,
            links: Link::default(),
            created_at_ms: 1,
            updated_at_ms: 1,
        };
        store.insert_object(&server).await.unwrap();
        let mut via_relay = queued(None, 1);
        via_relay.server_id = Some(relay);
        let unnamed = queued(None, 1);
        let failed = queued(None, 1);
        for row in [&via_relay, &unnamed, &failed] {
            store.enqueue_outgoing(row).await.unwrap();
        }
        claim(store.as_ref(), 10).await;
        for (row, status) in [
            (&via_relay, "queued"),
            (&unnamed, "queued"),
            (&failed, "failed"),
        ] {
            assert!(
                store
                    .finish_outgoing(&finish(row.id, status, 1_000_000), 20)
                    .await
                    .unwrap()
            );
        }
        let by_relay = OutboxRetry {
            server_id: Some(relay),
            ..Default::default()
        };
        assert_eq!(
            store.hasten_outgoing(&by_relay, 30).await.unwrap(),
            vec![via_relay.id]
        );
        let hastened = store.get_outgoing(via_relay.id).await.unwrap().unwrap();
        assert_eq!((hastened.next_attempt_at_ms, hastened.attempts), (30, 1));
        // The relay as the primary takes the messages that named no server too.
        let primary = OutboxRetry {
            unnamed_too: true,
            ..by_relay
        };
        let mut ids = store.hasten_outgoing(&primary, 40).await.unwrap();
        ids.sort();
        let mut expected = vec![via_relay.id, unnamed.id];
        expected.sort();
        assert_eq!(ids, expected);
        // A failed message only on request: queued again, attempts reset.
        let one = |failed_too| OutboxRetry {
            id: Some(failed.id),
            failed: failed_too,
            ..Default::default()
        };
        assert!(
            store
                .hasten_outgoing(&one(false), 50)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store.hasten_outgoing(&one(true), 50).await.unwrap(),
            vec![failed.id]
        );
        let requeued = store.get_outgoing(failed.id).await.unwrap().unwrap();
        assert_eq!(
            (
                requeued.status.as_str(),
                requeued.attempts,
                requeued.next_attempt_at_ms
            ),
            ("queued", 0, 50)
        );
        assert_eq!(claim(store.as_ref(), 60).await.len(), 3);
    }
);

store_test!(a_sent_reply_joins_its_ticket_in_the_same_round, |store| {
    use crate::tickets::{import, parts, request, server};
    use mailgate_store::ImportOutcome;
    let server = server(store.as_ref()).await;
    let question = request(server, 1, "question@customer.example", "Help");
    let ImportOutcome::Imported { ticket_number, .. } = import(store.as_ref(), &question, 5).await
    else {
        panic!("the question opens a ticket")
    };
    let mut reply = queued(None, 10);
    reply.ticket_number = Some(ticket_number);
    store.enqueue_outgoing(&reply).await.unwrap();
    claim(store.as_ref(), 20).await;
    let mut answer = request(server, 2, "answer@mailgate.localhost", "Re: Help");
    let mut message = parts(&mut answer).message.clone();
    message.ticket_number = ticket_number;
    message.direction = "out".into();
    message.incoming_server_id = None;
    let mut round = finish(reply.id, "sent", 0);
    round.ticket_message = Some(message.clone());
    assert!(store.finish_outgoing(&round, 30).await.unwrap());

    let messages = store.ticket_messages(ticket_number).await.unwrap();
    assert_eq!(messages.len(), 2);
    let sent = &messages[1];
    assert_eq!(
        (
            sent.id,
            sent.direction.as_str(),
            sent.message_id.as_deref(),
            sent.subject.as_str(),
            sent.incoming_server_id,
            sent.created_at_ms,
        ),
        (
            message.id,
            "out",
            Some("answer@mailgate.localhost"),
            "Re: Help",
            None,
            30
        )
    );
    assert_eq!(
        store.message_raw(message.id).await.unwrap(),
        Some(message.raw)
    );
    let ticket = store.get_ticket(ticket_number).await.unwrap().unwrap();
    assert_eq!(ticket.updated_at_ms, 30);
    let events = store.list_events(0, 10).await.unwrap();
    let subject = reply.id.to_string();
    assert!(
        events
            .iter()
            .any(|e| e.kind == "message.sent" && e.subject_id.as_deref() == Some(subject.as_str())),
        "{events:?}"
    );
});
