//! Live updates: one listener per process hears the database's change signals (whichever
//! server made the change) and fans them out to this process's open event streams. Each stream
//! then reads what changed through the viewer's own permission checks.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portico_db::messages::{self, Conversation, Message};
use portico_db::signals::Listener;
use portico_db::{Db, DbError};
use time::OffsetDateTime;
use tokio::sync::{OnceCell, broadcast, watch};
use uuid::Uuid;

/// How often SQLite's signal table is read.
const SQLITE_POLL: Duration = Duration::from_millis(25);
/// How long one read of new messages may serve the streams that ask for the same rows.
const SHARE_FOR: Duration = Duration::from_millis(500);

/// When a read mark was last moved, and to which message.
type Marked = (Instant, i64);

/// A signal as this process numbers them: the number rises with every signal heard.
type Numbered = (u64, Uuid);

/// One read of a conversation's new messages, and the number of the last signal heard before
/// it started: it has seen every change signalled up to there.
struct SharedRead {
    started: Instant,
    seen_up_to: u64,
    rows: Arc<OnceCell<Arc<Vec<Message>>>>,
}

/// The process's fan-out of change signals. A topic is a conversation's or a person's id;
/// `Uuid::nil()` asks every stream to look again (signals may have been missed).
#[derive(Clone)]
pub struct Hub {
    sender: broadcast::Sender<Numbered>,
    heard: Arc<AtomicU64>,
    /// Reads of new messages in flight or just done, shared by the streams of this process
    /// that watch the same conversation (they wake together and want the same rows).
    reads: Arc<Mutex<HashMap<(Uuid, i64), SharedRead>>>,
    /// Read marks this process has written lately, by (conversation, person): a person with
    /// several pages open has the mark written once, not once per page.
    marked: Arc<Mutex<HashMap<(Uuid, Uuid), Marked>>>,
    /// Turns true when the server stops: open streams end so that it can.
    stop: watch::Receiver<bool>,
}

impl Hub {
    /// Starts listening; stops when `stop` turns true.
    pub fn start(db: Db, mut stop: watch::Receiver<bool>) -> Hub {
        let (sender, _) = broadcast::channel(4096);
        let heard = Arc::new(AtomicU64::new(0));
        let hub = Hub {
            sender: sender.clone(),
            heard: heard.clone(),
            reads: Arc::default(),
            marked: Arc::default(),
            stop: stop.clone(),
        };
        let send = move |topic: Uuid| {
            let n = heard.fetch_add(1, Ordering::SeqCst) + 1;
            let _ = sender.send((n, topic));
        };
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
                send(Uuid::nil());
                loop {
                    tokio::select! {
                        next = listener.next() => match next {
                            Ok(topics) => topics.into_iter().for_each(&send),
                            Err(_) if *stop.borrow() => return,
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
        hub
    }

    /// A subscription to every signal from now on.
    pub fn subscribe(&self) -> Subscription {
        Subscription {
            rx: self.sender.subscribe(),
            heard: self.heard.clone(),
            stop: self.stop.clone(),
        }
    }

    /// The messages of `conversation` numbered above `after`, read once for every stream of
    /// this process that asks for the same rows after the same signal. `woken_by` is the number
    /// of the signal the caller woke on: a read that started before it is not good enough.
    /// Callers must have checked that their viewer may read the conversation.
    pub async fn messages_after(
        &self,
        db: &Db,
        conversation: &Conversation,
        after: i64,
        limit: i64,
        woken_by: u64,
    ) -> Result<Arc<Vec<Message>>, DbError> {
        let rows = {
            let mut reads = self.reads.lock().expect("not poisoned");
            reads.retain(|_, r| r.started.elapsed() < SHARE_FOR);
            let fresh = SharedRead {
                started: Instant::now(),
                seen_up_to: self.heard.load(Ordering::SeqCst),
                rows: Arc::default(),
            };
            let read = reads.entry((conversation.id, after)).or_insert(fresh);
            if read.seen_up_to < woken_by {
                *read = SharedRead {
                    started: Instant::now(),
                    seen_up_to: self.heard.load(Ordering::SeqCst),
                    rows: Arc::default(),
                };
            }
            read.rows.clone()
        };
        let got = rows
            .get_or_try_init(|| async {
                messages::after(db, conversation, after, limit)
                    .await
                    .map(Arc::new)
            })
            .await?;
        Ok(got.clone())
    }
}

impl Hub {
    /// Whether `person`'s read mark in `conversation` must still be moved to `seq`; if so,
    /// it is noted as moved (the caller moves it). Forgotten after a minute.
    pub fn claim_read_mark(&self, conversation: Uuid, person: Uuid, seq: i64) -> bool {
        let mut marked = self.marked.lock().expect("not poisoned");
        if marked.len() > 10_000 {
            marked.retain(|_, (at, _)| at.elapsed() < Duration::from_secs(60));
        }
        let entry = marked
            .entry((conversation, person))
            .or_insert((Instant::now(), 0));
        if entry.1 >= seq {
            return false;
        }
        *entry = (Instant::now(), seq);
        true
    }
}

pub struct Subscription {
    rx: broadcast::Receiver<Numbered>,
    heard: Arc<AtomicU64>,
    stop: watch::Receiver<bool>,
}

impl Subscription {
    /// The number of the newest signal heard so far.
    pub fn heard(&self) -> u64 {
        self.heard.load(Ordering::SeqCst)
    }

    /// Like [`Subscription::wait_for`], but wakes at `until` at the latest (when the stream's
    /// session would idle out) as if told to look again, so that the caller checks the session
    /// once more and ends the stream if it has ended.
    pub async fn wait_for_until(&mut self, topic: Uuid, until: OffsetDateTime) -> Option<u64> {
        let left = Duration::try_from(until - portico_db::now()).unwrap_or_default();
        // A moment past the end, so that the session has ended when it is checked.
        let left = left + Duration::from_millis(250);
        match tokio::time::timeout(left, self.wait_for(topic)).await {
            Ok(got) => got,
            Err(_) => Some(self.heard()),
        }
    }

    /// Waits until `topic` (or a look-again) is signalled and returns that signal's number;
    /// `None` once the server stops.
    pub async fn wait_for(&mut self, topic: Uuid) -> Option<u64> {
        loop {
            if *self.stop.borrow() {
                return None;
            }
            tokio::select! {
                got = self.rx.recv() => match got {
                    Ok((n, t)) if t == topic || t.is_nil() => return Some(n),
                    Ok(_) => {}
                    // Too slow to keep up: something of ours may be among what was dropped.
                    Err(broadcast::error::RecvError::Lagged(_)) => return Some(self.heard()),
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = self.stop.changed() => return None,
            }
        }
    }
}
