//! Small facts kept by key (the instance id, the health heartbeat) and how commits reach the disk.

use super::db::Pool;
use crate::StoreError;

pub(super) async fn ping(pool: &Pool) -> Result<(), StoreError> {
    sqlx::query("SELECT 1").execute(pool).await?;
    Ok(())
}

/// Records a heartbeat: one small committed row proves the store can write.
pub(super) async fn heartbeat(pool: &Pool, now_ms: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO meta (key, value) VALUES ('health_probe', $1) ON CONFLICT (key) DO \
                 UPDATE SET value = excluded.value",
    )
    .bind(now_ms.to_string())
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn get_meta(pool: &Pool, key: &str) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
        .bind(key)
        .fetch_optional(pool)
        .await?)
}

pub(super) async fn put_meta_if_absent(
    pool: &Pool,
    key: &str,
    value: &str,
) -> Result<String, StoreError> {
    sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(key)
        .bind(value)
        .execute(pool)
        .await?;
    Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
        .bind(key)
        .fetch_one(pool)
        .await?)
}

/// How commits reach the disk as each of `n` connections sees it (see `durability_level`).
pub(super) async fn durability_levels(pool: &Pool, n: u32) -> Result<Vec<String>, StoreError> {
    let mut held = Vec::new();
    let mut levels = Vec::new();
    for _ in 0..n.max(1) {
        let mut conn = pool.acquire().await?;
        levels.push(super::super::durability_level(&mut conn).await?);
        // Held until all are read, so that each read uses another connection.
        held.push(conn);
    }
    Ok(levels)
}
