//! What the list pane shows: filter URLs and the rows.

use crate::db::ids::ConversationId;
use crate::db::statuses::ConversationStatus;
use crate::inbox::list::{AssigneeFilter, ConversationRow, Cursor, ListFilter};
use crate::models::channels::Platform;

/// An id however many references templates wrap it in.
pub trait IdLike {
    fn value(&self) -> i64;
}

impl IdLike for i64 {
    fn value(&self) -> i64 {
        *self
    }
}

impl IdLike for crate::db::ids::ConversationId {
    fn value(&self) -> i64 {
        self.0
    }
}

impl<T: IdLike + ?Sized> IdLike for &T {
    fn value(&self) -> i64 {
        (**self).value()
    }
}

/// The filters as URL query pairs (without the cursor).
pub fn filter_pairs(f: &ListFilter) -> Vec<(&'static str, String)> {
    let mut pairs = vec![("status", f.status.map_or("all", |s| s.as_str()).to_string())];
    if f.assignee != AssigneeFilter::All {
        pairs.push(("assignee", f.assignee.as_str().into()));
    }
    if let Some(p) = f.platform {
        pairs.push(("platform", p.as_str().into()));
    }
    if let Some(c) = f.channel {
        pairs.push(("channel", c.0.to_string()));
    }
    if let Some(l) = f.label {
        pairs.push(("label", l.to_string()));
    }
    if f.unread_only {
        pairs.push(("unread", "1".into()));
    }
    if let Some(q) = f.search.as_ref().filter(|q| !q.trim().is_empty()) {
        pairs.push(("q", q.clone()));
    }
    pairs
}

/// `status=open&assignee=mine…`
pub fn query_string(f: &ListFilter) -> String {
    serde_urlencoded::to_string(filter_pairs(f)).unwrap_or_default()
}

/// The list pane.
pub struct ListView {
    pub rows: Vec<ConversationRow>,
    pub filter: ListFilter,
    /// The current filters as a query string (kept on every link).
    pub qs: String,
    pub next_url: Option<String>,
    pub selected: Option<ConversationId>,
    pub channels: Vec<(i64, String)>,
    pub labels: Vec<crate::inbox::actions::Label>,
    pub statuses: &'static [ConversationStatus],
}

impl ListView {
    pub fn new(
        rows: Vec<ConversationRow>,
        filter: ListFilter,
        next: Option<Cursor>,
        selected: Option<ConversationId>,
    ) -> ListView {
        let qs = query_string(&filter);
        let next_url = next.map(|c| format!("/inbox?{qs}&after={}", c.encode()));
        ListView {
            rows,
            filter,
            qs,
            next_url,
            selected,
            channels: Vec::new(),
            labels: Vec::new(),
            statuses: crate::inbox::list::STATUSES,
        }
    }

    /// The same view with one filter changed (for tabs and selectors).
    fn with(&self, change: impl FnOnce(&mut ListFilter)) -> String {
        let mut f = self.filter.clone();
        change(&mut f);
        format!("/inbox?{}", query_string(&f))
    }

    pub fn assignee_url(&self, a: &str) -> String {
        self.with(|f| f.assignee = AssigneeFilter::parse(a))
    }

    pub fn status_url(&self, s: &str) -> String {
        self.with(|f| f.status = ConversationStatus::parse(s))
    }

    pub fn is_selected(&self, id: impl IdLike) -> bool {
        self.selected.map(|s| s.0) == Some(id.value())
    }

    pub fn assignee_is(&self, a: &str) -> bool {
        self.filter.assignee.as_str() == a
    }

    pub fn status_is(&self, s: &str) -> bool {
        self.filter.status.map_or("all", |s| s.as_str()) == s
    }

    pub fn search(&self) -> String {
        self.filter.search.clone().unwrap_or_default()
    }

    pub fn platform_is(&self, p: &str) -> bool {
        self.filter.platform.map(Platform::as_str) == Some(p)
    }

    pub fn channel_is(&self, c: impl IdLike) -> bool {
        self.filter.channel.map(|x| x.0) == Some(c.value())
    }

    pub fn label_is(&self, l: impl IdLike) -> bool {
        self.filter.label == Some(l.value())
    }

    pub fn is_filtered(&self) -> bool {
        self.filter.search.is_some()
            || self.filter.unread_only
            || self.filter.platform.is_some()
            || self.filter.channel.is_some()
            || self.filter.label.is_some()
            || self.filter.assignee != AssigneeFilter::All
    }
}
