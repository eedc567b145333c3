//! Every write carries its own consequences: the next read through the cache sees it (in
//! this process and in others), and retraining is queued where it should be and only there.
//! These servers run without Redis, so the cache lives in the process and the generation
//! counters in the database: the hardest case for freshness.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use siprems::demo;
use siprems::domain::forecasting::Outcome;
use siprems::services::Services;

use crate::support::{TestApp, weekly_history_csv};

/// Reads `path` twice and checks that the second answer came from the cache, so that a
/// later read shows a write only if the write invalidated what it changed.
async fn cached(app: &TestApp, path: &str) -> Value {
    let hits_before = cache_hits(app).await;
    let first = app.get(path, &app.admin_token).await;
    assert_eq!(first.status, StatusCode::OK, "{path}: {}", first.text);
    let second = app.get(path, &app.admin_token).await;
    assert_eq!(second.body, first.body);
    assert!(
        cache_hits(app).await > hits_before,
        "{path} was not served from the cache"
    );
    second.body
}

async fn cache_hits(app: &TestApp) -> u64 {
    let stats = app.request(Method::GET, "/cache-stats", None, None).await;
    stats.body["hits"].as_u64().unwrap()
}

async fn scheduled_kinds(app: &TestApp) -> Vec<String> {
    let scheduled = app.get("/api/tasks/scheduled", &app.admin_token).await;
    assert_eq!(scheduled.status, StatusCode::OK, "{}", scheduled.text);
    scheduled
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|task| task["kind"].as_str().unwrap().to_owned())
        .collect()
}

/// Polls `path` until `done` holds, for at most `seconds`.
async fn eventually(
    app: &TestApp,
    path: &str,
    seconds: u64,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        let response = app.get(path, &app.admin_token).await;
        if done(&response.body) {
            return response.body;
        }
        assert!(
            Instant::now() < deadline,
            "{path} still answers {} after {seconds} s",
            response.text
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn product_writes_reach_the_cached_list_stats_and_product() {
    let app = TestApp::spawn().await;
    app.create_product("A-1", "1000", 5).await;
    assert_eq!(cached(&app, "/api/products").await["total"], 1);
    assert_eq!(
        cached(&app, "/api/products/stats").await["units_in_stock"],
        5
    );
    assert_eq!(
        cached(&app, "/api/products/A-1").await["name"],
        "Product A-1"
    );

    app.create_product("B-1", "1000", 5).await;
    assert_eq!(cached(&app, "/api/products").await["total"], 2);

    let updated = app
        .put(
            "/api/products/A-1",
            &app.admin_token,
            json!({"name": "Roti Tawar"}),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(
        cached(&app, "/api/products/A-1").await["name"],
        "Roti Tawar"
    );

    let restocked = app
        .post(
            "/api/products/A-1/stock",
            &app.admin_token,
            json!({"change": 7, "reason": "restock"}),
        )
        .await;
    assert_eq!(restocked.status, StatusCode::OK, "{}", restocked.text);
    assert_eq!(
        cached(&app, "/api/products/stats").await["units_in_stock"],
        17
    );

    assert_eq!(
        app.delete("/api/products/B-1", &app.admin_token)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(cached(&app, "/api/products").await["total"], 1);
    assert_eq!(
        scheduled_kinds(&app).await,
        Vec::<String>::new(),
        "catalogue edits train nothing"
    );
}

#[tokio::test]
async fn category_writes_reach_the_cached_stats() {
    let app = TestApp::spawn().await;
    assert_eq!(cached(&app, "/api/products/stats").await["categories"], 0);
    let created = app
        .post(
            "/api/categories",
            &app.admin_token,
            json!({"name": "Bread"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(cached(&app, "/api/products/stats").await["categories"], 1);
    let id = created.body["category_id"].as_i64().unwrap();
    let removed = app
        .delete(&format!("/api/categories/{id}"), &app.admin_token)
        .await;
    assert!(removed.status.is_success(), "{}", removed.text);
    assert_eq!(cached(&app, "/api/products/stats").await["categories"], 0);
}

#[tokio::test]
async fn a_sale_reaches_cached_stock_and_dashboard_and_never_queues_training() {
    let app = TestApp::spawn().await;
    app.create_product("A-1", "1000", 5).await;
    app.import_history(&weekly_history_csv("A-1", 30, 3.0))
        .await;
    let stale = app.count_rows("stale_models").await;
    assert_eq!(cached(&app, "/api/products/A-1").await["stock"], 5);
    let today = "/api/dashboard-stats?range=today";
    assert_eq!(cached(&app, today).await["transactions"], 0);

    let sale = app
        .checkout(
            &app.admin_token,
            json!([{"product_sku": "A-1", "quantity": 2}]),
        )
        .await;
    assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.text);
    assert_eq!(cached(&app, "/api/products/A-1").await["stock"], 3);
    assert_eq!(cached(&app, today).await["transactions"], 1);
    assert_eq!(
        scheduled_kinds(&app).await,
        Vec::<String>::new(),
        "a sale queues no training"
    );
    assert_eq!(
        app.count_rows("stale_models").await,
        stale,
        "a sale marks no model stale"
    );
}

#[tokio::test]
async fn settings_reach_every_cached_answer() {
    let app = TestApp::spawn().await;
    app.create_product("A-1", "1000", 5).await;
    assert_eq!(
        cached(&app, "/api/products/stats").await["low_stock_products"],
        1
    );
    let updated = app
        .put(
            "/api/settings",
            &app.admin_token,
            json!({"low_stock_threshold": 2}),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(
        cached(&app, "/api/products/stats").await["low_stock_products"],
        0
    );
}

#[tokio::test]
async fn events_reach_cached_forecasts_and_queue_one_debounced_retraining() {
    let app = TestApp::spawn().await;
    app.create_product("A-1", "1000", 50).await;
    app.import_history(&weekly_history_csv("A-1", 120, 10.0))
        .await;
    let predict = json!({"product_sku": "A-1", "days": 7});
    let first = app
        .post("/api/predict", &app.admin_token, predict.clone())
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let tomorrow = first.body["chartData"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["actual"].is_null())
        .unwrap()["date"]
        .as_str()
        .unwrap()
        .to_owned();
    let event = app
        .post(
            "/api/events",
            &app.admin_token,
            json!({"name": "Lebaran", "date": tomorrow, "type": "holiday"}),
        )
        .await;
    assert_eq!(event.status, StatusCode::CREATED, "{}", event.text);
    let again = app.post("/api/predict", &app.admin_token, predict).await;
    let marked = again.body["chartData"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["date"] == tomorrow.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        marked["event"], "Lebaran",
        "the cached chart shows the new event: {marked}"
    );
    assert_eq!(scheduled_kinds(&app).await, vec!["train_stale"]);
    assert_eq!(
        app.count_rows("stale_models").await,
        1,
        "the event marks the model stale"
    );
}

#[tokio::test]
async fn an_import_marks_its_products_stale_reaches_cached_answers_and_trains_them() {
    let app = TestApp::spawn_with(|c| {
        c.warm_up = true;
        c.in_process_jobs = false;
    })
    .await;
    app.create_product("A-1", "1000", 5).await;
    let week = "/api/dashboard-stats?range=7d";
    assert_eq!(cached(&app, week).await["units_sold"], 0);
    app.import_history(&weekly_history_csv("A-1", 30, 3.0))
        .await;
    assert!(cached(&app, week).await["units_sold"].as_i64().unwrap() > 0);
    assert_eq!(app.count_rows("stale_models").await, 1);
    assert_eq!(scheduled_kinds(&app).await, vec!["train_stale"]);
}

/// A worker in another process activates models; a server without Redis hears of it
/// through the database within a couple of seconds, not at the cache entry's expiry.
#[tokio::test]
async fn models_activated_by_another_process_reach_the_cached_recommendations() {
    let app = TestApp::spawn_with(|c| c.in_process_jobs = false).await;
    for sku in ["A-1", "B-1"] {
        app.create_product(sku, "1000", 5).await;
        app.import_history(&weekly_history_csv(sku, 60, 4.0)).await;
    }
    let path = "/api/recommendations?days=7";
    assert_eq!(
        cached(&app, path).await["without_model"],
        json!(["A-1", "B-1"])
    );

    // Another process: services of its own, with its own in-process cache.
    let mut config = (*app.state.config).clone();
    config.forecast_model = forecast::ModelChoice::Only(forecast::ModelKind::SeasonalNaive);
    let worker = Services::build(config).await.unwrap();
    for sku in ["A-1", "B-1"] {
        let outcome = worker
            .forecaster
            .train_product(&sku.parse().unwrap())
            .await
            .unwrap();
        assert_eq!(outcome.outcome, Outcome::Activated, "{outcome:?}");
    }
    worker.close().await;

    let started = Instant::now();
    let fresh = eventually(&app, path, 5, |body| body["without_model"] == json!([])).await;
    assert_eq!(fresh["items"].as_array().unwrap().len(), 2);
    println!("fresh after {:?}", started.elapsed());
}

/// `siprems import` run beside a running server (the embedded shop's owner loading last
/// year's till exports): the server's answers change within seconds.
#[tokio::test]
async fn a_cli_import_reaches_a_running_servers_cache() {
    let app = TestApp::spawn().await;
    app.create_product("A-1", "1000", 5).await;
    let week = "/api/dashboard-stats?range=7d";
    assert_eq!(cached(&app, week).await["units_sold"], 0);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("history.csv");
    std::fs::write(&file, weekly_history_csv("A-1", 10, 3.0)).unwrap();
    let mut import = std::process::Command::new(env!("CARGO_BIN_EXE_siprems"));
    if let Some(direct) = &app.database.migration_url {
        import.env("DATABASE_MIGRATION_URL", direct);
    }
    let output = import
        .arg("import")
        .arg(&file)
        .env("DATABASE_URL", &app.database.url)
        .env("SIPREMS_WARM_UP", "0")
        .env("SIPREMS_LOG_FORMAT", "json")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    eventually(&app, week, 5, |body| body["units_sold"].as_i64() > Some(0)).await;
}

/// After the demo shop is loaded, every product gets a model in the background, without
/// waiting for the nightly run.
#[tokio::test]
async fn loading_the_demo_shop_trains_every_product_in_the_background() {
    let app = TestApp::spawn_with(|c| {
        c.warm_up = true;
        // The mechanism is the subject here, not the model: the fastest kind keeps the
        // unoptimised test build quick.
        c.forecast_model = forecast::ModelChoice::Only(forecast::ModelKind::SeasonalNaive);
    })
    .await;
    let options = demo::DemoOptions { seed: 7, days: 60 };
    let summary = demo::seed(&app.state.shop, &options).await.unwrap();
    let path = "/api/recommendations?days=7";
    let done = eventually(&app, path, 60, |body| body["without_model"] == json!([])).await;
    assert_eq!(done["items"].as_array().unwrap().len(), summary.products);
    assert_eq!(app.count_rows("stale_models").await, 0);
}
