//! The shared inbox's domain services: contacts' profiles (and, as it grows, conversations,
//! replies and assignment).

pub mod attachments;
pub mod profiles;
