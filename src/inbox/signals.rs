//! What the customer sees of the team besides messages on Messenger and Instagram: "seen" when
//! an agent opens a conversation with unread messages, and "typing…" while an agent writes.
//! Both are Send API sender actions, sent through the job queue like replies (so a Page's and
//! an Instagram Login account's go to their own hosts), only inside the 24 h window (Meta
//! refuses them outside it), and at most once per conversation per short period, however many
//! agents or processes ask.

use chrono::Utc;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::channels::{connected_for_job, health};
use crate::db::ids::{ConversationId, TenantId};
use crate::inbox::window::{Window, window};
use crate::jobs::JobError;
use crate::jobs::job::{Job, JobContext};
use crate::meta::messaging::SenderAction;
use crate::models::channels::Platform;
use crate::state::AppState;

/// A sender action Parley shows the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    MarkSeen,
    TypingOn,
}

impl Signal {
    fn action(self) -> SenderAction {
        match self {
            Signal::MarkSeen => SenderAction::MarkSeen,
            Signal::TypingOn => SenderAction::TypingOn,
        }
    }

    /// Seconds during which a second request of the same signal adds nothing (Messenger
    /// shows "typing" for about 20 seconds).
    fn period_secs(self) -> i64 {
        match self {
            Signal::MarkSeen => 60,
            Signal::TypingOn => 15,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Signal::MarkSeen => "mark_seen",
            Signal::TypingOn => "typing_on",
        }
    }
}

/// Queues `signal` for the conversation, once per period (the queue's dedupe key holds it
/// across processes).
pub fn queue(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
    signal: Signal,
) -> QueryResult<()> {
    let bucket = Utc::now().timestamp() / signal.period_secs();
    crate::jobs::queue::enqueue(
        conn,
        &SendSignal {
            conversation_id: conversation,
            signal,
        }
        .to_new_job()
        .for_tenant(tenant)
        .max_attempts(3)
        .dedupe(format!(
            "signal:{conversation}:{}:{bucket}",
            signal.as_str()
        )),
    )
    .map(|_| ())
}

/// Where a sender action goes: the customer of a Messenger or Instagram conversation whose
/// 24 h window is open (Meta refuses sender actions outside it), through its connected channel.
pub(crate) struct SenderTarget {
    pub channel: crate::models::channels::Channel,
    pub token: crate::meta::AccessToken,
    /// The id the Send API is called on (the Page, or the Instagram Login account).
    pub account: String,
    pub customer: String,
}

impl SenderTarget {
    /// `None` when there is nothing to send: no such conversation, another platform, the
    /// window closed, or the channel disconnected.
    pub async fn load(
        state: &AppState,
        tenant: TenantId,
        conversation: ConversationId,
    ) -> Result<Option<SenderTarget>, JobError> {
        let row = crate::db::run(&state.pool, move |conn| {
            Ok(crate::models::conversation_list::row(
                conn,
                tenant,
                conversation,
            )?)
        })
        .await?;
        let Some(row) =
            row.filter(|r| matches!(r.platform, Platform::Messenger | Platform::Instagram))
        else {
            return Ok(None);
        };
        if !matches!(
            window(row.platform, row.last_inbound_at, Utc::now()),
            Window::Open { .. }
        ) {
            return Ok(None);
        }
        let Some((channel, token)) =
            connected_for_job(state, tenant, crate::db::ids::ChannelId(row.channel_id)).await?
        else {
            return Ok(None);
        };
        Ok(Some(SenderTarget {
            account: channel
                .page_id
                .clone()
                .unwrap_or_else(|| channel.platform_id.clone()),
            channel,
            token,
            customer: row.platform_user_id,
        }))
    }
}

/// Queues "seen" for a conversation an agent just read, when its channel has sender actions
/// (Messenger and Instagram; WhatsApp's read receipts are another API).
pub fn queue_seen(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
) -> QueryResult<()> {
    use crate::db::schema::{channels, conversations};
    let platform: Option<Platform> = conversations::table
        .inner_join(channels::table)
        .filter(conversations::tenant_id.eq(tenant))
        .filter(conversations::id.eq(conversation))
        .select(channels::platform)
        .first(conn)
        .optional()?;
    if matches!(platform, Some(Platform::Messenger | Platform::Instagram)) {
        queue(conn, tenant, conversation, Signal::MarkSeen)?;
    }
    Ok(())
}

/// Job `send_signal`: one sender action. Best effort: a refusal is logged and dropped (a
/// missed "seen" harms nobody); throttling and outages are retried a few times.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct SendSignal {
    pub conversation_id: ConversationId,
    pub signal: Signal,
}

impl Job for SendSignal {
    const KIND: &'static str = "send_signal";

    async fn run(self, state: &AppState, ctx: &JobContext) -> Result<(), JobError> {
        let tenant = ctx.tenant(Self::KIND)?;
        let id = self.conversation_id;
        let Some(to) = SenderTarget::load(state, tenant, id).await? else {
            return Ok(());
        };
        match state
            .graph
            .sender_action(&to.account, &to.token, &to.customer, self.signal.action())
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if e.is_retryable() => Err(JobError::retry("sending a sender action", e)),
            Err(e) => {
                let _ = health::record_graph_failure(state, &to.channel, &e).await;
                tracing::info!(conversation = %id, signal = self.signal.as_str(), error = %e, "Meta refused a sender action");
                Ok(())
            }
        }
    }
}
