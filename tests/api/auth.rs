use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, assert_error};

#[tokio::test]
async fn login_returns_the_wire_contract_and_wrong_credentials_are_401() {
    let app = TestApp::spawn().await;
    let body = json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD});
    let ok = app
        .request(Method::POST, "/api/auth/login", None, Some(&body))
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.body["token_type"], "Bearer");
    assert!(ok.body["expires_in"].as_u64().unwrap() > 0);
    assert!(ok.body["refresh_token"].as_str().is_some());
    assert_eq!(ok.body["user"]["email"], ADMIN_EMAIL);
    assert_eq!(ok.body["user"]["role"], "admin");
    assert!(ok.body["user"]["user_id"].as_i64().is_some());

    for body in [
        json!({"email": ADMIN_EMAIL, "password": "wrong-password"}),
        json!({"email": "nobody@test.shop", "password": ADMIN_PASSWORD}),
    ] {
        let denied = app
            .request(Method::POST, "/api/auth/login", None, Some(&body))
            .await;
        assert_error(&denied, StatusCode::UNAUTHORIZED);
        assert_eq!(denied.error(), "invalid email or password");
    }
}

#[tokio::test]
async fn registration_makes_cashiers_and_refuses_duplicates_and_weak_passwords() {
    let app = TestApp::spawn().await;
    let body =
        json!({"email": "Kasir@Test.Shop", "password": "long-enough-1", "full_name": "Kasir Satu"});
    let created = app
        .request(Method::POST, "/api/auth/register", None, Some(&body))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["user"]["email"], "kasir@test.shop");
    assert_eq!(created.body["user"]["role"], "cashier");
    assert_eq!(created.body["user"]["full_name"], "Kasir Satu");

    let again = app
        .request(Method::POST, "/api/auth/register", None, Some(&body))
        .await;
    assert_error(&again, StatusCode::CONFLICT);

    let weak = json!({"email": "weak@test.shop", "password": "short", "full_name": "W"});
    let weak = app
        .request(Method::POST, "/api/auth/register", None, Some(&weak))
        .await;
    assert_error(&weak, StatusCode::BAD_REQUEST);
    assert!(weak.error().contains("at least 8"));
}

#[tokio::test]
async fn the_first_account_is_the_configured_admin_and_later_ones_are_cashiers() {
    // No configured admin: the database starts without users.
    let app = TestApp::spawn_with(|c| c.admin_email = "first@test.shop".into()).await;
    // The harness logged in as the bootstrap admin; a registered account is a cashier.
    let body =
        json!({"email": "second@test.shop", "password": "long-enough-1", "full_name": "Second"});
    let second = app
        .request(Method::POST, "/api/auth/register", None, Some(&body))
        .await;
    assert_eq!(second.body["user"]["role"], "cashier");
    let profile = app.get("/api/auth/profile", &app.admin_token).await;
    assert_eq!(profile.body["role"], "admin");
    assert_eq!(profile.body["email"], "first@test.shop");
}

#[tokio::test]
async fn refresh_rotates_tokens_and_logout_revokes_the_refresh_token() {
    let app = TestApp::spawn().await;
    let body = json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD});
    let login = app
        .request(Method::POST, "/api/auth/login", None, Some(&body))
        .await;
    let refresh = login.body["refresh_token"].as_str().unwrap().to_owned();

    let renewed = post_token(&app, "/api/auth/refresh", &refresh).await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.text);
    let new_access = renewed.body["access_token"].as_str().unwrap().to_owned();
    let new_refresh = renewed.body["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get("/api/auth/profile", &new_access).await.status,
        StatusCode::OK
    );

    // A spent refresh token is refused.
    let reused = post_token(&app, "/api/auth/refresh", &refresh).await;
    assert_error(&reused, StatusCode::UNAUTHORIZED);

    let logout = post_token(&app, "/api/auth/logout", &new_refresh).await;
    assert_eq!(logout.status, StatusCode::OK);
    let after_logout = post_token(&app, "/api/auth/refresh", &new_refresh).await;
    assert_error(&after_logout, StatusCode::UNAUTHORIZED);

    // An access token is not a refresh token.
    let wrong_kind = post_token(&app, "/api/auth/refresh", &new_access).await;
    assert_error(&wrong_kind, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn protected_routes_need_a_valid_bearer_token() {
    let app = TestApp::spawn().await;
    let missing = app.request(Method::GET, "/api/products", None, None).await;
    assert_error(&missing, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.headers["www-authenticate"], "Bearer");
    let forged = app.get("/api/products", "not.a.token").await;
    assert_error(&forged, StatusCode::UNAUTHORIZED);
    let tampered = format!("{}x", app.admin_token);
    assert_error(
        &app.get("/api/products", &tampered).await,
        StatusCode::UNAUTHORIZED,
    );
}

#[tokio::test]
async fn profile_update_and_password_change() {
    let app = TestApp::spawn().await;
    let updated = app
        .put(
            "/api/auth/profile",
            &app.admin_token,
            json!({"full_name": "Ibu Sari"}),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK);
    assert_eq!(updated.body["full_name"], "Ibu Sari");

    let wrong = app
        .post(
            "/api/auth/change-password",
            &app.admin_token,
            json!({"current_password": "not-it-at-all", "new_password": "brand-new-pass"}),
        )
        .await;
    assert_error(&wrong, StatusCode::UNAUTHORIZED);
    let changed = app
        .post(
            "/api/auth/change-password",
            &app.admin_token,
            json!({"current_password": ADMIN_PASSWORD, "new_password": "brand-new-pass"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    let old = json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD});
    let old = app
        .request(Method::POST, "/api/auth/login", None, Some(&old))
        .await;
    assert_error(&old, StatusCode::UNAUTHORIZED);
    app.login(ADMIN_EMAIL, "brand-new-pass").await;
}

async fn post_token(app: &TestApp, path: &str, refresh_token: &str) -> crate::support::Response {
    let body = json!({ "refresh_token": refresh_token });
    app.request(Method::POST, path, None, Some(&body)).await
}
