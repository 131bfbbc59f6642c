//! Batches of imports: one transaction, requests in order, each seeing the ones before it; a
//! failing request keeps the ones before it and leaves itself and the rest unread.

use crate::store_test;
use crate::tickets::{import, parts, request, server, source};
use mailgate_domain::EventKind;
use mailgate_domain::Id;
use mailgate_domain::mail::{PartEncoding, RawPart};
use mailgate_store::testing::TestQueries as _;
use mailgate_store::{ImportOutcome, ImportRequest, NewEvent, Store};

/// The event the receive pipeline would write: which request, and what became of it.
fn event(i: usize, outcome: &ImportOutcome) -> Option<NewEvent> {
    let kind = match outcome {
        ImportOutcome::Imported { .. } => EventKind::TicketCreated,
        ImportOutcome::Skipped => EventKind::MessageIgnored,
        ImportOutcome::Duplicate { .. } | ImportOutcome::AlreadySeen => return None,
    };
    Some(NewEvent {
        kind,
        subject_id: None,
        data: format!("{{\"request\": {i}}}"),
    })
}

async fn events(store: &dyn Store) -> Vec<(String, String)> {
    let rows = store.list_events(0, 100).await.unwrap();
    rows.into_iter().map(|e| (e.kind, e.data)).collect()
}

store_test!(
    a_batch_sees_its_own_messages_and_commits_progress_and_events_with_them,
    |store| {
        let server = server(store.as_ref()).await;
        let first = request(server, 1, "same@x", "Printer");
        let mut reply = request(server, 3, "reply@x", "Re: Printer");
        parts(&mut reply).thread_message_ids = vec!["same@x".into()];
        let mut stray_auto_reply = request(server, 6, "auto@x", "Out of office");
        parts(&mut stray_auto_reply).only_if_threaded = Some("auto_reply_unthreaded".into());
        let batch = [
            first.clone(),
            // The same Message-ID again, from another UID (Postfix delivered it twice).
            request(server, 2, "same@x", "Printer"),
            reply,
            // The same source twice in one batch.
            first,
            ImportRequest::Skip {
                source: source(server, 5),
                outcome: "ignored".into(),
            },
            stray_auto_reply,
        ];
        let done = store.import_batch(&batch, &event, 10).await;
        assert!(done.failed.is_none(), "{:?}", done.failed);
        let ImportOutcome::Imported {
            ticket_number,
            new_ticket: true,
            ..
        } = done.outcomes[0]
        else {
            panic!("{:?}", done.outcomes)
        };
        assert!(
            matches!(
                &done.outcomes[1..],
                [
                    ImportOutcome::Duplicate { ticket_number: dup },
                    ImportOutcome::Imported { ticket_number: threaded, new_ticket: false, .. },
                    ImportOutcome::AlreadySeen,
                    ImportOutcome::Skipped,
                    ImportOutcome::Skipped,
                ] if *dup == ticket_number && *threaded == ticket_number
            ),
            "{:?}",
            done.outcomes
        );
        assert_eq!(store.count_messages().await.unwrap(), 2);
        assert_eq!(store.ticket_messages(ticket_number).await.unwrap().len(), 2);
        assert_eq!(
            store.mailbox_progress(server).await.unwrap(),
            Some((7, 6)),
            "the last UID of the batch"
        );
        let mut outcomes = Vec::new();
        for uid in 1..=6 {
            outcomes.push(
                store
                    .source_outcome(&source(server, uid).key)
                    .await
                    .unwrap(),
            );
        }
        let outcomes: Vec<Option<&str>> = outcomes.iter().map(Option::as_deref).collect();
        assert_eq!(
            outcomes,
            [
                Some("imported"),
                Some("duplicate"),
                Some("imported"),
                None,
                Some("ignored"),
                Some("auto_reply_unthreaded"),
            ]
        );
        // The after-import action applies to the imported and the duplicate, not to the
        // skipped ones nor to a source never read (UID 4).
        let keys: Vec<String> = (1..=6).map(|uid| source(server, uid).key).collect();
        let mut due = store.sources_to_act_on(&keys).await.unwrap();
        due.sort();
        let mut want: Vec<String> = [1, 2, 3]
            .iter()
            .map(|&uid| source(server, uid).key)
            .collect();
        want.sort();
        assert_eq!(due, want);
        assert!(store.sources_to_act_on(&[]).await.unwrap().is_empty());
        let expected: Vec<(String, String)> = [
            ("ticket.created", 0),
            ("ticket.created", 2),
            ("message.ignored", 4),
            ("message.ignored", 5),
        ]
        .iter()
        .map(|(k, i)| (k.to_string(), format!("{{\"request\": {i}}}")))
        .collect();
        assert_eq!(
            events(store.as_ref()).await,
            expected,
            "one event per outcome, in order, in the transaction"
        );

        // The next batch sees this one: the Message-ID is a duplicate, the sources are seen.
        let again = [
            request(server, 7, "same@x", "Printer"),
            request(server, 3, "other@x", "Other"),
        ];
        let done = store.import_batch(&again, &event, 11).await;
        assert_eq!(
            done.outcomes,
            [
                ImportOutcome::Duplicate { ticket_number },
                ImportOutcome::AlreadySeen
            ]
        );
        assert_eq!(store.mailbox_progress(server).await.unwrap(), Some((7, 7)));
    }
);

store_test!(
    a_failing_request_keeps_the_ones_before_it_and_leaves_the_rest_unread,
    |store| {
        let server = server(store.as_ref()).await;
        // A message the database refuses (its direction breaks a CHECK constraint).
        let mut bad = request(server, 2, "bad@x", "Bad");
        parts(&mut bad).message.direction = "sideways".into();
        let batch = [
            request(server, 1, "one@x", "One"),
            bad,
            request(server, 3, "three@x", "Three"),
        ];
        let done = store.import_batch(&batch, &event, 10).await;
        assert!(done.failed.is_some(), "the second request fails");
        assert!(
            matches!(done.outcomes[..], [ImportOutcome::Imported { .. }]),
            "{:?}",
            done.outcomes
        );
        assert_eq!(store.count_messages().await.unwrap(), 1);
        assert_eq!(
            store.mailbox_progress(server).await.unwrap(),
            Some((7, 1)),
            "progress stops before the failing one"
        );
        assert!(
            store
                .source_outcome(&source(server, 1).key)
                .await
                .unwrap()
                .is_some()
        );
        for uid in [2, 3] {
            assert!(
                store
                    .source_outcome(&source(server, uid).key)
                    .await
                    .unwrap()
                    .is_none(),
                "UID {uid} stays unread"
            );
        }
        assert_eq!(
            events(store.as_ref()).await.len(),
            1,
            "no event for what was rolled back"
        );

        // A failing first request commits nothing.
        let mut bad = request(server, 2, "bad@x", "Bad");
        parts(&mut bad).message.direction = "sideways".into();
        let done = store
            .import_batch(&[bad, request(server, 3, "three@x", "Three")], &event, 11)
            .await;
        assert!(
            done.failed.is_some() && done.outcomes.is_empty(),
            "{:?}",
            done.outcomes
        );
        assert_eq!(store.mailbox_progress(server).await.unwrap(), Some((7, 1)));

        // Offered again (fixed), the rest goes in.
        let retry = [
            request(server, 2, "bad@x", "Bad"),
            request(server, 3, "three@x", "Three"),
        ];
        let done = store.import_batch(&retry, &event, 12).await;
        assert!(done.failed.is_none(), "{:?}", done.failed);
        assert_eq!(store.count_messages().await.unwrap(), 3);
        assert_eq!(store.mailbox_progress(server).await.unwrap(), Some((7, 3)));
        assert_eq!(
            import(store.as_ref(), &retry[1], 13).await,
            ImportOutcome::AlreadySeen
        );
    }
);

store_test!(
    an_attachment_kept_in_the_raw_message_is_read_back_from_it,
    |store| {
        let server = server(store.as_ref()).await;
        let mut r = request(server, 1, "big@x", "Logs");
        let message = &mut parts(&mut r).message;
        let head = b"Subject: Logs\r\n\r\n".to_vec();
        message.raw = [head.clone(), b"aGVsbG8g\r\nd29ybGQ=\r\n".to_vec()].concat();
        let kept = &mut message.attachments[0];
        kept.size = 11;
        kept.content = Vec::new();
        kept.in_raw = Some(RawPart {
            offset: head.len(),
            length: 18,
            encoding: PartEncoding::Base64,
        });
        // A second one whose range does not decode to its size: refused on reading, not served.
        let mut broken = kept.clone();
        broken.id = Id::new();
        broken.position = 1;
        broken.size = 12;
        message.attachments.push(broken.clone());
        let ImportOutcome::Imported { ticket_number, .. } = import(store.as_ref(), &r, 1).await
        else {
            panic!()
        };
        let listed = &store.ticket_messages(ticket_number).await.unwrap()[0].attachments;
        assert_eq!(
            (listed[0].size, listed[0].in_raw.map(|p| p.offset)),
            (11, Some(head.len()))
        );
        let read = store.attachment(listed[0].id).await.unwrap().unwrap();
        assert_eq!(read.content, b"hello world");
        let e = store.attachment(broken.id).await.unwrap_err();
        assert!(e.to_string().contains("does not decode"), "{e}");
    }
);
