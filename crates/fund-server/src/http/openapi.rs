use utoipa::Modify;

use crate::service::ErrorCode;
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
            Operators sign in with a name, a password and the six-digit code of their \
            authenticator app (`POST /v1/operator/sessions`) and send the session token as \
            `Authorization: Bearer tfo_…`; what each role may do is decided by the server, and \
            every action is recorded in the operators' trail.\n\n\
            Every refusal lists its codes under its status; a body the server cannot read is \
            `body_invalid` or `query_invalid` (422), an oversized one `body_too_large` (413), \
            a wrong method `method_not_allowed` (405), an unknown address `not_found` (404)."
    ),
    components(schemas(super::ErrorBody, ErrorCode)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "system", description = "Health and self-description"),
        (name = "customer", description = "The customer's wallet"),
        (name = "counter", description = "Store counters (signed requests)"),
        (name = "operator", description = "The platform's staff: sign-in, accounts, the trail")
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components
            .add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        // An operator's session token (`tfo_…`, from `POST /v1/operator/sessions`).
        components.add_security_scheme(
            "operator_session",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        // The deployment's machine credential for monitoring (`TILLFUND_OPERATOR_TOKEN`).
        components.add_security_scheme(
            "monitoring_token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        components.add_security_scheme(
            "terminal_signature",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-tillfund-signature"))),
        );
    }
}

/// Makes every operation's refusals true to `ErrorCode`'s table: the codes its handler
/// names (in its annotation, under any status) plus the refusals that come from the
/// boundary rather than from the handler (authentication, unreadable input, limits, an
/// unavailable database), each listed under the status the table gives it. A handler's
/// annotation says which codes it can answer; the table alone says with which status.
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
                let mut codes = named_codes(operation);
                for code in common_refusals(operation) {
                    if !codes.contains(&code) {
                        codes.push(code);
                    }
                }
                list_by_status(operation, &codes);
            }
        }
    }
}

/// The codes an operation's annotation names in its refusals (4xx and 5xx), in order. A
/// name the table lacks is a typo: debug builds (every test) stop on it; a release build
/// leaves it out and logs it, so the document never names a code the server cannot answer.
fn named_codes(operation: &utoipa::openapi::path::Operation) -> Vec<ErrorCode> {
    use utoipa::openapi::RefOr;
    let mut codes = Vec::new();
    for (status, response) in &operation.responses.responses {
        let (Ok(status), RefOr::T(response)) = (status.parse::<u16>(), response) else {
            continue;
        };
        if status < 400 {
            continue;
        }
        for name in response.description.split(',').map(str::trim).filter(|name| !name.is_empty()) {
            match ErrorCode::parse(name) {
                Some(code) if !codes.contains(&code) => codes.push(code),
                Some(_) => {}
                None => tracing::error!(name, "an operation names a code the table lacks"),
            }
        }
    }
    codes
}

fn common_refusals(operation: &utoipa::openapi::path::Operation) -> Vec<ErrorCode> {
    let security = serde_json::to_value(&operation.security).unwrap_or_default().to_string();
    let signed = security.contains("terminal_signature");
    let bearer = security.contains("\"bearer\"");
    let parameters = operation.parameters.as_deref().unwrap_or_default();
    let has_query = parameters.iter().any(|parameter| {
        matches!(parameter.parameter_in, utoipa::openapi::path::ParameterIn::Query)
    });
    let idempotent = parameters.iter().any(|parameter| parameter.name == "Idempotency-Key");
    let mut refusals = vec![
        ErrorCode::RequestTimeout,
        ErrorCode::BodyTooLarge,
        ErrorCode::Internal,
        ErrorCode::StorageUnavailable,
        ErrorCode::ShuttingDown,
    ];
    // A signed request's body is read whatever its method: a GET with a body is refused.
    if operation.request_body.is_some() || signed {
        refusals.push(ErrorCode::BodyInvalid);
    }
    if has_query {
        refusals.push(ErrorCode::QueryInvalid);
    }
    if idempotent {
        refusals.push(ErrorCode::IdempotencyKeyMissing);
    }
    if signed {
        refusals.extend([
            ErrorCode::SignatureMissing,
            ErrorCode::SignatureInvalid,
            ErrorCode::ClockSkew,
            ErrorCode::RequestReplayed,
            ErrorCode::TerminalUnknown,
            ErrorCode::TerminalRevoked,
        ]);
    }
    if bearer && !signed {
        refusals.extend([ErrorCode::SessionMissing, ErrorCode::SessionInvalid]);
    }
    if security.contains("\"operator_session\"") {
        refusals.push(ErrorCode::OperatorSessionInvalid);
    }
    refusals
}

/// Replaces the operation's refusals by `codes` grouped under the table's statuses, each
/// with the `ErrorBody` schema.
fn list_by_status(operation: &mut utoipa::openapi::path::Operation, codes: &[ErrorCode]) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let responses = &mut operation.responses.responses;
    responses.retain(|status, _| status.parse::<u16>().is_ok_and(|status| status < 400));
    let mut by_status: std::collections::BTreeMap<u16, Vec<&str>> = Default::default();
    for code in codes {
        by_status.entry(code.http_status()).or_default().push(code.as_str());
    }
    for (status, names) in by_status {
        let response = ResponseBuilder::new()
            .description(names.join(", "))
            .content(
                "application/json",
                ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build(),
            )
            .build();
        responses.insert(status.to_string(), RefOr::T(response));
    }
}
