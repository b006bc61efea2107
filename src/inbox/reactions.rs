//! An agent's reaction to a customer's Messenger or Instagram message: recorded at once (the
//! thread shows it), then made true at Meta by a job that sends whatever the reaction is when
//! it runs, so quick toggles end in the last state and never in two calls racing.

use chrono::Utc;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::channels::health;
use crate::db::ids::{ConversationId, MessageId, TenantId};
use crate::db::schema::messages;
use crate::inbox::InboxError;
use crate::inbox::signals::SenderTarget;
use crate::inbox::window::{Window, window};
use crate::jobs::JobError;
use crate::jobs::job::{Job, JobContext};
use crate::models::channels::Platform;
use crate::models::receipts;
use crate::state::AppState;

/// The one reaction Parley offers (Meta's Send API names it `love`).
pub const LOVE: (&str, &str) = ("\u{2764}\u{fe0f}", "love");

/// The customer message `id` of the conversation, with its Meta id.
fn inbound_message(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
    id: MessageId,
) -> QueryResult<Option<Option<String>>> {
    messages::table
        .filter(messages::tenant_id.eq(tenant))
        .filter(messages::conversation_id.eq(conversation))
        .filter(messages::id.eq(id))
        .filter(messages::direction.eq("inbound"))
        .filter(messages::deleted_at.is_null())
        .select(messages::platform_message_id)
        .first(conn)
        .optional()
}

/// Reacts to a customer's message (`on`) or takes the reaction back, inside the 24 h window.
pub fn react(
    conn: &mut PgConnection,
    tenant: TenantId,
    conversation: ConversationId,
    id: MessageId,
    on: bool,
) -> Result<(), InboxError> {
    let row = crate::models::conversation_list::row(conn, tenant, conversation)?
        .ok_or(InboxError::NotFound)?;
    let mid = inbound_message(conn, tenant, conversation, id)?.ok_or(InboxError::NotFound)?;
    if mid.is_none() || !matches!(row.platform, Platform::Messenger | Platform::Instagram) {
        return Err(InboxError::Invalid(
            "Reactions can be sent on Messenger and Instagram messages only.".into(),
        ));
    }
    let now = Utc::now();
    if !matches!(
        window(row.platform, row.last_inbound_at, now),
        Window::Open { .. }
    ) {
        return Err(InboxError::Invalid(
            "Meta accepts reactions only within 24 hours of the customer's last message.".into(),
        ));
    }
    if on {
        receipts::react(conn, tenant, id, true, LOVE.0, Some(LOVE.1), now)?;
    } else {
        receipts::unreact(conn, id, true, now)?;
    }
    crate::jobs::queue::enqueue(
        conn,
        &SendReaction {
            conversation_id: conversation,
            message_id: id,
        }
        .to_new_job()
        .for_tenant(tenant)
        .max_attempts(5)
        .dedupe(format!("reaction:{id}:{}", now.timestamp_millis())),
    )?;
    Ok(())
}

/// Job `send_reaction`: makes Meta show the business's current reaction to a message.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct SendReaction {
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
}

impl Job for SendReaction {
    const KIND: &'static str = "send_reaction";

    async fn run(self, state: &AppState, ctx: &JobContext) -> Result<(), JobError> {
        let tenant = ctx.tenant(Self::KIND)?;
        let (conversation, id) = (self.conversation_id, self.message_id);
        let found = crate::db::run(&state.pool, move |conn| {
            let Some(Some(mid)) = inbound_message(conn, tenant, conversation, id)? else {
                return Ok(None);
            };
            Ok(Some((mid, receipts::business_reaction(conn, id)?)))
        })
        .await?;
        let Some((mid, current)) = found else {
            return Ok(());
        };
        let Some(to) = SenderTarget::load(state, tenant, conversation).await? else {
            return Ok(());
        };
        let reaction = current.map(|_| LOVE.1);
        match state
            .graph
            .react(&to.account, &to.token, &to.customer, &mid, reaction)
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if e.is_retryable() => Err(JobError::retry("sending a reaction", e)),
            Err(e) => {
                let _ = health::record_graph_failure(state, &to.channel, &e).await;
                Err(JobError::Permanent(format!(
                    "Meta refused the reaction: {}",
                    e.describe()
                )))
            }
        }
    }
}
