//! What every insights page shares: the channel and range chosen (in the URL), the tenant's time
//! zone, the tabs, and the admins' time-zone setting.

use actix_web::{HttpResponse, web};
use diesel::PgConnection;
use serde::Deserialize;

use crate::auth::Authorized;
use crate::auth::roles::AdminOnly;
use crate::db::ids::{ChannelId, TenantId};
use crate::error::AppError;
use crate::insights::period::{PRESET_DAYS, Period, PeriodQuery};
use crate::models::channels::{self, Channel, Platform};
use crate::models::tenants;
use crate::state::AppState;
use crate::web::render;

/// The query every insights page and CSV takes.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct InsightsQuery {
    pub channel: Option<String>,
    pub range: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// The posts page's sort column and page.
    pub sort: Option<String>,
    pub page: Option<String>,
}

impl InsightsQuery {
    fn period(&self) -> PeriodQuery {
        PeriodQuery {
            range: self.range.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
        }
    }
}

/// The tenant's channels, the one chosen (if it is the tenant's), its time zone and the period.
pub struct Scope {
    pub channels: Vec<Channel>,
    pub channel: Option<ChannelId>,
    pub zone: String,
    pub period: Period,
}

impl Scope {
    /// Reads what the query asks for; the period ends `lag_days` before today in the tenant's
    /// zone (Meta's figures lag, Parley's own do not). `meta_only` keeps the channel choice to
    /// Pages and Instagram accounts.
    pub fn read(
        conn: &mut PgConnection,
        tenant: TenantId,
        query: &InsightsQuery,
        lag_days: i64,
        meta_only: bool,
    ) -> diesel::QueryResult<Scope> {
        let (zone, today) = tenants::zone_and_today(conn, tenant)?;
        let channels: Vec<Channel> = channels::list(conn, tenant)?
            .into_iter()
            .filter(|c| !meta_only || c.platform != Platform::Whatsapp)
            .collect();
        let wanted = query.channel.as_deref().and_then(|c| c.parse::<i64>().ok());
        let channel = wanted
            .filter(|w| channels.iter().any(|c| c.id.0 == *w))
            .map(ChannelId);
        Ok(Scope {
            channels,
            channel,
            zone,
            period: Period::parse(&query.period(), today - chrono::Duration::days(lag_days)),
        })
    }

    /// The filters as a query string (for tabs, links and the CSV).
    pub fn query_string(&self) -> String {
        let mut pairs = vec![(
            "channel",
            self.channel.map(|c| c.to_string()).unwrap_or_default(),
        )];
        pairs.extend(self.period.query_pairs());
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

/// The filter bar and tabs of an insights page (`templates/insights/_filters.html`).
pub struct Filters {
    pub tab: &'static str,
    pub action: &'static str,
    pub csv: Option<&'static str>,
    pub channels: Vec<(i64, String)>,
    pub channel: Option<i64>,
    pub period: Period,
    pub presets: [i64; 3],
    pub qs: String,
    pub zone: String,
    /// The zones an admin may choose (None for everyone else: no setting shown).
    pub zones: Option<Vec<String>>,
    pub note: String,
}

impl Filters {
    /// The filters of `scope` for the page `tab` served at `action`.
    pub fn new(
        tab: &'static str,
        action: &'static str,
        csv: Option<&'static str>,
        scope: &Scope,
        zones: Option<Vec<String>>,
        note: String,
    ) -> Filters {
        let channels = if tab == "messaging" {
            scope
                .channels
                .iter()
                .map(|c| {
                    let name = format!("{} · {}", c.platform.network_label(), c.display_name());
                    (c.id.0, name)
                })
                .collect()
        } else {
            channels::choices(&scope.channels)
        };
        Filters {
            tab,
            action,
            csv,
            channels,
            channel: scope.channel.map(|c| c.0),
            period: scope.period.clone(),
            presets: PRESET_DAYS,
            qs: scope.query_string(),
            zone: scope.zone.clone(),
            zones,
            note,
        }
    }
}

/// The zones to offer when the user may change the setting.
pub fn zones_for(conn: &mut PgConnection, admin: bool) -> diesel::QueryResult<Option<Vec<String>>> {
    if admin {
        tenants::time_zones(conn).map(Some)
    } else {
        Ok(None)
    }
}

#[derive(Debug, Deserialize)]
pub struct TimeZoneForm {
    time_zone: String,
    back: Option<String>,
}

/// POST /insights/time-zone (admins): the tenant's time zone, in which insights cut days.
pub async fn set_time_zone(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
    form: web::Form<TimeZoneForm>,
) -> Result<HttpResponse, AppError> {
    let tenant = user.tenant_id;
    let zone = form.time_zone.trim().to_string();
    let shown = zone.clone();
    let set = crate::db::run(&state.pool, move |conn| {
        Ok(tenants::set_time_zone(conn, tenant, &zone)?)
    })
    .await?;
    let (level, text) = if set {
        (
            crate::auth::session::FlashLevel::Success,
            format!("Insights now cut days in {shown}."),
        )
    } else {
        (
            crate::auth::session::FlashLevel::Error,
            format!(
                "“{shown}” is not a time zone Parley knows; pick one from the list, e.g. Europe/Lisbon."
            ),
        )
    };
    crate::auth::session::flash(&user.session, level, &text);
    // Only back to an insights page of this site.
    let back = form
        .back
        .as_deref()
        .filter(|b| b.starts_with("/insights") && !b.starts_with("//"))
        .unwrap_or("/insights");
    Ok(render::see_other(back))
}
