//! Auto-moderation rules: their conditions, checked once when a rule is saved (a regular
//! expression too large is refused), and matched against a comment's text and author.
//!
//! Matching is case-folded and Unicode-aware: a keyword or phrase matches whole words only
//! ("ass" does not match "class"), whitespace runs count as one space, and a regular expression
//! runs on the regex crate's linear-time engine, so no pattern can backtrack catastrophically;
//! a pattern whose compiled form is too large is refused when the rule is saved.

use std::sync::LazyLock;

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use crate::db::ids::ChannelId;
use crate::db::statuses::RuleAction;
use crate::models::channels::Platform;

/// The longest regular expression a rule may hold, in characters.
pub const MAX_PATTERN_CHARS: usize = 500;
/// The compiled size a rule's regular expression may reach (the regex crate's `size_limit`).
const PATTERN_SIZE_LIMIT: usize = 256 * 1024;
/// Keywords or phrases per rule.
pub const MAX_KEYWORDS: usize = 200;

/// What a rule looks at. Content conditions (keywords, pattern, link, phone, e-mail, author is)
/// combine by the rule's any/all switch; scope conditions (channels, platform, post, author is
/// not) always restrict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Conditions {
    /// Words or phrases, each a condition of its own.
    pub keywords: Vec<String>,
    /// A regular expression over the comment's text (case-insensitive).
    pub pattern: Option<String>,
    pub has_link: bool,
    pub has_phone: bool,
    pub has_email: bool,
    /// Authors by username, name or id (a leading `@` is ignored).
    pub author_is: Vec<String>,
    pub author_is_not: Vec<String>,
    /// Only on these channels (none: every channel).
    pub channels: Vec<ChannelId>,
    pub platform: Option<Platform>,
    /// Only on this post or media (its Meta id).
    pub post: Option<String>,
}

impl Conditions {
    /// Whether the rule tests anything about the comment itself (a rule that only scopes would
    /// match every comment, which is never what a moderator means).
    pub fn has_content_test(&self) -> bool {
        !self.keywords.is_empty()
            || self.pattern.is_some()
            || self.has_link
            || self.has_phone
            || self.has_email
            || !self.author_is.is_empty()
    }
}

/// Why a rule cannot be saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error(
        "Give the rule at least one condition on the comment (a keyword, a pattern, a link, a phone number, an e-mail address or an author)."
    )]
    NoCondition,
    #[error("At most {MAX_KEYWORDS} keywords or phrases.")]
    TooManyKeywords,
    #[error("The pattern is longer than {MAX_PATTERN_CHARS} characters.")]
    PatternTooLong,
    #[error(
        "The pattern is too complex to run on every comment; simplify it (smaller repetition counts, fewer alternatives)."
    )]
    PatternTooComplex,
    #[error("The pattern is not a valid regular expression: {0}")]
    PatternInvalid(String),
    #[error("Choose a saved reply for the rule to send.")]
    NeedsSavedReply,
}

/// The facts about a comment that rules look at.
#[derive(Debug, Clone, Copy)]
pub struct CommentFacts<'a> {
    pub text: &'a str,
    pub author_id: Option<&'a str>,
    pub author_name: Option<&'a str>,
    pub channel: ChannelId,
    pub platform: Platform,
    pub post_id: Option<&'a str>,
}

/// A rule ready to match.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    pub id: i64,
    pub name: String,
    pub action: RuleAction,
    pub saved_reply_id: Option<i64>,
    match_all: bool,
    keywords: Vec<String>,
    pattern: Option<Regex>,
    has_link: bool,
    has_phone: bool,
    has_email: bool,
    author_is: Vec<String>,
    author_is_not: Vec<String>,
    channels: Vec<ChannelId>,
    platform: Option<Platform>,
    post: Option<String>,
}

/// A rule as stored, before compiling.
#[derive(Debug, Clone)]
pub struct RuleSpec<'a> {
    pub id: i64,
    pub name: &'a str,
    pub match_all: bool,
    pub conditions: &'a Conditions,
    pub action: RuleAction,
    pub saved_reply_id: Option<i64>,
}

/// Compiles a pattern under the size limit (case-insensitive, Unicode).
pub fn compile_pattern(pattern: &str) -> Result<Regex, RuleError> {
    if pattern.chars().count() > MAX_PATTERN_CHARS {
        return Err(RuleError::PatternTooLong);
    }
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(PATTERN_SIZE_LIMIT)
        .dfa_size_limit(PATTERN_SIZE_LIMIT)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => RuleError::PatternTooComplex,
            other => RuleError::PatternInvalid(
                other
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim()
                    .to_string(),
            ),
        })
}

impl CompiledRule {
    /// Checks and compiles a rule.
    pub fn compile(spec: &RuleSpec<'_>) -> Result<CompiledRule, RuleError> {
        let c = spec.conditions;
        if !c.has_content_test() {
            return Err(RuleError::NoCondition);
        }
        if c.keywords.len() > MAX_KEYWORDS {
            return Err(RuleError::TooManyKeywords);
        }
        if matches!(spec.action, RuleAction::Reply | RuleAction::PrivateReply)
            && spec.saved_reply_id.is_none()
        {
            return Err(RuleError::NeedsSavedReply);
        }
        let pattern = c.pattern.as_deref().map(compile_pattern).transpose()?;
        let folded = |v: &[String]| -> Vec<String> {
            v.iter()
                .map(|k| fold(k.trim().trim_start_matches('@')))
                .filter(|k| !k.is_empty())
                .collect()
        };
        Ok(CompiledRule {
            id: spec.id,
            name: spec.name.to_string(),
            action: spec.action,
            saved_reply_id: spec.saved_reply_id,
            match_all: spec.match_all,
            keywords: folded(&c.keywords),
            pattern,
            has_link: c.has_link,
            has_phone: c.has_phone,
            has_email: c.has_email,
            author_is: folded(&c.author_is),
            author_is_not: folded(&c.author_is_not),
            channels: c.channels.clone(),
            platform: c.platform,
            post: c.post.clone(),
        })
    }

    /// Whether the rule matches the comment.
    pub fn matches(&self, f: &CommentFacts<'_>) -> bool {
        if !self.channels.is_empty() && !self.channels.contains(&f.channel) {
            return false;
        }
        if self.platform.is_some_and(|p| p != f.platform) {
            return false;
        }
        if self.post.as_deref().is_some_and(|p| Some(p) != f.post_id) {
            return false;
        }
        let author_is = |names: &[String]| {
            names.iter().any(|n| {
                f.author_id.is_some_and(|a| fold(a) == *n)
                    || f.author_name
                        .is_some_and(|a| fold(a.trim_start_matches('@')) == *n)
            })
        };
        if author_is(&self.author_is_not) {
            return false;
        }
        let text = fold(f.text);
        let mut tests = self
            .keywords
            .iter()
            .map(|k| contains_word(&text, k))
            .chain(self.pattern.as_ref().map(|p| p.is_match(f.text)))
            .chain(self.has_link.then(|| found(&LINK, f.text)))
            .chain(self.has_phone.then(|| has_phone_number(f.text)))
            .chain(self.has_email.then(|| found(&EMAIL, f.text)))
            .chain((!self.author_is.is_empty()).then(|| author_is(&self.author_is)));
        if self.match_all {
            tests.all(|t| t)
        } else {
            tests.any(|t| t)
        }
    }
}

/// The first rule (in order) that matches the comment.
pub fn first_match<'r>(
    rules: &'r [CompiledRule],
    f: &CommentFacts<'_>,
) -> Option<&'r CompiledRule> {
    rules.iter().find(|r| r.matches(f))
}

/// Case-folded text with whitespace runs as one space.
fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for ch in text.trim().chars() {
        if ch.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.extend(ch.to_lowercase());
    }
    out
}

/// Whether `word` (folded) occurs in `text` (folded) as whole words: the characters around it
/// are not letters or digits. Scripts written without spaces between words (Chinese, Japanese,
/// Thai) have no boundaries to check, so there a keyword matches wherever it occurs.
fn contains_word(text: &str, word: &str) -> bool {
    if word.is_empty() {
        return false;
    }
    let is_word = |c: char| (c.is_alphanumeric() || c == '_') && !unspaced_script(c);
    let starts_word = word.chars().next().is_some_and(is_word);
    let ends_word = word.chars().next_back().is_some_and(is_word);
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        (!starts_word || !before.is_some_and(is_word))
            && (!ends_word || !after.is_some_and(is_word))
    })
}

/// Characters of scripts that do not separate words with spaces.
fn unspaced_script(c: char) -> bool {
    matches!(u32::from(c),
        0x0E00..=0x0EFF        // Thai, Lao
        | 0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF      // CJK extension A
        | 0x4E00..=0x9FFF      // CJK unified ideographs
        | 0xF900..=0xFAFF      // CJK compatibility ideographs
        | 0x20000..=0x2FFFF) // CJK extensions B–F
}

// Fixed patterns: `None` only if one failed to compile, which the unit tests rule out.
static LINK: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:https?://|www\.)\S+|\b[a-z0-9][a-z0-9-]*\.(?:com|net|org|io|co|ly|me|info|biz|shop|xyz|link|app|site|online|store|ru|cn|tk|gl|gg)(?:/\S*)?\b",
    )
    .ok()
});

static EMAIL: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}\b").ok());

static PHONE_CANDIDATE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\+?\d[\d\s().\-]{5,}\d").ok());

fn found(pattern: &LazyLock<Option<Regex>>, text: &str) -> bool {
    pattern.as_ref().is_some_and(|p| p.is_match(text))
}

/// A run of 7 to 15 digits, possibly spaced or punctuated as phone numbers are written.
fn has_phone_number(text: &str) -> bool {
    let Some(candidate) = PHONE_CANDIDATE.as_ref() else {
        return false;
    };
    candidate.find_iter(text).any(|m| {
        let digits = m.as_str().chars().filter(char::is_ascii_digit).count();
        (7..=15).contains(&digits)
    })
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
