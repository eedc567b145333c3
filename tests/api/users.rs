use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{TestApp, assert_error};

#[tokio::test]
async fn admins_promote_and_deactivate_users_but_not_themselves() {
    let app = TestApp::spawn().await;
    let cashier = app.cashier("kasir@test.shop").await;

    let list = app.get("/api/users", &app.admin_token).await;
    assert_eq!(list.status, StatusCode::OK);
    let users = list.body.as_array().unwrap();
    assert_eq!(users.len(), 2);
    let cashier_id = users
        .iter()
        .find(|u| u["email"] == "kasir@test.shop")
        .unwrap()["user_id"]
        .as_i64()
        .unwrap();
    let admin_id = users.iter().find(|u| u["role"] == "admin").unwrap()["user_id"]
        .as_i64()
        .unwrap();

    assert_error(
        &app.get("/api/users", &cashier).await,
        StatusCode::FORBIDDEN,
    );
    let self_demote = app
        .put(
            &format!("/api/users/{admin_id}/role"),
            &app.admin_token,
            json!({"role": "cashier"}),
        )
        .await;
    assert_error(&self_demote, StatusCode::CONFLICT);
    let self_deactivate = app
        .put(
            &format!("/api/users/{admin_id}/status"),
            &app.admin_token,
            json!({"is_active": false}),
        )
        .await;
    assert_error(&self_deactivate, StatusCode::CONFLICT);
    let unknown = app
        .put(
            "/api/users/999999/role",
            &app.admin_token,
            json!({"role": "admin"}),
        )
        .await;
    assert_error(&unknown, StatusCode::NOT_FOUND);
    let bad_role = app
        .put(
            &format!("/api/users/{cashier_id}/role"),
            &app.admin_token,
            json!({"role": "owner"}),
        )
        .await;
    assert_error(&bad_role, StatusCode::BAD_REQUEST);

    // Promotion takes effect on the next request, with the same token.
    assert_error(
        &app.get("/api/users", &cashier).await,
        StatusCode::FORBIDDEN,
    );
    let promoted = app
        .put(
            &format!("/api/users/{cashier_id}/role"),
            &app.admin_token,
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(promoted.body["role"], "admin");
    // A role change ends the user's access tokens (at once on this instance); a new
    // sign-in carries the new role.
    assert_error(
        &app.get("/api/users", &cashier).await,
        StatusCode::UNAUTHORIZED,
    );
    let cashier = app.login("kasir@test.shop", "cashier-password-1").await;
    assert_eq!(app.get("/api/users", &cashier).await.status, StatusCode::OK);

    let deactivated = app
        .put(
            &format!("/api/users/{cashier_id}/status"),
            &app.admin_token,
            json!({"is_active": false}),
        )
        .await;
    assert_eq!(deactivated.body["is_active"], false);
    assert_error(
        &app.get("/api/products", &cashier).await,
        StatusCode::UNAUTHORIZED,
    );
    let login = json!({"email": "kasir@test.shop", "password": "cashier-password-1"});
    let login = app
        .request(Method::POST, "/api/auth/login", None, Some(&login))
        .await;
    assert_error(&login, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_deactivation_reaches_the_other_instances_within_the_principal_ttl() {
    let first = TestApp::spawn().await;
    let second = TestApp::spawn_sharing(&first, |_| {}).await;
    let cashier = first.cashier("kasir@test.shop").await;
    // The second instance has now read (and remembers) the active cashier.
    assert_eq!(
        second.get("/api/products", &cashier).await.status,
        StatusCode::OK
    );
    let users = first.get("/api/users", &first.admin_token).await;
    let cashier_id = users
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "kasir@test.shop")
        .unwrap()["user_id"]
        .as_i64()
        .unwrap();
    let changed = std::time::Instant::now();
    first
        .put(
            &format!("/api/users/{cashier_id}/status"),
            &first.admin_token,
            json!({"is_active": false}),
        )
        .await;
    assert_error(
        &first.get("/api/products", &cashier).await,
        StatusCode::UNAUTHORIZED,
    );
    let bound = siprems::domain::auth::PRINCIPAL_TTL + std::time::Duration::from_secs(2);
    loop {
        let status = second.get("/api/products", &cashier).await.status;
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(status, StatusCode::OK);
        assert!(
            changed.elapsed() < bound,
            "still admitted {:?} after the deactivation",
            changed.elapsed()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
