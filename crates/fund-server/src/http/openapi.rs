use axum::Json;

/// The API description, generated from the handlers' annotations so it cannot drift from
/// the code. Every JSON route must be listed in `paths` (a test checks the router).
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Tillfund fund server", description = "Ledger, counter sync and wallet API."),
    paths(super::health::healthz, openapi_json),
    components(schemas(super::ErrorBody)),
    tags((name = "system", description = "Health and self-description"))
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "system",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json"))
)]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(<ApiDoc as utoipa::OpenApi>::openapi())
}
