use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::AppState;
use crate::domain::products::{
    self, Audience, LookupQuery, NewProduct, Page, ProductQuery, ProductStats, ProductUpdate,
    ProductView, Removal,
};
use crate::domain::sku::Sku;
use crate::domain::stock::{self, LedgerEntryView, StockChange};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Admin, CurrentUser, IdempotencyKey, Json, Path, Query, mark_replayed};
use crate::infra::cache::{CachedJson, Namespace};

#[utoipa::path(get, path = "/api/products", tag = "products", security(("bearer" = [])), params(ProductQuery),
    responses((status = 200, body = Page<ProductView>), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<ProductQuery>,
) -> ApiResult<CachedJson> {
    let audience = Audience::of(&user);
    let filter = query.normalise()?;
    Ok(state
        .cache
        .get_or_compute(
            Namespace::ProductList,
            audience,
            &filter.cache_key(),
            products::list(&state.db, filter, audience),
        )
        .await?)
}

#[utoipa::path(post, path = "/api/products", tag = "products", security(("bearer" = ["admin"])), request_body = NewProduct,
    responses((status = 201, body = ProductView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Json(input): Json<NewProduct>,
) -> ApiResult<(StatusCode, axum::Json<ProductView>)> {
    let product = products::create(&state.shop, &admin, input).await?;
    Ok((StatusCode::CREATED, axum::Json(product)))
}

#[utoipa::path(get, path = "/api/products/stats", tag = "products", security(("bearer" = [])),
    responses((status = 200, body = ProductStats)))]
pub async fn stats(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<CachedJson> {
    let audience = Audience::of(&user);
    Ok(state
        .cache
        .get_or_compute(
            Namespace::ProductStats,
            audience,
            "all",
            products::stats(&state.db, audience),
        )
        .await?)
}

/// The till's scan: a barcode (EAN-13 or UPC-A) first, then a SKU.
#[utoipa::path(get, path = "/api/products/lookup", tag = "products", security(("bearer" = [])),
    params(LookupQuery),
    responses((status = 200, body = ProductView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn lookup(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<LookupQuery>,
) -> ApiResult<axum::Json<ProductView>> {
    let product = products::lookup(&state.db, &query.code, Audience::of(&user)).await?;
    Ok(axum::Json(product))
}

#[utoipa::path(get, path = "/api/products/{sku}", tag = "products", security(("bearer" = [])),
    params(("sku" = Sku, Path)), responses((status = 200, body = ProductView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(sku): Path<Sku>,
) -> ApiResult<CachedJson> {
    let audience = Audience::of(&user);
    Ok(state
        .cache
        .get_or_compute(
            Namespace::ProductInfo,
            audience,
            sku.as_str(),
            products::get(&state.db, &sku, audience),
        )
        .await?)
}

#[utoipa::path(put, path = "/api/products/{sku}", tag = "products", security(("bearer" = ["admin"])),
    params(("sku" = Sku, Path)), request_body = ProductUpdate,
    responses((status = 200, body = ProductView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Admin(_): Admin,
    Path(sku): Path<Sku>,
    Json(input): Json<ProductUpdate>,
) -> ApiResult<axum::Json<ProductView>> {
    let product = products::update(&state.shop, &sku, input).await?;
    Ok(axum::Json(product))
}

#[utoipa::path(delete, path = "/api/products/{sku}", tag = "products", security(("bearer" = ["admin"])),
    params(("sku" = Sku, Path)), responses((status = 200, body = Removal), (status = 404, body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    Admin(_): Admin,
    Path(sku): Path<Sku>,
) -> ApiResult<axum::Json<Removal>> {
    let removal = products::remove(&state.shop, &sku).await?;
    Ok(axum::Json(removal))
}

#[utoipa::path(post, path = "/api/products/{sku}/stock", tag = "products", security(("bearer" = ["admin"])),
    params(("sku" = Sku, Path),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]+$",
        description = "1 to 255 visible ASCII characters. A retry with the same key changes stock once and returns the first answer (header Idempotent-Replayed: true); the same key with another change is a 422 (`idempotency_key_reused`)")),
    request_body = StockChange,
    responses((status = 200, body = ProductView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "This Idempotency-Key was used for another change (`idempotency_key_reused`)")))]
pub async fn change_stock(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(sku): Path<Sku>,
    IdempotencyKey(key): IdempotencyKey,
    Json(input): Json<StockChange>,
) -> ApiResult<Response> {
    let outcome = stock::change_stock(&state.shop, &admin, &sku, input, key.as_deref()).await?;
    let mut response = axum::Json(outcome.product).into_response();
    if outcome.replayed {
        mark_replayed(&mut response);
    }
    Ok(response)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LedgerQuery {
    #[param(schema_with = crate::domain::schema::limit)]
    pub limit: Option<i64>,
    #[param(schema_with = crate::domain::schema::offset)]
    pub offset: Option<i64>,
}

#[utoipa::path(get, path = "/api/products/{sku}/stock", tag = "products", security(("bearer" = ["admin"])),
    params(("sku" = Sku, Path), LedgerQuery),
    responses((status = 200, body = Page<LedgerEntryView>, description = "Newest first"), (status = 404, body = ErrorBody)))]
pub async fn ledger(
    State(state): State<AppState>,
    Admin(_): Admin,
    Path(sku): Path<Sku>,
    Query(query): Query<LedgerQuery>,
) -> ApiResult<axum::Json<Page<LedgerEntryView>>> {
    Ok(axum::Json(
        stock::ledger(&state.db, &sku, query.limit, query.offset).await?,
    ))
}
