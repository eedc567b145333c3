use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::json;
use siprems::domain::forecasting::{ForecastSettings, Forecaster, Outcome};
use siprems::infra::model_store::DatabaseModelStore;
use siprems::infra::queue::TaskStatus;

use crate::support::{TestApp, assert_error, weekly_history_csv};

async fn shop_with_history() -> TestApp {
    let app = TestApp::spawn().await;
    app.create_product("BRD-001", "15000", 40).await;
    app.create_product("SHORT-1", "5000", 10).await;
    app.import_history(&weekly_history_csv("BRD-001", 120, 20.0))
        .await;
    app.import_history(&weekly_history_csv("SHORT-1", 10, 5.0))
        .await;
    app
}

#[tokio::test]
async fn predict_returns_history_forecast_advice_accuracy_and_the_model() {
    let app = shop_with_history().await;
    let response = app
        .post(
            "/api/predict",
            &app.admin_token,
            json!({"product_sku": "BRD-001", "days": 14}),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    let body = &response.body;
    assert_eq!(body["product_sku"], "BRD-001");
    let chart = body["chartData"].as_array().unwrap();
    let (history, forecast): (Vec<_>, Vec<_>) = chart.iter().partition(|p| p["actual"].is_number());
    assert_eq!(forecast.len(), 14);
    assert_eq!(history.len(), 60);
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Jakarta)
        .date_naive();
    let tomorrow = (today + chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(
        forecast[0]["date"],
        tomorrow.as_str(),
        "the forecast starts tomorrow"
    );
    let mut weekend_mean = 0.0;
    let mut weekday_mean = 0.0;
    for point in &forecast {
        let (p, lo, hi) = (
            point["predicted"].as_f64().unwrap(),
            point["lower"].as_f64().unwrap(),
            point["upper"].as_f64().unwrap(),
        );
        assert!(
            p.is_finite() && p >= 0.0 && lo >= 0.0 && lo <= p && p <= hi,
            "{point}"
        );
        let date =
            chrono::NaiveDate::parse_from_str(point["date"].as_str().unwrap(), "%Y-%m-%d").unwrap();
        if chrono::Datelike::weekday(&date).num_days_from_monday() >= 5 {
            weekend_mean += p / 4.0;
        } else {
            weekday_mean += p / 10.0;
        }
    }
    assert!(
        weekend_mean > weekday_mean * 1.2,
        "weekly pattern: {weekend_mean} vs {weekday_mean}"
    );
    assert!(
        (15.0..=28.0).contains(&weekday_mean),
        "weekday level {weekday_mean}"
    );

    let advice = &body["recommendations"][0];
    assert_eq!(advice["product_sku"], "BRD-001");
    assert_eq!(advice["current"], 40);
    let optimal = advice["optimal"].as_i64().unwrap();
    assert_eq!(advice["gap"].as_i64().unwrap(), optimal - 40);
    assert_eq!(
        advice["urgency"], "high",
        "40 units cannot cover two weeks of ~20 a day"
    );
    assert!(advice["stockout_date"].as_str().is_some());
    for metric in ["smape", "mase", "wape", "mae", "score"] {
        assert!(
            body["accuracy"][metric]
                .as_f64()
                .is_some_and(f64::is_finite),
            "{metric}"
        );
    }
    assert!(
        ["prophet", "ets", "naive", "ensemble"].contains(&body["model"]["kind"].as_str().unwrap())
    );
    let version = body["model"]["version"].as_i64().unwrap();

    // The active version answers the next request without retraining.
    let again = app
        .post(
            "/api/predict",
            &app.admin_token,
            json!({"product_sku": "BRD-001", "days": 365}),
        )
        .await;
    assert_eq!(again.body["model"]["version"], version);
    assert_eq!(again.body["chartData"].as_array().unwrap().len(), 60 + 365);
    let versions = app
        .get("/api/products/BRD-001/models", &app.admin_token)
        .await;
    let versions = versions.body.as_array().unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0]["status"], "active");
}

#[tokio::test]
async fn todays_sales_are_left_out_of_training_until_the_day_is_over() {
    let app = TestApp::spawn().await;
    app.create_product("BRD-001", "15000", 400).await;
    app.import_history(&weekly_history_csv("BRD-001", 120, 20.0))
        .await;
    // An hour into the day: one loaf sold so far.
    let sold = app
        .checkout(
            &app.admin_token,
            json!([{"product_sku": "BRD-001", "quantity": 1}]),
        )
        .await;
    assert_eq!(sold.status, StatusCode::CREATED, "{}", sold.text);

    let response = app
        .post(
            "/api/predict",
            &app.admin_token,
            json!({"product_sku": "BRD-001", "days": 7}),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Jakarta)
        .date_naive();
    let yesterday = (today - chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(
        response.body["model"]["trained_through"],
        yesterday.as_str(),
        "the model learnt up to yesterday"
    );
    // The chart still shows today's sales so far, and the forecast starts tomorrow.
    let chart = response.body["chartData"].as_array().unwrap();
    let today_point = chart
        .iter()
        .find(|p| p["date"] == today.format("%Y-%m-%d").to_string().as_str())
        .unwrap();
    assert_eq!(today_point["actual"], 1.0);
    let first_forecast = chart.iter().find(|p| p["predicted"].is_number()).unwrap();
    let tomorrow = (today + chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(first_forecast["date"], tomorrow.as_str());
}

#[tokio::test]
async fn predict_refuses_bad_requests_short_history_and_cashiers() {
    let app = shop_with_history().await;
    for days in [0, 366, -1] {
        let response = app
            .post(
                "/api/predict",
                &app.admin_token,
                json!({"product_sku": "BRD-001", "days": days}),
            )
            .await;
        assert_error(&response, StatusCode::BAD_REQUEST);
    }
    assert_error(
        &app.post(
            "/api/predict",
            &app.admin_token,
            json!({"product_sku": "NOPE-1", "days": 7}),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    let short = app
        .post(
            "/api/predict",
            &app.admin_token,
            json!({"product_sku": "SHORT-1", "days": 7}),
        )
        .await;
    assert_error(&short, StatusCode::CONFLICT);
    assert!(short.error().contains("14"), "{}", short.text);

    let cashier = app.cashier("kasir@test.shop").await;
    for response in [
        app.post(
            "/api/predict",
            &cashier,
            json!({"product_sku": "BRD-001", "days": 7}),
        )
        .await,
        app.post(
            "/api/predict/async",
            &cashier,
            json!({"product_sku": "BRD-001", "days": 7}),
        )
        .await,
        app.get("/api/recommendations", &cashier).await,
        app.post("/api/tasks/training/all", &cashier, json!({}))
            .await,
        app.get("/api/tasks/active", &cashier).await,
    ] {
        assert_error(&response, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn background_tasks_train_predict_and_feed_recommendations() {
    let app = shop_with_history().await;
    let queued = app
        .post(
            "/api/tasks/training/product/BRD-001",
            &app.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(queued.status, StatusCode::ACCEPTED, "{}", queued.text);
    let task = app
        .wait_for_task(queued.body["task_id"].as_str().unwrap(), 120)
        .await;
    assert_eq!(task["status"], "succeeded", "{task}");
    assert_eq!(task["result"]["outcome"], "activated");

    let asynchronous = app
        .post(
            "/api/predict/async",
            &app.admin_token,
            json!({"product_sku": "BRD-001", "days": 7}),
        )
        .await;
    assert_eq!(asynchronous.status, StatusCode::ACCEPTED);
    let task_id = asynchronous.body["task_id"].as_str().unwrap().to_owned();
    app.wait_for_task(&task_id, 120).await;
    let done = app
        .get(&format!("/api/predict/task/{task_id}"), &app.admin_token)
        .await;
    assert_eq!(done.body["status"], "succeeded");
    assert_eq!(
        done.body["result"]["chartData"].as_array().unwrap().len(),
        60 + 7
    );

    let all = app
        .post("/api/tasks/training/all", &app.admin_token, json!({}))
        .await;
    let all = app
        .wait_for_task(all.body["task_id"].as_str().unwrap(), 180)
        .await;
    let outcomes = all["result"].as_array().unwrap();
    let short = outcomes
        .iter()
        .find(|o| o["product_sku"] == "SHORT-1")
        .unwrap();
    assert_eq!(short["outcome"], "skipped");

    let advice = app
        .get("/api/recommendations?days=7", &app.admin_token)
        .await;
    assert_eq!(advice.status, StatusCode::OK, "{}", advice.text);
    assert_eq!(advice.body["horizon_days"], 7);
    assert_eq!(advice.body["items"][0]["product_sku"], "BRD-001");
    assert_eq!(advice.body["without_model"], json!(["SHORT-1"]));
    assert_error(
        &app.get("/api/recommendations?days=0", &app.admin_token)
            .await,
        StatusCode::BAD_REQUEST,
    );
    assert_error(
        &app.get("/api/tasks/not-a-task", &app.admin_token).await,
        StatusCode::NOT_FOUND,
    );
}

#[tokio::test]
async fn changing_a_forecast_event_schedules_retraining_that_can_be_cancelled() {
    let app = shop_with_history().await;
    assert_eq!(
        app.count_rows("stale_models").await,
        2,
        "imported history marks models stale"
    );
    let scheduled = app.get("/api/tasks/scheduled", &app.admin_token).await;
    assert_eq!(scheduled.body, json!([]));
    // An event that does not feed the forecast changes nothing.
    app.post(
        "/api/events",
        &app.admin_token,
        json!({"name": "Staff party", "date": "2026-12-01", "type": "custom", "include_in_prediction": false}),
    )
    .await;
    assert_eq!(
        app.get("/api/tasks/scheduled", &app.admin_token).await.body,
        json!([])
    );
    for name in ["Harbolnas", "Natal"] {
        app.post(
            "/api/events",
            &app.admin_token,
            json!({"name": name, "date": "2026-12-12", "type": "promotion"}),
        )
        .await;
    }
    let scheduled = app.get("/api/tasks/scheduled", &app.admin_token).await;
    let tasks = scheduled.body.as_array().unwrap();
    assert_eq!(
        tasks.len(),
        1,
        "two edits in a row schedule one retraining: {tasks:?}"
    );
    assert_eq!(tasks[0]["kind"], "train_stale");
    let task_id = tasks[0]["task_id"].as_str().unwrap();
    let cancelled = app
        .post(
            &format!("/api/tasks/{task_id}/cancel"),
            &app.admin_token,
            json!({}),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
    assert_eq!(cancelled.body["status"], "cancelled");
    let again = app
        .post(
            &format!("/api/tasks/{task_id}/cancel"),
            &app.admin_token,
            json!({}),
        )
        .await;
    assert_error(&again, StatusCode::CONFLICT);
    assert_eq!(
        app.get("/api/tasks/active", &app.admin_token).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.count_rows("stale_models").await,
        2,
        "both products are marked stale"
    );
}

fn forecaster(app: &TestApp, settings: ForecastSettings) -> Forecaster {
    let store = Arc::new(DatabaseModelStore::new(app.state.db.clone()));
    Forecaster::new(app.state.shop.clone(), store, settings)
}

#[tokio::test]
async fn a_rejected_training_keeps_the_previous_version_active() {
    let app = shop_with_history().await;
    let fast = ForecastSettings {
        choice: forecast::ModelChoice::Only(forecast::ModelKind::SeasonalNaive),
        ..ForecastSettings::default()
    };
    let first = forecaster(&app, fast.clone())
        .train_product(&sku("BRD-001"))
        .await
        .unwrap();
    assert_eq!(first.outcome, Outcome::Activated, "{first:?}");

    // Nothing is good enough: a bound of zero rejects every model.
    let strict = ForecastSettings {
        max_mase: 0.0,
        ..fast.clone()
    };
    let second = forecaster(&app, strict)
        .train_product(&sku("BRD-001"))
        .await
        .unwrap();
    assert_eq!(second.outcome, Outcome::Rejected, "{second:?}");
    // And a model must beat the active one by 100% with a tolerance of -1.
    let jealous = ForecastSettings {
        tolerance: -1.0,
        ..fast
    };
    let third = forecaster(&app, jealous)
        .train_product(&sku("BRD-001"))
        .await
        .unwrap();
    assert_eq!(third.outcome, Outcome::Rejected, "{third:?}");

    let versions = app
        .get("/api/products/BRD-001/models", &app.admin_token)
        .await;
    let statuses: Vec<_> = versions
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["status"].clone())
        .collect();
    assert_eq!(
        statuses,
        [json!("rejected"), json!("rejected"), json!("active")]
    );
    let prediction = app
        .post(
            "/api/predict",
            &app.admin_token,
            json!({"product_sku": "BRD-001", "days": 7}),
        )
        .await;
    assert_eq!(prediction.body["model"]["version"], first.version.unwrap());
}

#[tokio::test]
async fn concurrent_trainings_of_one_product_leave_exactly_one_active_version() {
    let app = shop_with_history().await;
    let settings = ForecastSettings {
        choice: forecast::ModelChoice::Only(forecast::ModelKind::SeasonalNaive),
        ..ForecastSettings::default()
    };
    let trainers: Vec<_> = (0..4).map(|_| forecaster(&app, settings.clone())).collect();
    let brd = sku("BRD-001");
    let outcomes = futures::future::join_all(trainers.iter().map(|f| f.train_product(&brd))).await;
    let activated = outcomes
        .iter()
        .filter(|o| o.as_ref().unwrap().outcome == Outcome::Activated)
        .count();
    assert!(activated >= 1, "{outcomes:?}");
    let versions = app
        .get("/api/products/BRD-001/models", &app.admin_token)
        .await;
    let versions = versions.body.as_array().unwrap();
    assert_eq!(versions.len(), 4);
    assert_eq!(
        versions.iter().filter(|v| v["status"] == "active").count(),
        1,
        "{versions:?}"
    );
}

#[tokio::test]
async fn a_job_abandoned_by_a_dead_worker_is_taken_over_by_another() {
    use siprems::infra::queue::JobSpec;
    use std::time::Duration;

    let app = TestApp::spawn_with(|c| c.in_process_jobs = false).await;
    let heartbeat = Duration::from_secs(1);
    let queue = app.state.queue.clone().with_heartbeat(heartbeat);
    let task = queue
        .enqueue(&JobSpec::TrainAll, Duration::ZERO, None)
        .await
        .unwrap();
    // A worker claims the job and dies without a word.
    let store = queue.store();
    let claimed = store.claim_next("doomed-worker", heartbeat).await.unwrap();
    assert_eq!(claimed.as_deref(), Some(task.task_id.as_str()));
    assert_eq!(
        queue.get(&task.task_id).await.unwrap().status,
        TaskStatus::Running
    );
    // While it holds the job, no other worker takes it...
    assert_eq!(
        store.claim_next("rival-worker", heartbeat).await.unwrap(),
        None
    );
    // ...once its heartbeats are missed, a live worker re-enqueues the job and runs it.
    let done = app.work_until_done(queue, &task.task_id, 60).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(
        done["attempts"], 2,
        "the dead worker's attempt counts: {done}"
    );
}

#[tokio::test]
async fn a_job_that_cannot_succeed_fails_without_retries() {
    use siprems::infra::queue::JobSpec;
    use std::time::Duration;

    let app = TestApp::spawn_with(|c| c.in_process_jobs = false).await;
    let queue = app.state.queue.clone();
    let task = queue
        .enqueue(
            &JobSpec::TrainProduct {
                sku: sku("NO-SUCH-SKU"),
            },
            Duration::ZERO,
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        queue.list(&[TaskStatus::Queued]).await.unwrap()[0].task_id,
        task.task_id
    );
    let done = app.work_until_done(queue, &task.task_id, 30).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["attempts"], 1, "bad input is not retried: {done}");
    assert!(
        done["error"].as_str().unwrap().contains("NO-SUCH-SKU"),
        "{done}"
    );
    assert!(done["finished_at"].is_string(), "{done}");
}

#[tokio::test]
async fn two_schedulers_enqueue_each_scheduled_run_once() {
    use siprems::infra::queue::{TrainingSchedule, run_scheduler};
    use std::time::Duration;

    let app = TestApp::spawn_with(|c| c.in_process_jobs = false).await;
    let queue = app.state.queue.clone();
    let every_second: TrainingSchedule = "* * * * * *".parse().unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let first = tokio::spawn(run_scheduler(
        queue.clone(),
        every_second.clone(),
        stopped.clone(),
    ));
    let second = tokio::spawn(run_scheduler(queue.clone(), every_second, stopped));
    tokio::time::sleep(Duration::from_millis(3500)).await;
    stop.send(true).unwrap();
    first.await.unwrap();
    second.await.unwrap();
    let queued = queue.list(&[TaskStatus::Queued]).await.unwrap();
    let keys_of = |kind: &str| -> Vec<String> {
        queued
            .iter()
            .filter(|task| task.kind == kind)
            .map(|task| task.dedupe_key.clone().unwrap_or_default())
            .collect()
    };
    let runs = keys_of("train_all");
    let keys: std::collections::BTreeSet<_> = runs.iter().cloned().collect();
    assert!(runs.len() >= 2, "the schedule fired: {runs:?}");
    assert_eq!(keys.len(), runs.len(), "each run enqueued once: {runs:?}");
    assert!(keys.iter().all(|k| k.starts_with("nightly:")));
    // Each scheduled time also sweeps ended sessions, once.
    let sweeps = keys_of("sweep_sessions");
    let times = |keys: &[String]| -> std::collections::BTreeSet<String> {
        keys.iter()
            .map(|k| k.split_once(':').unwrap().1.to_owned())
            .collect()
    };
    assert_eq!(sweeps.len(), runs.len(), "{sweeps:?} {runs:?}");
    assert_eq!(times(&sweeps), times(&runs), "the same scheduled times");
}

fn sku(text: &str) -> siprems::domain::sku::Sku {
    siprems::domain::sku::Sku::parse(text).unwrap()
}
