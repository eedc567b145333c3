use axum::extract::State;
use axum::http::StatusCode;

use crate::app::AppState;
use crate::domain::auth::UserView;
use crate::domain::users::{
    self, AccountWithPassword, NewAccount, PasswordReset, RoleChange, StatusChange,
};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Admin, Json, Path};

#[utoipa::path(get, path = "/api/users", tag = "users", security(("bearer" = ["admin"])),
    responses((status = 200, body = Vec<UserView>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Admin(_): Admin,
) -> ApiResult<axum::Json<Vec<UserView>>> {
    Ok(axum::Json(users::list(&state.db).await?))
}

#[utoipa::path(put, path = "/api/users/{user_id}/role", tag = "users", security(("bearer" = ["admin"])),
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

#[utoipa::path(put, path = "/api/users/{user_id}/status", tag = "users", security(("bearer" = ["admin"])),
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

/// Creates an active account. Without `password` one is generated and returned once as
/// `generated_password`; either way the user must change it.
#[utoipa::path(post, path = "/api/users", tag = "users", security(("bearer" = ["admin"])),
    request_body = NewAccount,
    responses((status = 201, body = AccountWithPassword), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Admin(_): Admin,
    Json(input): Json<NewAccount>,
) -> ApiResult<(StatusCode, axum::Json<AccountWithPassword>)> {
    let created = users::create(&state.db, input).await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

/// Approves a self-registered account: it becomes an active cashier.
#[utoipa::path(post, path = "/api/users/{user_id}/approve", tag = "users", security(("bearer" = ["admin"])),
    params(("user_id" = i64, Path)),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    Admin(_): Admin,
    Path(user_id): Path<i64>,
) -> ApiResult<axum::Json<UserView>> {
    Ok(axum::Json(
        users::approve(&state.db, &state.auth, user_id).await?,
    ))
}

/// Sets a user's password (given, or generated and returned once). The user must change
/// it, and their sessions end.
#[utoipa::path(post, path = "/api/users/{user_id}/password", tag = "users", security(("bearer" = ["admin"])),
    params(("user_id" = i64, Path)), request_body = PasswordReset,
    responses((status = 200, body = AccountWithPassword), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reset_password(
    State(state): State<AppState>,
    Admin(_): Admin,
    Path(user_id): Path<i64>,
    Json(input): Json<PasswordReset>,
) -> ApiResult<axum::Json<AccountWithPassword>> {
    Ok(axum::Json(
        users::reset_password(&state.db, &state.auth, user_id, input).await?,
    ))
}
