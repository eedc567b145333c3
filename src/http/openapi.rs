//! The OpenAPI document's frame (title, security scheme). Its paths come from the routes
//! themselves: `super::router` declares each route once, with `utoipa_axum::routes!`.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "SIPREMS API", description = "Point of sale, stock ledger, forecasting and restock advice for a retail shop."),
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
pub fn render(document: &utoipa::openapi::OpenApi) -> axum::body::Bytes {
    axum::body::Bytes::from(serde_json::to_vec(document).expect("the OpenAPI document serializes"))
}
