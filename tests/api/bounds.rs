//! Issue 9: what a cashier may see, and bounds on everything client input can grow.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::TestApp;

const COST_FIELDS: [&str; 2] = ["cost_price", "stock_value_at_cost"];

/// Every object in `value`, at any depth, lacks the cost fields.
fn assert_no_costs(value: &Value, what: &str) {
    match value {
        Value::Object(map) => {
            for field in COST_FIELDS {
                assert!(!map.contains_key(field), "{what} shows {field}: {value}");
            }
            map.values().for_each(|v| assert_no_costs(v, what));
        }
        Value::Array(items) => items.iter().for_each(|v| assert_no_costs(v, what)),
        _ => {}
    }
}

const READS: [&str; 4] = [
    "/api/products?limit=10",
    "/api/products/stats",
    "/api/products/LOW-001",
    "/api/dashboard-stats?range=7d",
];

async fn read(app: &TestApp, token: &str, path: &str) -> Value {
    let response = app.get(path, token).await;
    assert_eq!(response.status, StatusCode::OK, "{path}: {}", response.text);
    response.body
}

async fn admin_sees_costs(app: &TestApp) {
    let list = read(app, &app.admin_token, READS[0]).await;
    assert_eq!(list["items"][0]["cost_price"], "1000.00");
    let stats = read(app, &app.admin_token, READS[1]).await;
    assert_eq!(stats["stock_value_at_cost"], "2000.00");
    let product = read(app, &app.admin_token, READS[2]).await;
    assert_eq!(product["cost_price"], "1000.00");
    let dashboard = read(app, &app.admin_token, READS[3]).await;
    assert_eq!(dashboard["low_stock"][0]["cost_price"], "1000.00");
}

async fn cashier_sees_no_costs(app: &TestApp, token: &str) {
    for path in READS {
        let body = read(app, token, path).await;
        assert_no_costs(&body, path);
    }
    // The rest of the answer is there.
    let product = read(app, token, READS[2]).await;
    assert_eq!(product["price"], "1500.00");
    let dashboard = read(app, token, READS[3]).await;
    assert_eq!(dashboard["low_stock"][0]["sku"], "LOW-001");
}

#[tokio::test]
async fn a_cashier_never_gets_an_admins_cached_answer() {
    let app = TestApp::spawn().await;
    app.create_product("LOW-001", "1500", 2).await;
    let cashier = app.cashier("kasir@example.com").await;
    admin_sees_costs(&app).await; // fills the cache with the admin's view
    cashier_sees_no_costs(&app, &cashier).await;
    admin_sees_costs(&app).await;
    let stats = app.state.cache.stats().await;
    assert!(
        stats.namespaces["product_list"].hits >= 1,
        "the admin's second read hits"
    );
}

#[tokio::test]
async fn an_admin_never_gets_a_cashiers_cached_answer() {
    let app = TestApp::spawn().await;
    app.create_product("LOW-001", "1500", 2).await;
    let cashier = app.cashier("kasir@example.com").await;
    cashier_sees_no_costs(&app, &cashier).await; // fills the cache with the cashier's view
    admin_sees_costs(&app).await;
    cashier_sees_no_costs(&app, &cashier).await;
}

#[tokio::test]
async fn equivalent_product_list_queries_share_one_cache_entry() {
    let app = TestApp::spawn().await;
    app.create_product("BRD-001", "1500", 2).await;
    let before = app.state.cache.stats().await.keys.unwrap_or(0);
    for path in [
        "/api/products?limit=5",
        "/api/products?limit=05&offset=0",
        "/api/products?offset=00&limit=5&search=",
        "/api/products?limit=5&low_stock=false&include_inactive=false",
        "/api/products?limit=5&search=%20%20",
    ] {
        let body = read(&app, &app.admin_token, path).await;
        assert_eq!(body["items"][0]["sku"], "BRD-001", "{path}");
    }
    let stats = app.state.cache.stats().await;
    assert_eq!(stats.namespaces["product_list"].misses, 1);
    assert_eq!(stats.namespaces["product_list"].hits, 4);
    assert_eq!(
        stats.keys.unwrap_or(0),
        before + 1,
        "one entry for five URLs"
    );
    // Search strings are bounded: a long one is refused before any cache lookup.
    let long = format!("/api/products?search={}", "x".repeat(101));
    let refused = app.get(&long, &app.admin_token).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(app.state.cache.stats().await.keys.unwrap_or(0), before + 1);
}

#[tokio::test]
async fn a_page_of_sales_loads_only_its_own_lines() {
    let app = TestApp::spawn().await;
    app.create_product("BRD-001", "1500", 100).await;
    app.create_product("MLK-001", "2500", 100).await;
    let ani = app.cashier("ani@example.com").await;
    let budi = app.cashier("budi@example.com").await;
    let mut ids = Vec::new();
    // Ani's sales are interleaved with Budi's: ids 1, 3, 5 are hers.
    for round in 0..3 {
        for (token, sku) in [(&ani, "BRD-001"), (&budi, "MLK-001")] {
            let items = serde_json::json!([{"product_sku": sku, "quantity": round + 1}]);
            let sale = app.checkout(token, items).await;
            assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.text);
            ids.push(sale.body["transaction_id"].as_i64().unwrap());
        }
    }
    let page = read(&app, &ani, "/api/transactions?limit=10").await;
    let sales = page["items"].as_array().unwrap();
    assert_eq!(sales.len(), 3);
    for sale in sales {
        let lines = sale["items"].as_array().unwrap();
        assert_eq!(lines.len(), 1, "{sale}");
        assert_eq!(lines[0]["product_sku"], "BRD-001");
    }
    // The query behind it reads the requested sales' lines and nothing in between.
    let anis = [ids[0], ids[2], ids[4]];
    let lines = siprems::storage::sales::items_of(app.state.db.pool(), &anis)
        .await
        .unwrap();
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|line| anis.contains(&line.sale_id)));
}

#[tokio::test]
async fn the_csv_export_neutralises_formulas_and_keeps_numbers() {
    let app = TestApp::spawn().await;
    let formula = r#"=HYPERLINK("http://x","y")"#;
    for (sku, name) in [
        ("XSS-001", formula),
        ("XSS-002", "+cmd"),
        ("XSS-003", "@SUM(A1)"),
    ] {
        let created = app
            .post(
                "/api/products",
                &app.admin_token,
                serde_json::json!({"sku": sku, "name": name, "price": "1000", "stock": 5}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let items = serde_json::json!([{"product_sku": sku, "quantity": 1}]);
        assert_eq!(
            app.checkout(&app.admin_token, items).await.status,
            StatusCode::CREATED
        );
    }
    let export = app
        .get("/api/transactions/export.csv", &app.admin_token)
        .await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.text);
    let mut reader = csv::Reader::from_reader(export.text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert!(headers.iter().all(|h| !h.contains("cost")), "{headers:?}");
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    let names: Vec<&str> = rows.iter().map(|r| &r[column("product_name")]).collect();
    assert!(
        names.contains(&r#"'=HYPERLINK("http://x","y")"#),
        "{names:?}"
    );
    assert!(
        names.contains(&"'+cmd") && names.contains(&"'@SUM(A1)"),
        "{names:?}"
    );
    for row in &rows {
        assert_eq!(&row[column("unit_price")], "1000.00");
        assert_eq!(&row[column("quantity")], "1");
        assert!(row[column("change")].parse::<f64>().is_ok());
    }
}

/// Statuses of 30 unauthenticated requests, the i-th with `X-Forwarded-For: forwarded(i)`.
async fn statuses_with_forwarded(app: &TestApp, forwarded: impl Fn(usize) -> String) -> usize {
    let mut refused = 0;
    for i in 0..30 {
        let response = app
            .client
            .get(app.url("/api/categories"))
            .header("x-forwarded-for", forwarded(i))
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
        }
    }
    refused
}

#[tokio::test]
async fn x_forwarded_for_counts_only_from_a_configured_proxy() {
    // Not trusted (the default): forged addresses do not escape the peer's limit.
    let app = TestApp::spawn_with(|c| c.rate_limits = true).await;
    let refused = statuses_with_forwarded(&app, |i| format!("203.0.113.{i}")).await;
    assert!(refused >= 5, "one bucket for the peer: {refused} refused");

    // Loopback trusted: each forwarded client has its own bucket...
    let app = TestApp::spawn_with(|c| {
        c.rate_limits = true;
        c.trusted_proxies = siprems::http::proxies::TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await;
    let refused = statuses_with_forwarded(&app, |i| format!("203.0.113.{i}")).await;
    assert_eq!(refused, 0, "one bucket per forwarded client");
    // ...and what the client writes left of its real address changes nothing: the
    // right-most untrusted address is the client.
    let refused =
        statuses_with_forwarded(&app, |i| format!("198.51.100.{i}, 192.0.2.1, 127.0.0.1")).await;
    assert!(
        refused >= 5,
        "forged hops share 192.0.2.1's bucket: {refused}"
    );

    // SIPREMS_TRUST_PROXY=1 keeps meaning loopback.
    let app = TestApp::spawn_with(|c| {
        c.rate_limits = true;
        c.trust_proxy = true;
    })
    .await;
    let refused = statuses_with_forwarded(&app, |i| format!("203.0.113.{i}")).await;
    assert_eq!(refused, 0);
}

#[tokio::test]
async fn a_client_that_stalls_mid_request_line_is_disconnected() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn_with(|c| c.header_read_timeout_secs = 1).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&address).await.unwrap();
    slow.write_all(b"GET /heal").await.unwrap();
    let started = std::time::Instant::now();
    let mut buffer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        slow.read_to_end(&mut buffer),
    )
    .await
    .expect("the server closes the stalled connection within its header timeout");
    // Closed (possibly after a 408), well before the 5 s we would wait.
    assert!(read.is_ok() || buffer.is_empty());
    let waited = started.elapsed();
    assert!(
        waited >= std::time::Duration::from_millis(900)
            && waited < std::time::Duration::from_secs(4),
        "{waited:?}"
    );
    // An idle keep-alive connection is closed after the same time (nginx keeps its idle
    // upstream connections for less, see deploy/nginx).
    let mut idle = tokio::net::TcpStream::connect(&address).await.unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: siprems\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0u8; 4096];
    assert!(idle.read(&mut answer).await.unwrap() > 0);
    let closed = tokio::time::timeout(std::time::Duration::from_secs(4), idle.read(&mut answer))
        .await
        .expect("an idle connection is closed");
    assert_eq!(closed.unwrap(), 0);
    // A prompt client on another connection is served as usual.
    let health = app
        .request(reqwest::Method::GET, "/health", None, None)
        .await;
    assert_eq!(health.status, StatusCode::OK);
}

#[tokio::test]
async fn equivalent_dashboard_queries_share_one_cache_entry() {
    let app = TestApp::spawn().await;
    for path in [
        "/api/dashboard-stats?range=7d",
        // from and to mean nothing outside a custom range: not part of the key.
        "/api/dashboard-stats?range=7d&from=2026-01-01&to=2026-01-02",
        "/api/dashboard-stats?range=7d&from=2026-01-03&to=2026-01-04",
    ] {
        read(&app, &app.admin_token, path).await;
    }
    let stats = app.state.cache.stats().await;
    assert_eq!(stats.namespaces["dashboard"].misses, 1);
    assert_eq!(stats.namespaces["dashboard"].hits, 2);
    // An invalid custom range is refused before it reaches the cache.
    let bad = app
        .get(
            "/api/dashboard-stats?range=custom&from=2026-13-01&to=x",
            &app.admin_token,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert_eq!(
        app.state.cache.stats().await.namespaces["dashboard"].misses,
        1
    );
}

#[tokio::test]
async fn a_flood_of_distinct_queries_stays_under_the_memory_store_cap() {
    let app = TestApp::spawn_with(|c| c.memory_store_max_entries = 40).await;
    app.create_product("BRD-001", "1500", 2).await;
    let token = app.cashier("kasir@example.com").await;
    for offset in 0..150 {
        read(&app, &token, &format!("/api/products?offset={offset}")).await;
        let keys = app.state.cache.stats().await.keys.unwrap_or(u64::MAX);
        assert!(keys <= 40, "{keys} keys after {offset} distinct queries");
    }
    // The newest answers are still served from the cache.
    read(&app, &token, "/api/products?offset=149").await;
    let stats = app.state.cache.stats().await;
    assert_eq!(stats.namespaces["product_list"].hits, 1);
    assert_eq!(stats.namespaces["product_list"].misses, 150);
}
