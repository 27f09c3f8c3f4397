//! Live updates: one listener per process hears the database's change signals (whichever
//! server made the change) and fans them out to this process's open event streams. Each stream
//! then reads what changed through the viewer's own permission checks.

use std::time::Duration;

use portico_db::Db;
use portico_db::signals::Listener;
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

/// How often SQLite's signal table is read.
const SQLITE_POLL: Duration = Duration::from_millis(25);

/// The process's fan-out of change signals. A topic is a conversation's or a person's id;
/// `Uuid::nil()` asks every stream to look again (signals may have been missed).
#[derive(Clone)]
pub struct Hub {
    sender: broadcast::Sender<Uuid>,
    /// Turns true when the server stops: open streams end so that it can.
    stop: watch::Receiver<bool>,
}

impl Hub {
    /// Starts listening; stops when `stop` turns true.
    pub fn start(db: Db, mut stop: watch::Receiver<bool>) -> Hub {
        let (sender, _) = broadcast::channel(4096);
        let out = sender.clone();
        let stopping = stop.clone();
        tokio::spawn(async move {
            loop {
                let mut listener = tokio::select! {
                    l = Listener::start(&db, SQLITE_POLL) => match l {
                        Ok(l) => l,
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot listen for live updates; retrying");
                            tokio::select! {
                                _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                                _ = stop.changed() => return,
                            }
                        }
                    },
                    _ = stop.changed() => return,
                };
                // Anything may have changed while nobody listened.
                let _ = out.send(Uuid::nil());
                loop {
                    tokio::select! {
                        next = listener.next() => match next {
                            Ok(topics) => {
                                for t in topics {
                                    let _ = out.send(t);
                                }
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "live updates interrupted");
                                break;
                            }
                        },
                        _ = stop.changed() => return,
                    }
                }
                if *stop.borrow() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        Hub {
            sender,
            stop: stopping,
        }
    }

    /// A subscription to every signal from now on.
    pub fn subscribe(&self) -> Subscription {
        Subscription {
            rx: self.sender.subscribe(),
            stop: self.stop.clone(),
        }
    }
}

pub struct Subscription {
    rx: broadcast::Receiver<Uuid>,
    stop: watch::Receiver<bool>,
}

impl Subscription {
    /// Waits until `topic` (or a look-again) is signalled; `false` once the server stops.
    pub async fn wait_for(&mut self, topic: Uuid) -> bool {
        loop {
            if *self.stop.borrow() {
                return false;
            }
            tokio::select! {
                got = self.rx.recv() => match got {
                    Ok(t) if t == topic || t.is_nil() => return true,
                    Ok(_) => {}
                    // Too slow to keep up: something of ours may be among what was dropped.
                    Err(broadcast::error::RecvError::Lagged(_)) => return true,
                    Err(broadcast::error::RecvError::Closed) => return false,
                },
                _ = self.stop.changed() => return false,
            }
        }
    }
}
