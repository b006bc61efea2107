//! WhatsApp onboarding: Embedded Signup (through the OAuth dialog with a configuration id) and
//! a pasted system-user token, both validated against the Graph API before anything is stored.

use crate::channels::connect::{ConnectOutcome, PendingAssets, PendingNumber, store_channel};
use crate::channels::{ChannelError, seal_token};
use crate::db::ids::{TenantId, UserId};
use crate::meta::oauth::DebugToken;
use crate::meta::{AccessToken, GraphClient, GraphErrorKind};
use crate::models::channels::{Channel, NewChannel, Platform};
use crate::state::AppState;

const MANAGEMENT: &str = "whatsapp_business_management";
const MESSAGING: &str = "whatsapp_business_messaging";

/// WABA ids a token was granted (from `granular_scopes`).
fn granted_wabas(debug: &DebugToken) -> Vec<String> {
    debug
        .granular_scopes
        .iter()
        .filter(|g| g.scope == MANAGEMENT || g.scope == MESSAGING)
        .flat_map(|g| g.target_ids.clone().unwrap_or_default())
        .fold(Vec::new(), |mut acc, id| {
            if !acc.contains(&id) {
                acc.push(id);
            }
            acc
        })
}

/// After Embedded Signup consent: exchange the code for the business token, find the granted
/// WABAs and their numbers.
pub async fn fetch_signup_assets(
    graph: &GraphClient,
    code: &str,
    redirect_uri: &str,
) -> Result<PendingAssets, ChannelError> {
    let token = graph
        .exchange_code(code, Some(redirect_uri))
        .await?
        .access_token;
    let debug = graph.debug_token(&token).await?;
    if !debug.is_valid {
        return Err(ChannelError::Invalid(
            "Meta says the signup token is not valid. Try the signup again.".into(),
        ));
    }
    let mut numbers = Vec::new();
    for waba in granted_wabas(&debug) {
        for n in graph.whatsapp_phone_numbers(&waba, &token).await? {
            numbers.push(PendingNumber {
                phone_number_id: n.id,
                waba_id: waba.clone(),
                display_phone_number: n.display_phone_number,
                verified_name: n.verified_name,
            });
        }
    }
    if numbers.is_empty() {
        return Err(ChannelError::Invalid(
            "The signup finished without sharing a WhatsApp number with Parley. Run it again and pick a number.".into(),
        ));
    }
    Ok(PendingAssets {
        numbers,
        business_token: Some(token.expose_secret().to_string()),
        ..Default::default()
    })
}

/// A number to connect: register it (with its two-step PIN when given), subscribe Parley to its
/// WABA, and store it.
async fn connect_number(
    state: &AppState,
    tenant: TenantId,
    user: UserId,
    token: &AccessToken,
    number: &PendingNumber,
    pin: Option<&str>,
) -> Result<Channel, ChannelError> {
    if let Some(pin) = pin {
        state
            .graph
            .whatsapp_register(&number.phone_number_id, token, pin)
            .await?;
    }
    state
        .graph
        .whatsapp_subscribe(&number.waba_id, token)
        .await?;
    let sealed = seal_token(
        &state.cipher,
        tenant,
        Platform::Whatsapp,
        &number.phone_number_id,
        token,
    )?;
    let new = NewChannel {
        tenant_id: tenant,
        platform: Platform::Whatsapp,
        platform_id: number.phone_number_id.clone(),
        name: number
            .verified_name
            .clone()
            .unwrap_or_else(|| "WhatsApp".into()),
        username: None,
        picture_url: None,
        page_id: None,
        waba_id: Some(number.waba_id.clone()),
        display_phone_number: number.display_phone_number.clone(),
        token_ciphertext: Some(sealed.blob),
        token_key_id: Some(sealed.key_id),
        subscribed_fields: vec![
            "messages".into(),
            "message_template_status_update".into(),
            "message_template_quality_update".into(),
            "template_category_update".into(),
        ],
        connected_by: Some(user),
    };
    crate::db::run(&state.pool, move |conn| Ok(store_channel(conn, &new))).await?
}

/// Connects the numbers chosen after Embedded Signup.
pub async fn connect_signup_numbers(
    state: &AppState,
    tenant: TenantId,
    user: UserId,
    assets: &PendingAssets,
    chosen: &[String],
    pin: &str,
) -> Result<ConnectOutcome, ChannelError> {
    if !(pin.len() == 6 && pin.chars().all(|c| c.is_ascii_digit())) {
        return Err(ChannelError::Invalid(
            "Enter the number's 6-digit two-step verification PIN.".into(),
        ));
    }
    let token = AccessToken::new(
        assets
            .business_token
            .clone()
            .ok_or(ChannelError::SelectionExpired)?,
    );
    let mut outcome = ConnectOutcome::default();
    for number in assets
        .numbers
        .iter()
        .filter(|n| chosen.contains(&n.phone_number_id))
    {
        let label = number
            .display_phone_number
            .clone()
            .unwrap_or_else(|| number.phone_number_id.clone());
        match connect_number(state, tenant, user, &token, number, Some(pin)).await {
            Ok(channel) => outcome.connected.push(channel),
            Err(ChannelError::Db(e)) => return Err(ChannelError::Db(e)),
            Err(e) => outcome.failed.push((label, e.to_string())),
        }
    }
    Ok(outcome)
}

/// What an admin pasted to connect a number manually.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ManualConnectInput {
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub waba_id: String,
    #[serde(default)]
    pub phone_number_id: String,
}

/// A problem with one field of the manual form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualError {
    pub field: &'static str,
    pub message: String,
}

fn is_graph_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 32 && s.chars().all(|c| c.is_ascii_digit())
}

/// Validates a pasted system-user token, WABA id and phone number id against the Graph API
/// (token valid with both WhatsApp permissions for that WABA, number belongs to the WABA),
/// then subscribes and stores. Every problem is reported on its field.
pub async fn connect_manually(
    state: &AppState,
    tenant: TenantId,
    user: UserId,
    input: &ManualConnectInput,
) -> Result<Result<Channel, Vec<ManualError>>, ChannelError> {
    let mut errors = Vec::new();
    let (token_text, waba, phone) = (
        input.token.trim(),
        input.waba_id.trim(),
        input.phone_number_id.trim(),
    );
    if token_text.len() < 20 || token_text.contains(char::is_whitespace) {
        errors.push(ManualError {
            field: "token",
            message: "Paste the whole system-user access token.".into(),
        });
    }
    if !is_graph_id(waba) {
        errors.push(ManualError {
            field: "waba_id",
            message: "The WhatsApp Business Account id is a number, e.g. 102290129340398.".into(),
        });
    }
    if !is_graph_id(phone) {
        errors.push(ManualError {
            field: "phone_number_id",
            message: "The phone number id is a number (not the phone number itself).".into(),
        });
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let token = AccessToken::new(token_text);
    let debug = match state.graph.debug_token(&token).await {
        Ok(d) => d,
        Err(e) if e.kind == GraphErrorKind::NotConfigured => return Err(e.into()),
        Err(e) => {
            return Ok(Err(vec![ManualError {
                field: "token",
                message: format!("Meta could not check this token: {e}"),
            }]));
        }
    };
    if !debug.is_valid {
        let why = debug
            .error
            .as_ref()
            .map(|e| e.message.clone())
            .unwrap_or_else(|| "it may be revoked or expired".into());
        return Ok(Err(vec![ManualError {
            field: "token",
            message: format!("Meta says this token is not valid ({why})."),
        }]));
    }
    for scope in [MANAGEMENT, MESSAGING] {
        if !debug.grants(scope, Some(waba)) {
            errors.push(ManualError {
                field: "token",
                message: format!("The token lacks the {scope} permission for WABA {waba}. Assign the WABA to the system user and generate a new token with that permission."),
            });
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let numbers = match state.graph.whatsapp_phone_numbers(waba, &token).await {
        Ok(n) => n,
        Err(e) => {
            return Ok(Err(vec![ManualError {
                field: "waba_id",
                message: format!("Meta could not list this account's numbers: {e}"),
            }]));
        }
    };
    let Some(number) = numbers.into_iter().find(|n| n.id == phone) else {
        return Ok(Err(vec![ManualError {
            field: "phone_number_id",
            message: format!("WABA {waba} has no phone number with id {phone}."),
        }]));
    };
    let pending = PendingNumber {
        phone_number_id: number.id,
        waba_id: waba.to_string(),
        display_phone_number: number.display_phone_number,
        verified_name: number.verified_name,
    };
    match connect_number(state, tenant, user, &token, &pending, None).await {
        Ok(channel) => Ok(Ok(channel)),
        Err(e @ ChannelError::OwnedElsewhere(_)) => Ok(Err(vec![ManualError {
            field: "phone_number_id",
            message: e.to_string(),
        }])),
        Err(ChannelError::Graph(e)) => Ok(Err(vec![ManualError {
            field: "waba_id",
            message: format!("Subscribing Parley to this account failed: {e}"),
        }])),
        Err(e) => Err(e),
    }
}
