//! Comment moderation on Facebook Page posts and Instagram media.

use serde::Deserialize;

use crate::meta::client::{Auth, Body, Call, GraphClient, Repeat, Success};
use crate::meta::error::GraphError;
use crate::meta::paging::Paged;
use crate::meta::token::AccessToken;

#[derive(Debug, Clone, Deserialize)]
pub struct FbAuthor {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ObjectRef {
    pub id: String,
}

/// A post of a Page's feed.
#[derive(Debug, Clone, Deserialize)]
pub struct FbPost {
    pub id: String,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub created_time: Option<String>,
    #[serde(default)]
    pub permalink_url: Option<String>,
    #[serde(default)]
    pub full_picture: Option<String>,
}

/// A comment on a Facebook post.
#[derive(Debug, Clone, Deserialize)]
pub struct FbComment {
    pub id: String,
    #[serde(default)]
    pub message: Option<String>,
    /// ISO-8601 on reads (an integer only in webhooks).
    #[serde(default)]
    pub created_time: Option<String>,
    #[serde(default)]
    pub from: Option<FbAuthor>,
    #[serde(default)]
    pub parent: Option<ObjectRef>,
    #[serde(default)]
    pub is_hidden: Option<bool>,
    #[serde(default)]
    pub can_hide: Option<bool>,
    #[serde(default)]
    pub can_remove: Option<bool>,
    #[serde(default)]
    pub can_reply_privately: Option<bool>,
    #[serde(default)]
    pub comment_count: Option<i64>,
    #[serde(default)]
    pub like_count: Option<i64>,
    #[serde(default)]
    pub permalink_url: Option<String>,
}

/// An Instagram media item.
#[derive(Debug, Clone, Deserialize)]
pub struct IgMedia {
    pub id: String,
    #[serde(default)]
    pub caption: Option<String>,
    #[serde(default)]
    pub media_type: Option<String>,
    #[serde(default)]
    pub media_product_type: Option<String>,
    #[serde(default)]
    pub permalink: Option<String>,
    #[serde(default)]
    pub timestamp: Option<String>,
    #[serde(default)]
    pub comments_count: Option<i64>,
    #[serde(default)]
    pub like_count: Option<i64>,
    #[serde(default)]
    pub media_url: Option<String>,
    #[serde(default)]
    pub thumbnail_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IgAuthor {
    pub id: String,
    #[serde(default)]
    pub username: Option<String>,
}

/// A comment on Instagram media.
#[derive(Debug, Clone, Deserialize)]
pub struct IgComment {
    pub id: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub timestamp: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub from: Option<IgAuthor>,
    #[serde(default)]
    pub hidden: Option<bool>,
    #[serde(default)]
    pub like_count: Option<i64>,
    #[serde(default)]
    pub parent_id: Option<String>,
}

/// A comment that @mentions the account on someone else's media.
#[derive(Debug, Clone, Deserialize)]
pub struct IgMentionedComment {
    pub id: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub timestamp: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub media: Option<IgMedia>,
}

#[derive(Debug, Clone, Deserialize)]
struct MentionedCommentAnswer {
    #[serde(default)]
    mentioned_comment: Option<IgMentionedComment>,
}

/// `{"id": ...}` answers of create calls.
#[derive(Debug, Clone, Deserialize)]
pub struct CreatedId {
    pub id: String,
}

const FB_COMMENT_FIELDS: &str = "id,message,created_time,from,parent{id},is_hidden,can_hide,can_remove,can_reply_privately,comment_count,like_count,permalink_url";
const FB_POST_FIELDS: &str = "id,message,created_time,permalink_url,full_picture";
const IG_MEDIA_FIELDS: &str = "id,caption,media_type,media_product_type,permalink,timestamp,comments_count,like_count,media_url,thumbnail_url";
const IG_COMMENT_FIELDS: &str = "id,text,timestamp,username,from,hidden,like_count,parent_id";

impl GraphClient {
    /// One page of a Page's posts.
    pub async fn page_feed(
        &self,
        page_id: &str,
        token: &AccessToken,
        after: Option<String>,
    ) -> Result<Paged<FbPost>, GraphError> {
        let call = Call::get(format!("{page_id}/feed"), Auth::Token(token))
            .query("fields", FB_POST_FIELDS)
            .query_opt("after", after)
            .budget(page_id);
        self.call(call).await
    }

    /// One Facebook post.
    pub async fn facebook_post(
        &self,
        post_id: &str,
        token: &AccessToken,
        page_id: &str,
    ) -> Result<FbPost, GraphError> {
        let call = Call::get(post_id, Auth::Token(token))
            .query("fields", FB_POST_FIELDS)
            .budget(page_id);
        self.call(call).await
    }

    /// A comment that mentions the account (`mentioned_comment` field expansion; its syntax is
    /// from Meta's docs as remembered by the contract, marked unconfirmed there).
    pub async fn instagram_mentioned_comment(
        &self,
        ig_id: &str,
        comment_id: &str,
        token: &AccessToken,
    ) -> Result<Option<IgMentionedComment>, GraphError> {
        let fields = format!(
            "mentioned_comment.comment_id({comment_id}){{id,text,timestamp,username,like_count,media{{id,media_product_type,permalink,caption,media_url,thumbnail_url,timestamp}}}}"
        );
        let call = Call::get(ig_id, Auth::Token(token))
            .query("fields", fields)
            .budget(ig_id);
        self.call::<MentionedCommentAnswer>(call)
            .await
            .map(|a| a.mentioned_comment)
    }

    /// Replies to a comment that mentions the account, on someone else's media
    /// (`POST /{ig-user-id}/mentions`).
    pub async fn reply_to_instagram_mention(
        &self,
        ig_id: &str,
        media_id: &str,
        comment_id: &str,
        token: &AccessToken,
        message: &str,
    ) -> Result<CreatedId, GraphError> {
        let body = Body::Form(vec![
            ("media_id".into(), media_id.into()),
            ("comment_id".into(), comment_id.into()),
            ("message".into(), message.into()),
        ]);
        let call = Call::post(
            format!("{ig_id}/mentions"),
            Auth::Token(token),
            body,
            Repeat::Once,
        )
        .budget(ig_id);
        self.call(call).await
    }

    /// One Instagram media item.
    pub async fn instagram_media_item(
        &self,
        media_id: &str,
        token: &AccessToken,
        ig_id: &str,
    ) -> Result<IgMedia, GraphError> {
        let call = Call::get(media_id, Auth::Token(token))
            .query("fields", IG_MEDIA_FIELDS)
            .budget(ig_id);
        self.call(call).await
    }

    /// One page of a post's comments (all levels, newest first).
    pub async fn post_comments(
        &self,
        post_id: &str,
        token: &AccessToken,
        page_id: &str,
        after: Option<String>,
    ) -> Result<Paged<FbComment>, GraphError> {
        let call = Call::get(format!("{post_id}/comments"), Auth::Token(token))
            .query("fields", FB_COMMENT_FIELDS)
            .query("filter", "stream")
            .query("order", "reverse_chronological")
            .query_opt("after", after)
            .budget(page_id);
        self.call(call).await
    }

    /// Replies publicly to a Facebook comment.
    pub async fn reply_to_facebook_comment(
        &self,
        comment_id: &str,
        token: &AccessToken,
        page_id: &str,
        message: &str,
    ) -> Result<CreatedId, GraphError> {
        let body = Body::Form(vec![("message".into(), message.into())]);
        let call = Call::post(
            format!("{comment_id}/comments"),
            Auth::Token(token),
            body,
            Repeat::Once,
        )
        .budget(page_id);
        self.call(call).await
    }

    /// Hides or unhides a Facebook comment.
    pub async fn set_facebook_comment_hidden(
        &self,
        comment_id: &str,
        token: &AccessToken,
        page_id: &str,
        hidden: bool,
    ) -> Result<(), GraphError> {
        let body = Body::Form(vec![("is_hidden".into(), hidden.to_string())]);
        let call = Call::post(comment_id, Auth::Token(token), body, Repeat::Safe).budget(page_id);
        self.call::<Success>(call).await.map(|_| ())
    }

    /// The Page likes a Facebook comment (`POST /{comment-id}/likes`; Instagram has no such call).
    pub async fn like_comment(
        &self,
        comment_id: &str,
        token: &AccessToken,
        page_id: &str,
    ) -> Result<(), GraphError> {
        let call = Call::post(
            format!("{comment_id}/likes"),
            Auth::Token(token),
            Body::Empty,
            Repeat::Safe,
        )
        .budget(page_id);
        self.call::<Success>(call).await.map(|_| ())
    }

    /// Deletes a Facebook or Instagram comment.
    pub async fn delete_comment(
        &self,
        comment_id: &str,
        token: &AccessToken,
        owner_id: &str,
    ) -> Result<(), GraphError> {
        let call = Call::delete(comment_id, Auth::Token(token)).budget(owner_id);
        self.call::<Success>(call).await.map(|_| ())
    }

    /// One page of an Instagram account's media.
    pub async fn instagram_media(
        &self,
        ig_id: &str,
        token: &AccessToken,
        after: Option<String>,
    ) -> Result<Paged<IgMedia>, GraphError> {
        let call = Call::get(format!("{ig_id}/media"), Auth::Token(token))
            .query("fields", IG_MEDIA_FIELDS)
            .query_opt("after", after)
            .budget(ig_id);
        self.call(call).await
    }

    /// An Instagram account's live stories (the last 24 hours).
    pub async fn instagram_stories(
        &self,
        ig_id: &str,
        token: &AccessToken,
    ) -> Result<Paged<IgMedia>, GraphError> {
        let call = Call::get(format!("{ig_id}/stories"), Auth::Token(token))
            .query("fields", IG_MEDIA_FIELDS)
            .budget(ig_id);
        self.call(call).await
    }

    /// One page of an Instagram media item's top-level comments.
    pub async fn instagram_comments(
        &self,
        media_id: &str,
        token: &AccessToken,
        ig_id: &str,
        after: Option<String>,
    ) -> Result<Paged<IgComment>, GraphError> {
        let call = Call::get(format!("{media_id}/comments"), Auth::Token(token))
            .query("fields", IG_COMMENT_FIELDS)
            .query_opt("after", after)
            .budget(ig_id);
        self.call(call).await
    }

    /// One page of the replies to an Instagram comment.
    pub async fn instagram_comment_replies(
        &self,
        comment_id: &str,
        token: &AccessToken,
        ig_id: &str,
        after: Option<String>,
    ) -> Result<Paged<IgComment>, GraphError> {
        let call = Call::get(format!("{comment_id}/replies"), Auth::Token(token))
            .query("fields", IG_COMMENT_FIELDS)
            .query_opt("after", after)
            .budget(ig_id);
        self.call(call).await
    }

    /// Replies publicly to an Instagram comment.
    pub async fn reply_to_instagram_comment(
        &self,
        comment_id: &str,
        token: &AccessToken,
        ig_id: &str,
        message: &str,
    ) -> Result<CreatedId, GraphError> {
        let body = Body::Form(vec![("message".into(), message.into())]);
        let call = Call::post(
            format!("{comment_id}/replies"),
            Auth::Token(token),
            body,
            Repeat::Once,
        )
        .budget(ig_id);
        self.call(call).await
    }

    /// Hides or unhides an Instagram comment.
    pub async fn set_instagram_comment_hidden(
        &self,
        comment_id: &str,
        token: &AccessToken,
        ig_id: &str,
        hidden: bool,
    ) -> Result<(), GraphError> {
        let body = Body::Form(vec![("hide".into(), hidden.to_string())]);
        let call = Call::post(comment_id, Auth::Token(token), body, Repeat::Safe).budget(ig_id);
        self.call::<Success>(call).await.map(|_| ())
    }
}
