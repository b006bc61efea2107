//! The home page sends each user to the first section their role can open.

use actix_web::HttpResponse;

use crate::auth::Authorized;
use crate::auth::roles::AnyRole;
use crate::web::layout::navigation;
use crate::web::render;

/// GET /
pub async fn home(user: Authorized<AnyRole>) -> HttpResponse {
    let first = navigation(&user)
        .first()
        .map(|n| n.href)
        .unwrap_or("/login");
    render::see_other(first)
}
