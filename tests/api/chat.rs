//! The assistant: every built-in intent on the demo shop in both languages, with figures
//! equal to what the API answers for the same question; role filtering; sessions that
//! belong to their owner on every instance; bounds and expiry; the streamed answer.

use std::time::Duration;

use chrono::{Datelike, Days, Months, NaiveDate};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, assert_error, test_redis};

async fn demo_app() -> TestApp {
    let app = TestApp::spawn().await;
    let options = siprems::demo::DemoOptions { seed: 42, days: 75 };
    siprems::demo::seed(&app.state.shop, &options)
        .await
        .expect("demo loads");
    app
}

async fn ask(app: &TestApp, token: &str, message: &str) -> Value {
    let answer = app
        .post("/api/chat", token, json!({ "message": message }))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{message}: {}", answer.text);
    answer.body
}

fn today() -> NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Jakarta)
        .date_naive()
}

fn last_month() -> (String, String) {
    let first = today().with_day(1).unwrap();
    let from = first.checked_sub_months(Months::new(1)).unwrap();
    let to = first.pred_opt().unwrap();
    (from.to_string(), to.to_string())
}

fn source<'a>(answer: &'a Value, tool: &str) -> &'a Value {
    answer["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["tool"] == tool)
        .unwrap_or_else(|| panic!("no {tool} source in {answer}"))
}

fn content(answer: &Value) -> &str {
    answer["reply"]["content"].as_str().unwrap()
}

/// "Rp 1.234.500" for a decimal string "1234500.00".
fn rupiah(decimal: &Value) -> String {
    let whole: i64 = decimal
        .as_str()
        .unwrap()
        .split('.')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    format!("Rp {out}")
}

#[tokio::test]
async fn sales_questions_match_the_dashboard_and_the_transactions() {
    let app = demo_app().await;
    let admin = app.admin_token.clone();
    let (from, to) = last_month();
    let dashboard = app
        .get(&format!("/api/dashboard-stats?from={from}&to={to}"), &admin)
        .await;
    let roti = dashboard.body["top_categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "Roti")
        .expect("Roti is a top category")
        .clone();
    for question in [
        "How much did the Roti category sell last month?",
        "penjualan kategori roti bulan lalu",
    ] {
        let answer = ask(&app, &admin, question).await;
        let sales = source(&answer, "sales");
        assert_eq!(sales["from"], from.as_str());
        assert_eq!(sales["to"], to.as_str());
        assert_eq!(sales["figures"]["category"], "Roti");
        assert_eq!(sales["figures"]["units"], roti["units"]);
        assert_eq!(sales["figures"]["revenue"], roti["revenue"]);
        assert!(
            content(&answer).contains(&rupiah(&roti["revenue"])),
            "{}",
            content(&answer)
        );
    }
    assert!(
        content(&ask(&app, &admin, "penjualan kategori roti bulan lalu").await)
            .starts_with("Penjualan")
    );

    // The whole store yesterday, as the dashboard counts it.
    let yesterday = (today() - Days::new(1)).to_string();
    let day = app
        .get(
            &format!("/api/dashboard-stats?from={yesterday}&to={yesterday}"),
            &admin,
        )
        .await;
    for question in [
        "What were the sales yesterday?",
        "berapa penjualan kemarin?",
    ] {
        let answer = ask(&app, &admin, question).await;
        let figures = &source(&answer, "sales")["figures"];
        assert_eq!(figures["scope"], "store");
        assert_eq!(figures["revenue"], day.body["revenue"]);
        assert_eq!(figures["units"], day.body["units_sold"]);
        assert_eq!(figures["transactions"], day.body["transactions"]);
    }

    // A product over an explicit range, as the sum of its transaction lines.
    let (start, end) = (today() - Days::new(20), today() - Days::new(6));
    let mut units = 0;
    let mut revenue = 0.0;
    let mut offset = 0;
    loop {
        let page = app
            .get(
                &format!("/api/transactions?from={start}&to={end}&limit=500&offset={offset}"),
                &admin,
            )
            .await;
        let items = page.body["items"].as_array().unwrap();
        for sale in items {
            for line in sale["items"].as_array().unwrap() {
                if line["product_sku"] == "CKE-002" {
                    units += line["quantity"].as_i64().unwrap();
                    revenue += line["line_total"].as_str().unwrap().parse::<f64>().unwrap();
                }
            }
        }
        offset += 500;
        if offset >= page.body["total"].as_i64().unwrap() {
            break;
        }
    }
    for question in [
        format!("sales of browines {start} to {end}"),
        format!("penjualan brownies {start} sampai {end}"),
    ] {
        let answer = ask(&app, &admin, &question).await;
        let figures = &source(&answer, "sales")["figures"];
        assert_eq!(figures["sku"], "CKE-002", "{question}");
        assert_eq!(figures["units"], units);
        assert_eq!(figures["revenue"], format!("{revenue:.2}"));
    }

    // Top sellers last month, as the dashboard lists them.
    for question in ["top sellers last month", "produk terlaris bulan lalu"] {
        let answer = ask(&app, &admin, question).await;
        assert_eq!(
            source(&answer, "top_sellers")["figures"]["items"],
            dashboard.body["top_products"]
        );
    }
}

#[tokio::test]
async fn stock_restock_forecast_and_event_questions_match_the_api() {
    let app = demo_app().await;
    let admin = app.admin_token.clone();
    // The three croissants differ only by their variation.
    for sku in ["BRD-001", "CRS-001", "CRS-002", "CRS-003"] {
        let sku = siprems::domain::sku::Sku::parse(sku).unwrap();
        app.state
            .forecaster
            .train_product(&sku)
            .await
            .expect("trains");
    }

    let low = app
        .get("/api/products?low_stock=true&limit=50", &admin)
        .await;
    for question in [
        "which products are running low?",
        "produk apa saja yang stoknya menipis?",
    ] {
        let answer = ask(&app, &admin, question).await;
        let figures = &source(&answer, "low_stock")["figures"];
        assert_eq!(figures["total"], low.body["total"]);
        assert_eq!(figures["items"], low.body["items"]);
    }

    let advice = app.get("/api/recommendations?days=7", &admin).await;
    for question in [
        "What should I restock this week?",
        "apa yang perlu di-restock minggu ini?",
    ] {
        let answer = ask(&app, &admin, question).await;
        let figures = &source(&answer, "restock_recommendations")["figures"];
        assert_eq!(figures["items"], advice.body["items"]);
        let needed: Vec<&Value> = advice.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["gap"].as_i64().unwrap() > 0)
            .collect();
        assert_eq!(
            answer["actions"].as_array().unwrap().len(),
            needed.len().min(5)
        );
        for (action, item) in answer["actions"].as_array().unwrap().iter().zip(&needed) {
            assert_eq!(action["kind"], "restock");
            assert_eq!(action["product_sku"], item["product_sku"]);
            assert_eq!(action["quantity"], item["gap"]);
            assert_eq!(action["product_variation"], item["product_variation"]);
        }
    }
    // Products of one name are told apart by their variation, in the API and the answer.
    let items = advice.body["items"].as_array().unwrap();
    let croissants: Vec<&Value> = items
        .iter()
        .filter(|r| r["product"] == "Croissant")
        .collect();
    assert_eq!(croissants.len(), 3, "{items:?}");
    let variations: std::collections::BTreeSet<&str> = croissants
        .iter()
        .map(|r| r["product_variation"].as_str().unwrap())
        .collect();
    assert_eq!(variations, ["Almond", "Butter", "Cokelat"].into());
    let answer = ask(&app, &admin, "What should I restock this week?").await;
    for r in items
        .iter()
        .filter(|r| r["gap"].as_i64().unwrap() > 0)
        .take(10)
    {
        let line = match r["product_variation"].as_str() {
            Some(v) => format!(
                "{} ({v}) ({})",
                r["product"].as_str().unwrap(),
                r["product_sku"].as_str().unwrap()
            ),
            None => format!(
                "{} ({})",
                r["product"].as_str().unwrap(),
                r["product_sku"].as_str().unwrap()
            ),
        };
        assert!(
            content(&answer).contains(&line),
            "{line} in {}",
            content(&answer)
        );
    }

    let predicted = app
        .post(
            "/api/predict",
            &admin,
            json!({"product_sku": "BRD-001", "days": 7}),
        )
        .await;
    let daily: Vec<&Value> = predicted.body["chartData"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| !p["predicted"].is_null())
        .collect();
    let answer = ask(&app, &admin, "forecast for BRD-001").await;
    let figures = &source(&answer, "forecast")["figures"];
    assert_eq!(figures["available"], true);
    let served: Vec<&Value> = figures["daily"].as_array().unwrap().iter().collect();
    assert_eq!(served.len(), 7);
    for (a, b) in served.iter().zip(&daily) {
        assert_eq!(a["date"], b["date"]);
        assert_eq!(a["predicted"], b["predicted"]);
    }
    assert_eq!(
        figures["recommendation"],
        predicted.body["recommendations"][0]
    );
    // Two products fit "roti tawar": both are answered; the untrained one is queued.
    let answer = ask(&app, &admin, "prediksi roti tawar 7 hari").await;
    let forecasts: Vec<&Value> = answer["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["tool"] == "forecast")
        .collect();
    assert_eq!(forecasts.len(), 2, "{answer}");
    assert_eq!(forecasts[0]["figures"]["sku"], "BRD-001");
    assert_eq!(forecasts[1]["figures"]["sku"], "BRD-002");
    assert_eq!(forecasts[1]["figures"]["available"], false);
    assert_eq!(forecasts[1]["figures"]["training_queued"], true);
    assert!(
        content(&answer).contains("Prediksi"),
        "{}",
        content(&answer)
    );

    let until = (today() + Days::new(29)).to_string();
    let events = app
        .get(&format!("/api/events?from={}&to={until}", today()), &admin)
        .await;
    for question in ["any upcoming events?", "ada acara apa saja ke depan?"] {
        let answer = ask(&app, &admin, question).await;
        assert_eq!(
            source(&answer, "upcoming_events")["figures"]["items"],
            events.body
        );
    }

    let brownies = app.get("/api/products/CKE-002", &admin).await;
    for question in ["how many browines do we have?", "stok brownies berapa?"] {
        let answer = ask(&app, &admin, question).await;
        let items = &source(&answer, "find_products")["figures"]["items"];
        assert_eq!(items[0]["stock"], brownies.body["stock"]);
        assert_eq!(items[0]["cost_price"], brownies.body["cost_price"]);
    }

    // A restock is proposed, never taken; the client confirms through the stock endpoint.
    let stock = brownies.body["stock"].as_i64().unwrap();
    for question in ["restock 120 brownies", "tambah stok brownies 120"] {
        let answer = ask(&app, &admin, question).await;
        let action = &answer["actions"][0];
        assert_eq!(action["kind"], "restock");
        assert_eq!(action["product_sku"], "CKE-002");
        assert_eq!(action["product_name"], "Brownies Panggang");
        assert_eq!(action["quantity"], 120);
        assert_eq!(app.stock_of("CKE-002").await, stock);
    }
    let answer = ask(&app, &admin, "restock 120 brownies").await;
    let confirm = &answer["actions"][0]["confirm"];
    let key = confirm["idempotency_key"].as_str().unwrap();
    // Confirmed twice with the proposal's own key (a double tap, another device): once.
    for _ in 0..2 {
        let done = app
            .client
            .post(app.url(confirm["path"].as_str().unwrap()))
            .bearer_auth(&admin)
            .header("Idempotency-Key", key)
            .json(&confirm["body"])
            .send()
            .await
            .unwrap();
        assert_eq!(done.status(), StatusCode::OK);
    }
    assert_eq!(app.stock_of("CKE-002").await, stock + 120);
    // The key is kept with the conversation, and each proposal has its own.
    let session = answer["session_id"].as_str().unwrap();
    let history = app
        .get(&format!("/api/chat/history/{session}"), &admin)
        .await;
    let kept = history.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["actions"].as_array().cloned().unwrap_or_default())
        .map(|a| a["confirm"]["idempotency_key"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    assert!(kept.iter().any(|k| k == key), "{kept:?}");
    let again = ask(&app, &admin, "restock 120 brownies").await;
    assert_ne!(again["actions"][0]["confirm"]["idempotency_key"], key);
    // An ambiguous name is asked about, not picked.
    let answer = ask(&app, &admin, "restock 50 roti tawar").await;
    assert!(answer["actions"].as_array().unwrap().is_empty());
    assert!(content(&answer).contains("BRD-001") && content(&answer).contains("BRD-002"));

    assert!(content(&ask(&app, &admin, "halo").await).starts_with("Halo"));
    assert!(content(&ask(&app, &admin, "hello").await).starts_with("Hello"));
    let unknown = ask(&app, &admin, "what is the weather in Paris?").await;
    assert!(
        content(&unknown).contains("can't answer"),
        "{}",
        content(&unknown)
    );
    assert!(unknown["sources"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_cashier_gets_no_forecasts_costs_or_actions() {
    let app = demo_app().await;
    let cashier = app.cashier("kasir@test.shop").await;
    for question in [
        "forecast for BRD-001",
        "what should I restock this week?",
        "prediksi brownies 7 hari",
    ] {
        let answer = ask(&app, &cashier, question).await;
        assert!(
            answer["sources"].as_array().unwrap().is_empty(),
            "{question}: {answer}"
        );
        assert!(answer["actions"].as_array().unwrap().is_empty());
        assert!(content(&answer).contains("admin"), "{}", content(&answer));
    }
    let answer = ask(&app, &cashier, "restock 120 brownies").await;
    assert!(answer["actions"].as_array().unwrap().is_empty());
    let answer = ask(&app, &cashier, "stok brownies").await;
    let item = &source(&answer, "find_products")["figures"]["items"][0];
    assert_eq!(item["sku"], "CKE-002");
    assert!(item.get("cost_price").is_none(), "{item}");
    assert!(!content(&answer).contains("harga pokok"));
    let answer = ask(&app, &cashier, "low stock").await;
    for item in source(&answer, "low_stock")["figures"]["items"]
        .as_array()
        .unwrap()
    {
        assert!(item.get("cost_price").is_none());
    }
    // Store totals are on the cashier's dashboard; a product outside its top five is not.
    let answer = ask(&app, &cashier, "sales last month").await;
    assert_eq!(source(&answer, "sales")["figures"]["scope"], "store");
    let (from, to) = last_month();
    let top = app
        .get(
            &format!("/api/dashboard-stats?from={from}&to={to}"),
            &cashier,
        )
        .await;
    let shown: Vec<&str> = top.body["top_products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sku"].as_str().unwrap())
        .collect();
    assert!(!shown.contains(&"SMB-004"));
    let answer = ask(&app, &cashier, "sales of kurma sukari last month").await;
    assert!(answer["sources"].as_array().unwrap().is_empty(), "{answer}");
}

#[tokio::test]
async fn sessions_belong_to_their_owner_on_every_instance() {
    let (url, prefix) = test_redis();
    let one = TestApp::spawn_with(|c| {
        c.redis_url = Some(url.clone());
        c.redis_prefix = prefix.clone();
    })
    .await;
    let two = TestApp::spawn_sharing(&one, |c| {
        c.redis_url = Some(url);
        c.redis_prefix = prefix;
    })
    .await;
    let alice = one.admin_token.clone();
    let bob = one.cashier("bob@test.shop").await;
    let first = ask(&one, &alice, "hello").await;
    let session = first["session_id"].as_str().unwrap().to_owned();

    // Bob, on the other instance, can neither read, continue nor delete it: 404, not 403.
    assert_error(
        &two.get(&format!("/api/chat/history/{session}"), &bob).await,
        StatusCode::NOT_FOUND,
    );
    assert_error(
        &two.post(
            "/api/chat",
            &bob,
            json!({"message": "hi", "session_id": session}),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    assert_error(
        &two.delete(&format!("/api/chat/{session}"), &bob).await,
        StatusCode::NOT_FOUND,
    );
    assert!(
        two.get("/api/chat/sessions", &bob)
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Alice continues on instance two.
    let next = two
        .post(
            "/api/chat",
            &alice,
            json!({"message": "help", "session_id": session}),
        )
        .await;
    assert_eq!(next.status, StatusCode::OK, "{}", next.text);
    assert_eq!(next.body["session_id"], session.as_str());
    let history = two
        .get(&format!("/api/chat/history/{session}"), &alice)
        .await;
    let roles: Vec<&str> = history.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "user", "assistant"]);
    let listed = one.get("/api/chat/sessions", &alice).await;
    assert_eq!(listed.body[0]["session_id"], session.as_str());
    assert_eq!(listed.body[0]["title"], "hello");

    let deleted = one.delete(&format!("/api/chat/{session}"), &alice).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_error(
        &two.get(&format!("/api/chat/history/{session}"), &alice)
            .await,
        StatusCode::NOT_FOUND,
    );
    assert!(
        two.get("/api/chat/sessions", &alice)
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn history_is_bounded_and_expires() {
    let app = TestApp::spawn_with(|c| {
        c.chat_history_turns = 4;
        c.chat_history_ttl_secs = 2;
    })
    .await;
    let admin = app.admin_token.clone();
    let first = ask(&app, &admin, "first question").await;
    let session = first["session_id"].as_str().unwrap().to_owned();
    for message in ["second question", "third question"] {
        let next = app
            .post(
                "/api/chat",
                &admin,
                json!({"message": message, "session_id": session}),
            )
            .await;
        assert_eq!(next.status, StatusCode::OK);
    }
    let history = app
        .get(&format!("/api/chat/history/{session}"), &admin)
        .await;
    let messages = history.body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 4);
    assert_eq!(messages[0]["content"], "second question");
    assert_eq!(history.body["title"], "first question");

    for i in 0..51 {
        ask(&app, &admin, &format!("question {i}")).await;
    }
    let sessions = app.get("/api/chat/sessions", &admin).await;
    let sessions = sessions.body.as_array().unwrap();
    assert_eq!(sessions.len(), 50);
    assert_eq!(sessions[0]["title"], "question 50");

    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_error(
        &app.get(&format!("/api/chat/history/{session}"), &admin)
            .await,
        StatusCode::NOT_FOUND,
    );
    assert!(
        app.get("/api/chat/sessions", &admin)
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty()
    );
}

/// Server-Sent Events of a body: (event, data) pairs.
fn events_of(text: &str) -> Vec<(String, String)> {
    text.split("\n\n")
        .filter_map(|block| {
            let mut event = String::from("message");
            let mut data = Vec::new();
            for line in block.lines() {
                if let Some(name) = line.strip_prefix("event:") {
                    event = name.trim().to_owned();
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push(value.strip_prefix(' ').unwrap_or(value).to_owned());
                }
            }
            (!data.is_empty()).then(|| (event, data.join("\n")))
        })
        .collect()
}

#[tokio::test]
async fn the_stream_sends_tools_and_tokens_then_the_same_body() {
    let app = demo_app().await;
    let admin = app.admin_token.clone();
    let question = "sales of the Roti category last month";
    let response = app
        .client
        .post(app.url("/api/chat/stream"))
        .bearer_auth(&admin)
        .json(&json!({ "message": question }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    assert_eq!(response.headers()["x-accel-buffering"], "no");
    let events = events_of(&response.text().await.unwrap());
    let names: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(names.first(), Some(&"tool"), "{names:?}");
    assert_eq!(names.last(), Some(&"done"));
    assert!(
        names[1..names.len() - 1].iter().all(|n| *n == "token"),
        "{names:?}"
    );
    let text: String = events
        .iter()
        .filter(|(e, _)| e == "token")
        .map(|(_, d)| serde_json::from_str::<String>(d).unwrap())
        .collect();
    let done: Value = serde_json::from_str(&events.last().unwrap().1).unwrap();
    assert_eq!(done["reply"]["content"], text.as_str());
    let plain = ask(&app, &admin, question).await;
    assert_eq!(done["reply"]["content"], plain["reply"]["content"]);
    assert_eq!(done["sources"], plain["sources"]);
    assert_eq!(done["actions"], plain["actions"]);
    let history = app
        .get(
            &format!("/api/chat/history/{}", done["session_id"].as_str().unwrap()),
            &admin,
        )
        .await;
    assert_eq!(history.body["messages"].as_array().unwrap().len(), 2);

    // Refused input is a plain JSON error before any event.
    let refused = app
        .post("/api/chat/stream", &admin, json!({"message": ""}))
        .await;
    assert_error(&refused, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token.clone();
    for body in [
        json!({"message": ""}),
        json!({"message": "   "}),
        json!({"message": "x".repeat(2001)}),
        json!({"message": "hi", "extra": 1}),
        json!({"message": 5}),
        json!({"message": "hi", "session_id": "not-a-session"}),
        json!({}),
    ] {
        assert_error(
            &app.post("/api/chat", &admin, body).await,
            StatusCode::BAD_REQUEST,
        );
    }
    assert_eq!(
        ask(&app, &admin, &"é".repeat(2000)).await["reply"]["role"],
        "assistant"
    );
    let unknown = uuid::Uuid::new_v4().to_string();
    assert_error(
        &app.post(
            "/api/chat",
            &admin,
            json!({"message": "hi", "session_id": unknown}),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    assert_error(
        &app.get(&format!("/api/chat/history/{unknown}"), &admin)
            .await,
        StatusCode::NOT_FOUND,
    );
    assert_error(
        &app.get("/api/chat/history/nope", &admin).await,
        StatusCode::BAD_REQUEST,
    );
    assert_error(
        &app.delete(&format!("/api/chat/{unknown}"), &admin).await,
        StatusCode::NOT_FOUND,
    );
    let anonymous = app
        .request(
            reqwest::Method::POST,
            "/api/chat",
            None,
            Some(&json!({"message": "hi"})),
        )
        .await;
    assert_error(&anonymous, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/api/chat/sessions", &admin)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let ready = app
        .request(reqwest::Method::GET, "/ready", None, None)
        .await;
    assert_eq!(ready.body["checks"]["assistant"], "built-in");
    let metrics = app
        .request(reqwest::Method::GET, "/metrics", None, None)
        .await;
    assert_eq!(metrics.body["assistant"]["chats"], 1);
}
