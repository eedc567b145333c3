use reqwest::StatusCode;
use serde_json::json;

use crate::support::{TestApp, assert_error};

#[tokio::test]
async fn events_crud_with_ranges_and_filters() {
    let app = TestApp::spawn().await;
    let lebaran = app
        .post(
            "/api/events",
            &app.admin_token,
            json!({"name": "Idul Fitri", "date": "2026-03-20", "end_date": "2026-03-22", "type": "holiday",
                   "description": "Lebaran", "include_in_prediction": true}),
        )
        .await;
    assert_eq!(lebaran.status, StatusCode::CREATED, "{}", lebaran.text);
    assert_eq!(lebaran.body["type"], "holiday");
    assert_eq!(lebaran.body["end_date"], "2026-03-22");
    assert_eq!(lebaran.body["include_in_prediction"], true);
    let id = lebaran.body["event_id"].as_i64().unwrap();

    let promo = app
        .post(
            "/api/events",
            &app.admin_token,
            json!({"name": "Promo 11.11", "date": "2026-11-11", "type": "promotion"}),
        )
        .await;
    assert_eq!(
        promo.body["include_in_prediction"], true,
        "defaults to feeding the forecast"
    );
    assert!(promo.body["end_date"].is_null());

    let listed = app.get("/api/events", &app.admin_token).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 2);
    let march = app
        .get(
            "/api/events?from=2026-03-21&to=2026-03-31",
            &app.admin_token,
        )
        .await;
    assert_eq!(
        march.body.as_array().unwrap().len(),
        1,
        "a range overlapping the filter is included"
    );
    assert_eq!(march.body[0]["name"], "Idul Fitri");

    let updated = app
        .put(
            &format!("/api/events/{id}"),
            &app.admin_token,
            json!({"name": "Idul Fitri 1447 H", "date": "2026-03-20", "type": "holiday", "include_in_prediction": false}),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(updated.body["include_in_prediction"], false);
    assert_eq!(
        app.get(&format!("/api/events/{id}"), &app.admin_token)
            .await
            .body["name"],
        "Idul Fitri 1447 H"
    );

    for bad in [
        json!({"name": "X", "date": "2026-13-01", "type": "holiday"}),
        json!({"name": "X", "date": "2026-03-05", "end_date": "2026-03-01", "type": "holiday"}),
        json!({"name": "X", "date": "1900-01-01", "type": "holiday"}),
        json!({"name": "X", "date": "2026-03-05", "type": "birthday"}),
        json!({"name": "", "date": "2026-03-05", "type": "custom"}),
        json!({"name": "X", "date": "2026-01-01", "end_date": "2028-01-01", "type": "seasonal"}),
    ] {
        assert_error(
            &app.post("/api/events", &app.admin_token, bad).await,
            StatusCode::BAD_REQUEST,
        );
    }

    let cashier = app.cashier("kasir@test.shop").await;
    assert_eq!(
        app.get("/api/events", &cashier).await.status,
        StatusCode::OK
    );
    assert_error(
        &app.post(
            "/api/events",
            &cashier,
            json!({"name": "X", "date": "2026-03-05", "type": "custom"}),
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    assert_error(
        &app.delete(&format!("/api/events/{id}"), &cashier).await,
        StatusCode::FORBIDDEN,
    );

    assert_eq!(
        app.delete(&format!("/api/events/{id}"), &app.admin_token)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_error(
        &app.get(&format!("/api/events/{id}"), &app.admin_token)
            .await,
        StatusCode::NOT_FOUND,
    );
    assert_error(
        &app.delete(&format!("/api/events/{id}"), &app.admin_token)
            .await,
        StatusCode::NOT_FOUND,
    );
}
