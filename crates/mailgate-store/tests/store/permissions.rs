//! The database and its WAL files hold mail and sealed secrets: only their owner may read them,
//! whatever the umask, and an existing database is corrected at open.

use crate::harness::sqlite_file;
use mailgate_store::{DatabaseUrl, StoreOptions};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn files(db: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|s| PathBuf::from(format!("{}{s}", db.display())))
        .collect()
}

#[tokio::test]
async fn the_database_and_its_wal_files_are_0600_whatever_the_umask() {
    // The usual umask, which left them 0644.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o022));
    let (store, path, _dir) = sqlite_file().await;
    store.probe_write(1).await.unwrap();
    for file in files(&path) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}

#[tokio::test]
async fn an_existing_database_readable_by_others_is_made_private_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mailgate.db");
    let url = DatabaseUrl::sqlite_file(&path);
    let store = mailgate_store::open(&url, &StoreOptions::default())
        .await
        .unwrap();
    store.probe_write(1).await.unwrap();
    for file in files(&path) {
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let again = mailgate_store::open(&url, &StoreOptions::default())
        .await
        .unwrap();
    again.probe_write(2).await.unwrap();
    for file in files(&path) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    drop(store);
}
