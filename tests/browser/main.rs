//! Browser tests: the real application in headless Chromium driven through chromedriver.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod comments;
mod connect;
mod harness;
mod inbox;
mod insights;
mod sign_in;
mod templates;
