//! The inbox's live stream: server-sent events telling open pages what changed.

use std::convert::Infallible;
use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;

use crate::auth::Authorized;
use crate::auth::roles::{CommentRoles, InboxRoles};
use crate::db::ids::{SessionId, TenantId, UserId};
use crate::error::AppError;
use crate::inbox::live::{Live, LiveEvent, StreamRefused, StreamSlot};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct LiveQuery {
    /// When the page was rendered (ms): a stream that connects later missed nothing only if
    /// it connects at once, so older pages are told to reload their parts.
    since: Option<i64>,
}

/// How often a stream re-checks that its session is still open, besides being told at once
/// when sessions of its user end (idle and absolute limits pass without a notification).
const SESSION_RECHECK: Duration = Duration::from_secs(60);

/// Which page a stream feeds, and so which events it passes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Feed {
    /// The inbox: `inbox` for the list, `c{id}` for an open conversation.
    Inbox,
    /// The moderation queue: `comments` for the queue, `m{id}` for one comment.
    Comments,
}

impl Feed {
    /// The events a change of the stream's tenant becomes, if the page wants it.
    fn chunk(self, event: &LiveEvent, tenant: TenantId) -> Option<String> {
        match (self, event) {
            (Feed::Inbox, LiveEvent::Conversation { tenant: t, id }) if *t == tenant => Some(
                format!("event: inbox\ndata: {id}\n\nevent: c{id}\ndata: {id}\n\n"),
            ),
            (Feed::Comments, LiveEvent::Comment { tenant: t, id }) if *t == tenant => Some(
                format!("event: comments\ndata: {id}\n\nevent: m{id}\ndata: {id}\n\n"),
            ),
            _ => None,
        }
    }
}

/// GET /inbox/live: server-sent events for the signed-in user's tenant. Streams are capped per
/// process (429 beyond) and per user (a new one ends the user's oldest), and a stream ends when
/// its session does (signed out here or everywhere, expired, or the user deactivated).
pub async fn live(
    state: web::Data<AppState>,
    hub: web::Data<Live>,
    user: Authorized<InboxRoles>,
    q: web::Query<LiveQuery>,
) -> Result<HttpResponse, AppError> {
    let who = (user.id, user.tenant_id, user.session_id);
    stream(state, hub, who, q.since, Feed::Inbox)
}

/// GET /comments/live: the moderation queue's stream (new comments, edits, hides by others,
/// moderation results), under the same caps and session rules as the inbox's.
pub async fn comments_live(
    state: web::Data<AppState>,
    hub: web::Data<Live>,
    user: Authorized<CommentRoles>,
    q: web::Query<LiveQuery>,
) -> Result<HttpResponse, AppError> {
    let who = (user.id, user.tenant_id, user.session_id);
    stream(state, hub, who, q.since, Feed::Comments)
}

fn stream(
    state: web::Data<AppState>,
    hub: web::Data<Live>,
    (me, tenant, session_id): (UserId, TenantId, SessionId),
    since: Option<i64>,
    feed: Feed,
) -> Result<HttpResponse, AppError> {
    let slot = hub.reserve(me).map_err(|StreamRefused::ProcessFull| {
        AppError::TooManyRequests(
            "Parley serves as many live pages as it can right now. Reload in a moment.",
        )
    })?;
    let rx = hub.subscribe();
    let stale = since.is_none_or(|s| Utc::now().timestamp_millis().saturating_sub(s) > 3_000);
    let hello = if stale {
        "retry: 2000\nevent: resync\ndata: reconnected\n\n"
    } else {
        "retry: 2000\n: connected\n\n"
    };
    let pool = state.pool.clone();
    let still_open = move || {
        let pool = pool.clone();
        async move {
            crate::db::run(&pool, move |conn| {
                Ok(crate::models::sessions::is_open(
                    conn,
                    tenant,
                    session_id,
                    Utc::now(),
                    crate::auth::session::LIFETIME,
                )?)
            })
            .await
            // A database hiccup does not end the stream; the next check decides.
            .unwrap_or(true)
        }
    };
    struct StreamState {
        rx: tokio::sync::broadcast::Receiver<LiveEvent>,
        hello: Option<&'static str>,
        checked: std::time::Instant,
        slot: StreamSlot,
    }
    let start = StreamState {
        rx,
        hello: Some(hello),
        checked: std::time::Instant::now(),
        slot,
    };
    let stream = futures_util::stream::unfold(start, move |mut st| {
        let still_open = still_open.clone();
        async move {
            if let Some(h) = st.hello.take() {
                return Some((Ok::<_, Infallible>(Bytes::from(h)), st));
            }
            loop {
                use tokio::sync::broadcast::error::RecvError;
                if st.checked.elapsed() > SESSION_RECHECK {
                    if !still_open().await {
                        return None;
                    }
                    st.checked = std::time::Instant::now();
                }
                let next = tokio::select! {
                    // A newer page of this user took this stream's place.
                    () = st.slot.evicted() => return None,
                    next = tokio::time::timeout(Duration::from_secs(15), st.rx.recv()) => next,
                };
                let chunk = match next {
                    Err(_) => ": keep-alive\n\n".to_string(),
                    Ok(Ok(LiveEvent::SessionsEnded { tenant: t, user }))
                        if t == tenant && user == me =>
                    {
                        if !still_open().await {
                            return None;
                        }
                        continue;
                    }
                    Ok(Ok(
                        event @ (LiveEvent::Conversation { .. } | LiveEvent::Comment { .. }),
                    )) => match feed.chunk(&event, tenant) {
                        Some(chunk) => chunk,
                        None => continue,
                    },
                    Ok(Ok(LiveEvent::SessionsEnded { .. })) => continue,
                    Ok(Ok(LiveEvent::Resync)) | Ok(Err(RecvError::Lagged(_))) => {
                        "event: resync\ndata: missed\n\n".to_string()
                    }
                    Ok(Err(RecvError::Closed)) => return None,
                };
                return Some((Ok(Bytes::from(chunk)), st));
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        // Compression would hold events back in its buffer.
        .insert_header(("Content-Encoding", "identity"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream))
}
