//! The moderation queue: the tenant's comments newest first, filtered by state, channel,
//! platform, post, date, answer and question, and searched over text and author; keyset-paged.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use crate::db::ids::{ChannelId, CommentId, TenantId};

/// Which comments the moderation queue shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum QueueState {
    /// Customers' live comments nobody has reviewed yet.
    #[default]
    NeedsReview,
    Hidden,
    Deleted,
    /// Answered publicly or privately.
    Replied,
    All,
}

impl QueueState {
    /// Every state, in the order the filter tabs show them.
    pub const ALL: [QueueState; 5] = [
        QueueState::NeedsReview,
        QueueState::Hidden,
        QueueState::Deleted,
        QueueState::Replied,
        QueueState::All,
    ];

    /// The name in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            QueueState::NeedsReview => "needs-review",
            QueueState::Hidden => "hidden",
            QueueState::Deleted => "deleted",
            QueueState::Replied => "replied",
            QueueState::All => "all",
        }
    }

    /// The state named in a URL; anything else is none.
    pub fn parse(text: &str) -> Option<QueueState> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The tab's label.
    pub fn label(self) -> &'static str {
        match self {
            QueueState::NeedsReview => "Needs review",
            QueueState::Hidden => "Hidden",
            QueueState::Deleted => "Deleted",
            QueueState::Replied => "Replied",
            QueueState::All => "All",
        }
    }
}

/// What the moderation queue is filtered by (also a bulk run's target, kept whole).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct QueueFilter {
    pub state: QueueState,
    pub channel: Option<ChannelId>,
    pub platform: Option<crate::models::channels::Platform>,
    /// Customers' comments nobody from the business answered (publicly or privately).
    pub unanswered: bool,
    /// Comments with a question mark (any script's).
    pub question: bool,
    /// Commented on or after this day (UTC).
    pub from: Option<NaiveDate>,
    /// Commented on or before this day (UTC).
    pub to: Option<NaiveDate>,
    /// On this post or media (Meta's id).
    pub post: Option<String>,
    /// Words to find in the text or the author's name (as typed).
    pub search: Option<String>,
    /// Only these comments (none: no such restriction).
    pub ids: Vec<CommentId>,
}

/// One comment as the moderation queue shows it (with its channel's platform and name).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::db::schema::comments)]
pub struct QueueRow {
    pub id: CommentId,
    pub channel_id: ChannelId,
    #[diesel(
        select_expression = crate::db::schema::channels::platform,
        select_expression_type = crate::db::schema::channels::platform
    )]
    pub platform: crate::models::channels::Platform,
    #[diesel(
        select_expression = crate::db::schema::channels::name,
        select_expression_type = crate::db::schema::channels::name
    )]
    pub channel_name: String,
    pub post_id: Option<String>,
    pub parent_comment_id: Option<String>,
    pub author_name: Option<String>,
    pub text: Option<String>,
    pub commented_at: DateTime<Utc>,
    pub hidden: bool,
    pub deleted_at: Option<DateTime<Utc>>,
    pub edited_at: Option<DateTime<Utc>>,
    pub from_business: bool,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub replied_publicly_at: Option<DateTime<Utc>>,
    pub replied_privately_at: Option<DateTime<Utc>>,
    /// The inbox conversation a private reply opened or joined.
    pub conversation_id: Option<crate::db::ids::ConversationId>,
    pub liked_at: Option<DateTime<Utc>>,
    /// The auto-moderation rule that matched it.
    pub rule_id: Option<i64>,
}

impl QueueRow {
    /// The author's initial, for the avatar (Meta's comment payloads carry no picture of the
    /// commenter).
    pub fn initial(&self) -> String {
        self.author_name
            .as_deref()
            .and_then(|n| {
                n.trim_start_matches('@')
                    .chars()
                    .find(|c| c.is_alphanumeric())
            })
            .map(|c| c.to_uppercase().collect())
            .unwrap_or_else(|| "?".into())
    }
}

/// Where the next page of the queue starts: `(commented_at, id)` of the last row shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueCursor {
    pub at: DateTime<Utc>,
    pub id: CommentId,
}

/// The tenant's comments the filter admits, as a query to order and page.
type Filtered = diesel::dsl::IntoBoxed<
    'static,
    diesel::dsl::InnerJoin<crate::db::schema::comments::table, crate::db::schema::channels::table>,
    diesel::pg::Pg,
>;

fn filtered(tenant: TenantId, filter: &QueueFilter) -> Filtered {
    use crate::db::schema::{channels, comments as c};
    let mut q = c::table
        .inner_join(channels::table)
        .filter(c::tenant_id.eq(tenant))
        .into_boxed();
    q = match filter.state {
        QueueState::NeedsReview => q
            .filter(c::reviewed_at.is_null())
            .filter(c::deleted_at.is_null())
            .filter(c::from_business.eq(false)),
        QueueState::Hidden => q.filter(c::hidden.eq(true)).filter(c::deleted_at.is_null()),
        QueueState::Deleted => q.filter(c::deleted_at.is_not_null()),
        QueueState::Replied => q.filter(
            c::replied_publicly_at
                .is_not_null()
                .or(c::replied_privately_at.is_not_null()),
        ),
        QueueState::All => q,
    };
    if filter.unanswered {
        q = q
            .filter(c::replied_publicly_at.is_null())
            .filter(c::replied_privately_at.is_null())
            .filter(c::from_business.eq(false));
    }
    if filter.question {
        // A regular-expression match: diesel's builder has no `~` operator.
        q = q.filter(diesel::dsl::sql::<Bool>("comments.text ~ '[?？؟¿]'"));
    }
    if let Some(from) = filter.from.and_then(|d| d.and_hms_opt(0, 0, 0)) {
        q = q.filter(c::commented_at.ge(from.and_utc()));
    }
    if let Some(to) = filter
        .to
        .and_then(|d| d.succ_opt())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
    {
        q = q.filter(c::commented_at.lt(to.and_utc()));
    }
    if !filter.ids.is_empty() {
        q = q.filter(c::id.eq_any(filter.ids.clone()));
    }
    if let Some(post) = &filter.post {
        q = q.filter(c::post_id.eq(post.clone()));
    }
    if let Some(ts) = filter
        .search
        .as_deref()
        .and_then(crate::models::conversation_list::tsquery)
    {
        // Full-text match on the generated `search` column (no builder operator for `@@`).
        q = q.filter(
            diesel::dsl::sql::<Bool>("comments.search @@ to_tsquery('simple', ")
                .bind::<Text, _>(ts)
                .sql(")"),
        );
    }
    if let Some(channel) = filter.channel {
        q = q.filter(c::channel_id.eq(channel));
    }
    if let Some(platform) = filter.platform {
        q = q.filter(channels::platform.eq(platform));
    }
    q
}

/// How many of the tenant's comments the filter admits, counted up to `cap`.
pub fn count(
    conn: &mut PgConnection,
    tenant: TenantId,
    filter: &QueueFilter,
    cap: i64,
) -> QueryResult<i64> {
    use crate::db::schema::comments as c;
    let ids: Vec<CommentId> = filtered(tenant, filter)
        .select(c::id)
        .limit(cap)
        .load(conn)?;
    Ok(ids.len() as i64)
}

/// One page of the tenant's comments, newest first, and where the next one starts.
pub fn queue(
    conn: &mut PgConnection,
    tenant: TenantId,
    filter: &QueueFilter,
    after: Option<QueueCursor>,
    limit: i64,
) -> QueryResult<(Vec<QueueRow>, Option<QueueCursor>)> {
    use crate::db::schema::comments as c;
    let mut q = filtered(tenant, filter);
    if let Some(after) = after {
        q = q.filter(
            c::commented_at
                .lt(after.at)
                .or(c::commented_at.eq(after.at).and(c::id.lt(after.id))),
        );
    }
    let mut rows: Vec<QueueRow> = q
        .order((c::commented_at.desc(), c::id.desc()))
        .limit(limit + 1)
        .select(QueueRow::as_select())
        .load(conn)?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        rows.last().map(|r| QueueCursor {
            at: r.commented_at,
            id: r.id,
        })
    } else {
        None
    };
    Ok((rows, next))
}

/// One comment of the tenant in the queue's shape.
pub fn queue_row(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: CommentId,
) -> QueryResult<Option<QueueRow>> {
    use crate::db::schema::{channels, comments as c};
    c::table
        .inner_join(channels::table)
        .filter(c::tenant_id.eq(tenant))
        .filter(c::id.eq(id))
        .select(QueueRow::as_select())
        .first(conn)
        .optional()
}
