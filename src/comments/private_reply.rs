//! A private reply Meta accepted: it is a message to the comment's author, so it opens (or
//! joins) their conversation in the inbox, where the answer will arrive.

use chrono::Utc;
use diesel::prelude::*;
use serde_json::json;

use crate::db::ids::{ChannelId, TenantId};
use crate::meta::messaging::SendResponse;
use crate::models::comment_actions::{self, ActionRow, ActionTarget};
use crate::models::conversations::{self, ConversationChange};
use crate::models::{comments, contacts, messages, outbound};

/// Records the sent private reply: the action done, the message in the author's conversation
/// (created if need be) and the comment marked, in one transaction.
pub fn record(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    action: &ActionRow,
    target: &ActionTarget,
    sent: &SendResponse,
) -> QueryResult<()> {
    conn.transaction(|conn| {
        comment_actions::succeed(conn, tenant, action)?;
        // Meta names the recipient (PSID / IGSID) when it knows it; otherwise the comment's
        // author id is the best key until the echo webhook arrives.
        let customer = sent.recipient_id.as_deref().or(target.author_id.as_deref());
        let conversation = match customer {
            Some(customer) => {
                let thread = contacts::open_thread(
                    conn,
                    tenant,
                    channel,
                    customer,
                    target.author_name.as_deref(),
                )?;
                let at = Utc::now();
                let text = action.message.as_deref();
                let id = outbound::insert_reply(
                    conn,
                    &outbound::NewReply {
                        tenant,
                        conversation: thread.conversation_id,
                        channel: channel.0,
                        at,
                        kind: "text",
                        text,
                        attachments: &json!([]),
                        extra: &json!({ "private_reply_to": target.platform_comment_id }),
                        author: action.user_id,
                    },
                )?;
                messages::record_sent(conn, channel, id, &sent.message_id)?;
                conversations::apply_change(
                    conn,
                    thread.conversation_id,
                    ConversationChange::of_reply(at, text, "text"),
                )?;
                crate::inbox::actions::notify(conn, tenant, thread.conversation_id)?;
                Some(thread.conversation_id)
            }
            None => None,
        };
        comments::mark_replied_privately(conn, tenant, action.comment_id, conversation)
    })
}
