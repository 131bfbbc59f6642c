//! The background workers, all started here by [`spawn_all`]: the token refresher, the mailbox
//! supervisor and the outbox. Each is a loop around one step (`run_once`, answering
//! [`Outcome`](step::Outcome)) that tests call directly.
//!
//! A worker that ends before shutdown (it returned or panicked) is logged with its name and
//! how it ended, reported to the [`Observer`] (`/healthz` and `/readyz` answer 503 meanwhile),
//! and started again after a backoff: [`FIRST_BACKOFF`], doubling up to [`MAX_BACKOFF`], back
//! to the first once a run lasted [`STEADY`]. Restarting rather than stopping the node: the API
//! keeps taking mail and consents while a worker recovers from a passing fault, and nothing is
//! lost by it (outbox rounds are leased and recorded in one transaction, a mailbox batch is
//! imported in one, tokens are renewed again when due). A worker that keeps failing stays
//! visible: one error line per failure and a 503 most of the time, so an orchestrator that
//! restarts unhealthy nodes still does.
//!
//! At shutdown every worker is asked to stop and given [`SHUTDOWN_GRACE`] (all of them
//! together) to finish what it is doing; one still running then is logged by name and aborted,
//! so that a worker that ignores shutdown cannot hold the process.

use crate::Core;
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

pub mod step;

use step::Outcome;

/// The first wait before a worker that ended is started again.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait between restarts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A run this long resets the backoff.
pub const STEADY: Duration = Duration::from_secs(60);
/// How long the workers have, all together, to end after shutdown is asked before the ones
/// still running are aborted: longer than the mailbox supervisor gives its watchers
/// ([`crate::receive::supervisor::STOP_GRACE`]), shorter than the 10 seconds after which
/// `docker stop` kills the process, so that the log says which worker held it.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(8);

type Start = Arc<dyn Fn(watch::Receiver<bool>) -> BoxFuture<'static, ()> + Send + Sync>;

/// A named worker: how to start it, given the receiver that turns true at shutdown.
#[derive(Clone)]
pub struct Worker {
    name: &'static str,
    start: Start,
}

impl Worker {
    pub fn new<F, Fut>(name: &'static str, start: F) -> Self
    where
        F: Fn(watch::Receiver<bool>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self {
            name,
            start: Arc::new(move |stop| Box::pin(start(stop))),
        }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// Told when a worker starts and when it ends before shutdown (the HTTP health answers).
pub trait Observer: Send + Sync + 'static {
    fn running(&self, name: &'static str);
    /// `how`: `returned`, `panicked: <message>` or `cancelled`.
    fn stopped(&self, name: &'static str, how: &str);
}

/// How often the workers look for work on their own.
#[derive(Clone, Debug)]
pub struct Intervals {
    /// The token refresher's look for tokens due for renewal.
    pub refresh_every: Duration,
    /// The mailbox supervisor's safety-net look at the incoming servers.
    pub mailbox_check_every: Duration,
    /// How often POP3 mailboxes are read.
    pub poll: Duration,
}

/// mailgate's workers: `token_refresher`, `mailbox_supervisor`, `outbox`.
pub fn standard(core: &Arc<Core>, every: &Intervals) -> Vec<Worker> {
    let refresher = {
        let (core, every) = (core.clone(), every.refresh_every);
        Worker::new("token_refresher", move |stop| {
            run_refresher(core.clone(), every, stop)
        })
    };
    let supervisor = {
        let (core, every) = (core.clone(), every.clone());
        Worker::new("mailbox_supervisor", move |stop| {
            crate::receive::supervisor::run(
                core.clone(),
                every.mailbox_check_every,
                every.poll,
                stop,
            )
        })
    };
    let outbox = {
        let core = core.clone();
        Worker::new("outbox", move |stop| crate::send::run(core.clone(), stop))
    };
    vec![refresher, supervisor, outbox]
}

/// The token refresher's step: renews the access tokens due for renewal.
pub async fn refresh_once(core: &Core) -> Result<Outcome, mailgate_store::StoreError> {
    crate::tokens::refresh_due(core).await.map(Outcome::of)
}

/// Runs [`refresh_once`] until `stop` turns true, every `every` (and at once on start).
async fn run_refresher(core: Arc<Core>, every: Duration, mut stop: watch::Receiver<bool>) {
    loop {
        match refresh_once(&core).await {
            Ok(Outcome::DidWork(n)) => {
                tracing::debug!(renewed = n, "access tokens renewed ahead of expiry")
            }
            Ok(Outcome::Idle) => {}
            Err(e) => tracing::warn!(error = %e, "token refresher could not read the store"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Starts `workers` (mailgate's are [`standard`]) and watches them until `stop` turns true:
/// see the module's comment for what happens to one that ends. The returned task ends when
/// every worker has ended after `stop`, or [`SHUTDOWN_GRACE`] after it (the rest aborted).
pub fn spawn_all(
    workers: Vec<Worker>,
    observer: Arc<dyn Observer>,
    stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let mut set = JoinSet::new();
    let mut running = HashMap::new();
    for (index, worker) in workers.iter().enumerate() {
        let task = set.spawn((worker.start)(stop.clone()));
        observer.running(worker.name);
        running.insert(task.id(), (index, Instant::now()));
    }
    tokio::spawn(supervise(workers, observer, stop, set, running))
}

async fn supervise(
    workers: Vec<Worker>,
    observer: Arc<dyn Observer>,
    stop: watch::Receiver<bool>,
    mut set: JoinSet<()>,
    mut running: HashMap<tokio::task::Id, (usize, Instant)>,
) {
    let mut backoff = vec![FIRST_BACKOFF; workers.len()];
    let mut asked = stop.clone();
    loop {
        let done = tokio::select! {
            biased;
            done = set.join_next_with_id() => Some(done),
            // Asked to stop (or nobody can ask any more): no restarts, a bounded wait.
            _ = asked.wait_for(|stopped| *stopped) => None,
        };
        let Some(done) = done else {
            return drain(&workers, set, running).await;
        };
        let Some(done) = done else {
            return;
        };
        let (id, how) = match done {
            Ok((id, ())) => (id, "returned".to_owned()),
            Err(e) if e.is_panic() => (e.id(), format!("panicked: {}", panic_text(e.into_panic()))),
            Err(e) => (e.id(), "cancelled".to_owned()),
        };
        let Some((index, since)) = running.remove(&id) else {
            continue;
        };
        if *stop.borrow() {
            continue;
        }
        let worker = &workers[index];
        if since.elapsed() >= STEADY {
            backoff[index] = FIRST_BACKOFF;
        }
        let wait = backoff[index];
        backoff[index] = (wait * 2).min(MAX_BACKOFF);
        tracing::error!(
            worker = worker.name,
            how = %how,
            restart_in_secs = wait.as_secs(),
            "a background worker stopped; it is started again after a pause"
        );
        observer.stopped(worker.name, &how);
        let (start, name, observer, mut stop) = (
            worker.start.clone(),
            worker.name,
            observer.clone(),
            stop.clone(),
        );
        let task = set.spawn(async move {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.wait_for(|stopped| *stopped) => return,
            }
            observer.running(name);
            start(stop).await
        });
        running.insert(task.id(), (index, Instant::now() + wait));
    }
}

/// Waits at most [`SHUTDOWN_GRACE`] for the workers asked to stop, then aborts the rest,
/// logging each by name.
async fn drain(
    workers: &[Worker],
    mut set: JoinSet<()>,
    mut running: HashMap<tokio::task::Id, (usize, Instant)>,
) {
    let deadline = Instant::now() + SHUTDOWN_GRACE;
    loop {
        match tokio::time::timeout_at(deadline, set.join_next_with_id()).await {
            Ok(Some(done)) => {
                let id = match done {
                    Ok((id, ())) => id,
                    Err(e) => e.id(),
                };
                running.remove(&id);
            }
            Ok(None) => return,
            Err(_) => break,
        }
    }
    for (index, _) in running.values() {
        tracing::error!(
            worker = workers[*index].name,
            grace_secs = SHUTDOWN_GRACE.as_secs(),
            "a background worker did not stop within the shutdown grace period; it is aborted"
        );
    }
    set.shutdown().await;
}

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Default)]
    struct Seen(Mutex<Vec<String>>);

    impl Observer for Seen {
        fn running(&self, name: &'static str) {
            self.0.lock().unwrap().push(format!("{name} running"));
        }
        fn stopped(&self, name: &'static str, how: &str) {
            self.0
                .lock()
                .unwrap()
                .push(format!("{name} stopped: {how}"));
        }
    }

    async fn settle(secs: u64) {
        for _ in 0..secs * 10 {
            tokio::time::advance(Duration::from_millis(100)).await;
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_worker_that_panics_is_noticed_by_name_and_started_again_with_backoff() {
        let starts = Arc::new(AtomicUsize::new(0));
        let counted = starts.clone();
        // Panics on its first two runs, then works until shutdown.
        let flaky = Worker::new("flaky", move |mut stop| {
            let run = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                if run < 2 {
                    panic!("injected failure {run}");
                }
                let _ = stop.wait_for(|s| *s).await;
            }
        });
        let seen = Arc::new(Seen::default());
        let (stop, stopped) = watch::channel(false);
        let task = spawn_all(vec![flaky], seen.clone(), stopped);

        settle(0).await;
        tokio::task::yield_now().await;
        assert_eq!(starts.load(Ordering::SeqCst), 1);
        // Started again after one second, then after two more.
        settle(1).await;
        assert_eq!(starts.load(Ordering::SeqCst), 2);
        settle(1).await;
        assert_eq!(
            starts.load(Ordering::SeqCst),
            2,
            "the second pause is longer"
        );
        settle(2).await;
        assert_eq!(starts.load(Ordering::SeqCst), 3);
        assert_eq!(
            *seen.0.lock().unwrap(),
            [
                "flaky running",
                "flaky stopped: panicked: injected failure 0",
                "flaky running",
                "flaky stopped: panicked: injected failure 1",
                "flaky running",
            ]
        );

        // At shutdown, the supervisor waits for the worker and does not restart it.
        stop.send(true).unwrap();
        task.await.unwrap();
        assert_eq!(starts.load(Ordering::SeqCst), 3);
        assert_eq!(seen.0.lock().unwrap().len(), 5);
    }

    /// Sets its flag when dropped: the worker that holds it was aborted.
    struct DropFlag(Arc<std::sync::atomic::AtomicBool>);

    impl Drop for DropFlag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_worker_that_ignores_shutdown_is_aborted_after_the_grace_period() {
        let aborted = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = aborted.clone();
        let stubborn = Worker::new("stubborn", move |_stop| {
            let held = DropFlag(flag.clone());
            async move {
                let _held = held;
                std::future::pending::<()>().await
            }
        });
        let polite = Worker::new("polite", |mut stop| async move {
            let _ = stop.wait_for(|s| *s).await;
        });
        let (stop, stopped) = watch::channel(false);
        let task = spawn_all(vec![stubborn, polite], Arc::new(Seen::default()), stopped);
        settle(1).await;
        assert!(!aborted.load(Ordering::SeqCst), "running until shutdown");

        stop.send(true).unwrap();
        let asked = Instant::now();
        // A generous bound (paused time): without the grace period this waits forever.
        tokio::time::timeout(Duration::from_secs(3600), task)
            .await
            .expect("the supervisor ends although a worker ignores shutdown")
            .unwrap();
        assert!(
            aborted.load(Ordering::SeqCst),
            "the stubborn worker is aborted"
        );
        assert!(
            asked.elapsed() >= SHUTDOWN_GRACE,
            "it had the grace period first"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_worker_that_returns_before_shutdown_is_noticed_too() {
        let seen = Arc::new(Seen::default());
        let (stop, stopped) = watch::channel(false);
        let task = spawn_all(
            vec![Worker::new("quitter", |_| async {})],
            seen.clone(),
            stopped,
        );
        settle(0).await;
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        assert_eq!(
            seen.0.lock().unwrap()[..2],
            ["quitter running", "quitter stopped: returned"]
        );
        stop.send(true).unwrap();
        task.await.unwrap();
    }
}
