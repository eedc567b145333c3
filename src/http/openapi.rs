//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::routes::{
    auth, categories, dashboard, events, operations, predictions, products, settings, transactions,
    users,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "SIPREMS API", description = "Point of sale, stock ledger, forecasting and restock advice for a retail shop."),
    paths(
        auth::register, auth::login, auth::refresh, auth::logout, auth::profile, auth::update_profile,
        auth::change_password,
        users::list, users::change_role, users::change_status,
        products::list, products::create, products::stats, products::get, products::update, products::remove,
        products::change_stock, products::ledger,
        categories::list, categories::create, categories::update, categories::remove,
        transactions::checkout, transactions::list, transactions::get, transactions::export_csv,
        events::list, events::create, events::get, events::update, events::remove,
        predictions::predict, predictions::predict_async, predictions::predict_task, predictions::recommendations,
        predictions::model_versions, predictions::train_product, predictions::train_all, predictions::task, predictions::active,
        predictions::scheduled, predictions::cancel,
        dashboard::stats,
        settings::get, settings::update, settings::status,
        operations::health, operations::ready, operations::metrics, operations::cache_stats,
    ),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The document rendered once, when the router is built: it never changes at run time.
pub fn rendered() -> axum::body::Bytes {
    axum::body::Bytes::from(
        serde_json::to_vec(&ApiDoc::openapi()).expect("the OpenAPI document serializes"),
    )
}
