/// The parts of the API description that no handler carries: title, tags, shared schemas.
/// Paths are added by `api_routes` as the routes are registered.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Tillfund fund server",
        license(name = "Proprietary"),
        description = "Ledger, counter sync and customer wallet API. Errors are `ErrorBody`: \
                       a stable `code` to match on and a `message` for people."
    ),
    components(schemas(super::ErrorBody)),
    tags((name = "system", description = "Health and self-description"))
)]
pub struct ApiDoc;
