//! Which ticket an incoming message joins: by the Message-IDs it names, or by the ticket tag in
//! its subject when its sender may use it.

use crate::store_test;
use crate::tickets::{import, parts, request, server, source};
use mailgate_store::testing::TestQueries as _;
use mailgate_store::{ImportOutcome, ImportRequest, TicketQuery};

store_test!(
    replies_thread_by_the_first_stored_id_of_any_sender,
    |store| {
        let server = server(store.as_ref()).await;
        let mut tickets = Vec::new();
        for (uid, id) in [(1, "one@customer.example"), (2, "two@customer.example")] {
            let ImportOutcome::Imported { ticket_number, .. } =
                import(store.as_ref(), &request(server, uid, id, "Help"), uid).await
            else {
                panic!()
            };
            tickets.push(ticket_number);
        }
        // A hundred ids nobody stored, then the customer's own earlier message (not ours)
        // before another ticket's: the first one on record decides, whatever its domain.
        let mut reply = request(server, 3, "three@customer.example", "Re: Help");
        let mut ids: Vec<String> = (0..100).map(|i| format!("{i}@elsewhere.example")).collect();
        ids.push("two@customer.example".into());
        ids.push("one@customer.example".into());
        parts(&mut reply).thread_message_ids = ids;
        assert!(threaded_into(
            import(store.as_ref(), &reply, 3).await,
            tickets[1]
        ));
    }
);

store_test!(
    replies_thread_by_message_id_or_tag_and_skips_are_recorded,
    |store| {
        let server = server(store.as_ref()).await;
        let ImportOutcome::Imported { ticket_number, .. } =
            import(store.as_ref(), &request(server, 1, "first@x", "Help"), 1).await
        else {
            panic!()
        };
        let mut by_header = request(server, 2, "second@x", "Re: Help");
        parts(&mut by_header).thread_message_ids = vec!["unknown@x".into(), "first@x".into()];
        assert!(threaded_into(
            import(store.as_ref(), &by_header, 2).await,
            ticket_number
        ));
        let mut by_tag = request(server, 3, "third@x", "Re: [#1] Help");
        parts(&mut by_tag).thread_tag = Some(ticket_number);
        assert!(threaded_into(
            import(store.as_ref(), &by_tag, 3).await,
            ticket_number
        ));
        let mut unknown_tag = request(server, 4, "fourth@x", "Re: [#999] Other");
        parts(&mut unknown_tag).thread_tag = Some(999);
        assert!(matches!(
            import(store.as_ref(), &unknown_tag, 4).await,
            ImportOutcome::Imported {
                new_ticket: true,
                ..
            }
        ));

        let mut stray_auto_reply = request(server, 6, "auto@x", "Out of office");
        parts(&mut stray_auto_reply).only_if_threaded = Some("auto_reply".into());
        assert_eq!(
            import(store.as_ref(), &stray_auto_reply, 4).await,
            ImportOutcome::Skipped,
            "an auto-reply never opens a ticket"
        );
        let mut threaded_auto_reply = request(server, 7, "auto2@x", "Out of office");
        parts(&mut threaded_auto_reply).only_if_threaded = Some("auto_reply".into());
        parts(&mut threaded_auto_reply).thread_message_ids = vec!["first@x".into()];
        assert!(matches!(
            import(store.as_ref(), &threaded_auto_reply, 4).await,
            ImportOutcome::Imported {
                new_ticket: false,
                ..
            }
        ));

        let ignored = ImportRequest::Skip {
            source: source(server, 5),
            outcome: "ignored".into(),
        };
        assert_eq!(
            import(store.as_ref(), &ignored, 5).await,
            ImportOutcome::Skipped
        );
        assert_eq!(
            import(store.as_ref(), &ignored, 6).await,
            ImportOutcome::AlreadySeen
        );
        assert_eq!(
            store.mailbox_progress(server).await.unwrap(),
            Some((7, 7)),
            "the highest UID read"
        );
        assert_eq!(store.count_messages().await.unwrap(), 5);
        assert_eq!(store.ticket_messages(ticket_number).await.unwrap().len(), 4);

        let found = store
            .list_tickets(&TicketQuery {
                text: Some("HELP".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            found.iter().map(|t| t.number).collect::<Vec<_>>(),
            vec![ticket_number]
        );
        let all = store
            .list_tickets(&TicketQuery {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(all.len(), 2);
        assert!(all[0].number > all[1].number, "newest first");
        let none = store
            .list_tickets(&TicketQuery {
                group: Some("Sales".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(none.is_empty());
    }
);

store_test!(
    a_tag_threads_only_participants_or_the_same_mailbox,
    |store| {
        let (support, other_mailbox) = (server(store.as_ref()).await, server(store.as_ref()).await);
        let ImportOutcome::Imported { ticket_number, .. } =
            import(store.as_ref(), &request(support, 1, "first@x", "Help"), 1).await
        else {
            panic!()
        };
        // Mail into another mailbox naming the ticket's tag.
        let tagged = |uid: i64, from: &str| {
            let mut r = request(other_mailbox, uid, &format!("{uid}@x"), "Re: [#1] Help");
            parts(&mut r).thread_tag = Some(ticket_number);
            parts(&mut r).message.from_address = Some(from.into());
            r
        };
        let threads = |outcome: ImportOutcome| threaded_into(outcome, ticket_number);
        // A stranger opens a new ticket.
        let stranger = import(store.as_ref(), &tagged(2, "mallory@evil.example"), 2).await;
        assert!(
            matches!(
                stranger,
                ImportOutcome::Imported {
                    new_ticket: true,
                    ..
                }
            ),
            "{stranger:?}"
        );
        // The requester threads, whatever the case of the address.
        assert!(threads(
            import(store.as_ref(), &tagged(3, "Customer@Example.com"), 3).await
        ));
        // Anyone the ticket was written to threads too (a colleague in Cc).
        let mut reply = request(support, 4, "4@x", "Re: Help");
        parts(&mut reply).thread_message_ids = vec!["first@x".into()];
        parts(&mut reply).message.recipients =
            r#"{"to":["support@example.test"],"cc":["colleague_1@customer.example"]}"#.into();
        assert!(threads(import(store.as_ref(), &reply, 4).await));
        assert!(threads(
            import(
                store.as_ref(),
                &tagged(5, "colleague_1@customer.example"),
                5
            )
            .await
        ));
        // `_` in an address is no wildcard.
        let lookalike = import(
            store.as_ref(),
            &tagged(6, "colleagueX1@customer.example"),
            6,
        )
        .await;
        assert!(
            matches!(
                lookalike,
                ImportOutcome::Imported {
                    new_ticket: true,
                    ..
                }
            ),
            "{lookalike:?}"
        );
        // The same mailbox threads whoever writes.
        let mut same_mailbox = request(support, 7, "7@x", "Re: [#1] Help");
        parts(&mut same_mailbox).thread_tag = Some(ticket_number);
        parts(&mut same_mailbox).message.from_address = Some("someone@else.example".into());
        assert!(threads(import(store.as_ref(), &same_mailbox, 7).await));
        // `thread_by_tag = "any"`: the old rule.
        let mut anyone = tagged(8, "mallory@evil.example");
        parts(&mut anyone).thread_tag_from_anyone = true;
        assert!(threads(import(store.as_ref(), &anyone, 8).await));
    }
);

/// Whether an import went into ticket `number`, an existing one.
fn threaded_into(outcome: ImportOutcome, number: i64) -> bool {
    matches!(
        outcome,
        ImportOutcome::Imported { ticket_number, new_ticket: false, .. } if ticket_number == number
    )
}
