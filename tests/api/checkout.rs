use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, assert_error};

#[tokio::test]
async fn checkout_records_one_sale_with_exact_money_and_ledger_entries() {
    let app = TestApp::spawn().await;
    app.create_product("BRD-001", "15000.50", 10).await;
    app.create_product("CRS-001", "12000", 5).await;
    let cashier = app.cashier("kasir@test.shop").await;
    let sale = app
        .post(
            "/api/transactions",
            &cashier,
            json!({"items": [
                {"product_sku": "BRD-001", "quantity": 3},
                {"product_sku": "CRS-001", "quantity": 2, "is_promo": true}
            ], "paid_amount": "100000"}),
        )
        .await;
    assert_eq!(sale.status, StatusCode::CREATED, "{}", sale.text);
    let body = &sale.body;
    assert!(body["transaction_id"].as_i64().is_some());
    assert!(body["created_at"].as_str().is_some());
    assert_eq!(body["total"], "69001.50");
    assert_eq!(body["paid_amount"], "100000.00");
    assert_eq!(body["change"], "30998.50");
    assert!(body["cashier_id"].as_i64().is_some());
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[0],
        json!({"product_sku": "BRD-001", "product_name": "Product BRD-001", "quantity": 3,
               "unit_price": "15000.50", "line_total": "45001.50", "is_promo": false})
    );
    assert_eq!(items[1]["is_promo"], true);
    assert_eq!(app.stock_of("BRD-001").await, 7);
    assert_eq!(app.stock_of("CRS-001").await, 3);
    let ledger = app
        .get("/api/products/BRD-001/stock", &app.admin_token)
        .await;
    assert_eq!(ledger.body["items"][0]["reason"], "sale");
    assert_eq!(ledger.body["items"][0]["change"], -3);
    assert_eq!(
        ledger.body["items"][0]["transaction_id"],
        body["transaction_id"]
    );
    assert!(app.ledger_mismatches().await.is_empty());

    // Without paid_amount the payment is exact.
    let exact = app
        .checkout(&cashier, json!([{"product_sku": "CRS-001", "quantity": 1}]))
        .await;
    assert_eq!(exact.body["paid_amount"], "12000.00");
    assert_eq!(exact.body["change"], "0.00");
}

#[tokio::test]
async fn insufficient_stock_names_every_short_line_and_sells_nothing() {
    let app = TestApp::spawn().await;
    app.create_product("A-1", "1000", 2).await;
    app.create_product("B-1", "1000", 10).await;
    app.create_product("C-1", "1000", 0).await;
    let response = app
        .checkout(
            &app.admin_token,
            json!([
                {"product_sku": "A-1", "quantity": 3},
                {"product_sku": "B-1", "quantity": 4},
                {"product_sku": "C-1", "quantity": 1}
            ]),
        )
        .await;
    assert_error(&response, StatusCode::CONFLICT);
    assert_eq!(
        response.body["details"],
        json!([
            {"product_sku": "A-1", "requested": 3, "available": 2},
            {"product_sku": "C-1", "requested": 1, "available": 0}
        ])
    );
    assert_eq!(app.stock_of("B-1").await, 10, "all lines or none");
    assert_eq!(app.count_rows("sales").await, 0);
    assert!(app.ledger_mismatches().await.is_empty());
}

#[tokio::test]
async fn payment_below_total_is_422_and_unknown_products_404() {
    let app = TestApp::spawn().await;
    app.create_product("A-1", "1000", 5).await;
    let short = app
        .post(
            "/api/transactions",
            &app.admin_token,
            json!({"items": [{"product_sku": "A-1", "quantity": 2}], "paid_amount": 1999.99}),
        )
        .await;
    assert_error(&short, StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = app
        .checkout(
            &app.admin_token,
            json!([{"product_sku": "A-1", "quantity": 1}, {"product_sku": "NOPE", "quantity": 1}]),
        )
        .await;
    assert_error(&unknown, StatusCode::NOT_FOUND);
    assert!(unknown.error().contains("NOPE"));
    assert_eq!(app.stock_of("A-1").await, 5);
    assert_eq!(app.count_rows("sales").await, 0);
}

async fn checkout_with_key(
    app: &TestApp,
    token: &str,
    key: &str,
    body: &Value,
) -> crate::support::Response {
    let response = app
        .client
        .post(app.url("/api/transactions"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    crate::support::Response {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    }
}

#[tokio::test]
async fn a_retried_checkout_with_the_same_idempotency_key_sells_once() {
    let app = TestApp::spawn().await;
    app.create_product("A-1", "2500", 10).await;
    let body = json!({"items": [{"product_sku": "A-1", "quantity": 4}], "paid_amount": "10000"});
    let first = checkout_with_key(&app, &app.admin_token, "till-1-0001", &body).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let retry = checkout_with_key(&app, &app.admin_token, "till-1-0001", &body).await;
    assert_eq!(retry.status, StatusCode::CREATED);
    assert_eq!(retry.body, first.body, "the retry returns the first result");
    assert_eq!(retry.headers["idempotent-replayed"], "true");
    assert_eq!(app.stock_of("A-1").await, 6);
    assert_eq!(app.count_rows("sales").await, 1);

    let other_body = json!({"items": [{"product_sku": "A-1", "quantity": 1}]});
    let misuse = checkout_with_key(&app, &app.admin_token, "till-1-0001", &other_body).await;
    assert_error(&misuse, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(misuse.body["code"], "idempotency_key_reused");

    // Many simultaneous retries of one request still sell once.
    let concurrent_body = json!({"items": [{"product_sku": "A-1", "quantity": 1}]});
    let retries =
        (0..10).map(|_| checkout_with_key(&app, &app.admin_token, "till-1-0002", &concurrent_body));
    let answers = futures::future::join_all(retries).await;
    let ids: std::collections::BTreeSet<_> = answers
        .iter()
        .map(|a| {
            assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
            a.body["transaction_id"].as_i64().unwrap()
        })
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(app.stock_of("A-1").await, 5);

    let bad_key = checkout_with_key(&app, &app.admin_token, "has space", &body).await;
    assert_error(&bad_key, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn fifty_concurrent_checkouts_for_ten_units_sell_exactly_ten() {
    let app = TestApp::spawn().await;
    app.create_product("LAST-1", "1000", 10).await;
    let cashier = app.cashier("kasir@test.shop").await;
    let requests = (0..50).map(|i| {
        let token = if i % 2 == 0 {
            &app.admin_token
        } else {
            &cashier
        };
        app.checkout(token, json!([{"product_sku": "LAST-1", "quantity": 1}]))
    });
    let answers = futures::future::join_all(requests).await;
    let sold = answers
        .iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .count();
    let refused = answers
        .iter()
        .filter(|a| a.status == StatusCode::CONFLICT)
        .count();
    assert_eq!(
        sold,
        10,
        "answers: {:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    assert_eq!(refused, 40);
    for answer in answers.iter().filter(|a| a.status == StatusCode::CONFLICT) {
        assert_eq!(answer.body["details"][0]["product_sku"], "LAST-1");
        assert_eq!(answer.body["details"][0]["available"], 0);
    }
    assert_eq!(app.stock_of("LAST-1").await, 0);
    assert_eq!(app.count_rows("sales").await, 10);
    let ledger = app
        .get("/api/products/LAST-1/stock?limit=100", &app.admin_token)
        .await;
    let sales: Vec<_> = ledger.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["reason"] == "sale")
        .collect();
    assert_eq!(sales.len(), 10);
    assert!(app.ledger_mismatches().await.is_empty());
}

#[tokio::test]
async fn transactions_are_listed_by_range_and_cashiers_see_only_their_own() {
    let app = TestApp::spawn().await;
    app.create_product("A-1", "1000", 100).await;
    let cashier = app.cashier("kasir@test.shop").await;
    let mine = app
        .checkout(&cashier, json!([{"product_sku": "A-1", "quantity": 1}]))
        .await;
    let admins = app
        .checkout(
            &app.admin_token,
            json!([{"product_sku": "A-1", "quantity": 2}]),
        )
        .await;
    let admin_sale_id = admins.body["transaction_id"].as_i64().unwrap();

    let all = app.get("/api/transactions", &app.admin_token).await;
    assert_eq!(all.body["total"], 2);
    assert_eq!(
        all.body["items"][0]["transaction_id"], admin_sale_id,
        "newest first"
    );
    assert_eq!(all.body["items"][0]["items"][0]["quantity"], 2);
    let own = app.get("/api/transactions", &cashier).await;
    assert_eq!(own.body["total"], 1);
    assert_eq!(
        own.body["items"][0]["transaction_id"],
        mine.body["transaction_id"]
    );
    assert_error(
        &app.get(&format!("/api/transactions/{admin_sale_id}"), &cashier)
            .await,
        StatusCode::NOT_FOUND,
    );
    let fetched = app
        .get(
            &format!("/api/transactions/{admin_sale_id}"),
            &app.admin_token,
        )
        .await;
    assert_eq!(fetched.body["total"], "2000.00");

    let today = admins.body["business_date"].as_str().unwrap().to_owned();
    let in_range = app
        .get(
            &format!("/api/transactions?from={today}&to={today}"),
            &app.admin_token,
        )
        .await;
    assert_eq!(in_range.body["total"], 2);
    let before = app
        .get(
            "/api/transactions?from=2020-01-01&to=2020-01-31",
            &app.admin_token,
        )
        .await;
    assert_eq!(before.body["total"], 0);
    let instants = app
        .get(
            "/api/transactions?from=2020-01-01T00:00:00Z&to=2199-01-01T00:00:00%2B07:00",
            &app.admin_token,
        )
        .await;
    assert_eq!(instants.body["total"], 2, "{}", instants.text);
    let paged = app
        .get("/api/transactions?limit=1&offset=1", &app.admin_token)
        .await;
    assert_eq!(paged.body["items"].as_array().unwrap().len(), 1);
    assert_error(
        &app.get(
            "/api/transactions?from=2026-02-01&to=2026-01-01",
            &app.admin_token,
        )
        .await,
        StatusCode::BAD_REQUEST,
    );
    assert_error(
        &app.get("/api/transactions/999999", &app.admin_token).await,
        StatusCode::NOT_FOUND,
    );
}

#[tokio::test]
async fn sales_export_as_csv_for_admins() {
    let app = TestApp::spawn().await;
    app.create_product("A-1", "1000", 100).await;
    app.create_product("B-1", "2500.25", 100).await;
    app.checkout(
        &app.admin_token,
        json!([{"product_sku": "A-1", "quantity": 1}, {"product_sku": "B-1", "quantity": 2}]),
    )
    .await;
    let response = app
        .client
        .get(app.url("/api/transactions/export.csv"))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = response.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("transaction_id,created_at,business_date"));
    assert!(
        lines[2].contains("B-1") && lines[2].contains("2500.25") && lines[2].contains("5000.50")
    );
    let cashier = app.cashier("kasir@test.shop").await;
    assert_error(
        &app.get("/api/transactions/export.csv", &cashier).await,
        StatusCode::FORBIDDEN,
    );
    let empty = app
        .get(
            "/api/transactions/export.csv?from=2020-01-01&to=2020-01-02",
            &app.admin_token,
        )
        .await;
    assert_eq!(empty.text.lines().count(), 1);
}

/// The till's running total comes from the server: the same prices and merging as a
/// checkout, shortages reported, nothing sold.
#[tokio::test]
async fn a_quote_prices_the_cart_like_a_checkout_without_selling() {
    let app = TestApp::spawn().await;
    app.create_product("A-1", "1500.50", 3).await;
    app.create_product("B-1", "2000", 10).await;
    let cashier = app.cashier("kasir@test.shop").await;
    let cart = serde_json::json!({
        "items": [
            {"product_sku": "A-1", "quantity": 2},
            {"product_sku": "B-1", "quantity": 1, "is_promo": true},
            {"product_sku": "A-1", "quantity": 2}
        ],
        "paid_amount": "10000"
    });
    let quote = app
        .post("/api/transactions/quote", &cashier, cart.clone())
        .await;
    assert_eq!(quote.status, StatusCode::OK, "{}", quote.text);
    assert_eq!(quote.body["total"], "8002.00");
    assert_eq!(quote.body["change"], "1998.00");
    assert_eq!(quote.body["amount_due"], "0.00");
    assert_eq!(quote.body["items"][0]["quantity"], 4, "{}", quote.text);
    assert_eq!(quote.body["items"][0]["line_total"], "6002.00");
    assert_eq!(quote.body["shortages"][0]["product_sku"], "A-1");
    assert_eq!(quote.body["shortages"][0]["available"], 3);
    assert_eq!(app.stock_of("A-1").await, 3);
    assert_eq!(app.count_rows("sales").await, 0);

    let short_paid = app
        .post(
            "/api/transactions/quote",
            &cashier,
            serde_json::json!({"items": [{"product_sku": "B-1", "quantity": 2}], "paid_amount": "3000"}),
        )
        .await;
    assert_eq!(short_paid.body["amount_due"], "1000.00");
    assert!(short_paid.body.get("change").is_none());

    // Lines name the product's variation, so two lines of one name can be told apart.
    app.post(
        "/api/products",
        &app.admin_token,
        serde_json::json!({"sku": "SOBEK-C", "name": "Roti Sobek", "variation": "Cokelat", "price": "9000", "stock": 5}),
    )
    .await;
    let cart = serde_json::json!({"items": [{"product_sku": "SOBEK-C", "quantity": 1}]});
    let quoted = app
        .post("/api/transactions/quote", &cashier, cart.clone())
        .await;
    assert_eq!(quoted.body["items"][0]["product_variation"], "Cokelat");
    let sold = app.post("/api/transactions", &cashier, cart).await;
    assert_eq!(
        sold.body["items"][0]["product_variation"], "Cokelat",
        "{}",
        sold.text
    );
    let id = sold.body["transaction_id"].as_i64().unwrap();
    let stored = app.get(&format!("/api/transactions/{id}"), &cashier).await;
    assert_eq!(stored.body["items"][0]["product_variation"], "Cokelat");

    // The checkout of the same cart (within stock) charges what the quote said.
    let cart = serde_json::json!({"items": [{"product_sku": "B-1", "quantity": 2}]});
    let quoted = app
        .post("/api/transactions/quote", &cashier, cart.clone())
        .await;
    let sold = app.post("/api/transactions", &cashier, cart).await;
    assert_eq!(sold.body["total"], quoted.body["total"]);
    assert_error(
        &app.post(
            "/api/transactions/quote",
            &cashier,
            serde_json::json!({"items": [{"product_sku": "NOPE-1", "quantity": 1}]}),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
}
