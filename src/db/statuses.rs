//! The states rows move through, as enums stored as the text the migrations' CHECK constraints
//! name. A misspelt state is a compile error, and an unknown one read back is a database error
//! rather than a silent mismatch.

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow,
            serde::Serialize, serde::Deserialize,
        )]
        #[diesel(sql_type = Text)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every state, in the order the migration lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored text.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The state named `text`, if there is one.
            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ToSql<Text, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<Text, Pg>>::to_sql(self.as_str(), &mut out.reborrow())
            }
        }

        impl FromSql<Text, Pg> for $name {
            fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
                let s = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
                $name::parse(&s)
                    .ok_or_else(|| format!(concat!("unknown ", stringify!($name), " {:?}"), s).into())
            }
        }
    };
}

text_enum!(
    /// Where a conversation stands for the team.
    ConversationStatus {
        /// Needs an answer.
        Open = "open",
        /// Waiting on something other than the customer.
        Pending = "pending",
        /// Out of the way until `snoozed_until` (or the customer writes).
        Snoozed = "snoozed",
        /// Done (reopens when the customer writes).
        Resolved = "resolved",
    }
);

text_enum!(
    /// Where a message stands: a customer's is `received`; an agent's goes `sending`, `sent`,
    /// then `delivered` and `read` as receipts arrive, or `failed` with Meta's reason.
    MessageStatus {
        Received = "received",
        Sending = "sending",
        Sent = "sent",
        Delivered = "delivered",
        Read = "read",
        Failed = "failed",
    }
);

impl MessageStatus {
    /// The states an outbound message passes through in order; a receipt only ever moves a
    /// message forward along it (`failed` stands apart).
    const PROGRESS: [MessageStatus; 4] = [
        MessageStatus::Sending,
        MessageStatus::Sent,
        MessageStatus::Delivered,
        MessageStatus::Read,
    ];

    /// The states a message may be in for a receipt of `self` to move it forward.
    pub fn before(self) -> &'static [MessageStatus] {
        let at = Self::PROGRESS.iter().position(|s| *s == self).unwrap_or(0);
        &Self::PROGRESS[..at]
    }
}

text_enum!(
    /// A webhook delivery (one POST from Meta) in the ledger.
    DeliveryState {
        /// Stored, waiting to be split into items.
        Received = "received",
        /// Split into items (their states tell the rest).
        Split = "split",
        /// Not a webhook body; kept, visible and replayable.
        Failed = "failed",
        /// Gave up after repeated failures.
        Dead = "dead",
    }
);

text_enum!(
    /// One routed part of a delivery.
    ItemState {
        /// Waiting to be applied.
        Pending = "pending",
        /// Applied.
        Processed = "processed",
        /// Understood and deliberately not applied (with the reason).
        Ignored = "ignored",
        /// For an account no tenant has connected (yet).
        Unrouted = "unrouted",
        /// Applying failed; retried with backoff.
        Failed = "failed",
        /// Failed too often; waits for an operator's replay.
        Dead = "dead",
    }
);

impl ItemState {
    /// Whether an item in this state may be replayed: a processed one would change nothing.
    pub fn is_replayable(self) -> bool {
        matches!(
            self,
            ItemState::Failed | ItemState::Dead | ItemState::Unrouted | ItemState::Ignored
        )
    }

    /// Failed or dead: shown in red, waiting for a retry or an operator.
    pub fn needs_an_operator(self) -> bool {
        matches!(self, ItemState::Failed | ItemState::Dead)
    }
}

text_enum!(
    /// A background job in the queue.
    JobState {
        Queued = "queued",
        Running = "running",
        /// Failed for good or too often; waits for an operator's retry.
        Dead = "dead",
    }
);

text_enum!(
    /// What a moderator (or, later, a rule) asks Meta to do with a comment.
    ModerationAction {
        Hide = "hide",
        Unhide = "unhide",
        /// Removes the comment at Meta; it cannot be undone.
        Delete = "delete",
        /// A public reply under the comment.
        Reply = "reply",
        /// A private message to the comment's author (Send API `recipient.comment_id`): once
        /// per comment, within 7 days; it opens or joins their conversation in the inbox.
        PrivateReply = "private_reply",
        /// The Page likes the comment (Facebook only).
        Like = "like",
    }
);

text_enum!(
    /// What an auto-moderation rule does to a comment it matches.
    RuleAction {
        Hide = "hide",
        Delete = "delete",
        /// Only marks the comment: it stays in "needs review" with the rule's name on it.
        Review = "review",
        /// A public reply with the rule's saved reply.
        Reply = "reply",
        /// A private reply with the rule's saved reply.
        PrivateReply = "private_reply",
    }
);

text_enum!(
    /// Where a long background run stands (a comment sync, a bulk moderation run).
    RunState {
        /// Working; resumes where it stopped after a restart.
        Running = "running",
        Done = "done",
        /// Stopped with a reason (kept); it can be started again.
        Failed = "failed",
    }
);

text_enum!(
    /// What a bulk moderation run does to each comment.
    BulkAction {
        Hide = "hide",
        Unhide = "unhide",
        Delete = "delete",
        /// Marks the comment reviewed (nothing is asked of Meta).
        Reviewed = "reviewed",
    }
);

text_enum!(
    /// Where a moderation action stands.
    ActionState {
        /// Queued; Meta has not answered yet.
        Pending = "pending",
        Done = "done",
        /// Meta refused (the reason is kept); the moderator may try again.
        Failed = "failed",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_from_its_text() {
        for s in ConversationStatus::ALL {
            assert_eq!(ConversationStatus::parse(s.as_str()), Some(*s));
        }
        for s in MessageStatus::ALL {
            assert_eq!(MessageStatus::parse(s.as_str()), Some(*s));
        }
        for s in ItemState::ALL {
            assert_eq!(ItemState::parse(&s.to_string()), Some(*s));
        }
        assert_eq!(ConversationStatus::parse("closed"), None);
        assert_eq!(
            MessageStatus::Read.before(),
            [
                MessageStatus::Sending,
                MessageStatus::Sent,
                MessageStatus::Delivered
            ]
        );
        assert!(MessageStatus::Failed.before().is_empty());
        assert_eq!(
            serde_json::to_string(&MessageStatus::Delivered).unwrap(),
            "\"delivered\""
        );
    }
}
