//! Roles and the per-route policies that name which roles may use a route.

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

/// What a user may do within their tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub enum Role {
    /// Everything, including the team and channels.
    Admin,
    /// The inbox.
    Agent,
    /// Comment moderation.
    Moderator,
    /// Insights, read-only.
    Analyst,
}

impl Role {
    /// Every role, in the order they are offered in forms.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Agent, Role::Moderator, Role::Analyst];

    /// The stored and submitted name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Agent => "agent",
            Role::Moderator => "moderator",
            Role::Analyst => "analyst",
        }
    }

    /// The name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Agent => "Agent",
            Role::Moderator => "Moderator",
            Role::Analyst => "Analyst",
        }
    }

    /// One line on what the role allows, shown beside the role picker.
    pub fn description(self) -> &'static str {
        match self {
            Role::Admin => "Everything, including team, channels and templates",
            Role::Agent => "Reads and answers conversations in the inbox",
            Role::Moderator => "Hides, deletes and answers comments",
            Role::Analyst => "Views insights, read-only",
        }
    }

    /// Parses a stored or submitted role name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ToSql<Text, Pg> for Role {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <str as ToSql<Text, Pg>>::to_sql(self.as_str(), &mut out.reborrow())
    }
}

impl FromSql<Text, Pg> for Role {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        let s = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
        Role::parse(&s).ok_or_else(|| format!("unknown role {s:?}").into())
    }
}

/// Names the roles allowed on a route; used as `Authorized<P>` in handler signatures so that no
/// handler can reach a signed-in user without declaring who may call it.
pub trait Policy {
    /// Roles that may use the route.
    const ALLOWED: &'static [Role];
}

/// Any signed-in user.
pub struct AnyRole;
impl Policy for AnyRole {
    const ALLOWED: &'static [Role] = &Role::ALL;
}

/// Tenant administration: team, channels, jobs, webhook log, approving message templates.
pub struct AdminOnly;
impl Policy for AdminOnly {
    const ALLOWED: &'static [Role] = &[Role::Admin];
}

/// The shared inbox.
pub struct InboxRoles;
impl Policy for InboxRoles {
    const ALLOWED: &'static [Role] = &[Role::Admin, Role::Agent];
}

/// Message templates: agents and admins write them (only admins approve and submit).
pub struct TemplateRoles;
impl Policy for TemplateRoles {
    const ALLOWED: &'static [Role] = &[Role::Admin, Role::Agent];
}

/// Comment moderation.
pub struct CommentRoles;
impl Policy for CommentRoles {
    const ALLOWED: &'static [Role] = &[Role::Admin, Role::Moderator];
}

/// Insights (read-only).
pub struct InsightRoles;
impl Policy for InsightRoles {
    const ALLOWED: &'static [Role] = &[Role::Admin, Role::Analyst];
}

/// Whether `role` may use routes guarded by `P`.
pub fn allows<P: Policy>(role: Role) -> bool {
    P::ALLOWED.contains(&role)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("owner"), None);
    }

    #[test]
    fn policies_admit_only_their_roles() {
        assert!(allows::<AdminOnly>(Role::Admin));
        assert!(!allows::<AdminOnly>(Role::Agent));
        assert!(allows::<InboxRoles>(Role::Agent));
        assert!(!allows::<InboxRoles>(Role::Analyst));
        assert!(allows::<CommentRoles>(Role::Moderator));
        assert!(allows::<InsightRoles>(Role::Analyst));
        assert!(!allows::<InsightRoles>(Role::Moderator));
    }
}
