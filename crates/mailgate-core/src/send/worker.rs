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
use mailgate_store::{OutboxRow, StoreError};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, watch};
use tokio::task::JoinSet;

/// How long a claim holds: a round longer than this (a huge upload on a slow link) may be
/// started again by another worker. Waiting for a busy server's connection is bounded
/// (`pool::PERMIT_WAIT`, two minutes per server, two servers at most) to leave most of it to
/// the sending.
const LEASE_MS: i64 = 10 * 60_000;
/// How often the queue is looked at when nothing wakes the worker (retries coming due).
const IDLE_POLL: Duration = Duration::from_millis(500);
/// A message claimed ahead is started only while its claim is younger than this; an older one
/// is left to its lease, which lapses and puts it back in the queue (never two rounds at once).
const AHEAD_MAX_MS: i64 = LEASE_MS / 2;

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
    /// Messages claimed while every round was busy (see [`Outbox::claim_ahead`]), with when,
    /// started before anything else is claimed.
    ahead: VecDeque<(i64, OutboxRow)>,
    /// Taken around each claim and each round's record. SQLite has one writer at a time, and
    /// a transaction that finds the database locked sleeps in its busy handler (1, 2, 5, 10 ms
    /// and longer) however soon the lock is free: rounds ending together then wait for those
    /// sleeps instead of for each other's commits. In turn here, each commit starts as soon as
    /// the one before ends (and no claim is made less durable).
    writes: Arc<Mutex<()>>,
}

impl Outbox {
    /// At most `concurrency` rounds run at once.
    pub fn new(core: Arc<Core>, concurrency: usize) -> Self {
        Self {
            core,
            concurrency: concurrency.max(1),
            rounds: JoinSet::new(),
            ahead: VecDeque::new(),
            writes: Arc::new(Mutex::new(())),
        }
    }

    /// The worker's step: claims as many due messages as there is room for and starts their
    /// delivery rounds, each recorded when it ends (see [`Outbox::settle`]). Messages claimed
    /// ahead are started first.
    pub async fn run_once(&mut self) -> Result<Outcome, StoreError> {
        let mut started = self.start_ahead();
        let room = self.concurrency.saturating_sub(self.rounds.len());
        if room == 0 {
            return Ok(Outcome::of(started));
        }
        let core = &self.core;
        let rows = {
            let _write = self.writes.lock().await;
            core.store
                .claim_outgoing(core.clock.now_ms(), LEASE_MS, room as i64)
                .await?
        };
        for row in rows {
            self.forget_ahead(&row);
            self.start(row);
            started += 1;
        }
        Ok(Outcome::of(started))
    }

    /// While every round is busy, claims the messages that will start next (as many as rounds
    /// run at once, in one commit), so that a round ending starts the next at once instead of
    /// waiting for a claim: the claim's commit overlaps the rounds under way. Does nothing when
    /// some are claimed ahead already or a round could start now.
    pub async fn claim_ahead(&mut self) -> Result<Outcome, StoreError> {
        if !self.ahead.is_empty() || self.rounds.len() < self.concurrency {
            return Ok(Outcome::Idle);
        }
        let core = &self.core;
        let now = core.clock.now_ms();
        let rows = {
            let _write = self.writes.lock().await;
            core.store
                .claim_outgoing(now, LEASE_MS, self.concurrency as i64)
                .await?
        };
        let claimed = rows.len();
        self.ahead.extend(rows.into_iter().map(|row| (now, row)));
        Ok(Outcome::of(claimed))
    }

    /// Starts the rounds of messages claimed ahead while there is room; how many.
    fn start_ahead(&mut self) -> usize {
        let now = self.core.clock.now_ms();
        let mut started = 0;
        while self.rounds.len() < self.concurrency
            && let Some((claimed_at, row)) = self.ahead.pop_front()
        {
            if now - claimed_at < AHEAD_MAX_MS {
                self.start(row);
                started += 1;
            }
        }
        started
    }

    /// A message claimed again (its claim ahead lapsed) is no longer waiting ahead.
    fn forget_ahead(&mut self, row: &OutboxRow) {
        self.ahead.retain(|(_, r)| r.id != row.id);
    }

    /// Starts the delivery round of a claimed message.
    fn start(&mut self, row: OutboxRow) {
        let (core, writes) = (self.core.clone(), self.writes.clone());
        self.rounds.spawn(async move {
            let finish = deliver::deliver(&core, &row).await;
            let recorded = {
                let _write = writes.lock().await;
                core.store.finish_outgoing(&finish, core.clock.now_ms()).await?
            };
            match recorded {
                true => {
                    tracing::info!(id = %row.id, status = %finish.status, attempt = row.attempts, "delivery round finished");
                    metrics::counter!("mailgate_outbox_rounds_total", "status" => finish.status.as_str()).increment(1);
                }
                false => tracing::warn!(id = %row.id, "a delivery round ended after its lease lapsed; its outcome was dropped"),
            }
            Ok(())
        });
    }

    /// Waits for every round under way, and those of the messages claimed ahead; each that
    /// could not be recorded is logged (it will run again when its lease lapses), and the first
    /// is the error.
    pub async fn settle(&mut self) -> Result<(), StoreError> {
        let mut first = Ok(());
        loop {
            self.start_ahead();
            let Some(done) = self.rounds.join_next().await else {
                break;
            };
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
        if worked && let Err(e) = outbox.claim_ahead().await {
            tracing::error!(error = %e, "cannot read the outbox");
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
