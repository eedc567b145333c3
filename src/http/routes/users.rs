use axum::extract::State;

use crate::app::AppState;
use crate::domain::auth::UserView;
use crate::domain::users::{self, RoleChange, StatusChange};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Admin, Json, Path};

#[utoipa::path(get, path = "/api/users", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = Vec<UserView>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Admin(_): Admin,
) -> ApiResult<axum::Json<Vec<UserView>>> {
    Ok(axum::Json(users::list(&state.db).await?))
}

#[utoipa::path(put, path = "/api/users/{user_id}/role", tag = "users", security(("bearer" = [])),
    params(("user_id" = i64, Path)), request_body = RoleChange,
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn change_role(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(user_id): Path<i64>,
    Json(input): Json<RoleChange>,
) -> ApiResult<axum::Json<UserView>> {
    Ok(axum::Json(
        users::change_role(&state.db, &state.auth, &admin, user_id, input).await?,
    ))
}

#[utoipa::path(put, path = "/api/users/{user_id}/status", tag = "users", security(("bearer" = [])),
    params(("user_id" = i64, Path)), request_body = StatusChange,
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn change_status(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(user_id): Path<i64>,
    Json(input): Json<StatusChange>,
) -> ApiResult<axum::Json<UserView>> {
    Ok(axum::Json(
        users::change_status(&state.db, &state.auth, &admin, user_id, input).await?,
    ))
}
