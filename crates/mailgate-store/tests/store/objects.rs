use crate::store_test;
use mailgate_domain::Id;
use mailgate_store::{Link, ObjectKind, ObjectRow, StoreError};

fn row(kind: ObjectKind, name: &str) -> ObjectRow {
    ObjectRow {
        id: Id::new(),
        kind,
        name: name.into(),
        spec: format!(r#"{{"name":"{name}"}}"#),
        sealed: Some(vec![0, 1, 2, 255].into()),
        enabled: true,
        is_primary: false,
        links: Link::default(),
        created_at_ms: 1_000,
        updated_at_ms: 1_000,
    }
}

store_test!(objects_round_trip_and_list_by_kind, |store| {
    let app = row(ObjectKind::OAuthApp, "Google");
    store.insert_object(&app).await.unwrap();
    store
        .insert_object(&row(ObjectKind::OutgoingServer, "Google"))
        .await
        .unwrap();
    assert_eq!(
        store
            .get_object(ObjectKind::OAuthApp, app.id)
            .await
            .unwrap(),
        Some(app.clone())
    );
    assert_eq!(
        store
            .get_object(ObjectKind::IncomingServer, app.id)
            .await
            .unwrap(),
        None,
        "kind is part of the key"
    );
    assert_eq!(
        store
            .find_object_by_name(ObjectKind::OAuthApp, "Google")
            .await
            .unwrap()
            .map(|r| r.id),
        Some(app.id)
    );
    assert_eq!(
        store.list_objects(ObjectKind::OAuthApp).await.unwrap(),
        vec![app.clone()]
    );

    let changed = ObjectRow {
        name: "Workspace".into(),
        sealed: None,
        enabled: false,
        updated_at_ms: 2_000,
        ..app.clone()
    };
    store.update_object(&changed).await.unwrap();
    assert_eq!(
        store
            .get_object(ObjectKind::OAuthApp, app.id)
            .await
            .unwrap(),
        Some(changed)
    );
    let ghost = row(ObjectKind::OAuthApp, "ghost");
    assert!(matches!(
        store.update_object(&ghost).await,
        Err(StoreError::NotFound)
    ));
});

store_test!(names_are_unique_per_kind, |store| {
    store
        .insert_object(&row(ObjectKind::IncomingServer, "Support"))
        .await
        .unwrap();
    let twin = row(ObjectKind::IncomingServer, "Support");
    assert!(matches!(
        store.insert_object(&twin).await,
        Err(StoreError::Conflict(_))
    ));
});

store_test!(one_primary_per_kind, |store| {
    let first = ObjectRow {
        is_primary: true,
        ..row(ObjectKind::OutgoingServer, "first")
    };
    let second = ObjectRow {
        is_primary: true,
        ..row(ObjectKind::OutgoingServer, "second")
    };
    let incoming = ObjectRow {
        is_primary: true,
        ..row(ObjectKind::IncomingServer, "in")
    };
    store.insert_object(&first).await.unwrap();
    store.insert_object(&incoming).await.unwrap();
    store.insert_object(&second).await.unwrap();
    let primaries: Vec<_> = store
        .list_objects(ObjectKind::OutgoingServer)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.is_primary)
        .map(|r| r.name)
        .collect();
    assert_eq!(primaries, ["second"]);
    assert!(
        store
            .get_object(ObjectKind::IncomingServer, incoming.id)
            .await
            .unwrap()
            .unwrap()
            .is_primary,
        "other kinds keep theirs"
    );

    store
        .update_object(&ObjectRow {
            updated_at_ms: 3_000,
            ..first.clone()
        })
        .await
        .unwrap();
    let primaries: Vec<_> = store
        .list_objects(ObjectKind::OutgoingServer)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.is_primary)
        .map(|r| r.name)
        .collect();
    assert_eq!(primaries, ["first"]);
});

store_test!(links_must_exist_and_protect_what_they_name, |store| {
    let app = row(ObjectKind::OAuthApp, "app");
    let smtp = row(ObjectKind::OutgoingServer, "smtp");
    store.insert_object(&app).await.unwrap();
    store.insert_object(&smtp).await.unwrap();
    let dangling = ObjectRow {
        links: Link {
            oauth_app_id: Some(Id::new()),
            ..Link::default()
        },
        ..row(ObjectKind::IncomingServer, "bad")
    };
    assert!(matches!(
        store.insert_object(&dangling).await,
        Err(StoreError::MissingLink)
    ));

    let imap = ObjectRow {
        links: Link {
            oauth_app_id: Some(app.id),
            outgoing_server_id: Some(smtp.id),
            service_account_id: None,
        },
        ..row(ObjectKind::IncomingServer, "imap")
    };
    store.insert_object(&imap).await.unwrap();
    assert_eq!(
        store
            .objects_linking_to(app.id)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect::<Vec<_>>(),
        vec![imap.id]
    );
    match store.delete_object(ObjectKind::OAuthApp, app.id).await {
        Err(StoreError::InUse(users)) => assert_eq!(users, vec![imap.id]),
        other => panic!("expected InUse, got {other:?}"),
    }
    assert!(matches!(
        store
            .delete_object(ObjectKind::OutgoingServer, smtp.id)
            .await,
        Err(StoreError::InUse(_))
    ));

    assert!(
        store
            .delete_object(ObjectKind::IncomingServer, imap.id)
            .await
            .unwrap()
    );
    assert!(
        store
            .delete_object(ObjectKind::OAuthApp, app.id)
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_object(ObjectKind::OAuthApp, app.id)
            .await
            .unwrap(),
        "deleting twice reports nothing deleted"
    );
});
