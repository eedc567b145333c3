//! The assistant: one turn as JSON or as Server-Sent Events, and the caller's own
//! conversations. The user always comes from the token; another user's session is a 404.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::domain::assistant::provider::StreamEvent;
use crate::domain::assistant::{
    ChatHistory, ChatReply, ChatRequest, SessionId, SessionSummary, TurnStats,
};
use crate::domain::auth::Principal;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{CurrentUser, Json, Path};

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Deleted {
    pub session_id: String,
    pub deleted: bool,
}

/// The kinds of event the stream sends, in the order they come.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(
    dead_code,
    reason = "documents the stream's events; the handler writes them with axum's Event"
)]
pub enum ChatStreamEventKind {
    Tool,
    Token,
    Done,
    Error,
}

/// One Server-Sent Event of `POST /api/chat/stream`: its `event` field and its `data`
/// (JSON text: a tool call, a piece of the answer as a JSON string, the ChatReply, or an
/// ErrorBody).
#[derive(utoipa::ToSchema)]
#[allow(
    dead_code,
    reason = "documents the stream's events; the handler writes them with axum's Event"
)]
pub struct ChatStreamEvent {
    pub event: ChatStreamEventKind,
    pub data: String,
}

fn record(state: &AppState, stats: &TurnStats) {
    let provider = state.assistant.status().name;
    let tools: Vec<&'static str> = stats.tools.iter().map(|t| t.as_str()).collect();
    state
        .metrics
        .record_chat(provider, &tools, stats.provider_latency);
}

#[utoipa::path(post, path = "/api/chat", tag = "assistant", security(("bearer" = [])), request_body = ChatRequest,
    responses((status = 200, body = ChatReply),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "No such session of the caller's"),
        (status = 502, body = ErrorBody, description = "The external chat model failed (`assistant_provider_failed`)"),
        (status = 504, body = ErrorBody, description = "The external chat model timed out (`assistant_provider_failed`)")))]
pub async fn send(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(request): Json<ChatRequest>,
) -> ApiResult<axum::Json<ChatReply>> {
    let (reply, stats) = state.assistant.chat(&user, request, None).await?;
    record(&state, &stats);
    Ok(axum::Json(reply))
}

/// One turn as Server-Sent Events: `tool` per tool call ({name, arguments}), `token` per
/// piece of the answer's text, then `done` with the same body `POST /api/chat` answers, or
/// `error` with an error body. Bad input or an unknown session is refused before the
/// stream starts, as a plain JSON error.
#[utoipa::path(post, path = "/api/chat/stream", tag = "assistant", security(("bearer" = [])), request_body = ChatRequest,
    responses((status = 200, content_type = "text/event-stream", body = ChatStreamEvent,
        description = "Events `tool` (data: {\"name\", \"arguments\"}), `token` (data: a JSON string, a piece of the answer), then `done` (data: the ChatReply) or `error` (data: an ErrorBody)"),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "No such session of the caller's")))]
pub async fn stream(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(request): Json<ChatRequest>,
) -> ApiResult<Response> {
    state.assistant.admit(&user, &request).await?;
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel::<Event>();
    tokio::spawn(run_turn(state, user, request, sender));
    let events = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver
            .recv()
            .await
            .map(|event| (Ok::<_, Infallible>(event), receiver))
    });
    let mut response = Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response();
    // Proxies (nginx) must pass each event on at once.
    response.headers_mut().insert(
        "x-accel-buffering",
        axum::http::HeaderValue::from_static("no"),
    );
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-cache"),
    );
    Ok(response)
}

async fn run_turn(
    state: AppState,
    user: Principal,
    request: ChatRequest,
    out: tokio::sync::mpsc::UnboundedSender<Event>,
) {
    let (events, mut progress) = tokio::sync::mpsc::unbounded_channel::<StreamEvent>();
    let forward = {
        let out = out.clone();
        async move {
            while let Some(event) = progress.recv().await {
                let event = match event {
                    StreamEvent::Token(text) => Event::default()
                        .event("token")
                        .data(serde_json::to_string(&text).unwrap_or_default()),
                    StreamEvent::ToolCall { name, arguments } => {
                        Event::default().event("tool").data(
                            serde_json::json!({"name": name, "arguments": arguments}).to_string(),
                        )
                    }
                };
                let _ = out.send(event);
            }
        }
    };
    let turn = async {
        let result = state.assistant.chat(&user, request, Some(&events)).await;
        drop(events);
        result
    };
    let (result, ()) = tokio::join!(turn, forward);
    let last = match result {
        Ok((reply, stats)) => {
            record(&state, &stats);
            Event::default()
                .event("done")
                .data(serde_json::to_string(&reply).unwrap_or_default())
        }
        Err(error) => {
            let error = ApiError::from(error);
            let (status, body) = error.status_and_body();
            if status.is_server_error() {
                tracing::error!(error = %error, "a streamed chat turn failed");
            }
            Event::default()
                .event("error")
                .data(serde_json::to_string(&body).unwrap_or_default())
        }
    };
    let _ = out.send(last);
}

#[utoipa::path(get, path = "/api/chat/sessions", tag = "assistant", security(("bearer" = [])),
    responses((status = 200, body = Vec<SessionSummary>, description = "The caller's conversations, most recently used first")))]
pub async fn sessions(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<axum::Json<Vec<SessionSummary>>> {
    Ok(axum::Json(state.assistant.sessions(&user).await?))
}

#[utoipa::path(get, path = "/api/chat/history/{session_id}", tag = "assistant", security(("bearer" = [])),
    params(("session_id" = SessionId, Path)),
    responses((status = 200, body = ChatHistory), (status = 404, body = ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(session_id): Path<SessionId>,
) -> ApiResult<axum::Json<ChatHistory>> {
    Ok(axum::Json(
        state.assistant.history(&user, &session_id).await?,
    ))
}

#[utoipa::path(delete, path = "/api/chat/{session_id}", tag = "assistant", security(("bearer" = [])),
    params(("session_id" = SessionId, Path)),
    responses((status = 200, body = Deleted), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(session_id): Path<SessionId>,
) -> ApiResult<axum::Json<Deleted>> {
    state.assistant.delete(&user, &session_id).await?;
    Ok(axum::Json(Deleted {
        session_id: session_id.as_str().to_owned(),
        deleted: true,
    }))
}
