//! What the base layout needs on every signed-in page.

use crate::auth::CurrentUser;
use crate::auth::roles::{AdminOnly, CommentRoles, InboxRoles, InsightRoles, TemplateRoles};
use crate::auth::session::{self, Flash};

/// One entry of the navigation rail.
pub struct NavItem {
    pub key: &'static str,
    pub label: &'static str,
    pub href: &'static str,
}

/// Data for `base.html`.
pub struct Layout {
    pub tenant_name: String,
    pub user_name: String,
    pub user_initials: String,
    pub user_role: &'static str,
    pub csrf: String,
    pub flashes: Vec<Flash>,
    /// Key of the navigation entry to highlight.
    pub active: &'static str,
    pub nav: Vec<NavItem>,
    pub can_search_inbox: bool,
    /// Channels an admin must reconnect (banner under the top bar).
    pub alerts: Vec<crate::auth::current_user::ChannelAlert>,
}

/// The navigation a user sees: only the sections their role may open.
pub fn navigation(user: &CurrentUser) -> Vec<NavItem> {
    let mut nav = Vec::new();
    let mut add = |allowed: bool, key, label, href| {
        if allowed {
            nav.push(NavItem { key, label, href });
        }
    };
    add(user.can::<InboxRoles>(), "inbox", "Inbox", "/inbox");
    add(
        user.can::<CommentRoles>(),
        "comments",
        "Comments",
        "/comments",
    );
    add(
        user.can::<InsightRoles>(),
        "insights",
        "Insights",
        "/insights",
    );
    add(
        user.can::<TemplateRoles>(),
        "templates",
        "Templates",
        "/message-templates",
    );
    add(user.can::<AdminOnly>(), "channels", "Channels", "/channels");
    add(user.can::<AdminOnly>(), "team", "Team", "/team");
    add(
        user.can::<AdminOnly>(),
        "webhooks",
        "Webhook log",
        "/webhooks",
    );
    add(user.can::<AdminOnly>(), "jobs", "Jobs", "/jobs");
    nav
}

impl Layout {
    /// Builds the layout for `user`, taking their pending flashes.
    pub fn new(user: &CurrentUser, active: &'static str) -> Self {
        Layout {
            tenant_name: user.tenant_name.clone(),
            user_name: user.display_name.clone(),
            user_initials: user.initials(),
            user_role: user.role.label(),
            csrf: session::csrf_token(&user.session),
            flashes: session::take_flashes(&user.session),
            active,
            nav: navigation(user),
            can_search_inbox: user.can::<InboxRoles>(),
            alerts: user.channel_alerts.clone(),
        }
    }
}
