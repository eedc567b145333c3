//! Barcodes: optional, unique, EAN-13 or UPC-A with a valid check digit; a scan finds the
//! product by barcode, then by SKU.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{TestApp, assert_error};

const EAN: &str = "8992761111120";
const UPC_A: &str = "036000291452";

#[tokio::test]
async fn a_product_keeps_its_barcode_and_a_scan_finds_it() {
    let app = TestApp::spawn().await;
    let created = app
        .post(
            "/api/products",
            &app.admin_token,
            json!({"sku": "TEA-1", "barcode": EAN, "name": "Teh botol", "price": "5000"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["barcode"], EAN);
    // UPC-A is kept in its EAN-13 form, which scanners may also send.
    let upc = app
        .post(
            "/api/products",
            &app.admin_token,
            json!({"sku": "COLA-1", "barcode": UPC_A, "name": "Cola", "price": "7000"}),
        )
        .await;
    assert_eq!(upc.body["barcode"], format!("0{UPC_A}"));
    app.create_product("NOCODE-1", "1000", 5).await;

    let cashier = app.cashier("kasir@test.shop").await;
    for (code, sku) in [
        (EAN, "TEA-1"),
        (UPC_A, "COLA-1"),
        (&format!("0{UPC_A}") as &str, "COLA-1"),
        ("NOCODE-1", "NOCODE-1"),
        (" TEA-1 ", "TEA-1"),
    ] {
        let found = app
            .get(
                &format!("/api/products/lookup?code={}", code.trim()),
                &cashier,
            )
            .await;
        assert_eq!(found.status, StatusCode::OK, "{code}: {}", found.text);
        assert_eq!(found.body["sku"], sku, "{code}");
        assert!(
            found.body.get("cost_price").is_none(),
            "cashiers see no cost"
        );
    }
    for missing in ["8992761111137", "NOPE-1", "%27--"] {
        let response = app
            .get(&format!("/api/products/lookup?code={missing}"), &cashier)
            .await;
        assert_error(&response, StatusCode::NOT_FOUND);
    }
    assert_error(
        &app.get("/api/products/lookup", &cashier).await,
        StatusCode::BAD_REQUEST,
    );
    // Search matches the barcode too.
    let search = app
        .get(&format!("/api/products?search={EAN}"), &cashier)
        .await;
    assert_eq!(search.body["total"], 1);
    assert_eq!(search.body["items"][0]["sku"], "TEA-1");
}

#[tokio::test]
async fn bad_or_taken_barcodes_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    app.post(
        "/api/products",
        &app.admin_token,
        json!({"sku": "TEA-1", "barcode": EAN, "name": "Teh", "price": "5000"}),
    )
    .await;
    for bad in [
        "8992761111121",
        "12345",
        "89927611111a0",
        "",
        "899276111112000",
    ] {
        let response = app
            .post(
                "/api/products",
                &app.admin_token,
                json!({"sku": "NEW-1", "barcode": bad, "name": "New", "price": "1"}),
            )
            .await;
        assert_error(&response, StatusCode::BAD_REQUEST);
        // Named as the field's failure, so a form can show it on the field.
        assert_eq!(
            response.body["code"], "validation_failed",
            "{}",
            response.text
        );
        assert_eq!(
            response.body["details"][0]["field"], "barcode",
            "{}",
            response.text
        );
    }
    let taken = app
        .post(
            "/api/products",
            &app.admin_token,
            json!({"sku": "NEW-1", "barcode": EAN, "name": "New", "price": "1"}),
        )
        .await;
    assert_error(&taken, StatusCode::CONFLICT);
    assert!(taken.error().contains("TEA-1"), "{}", taken.text);
    assert_error(
        &app.get("/api/products/NEW-1", &app.admin_token).await,
        StatusCode::NOT_FOUND,
    );

    // Update: set, refuse another's, clear with null, keep when absent.
    app.create_product("COLA-1", "7000", 1).await;
    let stolen = app
        .put(
            "/api/products/COLA-1",
            &app.admin_token,
            json!({"barcode": EAN}),
        )
        .await;
    assert_error(&stolen, StatusCode::CONFLICT);
    let set = app
        .put(
            "/api/products/COLA-1",
            &app.admin_token,
            json!({"barcode": UPC_A}),
        )
        .await;
    assert_eq!(set.body["barcode"], format!("0{UPC_A}"), "{}", set.text);
    let renamed = app
        .put(
            "/api/products/COLA-1",
            &app.admin_token,
            json!({"name": "Cola 330 ml"}),
        )
        .await;
    assert_eq!(renamed.body["barcode"], format!("0{UPC_A}"));
    let cleared = app
        .put(
            "/api/products/COLA-1",
            &app.admin_token,
            json!({"barcode": null}),
        )
        .await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.text);
    assert!(cleared.body.get("barcode").is_none(), "{}", cleared.text);
    // Its old code is free again.
    let reused = app
        .put(
            "/api/products/TEA-1",
            &app.admin_token,
            json!({"barcode": UPC_A}),
        )
        .await;
    assert_eq!(reused.status, StatusCode::OK, "{}", reused.text);
}

#[tokio::test]
async fn the_demo_shop_has_a_valid_barcode_on_every_product() {
    let app = TestApp::spawn_with(|config| config.demo = true).await;
    let products = app.get("/api/products?limit=200", &app.admin_token).await;
    let items = products.body["items"].as_array().unwrap();
    assert!(!items.is_empty());
    for item in items {
        let code = item["barcode"]
            .as_str()
            .expect("every demo product has a barcode");
        let found = app
            .get(
                &format!("/api/products/lookup?code={code}"),
                &app.admin_token,
            )
            .await;
        assert_eq!(found.body["sku"], item["sku"]);
    }
}

/// A restock tapped twice, or retried after a lost answer, changes stock once.
#[tokio::test]
async fn a_stock_change_with_an_idempotency_key_happens_once() {
    let app = TestApp::spawn().await;
    app.create_product("A-1", "1000", 10).await;
    let restock = |key: &'static str, change: i64| {
        let request = app
            .client
            .post(app.url("/api/products/A-1/stock"))
            .bearer_auth(&app.admin_token)
            .header("Idempotency-Key", key)
            .json(&json!({"change": change, "reason": "restock"}));
        async move { request.send().await.unwrap() }
    };
    let first = restock("tap-1", 120).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let again = restock("tap-1", 120).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let body: serde_json::Value = again.json().await.unwrap();
    assert_eq!(body["stock"], 130);
    assert_eq!(app.stock_of("A-1").await, 130);

    // The same key for another change, or another product, is refused.
    assert_eq!(
        restock("tap-1", 5).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    app.create_product("B-1", "1000", 0).await;
    let other_product = app
        .client
        .post(app.url("/api/products/B-1/stock"))
        .bearer_auth(&app.admin_token)
        .header("Idempotency-Key", "tap-1")
        .json(&json!({"change": 120, "reason": "restock"}))
        .send()
        .await
        .unwrap();
    assert_eq!(other_product.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Concurrent double taps: one change.
    let (a, b) = tokio::join!(restock("tap-2", 7), restock("tap-2", 7));
    assert!(a.status().is_success() || b.status().is_success());
    assert_eq!(app.stock_of("A-1").await, 137);
    assert!(app.ledger_mismatches().await.is_empty());
}
