use axum::extract::State;
use axum::http::StatusCode;

use crate::app::AppState;
use crate::domain::categories::{self, CategoryInput, CategoryView};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Admin, CurrentUser, Json, Path};

#[utoipa::path(get, path = "/api/categories", tag = "categories", security(("bearer" = [])),
    responses((status = 200, body = Vec<CategoryView>)))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(_): CurrentUser,
) -> ApiResult<axum::Json<Vec<CategoryView>>> {
    Ok(axum::Json(categories::list(&state.db).await?))
}

#[utoipa::path(post, path = "/api/categories", tag = "categories", security(("bearer" = ["admin"])),
    request_body = CategoryInput,
    responses((status = 201, body = CategoryView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Admin(_): Admin,
    Json(input): Json<CategoryInput>,
) -> ApiResult<(StatusCode, axum::Json<CategoryView>)> {
    let category = categories::create(&state.shop, input).await?;
    Ok((StatusCode::CREATED, axum::Json(category)))
}

#[utoipa::path(put, path = "/api/categories/{category_id}", tag = "categories", security(("bearer" = ["admin"])),
    params(("category_id" = i64, Path)), request_body = CategoryInput,
    responses((status = 200, body = CategoryView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Admin(_): Admin,
    Path(id): Path<i64>,
    Json(input): Json<CategoryInput>,
) -> ApiResult<axum::Json<CategoryView>> {
    let category = categories::update(&state.shop, id, input).await?;
    Ok(axum::Json(category))
}

#[utoipa::path(delete, path = "/api/categories/{category_id}", tag = "categories", security(("bearer" = ["admin"])),
    params(("category_id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    Admin(_): Admin,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    categories::delete(&state.shop, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
