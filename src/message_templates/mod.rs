//! WhatsApp message templates: what they say, the lint that checks them before Meta does, the
//! library synced from Meta, the team's approval and the submission to Meta.

pub mod at_meta;
mod components;
pub mod content;
pub mod form;
pub mod jobs;
pub mod lint;
mod lint_rules;
pub mod poll;
pub mod send;
pub mod status;
pub mod workflow;
