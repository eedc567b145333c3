use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::domain::checkout::{self, CheckoutRequest, Quote};
use crate::domain::products::Page;
use crate::domain::sales::{self, ExportQuery, SaleQuery, SaleView};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Admin, CurrentUser, IdempotencyKey, Json, Path, Query, mark_replayed};

#[utoipa::path(post, path = "/api/transactions", tag = "transactions", security(("bearer" = [])),
    request_body = CheckoutRequest,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]+$",
        description = "1 to 255 visible ASCII characters. Retries with the same key return the first result; the same key with another cart is a 422 (`idempotency_key_reused`)")),
    responses(
        (status = 201, body = SaleView, description = "Sale recorded (or replayed: header Idempotent-Replayed: true)"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody, description = "Unknown SKU"),
        (status = 409, body = ErrorBody, description = "Insufficient stock (`insufficient_stock`; details lists each short line), a deactivated product (`conflict`), or this Idempotency-Key still in flight (`idempotency_key_in_flight`)"),
        (status = 422, body = ErrorBody, description = "paid_amount below the total (`unprocessable`), or this Idempotency-Key already used for another cart (`idempotency_key_reused`)")))]
pub async fn checkout(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    IdempotencyKey(key): IdempotencyKey,
    Json(request): Json<CheckoutRequest>,
) -> ApiResult<Response> {
    let outcome = checkout::checkout(&state.shop, &user, request, key.as_deref()).await?;
    let mut response = (StatusCode::CREATED, axum::Json(outcome.sale)).into_response();
    if outcome.replayed {
        mark_replayed(&mut response);
    }
    Ok(response)
}

/// Prices a cart as a checkout would, without selling it: the till's running total,
/// change and any shortage, from the server's prices and rules.
#[utoipa::path(post, path = "/api/transactions/quote", tag = "transactions", security(("bearer" = [])),
    request_body = CheckoutRequest,
    responses((status = 200, body = Quote), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "Unknown SKU"),
        (status = 409, body = ErrorBody, description = "A deactivated product (`conflict`)")))]
pub async fn quote(
    State(state): State<AppState>,
    CurrentUser(_): CurrentUser,
    Json(request): Json<CheckoutRequest>,
) -> ApiResult<axum::Json<Quote>> {
    Ok(axum::Json(checkout::quote(&state.db, &request).await?))
}

#[utoipa::path(get, path = "/api/transactions", tag = "transactions", security(("bearer" = [])), params(SaleQuery),
    responses((status = 200, body = Page<SaleView>, description = "Cashiers see their own sales"),
        (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<SaleQuery>,
) -> ApiResult<axum::Json<Page<SaleView>>> {
    Ok(axum::Json(sales::list(&state.db, &user, query).await?))
}

#[utoipa::path(get, path = "/api/transactions/{transaction_id}", tag = "transactions", security(("bearer" = [])),
    params(("transaction_id" = i64, Path)), responses((status = 200, body = SaleView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<SaleView>> {
    Ok(axum::Json(sales::get(&state.db, &user, id).await?))
}

#[utoipa::path(get, path = "/api/transactions/export.csv", tag = "transactions", security(("bearer" = ["admin"])),
    params(ExportQuery), responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = ErrorBody)))]
pub async fn export_csv(
    State(state): State<AppState>,
    Admin(_): Admin,
    Query(query): Query<ExportQuery>,
) -> ApiResult<Response> {
    let csv = sales::export_csv(&state.db, query).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"transactions.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}
