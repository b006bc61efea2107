//! Facebook Page posts and comments: feed, comments, replies, hide/unhide, delete, and the
//! `feed` webhooks these cause.

use chrono::{Duration as TimeDelta, Utc};
use serde_json::{Value, json};

use super::auth::MetaError;
use super::content::{FbComment, Post};
use super::fields::{paginate, select, select_all};
use super::graph::{Ctx, Node};
use super::util::graph_time;
use super::webhooks::{self, Target};
use super::world::State;

fn post_json(p: &Post, state: &State, page_name: &str) -> Value {
    let local = p.id.split('_').nth(1).unwrap_or(&p.id);
    json!({
        "id": p.id,
        "message": p.message,
        "created_time": graph_time(p.created),
        "updated_time": graph_time(p.created),
        "permalink_url": format!("https://www.facebook.com/{}/posts/{local}", p.page_id),
        "full_picture": p.picture,
        "status_type": "added_photos",
        "is_published": true,
        "from": {"name": page_name, "id": p.page_id},
        "comments_count": state.fb_comments.iter().filter(|c| c.post_id == p.id && !c.deleted).count(),
    })
}

fn comment_json(c: &FbComment, state: &State) -> Value {
    let local = c.id.split('_').nth(1).unwrap_or(&c.id);
    let post_local = c.post_id.split('_').nth(1).unwrap_or(&c.post_id);
    let own = c.from_id == c.page_id;
    let replies = state
        .fb_comments
        .iter()
        .filter(|r| r.parent_id.as_deref() == Some(&c.id) && !r.deleted)
        .count();
    let mut v = json!({
        "id": c.id,
        "message": c.message,
        "created_time": graph_time(c.created),
        "from": {"name": c.from_name, "id": c.from_id},
        "is_hidden": c.hidden,
        "can_hide": !own,
        "can_remove": true,
        "can_reply_privately": !own && !state.private_replies.contains(&c.id) && c.created + TimeDelta::days(7) > Utc::now(),
        "comment_count": replies,
        "like_count": c.likes,
        "user_likes": c.page_liked,
        "permalink_url": format!("https://www.facebook.com/{}/posts/{post_local}?comment_id={local}", c.page_id),
    });
    if let Some(parent) = &c.parent_id {
        v["parent"] = json!({"id": parent});
    }
    v
}

const COMMENT_KNOWN: &[&str] = &[
    "parent",
    "attachment",
    "message_tags",
    "private_reply_conversation",
];

/// `GET /{page-id}/feed` (also `posts`, `published_posts`).
pub(crate) fn feed(ctx: &Ctx) -> Result<Value, MetaError> {
    ctx.require_page_access(&ctx.id)?;
    if ctx.method() != "GET" {
        return Err(ctx.unsupported());
    }
    let name = ctx
        .seed()
        .page(&ctx.id)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let fields = ctx.req.fields("created_time,message,id")?;
    let items: Vec<(String, Value)> = {
        let state = ctx.inner.world.lock();
        let mut posts: Vec<&Post> = state.posts.iter().filter(|p| p.page_id == ctx.id).collect();
        posts.sort_by_key(|p| std::cmp::Reverse(p.created));
        posts
            .iter()
            .map(|p| (p.id.clone(), post_json(p, &state, &name)))
            .collect()
    };
    let mut page = paginate(ctx.req, &ctx.inner.base_url, items, 25)?;
    if let Some(data) = page.get("data").and_then(Value::as_array) {
        page["data"] = Value::Array(select_all(
            data,
            &fields,
            "Post",
            &["attachments", "story"],
        )?);
    }
    Ok(page)
}

/// Posts and comments: read, list comments, reply, hide/unhide, delete.
pub(crate) fn fb(ctx: &Ctx, node: &Node) -> Result<Value, MetaError> {
    let page_id = match node {
        Node::Post(id) => id.split('_').next().unwrap_or_default().to_string(),
        _ => ctx
            .inner
            .world
            .lock()
            .fb_comments
            .iter()
            .find(|c| c.id == ctx.id)
            .map(|c| c.page_id.clone())
            .unwrap_or_default(),
    };
    ctx.require_page_access(&page_id)?;
    let is_post = matches!(node, Node::Post(_));
    match (ctx.edge.as_deref(), ctx.method()) {
        (None, "GET") => {
            let state = ctx.inner.world.lock();
            if is_post {
                let name = ctx
                    .seed()
                    .page(&page_id)
                    .map(|p| p.name.clone())
                    .unwrap_or_default();
                let p = state
                    .posts
                    .iter()
                    .find(|p| p.id == ctx.id)
                    .ok_or_else(|| ctx.unsupported())?;
                return select(
                    &post_json(p, &state, &name),
                    &ctx.req.fields("created_time,message,id")?,
                    "Post",
                    &[],
                );
            }
            let c = state
                .fb_comments
                .iter()
                .find(|c| c.id == ctx.id)
                .ok_or_else(|| ctx.unsupported())?;
            select(
                &comment_json(c, &state),
                &ctx.req.fields("created_time,from,message,id")?,
                "Comment",
                COMMENT_KNOWN,
            )
        }
        (Some("comments"), "GET") => list(ctx, is_post),
        (Some("comments"), "POST") => reply(ctx, &page_id, is_post),
        (None, "POST") if !is_post => {
            ctx.require_page_token(&page_id)?;
            let hidden = ctx
                .req
                .flag("is_hidden")
                .ok_or_else(|| MetaError::required("is_hidden"))?;
            let changed = {
                let mut state = ctx.inner.world.lock();
                let c = state
                    .fb_comments
                    .iter_mut()
                    .find(|c| c.id == ctx.id && !c.deleted)
                    .ok_or_else(|| ctx.unsupported())?;
                if c.from_id == page_id {
                    return Err(MetaError::param("Cannot hide a comment posted by the Page"));
                }
                let changed = c.hidden != hidden;
                c.hidden = hidden;
                changed.then(|| c.clone())
            };
            if let Some(c) = changed {
                feed_webhook(ctx, &c, if hidden { "hide" } else { "unhide" });
            }
            Ok(json!({"success": true}))
        }
        (None, "DELETE") if !is_post => {
            ctx.require_page_token(&page_id)?;
            let removed = {
                let mut state = ctx.inner.world.lock();
                // A comment deleted before is gone: Meta answers as for any unknown object.
                let c = state
                    .fb_comments
                    .iter_mut()
                    .find(|c| c.id == ctx.id && !c.deleted)
                    .ok_or_else(|| ctx.unsupported())?;
                c.deleted = true;
                c.clone()
            };
            feed_webhook(ctx, &removed, "remove");
            Ok(json!({"success": true}))
        }
        (Some("likes"), "POST") if !is_post => {
            ctx.require_page_token(&page_id)?;
            let mut state = ctx.inner.world.lock();
            let c = state
                .fb_comments
                .iter_mut()
                .find(|c| c.id == ctx.id && !c.deleted)
                .ok_or_else(|| ctx.unsupported())?;
            if !c.page_liked {
                c.page_liked = true;
                c.likes += 1;
            }
            Ok(json!({"success": true}))
        }
        _ => Err(ctx.no_such_edge(if is_post { "Post" } else { "Comment" })),
    }
}

fn list(ctx: &Ctx, is_post: bool) -> Result<Value, MetaError> {
    let filter = ctx.req.param("filter").unwrap_or("toplevel");
    let order = ctx.req.param("order").unwrap_or("chronological");
    if !matches!(filter, "toplevel" | "stream") {
        return Err(MetaError::param(format!(
            "Param filter must be one of {{toplevel, stream}} - got \"{filter}\""
        )));
    }
    if !matches!(order, "chronological" | "reverse_chronological" | "ranked") {
        return Err(MetaError::param(format!(
            "Param order must be one of {{chronological, reverse_chronological, ranked}} - got \"{order}\""
        )));
    }
    let fields = ctx.req.fields("created_time,from,message,id")?;
    let (items, total) = {
        let state = ctx.inner.world.lock();
        let mut found: Vec<&FbComment> = state
            .fb_comments
            .iter()
            .filter(|c| !c.deleted)
            .filter(|c| match (is_post, filter) {
                (true, "stream") => c.post_id == ctx.id,
                (true, _) => c.post_id == ctx.id && c.parent_id.is_none(),
                (false, _) => c.parent_id.as_deref() == Some(&ctx.id),
            })
            .collect();
        found.sort_by_key(|c| c.created);
        if order == "reverse_chronological" {
            found.reverse();
        }
        let total = found.len();
        let items: Vec<(String, Value)> = found
            .iter()
            .map(|c| (c.id.clone(), comment_json(c, &state)))
            .collect();
        (items, total)
    };
    let mut page = paginate(ctx.req, &ctx.inner.base_url, items, 25)?;
    if let Some(data) = page.get("data").and_then(Value::as_array) {
        page["data"] = Value::Array(select_all(data, &fields, "Comment", COMMENT_KNOWN)?);
    }
    if ctx.req.flag("summary") == Some(true) {
        page["summary"] = json!({"order": order, "total_count": total, "can_comment": true});
    }
    Ok(page)
}

fn reply(ctx: &Ctx, page_id: &str, is_post: bool) -> Result<Value, MetaError> {
    ctx.require_page_token(page_id)?;
    let message = ctx
        .req
        .text("message")
        .filter(|m| !m.trim().is_empty())
        .ok_or_else(|| MetaError::required("message"))?;
    let page_name = ctx
        .seed()
        .page(page_id)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let comment = {
        let mut state = ctx.inner.world.lock();
        let (post_id, parent) = if is_post {
            (ctx.id.clone(), None)
        } else {
            let parent = state
                .fb_comments
                .iter()
                .find(|c| c.id == ctx.id)
                .ok_or_else(|| ctx.unsupported())?;
            // Replies to replies attach to the top-level comment, as on Facebook.
            (
                parent.post_id.clone(),
                Some(parent.parent_id.clone().unwrap_or(parent.id.clone())),
            )
        };
        let post_local = post_id.split('_').nth(1).unwrap_or(&post_id).to_string();
        let id = format!("{post_local}_{}", state.next_id("4999", 11));
        let c = FbComment {
            id,
            page_id: page_id.to_string(),
            post_id,
            parent_id: parent,
            from_id: page_id.to_string(),
            from_name: page_name,
            message,
            created: Utc::now(),
            hidden: false,
            deleted: false,
            likes: 0,
            page_liked: false,
        };
        state.fb_comments.push(c.clone());
        c
    };
    feed_webhook(ctx, &comment, "add");
    Ok(json!({"id": comment.id}))
}

/// The `feed` change Meta sends for comment activity on the Page.
fn feed_webhook(ctx: &Ctx, c: &FbComment, verb: &str) {
    let mut value = json!({
        "from": {"id": c.from_id, "name": c.from_name},
        "post": {"status_type": "added_photos", "is_published": true, "updated_time": graph_time(Utc::now()), "promotion_status": "inactive", "id": c.post_id},
        "message": c.message,
        "post_id": c.post_id,
        "comment_id": c.id,
        "created_time": c.created.timestamp(),
        "item": "comment",
        "parent_id": c.parent_id.clone().unwrap_or(c.post_id.clone()),
        "verb": verb,
    });
    if verb == "remove" {
        value.as_object_mut().map(|m| m.remove("message"));
    }
    let body = webhooks::changes_envelope("page", &c.page_id, "feed", value);
    webhooks::schedule(
        ctx.inner,
        Target::Page {
            page_id: c.page_id.clone(),
            field: "feed",
        },
        body,
        std::time::Duration::ZERO,
    );
}
