use reqwest::StatusCode;
use serde_json::json;

use crate::support::{TestApp, assert_error};

#[tokio::test]
async fn dashboard_sums_sales_by_store_day_for_every_range() {
    let app = TestApp::spawn().await;
    app.create_product("A-1", "1000", 100).await;
    app.create_product("B-1", "2500", 100).await;
    app.create_product("LOW-1", "500", 2).await;
    let cashier = app.cashier("kasir@test.shop").await;
    app.checkout(&cashier, json!([{"product_sku": "A-1", "quantity": 3}]))
        .await;
    let last = app
        .checkout(
            &app.admin_token,
            json!([{"product_sku": "B-1", "quantity": 2}, {"product_sku": "A-1", "quantity": 1}]),
        )
        .await;
    let today = last.body["business_date"].as_str().unwrap().to_owned();

    for range in ["today", "7d", "30d"] {
        let stats = app
            .get(&format!("/api/dashboard-stats?range={range}"), &cashier)
            .await;
        assert_eq!(stats.status, StatusCode::OK, "{}", stats.text);
        assert_eq!(stats.body["revenue"], "9000.00");
        assert_eq!(stats.body["transactions"], 2);
        assert_eq!(stats.body["units_sold"], 6);
        assert_eq!(stats.body["average_transaction"], "4500.00");
        assert_eq!(stats.body["to"], today);
        let trend = stats.body["sales_trend"].as_array().unwrap();
        let expected_days = match range {
            "today" => 1,
            "7d" => 7,
            _ => 30,
        };
        assert_eq!(trend.len(), expected_days);
        assert_eq!(trend.last().unwrap()["revenue"], "9000.00");
        assert_eq!(stats.body["top_products"][0]["sku"], "B-1");
        assert_eq!(stats.body["top_products"][0]["revenue"], "5000.00");
        assert_eq!(stats.body["top_products"][1]["units"], 4);
        assert_eq!(stats.body["top_categories"][0]["category"], "Bakery");
        assert_eq!(stats.body["top_categories"][0]["units"], 6);
        assert_eq!(stats.body["low_stock"][0]["sku"], "LOW-1");
        assert_eq!(stats.body["timezone"], "Asia/Jakarta");
    }
    let custom = app
        .get(
            &format!("/api/dashboard-stats?range=custom&from={today}&to={today}"),
            &app.admin_token,
        )
        .await;
    assert_eq!(custom.body["transactions"], 2);
    let past = app
        .get(
            "/api/dashboard-stats?from=2020-01-01&to=2020-01-31",
            &app.admin_token,
        )
        .await;
    assert_eq!(past.body["revenue"], "0.00");
    assert_eq!(past.body["sales_trend"].as_array().unwrap().len(), 31);

    for bad in [
        "/api/dashboard-stats?range=week",
        "/api/dashboard-stats?range=custom&from=2026-01-01",
        "/api/dashboard-stats?from=2026-02-01&to=2026-01-01",
        "/api/dashboard-stats?from=1900-01-01&to=1900-01-02",
        "/api/dashboard-stats?from=2000-01-01&to=2026-01-01",
    ] {
        assert_error(
            &app.get(bad, &app.admin_token).await,
            StatusCode::BAD_REQUEST,
        );
    }
}

#[tokio::test]
async fn business_days_follow_the_store_timezone_setting() {
    let app = TestApp::spawn().await;
    app.create_product("A-1", "1000", 100).await;
    // Kiritimati is UTC+14 and Pago Pago UTC-11: one instant, two calendar days apart.
    app.put(
        "/api/settings",
        &app.admin_token,
        json!({"timezone": "Pacific/Kiritimati"}),
    )
    .await;
    let east = app
        .checkout(
            &app.admin_token,
            json!([{"product_sku": "A-1", "quantity": 1}]),
        )
        .await;
    app.put(
        "/api/settings",
        &app.admin_token,
        json!({"timezone": "Pacific/Pago_Pago"}),
    )
    .await;
    let west = app
        .checkout(
            &app.admin_token,
            json!([{"product_sku": "A-1", "quantity": 1}]),
        )
        .await;
    let east_day =
        chrono::NaiveDate::parse_from_str(east.body["business_date"].as_str().unwrap(), "%Y-%m-%d")
            .unwrap();
    let west_day =
        chrono::NaiveDate::parse_from_str(west.body["business_date"].as_str().unwrap(), "%Y-%m-%d")
            .unwrap();
    assert_eq!(
        (east_day - west_day).num_days(),
        1,
        "{east_day} vs {west_day}"
    );
    let stats = app
        .get("/api/dashboard-stats?range=today", &app.admin_token)
        .await;
    assert_eq!(stats.body["to"], west.body["business_date"]);
    assert_eq!(stats.body["transactions"], 1);
}

#[tokio::test]
async fn each_figure_comes_with_the_previous_period_and_its_change() {
    let app = TestApp::spawn().await;
    app.create_product("A-1", "1000", 0).await;
    app.create_product("OUT-1", "500", 0).await;
    app.create_product("LOW-1", "500", 3).await;
    app.create_product("FINE-1", "500", 500).await;
    // Two days of sales, and the two days before them as the previous period.
    app.import_history(
        "date,sku,quantity,unit_price\n\
         2026-03-01,A-1,2,1000\n\
         2026-03-02,A-1,2,1000\n\
         2026-03-03,A-1,5,1000\n\
         2026-03-04,A-1,1,1000\n",
    )
    .await;
    let stats = app
        .get(
            "/api/dashboard-stats?from=2026-03-03&to=2026-03-04",
            &app.admin_token,
        )
        .await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.text);
    assert_eq!(stats.body["units_sold"], 6);
    let previous = &stats.body["previous"];
    assert_eq!(previous["from"], "2026-03-01");
    assert_eq!(previous["to"], "2026-03-02");
    assert_eq!(previous["units_sold"], 4);
    assert_eq!(previous["revenue"], "4000.00");
    assert_eq!(stats.body["change"]["units_sold_pct"], 50.0);
    assert_eq!(stats.body["change"]["revenue_pct"], 50.0);
    assert_eq!(
        stats.body["change"]["transactions_pct"],
        json!(0.0),
        "{}",
        stats.text
    );

    // Nothing sold before: no percentage of zero.
    let first = app
        .get(
            "/api/dashboard-stats?from=2026-03-01&to=2026-03-01",
            &app.admin_token,
        )
        .await;
    assert_eq!(first.body["change"]["units_sold_pct"], json!(null));

    // Stock health counts active products (threshold from the settings: 10 by default).
    let health = &stats.body["stock_health"];
    assert_eq!(health["critical"], 2, "A-1 and OUT-1 are out: {health}");
    assert_eq!(health["low"], 1);
    assert_eq!(health["fine"], 1);
    assert_eq!(health["low_stock_threshold"], 10);
}
