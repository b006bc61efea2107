//! A template's status: Parley's own steps before Meta (draft, the team's approval, the
//! submission) and Meta's review statuses after. Stored as text in `message_templates.status`.

use std::fmt;

/// Where a template stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateStatus {
    /// Being written in Parley.
    Draft,
    /// Waiting for an admin of the team.
    AwaitingApproval,
    /// Approved by the team; the submission to Meta is queued.
    Submitting,
    /// Meta refused the submission (the reason is kept); it can be fixed and submitted again.
    SubmitFailed,
    Pending,
    Approved,
    Rejected,
    Paused,
    Disabled,
    InAppeal,
    Flagged,
    PendingDeletion,
    Deleted,
    Archived,
    LimitExceeded,
    Locked,
    /// A status Meta added after this code was written: shown as Meta names it.
    Other(String),
}

impl TemplateStatus {
    /// Every status the library filters by, in the order of the filter.
    pub const FILTERS: [TemplateStatus; 12] = [
        Self::Draft,
        Self::AwaitingApproval,
        Self::Submitting,
        Self::SubmitFailed,
        Self::Pending,
        Self::Approved,
        Self::Rejected,
        Self::Paused,
        Self::Disabled,
        Self::InAppeal,
        Self::PendingDeletion,
        Self::Archived,
    ];

    /// Reads a stored status, or Meta's name for one (`REINSTATED` is approved again).
    pub fn parse(s: &str) -> Self {
        match s.trim().to_ascii_uppercase().as_str() {
            "DRAFT" => Self::Draft,
            "AWAITING_APPROVAL" => Self::AwaitingApproval,
            "SUBMITTING" => Self::Submitting,
            "SUBMIT_FAILED" => Self::SubmitFailed,
            "PENDING" => Self::Pending,
            "APPROVED" | "REINSTATED" | "UNARCHIVED" | "UNLOCKED" => Self::Approved,
            "REJECTED" => Self::Rejected,
            "PAUSED" => Self::Paused,
            "DISABLED" => Self::Disabled,
            "IN_APPEAL" => Self::InAppeal,
            "FLAGGED" => Self::Flagged,
            "PENDING_DELETION" => Self::PendingDeletion,
            "DELETED" => Self::Deleted,
            "ARCHIVED" => Self::Archived,
            "LIMIT_EXCEEDED" => Self::LimitExceeded,
            "LOCKED" => Self::Locked,
            other => Self::Other(other.to_string()),
        }
    }

    /// The stored name.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Draft => "DRAFT",
            Self::AwaitingApproval => "AWAITING_APPROVAL",
            Self::Submitting => "SUBMITTING",
            Self::SubmitFailed => "SUBMIT_FAILED",
            Self::Pending => "PENDING",
            Self::Approved => "APPROVED",
            Self::Rejected => "REJECTED",
            Self::Paused => "PAUSED",
            Self::Disabled => "DISABLED",
            Self::InAppeal => "IN_APPEAL",
            Self::Flagged => "FLAGGED",
            Self::PendingDeletion => "PENDING_DELETION",
            Self::Deleted => "DELETED",
            Self::Archived => "ARCHIVED",
            Self::LimitExceeded => "LIMIT_EXCEEDED",
            Self::Locked => "LOCKED",
            Self::Other(s) => s,
        }
    }

    /// What the chip says.
    pub fn label(&self) -> String {
        match self {
            Self::Draft => "Draft".into(),
            Self::AwaitingApproval => "Awaiting approval".into(),
            Self::Submitting => "Submitting".into(),
            Self::SubmitFailed => "Submission failed".into(),
            Self::Pending => "In review at Meta".into(),
            Self::Approved => "Approved".into(),
            Self::Rejected => "Rejected".into(),
            Self::Paused => "Paused".into(),
            Self::Disabled => "Disabled".into(),
            Self::InAppeal => "In appeal".into(),
            Self::Flagged => "Flagged".into(),
            Self::PendingDeletion => "Pending deletion".into(),
            Self::Deleted => "Deleted".into(),
            Self::Archived => "Archived".into(),
            Self::LimitExceeded => "Limit exceeded".into(),
            Self::Locked => "Locked".into(),
            Self::Other(s) => s.replace('_', " ").to_lowercase(),
        }
    }

    /// The chip's colour class: good, waiting, bad or neutral.
    pub fn tone(&self) -> &'static str {
        match self {
            Self::Approved => "good",
            Self::Pending | Self::Submitting | Self::AwaitingApproval | Self::InAppeal => "waiting",
            Self::Rejected
            | Self::Paused
            | Self::Disabled
            | Self::SubmitFailed
            | Self::Flagged
            | Self::LimitExceeded
            | Self::Locked => "bad",
            _ => "neutral",
        }
    }

    /// Still written in Parley (never sent to Meta).
    pub fn is_local(&self) -> bool {
        matches!(
            self,
            Self::Draft | Self::AwaitingApproval | Self::Submitting | Self::SubmitFailed
        )
    }

    /// Meta lets an existing template be edited (all components replaced).
    pub fn editable_at_meta(&self) -> bool {
        matches!(self, Self::Approved | Self::Rejected | Self::Paused)
    }

    /// Agents may send it.
    pub fn sendable(&self) -> bool {
        *self == Self::Approved
    }

    /// Meta may still change it by itself: the poll keeps asking.
    pub fn under_review(&self) -> bool {
        matches!(self, Self::Pending | Self::InAppeal | Self::PendingDeletion)
    }

    /// For admins, what a bad status means and what to do about it.
    pub fn advice(&self) -> Option<&'static str> {
        match self {
            Self::Rejected => Some(
                "Meta rejected this template. Read the reason, fix the template and submit it again, or appeal in WhatsApp Manager if you think the review is wrong.",
            ),
            Self::Paused => Some(
                "Meta paused this template because customers blocked or reported it. It cannot be sent until Meta lifts the pause; edit it to make it more relevant, or use another template.",
            ),
            Self::Disabled => Some(
                "Meta disabled this template after repeated low quality. It can no longer be sent or edited; write a new template instead.",
            ),
            Self::SubmitFailed => {
                Some("Meta refused the submission. Fix what Meta named and submit again.")
            }
            _ => None,
        }
    }
}

impl fmt::Display for TemplateStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::TemplateStatus;

    #[test]
    fn statuses_read_back_as_stored_and_meta_names_map() {
        for s in TemplateStatus::FILTERS {
            assert_eq!(TemplateStatus::parse(s.as_str()), s);
        }
        assert_eq!(
            TemplateStatus::parse("reinstated"),
            TemplateStatus::Approved
        );
        let new = TemplateStatus::parse("SOMETHING_NEW");
        assert_eq!(new.as_str(), "SOMETHING_NEW");
        assert_eq!(new.label(), "something new");
        assert!(TemplateStatus::Paused.advice().is_some());
        assert!(!TemplateStatus::Paused.sendable());
    }
}
