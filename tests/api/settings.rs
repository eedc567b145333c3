use reqwest::StatusCode;
use serde_json::json;

use crate::support::{TestApp, assert_error};

#[tokio::test]
async fn admins_edit_the_store_profile_and_everyone_reads_it() {
    let app = TestApp::spawn().await;
    let initial = app.get("/api/settings", &app.admin_token).await;
    assert_eq!(initial.body["timezone"], "Asia/Jakarta");
    assert_eq!(initial.body["currency"], "IDR");
    let updated = app
        .put(
            "/api/settings",
            &app.admin_token,
            json!({"store_name": "Toko Roti Sari", "address": "Jl. Merdeka 1", "phone": "+62 21 555",
                   "email": "Toko@Sari.ID", "timezone": "Asia/Makassar", "currency": "idr", "low_stock_threshold": 3}),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(updated.body["store_name"], "Toko Roti Sari");
    assert_eq!(updated.body["email"], "toko@sari.id");
    assert_eq!(updated.body["currency"], "IDR");
    assert_eq!(updated.body["low_stock_threshold"], 3);

    for bad in [
        json!({"timezone": "Mars/Olympus"}),
        json!({"currency": "RUPIAH"}),
        json!({"low_stock_threshold": -1}),
        json!({"store_name": ""}),
        json!({"email": "not-an-email"}),
        json!({"colour": "blue"}),
    ] {
        assert_error(
            &app.put("/api/settings", &app.admin_token, bad).await,
            StatusCode::BAD_REQUEST,
        );
    }
    assert_eq!(
        app.get("/api/settings", &app.admin_token).await.body["timezone"],
        "Asia/Makassar"
    );

    let cashier = app.cashier("kasir@test.shop").await;
    assert_eq!(
        app.get("/api/settings", &cashier).await.body["store_name"],
        "Toko Roti Sari"
    );
    assert_error(
        &app.put("/api/settings", &cashier, json!({"store_name": "Mine"}))
            .await,
        StatusCode::FORBIDDEN,
    );

    let status = app.get("/api/settings/status", &cashier).await;
    assert_eq!(status.status, StatusCode::OK);
    assert_eq!(status.body["users"], 2);
    assert_eq!(status.body["products"], 0);
    assert_eq!(status.body["timezone"], "Asia/Makassar");
    assert!(["sqlite", "postgresql"].contains(&status.body["database"].as_str().unwrap()));
}
