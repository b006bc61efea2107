//! Insights: daily figures read from Meta by a background refresh and kept in PostgreSQL, so the
//! analysts' pages never wait on Meta.

pub mod account;
pub mod ask;
pub mod budget;
pub mod catalog;
pub mod chart;
pub mod messaging;
pub mod overview;
pub mod period;
pub mod posts;
pub mod refresh;
pub mod stories;
