//! The conversation list: filters and keyset pagination (never OFFSET), so the hundredth page
//! costs what the first does. Search is in [`crate::inbox::search`].

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::BoxedSqlQuery;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Timestamptz};

use crate::db::ids::{ChannelId, ContactId, ConversationId, TenantId, UserId};
use crate::db::statuses::ConversationStatus;
use crate::models::channels::Platform;

/// Conversation statuses, in the order the status selector shows them.
pub const STATUSES: &[ConversationStatus] = ConversationStatus::ALL;

/// Whose conversations to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AssigneeFilter {
    #[default]
    All,
    Mine,
    Unassigned,
}

impl AssigneeFilter {
    pub fn parse(s: &str) -> AssigneeFilter {
        match s {
            "mine" => AssigneeFilter::Mine,
            "unassigned" => AssigneeFilter::Unassigned,
            _ => AssigneeFilter::All,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AssigneeFilter::All => "all",
            AssigneeFilter::Mine => "mine",
            AssigneeFilter::Unassigned => "unassigned",
        }
    }
}

/// What the list shows (all of it lives in the URL, so a view can be bookmarked).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListFilter {
    /// `None` shows every status.
    pub status: Option<ConversationStatus>,
    pub assignee: AssigneeFilter,
    pub platform: Option<Platform>,
    pub channel: Option<ChannelId>,
    pub label: Option<i64>,
    pub unread_only: bool,
    /// Words to find in message text and contact names.
    pub search: Option<String>,
}

/// Position after the last row of a page: `(last_message_at, id)` of that row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub at: DateTime<Utc>,
    pub id: i64,
}

impl Cursor {
    /// `"<microseconds>_<id>"`: opaque to users, stable in URLs.
    pub fn encode(self) -> String {
        format!("{}_{}", self.at.timestamp_micros(), self.id)
    }

    pub fn decode(s: &str) -> Option<Cursor> {
        let (micros, id) = s.split_once('_')?;
        Some(Cursor {
            at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            id: id.parse().ok()?,
        })
    }
}

/// One row of the list.
#[derive(Debug, Clone, QueryableByName)]
pub struct ConversationRow {
    #[diesel(sql_type = BigInt)]
    pub id: ConversationId,
    #[diesel(sql_type = BigInt)]
    pub channel_id: i64,
    #[diesel(sql_type = Text)]
    pub platform: Platform,
    #[diesel(sql_type = Text)]
    pub channel_name: String,
    #[diesel(sql_type = BigInt)]
    pub contact_id: ContactId,
    #[diesel(sql_type = Nullable<Text>)]
    pub contact_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub contact_username: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub contact_picture: Option<String>,
    #[diesel(sql_type = Text)]
    pub platform_user_id: String,
    #[diesel(sql_type = Text)]
    pub status: ConversationStatus,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub assignee_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub assignee_name: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub snoozed_until: Option<DateTime<Utc>>,
    #[diesel(sql_type = Timestamptz)]
    pub last_message_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub last_inbound_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    pub last_message_preview: Option<String>,
    #[diesel(sql_type = Integer)]
    pub unread_count: i32,
    /// Meta holds earlier messages than the import could read.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub history_limited: bool,
}

impl ConversationRow {
    /// Parley's copy of the contact's picture, once the profile job has kept one (Meta's own
    /// URLs expire and are never rendered).
    pub fn picture(&self) -> Option<crate::web::safe_url::SafeUrl> {
        self.contact_picture.as_ref()?;
        crate::web::safe_url::SafeUrl::local(format!("/contacts/{}/picture", self.contact_id))
    }

    /// The contact's name, or a readable stand-in while Meta's profile is unknown.
    pub fn display_name(&self) -> String {
        self.contact_name
            .clone()
            .or_else(|| self.contact_username.clone())
            .unwrap_or_else(|| {
                crate::inbox::profiles::fallback_name(self.platform, &self.platform_user_id)
            })
    }

    /// Up to two initials for the avatar placeholder.
    pub fn initials(&self) -> String {
        initials(&self.display_name())
    }

    pub fn assignee_initials(&self) -> String {
        self.assignee_name
            .as_deref()
            .map(initials)
            .unwrap_or_default()
    }

    pub fn cursor(&self) -> Cursor {
        Cursor {
            at: self.last_message_at,
            id: self.id.0,
        }
    }
}

/// Up to two initials of a name ("Ada Lovelace" → "AL").
pub fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().find(|c| c.is_alphanumeric()))
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}

/// One page of the list and where the next one starts.
#[derive(Debug, Clone)]
pub struct Page {
    pub rows: Vec<ConversationRow>,
    pub next: Option<Cursor>,
}

/// The search words as a prefix-matching tsquery (`'ada':* & 'refund':*`), or `None` when
/// nothing searchable is left. Only letters and digits survive, so the result is always valid.
/// A one-letter word matches only itself: as a prefix it would match most of the index.
pub fn tsquery(search: &str) -> Option<String> {
    let words: Vec<String> = search
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(|w| {
            let w = w.to_lowercase();
            if w.chars().count() > 1 {
                format!("'{w}':*")
            } else {
                format!("'{w}'")
            }
        })
        .collect();
    (!words.is_empty()).then(|| words.join(" & "))
}

/// Builds SQL with numbered placeholders as clauses are added.
pub(crate) struct Sql {
    pub(crate) query: BoxedSqlQuery<'static, Pg, diesel::query_builder::SqlQuery>,
    next: usize,
}

impl Sql {
    pub(crate) fn new(head: &str) -> Self {
        Sql {
            query: diesel::sql_query(head.to_string()).into_boxed(),
            next: 1,
        }
    }

    /// The next placeholder (`$n`).
    pub(crate) fn param(&mut self) -> String {
        let p = format!("${}", self.next);
        self.next += 1;
        p
    }

    pub(crate) fn push(mut self, sql: &str) -> Self {
        self.query = self.query.sql(sql);
        self
    }

    pub(crate) fn bind_i64(mut self, sql_before: &str, v: i64, sql_after: &str) -> Self {
        let p = self.param();
        self.query = self
            .query
            .sql(format!("{sql_before}{p}{sql_after}"))
            .bind::<BigInt, _>(v);
        self
    }

    pub(crate) fn bind_text(mut self, sql_before: &str, v: String, sql_after: &str) -> Self {
        let p = self.param();
        self.query = self
            .query
            .sql(format!("{sql_before}{p}{sql_after}"))
            .bind::<Text, _>(v);
        self
    }

    pub(crate) fn bind_time(mut self, sql_before: &str, v: DateTime<Utc>, sql_after: &str) -> Self {
        let p = self.param();
        self.query = self
            .query
            .sql(format!("{sql_before}{p}{sql_after}"))
            .bind::<Timestamptz, _>(v);
        self
    }
}

const SELECT: &str = "SELECT c.id, c.channel_id, ch.platform, ch.name AS channel_name, c.contact_id,
        ct.name AS contact_name, ct.username AS contact_username, ct.picture_file AS contact_picture,
        ct.platform_user_id, c.status, c.assignee_id, u.display_name AS assignee_name, c.snoozed_until,
        c.last_message_at, c.last_inbound_at, c.last_message_preview, c.unread_count,
        c.history_limited
   FROM conversations c
   JOIN channels ch ON ch.id = c.channel_id
   JOIN contacts ct ON ct.id = c.contact_id
   LEFT JOIN users u ON u.id = c.assignee_id
  WHERE ";

/// The conversations of `tenant` passing `filter` for `me` (not its search), after `after`:
/// clauses appended to `q`, which ends in `WHERE ` and joins `ch` (channels) as `c`'s channel.
pub(crate) fn with_filters(
    q: Sql,
    tenant: TenantId,
    me: UserId,
    filter: &ListFilter,
    after: Option<Cursor>,
) -> Sql {
    let mut q = q
        .bind_i64("c.tenant_id = ", tenant.0, "")
        .push(" AND c.last_message_at IS NOT NULL");
    if let Some(status) = filter.status {
        q = q.bind_text(" AND c.status = ", status.as_str().to_string(), "");
    }
    q = match filter.assignee {
        AssigneeFilter::All => q,
        AssigneeFilter::Mine => q.bind_i64(" AND c.assignee_id = ", me.0, ""),
        AssigneeFilter::Unassigned => q.push(" AND c.assignee_id IS NULL"),
    };
    if let Some(channel) = filter.channel {
        q = q.bind_i64(" AND c.channel_id = ", channel.0, "");
    }
    if let Some(platform) = filter.platform {
        q = q.bind_text(" AND ch.platform = ", platform.as_str().to_string(), "");
    }
    if let Some(label) = filter.label {
        q = q.bind_i64(
            " AND EXISTS (SELECT 1 FROM conversation_labels l WHERE l.conversation_id = c.id AND l.label_id = ",
            label,
            ")",
        );
    }
    if filter.unread_only {
        q = q.push(" AND c.unread_count > 0");
    }
    if let Some(after) = after {
        q = q
            .bind_time(" AND (c.last_message_at, c.id) < (", after.at, "")
            .bind_i64(", ", after.id, ")");
    }
    q
}

/// The list's columns, for a query whose conversations are `c` (see [`SELECT`]).
pub(crate) const COLUMNS: &str = "SELECT c.id, c.channel_id, ch.platform, ch.name AS channel_name, c.contact_id,
        ct.name AS contact_name, ct.username AS contact_username, ct.picture_file AS contact_picture,
        ct.platform_user_id, c.status, c.assignee_id, u.display_name AS assignee_name, c.snoozed_until,
        c.last_message_at, c.last_inbound_at, c.last_message_preview, c.unread_count,
        c.history_limited";

/// Keeps the first `limit` rows and says where the next page starts.
pub(crate) fn paged(mut rows: Vec<ConversationRow>, limit: i64) -> Page {
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(ConversationRow::cursor)
    } else {
        None
    };
    Page { rows, next }
}

/// One page of `tenant`'s conversations for `me`, newest activity first, after `after`. A
/// search goes through [`crate::inbox::search`], whose cost is bounded by the page.
pub fn list(
    conn: &mut PgConnection,
    tenant: TenantId,
    me: UserId,
    filter: &ListFilter,
    after: Option<Cursor>,
    limit: i64,
) -> QueryResult<Page> {
    if let Some(ts) = filter.search.as_deref().and_then(tsquery) {
        return crate::inbox::search::page(conn, tenant, me, filter, &ts, after, limit);
    }
    let mut q = with_filters(Sql::new(SELECT), tenant, me, filter, after);
    let p = q.param();
    let query = q
        .query
        .sql(format!(
            " ORDER BY c.last_message_at DESC, c.id DESC LIMIT {p}"
        ))
        .bind::<BigInt, _>(limit + 1);
    Ok(paged(query.load(conn)?, limit))
}

/// One conversation's row (the list's shape), scoped by tenant.
pub fn row(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
) -> QueryResult<Option<ConversationRow>> {
    Sql::new(SELECT)
        .bind_i64("c.tenant_id = ", tenant.0, "")
        .bind_i64(" AND c.id = ", conversation.0, "")
        .query
        .get_result(conn)
        .optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let c = Cursor {
            at: DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap(),
            id: 42,
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert_eq!(Cursor::decode("nonsense"), None);
        assert_eq!(Cursor::decode("1_x"), None);
    }

    #[test]
    fn search_words_become_a_safe_prefix_query() {
        assert_eq!(tsquery("Ada  refund!"), Some("'ada':* & 'refund':*".into()));
        assert_eq!(
            tsquery("'); DROP TABLE x; --"),
            Some("'drop':* & 'table':* & 'x'".into()),
            "a one-letter word is no prefix"
        );
        assert_eq!(tsquery("  !!  "), None);
    }

    #[test]
    fn initials_take_two_words() {
        assert_eq!(initials("Ada Lovelace King"), "AL");
        assert_eq!(initials("+15550001"), "1");
        assert_eq!(initials(""), "");
    }
}
