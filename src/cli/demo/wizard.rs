//! Drives the connect wizard over HTTP like a browser (sign in, consent on the sandbox's dialog,
//! select everything), so the demo's channels are connected exactly as an admin's would be.

use std::time::Duration;

use crate::html_page::HtmlPage;

/// Why driving the wizard failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WizardError(String);

fn err(what: &str, e: impl std::fmt::Display) -> WizardError {
    WizardError(format!("{what}: {e}"))
}

fn location(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get("location")?
        .to_str()
        .ok()
        .map(str::to_string)
}

struct Browser {
    http: reqwest::Client,
    base: String,
    csrf: String,
}

impl Browser {
    async fn page(&mut self, url: &str) -> Result<HtmlPage, WizardError> {
        let res = self.http.get(url).send().await.map_err(|e| err("GET", e))?;
        let html = res.text().await.map_err(|e| err("reading a page", e))?;
        let page = HtmlPage::parse(&html);
        if let Some(t) = page.csrf_token() {
            self.csrf = t;
        }
        Ok(page)
    }

    async fn post(
        &self,
        url: &str,
        fields: &[(&str, &str)],
    ) -> Result<reqwest::Response, WizardError> {
        let mut all = fields.to_vec();
        all.push(("csrf_token", &self.csrf));
        self.http
            .post(url)
            .form(&all)
            .send()
            .await
            .map_err(|e| err("POST", e))
    }

    /// The consent page's form: where it posts (absolute) and its dialog id.
    async fn dialog_form(&mut self, dialog: &str) -> Result<(String, String), WizardError> {
        let page = self.page(dialog).await?;
        let action = page
            .form_action()
            .ok_or_else(|| WizardError("the consent page has no form".into()))?;
        let origin: String = dialog.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
        let action = if action.starts_with("http") {
            action
        } else {
            format!("{origin}{action}")
        };
        let dialog_id = page
            .input_values("dialog_id")
            .into_iter()
            .next()
            .unwrap_or_default();
        Ok((action, dialog_id))
    }

    /// Step 1: start, consent on the dialog, come back; returns the selection page's URL.
    async fn consent(&mut self, start: &str) -> Result<String, WizardError> {
        let res = self.post(&format!("{}{start}", self.base), &[]).await?;
        let dialog = location(&res)
            .ok_or_else(|| WizardError(format!("{start} did not redirect to Meta")))?;
        let (action, dialog_id) = self.dialog_form(&dialog).await?;
        let back = self
            .http
            .post(&action)
            .form(&[("dialog_id", dialog_id.as_str()), ("action", "continue")])
            .send()
            .await
            .map_err(|e| err("consenting", e))?;
        let callback = location(&back)
            .ok_or_else(|| WizardError("the dialog did not redirect back".into()))?;
        let res = self
            .http
            .get(&callback)
            .send()
            .await
            .map_err(|e| err("callback", e))?;
        let select = location(&res)
            .ok_or_else(|| WizardError(format!("the callback answered {}", res.status())))?;
        Ok(format!("{}{select}", self.base))
    }
}

impl Browser {
    /// Instagram Login: start, log in as `account` on the sandbox's Instagram window, and
    /// come back (the account is connected by the callback itself).
    async fn consent_instagram(&mut self, account: &str) -> Result<(), WizardError> {
        let start = format!("{}/channels/connect/instagram", self.base);
        let res = self.post(&start, &[]).await?;
        let dialog = location(&res)
            .ok_or_else(|| WizardError("Instagram Login did not redirect to Instagram".into()))?;
        let (action, dialog_id) = self.dialog_form(&dialog).await?;
        let back = self
            .http
            .post(action)
            .form(&[
                ("dialog_id", dialog_id.as_str()),
                ("account", account),
                ("action", "allow"),
            ])
            .send()
            .await
            .map_err(|e| err("allowing on Instagram", e))?;
        let callback = location(&back)
            .ok_or_else(|| WizardError("the Instagram window did not redirect back".into()))?;
        // A browser keeps the `#_` Instagram appends out of the request.
        let callback = callback.split('#').next().unwrap_or_default().to_string();
        let res = self
            .http
            .get(&callback)
            .send()
            .await
            .map_err(|e| err("Instagram callback", e))?;
        if res.status().as_u16() != 303 {
            return Err(WizardError(format!(
                "the Instagram callback answered {}",
                res.status()
            )));
        }
        Ok(())
    }
}

/// Signs in as the demo admin and connects every Page, Instagram account and WhatsApp number
/// the sandbox offers.
pub async fn connect_demo_channels(
    base: &str,
    email: &str,
    password: &str,
) -> Result<String, WizardError> {
    let http =
        crate::http_client::build_with_cookies(Duration::from_secs(5), Duration::from_secs(30))
            .map_err(|e| err("HTTP client", e))?;
    let mut b = Browser {
        http,
        base: base.to_string(),
        csrf: String::new(),
    };
    b.page(&format!("{base}/login")).await?;
    let res = b
        .post(
            &format!("{base}/login"),
            &[
                ("email", email),
                ("password", password),
                ("next", "/channels"),
            ],
        )
        .await?;
    if res.status().as_u16() != 303 {
        return Err(WizardError(format!("sign-in answered {}", res.status())));
    }
    b.page(&format!("{base}/channels")).await?;

    let select = b.consent("/channels/connect/meta").await?;
    let selection = b.page(&select).await?;
    let pages = selection.input_values("page");
    let igs = selection.input_values("instagram");
    let mut fields: Vec<(&str, &str)> = pages.iter().map(|p| ("page", p.as_str())).collect();
    fields.extend(igs.iter().map(|i| ("instagram", i.as_str())));
    b.post(&select, &fields).await?;

    // The Instagram account without a Facebook Page, through Instagram Login.
    b.consent_instagram(meta_sandbox::STUDIO_IG_ID).await?;

    let select = b.consent("/channels/connect/whatsapp").await?;
    let selection = b.page(&select).await?;
    let numbers = selection.input_values("number");
    let mut fields: Vec<(&str, &str)> = numbers.iter().map(|n| ("number", n.as_str())).collect();
    fields.push(("pin", "123456"));
    b.post(&select, &fields).await?;
    Ok(format!(
        "{} Pages, {} Instagram accounts through their Page and 1 through Instagram Login, {} WhatsApp numbers",
        pages.len(),
        igs.len(),
        numbers.len()
    ))
}
