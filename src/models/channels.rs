//! Channels: connected Pages, Instagram accounts and WhatsApp numbers.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::ids::{ChannelId, TenantId, UserId};
use crate::db::schema::channels;

pub use crate::models::channel_kinds::{Login, Platform};

/// A channel row (the token only as ciphertext).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = channels)]
pub struct Channel {
    pub id: ChannelId,
    pub tenant_id: TenantId,
    pub platform: Platform,
    pub platform_id: String,
    pub name: String,
    pub username: Option<String>,
    pub picture_url: Option<String>,
    pub page_id: Option<String>,
    pub waba_id: Option<String>,
    pub display_phone_number: Option<String>,
    pub token_ciphertext: Option<Vec<u8>>,
    pub token_key_id: Option<String>,
    pub status: String,
    pub needs_reconnect: bool,
    /// `text[]`: PostgreSQL types array elements as nullable, though Parley never stores a NULL.
    pub subscribed_fields: Vec<Option<String>>,
    pub connected_by: Option<UserId>,
    pub connected_at: DateTime<Utc>,
    pub last_verified_at: Option<DateTime<Utc>>,
    pub disconnected_at: Option<DateTime<Utc>>,
    pub disconnected_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub login: Login,
    /// When the stored token stops working (Instagram Login tokens; Page tokens never expire).
    pub token_expires_at: Option<DateTime<Utc>>,
    /// When the stored token was issued or last refreshed.
    pub token_refreshed_at: Option<DateTime<Utc>>,
}

impl Channel {
    pub fn is_connected(&self) -> bool {
        self.status == "connected"
    }

    /// The name people know it by: @username for Instagram, the number for WhatsApp.
    pub fn display_name(&self) -> String {
        match (self.platform, &self.username, &self.display_phone_number) {
            (Platform::Instagram, Some(u), _) => format!("@{u}"),
            (Platform::Whatsapp, _, Some(n)) => format!("{} ({n})", self.name),
            _ => self.name.clone(),
        }
    }
}

/// A channel to connect (or reconnect in place).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = channels)]
pub struct NewChannel {
    pub tenant_id: TenantId,
    pub platform: Platform,
    pub platform_id: String,
    pub name: String,
    pub username: Option<String>,
    pub picture_url: Option<String>,
    pub page_id: Option<String>,
    pub waba_id: Option<String>,
    pub display_phone_number: Option<String>,
    pub token_ciphertext: Option<Vec<u8>>,
    pub token_key_id: Option<String>,
    pub subscribed_fields: Vec<String>,
    pub connected_by: Option<UserId>,
}

/// Inserts the channel, or updates the tenant's existing row for the same asset in place
/// (reconnecting never duplicates). Fails with a unique violation on `channels_connected_key`
/// when another tenant has this asset connected.
pub fn upsert_connected(conn: &mut PgConnection, new: &NewChannel) -> QueryResult<Channel> {
    use channels::dsl as c;
    // Connecting just used the token successfully: that counts as a check.
    diesel::insert_into(channels::table)
        .values((new, c::last_verified_at.eq(diesel::dsl::now)))
        .on_conflict((c::tenant_id, c::platform, c::platform_id))
        .do_update()
        .set((
            c::name.eq(&new.name),
            c::username.eq(&new.username),
            c::picture_url.eq(&new.picture_url),
            c::page_id.eq(&new.page_id),
            c::waba_id.eq(&new.waba_id),
            c::display_phone_number.eq(&new.display_phone_number),
            c::token_ciphertext.eq(&new.token_ciphertext),
            c::token_key_id.eq(&new.token_key_id),
            c::subscribed_fields.eq(&new.subscribed_fields),
            c::connected_by.eq(new.connected_by),
            c::status.eq("connected"),
            c::needs_reconnect.eq(false),
            c::connected_at.eq(diesel::dsl::now),
            c::last_verified_at.eq(diesel::dsl::now),
            c::disconnected_at.eq(None::<DateTime<Utc>>),
            c::disconnected_reason.eq(None::<String>),
            c::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Channel::as_returning())
        .get_result(conn)
}

/// A tenant's channels, connected first.
pub fn list(conn: &mut PgConnection, tenant: TenantId) -> QueryResult<Vec<Channel>> {
    channels::table
        .filter(channels::tenant_id.eq(tenant))
        .order((
            channels::status.asc(),
            channels::platform.asc(),
            channels::name.asc(),
        ))
        .select(Channel::as_select())
        .load(conn)
}

/// The tenant's Facebook Pages and Instagram accounts as (id, "Network · name"), for the
/// comment and insights pages' channel choices.
pub fn comment_channel_choices(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> QueryResult<Vec<(i64, String)>> {
    Ok(choices(&list(conn, tenant)?))
}

/// The Facebook Pages and Instagram accounts among `channels` as (id, "Network · name").
pub fn choices(channels: &[Channel]) -> Vec<(i64, String)> {
    channels
        .iter()
        .filter(|c| c.platform != Platform::Whatsapp)
        .map(|c| {
            (
                c.id.0,
                format!("{} · {}", c.platform.network_label(), c.display_name()),
            )
        })
        .collect()
}

/// Every connected Facebook Page and Instagram account, of every tenant (for the periodic
/// comment re-sync and insights refresh).
pub fn facebook_and_instagram(conn: &mut PgConnection) -> QueryResult<Vec<Channel>> {
    channels::table
        .filter(channels::status.eq("connected"))
        .filter(channels::platform.eq_any([Platform::Messenger, Platform::Instagram]))
        .order(channels::id)
        .select(Channel::as_select())
        .load(conn)
}

/// One channel of a tenant.
pub fn get(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: ChannelId,
) -> QueryResult<Option<Channel>> {
    channels::table
        .filter(channels::tenant_id.eq(tenant))
        .filter(channels::id.eq(id))
        .select(Channel::as_select())
        .first(conn)
        .optional()
}

/// The connected channel for a Meta asset, whatever its tenant: how webhooks are routed.
pub fn route(
    conn: &mut PgConnection,
    platform: Platform,
    platform_id: &str,
) -> QueryResult<Option<Channel>> {
    channels::table
        .filter(channels::platform.eq(platform))
        .filter(channels::platform_id.eq(platform_id))
        .filter(channels::status.eq("connected"))
        .select(Channel::as_select())
        .first(conn)
        .optional()
}

/// Whether a connected channel other than `except`, of *any* tenant, relies on the same app
/// subscription: the Page's (which carries Messenger and the linked Instagram account) or the
/// WhatsApp Business Account's (which serves all its numbers). Across tenants on purpose: Meta
/// subscribes the app once per Page or WABA, whichever tenants use it.
pub fn subscription_still_needed(
    conn: &mut PgConnection,
    except: ChannelId,
    platform: Platform,
    page_id: Option<&str>,
    waba_id: Option<&str>,
) -> QueryResult<bool> {
    let others = channels::table
        .filter(channels::id.ne(except))
        .filter(channels::status.eq("connected"))
        .into_boxed();
    let others = match (platform, page_id, waba_id) {
        (Platform::Whatsapp, _, Some(waba)) => others
            .filter(channels::platform.eq(Platform::Whatsapp))
            .filter(channels::waba_id.eq(waba)),
        (Platform::Whatsapp, _, None) => return Ok(false),
        (_, Some(page), _) => others
            .filter(channels::platform.ne(Platform::Whatsapp))
            .filter(channels::page_id.eq(page)),
        (_, None, _) => return Ok(false),
    };
    diesel::select(diesel::dsl::exists(others.select(channels::id))).get_result(conn)
}

/// Every tenant with a connected WhatsApp number.
pub fn tenants_with_whatsapp(conn: &mut PgConnection) -> QueryResult<Vec<TenantId>> {
    channels::table
        .filter(channels::platform.eq(Platform::Whatsapp))
        .filter(channels::status.eq("connected"))
        .select(channels::tenant_id)
        .distinct()
        .load(conn)
}

/// The tenants with a connected WhatsApp number on this WABA: account-level events (template
/// reviews) concern each of them.
pub fn tenants_of_waba(conn: &mut PgConnection, waba_id: &str) -> QueryResult<Vec<TenantId>> {
    channels::table
        .filter(channels::platform.eq(Platform::Whatsapp))
        .filter(channels::waba_id.eq(waba_id))
        .filter(channels::status.eq("connected"))
        .select(channels::tenant_id)
        .distinct()
        .order(channels::tenant_id.asc())
        .load(conn)
}

/// A connected WhatsApp channel of this WABA (account-level webhooks name the WABA).
pub fn route_by_waba(conn: &mut PgConnection, waba_id: &str) -> QueryResult<Option<Channel>> {
    channels::table
        .filter(channels::platform.eq(Platform::Whatsapp))
        .filter(channels::waba_id.eq(waba_id))
        .filter(channels::status.eq("connected"))
        .order(channels::id.asc())
        .select(Channel::as_select())
        .first(conn)
        .optional()
}

/// The tenant's channels for these assets (to show which are already connected).
pub fn find_for_assets(
    conn: &mut PgConnection,
    tenant: TenantId,
    platform_ids: &[String],
) -> QueryResult<Vec<Channel>> {
    channels::table
        .filter(channels::tenant_id.eq(tenant))
        .filter(channels::platform_id.eq_any(platform_ids))
        .select(Channel::as_select())
        .load(conn)
}

/// Every connected channel of every tenant (the token health sweep).
pub fn all_connected(conn: &mut PgConnection) -> QueryResult<Vec<Channel>> {
    channels::table
        .filter(channels::status.eq("connected"))
        .order(channels::id.asc())
        .select(Channel::as_select())
        .load(conn)
}

/// Every channel holding a token (key rotation).
pub fn all_with_tokens(conn: &mut PgConnection) -> QueryResult<Vec<Channel>> {
    channels::table
        .filter(channels::token_ciphertext.is_not_null())
        .order(channels::id.asc())
        .select(Channel::as_select())
        .load(conn)
}

/// Marks a channel disconnected and wipes its token.
pub fn disconnect(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: ChannelId,
    reason: &str,
    needs_reconnect: bool,
) -> QueryResult<bool> {
    diesel::update(
        channels::table
            .filter(channels::tenant_id.eq(tenant))
            .filter(channels::id.eq(id)),
    )
    .set((
        channels::status.eq("disconnected"),
        channels::needs_reconnect.eq(needs_reconnect),
        channels::token_ciphertext.eq(None::<Vec<u8>>),
        channels::token_key_id.eq(None::<String>),
        channels::disconnected_at.eq(diesel::dsl::now),
        channels::disconnected_reason.eq(reason),
        channels::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Records a successful token check.
pub fn mark_verified(conn: &mut PgConnection, tenant: TenantId, id: ChannelId) -> QueryResult<()> {
    diesel::update(
        channels::table
            .filter(channels::tenant_id.eq(tenant))
            .filter(channels::id.eq(id)),
    )
    .set(channels::last_verified_at.eq(diesel::dsl::now))
    .execute(conn)
    .map(|_| ())
}

/// Replaces a token's ciphertext (key rotation); only if it is still the one that was read.
pub fn replace_token(
    conn: &mut PgConnection,
    id: ChannelId,
    expected_key_id: &str,
    ciphertext: &[u8],
    key_id: &str,
) -> QueryResult<bool> {
    diesel::update(
        channels::table
            .filter(channels::id.eq(id))
            .filter(channels::token_key_id.eq(expected_key_id)),
    )
    .set((
        channels::token_ciphertext.eq(ciphertext),
        channels::token_key_id.eq(key_id),
        channels::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Channels of a tenant that lost their connection and wait for an admin.
pub fn needing_reconnect(conn: &mut PgConnection, tenant: TenantId) -> QueryResult<Vec<Channel>> {
    channels::table
        .filter(channels::tenant_id.eq(tenant))
        .filter(channels::status.eq("disconnected"))
        .filter(channels::needs_reconnect.eq(true))
        .select(Channel::as_select())
        .load(conn)
}
