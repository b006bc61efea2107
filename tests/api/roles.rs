//! Each route admits only the roles it declares; others get the 403 page.

use parley::auth::Role;

use crate::support::TestApp;

const PAGES: [(&str, &[Role]); 12] = [
    ("/inbox", &[Role::Admin, Role::Agent]),
    ("/comments", &[Role::Admin, Role::Moderator]),
    ("/comments/audit", &[Role::Admin, Role::Moderator]),
    ("/comments/audit.csv", &[Role::Admin, Role::Moderator]),
    ("/comments/rules", &[Role::Admin, Role::Moderator]),
    ("/comments/rules/new", &[Role::Admin, Role::Moderator]),
    ("/insights", &[Role::Admin, Role::Analyst]),
    ("/insights.csv", &[Role::Admin, Role::Analyst]),
    // Agents and admins write templates; only admins approve them (checked in
    // tests/api/message_templates.rs).
    ("/message-templates", &[Role::Admin, Role::Agent]),
    ("/message-templates/new", &[Role::Admin, Role::Agent]),
    ("/channels", &[Role::Admin]),
    ("/team", &[Role::Admin]),
];

#[tokio::test]
async fn every_page_admits_exactly_its_roles() {
    let app = TestApp::spawn().await;
    for role in Role::ALL {
        let (mut client, _, _) = app
            .signed_in("Acme", &format!("{}@acme.test", role.as_str()), role)
            .await;
        for (path, allowed) in PAGES {
            let (status, body) = client.page(path).await;
            if allowed.contains(&role) {
                assert_eq!(status, 200, "{role} on {path}");
            } else {
                assert_eq!(status, 403, "{role} on {path}");
                assert!(body.contains("Your role does not give access to this page"));
            }
        }
    }
}

#[tokio::test]
async fn navigation_shows_only_what_the_role_can_open_and_home_goes_there() {
    let app = TestApp::spawn().await;
    let (mut analyst, _, _) = app.signed_in("Acme", "an@acme.test", Role::Analyst).await;
    let res = analyst.get("/").await;
    assert_eq!(crate::support::location(&res), "/insights");
    let (_, body) = analyst.page("/insights").await;
    assert!(body.contains("href=\"/insights\""));
    assert!(!body.contains("href=\"/team\""));
    assert!(!body.contains("href=\"/inbox\""));
}

#[tokio::test]
async fn non_admins_cannot_change_the_team() {
    let app = TestApp::spawn().await;
    let (_, _, admin_id) = app.signed_in("Acme", "admin@acme.test", Role::Admin).await;
    let (mut agent, _, _) = app.signed_in("Acme", "agent@acme.test", Role::Agent).await;
    let res = agent
        .post_form(
            &format!("/team/users/{admin_id}/role"),
            &[("role", "agent")],
        )
        .await;
    assert_eq!(res.status(), 403);
    let res = agent
        .post_form(&format!("/team/users/{admin_id}/deactivate"), &[])
        .await;
    assert_eq!(res.status(), 403);
    let res = agent
        .post_form(
            "/team/users",
            &[
                ("display_name", "X"),
                ("email", "x@acme.test"),
                ("role", "admin"),
                ("password", "long enough pw"),
            ],
        )
        .await;
    assert_eq!(res.status(), 403);
}
