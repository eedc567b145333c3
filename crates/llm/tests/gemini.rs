//! The Gemini provider against a stub server that checks the exact requests.
//!
//! Response shapes are Gemini's documented ones: `GenerateContentResponse` with
//! `candidates[].content.parts[]`, `finishReason`, `usageMetadata` and `promptFeedback`
//! (ai.google.dev/api/generate-content); `functionCall` parts with `thoughtSignature`, the
//! signature only on the first of parallel calls (ai.google.dev/gemini-api/docs/
//! thought-signatures); streamed chunks as SSE `data:` events whose last chunk carries
//! `finishReason`, `usageMetadata` and an empty text part holding the signature (a recorded
//! `streamGenerateContent?alt=sse` answer, ai.google.dev/gemini-api/docs/text-generation#streaming).

mod support;

use std::time::{Duration, Instant};

use llm::{
    GENERATED_ID_PREFIX, GeminiConfig, Provider, ProviderError, Request, StreamEvent, ToolCall,
    ToolOutput, Turn,
};
use serde_json::{Value, json};
use support::{Reply, SYSTEM, Stub, Tools, events, shop_tools, token};

const KEY: &str = "AIzaSy-test-key-0123456789";

fn provider(stub: &Stub, stream: bool) -> Box<dyn Provider> {
    let mut config = GeminiConfig::new(KEY);
    config.base_url = format!("{}/", stub.base);
    config.timeout = Duration::from_millis(200);
    config.stream = stream;
    llm::gemini(config).unwrap()
}

fn user(text: &str) -> Turn {
    Turn::User { text: text.into() }
}

/// The tool declarations Gemini must receive for `shop_tools()`: `$schema` and
/// `additionalProperties` gone.
fn declarations() -> Value {
    json!([{
        "functionDeclarations": [
            {
                "name": "low_stock",
                "description": "Products at or below their reorder point",
                "parameters": {
                    "type": "object",
                    "properties": { "limit": { "type": "integer", "minimum": 1, "maximum": 50 } }
                }
            },
            {
                "name": "product_forecast",
                "description": "Forecast of a product's daily demand",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "sku": { "type": "string", "description": "Product SKU" },
                        "days": { "type": "integer", "minimum": 1, "maximum": 90 }
                    },
                    "required": ["sku"]
                }
            }
        ]
    }])
}

fn system() -> Value {
    json!({ "parts": [{ "text": SYSTEM }] })
}

/// A whole `generateContent` answer with these parts.
fn answer(parts: Value, finish: &str) -> Value {
    json!({
        "candidates": [{
            "content": { "role": "model", "parts": parts },
            "finishReason": finish,
            "index": 0
        }],
        "usageMetadata": { "promptTokenCount": 120, "candidatesTokenCount": 12, "totalTokenCount": 132 },
        "modelVersion": "gemini-2.5-flash",
        "responseId": "resp-1"
    })
}

fn assert_headers(request: &support::Recorded, path: &str) {
    assert_eq!(request.method, "POST");
    assert_eq!(request.uri, path);
    assert_eq!(request.header("x-goog-api-key"), Some(KEY));
    assert_eq!(request.header("authorization"), None);
    assert_eq!(request.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn a_plain_answer_sends_system_history_and_tools() {
    let stub = Stub::start(vec![Reply::Json(
        200,
        answer(json!([{ "text": "Roti Tawar has 4 left." }]), "STOP"),
    )])
    .await;
    let history = vec![
        user("Hai"),
        Turn::Model {
            text: "Halo! Ada yang bisa saya bantu?".into(),
            tool_calls: vec![],
        },
        user("How many Roti Tawar are left?"),
    ];
    let tools = Tools::new(vec![]);
    let (tx, rx) = events();
    let request = Request {
        system: SYSTEM,
        history: &history,
        tools: &shop_tools(),
        max_rounds: 3,
    };
    let done = provider(&stub, false)
        .complete(request, &tools, tx)
        .await
        .unwrap();

    assert_eq!(done.text, "Roti Tawar has 4 left.");
    assert_eq!(
        done.new_turns,
        vec![Turn::Model {
            text: "Roti Tawar has 4 left.".into(),
            tool_calls: vec![]
        }]
    );
    assert_eq!(rx.all(), vec![token("Roti Tawar has 4 left.")]);
    let received = stub.received();
    assert_eq!(received.len(), 1);
    assert_headers(
        &received[0],
        "/v1beta/models/gemini-2.5-flash:generateContent",
    );
    assert_eq!(
        received[0].body,
        json!({
            "systemInstruction": system(),
            "contents": [
                { "role": "user", "parts": [{ "text": "Hai" }] },
                { "role": "model", "parts": [{ "text": "Halo! Ada yang bisa saya bantu?" }] },
                { "role": "user", "parts": [{ "text": "How many Roti Tawar are left?" }] }
            ],
            "tools": declarations()
        })
    );
    assert!(tools.ran().is_empty());
}

#[tokio::test]
async fn a_function_call_round_trip_sends_the_model_turn_back_unchanged() {
    // The model's first answer: a text part with its own signature (thinking models may sign
    // text parts) and a call with an id and a signature. Only the stored turn's form would
    // lose the text part's signature: the next request must repeat the parts verbatim.
    let model_parts = json!([
        { "text": "Saya cek dulu.", "thoughtSignature": "dGV4dC1zaWc=" },
        {
            "functionCall": { "id": "fc-7", "name": "product_forecast", "args": { "sku": "BRD-001", "days": 7 } },
            "thoughtSignature": "CiQBcsjafSig/AAA+=="
        }
    ]);
    let stub = Stub::start(vec![
        Reply::Json(200, answer(model_parts.clone(), "STOP")),
        Reply::Json(
            200,
            answer(
                json!([{ "text": "Roti Tawar: 84 units in the next 7 days." }]),
                "STOP",
            ),
        ),
    ])
    .await;
    let forecast = json!({ "sku": "BRD-001", "total": 84, "days": 7 });
    let tools = Tools::new(vec![("product_forecast", forecast.clone())]);
    let history = vec![user("Forecast BRD-001 for a week")];
    let (tx, rx) = events();
    let request = Request {
        system: SYSTEM,
        history: &history,
        tools: &shop_tools(),
        max_rounds: 3,
    };
    let done = provider(&stub, false)
        .complete(request, &tools, tx)
        .await
        .unwrap();

    let call = ToolCall {
        id: "fc-7".into(),
        name: "product_forecast".into(),
        arguments: json!({ "sku": "BRD-001", "days": 7 }),
        signature: Some("CiQBcsjafSig/AAA+==".into()),
    };
    assert_eq!(tools.ran(), vec![call.clone()]);
    assert_eq!(
        done.text,
        "Saya cek dulu.\n\nRoti Tawar: 84 units in the next 7 days."
    );
    assert_eq!(
        done.new_turns,
        vec![
            Turn::Model {
                text: "Saya cek dulu.".into(),
                tool_calls: vec![call]
            },
            Turn::ToolResults {
                outputs: vec![ToolOutput {
                    call_id: "fc-7".into(),
                    name: "product_forecast".into(),
                    content: forecast.clone()
                }]
            },
            Turn::Model {
                text: "Roti Tawar: 84 units in the next 7 days.".into(),
                tool_calls: vec![]
            },
        ]
    );
    assert_eq!(
        rx.all(),
        vec![
            token("Saya cek dulu."),
            StreamEvent::ToolCall {
                name: "product_forecast".into(),
                arguments: json!({ "sku": "BRD-001", "days": 7 })
            },
            token("\n\n"),
            token("Roti Tawar: 84 units in the next 7 days."),
        ]
    );
    let received = stub.received();
    assert_eq!(received.len(), 2);
    assert_headers(
        &received[1],
        "/v1beta/models/gemini-2.5-flash:generateContent",
    );
    assert_eq!(
        received[1].body,
        json!({
            "systemInstruction": system(),
            "contents": [
                { "role": "user", "parts": [{ "text": "Forecast BRD-001 for a week" }] },
                { "role": "model", "parts": model_parts },
                { "role": "user", "parts": [{
                    "functionResponse": { "id": "fc-7", "name": "product_forecast", "response": forecast }
                }] }
            ],
            "tools": declarations()
        })
    );
}

#[tokio::test]
async fn parallel_calls_are_answered_in_one_content_and_replayed_from_history() {
    // Streamed: the calls arrive whole in one chunk, without ids; only the first carries the
    // signature.
    let calls_chunk = json!({
        "candidates": [{ "content": { "role": "model", "parts": [
            { "functionCall": { "name": "low_stock", "args": {} }, "thoughtSignature": "sig-P1" },
            { "functionCall": { "name": "product_forecast", "args": { "sku": "CRS-002" } } }
        ] }, "finishReason": "STOP", "index": 0 }],
        "usageMetadata": { "promptTokenCount": 90, "totalTokenCount": 110 }
    });
    let final_chunk = json!({
        "candidates": [{ "content": { "role": "model", "parts": [{ "text": "Restock Croissant first." }] },
                         "finishReason": "STOP", "index": 0 }]
    });
    let stub = Stub::start(vec![
        Reply::sse(std::slice::from_ref(&calls_chunk)),
        Reply::sse(&[final_chunk]),
        Reply::Json(200, answer(json!([{ "text": "Sama-sama." }]), "STOP")),
    ])
    .await;
    let low = json!([{ "sku": "CRS-002", "stock": 3 }]);
    let forecast = json!({ "sku": "CRS-002", "total": 40 });
    let tools = Tools::new(vec![
        ("low_stock", low.clone()),
        ("product_forecast", forecast.clone()),
    ]);
    let mut history = vec![user("What should I restock?")];
    let provider = provider(&stub, true);
    let (tx, _rx) = events();
    let request = Request {
        system: SYSTEM,
        history: &history,
        tools: &shop_tools(),
        max_rounds: 1,
    };
    let done = provider.complete(request, &tools, tx).await.unwrap();

    let ran = tools.ran();
    assert_eq!(ran.len(), 2);
    assert_eq!(
        (ran[0].name.as_str(), ran[0].signature.as_deref()),
        ("low_stock", Some("sig-P1"))
    );
    assert_eq!(
        (ran[1].name.as_str(), ran[1].signature.as_deref()),
        ("product_forecast", None)
    );
    assert!(ran.iter().all(|c| c.id.starts_with(GENERATED_ID_PREFIX)));
    assert_ne!(ran[0].id, ran[1].id);
    assert_eq!(done.text, "Restock Croissant first.");
    let Turn::ToolResults { outputs } = &done.new_turns[1] else {
        panic!("expected the tool results second: {:?}", done.new_turns);
    };
    assert_eq!(
        outputs
            .iter()
            .map(|o| o.call_id.clone())
            .collect::<Vec<_>>(),
        vec![ran[0].id.clone(), ran[1].id.clone()],
        "results in the calls' order, ids matched"
    );

    let received = stub.received();
    assert_eq!(
        received[0].uri,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    );
    // One user content, one functionResponse per call, in order, no ids (the model gave none);
    // the object result as is, the array one wrapped (`response` must be an object).
    let results = json!({ "role": "user", "parts": [
        { "functionResponse": { "name": "low_stock", "response": { "output": low } } },
        { "functionResponse": { "name": "product_forecast", "response": forecast } }
    ] });
    assert_eq!(
        received[1].body["contents"],
        json!([
            { "role": "user", "parts": [{ "text": "What should I restock?" }] },
            calls_chunk["candidates"][0]["content"],
            results
        ])
    );

    // The next question, with the stored turns as history: the calls come back from the
    // stored form, the signature still on the first call's part.
    history.extend(done.new_turns);
    history.push(user("Makasih"));
    let (tx, _rx) = events();
    let request = Request {
        system: SYSTEM,
        history: &history,
        tools: &shop_tools(),
        max_rounds: 1,
    };
    // Not streamed this time: the same provider streams, so a fresh one for the JSON answer.
    let json_provider = {
        let mut config = GeminiConfig::new(KEY);
        config.base_url = stub.base.clone();
        config.stream = false;
        llm::gemini(config).unwrap()
    };
    drop(provider);
    json_provider.complete(request, &tools, tx).await.unwrap();
    let received = stub.received();
    assert_eq!(received.len(), 3);
    assert_eq!(
        received[2].body["contents"],
        json!([
            { "role": "user", "parts": [{ "text": "What should I restock?" }] },
            { "role": "model", "parts": [
                { "functionCall": { "name": "low_stock", "args": {} }, "thoughtSignature": "sig-P1" },
                { "functionCall": { "name": "product_forecast", "args": { "sku": "CRS-002" } } }
            ] },
            results,
            { "role": "model", "parts": [{ "text": "Restock Croissant first." }] },
            { "role": "user", "parts": [{ "text": "Makasih" }] }
        ])
    );
}

#[tokio::test]
async fn a_streamed_answer_arrives_as_several_tokens_in_order() {
    // Recorded shape: text in pieces, the last chunk with an empty text part carrying the
    // signature, finishReason and usageMetadata; CRLF framing.
    let chunks = [
        json!({ "candidates": [{ "content": { "role": "model", "parts": [{ "text": "Stok Roti " }] }, "index": 0 }],
                "usageMetadata": { "trafficType": "ON_DEMAND" }, "modelVersion": "gemini-2.5-flash" }),
        json!({ "candidates": [{ "content": { "role": "model", "parts": [{ "text": "Tawar tinggal " }] }, "index": 0 }] }),
        json!({ "candidates": [{ "content": { "role": "model", "parts": [{ "text": "4." }] }, "index": 0 }] }),
        json!({ "candidates": [{ "content": { "role": "model", "parts": [{ "text": "", "thoughtSignature": "AY89a18i" }] },
                                 "finishReason": "STOP", "index": 0 }],
                "usageMetadata": { "promptTokenCount": 1, "candidatesTokenCount": 9, "totalTokenCount": 10 } }),
    ];
    let stub = Stub::start(vec![Reply::Sse(
        chunks.iter().map(Value::to_string).collect(),
        "\r\n",
    )])
    .await;
    let history = vec![user("Stok roti tawar?")];
    let (tx, rx) = events();
    let request = Request {
        system: SYSTEM,
        history: &history,
        tools: &[],
        max_rounds: 3,
    };
    let done = provider(&stub, true)
        .complete(request, &Tools::new(vec![]), tx)
        .await
        .unwrap();

    assert_eq!(
        rx.all(),
        vec![token("Stok Roti "), token("Tawar tinggal "), token("4.")]
    );
    assert_eq!(done.text, "Stok Roti Tawar tinggal 4.");
    let received = stub.received();
    assert_headers(
        &received[0],
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
    );
    assert_eq!(
        received[0].body,
        json!({
            "systemInstruction": system(),
            "contents": [{ "role": "user", "parts": [{ "text": "Stok roti tawar?" }] }]
        }),
        "no tools declared, no tools field"
    );
}

#[tokio::test]
async fn a_model_that_keeps_calling_tools_is_stopped() {
    let call = |n: u32| {
        answer(
            json!([{ "functionCall": { "id": format!("fc-{n}"), "name": "low_stock", "args": {} },
                     "thoughtSignature": format!("sig-{n}") }]),
            "STOP",
        )
    };
    let stub = Stub::start(vec![
        Reply::Json(200, call(1)),
        Reply::Json(200, call(2)),
        Reply::Json(200, call(3)),
    ])
    .await;
    let tools = Tools::new(vec![("low_stock", json!([]))]);
    let history = vec![user("loop")];
    let (tx, _rx) = events();
    let request = Request {
        system: SYSTEM,
        history: &history,
        tools: &shop_tools(),
        max_rounds: 2,
    };
    let error = provider(&stub, false)
        .complete(request, &tools, tx)
        .await
        .unwrap_err();

    assert!(
        matches!(error, ProviderError::TooManyToolRounds(2)),
        "{error:?}"
    );
    assert_eq!(error.http_status(), 502);
    assert_eq!(
        tools.ran().len(),
        2,
        "two rounds ran, the third call did not"
    );
    assert_eq!(stub.received().len(), 3);
    // Step 3 repeats both earlier model turns with their signatures.
    let contents = &stub.received()[2].body["contents"];
    assert_eq!(contents[1]["parts"][0]["thoughtSignature"], "sig-1");
    assert_eq!(contents[3]["parts"][0]["thoughtSignature"], "sig-2");
    assert_eq!(contents[4]["parts"][0]["functionResponse"]["id"], "fc-2");
}

#[tokio::test]
async fn a_blocked_prompt_is_an_error_not_an_empty_answer() {
    let blocked = json!({
        "promptFeedback": {
            "blockReason": "SAFETY",
            "safetyRatings": [{ "category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH" }]
        },
        "usageMetadata": { "promptTokenCount": 8, "totalTokenCount": 8 }
    });
    let stub = Stub::start(vec![Reply::Json(200, blocked)]).await;
    let history = vec![user("something refused")];
    let (tx, rx) = events();
    let request = Request {
        system: SYSTEM,
        history: &history,
        tools: &[],
        max_rounds: 1,
    };
    let error = provider(&stub, false)
        .complete(request, &Tools::new(vec![]), tx)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ProviderError::Blocked(reason) if reason.contains("SAFETY")),
        "{error:?}"
    );
    assert_eq!(error.http_status(), 502);
    assert!(rx.all().is_empty());
}

#[tokio::test]
async fn a_candidate_stopped_for_safety_without_content_is_blocked() {
    let stopped = json!({ "candidates": [{ "finishReason": "SAFETY", "index": 0 }] });
    let stub = Stub::start(vec![Reply::Json(200, stopped)]).await;
    let history = vec![user("x")];
    let (tx, _rx) = events();
    let request = Request {
        system: SYSTEM,
        history: &history,
        tools: &[],
        max_rounds: 1,
    };
    let error = provider(&stub, false)
        .complete(request, &Tools::new(vec![]), tx)
        .await
        .unwrap_err();
    assert!(matches!(error, ProviderError::Blocked(_)), "{error:?}");
}

async fn error_of(reply: Reply) -> ProviderError {
    let stub = Stub::start(vec![reply]).await;
    let history = vec![user("x")];
    let (tx, _rx) = events();
    let request = Request {
        system: SYSTEM,
        history: &history,
        tools: &[],
        max_rounds: 1,
    };
    provider(&stub, false)
        .complete(request, &Tools::new(vec![]), tx)
        .await
        .unwrap_err()
}

#[tokio::test]
async fn provider_failures_map_to_503_and_refusals_to_502_without_the_key() {
    let unavailable = json!({ "error": { "code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE" } });
    let error = error_of(Reply::Json(503, unavailable)).await;
    assert!(
        matches!(&error, ProviderError::Status { status: 503, message } if message == "The model is overloaded."),
        "{error:?}"
    );
    assert_eq!(error.http_status(), 503);

    let error = error_of(Reply::Text(500, "")).await;
    assert!(
        matches!(error, ProviderError::Status { status: 500, .. }),
        "{error:?}"
    );
    assert_eq!(error.http_status(), 503);

    let quota = json!({ "error": { "code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED" } });
    assert_eq!(error_of(Reply::Json(429, quota)).await.http_status(), 503);

    // A 400 whose message quotes the key: the key never reaches the error.
    let bad_key = json!({ "error": { "code": 400, "message": format!("API key not valid: {KEY}"), "status": "INVALID_ARGUMENT" } });
    let error = error_of(Reply::Json(400, bad_key)).await;
    assert!(
        matches!(error, ProviderError::Status { status: 400, .. }),
        "{error:?}"
    );
    assert_eq!(error.http_status(), 502);
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(KEY), "{shown}");
    assert!(shown.contains("API key not valid: [redacted]"), "{shown}");
}

#[tokio::test]
async fn an_unparseable_body_is_malformed() {
    let error = error_of(Reply::Text(200, "<html>proxy error</html>")).await;
    assert!(matches!(error, ProviderError::Malformed(_)), "{error:?}");
    assert_eq!(error.http_status(), 502);
    let error = error_of(Reply::Json(200, json!({ "candidates": [] }))).await;
    assert!(matches!(error, ProviderError::Malformed(_)), "{error:?}");
}

#[tokio::test]
async fn a_slow_provider_times_out() {
    let started = Instant::now();
    let error = error_of(Reply::Slow(
        Duration::from_secs(10),
        Box::new(Reply::Json(
            200,
            answer(json!([{ "text": "late" }]), "STOP"),
        )),
    ))
    .await;
    assert!(matches!(error, ProviderError::Timeout), "{error:?}");
    assert_eq!(error.http_status(), 504);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the 200 ms timeout applied"
    );
}

#[tokio::test]
async fn a_closed_port_is_unreachable() {
    let mut config = GeminiConfig::new(KEY);
    config.base_url = support::closed_port().await;
    let history = vec![user("x")];
    let (tx, _rx) = events();
    let request = Request {
        system: SYSTEM,
        history: &history,
        tools: &[],
        max_rounds: 1,
    };
    let error = llm::gemini(config)
        .unwrap()
        .complete(request, &Tools::new(vec![]), tx)
        .await
        .unwrap_err();
    assert!(matches!(error, ProviderError::Unreachable(_)), "{error:?}");
    assert_eq!(error.http_status(), 503);
    let message = error.to_string();
    assert!(
        message.contains("Connection refused"),
        "the cause is shown: {message}"
    );
}

#[test]
fn configs_are_checked_and_never_show_the_key() {
    assert!(llm::gemini(GeminiConfig::new("  ")).is_err());
    let mut config = GeminiConfig::new(KEY);
    config.base_url = "file:///etc".into();
    assert!(llm::gemini(config).is_err());
    let config = GeminiConfig::new(KEY);
    assert!(!format!("{config:?}").contains(KEY));
    assert_eq!(llm::gemini(config).unwrap().name(), "gemini");
}
