//! Live updates: one LISTEN connection per process turns `parley_events` notifications (sent at
//! commit by webhook processing, sends and agents' actions in any Parley process) into an
//! in-process broadcast that each open page's server-sent-events stream filters by tenant.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use tokio::sync::broadcast;

use crate::db::PgPool;
use crate::db::ids::TenantId;

/// The notification channel every change goes through.
pub const CHANNEL: &str = "parley_events";

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveEvent {
    /// A conversation of a tenant changed (message, receipt, reaction, assignment…).
    Conversation { tenant: TenantId, id: i64 },
    /// Notifications may have been missed (the listener reconnected): pages reload their state.
    Resync,
}

impl LiveEvent {
    /// Parses a `"<tenant>:conversation:<id>"` payload.
    pub fn parse(payload: &str) -> Option<LiveEvent> {
        let mut parts = payload.splitn(3, ':');
        let tenant = parts.next()?.parse().ok()?;
        if parts.next()? != "conversation" {
            return None;
        }
        Some(LiveEvent::Conversation {
            tenant: TenantId(tenant),
            id: parts.next()?.parse().ok()?,
        })
    }
}

/// The process's hub. The listener starts with the first subscriber and stops when the hub is
/// dropped (the server stopped).
pub struct Live {
    pool: PgPool,
    sender: broadcast::Sender<LiveEvent>,
    started: OnceLock<()>,
    stop: Arc<AtomicBool>,
}

impl Live {
    pub fn new(pool: PgPool) -> Live {
        let (sender, _) = broadcast::channel(4096);
        Live {
            pool,
            sender,
            started: OnceLock::new(),
            stop: Arc::new(AtomicBool::new(false)),
        }
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
        if let Err(e) = diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(&mut *conn) {
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
                if diesel::sql_query("SELECT 1").execute(&mut *conn).is_err() {
                    break 'session;
                }
                pinged = Instant::now();
            }
            std::thread::sleep(POLL);
        }
        // A broken connection must not go back to the pool, and a LISTENing one should not either.
        let _ = diesel::sql_query(format!("UNLISTEN {CHANNEL}")).execute(&mut *conn);
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
                id: 42
            })
        );
        assert_eq!(LiveEvent::parse("3:comment:1"), None);
        assert_eq!(LiveEvent::parse("x"), None);
    }
}
