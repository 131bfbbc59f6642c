//! Liveness (`/healthz`) and readiness (`/readyz`), both told by the same checks:
//!
//! - the store can write: a heartbeat row committed (and, on SQLite, room on the database's
//!   file system), at most once per [`PROBE_EVERY`] while it succeeds (a failing store is
//!   probed at each request, so that its recovery shows at once);
//! - no background worker (token refresher, mailbox supervisor, outbox) has stopped before
//!   shutdown: `mailgate_core::workers::spawn_all` tells [`Health`] (its observer) when one
//!   ends, and again when it is started after its pause.
//!
//! `/healthz` answers 503 when either fails (a restart may be what it needs); `/readyz` answers
//! 503 also until the workers have been started, so a load balancer sends nothing to a node
//! that cannot do its work yet. A full disk is logged at once and recorded once, as the event
//! `storage.full`, written when the disk has room again.

use axum::Json;
use mailgate_core::Core;

use axum::http::StatusCode;
use mailgate_store::StoreError;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The write probe runs at most this often; answers in between reuse its result.
pub const PROBE_EVERY: Duration = Duration::from_secs(2);
/// A probe that takes longer than this counts as a store that cannot write.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Serialize, utoipa::ToSchema)]
pub struct HealthReport {
    /// `ok` or `unavailable`.
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    pub version: &'static str,
    /// Why the answer is 503 (empty when `ok`).
    pub reasons: Vec<Reason>,
    /// The background workers and their state (none when this node runs without workers).
    pub workers: Vec<WorkerState>,
}

#[derive(Serialize, Clone, Debug, utoipa::ToSchema)]
pub struct Reason {
    /// `storage_full`, `store_unwritable`, `worker_stopped` or `workers_not_started`.
    pub code: &'static str,
    pub message: String,
}

#[derive(Serialize, Clone, Debug, utoipa::ToSchema)]
pub struct WorkerState {
    /// `token_refresher`, `mailbox_supervisor` or `outbox`.
    pub name: &'static str,
    /// `running`, or `stopped` (before shutdown: it is started again after a pause).
    pub state: &'static str,
    /// How it stopped (`panicked: ...`, `returned`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What the health answers know of the running node; one per application.
#[derive(Default)]
pub struct Health {
    workers: std::sync::Mutex<Vec<WorkerState>>,
    started: AtomicBool,
    stopping: AtomicBool,
    /// When the write probe last succeeded.
    probe: tokio::sync::Mutex<Option<Instant>>,
    /// The storage is full (raised by a probe or a `507`, lowered by a probe that writes).
    full: AtomicBool,
    /// The `storage.full` event could not be written while the disk was full.
    full_event_pending: AtomicBool,
}

impl Health {
    /// Every worker of this node has been spawned (also when it runs none).
    pub fn started(&self) {
        self.started.store(true, Ordering::SeqCst);
    }

    /// Shutdown began: workers that end from now on end as asked.
    pub fn stopping(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    fn set_worker(&self, name: &'static str, state: &'static str, error: Option<String>) {
        let mut workers = self.workers.lock().unwrap_or_else(|e| e.into_inner());
        let entry = WorkerState { name, state, error };
        match workers.iter_mut().find(|w| w.name == name) {
            Some(w) => *w = entry,
            None => workers.push(entry),
        }
    }

    fn workers(&self) -> Vec<WorkerState> {
        self.workers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The store's write probe, run at most once per [`PROBE_EVERY`] while it succeeds.
    async fn store_reason(&self, core: &Core) -> Option<Reason> {
        let mut last_ok = self.probe.lock().await;
        // A `507` since raised the alarm: probe again rather than trust the last success.
        if !self.full.load(Ordering::SeqCst) && last_ok.is_some_and(|at| at.elapsed() < PROBE_EVERY)
        {
            return None;
        }
        let now_ms = core.clock.now_ms();
        let reason = match tokio::time::timeout(PROBE_TIMEOUT, core.store.probe_write(now_ms)).await
        {
            Ok(Ok(())) => {
                self.storage_writable(core).await;
                None
            }
            Ok(Err(e)) if e.is_full() => {
                self.storage_full(core).await;
                Some(full_reason())
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %format!("{:#}", anyhow::Error::new(e)), "health check: the store cannot write");
                Some(Reason {
                    code: "store_unwritable",
                    message: "the database does not accept writes; the server log has the error"
                        .to_owned(),
                })
            }
            Err(_) => Some(Reason {
                code: "store_unwritable",
                message: format!(
                    "a one-row write to the database took longer than {} s",
                    PROBE_TIMEOUT.as_secs()
                ),
            }),
        };
        *last_ok = reason.is_none().then(Instant::now);
        reason
    }

    /// A write failed for want of space: logged and recorded once while it lasts.
    pub async fn storage_full(&self, core: &Core) {
        if self.full.swap(true, Ordering::SeqCst) {
            return;
        }
        tracing::error!(
            data_dir = %core.settings.data_dir.display(),
            "the database's disk is full: writes answer 507 storage_full until space is freed"
        );
        // Written once there is room again: a row written now may not survive (a commit that
        // failed for want of space can leave its connection's transaction behind).
        self.full_event_pending.store(true, Ordering::SeqCst);
    }

    async fn storage_writable(&self, core: &Core) {
        if !self.full.swap(false, Ordering::SeqCst) {
            return;
        }
        tracing::info!("the database's disk has room again");
        if self.full_event_pending.swap(false, Ordering::SeqCst)
            && record_full_event(core).await.is_err()
        {
            self.full_event_pending.store(true, Ordering::SeqCst);
        }
    }

    pub(crate) async fn report(
        &self,
        core: &Core,
        readiness: bool,
    ) -> (StatusCode, Json<HealthReport>) {
        let mut reasons: Vec<Reason> = self.store_reason(core).await.into_iter().collect();
        let workers = self.workers();
        for w in workers.iter().filter(|w| w.state != "running") {
            reasons.push(Reason {
                code: "worker_stopped",
                message: format!(
                    "the background worker `{}` stopped ({}); it is started again after a pause (restart mailgate if it keeps stopping: the log has each failure)",
                    w.name,
                    w.error.as_deref().unwrap_or("no reason")
                ),
            });
        }
        if readiness && !self.started.load(Ordering::SeqCst) {
            reasons.push(Reason {
                code: "workers_not_started",
                message: "mailgate is starting: its background workers are not running yet"
                    .to_owned(),
            });
        }
        let status = if reasons.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        (
            status,
            Json(HealthReport {
                status: if reasons.is_empty() {
                    "ok"
                } else {
                    "unavailable"
                },
                database: core.store.backend_name(),
                version: env!("CARGO_PKG_VERSION"),
                reasons,
                workers,
            }),
        )
    }
}

fn full_reason() -> Reason {
    Reason {
        code: "storage_full",
        message: "the database's disk is full: free space on it (the data directory, or the database server's disk)".to_owned(),
    }
}

async fn record_full_event(core: &Core) -> Result<(), StoreError> {
    let data = serde_json::json!({ "database": core.store.backend_name() }).to_string();
    core.store
        .insert_event(
            mailgate_core::events::EventKind::StorageFull,
            None,
            &data,
            core.clock.now_ms(),
        )
        .await
        .map(|_| ())
}

impl mailgate_core::workers::Observer for Health {
    fn running(&self, name: &'static str) {
        self.set_worker(name, "running", None);
    }

    /// Recorded unless shutdown began (workers end then as asked).
    fn stopped(&self, name: &'static str, how: &str) {
        if !self.stopping.load(Ordering::SeqCst) {
            self.set_worker(name, "stopped", Some(how.to_owned()));
        }
    }
}
