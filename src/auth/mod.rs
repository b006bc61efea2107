//! Who is signed in and what they may do: passwords, sessions, roles, CSRF, sign-in throttling.

pub mod csrf;
pub mod current_user;
pub mod login;
pub mod password;
pub mod roles;
pub mod session;

pub use current_user::{Authorized, CurrentUser};
pub use roles::Role;
