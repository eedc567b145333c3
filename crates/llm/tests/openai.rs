//! The OpenAI-compatible provider against a stub server that checks the exact requests.
//!
//! Response shapes are OpenAI's documented chat-completions ones
//! (platform.openai.com/docs/api-reference/chat/object and .../chat/streaming): a
//! `chat.completion` with `choices[0].message` (`content`, `tool_calls[]` with `arguments` as
//! a JSON string, `finish_reason: "tool_calls"`), and `chat.completion.chunk` events whose
//! `delta.tool_calls[]` fragments carry `index`, the `id` and name in the first fragment and
//! the `arguments` string in pieces (platform.openai.com/docs/guides/function-calling,
//! "Streaming"), ending with `data: [DONE]`. Ollama's variant (every parallel call whole at
//! index 0) is from its OpenAI-compatibility layer.

mod support;

use std::time::{Duration, Instant};

use llm::{
    OpenAiConfig, Provider, ProviderError, Request, StreamEvent, ToolCall, ToolOutput, Turn,
};
use serde_json::{Value, json};
use support::{Reply, SYSTEM, Stub, Tools, events, shop_tools, token};

const KEY: &str = "sk-test-0123456789abcdef";
const MODEL: &str = "gpt-4o-mini";

fn provider(stub: &Stub, key: Option<&str>, stream: bool) -> Box<dyn Provider> {
    let mut config = OpenAiConfig::new(format!("{}/v1/", stub.base), MODEL);
    config.api_key = key.map(str::to_owned);
    config.timeout = Duration::from_millis(200);
    config.stream = stream;
    llm::openai_compatible(config).unwrap()
}

fn user(text: &str) -> Turn {
    Turn::User { text: text.into() }
}

/// The tools as sent: the JSON Schema unchanged (OpenAI takes it whole).
fn tools_field() -> Value {
    Value::Array(
        shop_tools()
            .into_iter()
            .map(|t| {
                json!({ "type": "function", "function": {
                    "name": t.name, "description": t.description, "parameters": t.parameters
                } })
            })
            .collect(),
    )
}

/// A whole `chat.completion` with this message.
fn completion(message: Value, finish: &str) -> Value {
    json!({
        "id": "chatcmpl-123",
        "object": "chat.completion",
        "created": 1_741_569_952,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{ "index": 0, "message": message, "logprobs": null, "finish_reason": finish }],
        "usage": { "prompt_tokens": 82, "completion_tokens": 17, "total_tokens": 99 },
        "system_fingerprint": "fp_06737a9306"
    })
}

fn text_message(text: &str) -> Value {
    json!({ "role": "assistant", "content": text, "refusal": null, "annotations": [] })
}

/// A `chat.completion.chunk` with this delta.
fn chunk(delta: Value, finish: Option<&str>) -> Value {
    json!({
        "id": "chatcmpl-456",
        "object": "chat.completion.chunk",
        "created": 1_741_569_953,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_06737a9306",
        "choices": [{ "index": 0, "delta": delta, "logprobs": null, "finish_reason": finish }]
    })
}

fn sse(chunks: &[Value]) -> Reply {
    let mut events: Vec<String> = chunks.iter().map(Value::to_string).collect();
    events.push("[DONE]".into());
    Reply::Sse(events, "\n")
}

fn request<'a>(history: &'a [Turn], tools: &'a [llm::ToolSpec], max_rounds: usize) -> Request<'a> {
    Request {
        system: SYSTEM,
        history,
        tools,
        max_rounds,
    }
}

#[tokio::test]
async fn a_plain_answer_sends_system_history_and_tools() {
    let stub = Stub::start(vec![Reply::Json(
        200,
        completion(text_message("Roti Tawar has 4 left."), "stop"),
    )])
    .await;
    let history = vec![
        user("Hai"),
        Turn::Model {
            text: "Halo!".into(),
            tool_calls: vec![],
        },
        user("How many Roti Tawar are left?"),
    ];
    let tools = Tools::new(vec![]);
    let (tx, rx) = events();
    let spec = shop_tools();
    let done = provider(&stub, Some(KEY), false)
        .complete(request(&history, &spec, 3), &tools, tx)
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
    assert_eq!(received[0].method, "POST");
    assert_eq!(received[0].uri, "/v1/chat/completions");
    let bearer = format!("Bearer {KEY}");
    assert_eq!(received[0].header("authorization"), Some(bearer.as_str()));
    assert_eq!(
        received[0].body,
        json!({
            "model": MODEL,
            "messages": [
                { "role": "system", "content": SYSTEM },
                { "role": "user", "content": "Hai" },
                { "role": "assistant", "content": "Halo!" },
                { "role": "user", "content": "How many Roti Tawar are left?" }
            ],
            "tools": tools_field(),
            "stream": false
        })
    );
}

#[tokio::test]
async fn a_function_call_round_trip_sends_the_results_with_matching_ids() {
    let arguments = r#"{"sku":"BRD-001","days":7}"#;
    let stub = Stub::start(vec![
        Reply::Json(
            200,
            completion(
                json!({ "role": "assistant", "content": null, "refusal": null, "tool_calls": [
                    { "id": "call_abc123", "type": "function",
                      "function": { "name": "product_forecast", "arguments": arguments } }
                ] }),
                "tool_calls",
            ),
        ),
        Reply::Json(
            200,
            completion(
                text_message("Roti Tawar: 84 units in the next 7 days."),
                "stop",
            ),
        ),
    ])
    .await;
    let forecast = json!({ "sku": "BRD-001", "total": 84 });
    let tools = Tools::new(vec![("product_forecast", forecast.clone())]);
    let history = vec![user("Forecast BRD-001 for a week")];
    let (tx, rx) = events();
    let spec = shop_tools();
    let done = provider(&stub, Some(KEY), false)
        .complete(request(&history, &spec, 3), &tools, tx)
        .await
        .unwrap();

    let call = ToolCall {
        id: "call_abc123".into(),
        name: "product_forecast".into(),
        arguments: json!({ "sku": "BRD-001", "days": 7 }),
        signature: None,
    };
    assert_eq!(tools.ran(), vec![call.clone()]);
    assert_eq!(done.text, "Roti Tawar: 84 units in the next 7 days.");
    assert_eq!(
        done.new_turns,
        vec![
            Turn::Model {
                text: String::new(),
                tool_calls: vec![call]
            },
            Turn::ToolResults {
                outputs: vec![ToolOutput {
                    call_id: "call_abc123".into(),
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
            StreamEvent::ToolCall {
                name: "product_forecast".into(),
                arguments: json!({ "sku": "BRD-001", "days": 7 })
            },
            token("Roti Tawar: 84 units in the next 7 days."),
        ]
    );
    let received = stub.received();
    assert_eq!(received.len(), 2);
    assert_eq!(
        received[1].body,
        json!({
            "model": MODEL,
            "messages": [
                { "role": "system", "content": SYSTEM },
                { "role": "user", "content": "Forecast BRD-001 for a week" },
                { "role": "assistant", "content": null, "tool_calls": [
                    { "id": "call_abc123", "type": "function",
                      "function": { "name": "product_forecast", "arguments": arguments } }
                ] },
                { "role": "tool", "tool_call_id": "call_abc123", "content": forecast.to_string() }
            ],
            "tools": tools_field(),
            "stream": false
        })
    );
}

#[tokio::test]
async fn streamed_parallel_calls_are_assembled_by_index_and_answered_in_order() {
    let stub = Stub::start(vec![
        sse(&[
            chunk(json!({ "role": "assistant", "content": null, "tool_calls": [
                { "index": 0, "id": "call_1", "type": "function", "function": { "name": "low_stock", "arguments": "" } }
            ] }), None),
            chunk(json!({ "tool_calls": [{ "index": 0, "function": { "arguments": "{\"limit\"" } }] }), None),
            chunk(json!({ "tool_calls": [{ "index": 0, "function": { "arguments": ": 5}" } }] }), None),
            chunk(json!({ "tool_calls": [
                { "index": 1, "id": "call_2", "type": "function", "function": { "name": "product_forecast", "arguments": "" } }
            ] }), None),
            chunk(json!({ "tool_calls": [{ "index": 1, "function": { "arguments": "{\"sku\": \"CRS" } }] }), None),
            chunk(json!({ "tool_calls": [{ "index": 1, "function": { "arguments": "-002\"}" } }] }), None),
            chunk(json!({}), Some("tool_calls")),
        ]),
        sse(&[
            chunk(json!({ "role": "assistant", "content": "" }), None),
            chunk(json!({ "content": "Restock Croissant first." }), None),
            chunk(json!({}), Some("stop")),
        ]),
    ])
    .await;
    let low = json!([{ "sku": "CRS-002", "stock": 3 }]);
    let forecast = json!({ "sku": "CRS-002", "total": 40 });
    let tools = Tools::new(vec![
        ("low_stock", low.clone()),
        ("product_forecast", forecast.clone()),
    ]);
    let history = vec![user("What should I restock?")];
    let (tx, rx) = events();
    let spec = shop_tools();
    let done = provider(&stub, Some(KEY), true)
        .complete(request(&history, &spec, 1), &tools, tx)
        .await
        .unwrap();

    let ran = tools.ran();
    assert_eq!(
        ran.iter()
            .map(|c| (c.id.as_str(), c.name.as_str(), c.arguments.clone()))
            .collect::<Vec<_>>(),
        vec![
            ("call_1", "low_stock", json!({ "limit": 5 })),
            ("call_2", "product_forecast", json!({ "sku": "CRS-002" })),
        ]
    );
    assert_eq!(done.text, "Restock Croissant first.");
    assert_eq!(
        rx.all(),
        vec![
            StreamEvent::ToolCall {
                name: "low_stock".into(),
                arguments: json!({ "limit": 5 })
            },
            StreamEvent::ToolCall {
                name: "product_forecast".into(),
                arguments: json!({ "sku": "CRS-002" })
            },
            token("Restock Croissant first."),
        ]
    );
    let received = stub.received();
    assert_eq!(received[0].body["stream"], true);
    assert_eq!(
        received[1].body["messages"],
        json!([
            { "role": "system", "content": SYSTEM },
            { "role": "user", "content": "What should I restock?" },
            { "role": "assistant", "content": null, "tool_calls": [
                { "id": "call_1", "type": "function", "function": { "name": "low_stock", "arguments": "{\"limit\": 5}" } },
                { "id": "call_2", "type": "function", "function": { "name": "product_forecast", "arguments": "{\"sku\": \"CRS-002\"}" } }
            ] },
            { "role": "tool", "tool_call_id": "call_1", "content": low.to_string() },
            { "role": "tool", "tool_call_id": "call_2", "content": forecast.to_string() }
        ])
    );
}

#[tokio::test]
async fn ollama_style_parallel_calls_at_one_index_stay_apart() {
    let stub = Stub::start(vec![
        sse(&[
            chunk(json!({ "role": "assistant", "content": "", "tool_calls": [
                { "index": 0, "id": "call_a", "type": "function", "function": { "name": "low_stock", "arguments": "{}" } }
            ] }), None),
            chunk(json!({ "role": "assistant", "content": "", "tool_calls": [
                { "index": 0, "id": "call_b", "type": "function", "function": { "name": "product_forecast", "arguments": "{\"sku\":\"BRD-001\"}" } }
            ] }), Some("tool_calls")),
        ]),
        sse(&[chunk(json!({ "role": "assistant", "content": "Done." }), Some("stop"))]),
    ])
    .await;
    let tools = Tools::new(vec![
        ("low_stock", json!([])),
        ("product_forecast", json!({})),
    ]);
    let history = vec![user("x")];
    let (tx, _rx) = events();
    let spec = shop_tools();
    provider(&stub, None, true)
        .complete(request(&history, &spec, 1), &tools, tx)
        .await
        .unwrap();
    let ran = tools.ran();
    assert_eq!(
        ran.iter()
            .map(|c| (c.id.as_str(), c.name.as_str()))
            .collect::<Vec<_>>(),
        vec![("call_a", "low_stock"), ("call_b", "product_forecast")]
    );
}

#[tokio::test]
async fn a_streamed_answer_arrives_as_several_tokens_in_order() {
    let stub = Stub::start(vec![sse(&[
        chunk(
            json!({ "role": "assistant", "content": "", "refusal": null }),
            None,
        ),
        chunk(json!({ "content": "Stok Roti " }), None),
        chunk(json!({ "content": "Tawar tinggal " }), None),
        chunk(json!({ "content": "4." }), None),
        chunk(json!({}), Some("stop")),
    ])])
    .await;
    let history = vec![user("Stok roti tawar?")];
    let (tx, rx) = events();
    let done = provider(&stub, None, true)
        .complete(request(&history, &[], 3), &Tools::new(vec![]), tx)
        .await
        .unwrap();

    assert_eq!(
        rx.all(),
        vec![token("Stok Roti "), token("Tawar tinggal "), token("4.")]
    );
    assert_eq!(done.text, "Stok Roti Tawar tinggal 4.");
    let received = stub.received();
    assert_eq!(
        received[0].header("authorization"),
        None,
        "no key, no header"
    );
    assert_eq!(
        received[0].body,
        json!({
            "model": MODEL,
            "messages": [
                { "role": "system", "content": SYSTEM },
                { "role": "user", "content": "Stok roti tawar?" }
            ],
            "stream": true
        })
    );
}

#[tokio::test]
async fn malformed_arguments_go_back_to_the_model_as_a_tool_error() {
    let truncated = r#"{"sku": "BRD-001""#;
    let stub = Stub::start(vec![
        Reply::Json(
            200,
            completion(
                json!({ "role": "assistant", "content": null, "tool_calls": [
                    { "id": "call_bad", "type": "function", "function": { "name": "product_forecast", "arguments": truncated } },
                    { "id": "call_arr", "type": "function", "function": { "name": "low_stock", "arguments": "[5]" } }
                ] }),
                "tool_calls",
            ),
        ),
        Reply::Json(
            200,
            completion(text_message("Sorry, which product did you mean?"), "stop"),
        ),
    ])
    .await;
    let tools = Tools::new(vec![
        ("product_forecast", json!({})),
        ("low_stock", json!([])),
    ]);
    let history = vec![user("forecast")];
    let (tx, rx) = events();
    let spec = shop_tools();
    let done = provider(&stub, Some(KEY), false)
        .complete(request(&history, &spec, 2), &tools, tx)
        .await
        .unwrap();

    assert!(
        tools.ran().is_empty(),
        "the executor never sees bad arguments"
    );
    assert_eq!(done.text, "Sorry, which product did you mean?");
    assert_eq!(
        rx.all()[0],
        StreamEvent::ToolCall {
            name: "product_forecast".into(),
            arguments: Value::String(truncated.into())
        }
    );
    let messages = &stub.received()[1].body["messages"];
    // The model's own arguments string goes back unchanged...
    assert_eq!(
        messages[2]["tool_calls"][0]["function"]["arguments"],
        truncated
    );
    assert_eq!(messages[2]["tool_calls"][1]["function"]["arguments"], "[5]");
    // ...and each call is answered with an error explaining what is wrong.
    for (i, id, problem) in [
        (3, "call_bad", "not valid JSON"),
        (4, "call_arr", "not a JSON object"),
    ] {
        assert_eq!(messages[i]["role"], "tool");
        assert_eq!(messages[i]["tool_call_id"], id);
        let content: Value =
            serde_json::from_str(messages[i]["content"].as_str().unwrap()).unwrap();
        let error = content["error"].as_str().unwrap();
        assert!(error.contains(problem), "{error}");
    }
}

#[tokio::test]
async fn a_model_that_keeps_calling_tools_is_stopped() {
    let call = |n: u32| {
        Reply::Json(
            200,
            completion(
                json!({ "role": "assistant", "content": null, "tool_calls": [
                    { "id": format!("call_{n}"), "type": "function", "function": { "name": "low_stock", "arguments": "{}" } }
                ] }),
                "tool_calls",
            ),
        )
    };
    let stub = Stub::start(vec![call(1), call(2)]).await;
    let tools = Tools::new(vec![("low_stock", json!([]))]);
    let history = vec![user("loop")];
    let (tx, _rx) = events();
    let spec = shop_tools();
    let error = provider(&stub, None, false)
        .complete(request(&history, &spec, 1), &tools, tx)
        .await
        .unwrap_err();
    assert!(
        matches!(error, ProviderError::TooManyToolRounds(1)),
        "{error:?}"
    );
    assert_eq!(error.http_status(), 502);
    assert_eq!(tools.ran().len(), 1);
    assert_eq!(stub.received().len(), 2);
    assert_eq!(stub.unused(), 0);
}

async fn error_of(reply: Reply, stream: bool) -> ProviderError {
    let stub = Stub::start(vec![reply]).await;
    let history = vec![user("x")];
    let (tx, _rx) = events();
    provider(&stub, Some(KEY), stream)
        .complete(request(&history, &[], 1), &Tools::new(vec![]), tx)
        .await
        .unwrap_err()
}

#[tokio::test]
async fn provider_failures_map_to_503_and_refusals_to_502_without_the_key() {
    let error = error_of(Reply::Text(500, "upstream failed"), false).await;
    assert!(
        matches!(&error, ProviderError::Status { status: 500, message } if message == "upstream failed"),
        "{error:?}"
    );
    assert_eq!(error.http_status(), 503);

    let rate = json!({ "error": { "message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded" } });
    assert_eq!(
        error_of(Reply::Json(429, rate), true).await.http_status(),
        503
    );

    let bad_key = json!({ "error": {
        "message": format!("Incorrect API key provided: {KEY}. You can find your API key at ..."),
        "type": "invalid_request_error", "param": null, "code": "invalid_api_key"
    } });
    let error = error_of(Reply::Json(401, bad_key), false).await;
    assert!(
        matches!(error, ProviderError::Status { status: 401, .. }),
        "{error:?}"
    );
    assert_eq!(error.http_status(), 502);
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(KEY), "{shown}");

    let unknown_model =
        json!({ "error": { "message": "model 'x' not found", "type": "invalid_request_error" } });
    let error = error_of(Reply::Json(400, unknown_model), false).await;
    assert!(
        matches!(&error, ProviderError::Status { status: 400, message } if message == "model 'x' not found"),
        "{error:?}"
    );
    assert_eq!(error.http_status(), 502);
}

#[tokio::test]
async fn unparseable_bodies_and_streams_are_malformed() {
    let error = error_of(Reply::Text(200, "<html>bad gateway</html>"), false).await;
    assert!(matches!(error, ProviderError::Malformed(_)), "{error:?}");
    assert_eq!(error.http_status(), 502);
    let error = error_of(Reply::Sse(vec!["{not json".into()], "\n"), true).await;
    assert!(matches!(error, ProviderError::Malformed(_)), "{error:?}");
    // An error event inside a 200 stream (llama.cpp, vLLM do this).
    let error = error_of(
        Reply::Sse(
            vec![json!({ "error": { "message": "context too long" } }).to_string()],
            "\n",
        ),
        true,
    )
    .await;
    assert!(
        matches!(&error, ProviderError::Malformed(m) if m.contains("context too long")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_slow_provider_times_out() {
    let started = Instant::now();
    let error = error_of(
        Reply::Slow(
            Duration::from_secs(10),
            Box::new(Reply::Json(200, completion(text_message("late"), "stop"))),
        ),
        true,
    )
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
    let config = OpenAiConfig::new(format!("{}/v1", support::closed_port().await), MODEL);
    let history = vec![user("x")];
    let (tx, _rx) = events();
    let error = llm::openai_compatible(config)
        .unwrap()
        .complete(request(&history, &[], 1), &Tools::new(vec![]), tx)
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
    assert!(llm::openai_compatible(OpenAiConfig::new("http://127.0.0.1:1/v1", " ")).is_err());
    let mut config = OpenAiConfig::new("http://127.0.0.1:1/v1", MODEL);
    config.api_key = Some(String::new());
    assert!(
        llm::openai_compatible(config.clone()).is_err(),
        "an empty key is a mistake"
    );
    config.api_key = Some(KEY.into());
    assert!(!format!("{config:?}").contains(KEY));
    assert_eq!(
        llm::openai_compatible(config).unwrap().name(),
        "openai-compatible"
    );
}
