//! The template editor: new and edit forms, the save, and the live preview with the lint that
//! htmx refreshes as one types (after a save, the template's page shows both without
//! JavaScript).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::auth::Authorized;
use crate::auth::CurrentUser;
use crate::auth::roles::TemplateRoles;
use crate::auth::session::{self, FlashLevel};
use crate::error::AppError;
use crate::message_templates::at_meta;
use crate::message_templates::content::{ButtonKind, Category, HeaderKind};
use crate::message_templates::form::TemplateFields;
use crate::message_templates::lint::Finding;
use crate::message_templates::workflow::{self, TemplateError};
use crate::models::channels::Channel;
use crate::models::message_templates as library;
use crate::state::AppState;
use crate::web::layout::Layout;
use crate::web::render;

#[derive(Template)]
#[template(path = "message_templates/form.html")]
struct FormPage {
    layout: Layout,
    /// None for a new template.
    id: Option<i64>,
    f: TemplateFields,
    findings: Vec<Finding>,
    accounts: Vec<Channel>,
    categories: [Category; 3],
    header_kinds: [HeaderKind; 6],
    button_kinds: [ButtonKind; 5],
    error: Option<String>,
    /// Editing a template Meta has: saving submits the change to Meta.
    at_meta: Option<at_meta::EditAllowance>,
}

impl FormPage {
    /// The findings of one field (by its anchor).
    fn on(&self, anchor: &str) -> Vec<&Finding> {
        self.findings
            .iter()
            .filter(|x| x.field.anchor() == anchor)
            .collect()
    }

    fn on_example(&self, param: &str) -> Vec<&Finding> {
        self.on(&format!("example_{param}"))
    }

    fn on_button(&self, i: usize) -> Vec<&Finding> {
        self.on(&format!("button_{i}_text"))
    }
}

/// The preview bubble and the lint, swapped in by htmx.
#[derive(Template)]
#[template(path = "message_templates/_preview.html")]
struct Preview {
    f: TemplateFields,
    findings: Vec<Finding>,
}

async fn form_page(
    state: &AppState,
    user: &CurrentUser,
    id: Option<i64>,
    f: TemplateFields,
    error: Option<String>,
    findings: Vec<Finding>,
) -> Result<HttpResponse, AppError> {
    let tenant = user.tenant_id;
    let (accounts, allowance) = crate::db::run(&state.pool, move |conn| {
        let allowance = match id {
            Some(id) => match library::get(conn, tenant, id)? {
                Some(t) if !t.status().is_local() => Some(at_meta::allowance(conn, tenant, &t)?),
                _ => None,
            },
            None => None,
        };
        Ok((workflow::accounts(conn, tenant)?, allowance))
    })
    .await?;
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render::html_with_status(
        status,
        &FormPage {
            layout: Layout::new(user, "templates"),
            id,
            f,
            findings,
            accounts,
            categories: Category::ALL,
            header_kinds: HeaderKind::ALL,
            button_kinds: ButtonKind::ALL,
            error,
            at_meta: allowance,
        },
    )
}

/// GET /message-templates/new
pub async fn new(
    state: web::Data<AppState>,
    user: Authorized<TemplateRoles>,
) -> Result<HttpResponse, AppError> {
    let f = TemplateFields {
        language: "en_US".into(),
        category: Category::Utility.meta().into(),
        parameter_format: "positional".into(),
        ..TemplateFields::default()
    };
    form_page(&state, &user, None, f, None, Vec::new()).await
}

/// GET /message-templates/{id}/edit
pub async fn edit(
    state: web::Data<AppState>,
    user: Authorized<TemplateRoles>,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (tenant, id) = (user.tenant_id, path.into_inner());
    let found = crate::db::run(&state.pool, move |conn| {
        let Some(t) = library::get(conn, tenant, id)? else {
            return Ok(None);
        };
        let findings = workflow::findings(conn, tenant, &t)?;
        Ok(Some((t, findings)))
    })
    .await?;
    let Some((t, findings)) = found else {
        return Err(AppError::NotFound);
    };
    form_page(
        &state,
        &user,
        Some(id),
        TemplateFields::of(&t),
        None,
        findings,
    )
    .await
}

async fn save(
    state: &AppState,
    user: &CurrentUser,
    id: Option<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let f = TemplateFields::parse(&body);
    let (tenant, me, fields) = (user.tenant_id, user.id, f.clone());
    let admin = user.can::<crate::auth::roles::AdminOnly>();
    let saved = crate::db::run(&state.pool, move |conn| {
        // A template Meta has is changed at Meta (admins), within its limits.
        let at_meta = match id {
            Some(id) => library::get(conn, tenant, id)?.is_some_and(|t| !t.status().is_local()),
            None => false,
        };
        Ok(match (id, at_meta) {
            (Some(id), true) if admin => {
                at_meta::submit_edit(conn, tenant, me, id, &fields).map(|()| id)
            }
            (Some(_), true) => Err(TemplateError::Refused(
                "Only admins submit changes to a template Meta has.".into(),
            )),
            _ => workflow::save(conn, tenant, me, id, &fields),
        })
    })
    .await?;
    match saved {
        Ok(saved) => {
            session::flash(&user.session, FlashLevel::Success, "Template saved.");
            Ok(render::see_other(&format!("/message-templates/{saved}")))
        }
        Err(TemplateError::Invalid(findings)) => {
            let why = "The template was not saved: see the fields marked below.".to_string();
            form_page(state, user, id, f, Some(why), findings).await
        }
        Err(TemplateError::Refused(why)) => {
            let findings = f.lint(None);
            form_page(state, user, id, f, Some(why), findings).await
        }
        Err(TemplateError::NotFound) => Err(AppError::NotFound),
        Err(TemplateError::Database(e)) => Err(AppError::Db(e.into())),
    }
}

/// POST /message-templates
pub async fn create(
    state: web::Data<AppState>,
    user: Authorized<TemplateRoles>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    save(&state, &user, None, body).await
}

/// POST /message-templates/{id}
pub async fn update(
    state: web::Data<AppState>,
    user: Authorized<TemplateRoles>,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    save(&state, &user, Some(path.into_inner()), body).await
}

/// POST /message-templates/preview (htmx): the bubble and the lint for what is typed.
pub async fn preview(
    state: web::Data<AppState>,
    user: Authorized<TemplateRoles>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let f = TemplateFields::parse(&body);
    let (tenant, waba, name, language) = (
        user.tenant_id,
        f.waba_id.clone(),
        f.name.clone(),
        f.language.clone(),
    );
    let editing = f.editing;
    let taken = crate::db::run(&state.pool, move |conn| {
        Ok(library::name_taken(
            conn, tenant, &waba, &name, &language, editing,
        )?)
    })
    .await?;
    let findings = f.lint(taken);
    render::html(&Preview { f, findings })
}
