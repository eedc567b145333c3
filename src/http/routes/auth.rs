use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::DomainError;
use crate::domain::auth::{LoginResult, Registration, TokenPair, UserView};
use crate::domain::users::{self, ProfileUpdate};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{ClientAddress, CurrentUser, Json};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    #[schema(schema_with = crate::domain::schema::new_password)]
    pub new_password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Message {
    pub message: &'static str,
}

/// Self-registration, when `SIPREMS_OPEN_REGISTRATION=1`: the same 202 whether or not
/// the e-mail has an account (nothing is created then), and the new account waits for an
/// admin's approval. Closed (the default): 403.
#[utoipa::path(post, path = "/api/auth/register", tag = "auth", request_body = Registration,
    responses((status = 202, body = Message), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    Json(input): Json<Registration>,
) -> ApiResult<(StatusCode, axum::Json<Message>)> {
    if !state.config.open_registration {
        return Err(DomainError::Forbidden(
            "self-registration is closed; ask the shop owner to create your account".into(),
        )
        .into());
    }
    state.auth.register(&state.db, input).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(Message {
            message: "registration received; an admin must approve the account before it can sign in",
        }),
    ))
}

#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = Credentials,
    responses((status = 200, body = LoginResult), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    Json(input): Json<Credentials>,
) -> ApiResult<axum::Json<LoginResult>> {
    let address = address.map(|a| a.to_string());
    let result = state
        .auth
        .login(
            &state.db,
            state.shared.as_ref(),
            &input.email,
            &input.password,
            address.as_deref(),
        )
        .await?;
    Ok(axum::Json(result))
}

#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = ErrorBody)))]
pub async fn refresh(
    State(state): State<AppState>,
    Json(input): Json<RefreshRequest>,
) -> ApiResult<axum::Json<TokenPair>> {
    Ok(axum::Json(
        state.auth.refresh(&state.db, &input.refresh_token).await?,
    ))
}

#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = Message), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    Json(input): Json<RefreshRequest>,
) -> ApiResult<axum::Json<Message>> {
    state.auth.logout(&state.db, &input.refresh_token).await?;
    Ok(axum::Json(Message {
        message: "logged out",
    }))
}

#[utoipa::path(get, path = "/api/auth/profile", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
pub async fn profile(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<axum::Json<UserView>> {
    Ok(axum::Json(users::profile(&state.db, &user).await?))
}

#[utoipa::path(put, path = "/api/auth/profile", tag = "auth", security(("bearer" = [])), request_body = ProfileUpdate,
    responses((status = 200, body = UserView), (status = 400, body = ErrorBody)))]
pub async fn update_profile(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(input): Json<ProfileUpdate>,
) -> ApiResult<axum::Json<UserView>> {
    Ok(axum::Json(
        users::update_profile(&state.db, &user, input).await?,
    ))
}

#[utoipa::path(post, path = "/api/auth/change-password", tag = "auth", security(("bearer" = [])),
    request_body = PasswordChange,
    responses((status = 200, body = LoginResult), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
/// Changes the caller's password. Every session of theirs ends (their old tokens stop
/// working); the answer carries a new pair, as a login would.
pub async fn change_password(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(input): Json<PasswordChange>,
) -> ApiResult<axum::Json<LoginResult>> {
    let result = state
        .auth
        .change_password(
            &state.db,
            &user,
            &input.current_password,
            &input.new_password,
        )
        .await?;
    Ok(axum::Json(result))
}
