//! The moderation queue's filters in the URL: read leniently (an unknown value is no filter),
//! written back for links and forms that keep them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use crate::db::ids::{ChannelId, CommentId};
use crate::models::channels::Platform;
use crate::models::comment_queue::{QueueCursor, QueueFilter, QueueState};

/// The queue's filters as they arrive in the URL.
#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    state: Option<String>,
    channel: Option<String>,
    platform: Option<String>,
    unanswered: Option<String>,
    question: Option<String>,
    from: Option<String>,
    to: Option<String>,
    post: Option<String>,
    q: Option<String>,
    after: Option<String>,
    /// A comment just hidden: the page offers to undo it.
    undo: Option<String>,
}

/// The longest search kept from a URL.
const MAX_SEARCH_CHARS: usize = 200;

impl QueueQuery {
    pub fn filter(&self) -> QueueFilter {
        let text = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
        };
        let day = |v: &Option<String>| {
            v.as_deref()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        };
        let flag = |v: &Option<String>| v.as_deref().is_some_and(|f| !f.is_empty() && f != "0");
        QueueFilter {
            state: self
                .state
                .as_deref()
                .and_then(QueueState::parse)
                .unwrap_or_default(),
            channel: self
                .channel
                .as_deref()
                .and_then(|c| c.parse().ok())
                .map(ChannelId),
            platform: self.platform.as_deref().and_then(Platform::parse),
            unanswered: flag(&self.unanswered),
            question: flag(&self.question),
            from: day(&self.from),
            to: day(&self.to),
            post: text(&self.post).filter(|p| p.len() <= 100),
            search: text(&self.q).map(|q| q.chars().take(MAX_SEARCH_CHARS).collect()),
            ids: Vec::new(),
        }
    }

    /// The cursor as it came (kept by the live refresh).
    pub fn after_raw(&self) -> Option<&str> {
        self.after.as_deref()
    }

    /// The comment the page offers to undo the hiding of.
    pub fn undo(&self) -> Option<CommentId> {
        self.undo.as_deref()?.parse().ok().map(CommentId)
    }

    pub fn after(&self) -> Option<QueueCursor> {
        let (micros, id) = self.after.as_deref()?.split_once('_')?;
        Some(QueueCursor {
            at: DateTime::<Utc>::from_timestamp_micros(micros.parse().ok()?)?,
            id: CommentId(id.parse().ok()?),
        })
    }
}

/// The queue's filters from a form's `back` field, as a query string: only the queue's own
/// filters travel on, never a URL of someone else's choosing.
pub fn back_to(back: &str) -> String {
    query_string(
        &serde_urlencoded::from_str::<QueueQuery>(back)
            .unwrap_or_default()
            .filter(),
    )
}

/// The filters as a query string (without the cursor), for links that keep them.
pub fn query_string(f: &QueueFilter) -> String {
    let mut pairs = vec![("state", f.state.as_str().to_string())];
    if let Some(c) = f.channel {
        pairs.push(("channel", c.0.to_string()));
    }
    if let Some(p) = f.platform {
        pairs.push(("platform", p.as_str().to_string()));
    }
    if f.unanswered {
        pairs.push(("unanswered", "1".into()));
    }
    if f.question {
        pairs.push(("question", "1".into()));
    }
    if let Some(d) = f.from {
        pairs.push(("from", d.to_string()));
    }
    if let Some(d) = f.to {
        pairs.push(("to", d.to_string()));
    }
    if let Some(p) = &f.post {
        pairs.push(("post", p.clone()));
    }
    if let Some(q) = &f.search {
        pairs.push(("q", q.clone()));
    }
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_survive_a_round_trip_and_junk_is_no_filter() {
        let q: QueueQuery = serde_urlencoded::from_str(
            "state=replied&channel=3&platform=instagram&unanswered=1&question=1&from=2026-11-01&to=2026-11-30&post=17_9&q=free+stuff",
        )
        .unwrap();
        let f = q.filter();
        assert_eq!(f.state, QueueState::Replied);
        assert!(f.unanswered && f.question);
        assert_eq!(f.search.as_deref(), Some("free stuff"));
        let again: QueueQuery = serde_urlencoded::from_str(&query_string(&f)).unwrap();
        assert_eq!(query_string(&again.filter()), query_string(&f));

        let junk: QueueQuery =
            serde_urlencoded::from_str("state=nope&channel=x&from=yesterday&unanswered=0&q=+")
                .unwrap();
        let f = junk.filter();
        assert_eq!(f.state, QueueState::NeedsReview);
        assert!(f.channel.is_none() && f.from.is_none() && !f.unanswered && f.search.is_none());
    }
}
