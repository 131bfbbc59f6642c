//! Keeps one watcher per enabled incoming server: starts new ones, restarts changed ones, stops
//! disabled or deleted ones.

use super::watch::watch_mailbox;
use crate::Core;
use mailgate_domain::Id;
use mailgate_store::ObjectKind;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

struct Running {
    version: i64,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

/// Until `shutdown`, every `every`: compare the enabled incoming servers with the running
/// watchers. `poll` is how often POP3 mailboxes are read.
pub async fn run(
    core: Arc<Core>,
    every: Duration,
    poll: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut running: HashMap<Id, Running> = HashMap::new();
    loop {
        match core.store.list_objects(ObjectKind::IncomingServer).await {
            Ok(rows) => {
                let wanted: HashMap<Id, i64> = rows
                    .iter()
                    .filter(|r| r.enabled)
                    .map(|r| (r.id, r.updated_at_ms))
                    .collect();
                running.retain(|id, r| {
                    let keep = wanted.get(id) == Some(&r.version) && !r.task.is_finished();
                    if !keep {
                        let _ = r.stop.send(true);
                    }
                    keep
                });
                for (id, version) in wanted {
                    if running.contains_key(&id) {
                        continue;
                    }
                    let (stop, stopped) = watch::channel(false);
                    let task = tokio::spawn(watch_mailbox(core.clone(), id, poll, stopped));
                    running.insert(
                        id,
                        Running {
                            version,
                            stop,
                            task,
                        },
                    );
                }
                metrics::gauge!("mailgate_mailboxes_watched").set(running.len() as f64);
            }
            Err(e) => tracing::warn!(error = %e, "cannot list incoming servers"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => break,
        }
    }
    for (_, r) in running.drain() {
        let _ = r.stop.send(true);
        let _ = r.task.await;
    }
}
