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
use crate::workers::step::Outcome;
use mailgate_store::StoreError;
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

/// Runs the delivery round of every message due now, all at once, and records them. (The
/// worker's step without its loop: for tests and one-shot commands.)
pub async fn deliver_due(core: &Arc<Core>) -> Result<Outcome, StoreError> {
    let mut outbox = Outbox::new(core.clone(), 10_000);
    let outcome = outbox.run_once().await?;
    outbox.settle().await?;
    Ok(outcome)
}

/// The outbox worker's dependencies and the delivery rounds it has under way.
pub struct Outbox {
    core: Arc<Core>,
    concurrency: usize,
    rounds: JoinSet<Result<(), StoreError>>,
}

impl Outbox {
    /// At most `concurrency` rounds run at once.
    pub fn new(core: Arc<Core>, concurrency: usize) -> Self {
        Self {
            core,
            concurrency: concurrency.max(1),
            rounds: JoinSet::new(),
        }
    }

    /// The worker's step: claims as many due messages as there is room for and starts their
    /// delivery rounds, each recorded when it ends (see [`Outbox::settle`]).
    pub async fn run_once(&mut self) -> Result<Outcome, StoreError> {
        let room = self.concurrency.saturating_sub(self.rounds.len());
        if room == 0 {
            return Ok(Outcome::Idle);
        }
        let core = &self.core;
        let rows = core
            .store
            .claim_outgoing(core.clock.now_ms(), LEASE_MS, room as i64)
            .await?;
        let claimed = rows.len();
        for row in rows {
            let core = core.clone();
            self.rounds.spawn(async move {
                let finish = deliver::deliver(&core, &row).await;
                match core.store.finish_outgoing(&finish, core.clock.now_ms()).await? {
                    true => {
                        tracing::info!(id = %row.id, status = %finish.status, attempt = row.attempts, "delivery round finished");
                        metrics::counter!("mailgate_outbox_rounds_total", "status" => finish.status.as_str()).increment(1);
                    }
                    false => tracing::warn!(id = %row.id, "a delivery round ended after its lease lapsed; its outcome was dropped"),
                }
                Ok(())
            });
        }
        Ok(Outcome::of(claimed))
    }

    /// Waits for every round under way; each that could not be recorded is logged (it will run
    /// again when its lease lapses), and the first is the error.
    pub async fn settle(&mut self) -> Result<(), StoreError> {
        let mut first = Ok(());
        while let Some(done) = self.rounds.join_next().await {
            if let Err(e) = flatten(done) {
                tracing::error!(error = %e, "cannot record a delivery round; it will run again");
                if first.is_ok() {
                    first = Err(e);
                }
            }
        }
        first
    }
}

/// A round's result; a round that panicked is logged here (its message runs again when its
/// lease lapses).
fn flatten(done: Result<Result<(), StoreError>, tokio::task::JoinError>) -> Result<(), StoreError> {
    match done {
        Ok(recorded) => recorded,
        Err(e) => {
            tracing::error!(error = %e, "a delivery round ended abnormally; it will run again");
            Ok(())
        }
    }
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
    let concurrency = core.settings.send.concurrency;
    let mut outbox = Outbox::new(core.clone(), concurrency);
    loop {
        if *stop.borrow() {
            break;
        }
        let worked = match outbox.run_once().await {
            Ok(outcome) => outcome != Outcome::Idle,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the outbox");
                false
            }
        };
        if worked && outbox.rounds.len() < outbox.concurrency {
            continue;
        }
        tokio::select! {
            Some(done) = outbox.rounds.join_next(), if !outbox.rounds.is_empty() => {
                if let Err(e) = flatten(done) {
                    tracing::error!(error = %e, "cannot record a delivery round; it will run again");
                }
            }
            _ = core.outbox_wake.notified() => {}
            _ = tokio::time::sleep(IDLE_POLL) => {}
            _ = stop.changed() => {}
        }
    }
    let _ = outbox.settle().await;
}
