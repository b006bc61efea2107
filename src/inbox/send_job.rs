//! Job `send_message`: one attempt at sending one outbound message through the Graph client.

use serde_json::{Value, json};

use crate::channels::{health, open_token};
use crate::db::ids::MessageId;
use crate::db::ids::{ChannelId, TenantId};
use crate::db::statuses::MessageStatus;
use crate::inbox::send::{self, MAX_PACING_WAIT, PendingSend};
use crate::inbox::window::SendMode;
use crate::jobs::JobError;
use crate::jobs::job::{Job, JobContext};
use crate::message_templates::send::TemplatePayload;
use crate::meta::limits::SendKind;
use crate::meta::messaging::{
    AttachmentKind, AttachmentPayload, OutgoingAttachment, OutgoingMessage, SendRequest,
};
use crate::meta::whatsapp::{WaContent, WaLanguage, WaMedia, WaMessage, WaTemplate};
use crate::meta::{GraphError, GraphErrorKind};
use crate::models::attachments;
use crate::models::channels::{self, Channel, Platform};
use crate::state::AppState;
use crate::telemetry::figures::{self, SendOutcome};

/// What happened to one attempt.
enum Outcome {
    Sent(String),
    /// Meta refused or the outcome is unknown: recorded as failed with this reason.
    Failed(Value),
    /// Meta certainly did not act: try again after the delay.
    Later(String),
}

/// Job `send_message`: one send attempt of an outbound message to Meta.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct SendMessage {
    pub message_id: MessageId,
}

impl Job for SendMessage {
    const KIND: &'static str = "send_message";
    // Pacing postpones without counting; these are real failures (Meta down for a while).
    const MAX_ATTEMPTS: i32 = 20;

    async fn run(self, state: &AppState, ctx: &JobContext) -> Result<(), JobError> {
        run(state, ctx.tenant(Self::KIND)?, self.message_id).await
    }
}

async fn run(state: &AppState, tenant: TenantId, id: MessageId) -> Result<(), JobError> {
    let loaded = crate::db::run(&state.pool, move |conn| {
        let Some(m) = send::pending(conn, tenant, id)? else {
            return Ok(None);
        };
        let ch = channels::get(conn, tenant, ChannelId(m.channel_id))?;
        Ok(ch.map(|c| (m, c)))
    })
    .await?;
    let Some((message, channel)) = loaded else {
        return Ok(()); // deleted meanwhile
    };
    if message.status != MessageStatus::Sending || message.platform_message_id.is_some() {
        return Ok(()); // already settled (an earlier run, or the echo got here first)
    }
    if message.send_started_at.is_some() {
        // A run of this attempt stopped after claiming it: Meta may have the message.
        let err = json!({
            "message": "Parley stopped while this message was being sent, so it is not known whether Meta received it. Check with the customer before retrying.",
            "ambiguous": true,
        });
        return record(state, tenant, &message, Outcome::Failed(err)).await;
    }
    if !channel.is_connected() {
        let err = json!({"message": "The channel was disconnected before the message could be sent. Reconnect it, then retry."});
        return record(state, tenant, &message, Outcome::Failed(err)).await;
    }
    let kind = send_kind(channel.platform, &message);
    let account = account_id(&channel);
    let budgets = state
        .graph
        .settings()
        .send_limits
        .buckets(&account, kind, &message.recipient);
    if let Err(wait) = take_budgets(state, budgets).await? {
        // Not a failure: the job runs again when the budget has room.
        figures::send(channel.platform.as_str(), SendOutcome::Paced);
        return Err(JobError::Later {
            after: wait,
            reason: format!(
                "paced by the channel's send limit for {} s",
                wait.as_secs().max(1)
            ),
        });
    }
    let claimed =
        crate::db::run(&state.pool, move |conn| Ok(send::claim(conn, tenant, id)?)).await?;
    if !claimed {
        return Ok(()); // another run took it
    }
    let outcome = match attempt(state, &channel, &message).await {
        Ok(mid) => Outcome::Sent(mid),
        Err(e) => {
            let _ = health::record_graph_failure(state, &channel, &e).await;
            classify(&e)
        }
    };
    let counted = match &outcome {
        Outcome::Sent(_) => SendOutcome::Sent,
        Outcome::Failed(_) => SendOutcome::Failed,
        Outcome::Later(_) => SendOutcome::Retried,
    };
    figures::send(channel.platform.as_str(), counted);
    record(state, tenant, &message, outcome).await
}

/// Takes room in the send budgets (shared by every worker process), waiting up to
/// [`MAX_PACING_WAIT`] for it; otherwise says how long until there is room.
async fn take_budgets(
    state: &AppState,
    budgets: Vec<crate::meta::limits::BucketSpec>,
) -> Result<Result<(), std::time::Duration>, JobError> {
    let deadline = std::time::Instant::now() + MAX_PACING_WAIT;
    loop {
        let specs = budgets.clone();
        let taken = crate::db::run(&state.pool, move |conn| {
            Ok(crate::models::send_budgets::take(conn, &specs)?)
        })
        .await?;
        match taken {
            Ok(()) => return Ok(Ok(())),
            Err(wait) if std::time::Instant::now() + wait <= deadline => {
                tokio::time::sleep(wait).await;
            }
            Err(wait) => return Ok(Err(wait)),
        }
    }
}

async fn record(
    state: &AppState,
    tenant: TenantId,
    message: &PendingSend,
    outcome: Outcome,
) -> Result<(), JobError> {
    let m = message.clone();
    match outcome {
        Outcome::Sent(mid) => {
            crate::db::run(&state.pool, move |conn| {
                Ok(send::succeed(conn, tenant, &m, &mid)?)
            })
            .await?;
            Ok(())
        }
        Outcome::Failed(err) => {
            crate::db::run(&state.pool, move |conn| {
                Ok(send::fail(conn, tenant, &m, &err)?)
            })
            .await?;
            Ok(())
        }
        Outcome::Later(reason) => {
            let id = m.id;
            crate::db::run(&state.pool, move |conn| {
                Ok(send::release(conn, tenant, id)?)
            })
            .await?;
            Err(JobError::Retryable(reason))
        }
    }
}

fn classify(e: &GraphError) -> Outcome {
    let mut err = json!({"message": e.describe(), "kind": format!("{:?}", e.kind)});
    if let Some(meta) = &e.meta {
        err["code"] = json!(meta.code);
        err["subcode"] = json!(meta.error_subcode);
        // A template send Meta refused: say why in the agent's words, Meta's after.
        if let Some(why) = crate::message_templates::send::readable_error(meta.code) {
            err["message"] = json!(format!("{why} ({})", e.describe()));
        }
    }
    match e.kind {
        // Meta answered with an error object: it did not act, so trying later is safe.
        GraphErrorKind::RateLimited { .. } | GraphErrorKind::Network { ambiguous: false } => {
            Outcome::Later(e.describe())
        }
        GraphErrorKind::Transient if e.meta.is_some() => Outcome::Later(e.describe()),
        // A 5xx page without Meta's error object, or no answer: Meta may have sent it.
        GraphErrorKind::Transient | GraphErrorKind::Network { ambiguous: true } => {
            err["ambiguous"] = json!(true);
            err["message"] = json!(format!(
                "Meta did not answer clearly ({}), so the message may or may not have been delivered. Check with the customer before retrying.",
                e.describe()
            ));
            Outcome::Failed(err)
        }
        GraphErrorKind::WindowClosed(_) => {
            err["message"] = json!(format!(
                "Meta refused the message because the messaging window has closed: {}",
                e.describe()
            ));
            Outcome::Failed(err)
        }
        _ => Outcome::Failed(err),
    }
}

/// The id Meta knows the sending account by (Page for Messenger/Instagram, phone number id).
fn account_id(channel: &Channel) -> String {
    match channel.platform {
        Platform::Whatsapp => channel.platform_id.clone(),
        _ => channel
            .page_id
            .clone()
            .unwrap_or_else(|| channel.platform_id.clone()),
    }
}

fn send_kind(platform: Platform, m: &PendingSend) -> SendKind {
    let media = m.attachments.as_array().is_some_and(|a| !a.is_empty());
    match (platform, media) {
        (Platform::Whatsapp, _) => SendKind::WhatsApp,
        (Platform::Instagram, true) => SendKind::InstagramMedia,
        (Platform::Instagram, false) => SendKind::InstagramText,
        (Platform::Messenger, true) => SendKind::MessengerMedia,
        (Platform::Messenger, false) => SendKind::MessengerText,
    }
}

/// The attachment of an outbound message: kind, public token, stored file, content type, name.
struct Upload {
    kind: String,
    token: String,
    file: String,
    content_type: String,
    filename: String,
}

fn upload_of(m: &PendingSend) -> Option<Upload> {
    let a = attachments::from_stored(&m.attachments)
        .into_iter()
        .next()?;
    let (file, content_type) = a.stored_file()?;
    Some(Upload {
        file: file.to_string(),
        content_type: content_type.to_string(),
        token: a.outbound_media.clone()?,
        filename: a.filename.clone().unwrap_or_else(|| "attachment".into()),
        kind: a.kind,
    })
}

async fn attempt(
    state: &AppState,
    channel: &Channel,
    m: &PendingSend,
) -> Result<String, GraphError> {
    let token = open_token(&state.cipher, channel)
        .map_err(|e| GraphError::unexpected(format!("the channel's token cannot be used: {e}")))?;
    let account = account_id(channel);
    let upload = upload_of(m);
    let human_agent =
        m.extra.get("send_mode").and_then(Value::as_str) == Some(SendMode::HumanAgent.as_str());
    let metadata = format!("parley:{}", m.id);
    match channel.platform {
        Platform::Messenger | Platform::Instagram => {
            let mut request = SendRequest::text(&m.recipient, m.text.as_deref().unwrap_or(""));
            let mut message = OutgoingMessage {
                text: m.text.clone(),
                attachment: None,
                metadata: Some(metadata),
            };
            if let Some(u) = upload {
                let base = state.config.public_url.trim_end_matches('/');
                message.text = None;
                message.attachment = Some(OutgoingAttachment {
                    kind: match u.kind.as_str() {
                        "image" => AttachmentKind::Image,
                        "video" => AttachmentKind::Video,
                        "audio" => AttachmentKind::Audio,
                        _ => AttachmentKind::File,
                    },
                    payload: AttachmentPayload {
                        url: Some(format!("{base}/outbound-media/{}/{}", u.token, u.filename)),
                        attachment_id: None,
                        is_reusable: None,
                    },
                });
            }
            request.message = Some(message);
            if human_agent {
                request = request.with_human_agent_tag();
            }
            let sent = state.graph.send_message(&account, &token, &request).await?;
            Ok(sent.message_id)
        }
        Platform::Whatsapp => {
            let template = m
                .extra
                .get("template")
                .and_then(|t| serde_json::from_value::<TemplatePayload>(t.clone()).ok());
            let message = match (template, upload) {
                (Some(t), _) => WaMessage::new(
                    &m.recipient,
                    WaContent::Template {
                        template: WaTemplate {
                            name: t.name,
                            language: WaLanguage { code: t.language },
                            components: t.components,
                        },
                    },
                ),
                (None, None) => WaMessage::text(&m.recipient, m.text.as_deref().unwrap_or("")),
                (None, Some(u)) => {
                    let dir = crate::inbox::attachments::media_dir(state, channel.tenant_id);
                    let bytes = tokio::fs::read(dir.join(&u.file)).await.map_err(|e| {
                        GraphError::unexpected(format!("the attachment file is missing: {e}"))
                    })?;
                    let media = state
                        .graph
                        .whatsapp_upload_media(
                            &account,
                            &token,
                            bytes,
                            &u.content_type,
                            &u.filename,
                        )
                        .await?;
                    let wa = WaMedia {
                        id: Some(media.id),
                        link: None,
                        caption: m.text.clone(),
                        filename: (u.kind == "file").then(|| u.filename.clone()),
                    };
                    let content = match u.kind.as_str() {
                        "image" => WaContent::Image { image: wa },
                        "video" => WaContent::Video { video: wa },
                        "audio" => WaContent::Audio {
                            audio: WaMedia {
                                caption: None,
                                ..wa
                            },
                        },
                        _ => WaContent::Document { document: wa },
                    };
                    WaMessage::new(&m.recipient, content)
                }
            };
            let sent = state
                .graph
                .whatsapp_send(&account, &token, &message)
                .await?;
            sent.message_id()
                .map(str::to_string)
                .ok_or_else(|| GraphError::unexpected("Meta's answer had no message id"))
        }
    }
}
