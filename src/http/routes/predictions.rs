//! Forecasts, restock advice, model versions and background tasks (admin only: cashiers
//! cannot see forecasts).

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::AppState;
use crate::domain::forecasting::Horizon;
use crate::domain::forecasting::{ModelVersionView, Prediction, RecommendationList};
use crate::domain::products::{self, Audience};
use crate::domain::sku::Sku;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Admin, Json, Path, Query};
use crate::infra::cache::{CachedJson, Namespace};
use crate::infra::queue::{JobSpec, TaskStatus, TaskView};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PredictRequest {
    pub product_sku: Sku,
    /// Days to forecast, 1..365.
    pub days: Horizon,
}

#[utoipa::path(post, path = "/api/predict", tag = "forecast", security(("bearer" = ["admin"])), request_body = PredictRequest,
    responses((status = 200, body = Prediction),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Too little history to forecast")))]
pub async fn predict(
    State(state): State<AppState>,
    Admin(_): Admin,
    Json(request): Json<PredictRequest>,
) -> ApiResult<CachedJson> {
    let PredictRequest { product_sku, days } = request;
    let key = format!("{product_sku}:{}", days.days());
    Ok(state
        .cache
        .get_or_compute(
            Namespace::Predictions,
            Audience::Admin,
            &key,
            state.forecaster.predict(&product_sku, days),
        )
        .await?)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    pub task_id: String,
    pub status: TaskStatus,
}

fn accepted(task: TaskView) -> (StatusCode, axum::Json<Accepted>) {
    (
        StatusCode::ACCEPTED,
        axum::Json(Accepted {
            task_id: task.task_id,
            status: task.status,
        }),
    )
}

#[utoipa::path(post, path = "/api/predict/async", tag = "forecast", security(("bearer" = ["admin"])),
    request_body = PredictRequest, responses((status = 202, body = Accepted), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "Unknown SKU")))]
pub async fn predict_async(
    State(state): State<AppState>,
    Admin(_): Admin,
    Json(request): Json<PredictRequest>,
) -> ApiResult<(StatusCode, axum::Json<Accepted>)> {
    let PredictRequest { product_sku, days } = request;
    products::get(&state.db, &product_sku, Audience::Admin).await?;
    let spec = JobSpec::Predict {
        sku: product_sku,
        days,
    };
    let task = state.queue.enqueue(&spec, Duration::ZERO, None).await?;
    Ok(accepted(task))
}

#[utoipa::path(get, path = "/api/predict/task/{task_id}", tag = "forecast", security(("bearer" = ["admin"])),
    params(("task_id" = String, Path)), responses((status = 200, body = TaskView), (status = 404, body = ErrorBody)))]
pub async fn predict_task(
    State(state): State<AppState>,
    Admin(_): Admin,
    Path(task_id): Path<String>,
) -> ApiResult<axum::Json<TaskView>> {
    Ok(axum::Json(state.queue.get(&task_id).await?))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecommendationQuery {
    /// Horizon in days, 1..365 (default 7).
    #[param(value_type = Option<Horizon>)]
    pub days: Option<Horizon>,
}

#[utoipa::path(get, path = "/api/recommendations", tag = "forecast", security(("bearer" = ["admin"])),
    params(RecommendationQuery), responses((status = 200, body = RecommendationList), (status = 400, body = ErrorBody)))]
pub async fn recommendations(
    State(state): State<AppState>,
    Admin(_): Admin,
    Query(query): Query<RecommendationQuery>,
) -> ApiResult<CachedJson> {
    let days = query.days.unwrap_or(Horizon::WEEK);
    Ok(state
        .cache
        .get_or_compute(
            Namespace::Recommendations,
            Audience::Admin,
            &days.days().to_string(),
            state.forecaster.recommendations(days),
        )
        .await?)
}

#[utoipa::path(get, path = "/api/products/{sku}/models", tag = "forecast", security(("bearer" = ["admin"])),
    params(("sku" = Sku, Path)),
    responses((status = 200, body = Vec<ModelVersionView>), (status = 404, body = ErrorBody)))]
pub async fn model_versions(
    State(state): State<AppState>,
    Admin(_): Admin,
    Path(sku): Path<Sku>,
) -> ApiResult<axum::Json<Vec<ModelVersionView>>> {
    Ok(axum::Json(state.forecaster.versions(&sku).await?))
}

#[utoipa::path(post, path = "/api/tasks/training/product/{sku}", tag = "tasks", security(("bearer" = ["admin"])),
    params(("sku" = Sku, Path)), responses((status = 202, body = Accepted), (status = 404, body = ErrorBody)))]
pub async fn train_product(
    State(state): State<AppState>,
    Admin(_): Admin,
    Path(sku): Path<Sku>,
) -> ApiResult<(StatusCode, axum::Json<Accepted>)> {
    products::get(&state.db, &sku, Audience::Admin).await?;
    let task = state
        .queue
        .enqueue(&JobSpec::TrainProduct { sku }, Duration::ZERO, None)
        .await?;
    Ok(accepted(task))
}

#[utoipa::path(post, path = "/api/tasks/training/all", tag = "tasks", security(("bearer" = ["admin"])),
    responses((status = 202, body = Accepted)))]
pub async fn train_all(
    State(state): State<AppState>,
    Admin(_): Admin,
) -> ApiResult<(StatusCode, axum::Json<Accepted>)> {
    let task = state
        .queue
        .enqueue(&JobSpec::TrainAll, Duration::ZERO, None)
        .await?;
    Ok(accepted(task))
}

#[utoipa::path(get, path = "/api/tasks/{task_id}", tag = "tasks", security(("bearer" = ["admin"])),
    params(("task_id" = String, Path)), responses((status = 200, body = TaskView), (status = 404, body = ErrorBody)))]
pub async fn task(
    State(state): State<AppState>,
    Admin(_): Admin,
    Path(task_id): Path<String>,
) -> ApiResult<axum::Json<TaskView>> {
    Ok(axum::Json(state.queue.get(&task_id).await?))
}

#[utoipa::path(get, path = "/api/tasks/active", tag = "tasks", security(("bearer" = ["admin"])),
    responses((status = 200, body = Vec<TaskView>, description = "Jobs running now")))]
pub async fn active(
    State(state): State<AppState>,
    Admin(_): Admin,
) -> ApiResult<axum::Json<Vec<TaskView>>> {
    Ok(axum::Json(state.queue.list(&[TaskStatus::Running]).await?))
}

#[utoipa::path(get, path = "/api/tasks/scheduled", tag = "tasks", security(("bearer" = ["admin"])),
    responses((status = 200, body = Vec<TaskView>, description = "Jobs waiting to run, soonest first")))]
pub async fn scheduled(
    State(state): State<AppState>,
    Admin(_): Admin,
) -> ApiResult<axum::Json<Vec<TaskView>>> {
    Ok(axum::Json(state.queue.list(&[TaskStatus::Queued]).await?))
}

#[utoipa::path(post, path = "/api/tasks/{task_id}/cancel", tag = "tasks", security(("bearer" = ["admin"])),
    params(("task_id" = String, Path)),
    responses((status = 200, body = TaskView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    Admin(_): Admin,
    Path(task_id): Path<String>,
) -> ApiResult<axum::Json<TaskView>> {
    Ok(axum::Json(state.queue.cancel(&task_id).await?))
}
