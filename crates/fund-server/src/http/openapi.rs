use utoipa::Modify;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};

/// The parts of the API description that no handler carries: title, tags, shared schemas,
/// security schemes. Paths are added by `api_routes` as the routes are registered.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Tillfund fund server",
        license(name = "Proprietary"),
        description = "Ledger, counter sync and customer wallet API.\n\n\
            Amounts are integers of the currency's minor unit (fen for CNY). Errors are \
            `ErrorBody`: a stable `code` to match on and a `message` for people. Money writes \
            take an `Idempotency-Key` header: the same key with the same request returns the \
            first answer; with another request it is refused with `idempotency_key_reused`.\n\n\
            Counter requests are signed: headers `x-tillfund-terminal` (terminal id), \
            `x-tillfund-timestamp` (ms since the epoch, within 5 minutes of the server) and \
            `x-tillfund-signature`, the hex HMAC-SHA256 with the terminal key of \
            `TILLFUND-HMAC-SHA256\\n{METHOD}\\n{path?query}\\n{timestamp}\\n{hex sha256(body)}`."
    ),
    components(schemas(super::ErrorBody)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "system", description = "Health and self-description"),
        (name = "customer", description = "The customer's wallet"),
        (name = "counter", description = "Store counters (signed requests)")
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components
            .add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        components.add_security_scheme(
            "terminal_signature",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-tillfund-signature"))),
        );
    }
}
