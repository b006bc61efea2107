//! Instagram media and comments: list media, read, list comments and replies, reply, hide,
//! delete.

use chrono::Utc;
use serde_json::{Value, json};

use super::auth::MetaError;
use super::content::{FOREIGN_IG_OWNER, IgComment, IgMedia};
use super::fields::{paginate, select, select_all};
use super::graph::{Ctx, Node};
use super::util::graph_time;
use super::webhooks::{self, Target};
use super::world::State;

fn media_json(m: &IgMedia, state: &State, username: &str) -> Value {
    let comments = state
        .ig_comments
        .iter()
        .filter(|c| c.media_id == m.id && !c.deleted)
        .count();
    let mut v = json!({
        "id": m.id,
        "caption": m.caption,
        "media_type": m.media_type,
        "media_product_type": m.product_type,
        "permalink": format!("https://www.instagram.com/p/SBX{}/", &m.id[m.id.len().saturating_sub(6)..]),
        "shortcode": format!("SBX{}", &m.id[m.id.len().saturating_sub(6)..]),
        "timestamp": graph_time(m.created),
        "comments_count": comments,
        "like_count": m.likes,
        "media_url": m.media_url,
        "username": username,
        "owner": {"id": m.ig_id},
        "is_comment_enabled": m.product_type != "STORY",
    });
    if m.media_type == "VIDEO" {
        v["thumbnail_url"] = json!(m.media_url);
    }
    v
}

fn comment_json(c: &IgComment, state: &State) -> Value {
    let product = state
        .ig_media
        .iter()
        .find(|m| m.id == c.media_id)
        .map(|m| m.product_type)
        .unwrap_or("FEED");
    let replies: Vec<Value> = state
        .ig_comments
        .iter()
        .filter(|r| r.parent_id.as_deref() == Some(&c.id) && !r.deleted)
        .map(|r| json!({"id": r.id, "text": r.text, "timestamp": graph_time(r.created), "username": r.username}))
        .collect();
    let mut v = json!({
        "id": c.id,
        "text": c.text,
        "timestamp": graph_time(c.created),
        "username": c.username,
        "from": {"id": c.from_id, "username": c.username},
        "hidden": c.hidden,
        "like_count": c.likes,
        "media": {"id": c.media_id, "media_product_type": product},
        "replies": {"data": replies},
    });
    if let Some(parent) = &c.parent_id {
        v["parent_id"] = json!(parent);
    }
    v
}

const MEDIA_KNOWN: &[&str] = &["thumbnail_url", "children", "comments"];
const COMMENT_KNOWN: &[&str] = &["parent_id", "user", "legacy_instagram_comment_id"];

/// The account's username, once the caller may act for the account.
fn access_ig(ctx: &Ctx, ig_id: &str) -> Result<String, MetaError> {
    let (_, ig) = ctx
        .seed()
        .ig_account(ig_id)
        .ok_or_else(|| ctx.unsupported())?;
    ctx.require_ig_access(ig_id)?;
    Ok(ig.username.clone())
}

/// `GET /{ig-user-id}/media` (posts and reels) and `/stories`.
pub(crate) fn media_list(ctx: &Ctx) -> Result<Value, MetaError> {
    let username = access_ig(ctx, &ctx.id)?;
    if ctx.method() != "GET" {
        return Err(ctx.unsupported());
    }
    let stories = ctx.edge.as_deref() == Some("stories");
    let fields = ctx.req.fields("id")?;
    let items: Vec<(String, Value)> = {
        let state = ctx.inner.world.lock();
        let mut media: Vec<&IgMedia> = state
            .ig_media
            .iter()
            .filter(|m| m.ig_id == ctx.id && (m.product_type == "STORY") == stories)
            .filter(|m| super::post_insights::is_live(m))
            .collect();
        media.sort_by_key(|m| std::cmp::Reverse(m.created));
        media
            .iter()
            .map(|m| (m.id.clone(), media_json(m, &state, &username)))
            .collect()
    };
    let mut page = paginate(ctx.req, &ctx.inner.base_url, items, 25)?;
    if let Some(data) = page.get("data").and_then(Value::as_array) {
        page["data"] = Value::Array(select_all(data, &fields, "IGMedia", MEDIA_KNOWN)?);
    }
    Ok(page)
}

/// IG media and IG comment nodes and their `comments` / `replies` edges.
pub(crate) fn node(ctx: &Ctx, node: &Node) -> Result<Value, MetaError> {
    let is_media = matches!(node, Node::IgMedia(_));
    // A mention of the business on someone else's media: readable, never moderated.
    let mentioned = (!is_media)
        .then(|| {
            ctx.inner
                .world
                .lock()
                .ig_comments
                .iter()
                .find(|c| c.id == ctx.id)
                .and_then(|c| c.mention_of.clone())
        })
        .flatten();
    if let Some(account) = mentioned {
        access_ig(ctx, &account)?;
        if ctx.method() != "GET" {
            return Err(MetaError::new(
                10,
                "(#10) Application does not have permission for this action",
            ));
        }
    }
    let ig_id = {
        let state = ctx.inner.world.lock();
        if is_media {
            state
                .ig_media
                .iter()
                .find(|m| m.id == ctx.id)
                .map(|m| m.ig_id.clone())
        } else {
            state
                .ig_comments
                .iter()
                .find(|c| c.id == ctx.id)
                .map(|c| c.ig_id.clone())
        }
    }
    .ok_or_else(|| ctx.unsupported())?;
    if ig_id == FOREIGN_IG_OWNER {
        // Only reads reach here (a mention): its replies, or the comment itself.
        if ctx.edge.as_deref() == Some("replies") {
            return list(ctx, is_media);
        }
        let state = ctx.inner.world.lock();
        let c = state
            .ig_comments
            .iter()
            .find(|c| c.id == ctx.id)
            .ok_or_else(|| ctx.unsupported())?;
        return select(
            &comment_json(c, &state),
            &ctx.req.fields("timestamp,text,id")?,
            "IGComment",
            COMMENT_KNOWN,
        );
    }
    let username = access_ig(ctx, &ig_id)?;
    match (ctx.edge.as_deref(), ctx.method(), is_media) {
        (None, "GET", true) => {
            let state = ctx.inner.world.lock();
            let m = state
                .ig_media
                .iter()
                .find(|m| m.id == ctx.id)
                .ok_or_else(|| ctx.unsupported())?;
            select(
                &media_json(m, &state, &username),
                &ctx.req.fields("id")?,
                "IGMedia",
                MEDIA_KNOWN,
            )
        }
        (None, "GET", false) => {
            let state = ctx.inner.world.lock();
            let c = state
                .ig_comments
                .iter()
                .find(|c| c.id == ctx.id)
                .ok_or_else(|| ctx.unsupported())?;
            select(
                &comment_json(c, &state),
                &ctx.req.fields("timestamp,text,id")?,
                "IGComment",
                COMMENT_KNOWN,
            )
        }
        (Some("comments"), "GET", true) | (Some("replies"), "GET", false) => list(ctx, is_media),
        (Some("comments"), "POST", true) | (Some("replies"), "POST", false) => {
            reply(ctx, &ig_id, &username, is_media)
        }
        (None, "POST", false) => {
            let hide = ctx
                .req
                .flag("hide")
                .ok_or_else(|| MetaError::required("hide"))?;
            let mut state = ctx.inner.world.lock();
            let c = state
                .ig_comments
                .iter_mut()
                .find(|c| c.id == ctx.id && !c.deleted)
                .ok_or_else(|| ctx.unsupported())?;
            if c.from_id == ig_id {
                return Err(MetaError::param(
                    "Cannot hide a comment posted by the media owner",
                ));
            }
            c.hidden = hide;
            Ok(json!({"success": true}))
        }
        (None, "POST", true) => {
            // `comment_enabled=true|false` is accepted and has no visible effect here.
            ctx.req
                .flag("comment_enabled")
                .ok_or_else(|| MetaError::required("comment_enabled"))?;
            Ok(json!({"success": true}))
        }
        (None, "DELETE", false) => {
            let mut state = ctx.inner.world.lock();
            // A comment deleted before is gone: Meta answers as for any unknown object.
            let c = state
                .ig_comments
                .iter_mut()
                .find(|c| c.id == ctx.id && !c.deleted)
                .ok_or_else(|| ctx.unsupported())?;
            c.deleted = true;
            Ok(json!({"success": true}))
        }
        _ => Err(ctx.no_such_edge(if is_media { "IGMedia" } else { "IGComment" })),
    }
}

fn list(ctx: &Ctx, on_media: bool) -> Result<Value, MetaError> {
    let fields = ctx.req.fields("timestamp,text,id")?;
    let items: Vec<(String, Value)> = {
        let state = ctx.inner.world.lock();
        let mut found: Vec<&IgComment> = state
            .ig_comments
            .iter()
            .filter(|c| !c.deleted)
            .filter(|c| {
                if on_media {
                    c.media_id == ctx.id && c.parent_id.is_none()
                } else {
                    c.parent_id.as_deref() == Some(&ctx.id)
                }
            })
            .collect();
        // Media comments come newest first; replies oldest first.
        found.sort_by_key(|c| c.created);
        if on_media {
            found.reverse();
        }
        found
            .iter()
            .map(|c| (c.id.clone(), comment_json(c, &state)))
            .collect()
    };
    let mut page = paginate(ctx.req, &ctx.inner.base_url, items, 25)?;
    if let Some(data) = page.get("data").and_then(Value::as_array) {
        page["data"] = Value::Array(select_all(data, &fields, "IGComment", COMMENT_KNOWN)?);
    }
    Ok(page)
}

fn reply(ctx: &Ctx, ig_id: &str, username: &str, on_media: bool) -> Result<Value, MetaError> {
    let message = ctx
        .req
        .text("message")
        .filter(|m| !m.trim().is_empty())
        .ok_or_else(|| MetaError::required("message"))?;
    let comment = {
        let mut state = ctx.inner.world.lock();
        let (media_id, parent) = if on_media {
            let m = state
                .ig_media
                .iter()
                .find(|m| m.id == ctx.id)
                .ok_or_else(|| ctx.unsupported())?;
            if m.product_type == "STORY" {
                return Err(MetaError::param("Comments are not supported on stories"));
            }
            (m.id.clone(), None)
        } else {
            let c = state
                .ig_comments
                .iter()
                .find(|c| c.id == ctx.id)
                .ok_or_else(|| ctx.unsupported())?;
            (
                c.media_id.clone(),
                Some(c.parent_id.clone().unwrap_or(c.id.clone())),
            )
        };
        let c = IgComment {
            id: state.next_id("18099", 12),
            ig_id: ig_id.to_string(),
            media_id,
            parent_id: parent,
            from_id: ig_id.to_string(),
            username: username.to_string(),
            text: message,
            created: Utc::now(),
            hidden: false,
            deleted: false,
            likes: 0,
            mention_of: None,
        };
        state.ig_comments.push(c.clone());
        c
    };
    // The account's own comments also arrive as `comments` webhooks, marked with
    // `self_ig_scoped_id` so apps can skip them.
    let mut value = json!({
        "from": {"id": ig_id, "username": username, "self_ig_scoped_id": ig_id},
        "media": {"id": comment.media_id, "media_product_type": "FEED"},
        "id": comment.id,
        "text": comment.text,
    });
    if let Some(parent) = &comment.parent_id {
        value["parent_id"] = json!(parent);
    }
    let body = webhooks::changes_envelope("instagram", ig_id, "comments", value);
    webhooks::schedule(
        ctx.inner,
        Target::Instagram {
            ig_id: ig_id.to_string(),
            field: "comments",
        },
        body,
        std::time::Duration::ZERO,
    );
    Ok(json!({"id": comment.id}))
}

/// `GET /{ig-user-id}?fields=mentioned_comment.comment_id(<id>){…}`: a comment that mentions the
/// account, on someone else's media.
pub(crate) fn mentioned_comment(ctx: &Ctx, ig_id: &str) -> Result<Value, MetaError> {
    let raw = ctx.req.param("fields").unwrap_or_default();
    let Some(id) = raw
        .split("mentioned_comment.comment_id(")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
    else {
        return Err(MetaError::required("comment_id"));
    };
    let state = ctx.inner.world.lock();
    let c = state
        .ig_comments
        .iter()
        .find(|c| c.id == id && c.mention_of.as_deref() == Some(ig_id) && !c.deleted)
        .ok_or_else(|| {
            MetaError::param(format!(
                "Comment {id} does not mention this account or is not accessible"
            ))
        })?;
    Ok(json!({
        "id": ig_id,
        "mentioned_comment": {
            "id": c.id,
            "text": c.text,
            "timestamp": graph_time(c.created),
            "username": c.username,
            "like_count": c.likes,
            "media": {"id": c.media_id, "media_product_type": "FEED", "permalink": format!("https://www.instagram.com/p/{}/", c.media_id)},
        }
    }))
}

/// `POST /{ig-user-id}/mentions` with `media_id`, `comment_id` and `message`: a reply to a
/// comment that mentions the account.
pub(crate) fn reply_to_mention(ctx: &Ctx, ig_id: &str) -> Result<Value, MetaError> {
    let comment_id = ctx
        .req
        .text("comment_id")
        .ok_or_else(|| MetaError::required("comment_id"))?;
    let message = ctx
        .req
        .text("message")
        .filter(|m| !m.trim().is_empty())
        .ok_or_else(|| MetaError::required("message"))?;
    let username = ctx
        .seed()
        .ig_account(ig_id)
        .map(|(_, ig)| ig.username.clone())
        .unwrap_or_default();
    let mut state = ctx.inner.world.lock();
    let media_id = state
        .ig_comments
        .iter()
        .find(|c| c.id == comment_id && c.mention_of.as_deref() == Some(ig_id) && !c.deleted)
        .map(|c| c.media_id.clone())
        .ok_or_else(|| {
            MetaError::param(format!(
                "Comment {comment_id} does not mention this account"
            ))
        })?;
    let id = state.next_id("18099", 12);
    state.ig_comments.push(IgComment {
        id: id.clone(),
        ig_id: FOREIGN_IG_OWNER.into(),
        media_id,
        parent_id: Some(comment_id),
        from_id: ig_id.to_string(),
        username,
        text: message,
        created: Utc::now(),
        hidden: false,
        deleted: false,
        likes: 0,
        mention_of: None,
    });
    Ok(json!({"id": id}))
}
