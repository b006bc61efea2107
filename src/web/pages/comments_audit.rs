//! GET /comments/audit: every moderation action, who or what took it, on which comment, and
//! Meta's answer; a done hide can be undone from here. GET /comments/audit.csv exports the same.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::Authorized;
use crate::auth::roles::CommentRoles;
use crate::db::statuses::{ActionState, ModerationAction};
use crate::error::AppError;
use crate::models::comment_actions::{self, AuditEntry, AuditFilter};
use crate::state::AppState;
use crate::web::layout::Layout;
use crate::web::render;

/// Entries per page.
const PAGE_SIZE: i64 = 100;
/// The most rows one CSV export carries.
const CSV_ROWS: i64 = 50_000;

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    action: Option<String>,
    result: Option<String>,
    by: Option<String>,
    before: Option<i64>,
}

impl AuditQuery {
    fn filter(&self) -> AuditFilter {
        AuditFilter {
            action: self.action.as_deref().and_then(ModerationAction::parse),
            state: self.result.as_deref().and_then(ActionState::parse),
            by_rule: match self.by.as_deref() {
                Some("rules") => Some(true),
                Some("people") => Some(false),
                _ => None,
            },
        }
    }

    /// The filters as a query string (for the tabs, the form and the CSV link).
    fn query_string(&self, action: Option<ModerationAction>) -> String {
        let f = self.filter();
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(a) = action {
            pairs.push(("action", a.as_str().into()));
        }
        if let Some(s) = f.state {
            pairs.push(("result", s.as_str().into()));
        }
        if let Some(by) = self
            .by
            .as_deref()
            .filter(|b| matches!(*b, "rules" | "people"))
        {
            pairs.push(("by", by.into()));
        }
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "comments/audit.html")]
struct AuditPage {
    layout: Layout,
    entries: Vec<AuditEntry>,
    action: Option<ModerationAction>,
    actions: &'static [ModerationAction],
    next_before: Option<i64>,
    filter: AuditFilter,
    /// The result and author filters as a query string, kept by the action tabs.
    rest: String,
    /// Every filter, kept by the CSV link and the next page.
    qs: String,
}

impl AuditPage {
    fn is_action(&self, action: ModerationAction) -> bool {
        self.action == Some(action)
    }

    fn is_result(&self, state: &str) -> bool {
        self.filter.state.map(ActionState::as_str) == Some(state)
    }

    fn is_by(&self, rules: bool) -> bool {
        self.filter.by_rule == Some(rules)
    }

    /// A hide that Meta carried out and that still stands can be undone.
    fn can_undo(&self, e: &AuditEntry) -> bool {
        e.action == ModerationAction::Hide
            && e.state == crate::db::statuses::ActionState::Done
            && e.hidden_now
    }
}

/// GET /comments/audit
pub async fn list(
    state: web::Data<AppState>,
    user: Authorized<CommentRoles>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let (tenant, filter, before) = (user.tenant_id, query.filter(), query.before);
    let entries = crate::db::run(&state.pool, move |conn| {
        Ok(comment_actions::audit(
            conn, tenant, filter, before, PAGE_SIZE,
        )?)
    })
    .await?;
    let next_before = (entries.len() as i64 == PAGE_SIZE)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    render::html(&AuditPage {
        layout: Layout::new(&user, "comments"),
        entries,
        action: filter.action,
        actions: ModerationAction::ALL,
        next_before,
        filter,
        rest: query.query_string(None),
        qs: query.query_string(filter.action),
    })
}

/// GET /comments/audit.csv
pub async fn csv(
    state: web::Data<AppState>,
    user: Authorized<CommentRoles>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let (tenant, filter) = (user.tenant_id, query.filter());
    let entries = crate::db::run(&state.pool, move |conn| {
        Ok(comment_actions::audit(
            conn, tenant, filter, None, CSV_ROWS,
        )?)
    })
    .await?;
    let mut out = String::from("time,who,action,result,reason,comment,author,text\n");
    for e in &entries {
        let row = [
            e.created_at.to_rfc3339(),
            e.who
                .clone()
                .or(e.rule.as_ref().map(|r| format!("rule: {r}")))
                .unwrap_or_default(),
            e.action.as_str().to_string(),
            e.state.as_str().to_string(),
            e.error.clone().unwrap_or_default(),
            e.platform_comment_id.clone(),
            e.author_name.clone().unwrap_or_default(),
            e.text.clone().unwrap_or_default(),
        ];
        let cells: Vec<String> = row.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"moderation-audit.csv\"",
        ))
        .body(out))
}

/// One CSV cell: quoted, quotes doubled, and a leading `= + - @` neutralised so a spreadsheet
/// never runs a customer's comment as a formula.
pub(super) fn csv_cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    format!("\"{}\"", text.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_cell("plain"), "\"plain\"");
        assert_eq!(csv_cell("say \"hi\", ok"), "\"say \"\"hi\"\", ok\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("-1"), "\"'-1\"");
    }
}
