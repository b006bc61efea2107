//! Contacts: customers as one channel knows them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::ids::{ChannelId, ContactId, ConversationId, TenantId};
use crate::db::schema::contacts;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = contacts)]
pub struct Contact {
    pub id: i64,
    pub tenant_id: TenantId,
    pub channel_id: ChannelId,
    pub platform_user_id: String,
    pub name: Option<String>,
    pub username: Option<String>,
    pub picture_url: Option<String>,
    pub profile_fetched_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// One contact of a tenant.
pub fn get(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: ContactId,
) -> QueryResult<Option<Contact>> {
    contacts::table
        .filter(contacts::tenant_id.eq(tenant))
        .filter(contacts::id.eq(id))
        .select(Contact::as_select())
        .first(conn)
        .optional()
}

/// Up to `limit` contacts of `tenant` whose profile is still to be fetched, oldest first.
pub fn due_for_profile(
    conn: &mut PgConnection,
    tenant: TenantId,
    limit: i64,
) -> QueryResult<Vec<ContactId>> {
    contacts::table
        .filter(contacts::tenant_id.eq(tenant))
        .filter(contacts::profile_fetched_at.is_null())
        .order(contacts::id.asc())
        .select(contacts::id)
        .limit(limit)
        .load(conn)
}

/// The tenants with contacts still waiting for their profile (the periodic safety net).
pub fn tenants_with_due_profiles(conn: &mut PgConnection) -> QueryResult<Vec<TenantId>> {
    contacts::table
        .filter(contacts::profile_fetched_at.is_null())
        .select(contacts::tenant_id)
        .distinct()
        .load(conn)
}

/// Records (or, with `None`, forgets) Parley's copy of a contact's picture.
pub fn set_picture_file(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: ContactId,
    stored: Option<(&str, &str)>,
) -> QueryResult<()> {
    diesel::update(
        contacts::table
            .filter(contacts::tenant_id.eq(tenant))
            .filter(contacts::id.eq(id)),
    )
    .set((
        contacts::picture_file.eq(stored.map(|(file, _)| file)),
        contacts::picture_content_type.eq(stored.map(|(_, ct)| ct)),
    ))
    .execute(conn)
    .map(|_| ())
}

/// The file and content type of Parley's copy of a contact's picture.
pub fn picture_file(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: ContactId,
) -> QueryResult<Option<(String, String)>> {
    let row: Option<(Option<String>, Option<String>)> = contacts::table
        .filter(contacts::tenant_id.eq(tenant))
        .filter(contacts::id.eq(id))
        .select((contacts::picture_file, contacts::picture_content_type))
        .first(conn)
        .optional()?;
    Ok(match row {
        Some((Some(file), Some(ct))) => Some((file, ct)),
        _ => None,
    })
}

/// Records what Meta told us of a contact (keeping a known name when Meta withholds it).
pub fn set_profile(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: ContactId,
    name: Option<&str>,
    username: Option<&str>,
    picture_url: Option<&str>,
) -> QueryResult<()> {
    diesel::update(
        contacts::table
            .filter(contacts::tenant_id.eq(tenant))
            .filter(contacts::id.eq(id)),
    )
    .set((
        contacts::name.eq(
            diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Text>>("COALESCE(")
                .bind::<diesel::sql_types::Nullable<diesel::sql_types::Text>, _>(name)
                .sql(", name)"),
        ),
        contacts::username.eq(username),
        contacts::picture_url.eq(picture_url),
        contacts::profile_fetched_at.eq(diesel::dsl::now),
    ))
    .execute(conn)
    .map(|_| ())
}

/// A customer's contact and conversation on a channel.
#[derive(Debug, QueryableByName)]
pub struct Thread {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub contact_id: ContactId,
    /// The contact was created by this call.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub new_contact: bool,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub name: Option<String>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub conversation_id: ConversationId,
}

/// The contact and conversation for a customer, created on first sight (a name Meta sent
/// fills a missing one), in one statement.
/// Raw SQL: two dependent upserts in one round trip, and `xmax = 0` to tell an insert from an
/// update, neither of which diesel's builder can say.
pub fn open_thread(
    conn: &mut PgConnection,
    tenant: TenantId,
    channel: ChannelId,
    customer: &str,
    name: Option<&str>,
) -> QueryResult<Thread> {
    use diesel::sql_types::{BigInt, Nullable, Text};
    diesel::sql_query(
        "WITH c AS (
           INSERT INTO contacts (tenant_id, channel_id, platform_user_id, name, profile_fetched_at)
           VALUES ($1, $2, $3, $4, CASE WHEN $4::text IS NOT NULL THEN now() END)
           ON CONFLICT (channel_id, platform_user_id) DO UPDATE SET name = COALESCE(EXCLUDED.name, contacts.name)
           RETURNING id, (xmax = 0) AS inserted, name),
         v AS (
           INSERT INTO conversations (tenant_id, channel_id, contact_id) SELECT $1, $2, id FROM c
           ON CONFLICT (channel_id, contact_id) DO UPDATE SET updated_at = conversations.updated_at
           RETURNING id)
         SELECT c.id AS contact_id, c.inserted AS new_contact, c.name, v.id AS conversation_id FROM c, v",
    )
    .bind::<BigInt, _>(tenant.0)
    .bind::<BigInt, _>(channel.0)
    .bind::<Text, _>(customer)
    .bind::<Nullable<Text>, _>(name)
    .get_result(conn)
}
