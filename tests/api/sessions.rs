//! Sessions: what ends access and refresh tokens, across instances; refresh rotation with
//! its grace window; the sessions' absolute lifetime; the login back-off per address; the
//! bound on concurrent password hashing.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use siprems::domain::auth::PRINCIPAL_TTL;

use crate::support::{ADMIN_EMAIL, ADMIN_PASSWORD, Response, TestApp, assert_error};

async fn post_token(app: &TestApp, path: &str, refresh_token: &str) -> Response {
    let body = json!({ "refresh_token": refresh_token });
    app.request(reqwest::Method::POST, path, None, Some(&body))
        .await
}

fn tokens(body: &Value) -> (String, String) {
    (
        body["access_token"].as_str().expect("access").to_owned(),
        body["refresh_token"].as_str().expect("refresh").to_owned(),
    )
}

/// Polls `token` on `app` until it is refused; fails if that takes longer than the
/// principal cache's lifetime plus a margin.
async fn refused_within_the_principal_ttl(app: &TestApp, token: &str, since: Instant) {
    let bound = PRINCIPAL_TTL + Duration::from_secs(1);
    loop {
        let status = app.get("/api/auth/profile", token).await.status;
        if status == StatusCode::UNAUTHORIZED {
            return;
        }
        assert_eq!(status, StatusCode::OK);
        assert!(
            since.elapsed() < bound,
            "still admitted {:?} after the change",
            since.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn logout_ends_the_access_token_on_another_instance_within_the_principal_ttl() {
    let first = TestApp::spawn().await;
    let second = TestApp::spawn_sharing(&first, |_| {}).await;
    let login = first.login_response(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (access, refresh) = tokens(&login.body);
    // The second instance now remembers the session as live.
    assert_eq!(
        second.get("/api/auth/profile", &access).await.status,
        StatusCode::OK
    );
    let logged_out = Instant::now();
    assert_eq!(
        post_token(&first, "/api/auth/logout", &refresh)
            .await
            .status,
        StatusCode::OK
    );
    // At once where it happened...
    assert_error(
        &first.get("/api/auth/profile", &access).await,
        StatusCode::UNAUTHORIZED,
    );
    // ...and within the cache window elsewhere.
    refused_within_the_principal_ttl(&second, &access, logged_out).await;
    // The harness's own session (another login) lives on.
    assert_eq!(
        second
            .get("/api/auth/profile", &second.admin_token)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_password_change_ends_every_session_on_every_instance() {
    let first = TestApp::spawn().await;
    let second = TestApp::spawn_sharing(&first, |_| {}).await;
    let other_device = second.login_response(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (other_access, other_refresh) = tokens(&other_device.body);
    assert_eq!(
        second.get("/api/auth/profile", &other_access).await.status,
        StatusCode::OK
    );
    let changed_at = Instant::now();
    let changed = first
        .post(
            "/api/auth/change-password",
            &first.admin_token,
            json!({"current_password": ADMIN_PASSWORD, "new_password": "a-new-password-1"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    refused_within_the_principal_ttl(&second, &other_access, changed_at).await;
    assert_error(
        &post_token(&second, "/api/auth/refresh", &other_refresh).await,
        StatusCode::UNAUTHORIZED,
    );
    // The new pair handed back works on both instances.
    let (fresh, _) = tokens(&changed.body);
    for app in [&first, &second] {
        assert_eq!(
            app.get("/api/auth/profile", &fresh).await.status,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn a_repeated_refresh_within_the_grace_window_returns_the_same_pair() {
    let app = TestApp::spawn().await;
    let login = app.login_response(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (_, refresh) = tokens(&login.body);
    // Two tabs (or a till retrying) refresh with the same token at the same moment.
    let (one, two) = tokio::join!(
        post_token(&app, "/api/auth/refresh", &refresh),
        post_token(&app, "/api/auth/refresh", &refresh)
    );
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    assert_eq!(two.status, StatusCode::OK, "{}", two.text);
    assert_eq!(tokens(&one.body), tokens(&two.body));
    // And once more, a little later: still the same pair, and it works.
    let three = post_token(&app, "/api/auth/refresh", &refresh).await;
    assert_eq!(three.status, StatusCode::OK, "{}", three.text);
    assert_eq!(tokens(&three.body), tokens(&one.body));
    let (access, next_refresh) = tokens(&one.body);
    assert_eq!(
        app.get("/api/auth/profile", &access).await.status,
        StatusCode::OK
    );
    // The pair is kept for the window, but sealed: the database does not hold it usable.
    assert_eq!(
        app.count_rows("refresh_tokens WHERE successor_refresh IS NOT NULL")
            .await,
        1
    );
    for token in [&access, &next_refresh] {
        let clear = format!(
            "refresh_tokens WHERE successor_refresh = '{token}' OR successor_access = '{token}'"
        );
        assert_eq!(app.count_rows(&clear).await, 0);
    }
    assert_eq!(
        post_token(&app, "/api/auth/refresh", &next_refresh)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn reusing_a_spent_refresh_token_after_the_grace_window_ends_the_whole_session() {
    let app = TestApp::spawn_with(|c| c.refresh_grace_secs = 1).await;
    let login = app.login_response(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (_, stolen) = tokens(&login.body);
    let renewed = post_token(&app, "/api/auth/refresh", &stolen).await;
    assert_eq!(renewed.status, StatusCode::OK);
    let (access, refresh) = tokens(&renewed.body);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // The thief replays the spent token: refused, and the family is revoked...
    assert_error(
        &post_token(&app, "/api/auth/refresh", &stolen).await,
        StatusCode::UNAUTHORIZED,
    );
    // ...so the legitimate successor pair is ended too.
    assert_error(
        &post_token(&app, "/api/auth/refresh", &refresh).await,
        StatusCode::UNAUTHORIZED,
    );
    assert_error(
        &app.get("/api/auth/profile", &access).await,
        StatusCode::UNAUTHORIZED,
    );
    // Other sessions of the user are untouched.
    assert_eq!(
        app.get("/api/auth/profile", &app.admin_token).await.status,
        StatusCode::OK
    );
    // The stored successor pair is erased once the session is ended.
    assert_eq!(
        app.count_rows("refresh_tokens WHERE successor_refresh IS NOT NULL")
            .await,
        0
    );
}

#[tokio::test]
async fn a_session_cannot_be_refreshed_past_its_maximum_age() {
    let app = TestApp::spawn_with(|c| c.session_max_age_secs = 2).await;
    let login = app.login_response(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (_, refresh) = tokens(&login.body);
    // No token outlives its session.
    assert!(login.body["expires_in"].as_u64().unwrap() <= 2);
    let renewed = post_token(&app, "/api/auth/refresh", &refresh).await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.text);
    let (_, refresh) = tokens(&renewed.body);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_error(
        &post_token(&app, "/api/auth/refresh", &refresh).await,
        StatusCode::UNAUTHORIZED,
    );
    // A new login opens a new session.
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
}

fn client_from(address: &str) -> reqwest::Client {
    let address: IpAddr = address.parse().unwrap();
    reqwest::Client::builder()
        .local_address(address)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn login_from(app: &TestApp, client: &reqwest::Client, password: &str) -> StatusCode {
    client
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
}

/// The scenario: 40 wrong passwords for the owner from one address, then the
/// right one from another address gets in at once. (With the request rate limits on, as
/// in production.)
#[tokio::test]
async fn a_flood_of_wrong_passwords_from_one_address_does_not_lock_the_owner_out() {
    let app = TestApp::spawn_with(|c| c.rate_limits = true).await;
    flood_then_owner(&app, &app).await;
}

/// The same across two instances sharing Redis: the back-off is one, wherever the
/// attempts land.
#[tokio::test]
async fn the_login_back_off_is_shared_through_redis() {
    let (url, prefix) = crate::support::test_redis();
    let configure = |c: &mut siprems::config::Config| {
        c.rate_limits = true;
        c.redis_url = Some(url.clone());
        c.redis_prefix = prefix.clone();
    };
    let first = TestApp::spawn_with(configure).await;
    let second = TestApp::spawn_sharing(&first, configure).await;
    flood_then_owner(&first, &second).await;
}

async fn flood_then_owner(attacked: &TestApp, other: &TestApp) {
    let attacker = client_from("127.0.0.2");
    let mut refused = 0;
    for _ in 0..40 {
        match login_from(attacked, &attacker, "wrong-password").await {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    // Most guesses were refused before any password was checked.
    assert!(refused >= 30, "only {refused} of 40 refused");
    let owner = client_from("127.0.0.3");
    assert_eq!(
        login_from(other, &owner, ADMIN_PASSWORD).await,
        StatusCode::OK
    );
    // The attacker's address still waits, even with the right password.
    assert_eq!(
        login_from(other, &attacker, ADMIN_PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// A burst of logins (a shop opening, every till at once) all complete, while at most one
/// Argon2 hash per core runs at any moment.
#[tokio::test]
async fn many_concurrent_logins_complete_with_bounded_hashing() {
    let app = TestApp::spawn().await;
    let limit = siprems::domain::auth::hashing_limit();
    let logins = (0..(limit * 4 + 4)).map(|n| {
        // One address each, so the per-address back-off is not what is tested.
        let client = client_from(&format!("127.0.1.{}", n + 1));
        let app = &app;
        async move { login_from(app, &client, ADMIN_PASSWORD).await }
    });
    let statuses = futures::future::join_all(logins).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    let peak = siprems::domain::auth::hashing_peak();
    assert!(
        (1..=limit).contains(&peak),
        "{peak} hashes at once, limit {limit}"
    );
}

#[tokio::test]
async fn a_role_change_ends_the_users_access_tokens_on_another_instance() {
    let first = TestApp::spawn().await;
    let second = TestApp::spawn_sharing(&first, |_| {}).await;
    let cashier = first.cashier("kasir@test.shop").await;
    assert_eq!(
        second.get("/api/auth/profile", &cashier).await.status,
        StatusCode::OK
    );
    let id = first.user_id("kasir@test.shop").await;
    let changed_at = Instant::now();
    let promoted = first
        .put(
            &format!("/api/users/{id}/role"),
            &first.admin_token,
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(promoted.status, StatusCode::OK);
    refused_within_the_principal_ttl(&second, &cashier, changed_at).await;
    // A new sign-in works, with the new role, on either instance.
    let token = second.login("kasir@test.shop", "cashier-password-1").await;
    assert_eq!(first.get("/api/users", &token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_sweep_deletes_sessions_ended_a_week_ago_and_keeps_the_live_ones() {
    use siprems::domain::auth::{ENDED_SESSIONS_KEPT, SessionSweep, sweep_ended_sessions};
    use siprems::infra::queue::JobSpec;

    let app = TestApp::spawn().await;
    // One session ended by a logout, one live with a refresh behind it.
    let ended = app.login_response(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (_, ended_refresh) = tokens(&ended.body);
    assert_eq!(
        post_token(&app, "/api/auth/logout", &ended_refresh)
            .await
            .status,
        StatusCode::OK
    );
    let live = app.login_response(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (_, first_refresh) = tokens(&live.body);
    let renewed = post_token(&app, "/api/auth/refresh", &first_refresh).await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.text);
    let (live_access, live_refresh) = tokens(&renewed.body);
    let (sessions, refresh_tokens) = (
        app.count_rows("sessions").await,
        app.count_rows("refresh_tokens").await,
    );

    // The scheduled job: the logout is minutes old, within the week it is kept.
    let task = app
        .state
        .queue
        .enqueue(&JobSpec::SweepSessions, Duration::ZERO, None)
        .await
        .unwrap();
    let done = app.wait_for_task(&task.task_id, 30).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(
        done["result"],
        json!({"sessions_deleted": 0, "refresh_tokens_deleted": 0}),
        "{done}"
    );

    // A week and a minute later the ended session goes, with its one token; the live
    // sessions (30-day lifetime) and their tokens stay.
    let later = siprems::storage::now_millis() + ENDED_SESSIONS_KEPT.as_millis() as i64 + 60_000;
    let swept = sweep_ended_sessions(&app.state.db, later).await.unwrap();
    assert_eq!(
        swept,
        SessionSweep {
            sessions_deleted: 1,
            refresh_tokens_deleted: 1
        }
    );
    assert_eq!(app.count_rows("sessions").await, sessions - 1);
    assert_eq!(app.count_rows("refresh_tokens").await, refresh_tokens - 1);
    assert_eq!(
        sweep_ended_sessions(&app.state.db, later).await.unwrap(),
        SessionSweep {
            sessions_deleted: 0,
            refresh_tokens_deleted: 0
        },
        "a second sweep finds nothing"
    );

    // The live session still works; the swept token is still refused.
    assert_eq!(
        app.get("/api/auth/profile", &live_access).await.status,
        StatusCode::OK
    );
    assert_eq!(
        post_token(&app, "/api/auth/refresh", &live_refresh)
            .await
            .status,
        StatusCode::OK
    );
    assert_error(
        &post_token(&app, "/api/auth/refresh", &ended_refresh).await,
        StatusCode::UNAUTHORIZED,
    );
}
