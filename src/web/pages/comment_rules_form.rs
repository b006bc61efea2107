//! The auto-moderation rule form: what a moderator typed, read into a rule (or kept as typed
//! when it is refused), and the choices the form offers.

use crate::comments::rules::Conditions;
use crate::db::ids::ChannelId;
use crate::db::statuses::RuleAction;
use crate::models::channels::Platform;
use crate::models::moderation_rules::{RuleInput, RuleRow};

/// The form's fields as typed (a multi-select arrives as repeated `channel` fields).
#[derive(Debug, Clone, Default)]
pub struct RuleFields {
    pub name: String,
    pub enabled: bool,
    pub match_all: bool,
    pub keywords: String,
    pub pattern: String,
    pub has_link: bool,
    pub has_phone: bool,
    pub has_email: bool,
    pub author_is: String,
    pub author_is_not: String,
    pub channels: Vec<i64>,
    pub platform: String,
    pub post: String,
    pub action: String,
    pub saved_reply_id: String,
    /// `dry-run` tries the rule instead of saving it.
    pub intent: String,
}

impl RuleFields {
    /// Reads an url-encoded form body.
    pub fn parse(body: &[u8]) -> RuleFields {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        let mut f = RuleFields::default();
        for (k, v) in pairs {
            match k.as_str() {
                "name" => f.name = v,
                "enabled" => f.enabled = true,
                "match" => f.match_all = v == "all",
                "keywords" => f.keywords = v,
                "pattern" => f.pattern = v,
                "has_link" => f.has_link = true,
                "has_phone" => f.has_phone = true,
                "has_email" => f.has_email = true,
                "author_is" => f.author_is = v,
                "author_is_not" => f.author_is_not = v,
                "channel" => f.channels.extend(v.parse::<i64>().ok()),
                "platform" => f.platform = v,
                "post" => f.post = v,
                "action" => f.action = v,
                "saved_reply_id" => f.saved_reply_id = v,
                "intent" => f.intent = v,
                _ => {}
            }
        }
        f
    }

    /// A new rule's defaults: on, any condition, hide.
    pub fn new_rule() -> RuleFields {
        RuleFields {
            enabled: true,
            action: RuleAction::Hide.as_str().into(),
            ..RuleFields::default()
        }
    }

    /// A stored rule, as the form shows it.
    pub fn of(row: &RuleRow) -> RuleFields {
        let c = row.conditions();
        RuleFields {
            name: row.name.clone(),
            enabled: row.enabled,
            match_all: row.match_all,
            keywords: c.keywords.join("\n"),
            pattern: c.pattern.unwrap_or_default(),
            has_link: c.has_link,
            has_phone: c.has_phone,
            has_email: c.has_email,
            author_is: c.author_is.join(", "),
            author_is_not: c.author_is_not.join(", "),
            channels: c.channels.iter().map(|c| c.0).collect(),
            platform: c
                .platform
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
            post: c.post.unwrap_or_default(),
            action: row.action.as_str().into(),
            saved_reply_id: row
                .saved_reply_id
                .map(|i| i.to_string())
                .unwrap_or_default(),
            intent: String::new(),
        }
    }

    /// The rule the fields describe, or why it cannot be one (the name and the conditions' own
    /// checks; the pattern is checked when the rule compiles).
    pub fn rule(&self) -> Result<RuleInput, String> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err("Give the rule a name.".into());
        }
        if name.chars().count() > 100 {
            return Err("The name is limited to 100 characters.".into());
        }
        let action = RuleAction::parse(&self.action)
            .ok_or_else(|| "Choose what the rule does.".to_string())?;
        let list = |text: &str| -> Vec<String> {
            text.split([',', '\n'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        let conditions = Conditions {
            keywords: self
                .keywords
                .lines()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            pattern: Some(self.pattern.trim().to_string()).filter(|p| !p.is_empty()),
            has_link: self.has_link,
            has_phone: self.has_phone,
            has_email: self.has_email,
            author_is: list(&self.author_is),
            author_is_not: list(&self.author_is_not),
            channels: self.channels.iter().copied().map(ChannelId).collect(),
            platform: Platform::parse(&self.platform),
            post: Some(self.post.trim().to_string()).filter(|p| !p.is_empty()),
        };
        let saved_reply_id = self.saved_reply_id.parse::<i64>().ok();
        let rule = RuleInput {
            name: name.to_string(),
            enabled: self.enabled,
            match_all: self.match_all,
            conditions,
            action,
            saved_reply_id: saved_reply_id
                .filter(|_| matches!(action, RuleAction::Reply | RuleAction::PrivateReply)),
        };
        crate::comments::auto::compile_input(&rule).map_err(|e| e.to_string())?;
        Ok(rule)
    }

    pub fn has_channel(&self, id: &i64) -> bool {
        self.channels.contains(id)
    }

    pub fn is_action(&self, action: &RuleAction) -> bool {
        self.action == action.as_str()
    }

    pub fn is_saved_reply(&self, id: &i64) -> bool {
        self.saved_reply_id == id.to_string()
    }
}

/// How the form names each action.
pub fn action_label(action: &RuleAction) -> &'static str {
    match action {
        RuleAction::Hide => "Hide the comment",
        RuleAction::Delete => "Delete the comment",
        RuleAction::Review => "Mark it for review (no action at Meta)",
        RuleAction::Reply => "Reply publicly with a saved reply",
        RuleAction::PrivateReply => "Reply privately with a saved reply",
    }
}

/// A short summary of a rule's conditions for the list.
pub fn summary(row: &RuleRow) -> String {
    let c = row.conditions();
    let mut parts = Vec::new();
    if !c.keywords.is_empty() {
        parts.push(format!("words: {}", c.keywords.join(", ")));
    }
    if let Some(p) = &c.pattern {
        parts.push(format!("pattern /{p}/"));
    }
    if c.has_link {
        parts.push("a link".into());
    }
    if c.has_phone {
        parts.push("a phone number".into());
    }
    if c.has_email {
        parts.push("an e-mail address".into());
    }
    if !c.author_is.is_empty() {
        parts.push(format!("author is {}", c.author_is.join(", ")));
    }
    let joined = parts.join(if row.match_all { " and " } else { " or " });
    let mut scope = Vec::new();
    if !c.author_is_not.is_empty() {
        scope.push(format!("not by {}", c.author_is_not.join(", ")));
    }
    if let Some(p) = c.platform {
        scope.push(format!("on {}", p.label()));
    }
    if !c.channels.is_empty() {
        scope.push(format!("{} channel(s)", c.channels.len()));
    }
    if let Some(p) = &c.post {
        scope.push(format!("post {p}"));
    }
    if scope.is_empty() {
        joined
    } else {
        format!("{joined}; {}", scope.join(", "))
    }
}
