//! Keeps one watcher per enabled incoming server: starts new ones, restarts changed ones, stops
//! disabled or deleted ones. It acts when woken ([`Wake`]: a server was written, a consent
//! completed, a credential connected) and, as a safety net, every `every` (servers changed by
//! another process). A mailbox never has two watchers at once (servers limit the connections
//! per mailbox, and POP3 locks the mailbox): the watchers to stop are asked to, and waited for
//! (aborted after [`STOP_GRACE`]), before any is started.

use super::watch::watch_mailbox;
use crate::Core;
use crate::workers::step::Outcome;
use mailgate_domain::Id;
use mailgate_store::{ObjectKind, StoreError};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// How long a watcher asked to stop may take (it notices in IDLE and in a pause at once,
/// otherwise after the batch under way) before it is aborted. Aborting is safe: a batch is
/// imported in one transaction, and an after-import action cut short is finished by the next
/// session.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// How long a change waits for the supervisor to apply it: the stop grace, and the time to
/// list the servers.
const APPLY_WAIT: Duration = Duration::from_secs(10);

/// Wakes the supervisor when what its watchers depend on changes, and lets the author of a
/// change wait until the watchers follow it.
pub struct Wake {
    supervisor: Notify,
    /// Changes asked for, and the last one the supervisor applied.
    asked: AtomicU64,
    applied: watch::Sender<u64>,
    /// Bumped with each change: a watcher pausing after a failure tries again at once (a
    /// credential just connected makes the next attempt succeed).
    retry: watch::Sender<u64>,
    running: AtomicBool,
}

impl Default for Wake {
    fn default() -> Self {
        Self {
            supervisor: Notify::new(),
            asked: AtomicU64::new(0),
            applied: watch::Sender::new(0),
            retry: watch::Sender::new(0),
            running: AtomicBool::new(false),
        }
    }
}

impl std::fmt::Debug for Wake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wake")
            .field("asked", &self.asked.load(Ordering::SeqCst))
            .field("applied", &*self.applied.borrow())
            .finish()
    }
}

impl Wake {
    /// Something the watchers depend on changed (an incoming server, a credential): the
    /// supervisor looks at once, and watchers pausing after a failure try again. Returns the
    /// change's number for [`Wake::applied`].
    pub fn poke(&self) -> u64 {
        let change = self.asked.fetch_add(1, Ordering::SeqCst) + 1;
        self.retry.send_modify(|n| *n += 1);
        self.supervisor.notify_one();
        change
    }

    /// [`Wake::poke`], then waits until the supervisor has applied the change: the watchers of
    /// changed, disabled or deleted servers have ended, and those of new or changed ones are
    /// started (and read the server's settings as they are now). Bounded by [`APPLY_WAIT`];
    /// returns at once when no supervisor runs in this process (the CLI).
    pub async fn changed(&self) {
        let change = self.poke();
        if !self.running.load(Ordering::SeqCst) {
            return;
        }
        let mut applied = self.applied.subscribe();
        let done = tokio::time::timeout(APPLY_WAIT, applied.wait_for(|&n| n >= change)).await;
        if done.is_err() {
            tracing::warn!("the mailbox watchers did not follow a change within {APPLY_WAIT:?}");
        }
    }

    /// For a watcher: changes after this moment (see [`Wake::poke`]).
    pub fn retries(&self) -> watch::Receiver<u64> {
        self.retry.subscribe()
    }
}

struct Running {
    version: i64,
    stop: watch::Sender<bool>,
    task: Watcher,
}

/// A watcher's task, aborted if dropped (so that none can be left running detached).
struct Watcher(JoinHandle<()>);

impl Drop for Watcher {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Waits for watchers asked to stop, at most [`STOP_GRACE`] for all of them together, and
/// aborts (and waits for) those still running then.
async fn ended(watchers: Vec<Watcher>) {
    let deadline = tokio::time::Instant::now() + STOP_GRACE;
    for mut w in watchers {
        if tokio::time::timeout_at(deadline, &mut w.0).await.is_err() {
            tracing::warn!("a mailbox watcher did not stop in time; aborting it");
            w.0.abort();
            let _ = (&mut w.0).await;
        }
    }
}

/// The running watchers.
#[derive(Default)]
struct Watchers {
    running: HashMap<Id, Running>,
}

impl Watchers {
    /// Stops the watchers of mailboxes not in `wanted` (id -> version) or of another version,
    /// and waits for them to end; then starts the missing ones with `start`.
    async fn reconcile<F, Fut>(&mut self, wanted: &HashMap<Id, i64>, start: F) -> usize
    where
        F: Fn(Id, watch::Receiver<bool>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let ids: Vec<Id> = self.running.keys().copied().collect();
        let mut ending = Vec::new();
        for id in ids {
            let keep = self
                .running
                .get(&id)
                .is_some_and(|r| wanted.get(&id) == Some(&r.version) && !r.task.0.is_finished());
            if !keep && let Some(r) = self.running.remove(&id) {
                let _ = r.stop.send(true);
                ending.push(r.task);
            }
        }
        let mut changed = ending.len();
        ended(ending).await;
        for (&id, &version) in wanted {
            if self.running.contains_key(&id) {
                continue;
            }
            changed += 1;
            let (stop, stopped) = watch::channel(false);
            let task = tokio::spawn(start(id, stopped));
            self.running.insert(
                id,
                Running {
                    version,
                    stop,
                    task: Watcher(task),
                },
            );
        }
        changed
    }

    /// Asks every watcher to stop and waits for them (bounded).
    async fn stop_all(mut self) {
        for r in self.running.values() {
            let _ = r.stop.send(true);
        }
        ended(self.running.drain().map(|(_, r)| r.task).collect()).await;
    }
}

/// The supervisor's dependencies and the watchers it runs.
pub struct Supervisor {
    core: Arc<Core>,
    poll: Duration,
    watchers: Watchers,
}

impl Supervisor {
    /// `poll` is how often POP3 mailboxes are read.
    pub fn new(core: Arc<Core>, poll: Duration) -> Self {
        Self {
            core,
            poll,
            watchers: Watchers::default(),
        }
    }

    /// The supervisor's step: lists the enabled incoming servers and makes the watchers follow
    /// (stops those of servers removed, disabled or changed, then starts the missing ones);
    /// `DidWork(n)` when `n` watchers were stopped or started.
    pub async fn run_once(&mut self) -> Result<Outcome, StoreError> {
        let wake = &self.core.mailbox_wake;
        let change = wake.asked.load(Ordering::SeqCst);
        let rows = self
            .core
            .store
            .list_objects(ObjectKind::IncomingServer)
            .await?;
        let wanted: HashMap<Id, i64> = rows
            .iter()
            .filter(|r| r.enabled)
            .map(|r| (r.id, r.updated_at_ms))
            .collect();
        let (core, poll) = (&self.core, self.poll);
        let changed = self
            .watchers
            .reconcile(&wanted, |id, stopped| {
                watch_mailbox(core.clone(), id, poll, stopped)
            })
            .await;
        metrics::gauge!("mailgate_mailboxes_watched").set(self.watchers.running.len() as f64);
        wake.applied.send_modify(|n| *n = (*n).max(change));
        Ok(Outcome::of(changed))
    }

    /// Asks every watcher to stop and waits for them (bounded).
    pub async fn stop_all(self) {
        self.watchers.stop_all().await;
    }
}

/// Until `shutdown`: runs [`Supervisor::run_once`] whenever woken through
/// [`Core::mailbox_wake`], and every `every` as a safety net. `poll` is how often POP3
/// mailboxes are read.
pub async fn run(
    core: Arc<Core>,
    every: Duration,
    poll: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    core.mailbox_wake.running.store(true, Ordering::SeqCst);
    let mut supervisor = Supervisor::new(core.clone(), poll);
    loop {
        if let Err(e) = supervisor.run_once().await {
            tracing::warn!(error = %e, "cannot list incoming servers");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = core.mailbox_wake.supervisor.notified() => {}
            _ = shutdown.changed() => break,
        }
    }
    core.mailbox_wake.running.store(false, Ordering::SeqCst);
    supervisor.stop_all().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Watchers alive now and the most ever alive at once, for one mailbox.
    #[derive(Default)]
    struct Census {
        alive: usize,
        most: usize,
        started: usize,
    }

    struct Alive(Arc<Mutex<Census>>);

    impl Drop for Alive {
        fn drop(&mut self) {
            self.0.lock().unwrap().alive -= 1;
        }
    }

    /// A watcher that notices a stop only `slow` later (a long batch), or never.
    fn fake(
        census: &Arc<Mutex<Census>>,
        slow: Option<Duration>,
    ) -> impl Fn(Id, watch::Receiver<bool>) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>>
    {
        let census = census.clone();
        move |_, mut stop| {
            let census = census.clone();
            Box::pin(async move {
                {
                    let mut c = census.lock().unwrap();
                    c.alive += 1;
                    c.started += 1;
                    c.most = c.most.max(c.alive);
                }
                let _alive = Alive(census);
                while !*stop.borrow() {
                    if stop.changed().await.is_err() {
                        break;
                    }
                }
                match slow {
                    Some(slow) => tokio::time::sleep(slow).await,
                    None => std::future::pending().await,
                }
            })
        }
    }

    async fn settle(secs: u64) {
        for _ in 0..secs {
            tokio::time::advance(Duration::from_secs(1)).await;
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn repeated_edits_never_run_two_watchers_of_a_mailbox_at_once() {
        let census = Arc::new(Mutex::new(Census::default()));
        let mut watchers = Watchers::default();
        let id = Id::new();
        // Each watcher takes 2 s to notice it was asked to stop; the server is edited every
        // second, then disabled and enabled again.
        let start = fake(&census, Some(Duration::from_secs(2)));
        for version in 1..=4 {
            watchers
                .reconcile(&HashMap::from([(id, version)]), &start)
                .await;
            settle(1).await;
        }
        watchers.reconcile(&HashMap::new(), &start).await;
        settle(1).await;
        watchers.reconcile(&HashMap::from([(id, 5)]), &start).await;
        settle(60).await;
        {
            let c = census.lock().unwrap();
            assert_eq!(c.most, 1, "two watchers of one mailbox ran at once");
            assert_eq!(c.alive, 1, "the last version runs");
        }
        watchers.stop_all().await;
        assert_eq!(census.lock().unwrap().alive, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_watcher_that_does_not_stop_is_aborted_before_the_next_starts() {
        let census = Arc::new(Mutex::new(Census::default()));
        let mut watchers = Watchers::default();
        let id = Id::new();
        let start = fake(&census, None);
        let first = HashMap::from([(id, 1)]);
        assert_eq!(watchers.reconcile(&first, &start).await, 1, "one started");
        settle(1).await;
        assert_eq!(watchers.reconcile(&first, &start).await, 0, "nothing to do");
        let edited = HashMap::from([(id, 2)]);
        assert_eq!(
            watchers.reconcile(&edited, &start).await,
            2,
            "one stopped, one started"
        );
        settle(STOP_GRACE.as_secs() + 5).await;
        let c = census.lock().unwrap();
        assert_eq!((c.most, c.alive, c.started), (1, 1, 2));
    }
}
