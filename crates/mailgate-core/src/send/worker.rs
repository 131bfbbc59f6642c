//! The outbox worker: claims due messages and runs their delivery rounds, up to
//! `send.concurrency` at once, until told to stop.
//!
//! Crash safety. A message is claimed (`sending`, with a lease) before its round starts, and the
//! round's end is written in one transaction with its event. After a crash, the next start puts
//! every `sending` message back in the queue, and a lease that lapses does the same for a worker
//! that hung. A message is therefore never lost; it can go out twice only when the process dies
//! (or the connection breaks) after the server accepted it and before that was recorded: for
//! SMTP, between the server's reply to the end of the data and our commit, a few milliseconds;
//! for the Gmail API, between Google's answer and our commit. A message whose acceptance the
//! server never confirmed (the connection broke while waiting for the reply to the final dot,
//! a Gmail request without a complete answer) is retried too, in a later round through the same
//! route: SMTP cannot tell whether it was taken (RFC 1047).

use super::deliver;
use crate::Core;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How long a claim holds: a round longer than this (a huge upload on a slow link) may be
/// started again by another worker. Waiting for a busy server's connection is bounded
/// (`pool::PERMIT_WAIT`, two minutes per server, two servers at most) to leave most of it to
/// the sending.
const LEASE_MS: i64 = 10 * 60_000;
/// How often the queue is looked at when nothing wakes the worker (retries coming due).
const IDLE_POLL: Duration = Duration::from_millis(500);

/// Runs the delivery round of every message due now, all at once, and records them; returns
/// how many ran. (The worker's step without its loop: for tests and one-shot commands.)
pub async fn deliver_due(core: &Core) -> Result<usize, mailgate_store::StoreError> {
    let rows = core
        .store
        .claim_outgoing(core.clock.now_ms(), LEASE_MS, 10_000)
        .await?;
    let rounds = rows.iter().map(|row| async move {
        let finish = deliver::deliver(core, row).await;
        core.store
            .finish_outgoing(&finish, core.clock.now_ms())
            .await
    });
    for done in futures::future::join_all(rounds).await {
        done?;
    }
    Ok(rows.len())
}

/// Runs until `stop` turns true; rounds in progress are finished first.
pub async fn run(core: Arc<Core>, mut stop: watch::Receiver<bool>) {
    match core.store.requeue_in_flight(core.clock.now_ms()).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            messages = n,
            "requeued messages that were being sent when mailgate stopped"
        ),
        Err(e) => tracing::error!(error = %e, "cannot requeue in-flight messages"),
    }
    let concurrency = core.settings.send.concurrency.max(1);
    let mut rounds = JoinSet::new();
    loop {
        if *stop.borrow() {
            break;
        }
        let room = concurrency.saturating_sub(rounds.len());
        let mut claimed = 0;
        if room > 0 {
            match core
                .store
                .claim_outgoing(core.clock.now_ms(), LEASE_MS, room as i64)
                .await
            {
                Ok(rows) => {
                    claimed = rows.len();
                    for row in rows {
                        let core = core.clone();
                        rounds.spawn(async move {
                            let finish = deliver::deliver(&core, &row).await;
                            match core.store.finish_outgoing(&finish, core.clock.now_ms()).await {
                                Ok(true) => {
                                    tracing::info!(id = %row.id, status = %finish.status, attempt = row.attempts, "delivery round finished");
                                    metrics::counter!("mailgate_outbox_rounds_total", "status" => finish.status.clone()).increment(1);
                                }
                                Ok(false) => tracing::warn!(id = %row.id, "a delivery round ended after its lease lapsed; its outcome was dropped"),
                                Err(e) => tracing::error!(id = %row.id, error = %e, "cannot record a delivery round; it will run again"),
                            }
                        });
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the outbox");
                }
            }
        }
        if claimed > 0 && rounds.len() < concurrency {
            continue;
        }
        tokio::select! {
            Some(_) = rounds.join_next(), if !rounds.is_empty() => {}
            _ = core.outbox_wake.notified() => {}
            _ = tokio::time::sleep(IDLE_POLL) => {}
            _ = stop.changed() => {}
        }
    }
    while rounds.join_next().await.is_some() {}
}
