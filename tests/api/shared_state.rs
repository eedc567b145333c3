//! Cache, rate limits and login back-off, in process and through Redis.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{ADMIN_EMAIL, TestApp, assert_error, test_redis};

#[tokio::test]
async fn reads_are_cached_and_writes_invalidate_them() {
    let (url, prefix) = test_redis();
    let app = TestApp::spawn_with(|c| {
        c.redis_url = Some(url);
        c.redis_prefix = prefix;
    })
    .await;
    app.create_product("A-1", "1000", 5).await;
    assert_eq!(
        app.get("/api/products", &app.admin_token).await.body["total"],
        1
    );
    assert_eq!(
        app.get("/api/products", &app.admin_token).await.body["total"],
        1
    );
    let stats = app.request(Method::GET, "/cache-stats", None, None).await;
    assert_eq!(stats.status, StatusCode::OK);
    assert_eq!(stats.body["backend"], "redis");
    assert_eq!(stats.body["available"], true);
    assert_eq!(stats.body["namespaces"]["product_list"]["misses"], 1);
    assert_eq!(stats.body["namespaces"]["product_list"]["hits"], 1);
    assert_eq!(
        stats.body["namespaces"]["product_list"]["ttl_seconds"],
        1800
    );
    assert!(stats.body["keys"].as_u64().unwrap() >= 1);

    // A write anywhere makes the cached answers stale at once.
    app.create_product("B-1", "1000", 5).await;
    assert_eq!(
        app.get("/api/products", &app.admin_token).await.body["total"],
        2
    );
    app.checkout(
        &app.admin_token,
        json!([{"product_sku": "A-1", "quantity": 2}]),
    )
    .await;
    assert_eq!(
        app.get("/api/products/A-1", &app.admin_token).await.body["stock"],
        3
    );
    let dashboard = app
        .get("/api/dashboard-stats?range=today", &app.admin_token)
        .await;
    assert_eq!(dashboard.body["transactions"], 1);
    app.checkout(
        &app.admin_token,
        json!([{"product_sku": "A-1", "quantity": 1}]),
    )
    .await;
    assert_eq!(
        app.get("/api/products/A-1", &app.admin_token).await.body["stock"],
        2
    );
    let dashboard = app
        .get("/api/dashboard-stats?range=today", &app.admin_token)
        .await;
    assert_eq!(dashboard.body["transactions"], 2);
}

#[tokio::test]
async fn the_api_limit_returns_429_with_retry_after() {
    let app = TestApp::spawn_with(|c| c.rate_limits = true).await;
    let mut statuses = Vec::new();
    for _ in 0..30 {
        statuses.push(app.get("/api/categories", &app.admin_token).await);
    }
    let admitted = statuses
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    assert!(
        (20..=23).contains(&admitted),
        "burst 20 plus at most a few refills: {admitted}"
    );
    let refused = statuses
        .iter()
        .find(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .unwrap();
    assert_error(refused, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        refused.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    // Operations endpoints are never limited.
    for _ in 0..30 {
        assert_eq!(
            app.request(Method::GET, "/health", None, None).await.status,
            StatusCode::OK
        );
    }
}

async fn admitted_across(first: &TestApp, second: &TestApp, requests: usize) -> (usize, Duration) {
    let started = Instant::now();
    let mut admitted = 0;
    for i in 0..requests {
        let app = if i % 2 == 0 { first } else { second };
        if app.get("/api/categories", &first.admin_token).await.status == StatusCode::OK {
            admitted += 1;
        }
    }
    (admitted, started.elapsed())
}

#[tokio::test]
async fn two_instances_on_redis_share_one_limit() {
    let (url, prefix) = test_redis();
    let redis = |c: &mut siprems::config::Config| {
        c.rate_limits = true;
        c.redis_url = Some(url.clone());
        c.redis_prefix = prefix.clone();
    };
    let first = TestApp::spawn_with(redis).await;
    let second = TestApp::spawn_sharing(&first, redis).await;
    let (admitted, elapsed) = admitted_across(&first, &second, 60).await;
    // One limit: the burst of 20 plus 10 per second of elapsed time.
    let one_limit = 20 + (elapsed.as_secs_f64() * 10.0).ceil() as usize;
    assert!(
        admitted <= one_limit,
        "admitted {admitted} in {elapsed:?}; one limit allows {one_limit}"
    );
    assert!(admitted >= 20, "admitted {admitted}");

    // The same two instances without Redis each keep their own buckets: twice the burst.
    let alone = |c: &mut siprems::config::Config| c.rate_limits = true;
    let third = TestApp::spawn_with(alone).await;
    let fourth = TestApp::spawn_sharing(&third, alone).await;
    let (separate, _) = admitted_across(&third, &fourth, 60).await;
    assert!(
        separate >= 40,
        "per-process limits admit two bursts: {separate}"
    );
}

#[tokio::test]
async fn repeated_failed_logins_back_off_per_account_and_address() {
    let app = TestApp::spawn().await;
    let app = &app;
    let attempt = |password: &'static str| {
        let body = json!({"email": ADMIN_EMAIL, "password": password});
        async move {
            app.request(Method::POST, "/api/auth/login", None, Some(&body))
                .await
        }
    };
    for _ in 0..siprems::domain::auth::LOGIN_PAIR_FREE {
        assert_error(&attempt("wrong-password").await, StatusCode::UNAUTHORIZED);
    }
    let blocked = attempt("wrong-password").await;
    assert_error(&blocked, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = blocked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1 && retry <= siprems::domain::auth::LOGIN_PAIR_INTERVAL.as_secs());
    // Even the right password waits its turn from this address (it might be a guess).
    let right_too_soon = attempt(crate::support::ADMIN_PASSWORD).await;
    assert_error(&right_too_soon, StatusCode::TOO_MANY_REQUESTS);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct RedisServer(Child);

impl RedisServer {
    fn start(port: u16) -> RedisServer {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (apt-get install redis-server)");
        RedisServer(child)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn readiness_until(app: &TestApp, wanted: &str, seconds: u64) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        let ready = app.request(Method::GET, "/ready", None, None).await;
        assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
        if ready.body["status"] == wanted || Instant::now() > deadline {
            return ready.body;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn redis_going_away_degrades_service_and_its_return_restores_it() {
    let port = free_port();
    let mut redis = Some(RedisServer::start(port));
    let app =
        TestApp::spawn_with(|c| c.redis_url = Some(format!("redis://127.0.0.1:{port}/0"))).await;
    assert_eq!(
        readiness_until(&app, "ready", 10).await["checks"]["cache"],
        "ok"
    );
    app.create_product("A-1", "1000", 5).await;

    redis.take();
    let degraded = readiness_until(&app, "degraded", 10).await;
    assert_eq!(degraded["status"], "degraded");
    assert_eq!(degraded["checks"]["cache"], "unreachable");
    assert_eq!(degraded["checks"]["database"], "ok");
    // The database still answers every request; nothing is lost.
    assert_eq!(
        app.get("/api/products", &app.admin_token).await.body["total"],
        1
    );
    let sale = app
        .checkout(
            &app.admin_token,
            json!([{"product_sku": "A-1", "quantity": 1}]),
        )
        .await;
    assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.text);
    assert_eq!(
        app.get("/api/products/A-1", &app.admin_token).await.body["stock"],
        4
    );
    let stats = app.request(Method::GET, "/cache-stats", None, None).await;
    assert_eq!(stats.body["available"], false);
    assert!(
        stats.body["namespaces"]["product_list"]["bypassed"]
            .as_u64()
            .unwrap()
            >= 1
    );

    let _back = RedisServer::start(port);
    let ready = readiness_until(&app, "ready", 15).await;
    assert_eq!(ready["status"], "ready", "recovers by itself: {ready}");
    assert_eq!(
        app.get("/api/products/A-1", &app.admin_token).await.body["stock"],
        4
    );
}

#[tokio::test]
async fn an_unreachable_redis_at_start_up_is_not_fatal() {
    let port = free_port();
    let app =
        TestApp::spawn_with(|c| c.redis_url = Some(format!("redis://127.0.0.1:{port}/0"))).await;
    let ready = app.request(Method::GET, "/ready", None, None).await;
    assert_eq!(ready.body["status"], "degraded");
    assert_eq!(
        app.get("/api/products", &app.admin_token).await.status,
        StatusCode::OK
    );
}
