use axum::extract::State;
use axum::http::StatusCode;

use crate::app::AppState;
use crate::domain::events::{self, EventInput, EventQuery, EventView};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Admin, CurrentUser, Json, Path, Query};

#[utoipa::path(get, path = "/api/events", tag = "events", security(("bearer" = [])), params(EventQuery),
    responses((status = 200, body = Vec<EventView>), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(_): CurrentUser,
    Query(query): Query<EventQuery>,
) -> ApiResult<axum::Json<Vec<EventView>>> {
    Ok(axum::Json(events::list(&state.db, query).await?))
}

#[utoipa::path(post, path = "/api/events", tag = "events", security(("bearer" = ["admin"])), request_body = EventInput,
    responses((status = 201, body = EventView), (status = 400, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Admin(_): Admin,
    Json(input): Json<EventInput>,
) -> ApiResult<(StatusCode, axum::Json<EventView>)> {
    let event = events::create(&state.shop, input).await?;
    Ok((StatusCode::CREATED, axum::Json(event)))
}

#[utoipa::path(get, path = "/api/events/{event_id}", tag = "events", security(("bearer" = [])),
    params(("event_id" = i64, Path)), responses((status = 200, body = EventView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    CurrentUser(_): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<EventView>> {
    Ok(axum::Json(events::get(&state.db, id).await?))
}

#[utoipa::path(put, path = "/api/events/{event_id}", tag = "events", security(("bearer" = ["admin"])),
    params(("event_id" = i64, Path)), request_body = EventInput,
    responses((status = 200, body = EventView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Admin(_): Admin,
    Path(id): Path<i64>,
    Json(input): Json<EventInput>,
) -> ApiResult<axum::Json<EventView>> {
    let event = events::update(&state.shop, id, input).await?;
    Ok(axum::Json(event))
}

#[utoipa::path(delete, path = "/api/events/{event_id}", tag = "events", security(("bearer" = ["admin"])),
    params(("event_id" = i64, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    Admin(_): Admin,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    events::delete(&state.shop, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
