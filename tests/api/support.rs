//! The one test-support module: spawns the real server on a random port against a fresh
//! database and talks HTTP to it.
//!
//! The backend comes from `SIPREMS_TEST_DATABASE_URL`: unset means a fresh SQLite file per
//! test; `postgres://...` means a fresh database per test on that server. With
//! `SIPREMS_TEST_PGBOUNCER_URL` as well, the server reaches that database through pgBouncer
//! (transaction pooling) and migrates it directly. An unreachable PostgreSQL fails the test.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use siprems::app::{AppState, Application};
use siprems::config::Config;
use siprems::storage::Db;
use sqlx::Connection;
use tokio::sync::oneshot;

pub const ADMIN_EMAIL: &str = "owner@test.shop";
pub const ADMIN_PASSWORD: &str = "owner-password-123";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub admin_token: String,
    pub database: TestDatabase,
    /// The running server's state, for tests that reach behind the API.
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: tempfile::TempDir,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Response {
    /// The JSON `error` message of a failed request.
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }
}

/// Where a test's server keeps its data.
#[derive(Clone, Debug)]
pub struct TestDatabase {
    /// What the server connects to (through pgBouncer when the run uses it).
    pub url: String,
    /// PostgreSQL directly, when `url` goes through pgBouncer.
    pub migration_url: Option<String>,
}

async fn fresh_database(dir: &tempfile::TempDir) -> TestDatabase {
    let url = fresh_database_url(dir).await;
    match std::env::var("SIPREMS_TEST_PGBOUNCER_URL") {
        Ok(pooler) if url.starts_with("postgres") => {
            let (_, name) = url.rsplit_once('/').expect("database url has a path");
            let pooler = pooler.trim_end_matches('/');
            TestDatabase {
                url: format!("{pooler}/{name}?pgbouncer=true"),
                migration_url: Some(url),
            }
        }
        _ => TestDatabase {
            url,
            migration_url: None,
        },
    }
}

async fn fresh_database_url(dir: &tempfile::TempDir) -> String {
    match std::env::var("SIPREMS_TEST_DATABASE_URL") {
        Ok(server) if server.starts_with("postgres") => {
            let name = format!("siprems_test_{}", uuid::Uuid::new_v4().simple());
            let mut admin = sqlx::PgConnection::connect(&server)
                .await
                .unwrap_or_else(|e| {
                    panic!("PostgreSQL at SIPREMS_TEST_DATABASE_URL is unreachable: {e}")
                });
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut admin)
                .await
                .expect("create test database");
            let (base, _) = server.rsplit_once('/').expect("database url has a path");
            format!("{base}/{name}")
        }
        _ => format!("sqlite://{}", dir.path().join("test.db").display()),
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// A second instance on the same database (a scaled deployment in miniature).
    pub async fn spawn_sharing(other: &TestApp, customize: impl FnOnce(&mut Config)) -> TestApp {
        Self::spawn_on(Some(other.database.clone()), customize).await
    }

    pub async fn spawn_with(customize: impl FnOnce(&mut Config)) -> TestApp {
        Self::spawn_on(None, customize).await
    }

    async fn spawn_on(
        database: Option<TestDatabase>,
        customize: impl FnOnce(&mut Config),
    ) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = match database {
            Some(database) => database,
            None => fresh_database(&dir).await,
        };
        let mut config = Config::defaults();
        config.bind = "127.0.0.1:0".parse().unwrap();
        config.database_url = database.url.clone();
        config.database_migration_url = database.migration_url.clone();
        config.db_max_connections = 8;
        config.jwt_secret = Some("test-secret-that-is-long-enough-for-hs256!".into());
        config.admin_email = ADMIN_EMAIL.into();
        config.admin_password = Some(ADMIN_PASSWORD.into());
        config.demo = false;
        config.timezone = chrono_tz::Asia::Jakarta;
        // Most tests fire requests faster than a shop ever would; the limiter has its own.
        config.rate_limits = false;
        // Tests that load history train it themselves when they need a model.
        config.warm_up = false;
        customize(&mut config);
        let admin_email = config.admin_email.clone();

        let app = Application::build(config)
            .await
            .expect("application builds");
        let address = format!("http://{}", app.local_addr());
        let state = app.state().clone();
        let (shutdown, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let mut test_app = TestApp {
            address,
            client,
            admin_token: String::new(),
            database,
            state,
            shutdown: Some(shutdown),
            server: Some(server),
            _dir: dir,
        };
        test_app.admin_token = test_app.login(&admin_email, ADMIN_PASSWORD).await;
        test_app
    }

    /// Asks the server to shut down gracefully, without waiting.
    pub fn begin_stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }

    /// Stops the server gracefully and waits until it has finished.
    pub async fn stop(&mut self) {
        self.begin_stop();
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server ran cleanly");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        into_response(request.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Response {
        self.request(Method::POST, path, Some(token), Some(&body))
            .await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Response {
        self.request(Method::PUT, path, Some(token), Some(&body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.request(Method::DELETE, path, Some(token), None).await
    }

    /// Sends a raw body with a JSON content type (for malformed-input tests).
    pub async fn post_raw(
        &self,
        path: &str,
        token: &str,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        let request = self
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body);
        into_response(request.send().await.expect("request sent")).await
    }

    pub async fn login(&self, email: &str, password: &str) -> String {
        let response = self
            .request(
                Method::POST,
                "/api/auth/login",
                None,
                Some(&json!({"email": email, "password": password})),
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "login failed: {}",
            response.text
        );
        response.body["access_token"]
            .as_str()
            .expect("access token")
            .to_owned()
    }

    /// Creates a cashier through the admin API (self-registration is closed by default)
    /// and returns their token.
    pub async fn cashier(&self, email: &str) -> String {
        let response = self
            .post(
                "/api/users",
                &self.admin_token,
                json!({"email": email, "password": "cashier-password-1", "full_name": "Cashier", "role": "cashier"}),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        assert_eq!(response.body["user"]["role"], "cashier");
        self.login(email, "cashier-password-1").await
    }

    /// Logs in and returns the whole answer (tokens and user).
    pub async fn login_response(&self, email: &str, password: &str) -> Response {
        self.request(
            Method::POST,
            "/api/auth/login",
            None,
            Some(&json!({"email": email, "password": password})),
        )
        .await
    }

    pub async fn create_product(&self, sku: &str, price: &str, stock: i64) -> Value {
        let response = self
            .post(
                "/api/products",
                &self.admin_token,
                json!({"sku": sku, "name": format!("Product {sku}"), "category": "Bakery",
                       "price": price, "cost_price": "1000", "stock": stock}),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
        response.body
    }

    pub async fn checkout(&self, token: &str, items: Value) -> Response {
        self.post("/api/transactions", token, json!({ "items": items }))
            .await
    }

    pub async fn stock_of(&self, sku: &str) -> i64 {
        let response = self
            .get(&format!("/api/products/{sku}"), &self.admin_token)
            .await;
        response.body["stock"].as_i64().expect("stock")
    }

    /// Products whose stock differs from their ledger sum, read straight from the database.
    pub async fn ledger_mismatches(&self) -> Vec<(String, i64, i64)> {
        let db = Db::connect(&self.database.url, 1).await.expect("connect");
        let mismatches = siprems::storage::ledger::mismatches(db.pool())
            .await
            .expect("query");
        db.close().await;
        mismatches
    }

    /// The id of the account with this e-mail, as an admin lists it.
    pub async fn user_id(&self, email: &str) -> i64 {
        let users = self.get("/api/users", &self.admin_token).await;
        users
            .body
            .as_array()
            .expect("a user list")
            .iter()
            .find(|u| u["email"] == email)
            .unwrap_or_else(|| panic!("no user {email}"))["user_id"]
            .as_i64()
            .expect("a user id")
    }

    pub async fn count_rows(&self, table: &str) -> i64 {
        let db = Db::connect(&self.database.url, 1).await.expect("connect");
        let (n,): (i64,) =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(db.pool())
                .await
                .expect("count");
        db.close().await;
        n
    }
}

impl TestApp {
    /// Loads sales history through the import (as `siprems import` would).
    pub async fn import_history(&self, csv: &str) {
        let options = siprems::import::ImportOptions {
            create_products: false,
        };
        siprems::import::import_bytes(
            &self.state.shop,
            csv.as_bytes(),
            &options,
            &siprems::progress::Silent,
        )
        .await
        .expect("history imports");
    }

    /// Polls a task until it leaves the queue, for at most `seconds`.
    pub async fn wait_for_task(&self, task_id: &str, seconds: u64) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
        loop {
            let task = self
                .get(&format!("/api/tasks/{task_id}"), &self.admin_token)
                .await;
            assert_eq!(task.status, StatusCode::OK, "{}", task.text);
            let status = task.body["status"].as_str().unwrap_or_default().to_owned();
            if !["queued", "running"].contains(&status.as_str()) {
                return task.body;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "task {task_id} still {status}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Runs a job worker on `queue` (for an app spawned without in-process jobs) until the
    /// task leaves the queue, for at most `seconds`, then stops it.
    pub async fn work_until_done(
        &self,
        queue: siprems::infra::queue::JobQueue,
        task_id: &str,
        seconds: u64,
    ) -> Value {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let worker = tokio::spawn(siprems::infra::queue::run_worker(
            queue,
            self.state.forecaster.clone(),
            self.state.db.clone(),
            Duration::from_secs(60),
            stopped,
        ));
        let done = self.wait_for_task(task_id, seconds).await;
        stop.send(true).unwrap();
        worker.await.unwrap();
        done
    }
}

/// Daily history as import CSV: `days` days ending yesterday (store time), a weekly
/// pattern (weekends busier) with a little deterministic wobble.
pub fn weekly_history_csv(sku: &str, days: i64, base: f64) -> String {
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Jakarta)
        .date_naive();
    let mut csv = String::from("date,sku,quantity\n");
    for back in (1..=days).rev() {
        let date = today - chrono::Duration::days(back);
        let weekday = chrono::Datelike::weekday(&date).num_days_from_monday() as f64;
        let weekend = if weekday >= 5.0 { 1.6 } else { 1.0 };
        let wobble = ((back * 7919) % 5) as f64 - 2.0;
        let quantity = (base * weekend + wobble).round().max(1.0) as i64;
        csv.push_str(&format!("{date},{sku},{quantity}\n"));
    }
    csv
}

async fn into_response(response: reqwest::Response) -> Response {
    let status = response.status();
    let headers = response.headers().clone();
    let path = response.url().path().to_owned();
    let text = response.text().await.expect("body");
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    // Every error answer carries a machine-readable code (except /ready, whose 503 is its
    // readiness report).
    if (status.is_client_error() || status.is_server_error()) && path != "/ready" {
        assert!(
            body["code"].as_str().is_some_and(|c| !c.is_empty()),
            "{status} from {path} without a code: {text}"
        );
    }
    Response {
        status,
        headers,
        body,
        text,
    }
}

/// The Redis the tests use (`SIPREMS_TEST_REDIS_URL`, default the local server) and a key
/// prefix of their own, so tests never see each other's keys.
pub fn test_redis() -> (String, String) {
    let url = std::env::var("SIPREMS_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into());
    (
        url,
        format!("siprems-test:{}:", uuid::Uuid::new_v4().simple()),
    )
}

/// Every error answer has the same shape.
pub fn assert_error(response: &Response, status: StatusCode) {
    assert_eq!(
        response.status, status,
        "unexpected answer: {}",
        response.text
    );
    assert!(
        response.body["error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "error body lacks a message: {}",
        response.text
    );
    assert!(
        response.body["code"].as_str().is_some_and(
            |c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
        ),
        "error body lacks a snake_case code: {}",
        response.text
    );
}
