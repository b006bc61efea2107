//! What kind of channel a row is: the Meta product (`Platform`) and how Parley reaches the
//! account (`Login`), both stored as text.

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

/// Which Meta product a channel is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    AsExpression,
    FromSqlRow,
    serde::Serialize,
    serde::Deserialize,
)]
#[diesel(sql_type = Text)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Messenger,
    Instagram,
    Whatsapp,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Messenger => "messenger",
            Platform::Instagram => "instagram",
            Platform::Whatsapp => "whatsapp",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Platform::Messenger => "Messenger",
            Platform::Instagram => "Instagram",
            Platform::Whatsapp => "WhatsApp",
        }
    }

    /// The network whose posts carry the channel's comments: Facebook for a Page (whose
    /// messaging platform is Messenger), Instagram, WhatsApp.
    pub fn network_label(self) -> &'static str {
        match self {
            Platform::Messenger => "Facebook",
            Platform::Instagram => "Instagram",
            Platform::Whatsapp => "WhatsApp",
        }
    }

    pub fn parse(s: &str) -> Option<Platform> {
        [Platform::Messenger, Platform::Instagram, Platform::Whatsapp]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

impl ToSql<Text, Pg> for Platform {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <str as ToSql<Text, Pg>>::to_sql(self.as_str(), &mut out.reborrow())
    }
}

impl FromSql<Text, Pg> for Platform {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        let s = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
        Platform::parse(&s).ok_or_else(|| format!("unknown platform {s:?}").into())
    }
}

/// How Parley reaches a channel's account: through a Facebook Page (and Facebook Login, on
/// `graph.facebook.com`), or, for an Instagram account without a Page, through Instagram Login
/// (on `graph.instagram.com`, with a 60-day token Parley refreshes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow, serde::Serialize)]
#[diesel(sql_type = Text)]
pub enum Login {
    Facebook,
    Instagram,
}

impl Login {
    pub fn as_str(self) -> &'static str {
        match self {
            Login::Facebook => "facebook",
            Login::Instagram => "instagram",
        }
    }

    /// How an admin would name the path.
    pub fn label(self) -> &'static str {
        match self {
            Login::Facebook => "through a Facebook Page",
            Login::Instagram => "through Instagram Login",
        }
    }
}

impl ToSql<Text, Pg> for Login {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <str as ToSql<Text, Pg>>::to_sql(self.as_str(), &mut out.reborrow())
    }
}

impl FromSql<Text, Pg> for Login {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        match <String as FromSql<Text, Pg>>::from_sql(bytes)?.as_str() {
            "facebook" => Ok(Login::Facebook),
            "instagram" => Ok(Login::Instagram),
            other => Err(format!("unknown channel login {other:?}").into()),
        }
    }
}
