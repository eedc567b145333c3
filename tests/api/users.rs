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
    let cashier_id = first.user_id("kasir@test.shop").await;
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

#[tokio::test]
async fn admins_create_accounts_whose_users_must_change_the_password() {
    let app = TestApp::spawn().await;
    let cashier = app.cashier("kasir@test.shop").await;
    let body = json!({"email": "Baru@Test.Shop", "full_name": "Baru", "role": "cashier"});
    assert_error(
        &app.post("/api/users", &cashier, body.clone()).await,
        StatusCode::FORBIDDEN,
    );
    let created = app.post("/api/users", &app.admin_token, body.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["user"]["email"], "baru@test.shop");
    assert_eq!(created.body["user"]["must_change_password"], true);
    let generated = created.body["generated_password"]
        .as_str()
        .expect("a generated password, shown once")
        .to_owned();
    assert!(generated.len() >= 16);
    assert_error(
        &app.post("/api/users", &app.admin_token, body).await,
        StatusCode::CONFLICT,
    );
    // The password is listed nowhere else.
    let list = app.get("/api/users", &app.admin_token).await;
    assert!(!list.text.contains(&generated));

    let login = app.login_response("baru@test.shop", &generated).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text);
    assert_eq!(login.body["user"]["must_change_password"], true);
    let token = login.body["access_token"].as_str().unwrap().to_owned();
    // The API keeps working meanwhile (scripts do not break).
    assert_eq!(
        app.get("/api/products", &token).await.status,
        StatusCode::OK
    );
    let profile = app.get("/api/auth/profile", &token).await;
    assert_eq!(profile.body["must_change_password"], true);
    let changed = app
        .post(
            "/api/auth/change-password",
            &token,
            json!({"current_password": generated, "new_password": "my-own-password"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.body["user"]["must_change_password"], false);
    let token = changed.body["access_token"].as_str().unwrap();
    let profile = app.get("/api/auth/profile", token).await;
    assert_eq!(profile.body["must_change_password"], false);

    // A password the admin chose is also to be changed; it is not echoed back.
    let chosen = app
        .post(
            "/api/users",
            &app.admin_token,
            json!({"email": "admin2@test.shop", "full_name": "Dua", "role": "admin", "password": "chosen-by-owner"}),
        )
        .await;
    assert_eq!(chosen.status, StatusCode::CREATED, "{}", chosen.text);
    assert!(chosen.body.get("generated_password").is_none());
    assert_eq!(chosen.body["user"]["role"], "admin");
    assert_eq!(chosen.body["user"]["must_change_password"], true);
    let weak = app
        .post(
            "/api/users",
            &app.admin_token,
            json!({"email": "weak@test.shop", "full_name": "W", "role": "cashier", "password": "short"}),
        )
        .await;
    assert_error(&weak, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_password_reset_ends_the_users_sessions_and_requires_a_change() {
    let first = TestApp::spawn().await;
    let second = TestApp::spawn_sharing(&first, |_| {}).await;
    let cashier = first.cashier("kasir@test.shop").await;
    assert_eq!(
        second.get("/api/products", &cashier).await.status,
        StatusCode::OK
    );
    let id = first.user_id("kasir@test.shop").await;
    let reset_at = std::time::Instant::now();
    let reset = first
        .post(
            &format!("/api/users/{id}/password"),
            &first.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.text);
    assert_eq!(reset.body["user"]["must_change_password"], true);
    let generated = reset.body["generated_password"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_error(
        &first.get("/api/products", &cashier).await,
        StatusCode::UNAUTHORIZED,
    );
    let bound = siprems::domain::auth::PRINCIPAL_TTL + std::time::Duration::from_secs(1);
    while second.get("/api/products", &cashier).await.status != StatusCode::UNAUTHORIZED {
        assert!(reset_at.elapsed() < bound, "old token still admitted");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_error(
        &first
            .login_response("kasir@test.shop", "cashier-password-1")
            .await,
        StatusCode::UNAUTHORIZED,
    );
    let login = first.login_response("kasir@test.shop", &generated).await;
    assert_eq!(login.status, StatusCode::OK);
    assert_eq!(login.body["user"]["must_change_password"], true);

    let given = first
        .post(
            &format!("/api/users/{id}/password"),
            &first.admin_token,
            json!({"password": "given-by-owner"}),
        )
        .await;
    assert_eq!(given.status, StatusCode::OK, "{}", given.text);
    assert!(given.body.get("generated_password").is_none());
    first.login("kasir@test.shop", "given-by-owner").await;
    assert_error(
        &first
            .post("/api/users/999999/password", &first.admin_token, json!({}))
            .await,
        StatusCode::NOT_FOUND,
    );
}

/// `siprems user reset-password` and `siprems user approve`, beside a running server.
#[tokio::test]
async fn the_cli_resets_passwords_and_approves_accounts() {
    let app = TestApp::spawn_with(|c| c.open_registration = true).await;
    let registration =
        json!({"email": "daftar@test.shop", "password": "long-enough-1", "full_name": "Daftar"});
    let registered = app
        .request(
            Method::POST,
            "/api/auth/register",
            None,
            Some(&registration),
        )
        .await;
    assert_eq!(registered.status, StatusCode::ACCEPTED);
    let run = |args: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_siprems"));
        if let Some(direct) = &app.database.migration_url {
            command.env("DATABASE_MIGRATION_URL", direct);
        }
        let output = command
            .arg("user")
            .args(args)
            .env("DATABASE_URL", &app.database.url)
            .env("JWT_SECRET", "test-secret-that-is-long-enough-for-hs256!")
            .env("SIPREMS_WARM_UP", "0")
            .env("SIPREMS_DEMO", "0")
            .env_remove("SIPREMS_NEW_USER_PASSWORD")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let approved = run(&["approve", "--email", "daftar@test.shop"]);
    assert!(
        approved.contains("approved daftar@test.shop (cashier)"),
        "{approved}"
    );
    app.login("daftar@test.shop", "long-enough-1").await;

    let printed = run(&["reset-password", "--email", crate::support::ADMIN_EMAIL]);
    let password = printed
        .lines()
        .find_map(|line| line.strip_prefix("password: "))
        .expect("the generated password is printed")
        .to_owned();
    let login = app
        .login_response(crate::support::ADMIN_EMAIL, &password)
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text);
    assert_eq!(login.body["user"]["must_change_password"], true);
    // The admin's earlier session ended with the reset.
    assert_error(
        &app.get("/api/auth/profile", &app.admin_token).await,
        StatusCode::UNAUTHORIZED,
    );
}

/// The bootstrap admin whose password was generated (and printed) must change it; one
/// whose password was configured need not (the harness's admin, checked in auth.rs).
#[tokio::test]
async fn a_generated_bootstrap_password_must_be_changed() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("fresh.db").display());
    let db = siprems::storage::Db::connect(&url, 1).await.unwrap();
    db.migrate().await.unwrap();
    let generated = siprems::domain::auth::bootstrap_admin(&db, "boss@test.shop", None)
        .await
        .unwrap()
        .expect("a generated password");
    assert!(generated.len() >= 16);
    let users = siprems::domain::users::list(&db).await.unwrap();
    assert_eq!(users.len(), 1);
    assert!(users[0].must_change_password);
    // Only on an empty database.
    assert!(
        siprems::domain::auth::bootstrap_admin(&db, "other@test.shop", None)
            .await
            .unwrap()
            .is_none()
    );
    db.close().await;
}
