//! History on connect: a new Messenger or Instagram channel imports its recent conversations
//! through the Conversations API, one page of conversations per job run, the position saved
//! after every page so a restart resumes where it stopped. Messages are stored through the same
//! unique key as webhooks (a message seen both ways is one row), marked imported, and never
//! count as unread or notify anyone; the messaging windows follow from them as from any message.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::channels::{health, open_token};
use crate::db::ids::{ChannelId, TenantId};
use crate::db::schema::conversations;
use crate::db::statuses::RunState;
use crate::jobs::JobError;
use crate::jobs::job::{Job, JobContext};
use crate::meta::conversations::{ConversationDetail, ConversationMessage};
use crate::meta::{GraphError, GraphErrorKind};
use crate::models::attachments::Attachment;
use crate::models::channels::{self, Channel, Platform};
use crate::models::conversations::{ConversationChange, apply_change};
use crate::models::{contacts, history_imports, messages};
use crate::state::AppState;
use crate::webhooks::normalize::{Direction, NewMessage};

/// Starts the import of a just-connected channel over `window` and queues its first page;
/// nothing when one is already running or the window is zero.
pub fn start(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    window: crate::config::HistoryImportWindow,
) -> QueryResult<Option<i64>> {
    if window.days <= 0 || window.max_conversations <= 0 {
        return Ok(None);
    }
    let since = Utc::now() - Duration::days(window.days);
    let Some(id) = history_imports::start(conn, tenant, channel, since, window.max_conversations)?
    else {
        return Ok(None);
    };
    enqueue(conn, tenant, id, 0)?;
    Ok(Some(id))
}

fn enqueue(conn: &mut PgConnection, tenant: TenantId, id: i64, done: i32) -> QueryResult<()> {
    crate::jobs::queue::enqueue(
        conn,
        &ImportHistory { import_id: id }
            .to_new_job()
            .for_tenant(tenant)
            .dedupe(format!("history-import:{id}:{done}")),
    )
    .map(|_| ())
}

/// The platform parameter of the Conversations API for a channel.
fn platform_param(channel: &Channel) -> &'static str {
    match channel.platform {
        Platform::Instagram => "instagram",
        _ => "messenger",
    }
}

/// The ids the business itself appears under in a conversation (Page, Instagram account).
fn business_ids(channel: &Channel) -> Vec<&str> {
    let mut ids = vec![channel.platform_id.as_str()];
    ids.extend(channel.page_id.as_deref());
    ids
}

/// A conversation as Parley stores it: the customer, their messages oldest first, and whether
/// Meta holds earlier ones it would not let Parley read.
#[derive(Debug, Clone)]
pub struct ImportedConversation {
    pub customer_id: String,
    pub customer_name: Option<String>,
    pub messages: Vec<NewMessage>,
    pub earlier_unavailable: bool,
}

fn message_of(m: &ConversationMessage, business: &[&str], customer: &str) -> Option<NewMessage> {
    let at = crate::comments::sync::graph_time(m.created_time.as_deref()?)?;
    let from = m.from.as_ref().map(|f| f.id.as_str()).unwrap_or_default();
    let direction = if business.contains(&from) {
        Direction::Outbound
    } else {
        Direction::Inbound
    };
    let attachments: Vec<Attachment> = m
        .attachments
        .as_ref()
        .map(|a| {
            a.data
                .iter()
                .filter_map(|a| {
                    let (kind, url) = a.kind_and_url()?;
                    Some(Attachment {
                        kind: kind.into(),
                        url: Some(url),
                        filename: a.name.clone(),
                        mime_type: a.mime_type.clone(),
                        ..Default::default()
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let text = m
        .message
        .as_deref()
        .map(|t| t.replace('\0', ""))
        .filter(|t| !t.is_empty());
    let kind = match (&text, attachments.first()) {
        (_, Some(a)) => a.kind.clone(),
        (Some(_), None) => "text".into(),
        (None, None) => "unsupported".into(),
    };
    Some(NewMessage {
        customer_id: customer.to_string(),
        customer_name: None,
        mid: Some(m.id.clone()).filter(|id| !id.is_empty()),
        at,
        direction,
        kind,
        text,
        attachments,
        reply_to: None,
        referral: None,
        extra: Value::Object(Default::default()),
        deleted: false,
    })
}

/// Reads Meta's description of one conversation; `None` when it has no customer in it.
pub fn conversation_of(
    channel: &Channel,
    detail: &ConversationDetail,
) -> Option<ImportedConversation> {
    let business = business_ids(channel);
    let customer = detail
        .participants
        .as_ref()?
        .data
        .iter()
        .find(|p| !p.id.is_empty() && !business.contains(&p.id.as_str()))?;
    let mut messages: Vec<NewMessage> = detail
        .messages
        .as_ref()
        .map(|m| {
            m.data
                .iter()
                .take(crate::meta::conversations::DETAIL_MESSAGES)
                .filter_map(|m| message_of(m, &business, &customer.id))
                .collect()
        })
        .unwrap_or_default();
    messages.sort_by_key(|m| m.at);
    Some(ImportedConversation {
        customer_id: customer.id.clone(),
        customer_name: customer
            .name
            .clone()
            .or_else(|| customer.username.clone())
            .filter(|n| !n.trim().is_empty()),
        messages,
        earlier_unavailable: detail.has_earlier(),
    })
}

/// What recording one conversation stored.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    /// Messages new to Parley (the others were known from webhooks or an earlier run).
    pub new_messages: i32,
    /// The contact had no name: its profile is to be fetched.
    pub nameless_contact: bool,
}

/// Stores one imported conversation in the caller's transaction. Known messages are skipped;
/// new ones are marked imported, move the conversation's last message and messaging window,
/// and leave its unread count and status alone.
pub fn record(
    conn: &mut PgConnection,
    channel: &Channel,
    conversation: &ImportedConversation,
) -> QueryResult<(Recorded, Vec<crate::db::ids::MessageId>)> {
    let thread = contacts::open_thread(
        conn,
        channel.tenant_id,
        channel.id,
        &conversation.customer_id,
        conversation.customer_name.as_deref(),
    )?;
    let conv = thread.conversation_id;
    let mut out = Recorded {
        nameless_contact: thread.new_contact && thread.name.is_none(),
        ..Default::default()
    };
    let mut media = Vec::new();
    let mut change: Option<ConversationChange> = None;
    for m in &conversation.messages {
        let mut row = crate::webhooks::apply::message_row(channel, conv, m);
        row.imported = true;
        let Some(id) = messages::insert_from_webhook(conn, &row)? else {
            continue;
        };
        out.new_messages += 1;
        if !m.attachments.is_empty() {
            media.push(id);
        }
        let inbound = m.direction == Direction::Inbound;
        ConversationChange::add(&mut change, m.at, m.text.as_deref(), &m.kind, inbound);
    }
    if let Some(mut change) = change {
        // History is not news: the window moves, the unread count and status do not.
        change.inbound = 0;
        change.read = false;
        apply_change(conn, conv, change)?;
    }
    if conversation.earlier_unavailable {
        diesel::update(conversations::table.filter(conversations::id.eq(conv)))
            .set(conversations::history_limited.eq(true))
            .execute(conn)?;
    }
    Ok((out, media))
}

/// Job `import_history`: one page of an import's conversations, then itself for the next page.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct ImportHistory {
    pub import_id: i64,
}

impl Job for ImportHistory {
    const KIND: &'static str = "import_history";

    async fn run(self, state: &AppState, ctx: &JobContext) -> Result<(), JobError> {
        let tenant = ctx.tenant(Self::KIND)?;
        let id = self.import_id;
        let found = crate::db::run(&state.pool, move |conn| {
            let Some(import) = history_imports::get(conn, tenant, id)? else {
                return Ok(None);
            };
            let channel = channels::get(conn, tenant, import.channel_id)?;
            Ok(Some((import, channel)))
        })
        .await?;
        let Some((import, channel)) = found.filter(|(i, _)| i.state == RunState::Running) else {
            return Ok(()); // finished already
        };
        let stop = |why: String| async move {
            crate::db::run(&state.pool, move |conn| {
                history_imports::finish(conn, id, Some(&why))?;
                Ok(())
            })
            .await
            .map_err(JobError::from)
        };
        let Some(channel) = channel.filter(|c| c.is_connected()) else {
            return stop("The channel is disconnected.".into()).await;
        };
        let token = match open_token(&state.cipher, &channel) {
            Ok(token) => token,
            Err(e) => return stop(format!("The channel's token cannot be used: {e}")).await,
        };
        let channel_ref = &channel;
        let failed = |e: GraphError| async move {
            if e.is_retryable() {
                return Err(JobError::retry("importing conversations", e));
            }
            let _ = health::record_graph_failure(state, channel_ref, &e).await;
            stop(e.describe()).await
        };
        let account = channel
            .page_id
            .clone()
            .unwrap_or_else(|| channel.platform_id.clone());
        let mut pace = Pace::new(state.config.history_import.calls_per_second);
        pace.wait().await;
        let page = match state
            .graph
            .conversations(
                &account,
                &token,
                platform_param(&channel),
                import.page_cursor.as_deref(),
            )
            .await
        {
            Ok(page) => page,
            Err(e) => return failed(e).await,
        };
        let next = page.next_cursor();
        // Conversations of earlier pages; those of this page already done are skipped below.
        let before_page = import.conversations_done - import.page_done;
        let room = usize::try_from(import.max_conversations - before_page).unwrap_or(0);
        let listed = page.data.len();
        // Most recently active first: the first one older than the window ends the import.
        let in_window: Vec<_> = page
            .data
            .into_iter()
            .take_while(|c| {
                c.updated_time
                    .as_deref()
                    .and_then(crate::comments::sync::graph_time)
                    .is_none_or(|t| t >= import.since)
            })
            .take(room)
            .collect();
        let last_page = next.is_none() || in_window.len() < listed || in_window.len() >= room;
        let skip = usize::try_from(import.page_done).unwrap_or(0);
        for listed in in_window.into_iter().skip(skip) {
            pace.wait().await;
            let detail = match state
                .graph
                .conversation_detail(&listed.id, &token, &account)
                .await
            {
                Ok(detail) => detail,
                // One conversation Meta will not describe (deleted meanwhile, a person Meta
                // hides) is skipped and counted; it never stops the others.
                Err(e)
                    if matches!(
                        e.kind,
                        GraphErrorKind::NotFound
                            | GraphErrorKind::InvalidRequest
                            | GraphErrorKind::Unexpected
                    ) =>
                {
                    tracing::warn!(import = id, conversation = %listed.id, error = %e, "a conversation could not be imported");
                    crate::db::run(&state.pool, move |conn| {
                        history_imports::conversation_skipped(conn, id)?;
                        Ok(())
                    })
                    .await?;
                    continue;
                }
                Err(e) => return failed(e).await,
            };
            let conversation = conversation_of(&channel, &detail);
            let ch = channel.clone();
            crate::db::run(&state.pool, move |conn| {
                conn.transaction(|conn| record_and_count(conn, &ch, id, conversation.as_ref()))?;
                Ok(())
            })
            .await?;
        }
        let listed_so_far = before_page + i32::try_from(listed).unwrap_or(i32::MAX);
        crate::db::run(&state.pool, move |conn| {
            conn.transaction(|conn| {
                match next.filter(|_| !last_page) {
                    Some(cursor) => {
                        history_imports::next_page(conn, id, &cursor)?;
                        enqueue(conn, tenant, id, listed_so_far)?;
                    }
                    None => {
                        history_imports::finish(conn, id, None)?;
                    }
                }
                Ok::<_, diesel::result::Error>(())
            })?;
            Ok(())
        })
        .await?;
        Ok(())
    }
}

/// Spaces the calls of one import: Meta's Conversations API allows about 2 calls a second per
/// account. One import runs one page at a time (the next page's job is queued when this one
/// ends), so pacing inside the job holds across processes.
struct Pace {
    every: std::time::Duration,
    last: Option<std::time::Instant>,
}

impl Pace {
    fn new(per_second: u32) -> Pace {
        Pace {
            every: std::time::Duration::from_secs(1) / per_second.max(1),
            last: None,
        }
    }

    async fn wait(&mut self) {
        if let Some(last) = self.last {
            let since = last.elapsed();
            if since < self.every {
                tokio::time::sleep(self.every - since).await;
            }
        }
        self.last = Some(std::time::Instant::now());
    }
}

/// Records one conversation and counts it in the import, with the downloads and profile
/// fetches it needs, in the caller's transaction: a page retried after a failure skips exactly
/// the conversations already counted.
fn record_and_count(
    conn: &mut PgConnection,
    channel: &Channel,
    import: i64,
    conversation: Option<&ImportedConversation>,
) -> QueryResult<()> {
    let mut new_messages = 0;
    if let Some(conversation) = conversation {
        let (recorded, media) = record(conn, channel, conversation)?;
        new_messages = recorded.new_messages;
        let tenant = channel.tenant_id;
        let mut jobs: Vec<_> = media
            .into_iter()
            .map(|m| crate::inbox::attachments::DownloadAttachments::for_message(tenant, m))
            .collect();
        if recorded.nameless_contact {
            jobs.push(crate::inbox::profiles::sweep_job(tenant));
        }
        crate::jobs::queue::enqueue_many(conn, &jobs)?;
    }
    history_imports::conversation_done(conn, import, new_messages)?;
    Ok(())
}
