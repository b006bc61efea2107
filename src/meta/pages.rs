//! Pages and their Instagram accounts: listing, fields, webhook subscriptions, customer profiles.

use serde::Deserialize;

use crate::meta::client::{Auth, Body, Call, GraphClient, Repeat, Success};
use crate::meta::error::GraphError;
use crate::meta::paging::{Paged, collect_all};
use crate::meta::token::AccessToken;

/// Page webhook fields Parley handles (contract §1.5, §1.7).
pub const PAGE_WEBHOOK_FIELDS: &[&str] = &[
    "messages",
    "message_echoes",
    "message_deliveries",
    "message_reads",
    "message_reactions",
    "message_edits",
    "messaging_postbacks",
    "messaging_optins",
    "messaging_referrals",
    "messaging_handovers",
    "feed",
];

/// `picture{data{url}}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Picture {
    #[serde(default)]
    pub data: Option<PictureData>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PictureData {
    #[serde(default)]
    pub url: Option<String>,
}

/// An Instagram professional account linked to a Page.
#[derive(Debug, Clone, Deserialize)]
pub struct InstagramAccountRef {
    pub id: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub profile_picture_url: Option<String>,
}

/// One Page the user manages, from `me/accounts`.
#[derive(Debug, Clone, Deserialize)]
pub struct PageAccount {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// The Page token (never log or render it).
    #[serde(default)]
    pub access_token: Option<AccessToken>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub tasks: Vec<String>,
    #[serde(default)]
    pub picture: Option<Picture>,
    #[serde(default)]
    pub instagram_business_account: Option<InstagramAccountRef>,
}

impl PageAccount {
    pub fn picture_url(&self) -> Option<&str> {
        self.picture.as_ref()?.data.as_ref()?.url.as_deref()
    }
}

/// `GET /{page-id}` fields Parley reads.
#[derive(Debug, Clone, Deserialize)]
pub struct PageInfo {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub picture: Option<Picture>,
    #[serde(default)]
    pub instagram_business_account: Option<InstagramAccountRef>,
}

/// One app subscribed to a Page's webhooks.
#[derive(Debug, Clone, Deserialize)]
pub struct SubscribedApp {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub subscribed_fields: Vec<String>,
}

/// A Messenger customer's profile (fields may be withheld).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MessengerProfile {
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub profile_pic: Option<String>,
}

/// An Instagram customer's profile (fields may be withheld).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct InstagramProfile {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub profile_pic: Option<String>,
}

const ACCOUNT_FIELDS: &str = "id,name,access_token,category,tasks,picture{url},instagram_business_account{id,username,profile_picture_url}";

impl GraphClient {
    /// One page of the Pages the user manages.
    pub async fn me_accounts(
        &self,
        user_token: &AccessToken,
        after: Option<String>,
        limit: u32,
    ) -> Result<Paged<PageAccount>, GraphError> {
        let call = Call::get("me/accounts", Auth::Token(user_token))
            .query("fields", ACCOUNT_FIELDS)
            .query("limit", limit.to_string())
            .query_opt("after", after);
        self.call(call).await
    }

    /// Every Page the user manages (following cursors, at most 50 pages of 100).
    pub async fn all_me_accounts(
        &self,
        user_token: &AccessToken,
    ) -> Result<Vec<PageAccount>, GraphError> {
        collect_all(|after| self.me_accounts(user_token, after, 100), 50).await
    }

    /// A Page's name, picture and linked Instagram account.
    pub async fn page(&self, page_id: &str, token: &AccessToken) -> Result<PageInfo, GraphError> {
        let call = Call::get(page_id, Auth::Token(token))
            .query(
                "fields",
                "id,name,picture{url},instagram_business_account{id,username,profile_picture_url}",
            )
            .budget(page_id);
        self.call(call).await
    }

    /// Subscribes Parley's app to the Page's webhook `fields`.
    pub async fn subscribe_page(
        &self,
        page_id: &str,
        page_token: &AccessToken,
        fields: &[&str],
    ) -> Result<(), GraphError> {
        let body = Body::Form(vec![("subscribed_fields".into(), fields.join(","))]);
        let call = Call::post(
            format!("{page_id}/subscribed_apps"),
            Auth::Token(page_token),
            body,
            Repeat::Safe,
        )
        .budget(page_id);
        self.call::<Success>(call).await.map(|_| ())
    }

    /// Removes Parley's app from the Page's webhooks.
    pub async fn unsubscribe_page(
        &self,
        page_id: &str,
        page_token: &AccessToken,
    ) -> Result<(), GraphError> {
        let call = Call::delete(
            format!("{page_id}/subscribed_apps"),
            Auth::Token(page_token),
        )
        .budget(page_id);
        self.call::<Success>(call).await.map(|_| ())
    }

    /// Apps subscribed to the Page's webhooks.
    pub async fn page_subscriptions(
        &self,
        page_id: &str,
        page_token: &AccessToken,
    ) -> Result<Vec<SubscribedApp>, GraphError> {
        let call = Call::get(
            format!("{page_id}/subscribed_apps"),
            Auth::Token(page_token),
        )
        .budget(page_id);
        self.call::<Paged<SubscribedApp>>(call)
            .await
            .map(|p| p.data)
    }

    /// A Messenger customer's profile, by PSID (Page token).
    pub async fn messenger_profile(
        &self,
        psid: &str,
        page_token: &AccessToken,
        page_id: &str,
    ) -> Result<MessengerProfile, GraphError> {
        let call = Call::get(psid, Auth::Token(page_token))
            .query("fields", "first_name,last_name,profile_pic")
            .budget(page_id);
        self.call(call).await
    }

    /// An Instagram customer's profile, by IGSID (Page token of the linked Page).
    pub async fn instagram_profile(
        &self,
        igsid: &str,
        page_token: &AccessToken,
        ig_id: &str,
    ) -> Result<InstagramProfile, GraphError> {
        let call = Call::get(igsid, Auth::Token(page_token))
            .query("fields", "name,username,profile_pic")
            .budget(ig_id);
        self.call(call).await
    }
}
