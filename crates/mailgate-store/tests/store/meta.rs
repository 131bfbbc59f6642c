use crate::store_test;

store_test!(the_first_meta_value_is_kept, |store| {
    assert_eq!(store.get_meta("key_check").await.unwrap(), None);
    assert_eq!(
        store
            .put_meta_if_absent("key_check", "first")
            .await
            .unwrap(),
        "first"
    );
    assert_eq!(
        store
            .put_meta_if_absent("key_check", "second")
            .await
            .unwrap(),
        "first"
    );
    assert_eq!(
        store.get_meta("key_check").await.unwrap().as_deref(),
        Some("first")
    );
    store.ping().await.unwrap();
});
