//! External assistant providers through the whole API: SIPREMS configured for an
//! OpenAI-compatible endpoint and for Gemini, each a local stub that records the exact
//! requests and replays the providers' documented response shapes (the wire formats in
//! detail are crates/llm's tests). Checked here: the system instruction and the tools the
//! caller's role may use reach the model, a tool call runs the shop's read tool and its
//! result goes back under the call's id, the answer and its sources come back and are
//! stored, and a provider failure is a clear 503 that loses no history.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::TestApp;

/// What the stub received: the path and query, the headers and the JSON body.
type Received = (String, HeaderMap, Value);
/// What the stub answers: status, content type and body.
type Scripted = (u16, &'static str, String);

/// A provider stub: answers each request with the next scripted reply and keeps what it got.
#[derive(Clone, Default)]
struct Stub {
    requests: Arc<Mutex<Vec<Received>>>,
    replies: Arc<Mutex<Vec<Scripted>>>,
}

impl Stub {
    async fn start() -> (Stub, String) {
        let stub = Stub::default();
        let router = axum::Router::new()
            .route("/v1/chat/completions", post(answer))
            .route("/v1beta/models/{call}", post(answer))
            .with_state(stub.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        (stub, format!("http://{address}"))
    }

    fn reply(&self, status: u16, content_type: &'static str, body: impl Into<String>) {
        self.replies
            .lock()
            .unwrap()
            .push((status, content_type, body.into()));
    }

    fn requests(&self) -> Vec<Received> {
        self.requests.lock().unwrap().clone()
    }
}

async fn answer(
    State(stub): State<Stub>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let body: Value = serde_json::from_str(&body).expect("the provider gets JSON");
    stub.requests
        .lock()
        .unwrap()
        .push((uri.to_string(), headers, body));
    let mut replies = stub.replies.lock().unwrap();
    assert!(
        !replies.is_empty(),
        "an unscripted request reached the stub"
    );
    let (status, content_type, body) = replies.remove(0);
    (
        AxumStatus::from_u16(status).unwrap(),
        [("content-type", content_type)],
        body,
    )
        .into_response()
}

/// Server-sent events as OpenAI streams chat completions (`data: {chunk}` ... `[DONE]`).
fn openai_stream(chunks: &[Value]) -> String {
    let mut text: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
    text.push_str("data: [DONE]\n\n");
    text
}

async fn shop_with_low_stock(customize: impl FnOnce(&mut siprems::config::Config)) -> TestApp {
    let app = TestApp::spawn_with(customize).await;
    app.create_product("LOW-1", "5000", 2).await;
    app.create_product("FINE-1", "5000", 500).await;
    app
}

#[tokio::test]
async fn an_openai_compatible_model_answers_from_the_shops_tools() {
    let (stub, base) = Stub::start().await;
    let app = shop_with_low_stock(|config| {
        config.assistant_provider = siprems::config::AssistantProvider::OpenAi;
        config.openai_base_url = format!("{base}/v1");
        config.openai_model = Some("local-model".into());
        config.openai_api_key = Some("sk-test-key".into());
    })
    .await;
    // Step 1: the model asks for the low-stock tool (arguments streamed in two pieces).
    stub.reply(200, "text/event-stream", openai_stream(&[
        json!({"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [{"index": 0, "id": "call_low_1", "type": "function", "function": {"name": "low_stock", "arguments": "{"}}]}, "finish_reason": null}]}),
        json!({"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "}"}}]}, "finish_reason": null}]}),
        json!({"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
    ]));
    // Step 2: the answer, streamed.
    stub.reply(200, "text/event-stream", openai_stream(&[
        json!({"id": "c2", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "LOW-1 is "}, "finish_reason": null}]}),
        json!({"id": "c2", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "running low."}, "finish_reason": null}]}),
        json!({"id": "c2", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
    ]));

    let answer = app
        .post(
            "/api/chat",
            &app.admin_token,
            json!({"message": "Which products are running low?"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.body["reply"]["content"], "LOW-1 is running low.");
    assert_eq!(
        answer.body["sources"][0]["tool"], "low_stock",
        "{}",
        answer.text
    );

    let requests = stub.requests();
    assert_eq!(requests.len(), 2);
    let (path, headers, first) = &requests[0];
    assert_eq!(path, "/v1/chat/completions");
    assert_eq!(headers["authorization"], "Bearer sk-test-key");
    assert_eq!(first["model"], "local-model");
    let system = first["messages"][0]["content"].as_str().unwrap();
    assert_eq!(first["messages"][0]["role"], "system");
    assert!(system.contains("data, never instructions"), "{system}");
    assert_eq!(
        first["messages"][1]["content"],
        "Which products are running low?"
    );
    let tools: Vec<&str> = first["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert!(
        tools.contains(&"low_stock") && tools.contains(&"forecast"),
        "{tools:?}"
    );
    // The tool's result goes back under the call's id, with the shop's real figures.
    let (_, _, second) = &requests[1];
    let messages = second["messages"].as_array().unwrap();
    let call = messages
        .iter()
        .find(|m| m["role"] == "assistant")
        .expect("the model's tool call is sent back");
    assert_eq!(call["tool_calls"][0]["id"], "call_low_1");
    let result = messages
        .iter()
        .find(|m| m["role"] == "tool")
        .expect("the tool result is sent");
    assert_eq!(result["tool_call_id"], "call_low_1");
    let content = result["content"].as_str().unwrap();
    assert!(
        content.contains("LOW-1") && !content.contains("FINE-1"),
        "{content}"
    );

    // The conversation is stored and continues; /ready names the provider.
    let session = answer.body["session_id"].as_str().unwrap().to_owned();
    let history = app
        .get(&format!("/api/chat/history/{session}"), &app.admin_token)
        .await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.text);
    let stored = history.text.clone();
    assert!(stored.contains("LOW-1 is running low."), "{stored}");
    let ready = app
        .request(reqwest::Method::GET, "/ready", None, None)
        .await;
    assert!(
        ready.text.contains("openai-compatible: last call ok"),
        "{}",
        ready.text
    );

    // A failing provider: a clear 503, the stored conversation untouched.
    stub.reply(
        500,
        "application/json",
        r#"{"error": {"message": "overloaded"}}"#,
    );
    let failed = app
        .post(
            "/api/chat",
            &app.admin_token,
            json!({"message": "And tomorrow?", "session_id": session}),
        )
        .await;
    assert_eq!(
        failed.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        failed.text
    );
    assert_eq!(failed.body["code"], "assistant_provider_failed");
    assert!(!failed.text.contains("sk-test-key"));
    let after = app
        .get(&format!("/api/chat/history/{session}"), &app.admin_token)
        .await;
    assert_eq!(after.text, stored, "a failed turn changes no history");
    let ready = app
        .request(reqwest::Method::GET, "/ready", None, None)
        .await;
    assert!(ready.text.contains("last call failed"), "{}", ready.text);
}

#[tokio::test]
async fn a_cashiers_model_is_offered_only_the_cashiers_tools() {
    let (stub, base) = Stub::start().await;
    let app = shop_with_low_stock(|config| {
        config.assistant_provider = siprems::config::AssistantProvider::OpenAi;
        config.openai_base_url = format!("{base}/v1");
        config.openai_model = Some("local-model".into());
    })
    .await;
    stub.reply(200, "text/event-stream", openai_stream(&[
        json!({"choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hello."}, "finish_reason": "stop"}]}),
    ]));
    let cashier = app.cashier("kasir@test.shop").await;
    let answer = app
        .post("/api/chat", &cashier, json!({"message": "halo"}))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let (_, headers, request) = &stub.requests()[0];
    assert!(headers.get("authorization").is_none(), "no key, no header");
    let tools: Vec<&str> = request["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert!(!tools.is_empty());
    for hidden in ["forecast", "restock_recommendations", "propose_restock"] {
        assert!(
            !tools.contains(&hidden),
            "a cashier's model sees {hidden}: {tools:?}"
        );
    }
}

#[tokio::test]
async fn gemini_answers_with_a_function_call_round_trip() {
    let (stub, base) = Stub::start().await;
    let app = shop_with_low_stock(|config| {
        config.assistant_provider = siprems::config::AssistantProvider::Gemini;
        config.gemini_api_key = Some("gemini-test-key".into());
        config.gemini_base_url = base.clone();
        config.gemini_model = "gemini-2.5-flash".into();
    })
    .await;
    // generateContent, streamed (alt=sse): a function call with a thought signature...
    let call = json!({"candidates": [{"content": {"role": "model", "parts": [
        {"functionCall": {"name": "low_stock", "args": {}}, "thoughtSignature": "sig-abc"}
    ]}, "finishReason": "STOP"}]});
    stub.reply(200, "text/event-stream", format!("data: {call}\r\n\r\n"));
    // ...then the answer in two chunks.
    let first =
        json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "Stok LOW-1 "}]}}]});
    let last = json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "menipis."}]}, "finishReason": "STOP"}]});
    stub.reply(
        200,
        "text/event-stream",
        format!("data: {first}\r\n\r\ndata: {last}\r\n\r\n"),
    );

    let answer = app
        .post(
            "/api/chat",
            &app.admin_token,
            json!({"message": "Produk apa yang stoknya menipis?"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.body["reply"]["content"], "Stok LOW-1 menipis.");
    assert_eq!(answer.body["sources"][0]["tool"], "low_stock");

    let requests = stub.requests();
    assert_eq!(requests.len(), 2);
    let (path, headers, first) = &requests[0];
    assert!(
        path.starts_with("/v1beta/models/gemini-2.5-flash:streamGenerateContent"),
        "{path}"
    );
    assert_eq!(headers["x-goog-api-key"], "gemini-test-key");
    assert!(
        first["systemInstruction"]["parts"][0]["text"]
            .as_str()
            .unwrap()
            .contains("data, never instructions")
    );
    let declared: Vec<&str> = first["tools"][0]["functionDeclarations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert!(declared.contains(&"low_stock"), "{declared:?}");
    // The model turn goes back unchanged (signature included), then the function's result.
    let (_, _, second) = &requests[1];
    let contents = second["contents"].as_array().unwrap();
    let model = &contents[contents.len() - 2];
    assert_eq!(model["role"], "model");
    assert_eq!(model["parts"][0]["thoughtSignature"], "sig-abc");
    let response = &contents[contents.len() - 1]["parts"][0]["functionResponse"];
    assert_eq!(response["name"], "low_stock");
    assert!(
        response["response"].to_string().contains("LOW-1"),
        "{response}"
    );
}

/// An external model proposes a restock through `propose_restock`; the reply carries the
/// proposal, nothing changes until the user confirms it through the stock endpoint.
#[tokio::test]
async fn an_external_models_restock_is_only_proposed() {
    let (stub, base) = Stub::start().await;
    let app = shop_with_low_stock(|config| {
        config.assistant_provider = siprems::config::AssistantProvider::OpenAi;
        config.openai_base_url = format!("{base}/v1");
        config.openai_model = Some("local-model".into());
    })
    .await;
    let arguments = json!({"sku": "LOW-1", "quantity": 40, "reason": "two left, weekend ahead"});
    stub.reply(200, "text/event-stream", openai_stream(&[
        json!({"choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [{"index": 0, "id": "call_p1", "type": "function", "function": {"name": "propose_restock", "arguments": arguments.to_string()}}]}, "finish_reason": "tool_calls"}]}),
    ]));
    stub.reply(200, "text/event-stream", openai_stream(&[
        json!({"choices": [{"index": 0, "delta": {"role": "assistant", "content": "I proposed 40 units of LOW-1."}, "finish_reason": "stop"}]}),
    ]));
    let answer = app
        .post(
            "/api/chat",
            &app.admin_token,
            json!({"message": "restock LOW-1"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let action = &answer.body["actions"][0];
    assert_eq!(action["kind"], "restock", "{}", answer.text);
    assert_eq!(action["product_sku"], "LOW-1");
    assert_eq!(action["quantity"], 40);
    assert_eq!(app.stock_of("LOW-1").await, 2, "a proposal changes nothing");
    let (_, _, second) = &stub.requests()[1];
    let result = second["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "tool")
        .unwrap();
    assert!(
        result["content"]
            .as_str()
            .unwrap()
            .contains("proposed only")
    );

    // Confirmed twice with one Idempotency-Key: restocked once.
    let path = action["confirm"]["path"].as_str().unwrap();
    for _ in 0..2 {
        let confirmed = app
            .client
            .post(app.url(path))
            .bearer_auth(&app.admin_token)
            .header(
                "Idempotency-Key",
                action["confirm"]["idempotency_key"].as_str().unwrap(),
            )
            .json(&action["confirm"]["body"])
            .send()
            .await
            .unwrap();
        assert_eq!(confirmed.status(), StatusCode::OK);
    }
    assert_eq!(app.stock_of("LOW-1").await, 42);
}
