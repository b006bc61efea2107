//! What htmx tells the server about a request.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

/// Whether htmx sent the request: it gets partials and `HX-Trigger` events, where a plain form
/// gets redirects and whole pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hx {
    request: bool,
}

impl Hx {
    /// Reads the `HX-Request` header.
    pub fn of(req: &HttpRequest) -> Self {
        Hx {
            request: req.headers().contains_key("hx-request"),
        }
    }

    /// htmx sent this request.
    pub fn is_htmx(self) -> bool {
        self.request
    }
}

impl FromRequest for Hx {
    type Error = std::convert::Infallible;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Hx::of(req)))
    }
}
