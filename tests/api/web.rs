//! The web app as the server delivers it: at `/`, on its client-side routes, with its CSP;
//! and the copy of the OpenAPI document its API client is typed from.

use reqwest::StatusCode;

use crate::support::TestApp;

#[tokio::test]
async fn the_web_app_is_served_at_the_root_and_on_its_own_routes() {
    let app = TestApp::spawn().await;
    for path in ["/", "/pos", "/products/BRD-001", "/login"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        let html = response.text().await.unwrap();
        assert!(
            html.contains("<script type=\"module\""),
            "{path} is not the built app (was web/dist built before the server?): {html}"
        );
    }
    // The bundle the page names is served, compressed when the browser accepts it.
    let html = app
        .client
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let script = html
        .split("src=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .find(|src| src.ends_with(".js"))
        .expect("index.html names its script");
    let bundle = app
        .client
        .get(app.url(script))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), StatusCode::OK, "{script}");
    assert!(
        bundle.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );

    // The API keeps its JSON answers.
    let missing = app
        .client
        .get(app.url("/api/no-such-route"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(body["code"], "no_route");
}

/// web/openapi.json is what the web app's API types are generated from (`npm run
/// api:types`); it must be the server's document. `SIPREMS_UPDATE_OPENAPI=1` rewrites it.
#[tokio::test]
async fn the_web_apps_copy_of_the_openapi_document_is_current() {
    let app = TestApp::spawn().await;
    let served: serde_json::Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web/openapi.json");
    if std::env::var("SIPREMS_UPDATE_OPENAPI").as_deref() == Ok("1") {
        let text = serde_json::to_string_pretty(&served).unwrap() + "\n";
        std::fs::write(&path, text).unwrap();
    }
    let copy: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(
        copy == served,
        "web/openapi.json differs from the server's document: run \
         `SIPREMS_UPDATE_OPENAPI=1 cargo nextest run --test api openapi_document_is_current`, \
         then `npm run api:types` in web/"
    );
}
