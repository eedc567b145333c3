//! Cluster tests (issue #4, item 8): the scaled topology of `deploy/` on one machine, driven
//! through nginx while instances are killed or restarted and Redis goes away.
//!
//! Each test starts its own cluster with `deploy/local-cluster.sh` (pgBouncer in transaction
//! mode, N `siprems serve`, workers, scheduler, nginx), with this crate's `siprems` binary,
//! its own base port, database (`siprems_cluster_test_NAME`, emptied by `--fresh`), data
//! dir (`$TMPDIR/siprems-cluster-test-NAME`) and private `redis-server`, and always stops it
//! again (a drop guard, also on panic or timeout: a failed test prints the log tails and
//! keeps its data dir for inspection; a passed one removes it unless
//! `SIPREMS_CLUSTER_TEST_KEEP` is set). Two runs of the same test on one machine take turns
//! (a lock next to the data dir) instead of tearing down each other's cluster.
//!
//! Needs what `local-cluster.sh` needs: PostgreSQL on 127.0.0.1:5432 (trust auth, user
//! `postgres`), `nginx`, `pgbouncer`, `psql`, `curl`, plus `redis-server`, and `python3` for
//! `cluster-smoke.sh`. Ports: 20 from `SIPREMS_CLUSTER_TEST_PORT` (default 17100) plus
//! 100 × the test's slot (0-4). `SIPREMS_CLUSTER_TEST_POOL_MODE=session` runs them with
//! session pooling instead.
//!
//! The load generator: a few clients looping over `GET /api/products?limit=5`,
//! `GET /api/products/SKU` and a checkout of one unit with its own `Idempotency-Key`. A GET
//! is sent once: it must succeed (nginx re-sends idempotent requests to another instance).
//! A checkout is re-sent by the client with the same key on a transport error, 502/503/504
//! or a 409 "still being processed", as a till would; it fails only if it never gets a 201.
//! Afterwards every key must map to exactly one sale, no other sale may exist, and the stock
//! must equal the start minus the units sold.

mod support;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use support::*;

/// A till's whole session through nginx, spread over both instances: login, products, a
/// checkout whose retry on the other instance replays the same sale, a forecast, logout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_session_through_nginx_spreads_over_instances() {
    let cluster = Cluster::up(Options {
        name: "session",
        slot: 0,
        apis: 2,
        workers: 1,
        rate_limits: true,
    })
    .await;
    bounded(60, session(&cluster)).await;
}

async fn session(cluster: &Cluster) {
    let http = &cluster.http;
    let mut before = Vec::new();
    for index in 1..=2 {
        before.push(cluster.api_requests(index).await.expect("metrics"));
    }

    let tokens = cluster.login().await;
    let token = tokens.access.as_str();
    let sku = "CLS-BREAD-1";
    cluster.create_product(token, sku, 50).await;
    let (status, list) = get_json(
        http,
        &format!("{}/api/products?search=CLS-BREAD", cluster.url),
        token,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["items"][0]["sku"], sku, "{list}");

    // A checkout through nginx, then the same request straight to the other instance.
    let sale = json!({"items": [{"product_sku": sku, "quantity": 3}], "paid_amount": "100000"});
    let response = http
        .post(format!("{}/api/transactions", cluster.url))
        .bearer_auth(token)
        .header("Idempotency-Key", "cluster-session-sale-1")
        .header("X-Request-ID", "cluster-session-checkout-1")
        .json(&sale)
        .send()
        .await
        .expect("checkout");
    assert_eq!(
        header(&response, "x-request-id"),
        "cluster-session-checkout-1"
    );
    let (status, first) = read(response).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let transaction_id = first["transaction_id"].as_i64().expect("transaction_id");
    let served_by = cluster.upstream_of("cluster-session-checkout-1").await;
    let first_index = (1..=2)
        .find(|&i| cluster.api_url(i).ends_with(&served_by))
        .unwrap_or_else(|| {
            panic!("checkout served by {served_by}, not an instance of this cluster")
        });
    let other = 3 - first_index;
    let response = http
        .post(format!("{}/api/transactions", cluster.api_url(other)))
        .bearer_auth(token)
        .header("Idempotency-Key", "cluster-session-sale-1")
        .json(&sale)
        .send()
        .await
        .expect("checkout retry");
    assert_eq!(header(&response, "idempotent-replayed"), "true");
    let (status, replay) = read(response).await;
    assert_eq!(status, StatusCode::CREATED, "{replay}");
    assert_eq!(replay["transaction_id"], transaction_id, "{replay}");
    assert_eq!(replay["total"], first["total"]);
    for base in [cluster.url.as_str(), cluster.api_url(1), cluster.api_url(2)] {
        assert_eq!(
            cluster.stock(token, base, sku).await,
            47,
            "stock seen through {base}"
        );
    }
    let sales = cluster.sales_of(token, sku).await;
    assert_eq!(
        sales,
        BTreeMap::from([(transaction_id, 3)]),
        "one sale of 3 units"
    );
    println!(
        "session: checkout {transaction_id} served by api-{first_index} ({served_by}), replayed by api-{other}"
    );

    // A forecast: 8 weeks of history loaded with the CLI straight into PostgreSQL.
    let history = cluster.dir.join("history.csv");
    std::fs::write(&history, history_csv(sku, 56)).expect("writing the history");
    let started = Instant::now();
    let import = tokio::task::block_in_place(|| {
        Command::new(BINARY)
            .args(["import", path_str(&history)])
            .env("DATABASE_URL", &cluster.database_url)
            .env("SIPREMS_LOG_FORMAT", "json")
            .stdin(Stdio::null())
            .output()
            .expect("siprems import")
    });
    assert!(
        import.status.success(),
        "siprems import: {}{}",
        String::from_utf8_lossy(&import.stdout),
        String::from_utf8_lossy(&import.stderr)
    );
    println!(
        "session: imported 56 days of history in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let response = http
        .post(format!("{}/api/predict", cluster.url))
        .bearer_auth(token)
        .json(&json!({"product_sku": sku, "days": 7}))
        .send()
        .await
        .expect("predict");
    let (status, prediction) = read(response).await;
    assert_eq!(status, StatusCode::OK, "{prediction}");
    let chart = prediction["chartData"].as_array().expect("chartData");
    let forecast: Vec<&Value> = chart
        .iter()
        .filter(|p| p["predicted"].is_number())
        .collect();
    assert_eq!(forecast.len(), 7, "{prediction}");
    assert!(
        chart
            .iter()
            .any(|p| p["actual"].as_f64().unwrap_or(0.0) > 0.0),
        "history in the chart"
    );
    assert!(prediction["model"].is_object(), "{prediction}");
    println!(
        "session: predict (training on demand) {:.1} s, model {}",
        started.elapsed().as_secs_f64(),
        prediction["model"]
    );

    // Reads through nginx: round-robin hands them to both instances. (Few enough to stay
    // within the api zone's burst of 20 with everything else this session sends.)
    for _ in 0..8 {
        let (status, body) = get_json(
            http,
            &format!("{}/api/products?limit=5", cluster.url),
            token,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    // Logout through nginx; the refresh token is then dead on every instance.
    let response = http
        .post(format!("{}/api/auth/logout", cluster.url))
        .json(&json!({"refresh_token": tokens.refresh}))
        .send()
        .await
        .expect("logout");
    let (status, body) = read(response).await;
    assert_eq!(status, StatusCode::OK, "logout: {body}");
    for base in [cluster.url.as_str(), cluster.api_url(1), cluster.api_url(2)] {
        let response = http
            .post(format!("{base}/api/auth/refresh"))
            .json(&json!({"refresh_token": tokens.refresh}))
            .send()
            .await
            .expect("refresh");
        let (status, body) = read(response).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "refresh after logout through {base}: {body}"
        );
    }

    let mut spread = Vec::new();
    for index in 1..=2 {
        let after = cluster.api_requests(index).await.expect("metrics");
        spread.push(after - before[index - 1]);
    }
    println!("session: /api requests per instance {spread:?}");
    // Each nginx worker alternates between the instances, so the 8 GETs alone give each
    // at least 3; the direct calls above add 2-3 per instance.
    assert!(
        spread.iter().all(|&n| n >= 5),
        "requests per instance: {spread:?}"
    );
}

/// `date,sku,quantity` for the `days` days before today, weekends busier.
fn history_csv(sku: &str, days: i64) -> String {
    let today = chrono::Utc::now().date_naive();
    let mut csv = String::from("date,sku,quantity\n");
    for back in (1..=days).rev() {
        let date = today - chrono::Duration::days(back);
        let weekend = chrono::Datelike::weekday(&date).num_days_from_monday() >= 5;
        let quantity = if weekend { 16 } else { 10 } + back % 3;
        csv.push_str(&format!("{date},{sku},{quantity}\n"));
    }
    csv
}

/// One API instance is SIGKILLed under steady load: nginx re-sends the GETs, clients re-send
/// their checkouts with the same key, and every key ends up with exactly one sale.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_an_instance_under_load_loses_no_request_and_no_sale() {
    let cluster = Cluster::up(Options {
        name: "kill",
        slot: 1,
        apis: 2,
        workers: 0,
        rate_limits: false,
    })
    .await;
    bounded(60, async {
        let token = cluster.login().await.access;
        let (sku, start_stock) = ("CLK-BREAD-1", 100_000);
        cluster.create_product(&token, sku, start_stock).await;
        let load = Load::start(&cluster.http, load_spec(&cluster, &token, sku, "kill"));
        // Steady load on both instances first.
        let before_kill = load.run_for(Duration::from_secs(2), 100).await;

        let pid = cluster.pid("api-1");
        let killed_at = Instant::now();
        let status = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        assert!(status.expect("kill").success(), "SIGKILL api-1 (pid {pid})");
        let cluster_ref = &cluster;
        poll("api-1 to refuse connections", Duration::from_secs(5), || async move {
            cluster_ref.api_requests(1).await.is_none().then_some(())
        })
        .await;
        // Then on the survivor alone.
        let after_kill = load.run_for(Duration::from_secs(5).saturating_sub(killed_at.elapsed()), 100).await;
        let report = load.finish().await;
        report.print("kill");
        println!(
            "kill: api-1 (pid {pid}) SIGKILLed after {before_kill} successful requests; {after_kill} more succeeded in the {:.1} s after",
            killed_at.elapsed().as_secs_f64()
        );
        report.assert_no_failures();
        report.assert_sales(&cluster, &token, sku, start_stock).await;
    })
    .await;
}

/// The cluster's Redis goes away and comes back under load: no request fails, `/ready`
/// says `degraded` meanwhile and `ready` again afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarting_redis_under_load_fails_no_request() {
    let mut cluster = Cluster::up(Options {
        name: "redis",
        slot: 2,
        apis: 2,
        workers: 0,
        rate_limits: false,
    })
    .await;
    let token = cluster.login().await.access;
    let (sku, start_stock) = ("CLR-BREAD-1", 100_000);
    cluster.create_product(&token, sku, start_stock).await;
    for index in 1..=2 {
        let (status, ready) = cluster.ready(cluster.api_url(index)).await.expect("/ready");
        assert_eq!(
            (status, &ready["status"]),
            (StatusCode::OK, &json!("ready")),
            "{ready}"
        );
    }
    let load = Load::start(&cluster.http, load_spec(&cluster, &token, sku, "redis"));
    let report = bounded(60, async {
        let before = load.run_for(Duration::from_secs(2), 100).await;

        let stopped_at = Instant::now();
        tokio::task::block_in_place(|| cluster.redis.stop());
        for index in 1..=2 {
            let cluster = &cluster;
            let ready = poll(&format!("api-{index} /ready degraded"), Duration::from_secs(10), || async move {
                let (status, ready) = cluster.ready(cluster.api_url(index)).await?;
                (status == StatusCode::OK && ready["status"] == "degraded").then_some(ready)
            })
            .await;
            assert_eq!(ready["checks"]["cache"], "unreachable", "{ready}");
        }
        let degraded_after = stopped_at.elapsed();
        let (status, ready) = cluster.ready(&cluster.url).await.expect("/ready through nginx");
        assert_eq!((status, &ready["status"]), (StatusCode::OK, &json!("degraded")), "{ready}");
        // Served without Redis for a while.
        let during = load.run_for(Duration::from_secs(3), 100).await;

        let restarted_at = Instant::now();
        cluster.redis.launch().await;
        for index in 1..=2 {
            let cluster = &cluster;
            poll(&format!("api-{index} /ready ready again"), Duration::from_secs(15), || async move {
                let (status, ready) = cluster.ready(cluster.api_url(index)).await?;
                (status == StatusCode::OK && ready["status"] == "ready").then_some(())
            })
            .await;
        }
        let recovered_after = restarted_at.elapsed();
        let after = load.run_for(Duration::from_secs(2), 100).await;
        println!(
            "redis: {before} successful requests before the stop; Redis down {:.1} s, /ready degraded on both \
             after {} ms, {during} successful requests without Redis; /ready ready {} ms after the restart, \
             {after} successful requests after",
            (restarted_at - stopped_at).as_secs_f64(),
            degraded_after.as_millis(),
            recovered_after.as_millis()
        );
        load.finish().await
    })
    .await;
    report.print("redis");
    report.assert_no_failures();
    bounded(30, report.assert_sales(&cluster, &token, sku, start_stock)).await;
}

/// Every API instance is restarted in turn (graceful SIGTERM) under load: no GET fails and
/// every checkout gets its sale, exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_restart_under_load_fails_no_request() {
    let cluster = Cluster::up(Options {
        name: "rolling",
        slot: 3,
        apis: 2,
        workers: 0,
        rate_limits: false,
    })
    .await;
    bounded(75, async {
        let token = cluster.login().await.access;
        let (sku, start_stock) = ("CLRR-BREAD-1", 100_000);
        cluster.create_product(&token, sku, start_stock).await;
        let load = Load::start(&cluster.http, load_spec(&cluster, &token, sku, "rolling"));
        load.run_for(Duration::from_secs(1), 100).await;
        let mut timings = Vec::new();
        for index in 1..=cluster.apis.len() {
            let old_pid = cluster.pid(&format!("api-{index}"));
            let restart = cluster.control("restart", format!("api-{index}")).await;
            let new_pid = cluster.pid(&format!("api-{index}"));
            assert_ne!(old_pid, new_pid, "api-{index} was not restarted");
            // Back in nginx's rotation (after fail_timeout if nginx saw it fail) before the
            // next one goes: it has answered API requests again.
            let started = Instant::now();
            let cluster = &cluster;
            poll(&format!("api-{index} to take traffic again"), Duration::from_secs(20), || async move {
                (cluster.api_requests(index).await? >= 10).then_some(())
            })
            .await;
            timings.push((index, restart, started.elapsed()));
        }
        load.run_for(Duration::from_secs(1), 100).await;
        let report = load.finish().await;
        report.print("rolling");
        for (index, restart, rejoin) in timings {
            println!(
                "rolling: api-{index} restart (stop + start + ready) {} ms, back in rotation {} ms later",
                restart.as_millis(),
                rejoin.as_millis()
            );
        }
        report.assert_no_failures();
        report.assert_sales(&cluster, &token, sku, start_stock).await;
    })
    .await;
}

/// `deploy/cluster-smoke.sh` (the same kind of session in bash, plus the edge's headers, gzip
/// and nginx's 429s) passes against a cluster with its rate limits on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_smoke_script_passes() {
    let cluster = Cluster::up(Options {
        name: "smoke",
        slot: 4,
        apis: 2,
        workers: 1,
        rate_limits: true,
    })
    .await;
    let dir = cluster.dir.clone();
    let output = blocking(move || {
        let mut command = Command::new("bash");
        command
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/deploy/cluster-smoke.sh"
            ))
            .args(["--data-dir", path_str(&dir)]);
        run(command, "cluster-smoke.sh", Duration::from_secs(60))
    })
    .await;
    println!("{}", output.text);
    assert!(output.ok, "cluster-smoke.sh failed");
}

fn load_spec(cluster: &Cluster, token: &str, sku: &str, prefix: &str) -> LoadSpec {
    LoadSpec {
        clients: 4,
        base: cluster.url.clone(),
        token: token.to_owned(),
        sku: sku.to_owned(),
        key_prefix: prefix.to_owned(),
    }
}
