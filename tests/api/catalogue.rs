use reqwest::StatusCode;
use serde_json::json;

use crate::support::{TestApp, assert_error};

#[tokio::test]
async fn products_are_created_read_updated_and_listed_with_filters() {
    let app = TestApp::spawn().await;
    let created = app.create_product("BRD-001", "15000.50", 40).await;
    assert_eq!(created["sku"], "BRD-001");
    assert_eq!(created["price"], "15000.50");
    assert_eq!(created["cost_price"], "1000.00");
    assert_eq!(created["stock"], 40);
    assert_eq!(created["is_active"], true);
    assert_eq!(created["category"], "Bakery");
    for field in ["created_at", "updated_at", "name", "variation"] {
        assert!(created.get(field).is_some(), "missing {field}");
    }
    // Money is accepted as a JSON number too.
    let numeric = app
        .post(
            "/api/products",
            &app.admin_token,
            json!({"sku": "DRK-001", "name": "Es Teh Manis", "category": "Drinks", "price": 5000.5, "stock": 3}),
        )
        .await;
    assert_eq!(numeric.status, StatusCode::CREATED, "{}", numeric.text);
    assert_eq!(numeric.body["price"], "5000.50");

    let duplicate = app
        .post(
            "/api/products",
            &app.admin_token,
            json!({"sku": "BRD-001", "name": "Again", "price": "1"}),
        )
        .await;
    assert_error(&duplicate, StatusCode::CONFLICT);

    let fetched = app.get("/api/products/BRD-001", &app.admin_token).await;
    assert_eq!(fetched.body["name"], "Product BRD-001");
    assert_error(
        &app.get("/api/products/NOPE-1", &app.admin_token).await,
        StatusCode::NOT_FOUND,
    );

    let updated = app
        .put(
            "/api/products/BRD-001",
            &app.admin_token,
            json!({"name": "Roti Tawar", "price": 16000, "variation": "Large"}),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(updated.body["name"], "Roti Tawar");
    assert_eq!(updated.body["price"], "16000.00");
    assert_eq!(updated.body["variation"], "Large");
    assert_eq!(updated.body["stock"], 40, "an update never touches stock");
    let stock_via_update = app
        .put(
            "/api/products/BRD-001",
            &app.admin_token,
            json!({"stock": 1}),
        )
        .await;
    assert_error(&stock_via_update, StatusCode::BAD_REQUEST);

    let all = app.get("/api/products", &app.admin_token).await;
    assert_eq!(all.body["total"], 2);
    assert_eq!(all.body["limit"], 50);
    assert_eq!(all.body["offset"], 0);
    let search = app.get("/api/products?search=teh", &app.admin_token).await;
    assert_eq!(search.body["total"], 1);
    assert_eq!(search.body["items"][0]["sku"], "DRK-001");
    let by_category = app
        .get("/api/products?category=Bakery", &app.admin_token)
        .await;
    assert_eq!(by_category.body["items"][0]["sku"], "BRD-001");
    assert_eq!(by_category.body["total"], 1);
    let low = app
        .get("/api/products?low_stock=true", &app.admin_token)
        .await;
    assert_eq!(
        low.body["total"], 1,
        "threshold 10: only DRK-001 (3) is low"
    );
    let paged = app
        .get("/api/products?limit=1&offset=1", &app.admin_token)
        .await;
    assert_eq!(paged.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(paged.body["items"][0]["sku"], "DRK-001");
    // Wildcards in a search are literal text.
    let wildcard = app.get("/api/products?search=%25", &app.admin_token).await;
    assert_eq!(wildcard.body["total"], 0);
}

#[tokio::test]
async fn stock_changes_write_the_ledger_and_never_go_below_zero() {
    let app = TestApp::spawn().await;
    app.create_product("CRS-001", "12000", 5).await;
    let restock = app
        .post(
            "/api/products/CRS-001/stock",
            &app.admin_token,
            json!({"change": 20, "reason": "restock", "note": "supplier A"}),
        )
        .await;
    assert_eq!(restock.status, StatusCode::OK, "{}", restock.text);
    assert_eq!(restock.body["stock"], 25);
    let adjust = app
        .post(
            "/api/products/CRS-001/stock",
            &app.admin_token,
            json!({"change": -4, "reason": "adjustment", "note": "broken"}),
        )
        .await;
    assert_eq!(adjust.body["stock"], 21);
    let too_much = app
        .post(
            "/api/products/CRS-001/stock",
            &app.admin_token,
            json!({"change": -22, "reason": "adjustment"}),
        )
        .await;
    assert_error(&too_much, StatusCode::CONFLICT);
    assert_eq!(app.stock_of("CRS-001").await, 21);
    for bad in [
        json!({"change": 0, "reason": "restock"}),
        json!({"change": -1, "reason": "restock"}),
        json!({"change": 1, "reason": "theft"}),
        json!({"change": 1.5, "reason": "adjustment"}),
        json!({"reason": "adjustment"}),
    ] {
        let response = app
            .post("/api/products/CRS-001/stock", &app.admin_token, bad.clone())
            .await;
        assert_error(&response, StatusCode::BAD_REQUEST);
    }
    let ledger = app
        .get("/api/products/CRS-001/stock", &app.admin_token)
        .await;
    let entries = ledger.body["items"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(ledger.body["total"], 3);
    assert_eq!(entries[0]["reason"], "adjustment");
    assert_eq!(entries[0]["change"], -4);
    assert_eq!(entries[0]["balance_after"], 21);
    assert_eq!(entries[1]["note"], "supplier A");
    assert_eq!(entries[2]["note"], "opening stock");
    assert!(app.ledger_mismatches().await.is_empty());
}

#[tokio::test]
async fn a_never_sold_product_marked_for_retraining_can_be_deleted() {
    // An event marks every product's forecast stale; that mark used to block the delete
    // (a foreign key, a 500). Found by Schemathesis.
    let app = TestApp::spawn().await;
    app.create_product("NEW-2", "1000", 5).await;
    let event = app
        .post(
            "/api/events",
            &app.admin_token,
            json!({"name": "Lebaran", "date": "2026-03-20", "type": "holiday"}),
        )
        .await;
    assert_eq!(event.status, StatusCode::CREATED, "{}", event.text);
    let deleted = app.delete("/api/products/NEW-2", &app.admin_token).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    assert_eq!(deleted.body["outcome"], "deleted");
}

#[tokio::test]
async fn a_product_with_sales_is_deactivated_not_deleted() {
    let app = TestApp::spawn().await;
    app.create_product("SOLD-1", "1000", 5).await;
    app.create_product("NEW-1", "1000", 5).await;
    assert_eq!(
        app.checkout(
            &app.admin_token,
            json!([{"product_sku": "SOLD-1", "quantity": 1}])
        )
        .await
        .status,
        StatusCode::CREATED
    );

    let deleted = app.delete("/api/products/NEW-1", &app.admin_token).await;
    assert_eq!(deleted.body["outcome"], "deleted");
    assert_error(
        &app.get("/api/products/NEW-1", &app.admin_token).await,
        StatusCode::NOT_FOUND,
    );

    let kept = app.delete("/api/products/SOLD-1", &app.admin_token).await;
    assert_eq!(kept.body["outcome"], "deactivated");
    let product = app.get("/api/products/SOLD-1", &app.admin_token).await;
    assert_eq!(product.body["is_active"], false);
    assert_eq!(
        app.get("/api/products", &app.admin_token).await.body["total"],
        0
    );
    assert_eq!(
        app.get("/api/products?include_inactive=true", &app.admin_token)
            .await
            .body["total"],
        1
    );
    // A deactivated product is not for sale.
    let sale = app
        .checkout(
            &app.admin_token,
            json!([{"product_sku": "SOLD-1", "quantity": 1}]),
        )
        .await;
    assert_error(&sale, StatusCode::CONFLICT);
    assert_error(
        &app.delete("/api/products/NEW-1", &app.admin_token).await,
        StatusCode::NOT_FOUND,
    );
}

#[tokio::test]
async fn product_stats_sum_the_catalogue() {
    let app = TestApp::spawn().await;
    app.create_product("A-1", "2000", 4).await;
    app.create_product("B-1", "3000.50", 0).await;
    app.create_product("C-1", "100", 50).await;
    let stats = app.get("/api/products/stats", &app.admin_token).await;
    assert_eq!(stats.status, StatusCode::OK);
    assert_eq!(stats.body["total_products"], 3);
    assert_eq!(stats.body["active_products"], 3);
    assert_eq!(stats.body["low_stock_products"], 2);
    assert_eq!(stats.body["out_of_stock_products"], 1);
    assert_eq!(stats.body["units_in_stock"], 54);
    assert_eq!(stats.body["stock_value_at_price"], "13000.00");
    assert_eq!(stats.body["stock_value_at_cost"], "54000.00");
    assert_eq!(stats.body["categories"], 1);
}

#[tokio::test]
async fn categories_crud_and_conflicts() {
    let app = TestApp::spawn().await;
    let created = app
        .post(
            "/api/categories",
            &app.admin_token,
            json!({"name": "Cakes", "description": "Whole cakes"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.body["category_id"].as_i64().unwrap();
    assert_error(
        &app.post(
            "/api/categories",
            &app.admin_token,
            json!({"name": "Cakes"}),
        )
        .await,
        StatusCode::CONFLICT,
    );
    let renamed = app
        .put(
            &format!("/api/categories/{id}"),
            &app.admin_token,
            json!({"name": "Cake"}),
        )
        .await;
    assert_eq!(renamed.body["name"], "Cake");
    app.post(
        "/api/products",
        &app.admin_token,
        json!({"sku": "CKE-1", "name": "Bolu", "category": "Cake", "price": "50000"}),
    )
    .await;
    let list = app.get("/api/categories", &app.admin_token).await;
    assert_eq!(list.body[0]["product_count"], 1);
    assert_error(
        &app.delete(&format!("/api/categories/{id}"), &app.admin_token)
            .await,
        StatusCode::CONFLICT,
    );
    app.put(
        "/api/products/CKE-1",
        &app.admin_token,
        json!({"category": ""}),
    )
    .await;
    let removed = app
        .delete(&format!("/api/categories/{id}"), &app.admin_token)
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_error(
        &app.delete(&format!("/api/categories/{id}"), &app.admin_token)
            .await,
        StatusCode::NOT_FOUND,
    );
}

#[tokio::test]
async fn cashiers_read_the_catalogue_but_cannot_change_it() {
    let app = TestApp::spawn().await;
    app.create_product("BRD-001", "15000", 10).await;
    let cashier = app.cashier("kasir@test.shop").await;
    assert_eq!(
        app.get("/api/products", &cashier).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/products/BRD-001", &cashier).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/products/stats", &cashier).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/categories", &cashier).await.status,
        StatusCode::OK
    );
    let attempts = [
        app.post(
            "/api/products",
            &cashier,
            json!({"sku": "X-1", "name": "X", "price": "1"}),
        )
        .await,
        app.put("/api/products/BRD-001", &cashier, json!({"price": "1"}))
            .await,
        app.delete("/api/products/BRD-001", &cashier).await,
        app.post(
            "/api/products/BRD-001/stock",
            &cashier,
            json!({"change": 5, "reason": "restock"}),
        )
        .await,
        app.get("/api/products/BRD-001/stock", &cashier).await,
        app.post("/api/categories", &cashier, json!({"name": "X"}))
            .await,
    ];
    for attempt in &attempts {
        assert_error(attempt, StatusCode::FORBIDDEN);
    }
    let product = app.get("/api/products/BRD-001", &app.admin_token).await;
    assert_eq!(product.body["price"], "15000.00");
    assert_eq!(product.body["stock"], 10);
}

/// The server says where each product's stock stands; the threshold is the store's.
#[tokio::test]
async fn every_product_says_whether_its_stock_is_out_low_or_fine() {
    let app = TestApp::spawn().await;
    app.create_product("OUT-1", "1000", 0).await;
    app.create_product("LOW-1", "1000", 3).await;
    app.create_product("FINE-1", "1000", 50).await;
    let status = |body: &serde_json::Value, sku: &str| {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["sku"] == sku)
            .map(|p| p["stock_status"].clone())
            .unwrap()
    };
    let list = app.get("/api/products", &app.admin_token).await;
    assert_eq!(status(&list.body, "OUT-1"), "out");
    assert_eq!(status(&list.body, "LOW-1"), "low");
    assert_eq!(status(&list.body, "FINE-1"), "fine");
    let one = app.get("/api/products/LOW-1", &app.admin_token).await;
    assert_eq!(one.body["stock_status"], "low");
    // The list filters by the same status.
    for (wanted, sku) in [("out", "OUT-1"), ("low", "LOW-1"), ("fine", "FINE-1")] {
        let only = app
            .get(
                &format!("/api/products?stock_status={wanted}"),
                &app.admin_token,
            )
            .await;
        assert_eq!(only.body["total"], 1, "{wanted}: {}", only.text);
        assert_eq!(only.body["items"][0]["sku"], sku);
    }
    assert_error(
        &app.get("/api/products?stock_status=empty", &app.admin_token)
            .await,
        StatusCode::BAD_REQUEST,
    );

    // A lower threshold changes the answer, cached lists included.
    let settings = app
        .put(
            "/api/settings",
            &app.admin_token,
            serde_json::json!({"low_stock_threshold": 2}),
        )
        .await;
    assert_eq!(settings.status, StatusCode::OK, "{}", settings.text);
    let list = app.get("/api/products", &app.admin_token).await;
    assert_eq!(status(&list.body, "LOW-1"), "fine");
    let restocked = app
        .post(
            "/api/products/OUT-1/stock",
            &app.admin_token,
            serde_json::json!({"change": 1, "reason": "restock"}),
        )
        .await;
    assert_eq!(restocked.body["stock_status"], "low");
}
