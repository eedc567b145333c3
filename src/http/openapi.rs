//! The OpenAPI document's frame (title, security scheme, shared schemas) and the error
//! answers every operation can give. Its paths come from the routes themselves:
//! `super::router` declares each route once, with `utoipa_axum::routes!`, then calls
//! [`document_common_errors`] on the finished document.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use super::error::{ErrorBody, ErrorCode};

#[derive(OpenApi)]
#[openapi(
    info(title = "SIPREMS API", description = "Point of sale, stock ledger, forecasting and restock advice for a retail shop.\n\nEvery error answer is an `ErrorBody`: act on its `code`, not on the English `error` sentence. Operations secured with `bearer` and the role `admin` answer 403 to other roles."),
    components(schemas(ErrorBody, ErrorCode)),
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

/// Adds to every operation the error answers the layers around the handlers give, so the
/// document lists every status the server can return without 50 hand-kept lists:
///
/// * 400 (`bad_request`, `validation_failed`) where there is a parameter or a body to get wrong;
/// * 401 where a bearer token is required, 403 where the role `admin` is;
/// * 404 where the path names something that may not exist;
/// * 413 and 415 where a JSON body is read (the body limit, the content type);
/// * 429 on `/api/` routes (the rate limits; the login back-off), with `Retry-After`;
/// * 503 everywhere (the request timeout, the database down), with `Retry-After`.
///
/// An operation's own entry for a status wins: it usually says more.
pub fn document_common_errors(openapi: &mut utoipa::openapi::OpenApi) {
    for (path, item) in openapi.paths.paths.iter_mut() {
        for operation in operations(item) {
            add_common_errors(path, operation);
        }
    }
}

/// utoipa names an operation after its handler (`list`, `get`), which repeats across
/// modules; OpenAPI requires operationIds to be unique (generated clients key on them).
/// The tag is the handler's module, so `{tag}_{handler}` (`products_list`) is unique.
pub fn name_operations_uniquely(openapi: &mut utoipa::openapi::OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        for operation in operations(item) {
            let tag = operation
                .tags
                .as_ref()
                .and_then(|tags| tags.first())
                .cloned();
            if let (Some(tag), Some(id)) = (tag, operation.operation_id.as_mut()) {
                *id = format!("{tag}_{id}");
            }
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
        item.head.as_mut(),
        item.options.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

fn add_common_errors(path: &str, operation: &mut Operation) {
    let has_parameters = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let has_path_parameters = path.contains('{');
    let has_json_body = operation
        .request_body
        .as_ref()
        .is_some_and(|body| body.content.contains_key("application/json"));
    let requirements: Vec<serde_json::Value> = operation
        .security
        .iter()
        .flatten()
        .filter_map(|r| serde_json::to_value(r).ok())
        .collect();
    let secured = requirements
        .iter()
        .any(|r| r.as_object().is_some_and(|o| o.contains_key("bearer")));
    let admin_only = requirements.iter().any(|r| {
        r["bearer"]
            .as_array()
            .is_some_and(|roles| roles.iter().any(|x| x == "admin"))
    });

    let mut add = |status: &str, response: Response| {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert(RefOr::T(response));
    };
    if has_parameters || has_json_body {
        add(
            "400",
            error(
                "The request could not be read (malformed JSON, query, path or header: `bad_request`) or a value was refused (`validation_failed`)",
            ),
        );
    }
    if secured {
        add(
            "401",
            with_header(
                error("No valid access token (`unauthenticated`)"),
                "WWW-Authenticate",
                "`Bearer`",
                false,
            ),
        );
    }
    if admin_only {
        add("403", error("Signed in, but not an admin (`forbidden`)"));
    }
    if has_path_parameters {
        add("404", error("Nothing has this id (`not_found`)"));
    }
    if has_json_body {
        add(
            "413",
            error("The body is larger than the server accepts (`payload_too_large`)"),
        );
        add(
            "415",
            error("The body is not `application/json` (`unsupported_media_type`)"),
        );
    }
    if path.starts_with("/api/") {
        add(
            "429",
            with_header(
                error("Too many requests or login attempts (`rate_limited`)"),
                "Retry-After",
                "Seconds to wait",
                true,
            ),
        );
    }
    add(
        "503",
        with_header(
            error("The database is down or the request took too long (`unavailable`); retry later"),
            "Retry-After",
            "Seconds to wait",
            true,
        ),
    );
}

fn error(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

fn with_header(mut response: Response, name: &str, description: &str, integer: bool) -> Response {
    use utoipa::openapi::schema::{Object, Type};
    let schema = Object::with_type(if integer { Type::Integer } else { Type::String });
    response.headers.insert(
        name.to_owned(),
        HeaderBuilder::new()
            .schema(schema)
            .description(Some(description))
            .build(),
    );
    response
}

/// The document rendered once, when the router is built: it never changes at run time.
pub fn render(document: &utoipa::openapi::OpenApi) -> axum::body::Bytes {
    axum::body::Bytes::from(serde_json::to_vec(document).expect("the OpenAPI document serializes"))
}
