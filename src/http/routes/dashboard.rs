use axum::extract::State;

use crate::app::AppState;
use crate::domain::dashboard::{self, DashboardQuery, DashboardStats};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{CurrentUser, Query};
use crate::infra::cache::{CachedJson, Namespace};

#[utoipa::path(get, path = "/api/dashboard-stats", tag = "dashboard", security(("bearer" = [])),
    params(DashboardQuery), responses((status = 200, body = DashboardStats), (status = 400, body = ErrorBody)))]
pub async fn stats(
    State(state): State<AppState>,
    CurrentUser(_): CurrentUser,
    Query(query): Query<DashboardQuery>,
) -> ApiResult<CachedJson> {
    let key = serde_json::to_string(&query).unwrap_or_default();
    Ok(state
        .cache
        .get_or_compute(
            Namespace::Dashboard,
            &key,
            dashboard::stats(&state.db, query),
        )
        .await?)
}
