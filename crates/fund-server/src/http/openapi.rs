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
            `x-tillfund-timestamp` (ms since the epoch, within 5 minutes of the server), \
            `x-tillfund-nonce` (32 lowercase hex characters, random per request; each is \
            accepted once) and `x-tillfund-signature`, the hex HMAC-SHA256 with the terminal \
            key of `TILLFUND-HMAC-SHA256-V2\\n{METHOD}\\n{path?query}\\n{terminal id}\\n\
            {timestamp}\\n{nonce}\\n{Idempotency-Key or empty}\\n{hex sha256(body)}`. The \
            terminal key comes from the X25519 key agreement of `POST /v1/terminals/enrol` \
            and is never sent.\n\n\
            Every refusal lists its codes under its status; a body the server cannot read is \
            `body_invalid` or `query_invalid` (422), an oversized one `body_too_large` (413), \
            a wrong method `method_not_allowed` (405), an unknown address `not_found` (404)."
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

/// Adds to every operation the refusals that come from the boundary rather than from its
/// handler (authentication, unreadable input, limits, an unavailable database), so that
/// each operation lists every code it can answer with. Codes already listed stay as they are.
/// Applied once the routes are registered (see `http::api`), since the paths come from them.
pub struct CommonRefusals;

impl Modify for CommonRefusals {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for path_item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut path_item.get,
                &mut path_item.put,
                &mut path_item.post,
                &mut path_item.delete,
                &mut path_item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                for (status, codes) in common_refusals(operation) {
                    add_codes(operation, status, &codes);
                }
            }
        }
    }
}

fn common_refusals(
    operation: &utoipa::openapi::path::Operation,
) -> Vec<(&'static str, Vec<&'static str>)> {
    let security = serde_json::to_value(&operation.security).unwrap_or_default().to_string();
    let signed = security.contains("terminal_signature");
    let bearer = security.contains("\"bearer\"");
    let parameters = operation.parameters.as_deref().unwrap_or_default();
    let has_query = parameters.iter().any(|parameter| {
        matches!(parameter.parameter_in, utoipa::openapi::path::ParameterIn::Query)
    });
    let idempotent = parameters.iter().any(|parameter| parameter.name == "Idempotency-Key");
    let mut refusals = vec![
        ("408", vec!["request_timeout"]),
        ("413", vec!["body_too_large"]),
        ("500", vec!["internal"]),
        ("503", vec!["storage_unavailable", "shutting_down"]),
    ];
    let mut invalid = Vec::new();
    // A signed request's body is read whatever its method: a GET with a body is refused.
    if operation.request_body.is_some() || signed {
        invalid.push("body_invalid");
    }
    if has_query {
        invalid.push("query_invalid");
    }
    if !invalid.is_empty() {
        refusals.push(("422", invalid));
    }
    if idempotent {
        refusals.push(("400", vec!["idempotency_key_missing"]));
    }
    if signed {
        refusals.push((
            "401",
            vec![
                "signature_missing",
                "signature_invalid",
                "clock_skew",
                "request_replayed",
                "terminal_unknown",
            ],
        ));
        refusals.push(("403", vec!["terminal_revoked"]));
    }
    if bearer && !security.contains("terminal_signature") {
        refusals.push(("401", vec!["session_missing", "session_invalid"]));
    }
    refusals
}

fn add_codes(operation: &mut utoipa::openapi::path::Operation, status: &str, codes: &[&str]) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let responses = &mut operation.responses.responses;
    match responses.get_mut(status) {
        Some(RefOr::T(response)) => {
            let mut listed: Vec<String> = response
                .description
                .split(',')
                .map(|code| code.trim().to_owned())
                .filter(|code| !code.is_empty())
                .collect();
            for code in codes {
                if !listed.iter().any(|existing| existing == code) {
                    listed.push((*code).to_owned());
                }
            }
            response.description = listed.join(", ");
            if response.content.is_empty() {
                response.content.insert(
                    "application/json".to_owned(),
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build(),
                );
            }
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            let response = ResponseBuilder::new()
                .description(codes.join(", "))
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build(),
                )
                .build();
            responses.insert(status.to_owned(), RefOr::T(response));
        }
    }
}
