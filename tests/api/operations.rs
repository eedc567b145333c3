use reqwest::{Method, StatusCode};

use crate::support::TestApp;

#[tokio::test]
async fn health_ready_and_request_ids() {
    let app = TestApp::spawn().await;
    let health = app.request(Method::GET, "/health", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["status"], "healthy");
    let generated = health.headers["x-request-id"].to_str().unwrap();
    assert_eq!(generated.len(), 36, "a UUID is generated: {generated}");

    let ready = app.request(Method::GET, "/ready", None, None).await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.body["status"], "ready");
    assert_eq!(ready.body["checks"]["database"], "ok");

    let echoed = app
        .client
        .get(app.url("/health"))
        .header("X-Request-ID", "till-7-request-42")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "till-7-request-42");
}

#[tokio::test]
async fn ready_is_503_and_requests_fail_fast_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.state.db.close().await;
    let ready = app.request(Method::GET, "/ready", None, None).await;
    assert_eq!(
        ready.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        ready.text
    );
    assert_eq!(ready.body["status"], "unavailable");
    assert_eq!(ready.body["checks"]["database"], "unreachable");
    let failing = app.get("/api/products", &app.admin_token).await;
    assert_eq!(
        failing.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        failing.text
    );
    assert!(failing.headers.contains_key("retry-after"));
    assert_eq!(
        app.request(Method::GET, "/health", None, None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn metrics_count_requests_per_route_as_json_and_prometheus_text() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        app.get("/api/products", &app.admin_token).await;
    }
    app.get("/api/products/NOPE", &app.admin_token).await;
    let json = app.request(Method::GET, "/metrics", None, None).await;
    assert_eq!(json.status, StatusCode::OK);
    let products = &json.body["routes"]["GET /api/products"];
    assert_eq!(products["count"], 3);
    for field in ["min_ms", "avg_ms", "p95_ms", "p99_ms", "max_ms"] {
        assert!(products[field].as_f64().is_some(), "missing {field}");
    }
    assert!(products["p99_ms"].as_f64() >= products["min_ms"].as_f64());
    assert_eq!(
        json.body["routes"]["GET /api/products/{sku}"]["client_errors"],
        1
    );

    let text = app
        .client
        .get(app.url("/metrics"))
        .header("Accept", "text/plain;version=0.0.4")
        .send()
        .await
        .unwrap();
    assert!(
        text.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = text.text().await.unwrap();
    assert!(text.contains("# TYPE siprems_http_request_duration_seconds summary"));
    assert!(text.contains(
        "siprems_http_requests_total{method=\"GET\",route=\"/api/products\",status=\"2xx_3xx\"} 3"
    ));
    let by_query = app
        .request(Method::GET, "/metrics?format=prometheus", None, None)
        .await;
    assert!(by_query.text.contains("siprems_uptime_seconds"));
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let app = TestApp::spawn().await;
    let doc = app
        .request(Method::GET, "/api/openapi.json", None, None)
        .await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc.body["paths"].as_object().unwrap();
    for path in [
        "/api/auth/login",
        "/api/auth/register",
        "/api/auth/refresh",
        "/api/auth/logout",
        "/api/auth/profile",
        "/api/auth/change-password",
        "/api/users",
        "/api/users/{user_id}/role",
        "/api/products",
        "/api/products/{sku}",
        "/api/products/{sku}/stock",
        "/api/products/stats",
        "/api/categories",
        "/api/transactions",
        "/api/transactions/{transaction_id}",
        "/api/transactions/export.csv",
        "/api/events",
        "/api/events/{event_id}",
        "/api/dashboard-stats",
        "/api/settings",
        "/api/settings/status",
        "/health",
        "/ready",
        "/metrics",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    assert!(doc.body["components"]["schemas"]["ProductView"].is_object());
    // operationIds are unique, as OpenAPI requires (generated clients key on them).
    let mut ids = std::collections::HashSet::new();
    for item in paths.values() {
        for operation in item.as_object().unwrap().values() {
            if let Some(id) = operation.get("operationId").and_then(|id| id.as_str()) {
                assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
            }
        }
    }
    assert!(
        ids.contains("products_list") && ids.contains("events_list"),
        "{ids:?}"
    );
    assert!(doc.body["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn every_operation_documents_the_errors_it_can_give() {
    let app = TestApp::spawn().await;
    let doc = app
        .request(Method::GET, "/api/openapi.json", None, None)
        .await;
    let codes = &doc.body["components"]["schemas"]["ErrorCode"]["enum"];
    for code in [
        "validation_failed",
        "not_found",
        "unauthenticated",
        "rate_limited",
    ] {
        assert!(
            codes.as_array().unwrap().iter().any(|c| c == code),
            "{code} missing from ErrorCode: {codes}"
        );
    }
    // Every $ref points at a registered schema.
    let text = doc.text.clone();
    for piece in text.split("\"#/components/schemas/").skip(1) {
        let name = piece.split('"').next().unwrap();
        assert!(
            doc.body["components"]["schemas"][name].is_object(),
            "unresolvable $ref to {name}"
        );
    }
    let mut checked = 0;
    for (path, item) in doc.body["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            let has = |status: &str| responses.contains_key(status);
            let what = format!("{method} {path}");
            assert!(has("503"), "{what}: no 503");
            let security = operation["security"].to_string();
            if security.contains("bearer") {
                assert!(has("401"), "{what}: secured but no 401");
            }
            if security.contains("admin") {
                assert!(has("403"), "{what}: admin only but no 403");
            }
            if operation["requestBody"]["content"]["application/json"].is_object() {
                for status in ["400", "413", "415"] {
                    assert!(has(status), "{what}: JSON body but no {status}");
                }
            }
            if path.starts_with("/api/") {
                assert!(has("429"), "{what}: rate limited but no 429");
            }
            checked += 1;
        }
    }
    assert!(checked > 40, "only {checked} operations");
    // Admin routes say so: a cashier's 403 is documented where it happens.
    assert!(
        doc.body["paths"]["/api/users"]["get"]["security"]
            .to_string()
            .contains("admin")
    );
    assert!(
        !doc.body["paths"]["/api/products"]["get"]["security"]
            .to_string()
            .contains("admin")
    );
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut app = TestApp::spawn().await;
    let body = serde_json::json!({
        "email": crate::support::ADMIN_EMAIL, "password": crate::support::ADMIN_PASSWORD
    })
    .to_string();
    let (head, tail) = body.split_at(10);
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let request = format!(
        "POST /api/auth/login HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{head}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    // Shutdown starts while the request is half sent; it must still be answered.
    app.begin_stop();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    stream.write_all(tail.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("access_token"));
    app.stop().await;
    assert!(
        tokio::net::TcpStream::connect(&address).await.is_err(),
        "server stopped accepting"
    );
}

#[tokio::test]
async fn made_up_methods_are_counted_under_one_label() {
    let app = TestApp::spawn().await;
    for n in 0..50 {
        let method = Method::from_bytes(format!("MADEUP{n}").as_bytes()).unwrap();
        app.request(method, "/health", None, None).await;
    }
    let json = app.request(Method::GET, "/metrics", None, None).await;
    let routes = json.body["routes"].as_object().unwrap();
    assert!(
        routes.keys().all(|route| !route.starts_with("MADEUP")),
        "a client-chosen method became a label: {routes:?}"
    );
    assert_eq!(json.body["routes"]["OTHER /health"]["count"], 50);
}

/// Client input (made-up methods, random paths, per-SKU paths) must not grow the number of
/// series: after one flood has shown every label combination, a second flood with new
/// methods and paths adds none.
#[tokio::test]
async fn flooding_with_made_up_methods_and_random_paths_adds_no_series() {
    let app = TestApp::spawn().await;
    let flood = |round: u32| {
        let app = &app;
        async move {
            for n in round * 30..(round + 1) * 30 {
                let made_up = Method::from_bytes(format!("MADEUP{n}").as_bytes()).unwrap();
                app.request(made_up.clone(), &format!("/nowhere/{n}"), None, None)
                    .await;
                app.request(made_up, &format!("/api/products/SKU-{n}"), None, None)
                    .await;
                app.request(Method::GET, &format!("/random/{n}/path"), None, None)
                    .await;
                app.request(Method::GET, &format!("/api/products/SKU-{n}"), None, None)
                    .await;
            }
        }
    };
    let series = || async {
        let json = app.request(Method::GET, "/metrics", None, None).await;
        let text = app
            .request(Method::GET, "/metrics?format=prometheus", None, None)
            .await
            .text;
        let lines = text
            .lines()
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .count();
        (json.body["routes"].as_object().unwrap().len(), lines)
    };

    flood(0).await;
    // `/metrics` counts itself once answered: let it be a series before counting.
    app.request(Method::GET, "/metrics", None, None).await;
    let before = series().await;
    flood(1).await;
    let after = series().await;
    assert_eq!(before, after, "(JSON routes, Prometheus series)");

    let json = app.request(Method::GET, "/metrics", None, None).await;
    let routes = &json.body["routes"];
    assert_eq!(routes["OTHER unmatched"]["count"], 60);
    assert_eq!(routes["GET unmatched"]["count"], 60);
    assert_eq!(routes["GET /api/products/{sku}"]["count"], 60);
    assert_eq!(routes["OTHER /api/products/{sku}"]["count"], 60);
}

/// The router and the document come from one declaration: every documented operation is
/// routed (answered by its handler, not by the no-route or wrong-method fallbacks).
#[tokio::test]
async fn every_documented_operation_is_routed() {
    let app = TestApp::spawn().await;
    let doc = app
        .request(Method::GET, "/api/openapi.json", None, None)
        .await;
    let paths = doc.body["paths"].as_object().unwrap();
    let mut routed = 0;
    for (path, item) in paths {
        let concrete = path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "1"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let operations = item.as_object().unwrap().keys().filter(|key| {
            [
                "get", "put", "post", "delete", "patch", "head", "options", "trace",
            ]
            .contains(&key.as_str())
        });
        for method in operations {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            // No token and no body: a handler refuses, but it is the handler that answers.
            let answer = app.request(method.clone(), &concrete, None, None).await;
            assert_ne!(
                answer.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is documented but not routed"
            );
            assert!(
                !answer.text.contains("no route for this path"),
                "{method} {path} is documented but not routed"
            );
            routed += 1;
        }
    }
    assert!(routed >= 50, "only {routed} operations documented");
}
