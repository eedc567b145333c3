use axum::extract::State;

use crate::app::AppState;
use crate::domain::dashboard::{self, DashboardQuery, DashboardStats};
use crate::domain::products::Audience;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{CurrentUser, Query};
use crate::infra::cache::{CachedJson, Namespace};

#[utoipa::path(get, path = "/api/dashboard-stats", tag = "dashboard", security(("bearer" = [])),
    params(DashboardQuery), responses((status = 200, body = DashboardStats), (status = 400, body = ErrorBody)))]
pub async fn stats(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<DashboardQuery>,
) -> ApiResult<CachedJson> {
    let audience = Audience::of(&user);
    let key = query.cache_key()?;
    Ok(state
        .cache
        .get_or_compute(
            Namespace::Dashboard,
            audience,
            &key,
            dashboard::stats(&state.db, query, audience),
        )
        .await?)
}
