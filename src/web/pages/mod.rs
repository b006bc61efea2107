//! One module per page.

pub mod login;
pub mod ops;
pub mod sections;
pub mod team;
