use crate::store_test;
use mailgate_domain::Id;
use mailgate_store::testing::TestQueries as _;
use mailgate_store::{
    AttachmentRow, ImportOutcome, ImportRequest, Link, MailSource, MessageImport, MessageRow,
    NewTicket, ObjectKind, ObjectRow, Store, TicketQuery,
};

pub(crate) async fn server(store: &dyn Store) -> Id {
    let row = ObjectRow {
        id: Id::new(),
        kind: ObjectKind::IncomingServer,
        name: format!("in-{}", Id::new()),
        spec: "{}".into(),
        sealed: None,
        enabled: true,
        is_primary: false,
        links: Link::default(),
        created_at_ms: 1,
        updated_at_ms: 1,
    };
    store.insert_object(&row).await.unwrap();
    row.id
}

/// UID `uid` of UIDVALIDITY 7 of `server`'s mailbox.
pub(crate) fn source(server: Id, uid: i64) -> MailSource {
    MailSource {
        server_id: server,
        key: format!("{server}:7:{uid}"),
        progress: Some((7, uid)),
    }
}

/// A message with one attachment, to import from UID `uid`.
pub(crate) fn request(server: Id, uid: i64, message_id: &str, subject: &str) -> ImportRequest {
    let id = Id::new();
    let import = MessageImport {
        thread_message_ids: Vec::new(),
        thread_tag: None,
        thread_tag_from_anyone: false,
        only_if_threaded: None,
        content_digest: Some("digest-of-hello".into()),
        new_ticket: NewTicket {
            id: Id::new(),
            subject: subject.into(),
            requester: "customer@example.com".into(),
            requester_name: Some("Customer".into()),
            group: Some("IT".into()),
            category: None,
        },
        message: MessageRow {
            id,
            ticket_number: 0,
            direction: "in".into(),
            kind: "normal".into(),
            message_id: Some(message_id.into()),
            from_address: Some("customer@example.com".into()),
            from_name: None,
            recipients: "{}".into(),
            subject: subject.into(),
            body_text: "hello".into(),
            body_html: None,
            problems: "[]".into(),
            reply_to: "[]".into(),
            in_reply_to: "[]".into(),
            references: "[]".into(),
            bulk: false,
            raw: b"Subject: x\r\n\r\nhello".to_vec(),
            incoming_server_id: Some(server),
            created_at_ms: 0,
            attachments: vec![AttachmentRow {
                id: Id::new(),
                message_id: id,
                position: 0,
                filename: "report.pdf".into(),
                content_type: "application/pdf".into(),
                size: 3,
                inline: false,
                content_id: None,
                content: vec![1, 2, 3],
                in_raw: None,
            }],
        },
    };
    ImportRequest::Import {
        source: source(server, uid),
        import: Box::new(import),
    }
}

/// The message part of an import request, to adjust.
pub(crate) fn parts(request: &mut ImportRequest) -> &mut MessageImport {
    match request {
        ImportRequest::Import { import, .. } => import,
        ImportRequest::Skip { .. } => panic!("not an import"),
    }
}

/// Imports one request on its own (no events), which must not fail.
pub(crate) async fn import(
    store: &dyn Store,
    request: &ImportRequest,
    now_ms: i64,
) -> ImportOutcome {
    let batch = store
        .import_batch(std::slice::from_ref(request), &|_, _| None, now_ms)
        .await;
    assert!(batch.failed.is_none(), "{:?}", batch.failed);
    batch.outcomes.into_iter().next().unwrap()
}

store_test!(
    an_import_opens_a_ticket_once_and_records_progress,
    |store| {
        let server = server(store.as_ref()).await;
        let first = request(server, 10, "a@customer.example", "Printer on fire");
        let ImportOutcome::Imported {
            ticket_number,
            message_id,
            new_ticket: true,
        } = import(store.as_ref(), &first, 100).await
        else {
            panic!()
        };
        assert_eq!(
            import(store.as_ref(), &first, 101).await,
            ImportOutcome::AlreadySeen,
            "the same source is never imported twice"
        );
        assert_eq!(store.mailbox_progress(server).await.unwrap(), Some((7, 10)));
        assert!(
            store
                .source_outcome(&first.source().key)
                .await
                .unwrap()
                .is_some()
        );

        let ticket = store.get_ticket(ticket_number).await.unwrap().unwrap();
        assert_eq!(
            (
                ticket.subject.as_str(),
                ticket.group.as_deref(),
                ticket.status.as_str()
            ),
            ("Printer on fire", Some("IT"), "open")
        );
        let messages = store.ticket_messages(ticket_number).await.unwrap();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].id, message_id);
        assert_eq!(messages[0].attachments[0].filename, "report.pdf");
        assert!(
            messages[0].attachments[0].content.is_empty(),
            "listing does not load content"
        );
        let attachment = store
            .attachment(messages[0].attachments[0].id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(attachment.content, vec![1, 2, 3]);
    }
);

store_test!(a_message_raw_bytes_come_back_as_stored, |store| {
    let server = server(store.as_ref()).await;
    let mut request = request(server, 1, "raw@x", "Raw");
    let raw = b"Subject: caf\xe9\r\n\r\nbare\rCR and \x00\xff bytes".to_vec();
    parts(&mut request).message.raw = raw.clone();
    let ImportOutcome::Imported { message_id, .. } = import(store.as_ref(), &request, 1).await
    else {
        panic!("imported")
    };
    assert_eq!(store.message_raw(message_id).await.unwrap(), Some(raw));
    assert_eq!(store.message_raw(Id::new()).await.unwrap(), None);
});

store_test!(
    the_same_message_id_from_another_source_is_a_duplicate,
    |store| {
        let server = server(store.as_ref()).await;
        let ImportOutcome::Imported { ticket_number, .. } =
            import(store.as_ref(), &request(server, 1, "same@x", "S"), 1).await
        else {
            panic!()
        };
        let again = request(server, 2, "same@x", "S");
        assert_eq!(
            import(store.as_ref(), &again, 2).await,
            ImportOutcome::Duplicate { ticket_number }
        );
        assert_eq!(store.count_messages().await.unwrap(), 1);
        assert_eq!(
            store.mailbox_progress(server).await.unwrap(),
            Some((7, 2)),
            "progress moves on anyway"
        );
    }
);

store_test!(
    another_message_under_a_message_id_seen_before_is_kept_and_flagged,
    |store| {
        let server = server(store.as_ref()).await;
        let ImportOutcome::Imported { ticket_number, .. } =
            import(store.as_ref(), &request(server, 1, "reused@x", "First"), 1).await
        else {
            panic!()
        };
        // The same id and content again (a re-delivery): a duplicate.
        assert_eq!(
            import(store.as_ref(), &request(server, 2, "reused@x", "First"), 2).await,
            ImportOutcome::Duplicate { ticket_number }
        );
        // The same id, other content: imported on its own, and flagged.
        let mut other = request(server, 3, "reused@x", "Second");
        parts(&mut other).content_digest = Some("digest-of-another".into());
        let ImportOutcome::Imported {
            ticket_number: second,
            message_id,
            new_ticket: true,
        } = import(store.as_ref(), &other, 3).await
        else {
            panic!("a different message under a reused Message-ID is imported")
        };
        assert_ne!(second, ticket_number);
        assert_eq!(store.count_messages().await.unwrap(), 2);
        let messages = store.ticket_messages(second).await.unwrap();
        assert_eq!(messages[0].id, message_id);
        let problems = &messages[0].problems;
        assert!(
            problems.starts_with(r#"["message_id_reused: "#)
                && problems.ends_with(r#""]"#)
                && !problems.contains(r#"",""#),
            "one problem, the reused id: {problems}"
        );
        let first = store.ticket_messages(ticket_number).await.unwrap();
        assert_eq!(first[0].problems, "[]", "the first message is not flagged");
        // Each of the two, delivered again, is a duplicate of its own.
        let mut other_again = request(server, 4, "reused@x", "Second");
        parts(&mut other_again).content_digest = Some("digest-of-another".into());
        assert!(matches!(
            import(store.as_ref(), &other_again, 4).await,
            ImportOutcome::Duplicate { .. }
        ));
        assert_eq!(store.count_messages().await.unwrap(), 2);
    }
);

store_test!(
    a_message_stored_before_digests_were_kept_matches_any_content,
    |store| {
        let server = server(store.as_ref()).await;
        // Stored without a digest, as rows before the upgrade are.
        let mut old = request(server, 1, "old@x", "Old");
        parts(&mut old).content_digest = None;
        let ImportOutcome::Imported { ticket_number, .. } = import(store.as_ref(), &old, 1).await
        else {
            panic!()
        };
        assert_eq!(
            import(store.as_ref(), &request(server, 2, "old@x", "Old"), 2).await,
            ImportOutcome::Duplicate { ticket_number },
            "an upgrade never imports a message twice"
        );
        assert_eq!(store.count_messages().await.unwrap(), 1);
    }
);

store_test!(reply_targets_are_stored_and_read_back, |store| {
    let server = server(store.as_ref()).await;
    let mut first = request(server, 1, "form-1@webform.example", "Contact form");
    let message = &mut parts(&mut first).message;
    message.reply_to = r#"["customer@example.org"]"#.into();
    message.in_reply_to = r#"["earlier@customer.example"]"#.into();
    message.references = r#"["root@customer.example","earlier@customer.example"]"#.into();
    let ImportOutcome::Imported { ticket_number, .. } = import(store.as_ref(), &first, 1).await
    else {
        panic!()
    };
    // A message without them (as every row stored before the columns existed) reads as [].
    let mut second = request(server, 2, "form-2@webform.example", "Re: Contact form");
    parts(&mut second).thread_message_ids = vec!["form-1@webform.example".into()];
    import(store.as_ref(), &second, 2).await;
    let messages = store.ticket_messages(ticket_number).await.unwrap();
    let got: Vec<_> = messages
        .iter()
        .map(|m| {
            (
                m.reply_to.as_str(),
                m.in_reply_to.as_str(),
                m.references.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                r#"["customer@example.org"]"#,
                r#"["earlier@customer.example"]"#,
                r#"["root@customer.example","earlier@customer.example"]"#
            ),
            ("[]", "[]", "[]"),
        ]
    );
});

store_test!(a_new_uid_validity_replaces_the_progress, |store| {
    let server = server(store.as_ref()).await;
    import(store.as_ref(), &request(server, 50, "a@x", "A"), 1).await;
    let after_reset = ImportRequest::Import {
        source: MailSource {
            server_id: server,
            key: format!("{server}:8:3"),
            progress: Some((8, 3)),
        },
        import: Box::new(parts(&mut request(server, 3, "b@x", "B")).clone()),
    };
    import(store.as_ref(), &after_reset, 2).await;
    assert_eq!(store.mailbox_progress(server).await.unwrap(), Some((8, 3)));
});

store_test!(
    the_text_search_looks_at_subjects_names_and_message_bodies,
    |store| {
        let server = server(store.as_ref()).await;
        let mut numbers = Vec::new();
        for (uid, subject, body) in [
            (1, "Éclair au café", "the oven is cold"),
            (2, "Invoice", "Die Zahlungsverzögerung tut uns leid"),
            (3, "Other", "nothing to see"),
        ] {
            let mut req = request(server, uid, &format!("{uid}@x"), subject);
            parts(&mut req).message.body_text = body.into();
            let ImportOutcome::Imported { ticket_number, .. } =
                import(store.as_ref(), &req, uid).await
            else {
                panic!()
            };
            numbers.push(ticket_number);
        }
        let search = |text: &str| {
            let store = store.clone();
            let text = text.to_owned();
            async move {
                store
                    .list_tickets(&TicketQuery {
                        text: Some(text),
                        limit: 10,
                        ..Default::default()
                    })
                    .await
                    .unwrap()
                    .iter()
                    .map(|t| t.number)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            search("OVEN").await,
            vec![numbers[0]],
            "a body, any ASCII case"
        );
        assert_eq!(
            search("Éclair").await,
            vec![numbers[0]],
            "non-ASCII as typed"
        );
        assert_eq!(search("verzögerung").await, vec![numbers[1]]);
        assert_eq!(search("CUSTOMER").await.len(), 3, "the requester's name");
        assert_eq!(
            search("100%").await,
            Vec::<i64>::new(),
            "wildcards are literal"
        );
    }
);

store_test!(the_bulk_flag_is_stored_and_read_back, |store| {
    let server = server(store.as_ref()).await;
    let mut list = request(server, 1, "list@x", "[announce] Weekly digest");
    parts(&mut list).message.bulk = true;
    let person = request(server, 2, "person@x", "Printer on fire");
    let mut flags = Vec::new();
    for request in [&list, &person] {
        let ImportOutcome::Imported { ticket_number, .. } =
            import(store.as_ref(), request, 1).await
        else {
            panic!()
        };
        let messages = store.ticket_messages(ticket_number).await.unwrap();
        flags.push(messages[0].bulk);
    }
    assert_eq!(flags, [true, false]);
});
