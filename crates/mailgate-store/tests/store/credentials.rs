use crate::store_test;
use mailgate_domain::Id;
use mailgate_store::{
    CredentialKind, CredentialRow, Link, OAuthStateRow, ObjectKind, ObjectRow, StateUse,
};

fn app_row() -> ObjectRow {
    ObjectRow {
        id: Id::new(),
        kind: ObjectKind::OAuthApp,
        name: format!("app-{}", Id::new()),
        spec: "{}".into(),
        sealed: None,
        enabled: true,
        is_primary: false,
        links: Link::default(),
        created_at_ms: 1,
        updated_at_ms: 1,
    }
}

fn grant(owner: Id, subject: &str, refresh_at: i64) -> CredentialRow {
    CredentialRow {
        id: Id::new(),
        kind: CredentialKind::OAuthGrant,
        owner_id: owner,
        subject: subject.into(),
        scope: String::new(),
        granted_scope: "https://mail.google.com/".into(),
        sealed: Some(vec![1, 2, 3].into()),
        access_expires_at_ms: Some(refresh_at + 1_000),
        refresh_at_ms: Some(refresh_at),
        status: "connected".into(),
        last_error: None,
        failures: 0,
        created_at_ms: 10,
        updated_at_ms: 10,
    }
}

store_test!(a_new_consent_replaces_the_grant_and_keeps_its_id, |store| {
    let app = app_row();
    store.insert_object(&app).await.unwrap();
    let first = store
        .upsert_credential(&grant(app.id, "a@example.test", 500))
        .await
        .unwrap();
    let again = store
        .upsert_credential(&CredentialRow {
            sealed: Some(vec![9].into()),
            ..grant(app.id, "a@example.test", 700)
        })
        .await
        .unwrap();
    assert_eq!(again.id, first.id, "one grant per app and mailbox");
    assert_eq!(again.sealed, Some(vec![9].into()));
    assert_eq!(
        store
            .find_credential(CredentialKind::OAuthGrant, app.id, "a@example.test", "")
            .await
            .unwrap(),
        Some(again.clone())
    );
    assert_eq!(store.list_credentials().await.unwrap().len(), 1);
});

store_test!(
    only_connected_credentials_that_are_due_are_listed,
    |store| {
        let app = app_row();
        store.insert_object(&app).await.unwrap();
        let due = store
            .upsert_credential(&grant(app.id, "due@example.test", 100))
            .await
            .unwrap();
        store
            .upsert_credential(&grant(app.id, "later@example.test", 900))
            .await
            .unwrap();
        let dead = store
            .upsert_credential(&grant(app.id, "dead@example.test", 50))
            .await
            .unwrap();
        store
            .update_credential(&CredentialRow {
                status: "needs_reauthorization".into(),
                last_error: Some("{}".into()),
                ..dead
            })
            .await
            .unwrap();
        let ids: Vec<Id> = store
            .credentials_due(500)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(ids, vec![due.id]);
    }
);

store_test!(credentials_go_with_their_app, |store| {
    let app = app_row();
    store.insert_object(&app).await.unwrap();
    let c = store
        .upsert_credential(&grant(app.id, "a@example.test", 1))
        .await
        .unwrap();
    assert!(
        store
            .delete_object(ObjectKind::OAuthApp, app.id)
            .await
            .unwrap()
    );
    assert_eq!(store.get_credential(c.id).await.unwrap(), None);
});

store_test!(a_state_is_taken_once_and_not_after_it_expires, |store| {
    let server = ObjectRow {
        kind: ObjectKind::IncomingServer,
        ..app_row()
    };
    store.insert_object(&server).await.unwrap();
    let state = |hash: u8, expires: i64| OAuthStateRow {
        state_hash: vec![hash],
        server_id: server.id,
        sealed_verifier: vec![7].into(),
        created_at_ms: 0,
        expires_at_ms: expires,
        used_at_ms: None,
    };
    store.insert_oauth_state(&state(1, 1_000)).await.unwrap();
    store.insert_oauth_state(&state(2, 1_000)).await.unwrap();
    match store.take_oauth_state(&[1], 500).await.unwrap() {
        StateUse::Taken(row) => {
            assert_eq!(
                (row.server_id, row.sealed_verifier),
                (server.id, vec![7].into())
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        store.take_oauth_state(&[1], 501).await.unwrap(),
        StateUse::AlreadyUsed
    );
    assert_eq!(
        store.take_oauth_state(&[2], 1_000).await.unwrap(),
        StateUse::Expired
    );
    assert_eq!(
        store.take_oauth_state(&[3], 0).await.unwrap(),
        StateUse::Unknown
    );
});

store_test!(events_come_back_in_order_after_a_cursor, |store| {
    let a = store
        .insert_event(
            mailgate_domain::EventKind::CredentialConnected,
            Some("x"),
            "{\"n\":1}",
            5,
        )
        .await
        .unwrap();
    let b = store
        .insert_event(
            mailgate_domain::EventKind::CredentialNeedsReauthorization,
            None,
            "{\"n\":2}",
            6,
        )
        .await
        .unwrap();
    assert!(b > a);
    let all = store.list_events(0, 10).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["credential.connected", "credential.needs_reauthorization"]
    );
    let after = store.list_events(a, 10).await.unwrap();
    assert_eq!((after.len(), after[0].subject_id.as_deref()), (1, None));
});
