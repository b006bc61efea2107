//! A user of one tenant can neither see nor change another tenant's users.

use parley::auth::Role;

use crate::support::TestApp;

#[tokio::test]
async fn another_tenants_user_is_as_absent_as_a_missing_one() {
    let app = TestApp::spawn().await;
    let (mut a_admin, _, _) = app.signed_in("Tenant A", "admin@a.test", Role::Admin).await;
    let (mut b_admin, b_tenant, b_admin_id) =
        app.signed_in("Tenant B", "admin@b.test", Role::Admin).await;
    let (_, b_agent) = app
        .create_user(
            "Tenant B",
            "agent@b.test",
            Role::Agent,
            crate::support::PASSWORD,
        )
        .await;

    // A's team page lists only A's people.
    let (_, body) = a_admin.page("/team").await;
    assert!(body.contains("admin@a.test"));
    assert!(!body.contains("@b.test"));

    // Every per-user route answers 404 for B's user, exactly as for an id that does not exist.
    for id in [b_agent.0, 999_999] {
        let (status, _) = a_admin.page(&format!("/team/users/{id}/deactivate")).await;
        assert_eq!(status, 404);
        for (path, fields) in [
            (format!("/team/users/{id}/role"), vec![("role", "admin")]),
            (format!("/team/users/{id}/deactivate"), vec![]),
            (format!("/team/users/{id}/reactivate"), vec![]),
        ] {
            let res = a_admin.post_form(&path, &fields).await;
            assert_eq!(res.status(), 404, "{path}");
        }
    }

    // B's users are unchanged.
    let b_users = parley::db::run(app.pool(), move |conn| {
        Ok(parley::models::users::list(conn, b_tenant)?)
    })
    .await
    .unwrap();
    assert!(b_users.iter().all(|u| u.active));
    assert!(
        b_users
            .iter()
            .any(|u| u.id == b_agent && u.role == Role::Agent)
    );
    assert!(
        b_users
            .iter()
            .any(|u| u.id == b_admin_id && u.role == Role::Admin)
    );
    let (_, body) = b_admin.page("/team").await;
    assert!(body.contains("agent@b.test"));
}

#[tokio::test]
async fn queries_are_scoped_by_tenant_at_the_model_level() {
    let app = TestApp::spawn().await;
    let (a, a_user) = app
        .create_user(
            "Tenant A",
            "x@a.test",
            Role::Agent,
            crate::support::PASSWORD,
        )
        .await;
    let (b, _) = app
        .create_user(
            "Tenant B",
            "y@b.test",
            Role::Agent,
            crate::support::PASSWORD,
        )
        .await;
    let (found_in_a, found_in_b, changed_from_b) = parley::db::run(app.pool(), move |conn| {
        use parley::models::users;
        Ok((
            users::get(conn, a, a_user)?.is_some(),
            users::get(conn, b, a_user)?.is_some(),
            users::set_role(conn, b, a_user, Role::Admin)?,
        ))
    })
    .await
    .unwrap();
    assert!(found_in_a);
    assert!(!found_in_b);
    assert!(!changed_from_b);
}
