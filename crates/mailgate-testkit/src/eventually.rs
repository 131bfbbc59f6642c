//! Waiting on a real server: poll a condition until it holds, bounded.

use std::time::Duration;

/// How often [`eventually`] asks again.
const EVERY: Duration = Duration::from_millis(50);

/// Asks `check` at once and then every 50 ms until it answers `Some(value)`, and returns that
/// value; panics saying `what` was awaited when `timeout` passes first. For what only a real
/// server decides (a delivery, an IMAP session noticing a change); a worker's step is tested
/// by calling its `run_once` instead.
/// `check` is an async closure (`async || ...`), so it may borrow mutably (a session).
pub async fn eventually<T>(
    what: &str,
    timeout: Duration,
    mut check: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(EVERY).await;
    }
}
