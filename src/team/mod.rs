//! Managing a tenant's team: adding people, changing roles, deactivating and reactivating.
//!
//! Plain functions over a connection, so tests call them without HTTP.

pub mod account;

use diesel::PgConnection;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::auth::password;
use crate::auth::roles::Role;
use crate::db::ids::{TenantId, UserId};
use crate::models::users::{self, NewUser, User};

/// What an admin typed into the "Add a teammate" form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct NewMemberInput {
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub password: String,
}

/// A problem with one form field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// Why a team change was refused.
#[derive(Debug, thiserror::Error)]
pub enum TeamError {
    #[error("the form has errors")]
    Invalid(Vec<FieldError>),
    #[error("no such user in this team")]
    NotFound,
    #[error("A team needs at least one active admin; make someone else an admin first.")]
    LastAdmin,
    #[error("You cannot deactivate your own account.")]
    SelfDeactivation,
    #[error(transparent)]
    Hash(#[from] password::HashError),
    #[error(transparent)]
    Db(#[from] DieselError),
}

fn looks_like_email(email: &str) -> bool {
    let mut parts = email.splitn(2, '@');
    match (parts.next(), parts.next()) {
        (Some(local), Some(domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.contains(char::is_whitespace)
        }
        _ => false,
    }
}

/// Checks the form; returns the normalised email and role, or every problem found.
pub fn validate_new_member(input: &NewMemberInput) -> Result<(String, Role), Vec<FieldError>> {
    let mut errors = Vec::new();
    let email = input.email.trim().to_lowercase();
    if input.display_name.trim().is_empty() {
        errors.push(FieldError {
            field: "display_name",
            message: "Enter the person's name.".into(),
        });
    } else if input.display_name.trim().chars().count() > 120 {
        errors.push(FieldError {
            field: "display_name",
            message: "Use at most 120 characters.".into(),
        });
    }
    if !looks_like_email(&email) || email.len() > 254 {
        errors.push(FieldError {
            field: "email",
            message: "Enter an email address like name@example.com.".into(),
        });
    }
    let role = Role::parse(&input.role);
    if role.is_none() {
        errors.push(FieldError {
            field: "role",
            message: "Choose a role.".into(),
        });
    }
    if let Some(why) = password::weakness(&input.password) {
        errors.push(FieldError {
            field: "password",
            message: why,
        });
    }
    match role {
        Some(role) if errors.is_empty() => Ok((email, role)),
        _ => Err(errors),
    }
}

/// Adds a person to the tenant's team (hashing the password here: for the CLI).
pub fn add_member(
    conn: &mut PgConnection,
    tenant: TenantId,
    input: &NewMemberInput,
) -> Result<User, TeamError> {
    validate_new_member(input).map_err(TeamError::Invalid)?;
    let hash = password::hash(&input.password)?;
    add_member_hashed(conn, tenant, input, &hash)
}

/// Adds a person whose password the caller has already hashed (the web handler hashes without
/// holding a connection, within the process's bound on password work).
pub fn add_member_hashed(
    conn: &mut PgConnection,
    tenant: TenantId,
    input: &NewMemberInput,
    hash: &str,
) -> Result<User, TeamError> {
    let (email, role) = validate_new_member(input).map_err(TeamError::Invalid)?;
    let new = NewUser {
        tenant_id: tenant,
        email: &email,
        display_name: input.display_name.trim(),
        password_hash: hash,
        role,
    };
    match users::create(conn, &new) {
        Ok(user) => Ok(user),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Err(TeamError::Invalid(vec![FieldError {
                field: "email",
                message: "Someone already has an account with this email.".into(),
            }]))
        }
        Err(e) => Err(e.into()),
    }
}

/// Changes a teammate's role, keeping at least one active admin.
pub fn change_role(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: UserId,
    role: Role,
) -> Result<User, TeamError> {
    conn.build_transaction().serializable().run(|conn| {
        let user = users::get(conn, tenant, id)?.ok_or(TeamError::NotFound)?;
        if user.role == Role::Admin
            && role != Role::Admin
            && user.active
            && users::count_active_admins(conn, tenant)? <= 1
        {
            return Err(TeamError::LastAdmin);
        }
        users::set_role(conn, tenant, id, role)?;
        Ok(User { role, ..user })
    })
}

/// Deactivates a teammate: they are signed out on their next request and cannot sign in.
pub fn deactivate(
    conn: &mut PgConnection,
    tenant: TenantId,
    acting: UserId,
    id: UserId,
) -> Result<User, TeamError> {
    if acting == id {
        return Err(TeamError::SelfDeactivation);
    }
    conn.build_transaction().serializable().run(|conn| {
        let user = users::get(conn, tenant, id)?.ok_or(TeamError::NotFound)?;
        if user.role == Role::Admin && user.active && users::count_active_admins(conn, tenant)? <= 1
        {
            return Err(TeamError::LastAdmin);
        }
        users::set_active(conn, tenant, id, false)?;
        // Their open pages and streams end now, not on their next request.
        crate::models::sessions::end_all_for_user(conn, tenant, id, None, "deactivated")?;
        crate::inbox::live::notify_sessions_ended(conn, tenant, id)?;
        Ok(User {
            active: false,
            ..user
        })
    })
}

/// Lets a deactivated teammate sign in again.
pub fn reactivate(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: UserId,
) -> Result<User, TeamError> {
    let user = users::get(conn, tenant, id)?.ok_or(TeamError::NotFound)?;
    users::set_active(conn, tenant, id, true)?;
    Ok(User {
        active: true,
        ..user
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, email: &str, role: &str, pw: &str) -> NewMemberInput {
        NewMemberInput {
            display_name: name.into(),
            email: email.into(),
            role: role.into(),
            password: pw.into(),
        }
    }

    #[test]
    fn a_valid_form_is_normalised() {
        let (email, role) = validate_new_member(&input(
            "Ann",
            " Ann@Example.COM ",
            "agent",
            "long enough pw",
        ))
        .unwrap();
        assert_eq!(email, "ann@example.com");
        assert_eq!(role, Role::Agent);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let errors = validate_new_member(&input("", "nope", "owner", "short")).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["display_name", "email", "role", "password"]);
    }
}
