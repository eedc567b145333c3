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
async fn registration_is_closed_by_default() {
    let app = TestApp::spawn().await;
    let body =
        json!({"email": "kasir@test.shop", "password": "long-enough-1", "full_name": "Kasir"});
    let closed = app
        .request(Method::POST, "/api/auth/register", None, Some(&body))
        .await;
    assert_error(&closed, StatusCode::FORBIDDEN);
    assert!(closed.error().contains("closed"), "{}", closed.text);
    assert_eq!(app.count_rows("users").await, 1);
}

#[tokio::test]
async fn open_registration_answers_alike_for_known_emails_and_waits_for_approval() {
    let app = TestApp::spawn_with(|c| c.open_registration = true).await;
    let body =
        json!({"email": "Kasir@Test.Shop", "password": "long-enough-1", "full_name": "Kasir Satu"});
    let created = app
        .request(Method::POST, "/api/auth/register", None, Some(&body))
        .await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.text);
    // The owner's e-mail, and the same one again: the same answer, nothing created.
    let taken = json!({"email": ADMIN_EMAIL, "password": "long-enough-1", "full_name": "Mallory"});
    let taken = app
        .request(Method::POST, "/api/auth/register", None, Some(&taken))
        .await;
    let again = app
        .request(Method::POST, "/api/auth/register", None, Some(&body))
        .await;
    for answer in [&taken, &again] {
        assert_eq!(answer.status, created.status);
        assert_eq!(answer.body, created.body);
    }
    assert_eq!(app.count_rows("users").await, 2);
    // The owner's password is untouched.
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let weak = json!({"email": "weak@test.shop", "password": "short", "full_name": "W"});
    let weak = app
        .request(Method::POST, "/api/auth/register", None, Some(&weak))
        .await;
    assert_error(&weak, StatusCode::BAD_REQUEST);
    assert!(weak.error().contains("at least 8"));

    // Pending: it cannot sign in (the right password learns why), nor is it listed active.
    let pending = app.login_response("kasir@test.shop", "long-enough-1").await;
    assert_error(&pending, StatusCode::FORBIDDEN);
    assert!(pending.error().contains("approval"), "{}", pending.text);
    let wrong = app
        .login_response("kasir@test.shop", "not-the-password")
        .await;
    assert_error(&wrong, StatusCode::UNAUTHORIZED);
    let users = app.get("/api/users", &app.admin_token).await;
    let kasir = users
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "kasir@test.shop")
        .unwrap()
        .clone();
    assert_eq!(kasir["pending_approval"], true);
    assert_eq!(kasir["is_active"], false);
    assert_eq!(kasir["role"], "cashier");
    let id = kasir["user_id"].as_i64().unwrap();

    let approved = app
        .post(
            &format!("/api/users/{id}/approve"),
            &app.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    assert_eq!(approved.body["pending_approval"], false);
    assert_eq!(approved.body["is_active"], true);
    assert_eq!(approved.body["role"], "cashier");
    let twice = app
        .post(
            &format!("/api/users/{id}/approve"),
            &app.admin_token,
            json!({}),
        )
        .await;
    assert_error(&twice, StatusCode::CONFLICT);
    let login = app.login_response("kasir@test.shop", "long-enough-1").await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text);
    assert_eq!(login.body["user"]["role"], "cashier");
    // A self-chosen password need not be changed.
    assert_eq!(login.body["user"]["must_change_password"], false);
}

#[tokio::test]
async fn the_first_account_is_the_configured_admin() {
    let app = TestApp::spawn_with(|c| c.admin_email = "first@test.shop".into()).await;
    let profile = app.get("/api/auth/profile", &app.admin_token).await;
    assert_eq!(profile.body["role"], "admin");
    assert_eq!(profile.body["email"], "first@test.shop");
    // Its password was configured, not generated: nothing to change.
    assert_eq!(profile.body["must_change_password"], false);
}

#[tokio::test]
async fn refresh_rotates_tokens_and_logout_revokes_the_refresh_token() {
    let app = TestApp::spawn_with(|c| c.refresh_grace_secs = 1).await;
    let login = app.login_response(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let refresh = login.body["refresh_token"].as_str().unwrap().to_owned();

    let renewed = post_token(&app, "/api/auth/refresh", &refresh).await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.text);
    let new_access = renewed.body["access_token"].as_str().unwrap().to_owned();
    let new_refresh = renewed.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(new_refresh, refresh);
    assert_eq!(
        app.get("/api/auth/profile", &new_access).await.status,
        StatusCode::OK
    );

    let logout = post_token(&app, "/api/auth/logout", &new_refresh).await;
    assert_eq!(logout.status, StatusCode::OK);
    let after_logout = post_token(&app, "/api/auth/refresh", &new_refresh).await;
    assert_error(&after_logout, StatusCode::UNAUTHORIZED);
    // Logout ended the session's access tokens too, at once on this instance.
    assert_error(
        &app.get("/api/auth/profile", &new_access).await,
        StatusCode::UNAUTHORIZED,
    );
    // Logging out twice is fine.
    let again = post_token(&app, "/api/auth/logout", &new_refresh).await;
    assert_eq!(again.status, StatusCode::OK);

    // An access token is not a refresh token.
    let wrong_kind = post_token(&app, "/api/auth/refresh", &app.admin_token).await;
    assert_error(&wrong_kind, StatusCode::UNAUTHORIZED);
    // Other sessions of the user are untouched by this logout.
    assert_eq!(
        app.get("/api/auth/profile", &app.admin_token).await.status,
        StatusCode::OK
    );
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
    // The old token is ended; the answer carries a working new one.
    assert_error(
        &app.get("/api/auth/profile", &app.admin_token).await,
        StatusCode::UNAUTHORIZED,
    );
    let fresh = changed.body["access_token"].as_str().unwrap();
    assert_eq!(
        app.get("/api/auth/profile", fresh).await.status,
        StatusCode::OK
    );
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

/// Registering and changing a password cost an Argon2 hash each: a stricter class than
/// the general API (burst 5, where the general class allows 20).
#[tokio::test]
async fn register_and_change_password_have_a_stricter_rate_limit() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limits = true;
        c.open_registration = true;
    })
    .await;
    let body = json!({"email": "x@test.shop", "password": "long-enough-1", "full_name": "X"});
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let answer = app
            .request(Method::POST, "/api/auth/register", None, Some(&body))
            .await;
        statuses.push(answer.status);
    }
    assert_eq!(statuses[0], StatusCode::ACCEPTED);
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    // The general class still admits this address.
    assert_eq!(
        app.get("/api/products", &app.admin_token).await.status,
        StatusCode::OK
    );
}
