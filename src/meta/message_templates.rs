//! WhatsApp message templates: list, create, delete, status.

use serde::{Deserialize, Serialize};

use crate::meta::client::{Auth, Body, Call, GraphClient, Repeat, Success};
use crate::meta::error::GraphError;
use crate::meta::paging::Paged;
use crate::meta::token::AccessToken;

/// A template as Meta lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct MessageTemplate {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub components: Vec<serde_json::Value>,
    #[serde(default)]
    pub quality_score: Option<serde_json::Value>,
    #[serde(default)]
    pub rejected_reason: Option<String>,
}

/// A template to submit for review.
#[derive(Debug, Clone, Serialize)]
pub struct NewMessageTemplate {
    pub name: String,
    pub category: String,
    pub language: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter_format: Option<String>,
    pub components: Vec<serde_json::Value>,
}

/// Meta's answer to a submission.
#[derive(Debug, Clone, Deserialize)]
pub struct CreatedTemplate {
    pub id: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub category: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TemplateStatus {
    pub id: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub rejected_reason: Option<String>,
}

impl GraphClient {
    /// One page of a WABA's templates, optionally only one status.
    pub async fn message_templates(
        &self,
        waba_id: &str,
        token: &AccessToken,
        status: Option<&str>,
        after: Option<String>,
    ) -> Result<Paged<MessageTemplate>, GraphError> {
        let call = Call::get(format!("{waba_id}/message_templates"), Auth::Token(token))
            .query(
                "fields",
                "id,name,status,category,language,components,quality_score,rejected_reason",
            )
            .query("limit", "100")
            .query_opt("status", status)
            .query_opt("after", after)
            .budget(waba_id);
        self.call(call).await
    }

    /// Submits a template for review (it starts PENDING).
    pub async fn create_message_template(
        &self,
        waba_id: &str,
        token: &AccessToken,
        template: &NewMessageTemplate,
    ) -> Result<CreatedTemplate, GraphError> {
        let body =
            serde_json::to_value(template).map_err(|e| GraphError::unexpected(e.to_string()))?;
        let call = Call::post(
            format!("{waba_id}/message_templates"),
            Auth::Token(token),
            Body::Json(body),
            Repeat::Once,
        )
        .budget(waba_id);
        self.call(call).await
    }

    /// Deletes a template: every language of `name`, or one when `template_id` is given.
    pub async fn delete_message_template(
        &self,
        waba_id: &str,
        token: &AccessToken,
        name: &str,
        template_id: Option<&str>,
    ) -> Result<(), GraphError> {
        let call = Call::delete(format!("{waba_id}/message_templates"), Auth::Token(token))
            .query("name", name)
            .query_opt("hsm_id", template_id)
            .budget(waba_id);
        self.call::<Success>(call).await.map(|_| ())
    }

    /// The review status of one template.
    pub async fn message_template_status(
        &self,
        template_id: &str,
        token: &AccessToken,
        waba_id: &str,
    ) -> Result<TemplateStatus, GraphError> {
        let call = Call::get(template_id, Auth::Token(token))
            .query("fields", "id,status,rejected_reason")
            .budget(waba_id);
        self.call(call).await
    }
}

impl GraphClient {
    /// Replaces an existing template's components (and category, unless it is approved);
    /// Meta reviews it again.
    pub async fn edit_message_template(
        &self,
        template_id: &str,
        token: &AccessToken,
        waba_id: &str,
        components: &[serde_json::Value],
        category: Option<&str>,
    ) -> Result<(), GraphError> {
        let mut body = serde_json::json!({ "components": components });
        if let Some(category) = category {
            body["category"] = serde_json::json!(category);
        }
        let call = Call::post(
            template_id,
            Auth::Token(token),
            Body::Json(body),
            Repeat::Once,
        )
        .budget(waba_id);
        self.call::<Success>(call).await.map(|_| ())
    }
}
