//! A browser-like HTTP client: a cookie jar, the last CSRF token it saw, and the forms it fills.

use super::*;

/// The password every test user gets.
pub const PASSWORD: &str = "correct horse battery staple";

pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// An HTTP client with a cookie jar and the last CSRF token it saw.
pub struct Client {
    pub http: reqwest::Client,
    /// The cookie jar `http` uses.
    pub jar: std::sync::Arc<reqwest::cookie::Jar>,
    pub base: String,
    pub csrf: Option<String>,
}

/// The CSRF token a page's forms carry.
pub fn csrf_from(html: &str) -> Option<String> {
    HtmlPage::parse(html).csrf_token()
}

impl Client {
    pub async fn get(&mut self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{}", self.base, path))
            .send()
            .await
            .unwrap()
    }

    /// GET a page and return its status and body, remembering its CSRF token.
    pub async fn page(&mut self, path: &str) -> (u16, String) {
        let res = self.get(path).await;
        let status = res.status().as_u16();
        let body = res.text().await.unwrap();
        if let Some(token) = csrf_from(&body) {
            self.csrf = Some(token);
        }
        (status, body)
    }

    /// POST a form with the remembered CSRF token added.
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        let token = self.csrf.clone().unwrap_or_default();
        all.push(("csrf_token", &token));
        self.http
            .post(format!("{}{}", self.base, path))
            .form(&all)
            .send()
            .await
            .unwrap()
    }

    /// POST a form as htmx does (the `HX-Request` header), with the remembered CSRF token.
    pub async fn post_form_htmx(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        let token = self.csrf.clone().unwrap_or_default();
        all.push(("csrf_token", &token));
        self.http
            .post(format!("{}{}", self.base, path))
            .header("hx-request", "true")
            .form(&all)
            .send()
            .await
            .unwrap()
    }

    /// POST a form exactly as given (no CSRF token added).
    pub async fn post_form_raw(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        self.http
            .post(format!("{}{}", self.base, path))
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    pub async fn login(&mut self, email: &str, password: &str) -> reqwest::Response {
        let (status, _) = self.page("/login").await;
        assert_eq!(status, 200);
        let res = self
            .post_form(
                "/login",
                &[("email", email), ("password", password), ("next", "/")],
            )
            .await;
        if res.status() == 303 {
            // The session (and its CSRF token) is renewed at sign-in: follow to a page to read it.
            let mut next = location(&res);
            for _ in 0..3 {
                let r = self.get(&next).await;
                if r.status() == 303 {
                    next = location(&r);
                    continue;
                }
                if let Some(token) = csrf_from(&r.text().await.unwrap()) {
                    self.csrf = Some(token);
                }
                break;
            }
        }
        res
    }
}

/// The Location header of a redirect.
pub fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The values of `<input name="field">`, in page order.
pub fn input_values(html: &str, field: &str) -> Vec<String> {
    HtmlPage::parse(html).input_values(field)
}

/// The `action` of the first form in a page.
pub fn form_action(html: &str) -> String {
    HtmlPage::parse(html).form_action().unwrap()
}

impl Client {
    /// GET an absolute URL (another host, e.g. the sandbox's dialog) with this cookie jar.
    pub async fn get_abs(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.unwrap()
    }

    /// Runs step 1 of the connect wizard through the sandbox's dialog; `approve` or decline.
    /// Returns the response of Parley's callback.
    pub async fn through_meta_dialog(
        &mut self,
        start_path: &str,
        approve: bool,
    ) -> reqwest::Response {
        let res = self.post_form(start_path, &[]).await;
        assert_eq!(res.status(), 303, "starting the wizard");
        let dialog = location(&res);
        let page = self.get_abs(&dialog).await;
        assert_eq!(page.status(), 200, "the dialog page");
        let html = page.text().await.unwrap();
        let action = form_action(&html);
        let action = if action.starts_with("http") {
            action
        } else {
            format!("{}{}", dialog.split("/v").next().unwrap(), action)
        };
        let dialog_id = input_values(&html, "dialog_id").remove(0);
        let decision = self
            .http
            .post(&action)
            .form(&[
                ("dialog_id", dialog_id.as_str()),
                ("action", if approve { "continue" } else { "cancel" }),
            ])
            .send()
            .await
            .unwrap();
        assert!(
            decision.status().is_redirection(),
            "the dialog redirects back: {}",
            decision.status()
        );
        let callback = location(&decision);
        assert!(callback.contains("/oauth/meta/callback"), "{callback}");
        self.get_abs(&callback).await
    }

    /// Starts the Instagram Login wizard at `start_path`, logs in on the sandbox's Instagram
    /// window as `account` (or declines with `None`) and follows the redirect back to Parley,
    /// as a browser would (the `#_` Instagram appends stays out of the request).
    pub async fn through_instagram_dialog(
        &mut self,
        start_path: &str,
        account: Option<&str>,
    ) -> reqwest::Response {
        let callback = self.instagram_callback_url(start_path, account).await;
        self.get_abs(&callback).await
    }

    /// Like [`Self::through_instagram_dialog`], but returns the callback URL unfollowed.
    pub async fn instagram_callback_url(
        &mut self,
        start_path: &str,
        account: Option<&str>,
    ) -> String {
        let res = self.post_form(start_path, &[]).await;
        assert_eq!(res.status(), 303, "starting the Instagram wizard");
        let dialog = location(&res);
        assert!(dialog.contains("/oauth/authorize?"), "{dialog}");
        let page = self.get_abs(&dialog).await;
        assert_eq!(page.status(), 200, "the Instagram window");
        let html = page.text().await.unwrap();
        let action = form_action(&html);
        let origin = dialog.split("/ig-www").next().unwrap().to_string();
        let dialog_id = input_values(&html, "dialog_id").remove(0);
        let mut form = vec![("dialog_id", dialog_id.clone())];
        match account {
            Some(a) => {
                form.push(("account", a.to_string()));
                form.push(("action", "allow".to_string()));
            }
            None => form.push(("action", "cancel".to_string())),
        }
        let decision = self
            .http
            .post(format!("{origin}{action}"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert!(decision.status().is_redirection(), "{}", decision.status());
        let callback = location(&decision);
        assert!(callback.contains("/oauth/instagram/callback"), "{callback}");
        callback.split('#').next().unwrap().to_string()
    }
}

/// Whether the inbox list in `html` has a row for conversation `id` (the row itself, not a
/// mention of it elsewhere on the page).
pub fn list_has_row(html: &str, id: impl std::fmt::Display) -> bool {
    HtmlPage::parse(html).count(&format!("ul.conversation-rows > li#conversation-{id}")) == 1
}
