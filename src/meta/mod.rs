//! The Graph client: the only code that knows Meta's URLs. Typed requests and answers for every
//! call Parley makes, `appsecret_proof` on every token call, one error classification, bounded
//! retries, pacing by Meta's usage headers and per-channel send buckets.

pub mod client;
pub mod comments;
pub mod conversations;
pub mod error;
pub mod insights;
pub mod instagram_login;
pub mod limits;
pub mod media;
pub mod message_templates;
pub mod messaging;
pub mod oauth;
pub mod pages;
pub mod paging;
pub mod redact;
pub mod token;
pub mod uploads;
pub mod usage;
pub mod whatsapp;

pub use client::{GraphClient, GraphSettings, RetryPolicy};
pub use error::{GraphError, GraphErrorKind, MetaError, TokenProblem, WindowClosed};
pub use limits::{SendKind, SendLimits};
pub use token::{AccessToken, TokenHost};
