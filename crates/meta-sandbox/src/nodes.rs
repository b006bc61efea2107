//! Naming what a Graph path points at (seeded objects, live content, conversations) and which
//! usage budget a call spends.

use super::Inner;
use super::faults::UsageScope;
use super::fields::GraphRequest;
use super::graph::Node;
use super::seed::Channel;
use super::world::TokenKind;

/// Names an object id: seeded objects first, then live content.
pub(crate) fn resolve(inner: &Inner, id: &str) -> Node {
    let seed = inner.world.seed();
    if id == "me" {
        return Node::Me;
    }
    if id == "debug_token" {
        return Node::DebugToken;
    }
    if id == seed.user.id {
        return Node::User;
    }
    if id == seed.system_user.id {
        return Node::SystemUser;
    }
    if id == seed.app_id {
        return Node::App;
    }
    if id == seed.waba.id {
        return Node::Waba;
    }
    if id == seed.phone_number.id {
        return Node::Phone;
    }
    if seed.page(id).is_some() {
        return Node::Page(id.into());
    }
    if seed.ig_account(id).is_some() {
        return Node::Ig(id.into());
    }
    if let Some(customer) = id.strip_prefix("t_")
        && (seed
            .customers
            .iter()
            .any(|c| c.id == customer && c.channel != Channel::WhatsApp)
            || inner
                .world
                .lock()
                .extra_customers
                .iter()
                .any(|c| c.id == customer))
    {
        return Node::Conversation(id.into());
    }
    if seed
        .customers
        .iter()
        .any(|c| c.id == id && c.channel != Channel::WhatsApp)
    {
        return Node::Customer(id.into());
    }
    let state = inner.world.lock();
    let id_s = id.to_string();
    if state.posts.iter().any(|p| p.id == id) {
        Node::Post(id_s)
    } else if state.fb_comments.iter().any(|c| c.id == id && !c.deleted) {
        Node::FbComment(id_s)
    } else if state.ig_media.iter().any(|m| m.id == id) {
        Node::IgMedia(id_s)
    } else if state.ig_comments.iter().any(|c| c.id == id && !c.deleted) {
        Node::IgComment(id_s)
    } else if state.templates.iter().any(|t| t.id == id && !t.deleted) {
        Node::Template(id_s)
    } else if state.media.contains_key(id) {
        Node::Media(id_s)
    } else if state.uploads.contains_key(id) {
        Node::Upload(id_s)
    } else {
        Node::Unknown(id_s)
    }
}

pub(crate) fn usage_scope(
    inner: &Inner,
    req: &GraphRequest,
    node: &Node,
    kind: Option<TokenKind>,
) -> UsageScope {
    if matches!(kind, None | Some(TokenKind::User)) {
        return UsageScope::App;
    }
    let seed = inner.world.seed();
    let edge = req.segments.get(1).map(String::as_str);
    let business = |id: &str, kind: &'static str| UsageScope::Business {
        id: id.into(),
        kind,
    };
    let state = inner.world.lock();
    match node {
        Node::Page(id) if edge == Some("messages") => business(id, "messenger"),
        Node::Page(id) => business(id, "pages"),
        Node::Ig(id) => business(id, "instagram"),
        Node::Customer(id) => match seed.customers.iter().find(|c| &c.id == id) {
            Some(c) if c.channel == Channel::Instagram => business(&c.account_id, "instagram"),
            Some(c) => business(&c.account_id, "pages"),
            None => UsageScope::App,
        },
        Node::Post(id) => business(id.split('_').next().unwrap_or(id), "pages"),
        Node::FbComment(id) => match state.fb_comments.iter().find(|c| &c.id == id) {
            Some(c) => business(&c.page_id, "pages"),
            None => UsageScope::App,
        },
        Node::IgMedia(id) => match state.ig_media.iter().find(|m| &m.id == id) {
            Some(m) => business(&m.ig_id, "instagram"),
            None => UsageScope::App,
        },
        Node::IgComment(id) => match state.ig_comments.iter().find(|c| &c.id == id) {
            Some(c) => business(&c.ig_id, "instagram"),
            None => UsageScope::App,
        },
        Node::Waba | Node::Phone | Node::Template(_) | Node::Media(_) | Node::SystemUser => {
            business(&seed.waba.id, "whatsapp_business_management")
        }
        _ => UsageScope::App,
    }
}
