use crate::store_test;

store_test!(the_write_probe_commits_a_heartbeat, |store| {
    store.probe_write(1).await.unwrap();
    store.probe_write(2).await.unwrap();
    assert_eq!(
        store.get_meta("health_probe").await.unwrap().as_deref(),
        Some("2")
    );
});
