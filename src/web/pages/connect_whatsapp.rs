//! Connecting a WhatsApp number with a pasted system-user token (validated with Meta first).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::Authorized;
use crate::auth::roles::AdminOnly;
use crate::auth::session::{self, FlashLevel};
use crate::channels::whatsapp::{self, ManualConnectInput, ManualError};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::layout::Layout;
use crate::web::pages::connect::channel_error;
use crate::web::render;

#[derive(Template)]
#[template(path = "channels/whatsapp_manual.html")]
struct ManualPage {
    layout: Layout,
    waba_id: String,
    phone_number_id: String,
    errors: Vec<ManualError>,
    token_was_entered: bool,
}

impl ManualPage {
    fn error_for(&self, field: &str) -> Vec<&str> {
        self.errors
            .iter()
            .filter(|e| e.field == field)
            .map(|e| e.message.as_str())
            .collect()
    }
}

#[derive(Deserialize)]
pub struct ManualQuery {
    waba_id: Option<String>,
    phone_number_id: Option<String>,
}

/// GET /channels/whatsapp/manual
pub async fn manual_form(
    user: Authorized<AdminOnly>,
    query: web::Query<ManualQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner();
    render::html(&ManualPage {
        layout: Layout::new(&user, "channels"),
        waba_id: q.waba_id.unwrap_or_default(),
        phone_number_id: q.phone_number_id.unwrap_or_default(),
        errors: Vec::new(),
        token_was_entered: false,
    })
}

/// POST /channels/whatsapp/manual
pub async fn manual_submit(
    state: web::Data<AppState>,
    user: Authorized<AdminOnly>,
    form: web::Form<ManualConnectInput>,
) -> Result<HttpResponse, AppError> {
    let input = form.into_inner();
    match whatsapp::connect_manually(&state, user.tenant_id, user.id, &input)
        .await
        .map_err(channel_error)?
    {
        Ok(channel) => {
            session::flash(
                &user.session,
                FlashLevel::Success,
                format!("Connected: WhatsApp {}.", channel.display_name()),
            );
            Ok(render::see_other("/channels"))
        }
        Err(errors) => render::html_with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ManualPage {
                layout: Layout::new(&user, "channels"),
                waba_id: input.waba_id,
                phone_number_id: input.phone_number_id,
                errors,
                // The token is never rendered back, even into its own field.
                token_was_entered: !input.token.is_empty(),
            },
        ),
    }
}
