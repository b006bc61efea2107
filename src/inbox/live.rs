//! Live updates (inbox and comments): one LISTEN connection per process turns `parley_events` notifications (sent at
//! commit by webhook processing, sends and agents' actions in any Parley process) into an
//! in-process broadcast that each open page's server-sent-events stream filters by tenant.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, broadcast};

use crate::db::PgPool;
use crate::db::ids::{CommentId, ConversationId, TenantId, UserId};
use crate::models::notifications;

/// The notification channel every change goes through.
pub const CHANNEL: &str = "parley_events";

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveEvent {
    /// A conversation of a tenant changed (message, receipt, reaction, assignment…).
    Conversation {
        tenant: TenantId,
        id: ConversationId,
    },
    /// A comment of a tenant changed (arrived, edited, hidden, moderated…).
    Comment { tenant: TenantId, id: CommentId },
    /// Sessions of a user were ended (signed out, everywhere, deactivated): their streams check
    /// whether they may go on.
    SessionsEnded { tenant: TenantId, user: UserId },
    /// Notifications may have been missed (the listener reconnected): pages reload their state.
    Resync,
}

impl LiveEvent {
    /// Parses a `"<tenant>:conversation:<id>"` or `"<tenant>:sessions:<user>"` payload.
    pub fn parse(payload: &str) -> Option<LiveEvent> {
        let mut parts = payload.splitn(3, ':');
        let tenant = TenantId(parts.next()?.parse().ok()?);
        let kind = parts.next()?;
        let id: i64 = parts.next()?.parse().ok()?;
        let conversation = ConversationId(id);
        match kind {
            "conversation" => Some(LiveEvent::Conversation {
                tenant,
                id: conversation,
            }),
            "comment" => Some(LiveEvent::Comment {
                tenant,
                id: CommentId(id),
            }),
            "sessions" => Some(LiveEvent::SessionsEnded {
                tenant,
                user: UserId(id),
            }),
            _ => None,
        }
    }
}

impl LiveEvent {
    /// The notification payload [`LiveEvent::parse`] reads back (`Resync` is never sent).
    pub fn payload(&self) -> Option<String> {
        match self {
            LiveEvent::Conversation { tenant, id } => Some(format!("{tenant}:conversation:{id}")),
            LiveEvent::SessionsEnded { tenant, user } => Some(format!("{tenant}:sessions:{user}")),
            LiveEvent::Comment { tenant, id } => Some(format!("{tenant}:comment:{id}")),
            LiveEvent::Resync => None,
        }
    }
}

/// Tells every Parley process's live pages about `events`, delivered at commit (so pages only
/// ever see committed changes); each distinct event once.
pub fn publish(conn: &mut diesel::PgConnection, events: &[LiveEvent]) -> diesel::QueryResult<()> {
    let mut payloads: Vec<String> = events.iter().filter_map(LiveEvent::payload).collect();
    payloads.sort_unstable();
    payloads.dedup();
    crate::models::notifications::notify(conn, CHANNEL, &payloads)
}

/// Tells every process's streams that sessions of `user` ended (delivered at commit).
pub fn notify_sessions_ended(
    conn: &mut diesel::PgConnection,
    tenant: TenantId,
    user: UserId,
) -> diesel::QueryResult<()> {
    publish(conn, &[LiveEvent::SessionsEnded { tenant, user }])
}

/// Open live streams per user in one process (a user with several tabs has one per tab). A
/// new stream beyond this ends the user's oldest one: a page left behind by a navigation holds
/// its place until its next write fails, and the page in front must not be the one refused.
pub const STREAMS_PER_USER: usize = 8;

#[derive(Default)]
struct Slots {
    next_id: u64,
    total: usize,
    /// Each user's streams, oldest first, with the signal that ends each.
    by_user: HashMap<UserId, VecDeque<(u64, Arc<Notify>)>>,
}

/// A place among the process's live streams, given back when the stream ends.
pub struct StreamSlot {
    slots: Arc<Mutex<Slots>>,
    user: UserId,
    id: u64,
    evicted: Arc<Notify>,
}

impl StreamSlot {
    /// Completes when a newer stream of the same user took this one's place.
    pub async fn evicted(&self) {
        self.evicted.notified().await;
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        if let Ok(mut slots) = self.slots.lock() {
            let Some(mine) = slots.by_user.get_mut(&self.user) else {
                return;
            };
            // An evicted slot was already taken out of the count.
            if let Some(pos) = mine.iter().position(|(id, _)| *id == self.id) {
                mine.remove(pos);
                if mine.is_empty() {
                    slots.by_user.remove(&self.user);
                }
                slots.total = slots.total.saturating_sub(1);
            }
        }
    }
}

/// Why a stream was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamRefused {
    /// The process serves its configured maximum.
    ProcessFull,
}

/// The process's hub. The listener starts with the first subscriber and stops when the hub is
/// dropped (the server stopped).
pub struct Live {
    pool: PgPool,
    sender: broadcast::Sender<LiveEvent>,
    started: OnceLock<()>,
    stop: Arc<AtomicBool>,
    slots: Arc<Mutex<Slots>>,
    max_streams: usize,
}

impl Live {
    /// A hub serving at most `max_streams` streams at once.
    pub fn new(pool: PgPool, max_streams: usize) -> Live {
        let (sender, _) = broadcast::channel(4096);
        Live {
            pool,
            sender,
            started: OnceLock::new(),
            stop: Arc::new(AtomicBool::new(false)),
            slots: Arc::new(Mutex::new(Slots::default())),
            max_streams,
        }
    }

    /// Takes a stream slot for `user`: within the per-process cap, and ending the user's oldest
    /// stream if they already have [`STREAMS_PER_USER`].
    pub fn reserve(&self, user: UserId) -> Result<StreamSlot, StreamRefused> {
        let mut guard = self.slots.lock().map_err(|_| StreamRefused::ProcessFull)?;
        let slots = &mut *guard;
        let mine = slots.by_user.entry(user).or_default();
        if mine.len() >= STREAMS_PER_USER {
            if let Some((_, oldest)) = mine.pop_front() {
                oldest.notify_one();
                slots.total = slots.total.saturating_sub(1);
            }
        } else if slots.total >= self.max_streams {
            if mine.is_empty() {
                slots.by_user.remove(&user);
            }
            return Err(StreamRefused::ProcessFull);
        }
        slots.next_id += 1;
        let (id, evicted) = (slots.next_id, Arc::new(Notify::new()));
        mine.push_back((id, evicted.clone()));
        slots.total += 1;
        Ok(StreamSlot {
            slots: self.slots.clone(),
            user,
            id,
            evicted,
        })
    }

    /// A stream of every change in this database (callers filter by tenant).
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.started.get_or_init(|| {
            let (pool, sender, stop) = (self.pool.clone(), self.sender.clone(), self.stop.clone());
            let spawned = std::thread::Builder::new()
                .name("parley-live".into())
                .spawn(move || listen(pool, sender, stop));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start the live-update listener");
            }
        });
        self.sender.subscribe()
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// How often the listener reads its socket: notifications reach pages within this delay.
const POLL: Duration = Duration::from_millis(50);
/// How often an idle listener checks that its connection is still alive.
const PING: Duration = Duration::from_secs(10);

fn listen(pool: PgPool, sender: broadcast::Sender<LiveEvent>, stop: Arc<AtomicBool>) {
    let mut first = true;
    while !stop.load(Ordering::Relaxed) {
        let mut conn = match pool.get() {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "live updates: no database connection; retrying");
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
        };
        if let Err(e) = notifications::listen(&mut conn, CHANNEL) {
            tracing::warn!(error = %e, "live updates: LISTEN failed; retrying");
            std::thread::sleep(Duration::from_secs(1));
            continue;
        }
        if !first {
            // Anything committed while we were not listening is unknown: pages reload.
            let _ = sender.send(LiveEvent::Resync);
        }
        first = false;
        let mut pinged = Instant::now();
        'session: while !stop.load(Ordering::Relaxed) {
            for n in conn.notifications_iter() {
                match n {
                    Ok(n) if n.payload == crate::models::jobs::WAKE_PAYLOAD => {
                        crate::jobs::worker::wake();
                    }
                    Ok(n) => {
                        if let Some(ev) = LiveEvent::parse(&n.payload) {
                            let _ = sender.send(ev);
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "live updates: connection lost; reconnecting");
                        break 'session;
                    }
                }
            }
            if pinged.elapsed() > PING {
                if crate::db::ping(&mut conn).is_err() {
                    break 'session;
                }
                pinged = Instant::now();
            }
            std::thread::sleep(POLL);
        }
        // A broken connection must not go back to the pool, and a LISTENing one should not either.
        let _ = notifications::unlisten(&mut conn, CHANNEL);
        drop(conn);
        if !stop.load(Ordering::Relaxed) {
            // A lost connection usually means a restarting or vanishing server: pause rather
            // than reconnect in a tight loop (and, when the whole process is exiting, be asleep
            // rather than inside libpq while its exit handlers run).
            std::thread::sleep(RECONNECT_PAUSE);
        }
    }
}

/// How long the listener waits before reconnecting after losing its connection.
const RECONNECT_PAUSE: Duration = Duration::from_secs(1);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_parse() {
        assert_eq!(
            LiveEvent::parse("3:conversation:42"),
            Some(LiveEvent::Conversation {
                tenant: TenantId(3),
                id: ConversationId(42)
            })
        );
        assert_eq!(
            LiveEvent::parse("3:sessions:7"),
            Some(LiveEvent::SessionsEnded {
                tenant: TenantId(3),
                user: UserId(7)
            })
        );
        for event in [
            LiveEvent::Conversation {
                tenant: TenantId(3),
                id: ConversationId(42),
            },
            LiveEvent::SessionsEnded {
                tenant: TenantId(3),
                user: UserId(7),
            },
        ] {
            assert_eq!(LiveEvent::parse(&event.payload().unwrap()), Some(event));
        }
        assert_eq!(
            LiveEvent::parse("3:comment:1"),
            Some(LiveEvent::Comment {
                tenant: TenantId(3),
                id: CommentId(1)
            })
        );
        assert_eq!(LiveEvent::parse("3:label:1"), None);
        assert_eq!(LiveEvent::parse("x"), None);
    }

    #[test]
    fn streams_are_capped_per_user_and_per_process() {
        let pool = crate::db::build_pool("postgres://nowhere.invalid/x", 1).unwrap();
        let live = Live::new(pool, STREAMS_PER_USER + 2);
        let mut ann: Vec<_> = (0..STREAMS_PER_USER)
            .map(|_| live.reserve(UserId(1)).unwrap())
            .collect();
        // A ninth stream of Ann's ends her oldest instead of being refused.
        let newest = live.reserve(UserId(1)).unwrap();
        let oldest = ann.remove(0);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(1), oldest.evicted())
                .await
                .expect("the oldest stream was told to end");
        });
        drop(oldest);
        let bob = live.reserve(UserId(2)).unwrap();
        let _cy = live.reserve(UserId(3)).unwrap();
        assert_eq!(
            live.reserve(UserId(4)).err(),
            Some(StreamRefused::ProcessFull)
        );
        drop(bob);
        assert!(
            live.reserve(UserId(4)).is_ok(),
            "a closed stream gives its place back"
        );
        drop(ann);
        drop(newest);
        assert!(live.reserve(UserId(1)).is_ok());
        assert!(live.reserve(UserId(5)).is_ok());
    }
}
