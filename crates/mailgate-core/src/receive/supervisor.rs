//! Keeps one watcher per enabled incoming server: starts new ones, restarts changed ones, stops
//! disabled or deleted ones. A mailbox never has two watchers at once (servers limit the
//! connections per mailbox, and POP3 locks the mailbox): a restarted or re-enabled mailbox's new
//! watcher starts only once the old one has ended, or has been aborted after [`STOP_GRACE`].

use super::watch::watch_mailbox;
use crate::Core;
use mailgate_domain::Id;
use mailgate_store::ObjectKind;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long a watcher asked to stop may take (it notices in IDLE at once, otherwise between
/// two batches) before it is aborted.
const STOP_GRACE: Duration = Duration::from_secs(30);

struct Running {
    version: i64,
    stop: watch::Sender<bool>,
    task: Watcher,
}

/// A watcher's task, aborted if dropped (so that no chain of waiting watchers can leave one
/// running detached).
struct Watcher(JoinHandle<()>);

impl Drop for Watcher {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Watcher {
    /// Waits for the task to end, at most [`STOP_GRACE`], then aborts it and waits for that.
    async fn ended(mut self) {
        if tokio::time::timeout(STOP_GRACE, &mut self.0).await.is_err() {
            tracing::warn!("a mailbox watcher did not stop in time; aborting it");
            self.0.abort();
            let _ = (&mut self.0).await;
        }
    }
}

/// The watchers, and those asked to stop that may still be ending.
#[derive(Default)]
struct Watchers {
    running: HashMap<Id, Running>,
    stopping: HashMap<Id, Watcher>,
}

impl Watchers {
    /// Stops the watchers of mailboxes not in `wanted` (id -> version) or of another version,
    /// and starts the missing ones with `start`, each after its mailbox's previous watcher ended.
    fn reconcile<F, Fut>(&mut self, wanted: &HashMap<Id, i64>, start: F)
    where
        F: Fn(Id, watch::Receiver<bool>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.stopping.retain(|_, w| !w.0.is_finished());
        let ids: Vec<Id> = self.running.keys().copied().collect();
        for id in ids {
            let keep = self
                .running
                .get(&id)
                .is_some_and(|r| wanted.get(&id) == Some(&r.version) && !r.task.0.is_finished());
            if !keep && let Some(r) = self.running.remove(&id) {
                let _ = r.stop.send(true);
                // At most one per mailbox: a watcher that was itself still waiting for an older
                // one holds that one, and ends (or is aborted) after it.
                self.stopping.insert(id, r.task);
            }
        }
        for (&id, &version) in wanted {
            if self.running.contains_key(&id) {
                continue;
            }
            let (stop, stopped) = watch::channel(false);
            let previous = self.stopping.remove(&id);
            let watcher = start(id, stopped);
            let task = tokio::spawn(async move {
                if let Some(previous) = previous {
                    previous.ended().await;
                }
                watcher.await;
            });
            self.running.insert(
                id,
                Running {
                    version,
                    stop,
                    task: Watcher(task),
                },
            );
        }
    }

    /// Asks every watcher to stop and waits for them (bounded).
    async fn stop_all(mut self) {
        for r in self.running.values() {
            let _ = r.stop.send(true);
        }
        let all = self
            .running
            .drain()
            .map(|(_, r)| r.task)
            .chain(self.stopping.drain().map(|(_, w)| w));
        for w in all {
            w.ended().await;
        }
    }
}

/// Until `shutdown`, every `every`: compare the enabled incoming servers with the running
/// watchers. `poll` is how often POP3 mailboxes are read.
pub async fn run(
    core: Arc<Core>,
    every: Duration,
    poll: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut watchers = Watchers::default();
    loop {
        match core.store.list_objects(ObjectKind::IncomingServer).await {
            Ok(rows) => {
                let wanted: HashMap<Id, i64> = rows
                    .iter()
                    .filter(|r| r.enabled)
                    .map(|r| (r.id, r.updated_at_ms))
                    .collect();
                watchers.reconcile(&wanted, |id, stopped| {
                    watch_mailbox(core.clone(), id, poll, stopped)
                });
                metrics::gauge!("mailgate_mailboxes_watched").set(watchers.running.len() as f64);
            }
            Err(e) => tracing::warn!(error = %e, "cannot list incoming servers"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => break,
        }
    }
    watchers.stop_all().await;
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
        // Each watcher takes 10 s to notice it was asked to stop; the server is edited every
        // second, then disabled and enabled again.
        let start = fake(&census, Some(Duration::from_secs(10)));
        for version in 1..=4 {
            watchers.reconcile(&HashMap::from([(id, version)]), &start);
            settle(1).await;
        }
        watchers.reconcile(&HashMap::new(), &start);
        settle(1).await;
        watchers.reconcile(&HashMap::from([(id, 5)]), &start);
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
        watchers.reconcile(&HashMap::from([(id, 1)]), &start);
        settle(1).await;
        watchers.reconcile(&HashMap::from([(id, 2)]), &start);
        settle(STOP_GRACE.as_secs() + 5).await;
        let c = census.lock().unwrap();
        assert_eq!((c.most, c.alive, c.started), (1, 1, 2));
    }
}
