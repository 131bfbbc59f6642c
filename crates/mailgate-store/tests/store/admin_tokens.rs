use crate::store_test;
use mailgate_domain::Id;
use mailgate_store::AdminTokenRow;

store_test!(
    admin_tokens_are_found_by_hash_and_record_their_use,
    |store| {
        let token = AdminTokenRow {
            id: Id::new(),
            name: "ci".into(),
            token_hash: vec![1, 2, 3],
            created_at_ms: 1_000,
            last_used_at_ms: None,
        };
        store.insert_admin_token(&token).await.unwrap();
        assert!(
            store
                .use_admin_token(&[9, 9], 2_000)
                .await
                .unwrap()
                .is_none()
        );
        let used = store
            .use_admin_token(&[1, 2, 3], 2_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((used.id, used.last_used_at_ms), (token.id, Some(2_000)));
        assert_eq!(store.list_admin_tokens().await.unwrap().len(), 1);
        let again = AdminTokenRow {
            id: Id::new(),
            ..token.clone()
        };
        assert!(matches!(
            store.insert_admin_token(&again).await,
            Err(mailgate_store::StoreError::Conflict(_))
        ));
        assert!(store.delete_admin_token(token.id).await.unwrap());
        assert!(
            store
                .use_admin_token(&[1, 2, 3], 3_000)
                .await
                .unwrap()
                .is_none()
        );
    }
);
