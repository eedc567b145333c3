use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::domain::calendar::format_date;
use crate::domain::settings::{self, SettingsUpdate, StoreSettings};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Admin, CurrentUser, Json};
use crate::storage::reports;

#[utoipa::path(get, path = "/api/settings", tag = "settings", security(("bearer" = [])),
    responses((status = 200, body = StoreSettings)))]
pub async fn get(
    State(state): State<AppState>,
    CurrentUser(_): CurrentUser,
) -> ApiResult<axum::Json<StoreSettings>> {
    Ok(axum::Json(settings::get(&state.db).await?))
}

#[utoipa::path(put, path = "/api/settings", tag = "settings", security(("bearer" = ["admin"])), request_body = SettingsUpdate,
    responses((status = 200, body = StoreSettings), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Admin(_): Admin,
    Json(input): Json<SettingsUpdate>,
) -> ApiResult<axum::Json<StoreSettings>> {
    let settings = settings::update(&state.shop, input).await?;
    Ok(axum::Json(settings))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SystemStatus {
    pub version: &'static str,
    pub database: &'static str,
    pub store_name: String,
    pub timezone: String,
    /// Today's date in the store's timezone.
    pub today: String,
    pub products: i64,
    pub transactions: i64,
    pub users: i64,
    pub events: i64,
    pub uptime_seconds: u64,
}

#[utoipa::path(get, path = "/api/settings/status", tag = "settings", security(("bearer" = [])),
    responses((status = 200, body = SystemStatus)))]
pub async fn status(
    State(state): State<AppState>,
    CurrentUser(_): CurrentUser,
) -> ApiResult<axum::Json<SystemStatus>> {
    let store = settings::get(&state.db).await?;
    let calendar = settings::calendar(&state.db).await?;
    let (products, transactions, users, events) = reports::table_counts(state.db.pool()).await?;
    Ok(axum::Json(SystemStatus {
        version: env!("CARGO_PKG_VERSION"),
        database: state.db.backend().name(),
        store_name: store.store_name,
        timezone: store.timezone,
        today: format_date(calendar.today()),
        products,
        transactions,
        users,
        events,
        uptime_seconds: state.started_at.elapsed().as_secs(),
    }))
}
