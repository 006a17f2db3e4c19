//! Extractors that parse and authenticate at the boundary, answering `{code, message}`
//! when they refuse.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use tillfund_core::signing::{
    IDEMPOTENCY_KEY_HEADER, NONCE_HEADER, SIGNATURE_HEADER, TERMINAL_HEADER, TIMESTAMP_HEADER,
};

use super::{ApiError, AppState, REQUEST_BODY_BYTES_MAX};
use crate::model::Customer;
use crate::service::ErrorCode;
use crate::service::{AuthenticatedTerminal, SignedRequest};

const IDEMPOTENCY_KEY_LENGTH_MAX: usize = 100;

fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|error| {
        let text = error.to_string();
        // A number too big for an integer field is read as a float by the parser, whose
        // words ("floating point `1e+20`") mean nothing to whoever typed 20 digits.
        let message = if error.classify() == serde_json::error::Category::Data
            && (text.contains("floating point") || text.contains("invalid value: integer"))
        {
            format!(
                "The request body is not valid at line {} column {}: a number there is not a \
                 whole number in range (amounts are whole minor units, at most {}).",
                error.line(),
                error.column(),
                i64::MAX
            )
        } else {
            format!("The request body is not valid: {text}.")
        };
        ApiError::new(ErrorCode::BodyInvalid, message)
    })
}

async fn read_body(request: Request) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(request.into_body(), REQUEST_BODY_BYTES_MAX).await.map_err(|_| {
        ApiError::new(
            ErrorCode::BodyTooLarge,
            format!("A request body is at most {REQUEST_BODY_BYTES_MAX} bytes."),
        )
    })
}

/// A JSON body whose parse errors answer `body_invalid`.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &AppState) -> Result<Self, ApiError> {
        let body = read_body(request).await?;
        Ok(ApiJson(parse_json(&body)?))
    }
}

/// A JSON body that may be left out (empty): then `T::default()`.
pub struct ApiJsonOrDefault<T>(pub T);

impl<T: DeserializeOwned + Default> FromRequest<AppState> for ApiJsonOrDefault<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &AppState) -> Result<Self, ApiError> {
        let body = read_body(request).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(ApiJsonOrDefault(T::default()));
        }
        Ok(ApiJsonOrDefault(parse_json(&body)?))
    }
}

/// A counter request whose signature was checked, with its JSON body (`()` for none).
pub struct Signed<T> {
    pub terminal: AuthenticatedTerminal,
    pub body: T,
}

impl<T: DeserializeOwned> FromRequest<AppState> for Signed<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let [terminal_id, timestamp, nonce, signature, idempotency_key, app_version] = [
            TERMINAL_HEADER,
            TIMESTAMP_HEADER,
            NONCE_HEADER,
            SIGNATURE_HEADER,
            IDEMPOTENCY_KEY_HEADER,
            tillfund_core::protocol::APP_VERSION_HEADER,
        ]
        .map(|name| {
            let value = request.headers().get(name).and_then(|value| value.to_str().ok());
            value.unwrap_or("").to_owned()
        });
        let method = request.method().as_str().to_owned();
        let path_and_query = request
            .uri()
            .path_and_query()
            .map(|value| value.as_str().to_owned())
            .unwrap_or_default();
        let body = read_body(request).await?;
        let terminal = state
            .service()
            .authenticate_terminal(SignedRequest {
                terminal_id: &terminal_id,
                timestamp_ms: &timestamp,
                nonce: &nonce,
                signature: &signature,
                // Signed as sent; `IdempotencyKey` trims it, so a padded key is refused
                // there rather than signed one way and used another.
                idempotency_key: &idempotency_key,
                method: &method,
                path_and_query: &path_and_query,
                body: &body,
                app_version: &app_version,
            })
            .await?;
        let body = if body.is_empty() { parse_json(b"null")? } else { parse_json(&body)? };
        Ok(Signed { terminal, body })
    }
}

/// The signed-in customer behind `Authorization: Bearer <token>`.
pub struct CustomerSession(pub Customer);

impl FromRequestParts<AppState> for CustomerSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::SessionMissing,
                    "Sign in first: send the session token as 'Authorization: Bearer <token>'.",
                )
            })?;
        Ok(CustomerSession(state.service().session_customer(token.trim()).await?))
    }
}

/// The `Idempotency-Key` header, required on money writes.
pub struct IdempotencyKey(pub String);

impl FromRequestParts<AppState> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, ApiError> {
        let key = parts
            .headers
            .get(IDEMPOTENCY_KEY_HEADER)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        let valid = !key.is_empty()
            && key.len() <= IDEMPOTENCY_KEY_LENGTH_MAX
            && key.bytes().all(|byte| byte.is_ascii_graphic());
        if !valid {
            return Err(ApiError::new(
                ErrorCode::IdempotencyKeyMissing,
                format!(
                    "This write needs an Idempotency-Key header: 1 to {IDEMPOTENCY_KEY_LENGTH_MAX} \
                     visible ASCII characters, the same on every retry."
                ),
            ));
        }
        Ok(IdempotencyKey(key.to_owned()))
    }
}

/// The address the request came from (the peer of the connection), for rate limits.
pub struct ClientAddress(pub std::net::IpAddr);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, ApiError> {
        Ok(ClientAddress(super::web::security::client_ip(&parts.extensions)))
    }
}

/// Query parameters whose parse errors answer `query_invalid` as `{code, message}`.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequestParts<AppState> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, ApiError> {
        axum::extract::Query::try_from_uri(&parts.uri).map(|query| ApiQuery(query.0)).map_err(
            |error| {
                ApiError::new(
                    ErrorCode::QueryInvalid,
                    format!("The query string is not valid: {}.", error.body_text()),
                )
            },
        )
    }
}

/// The answer to a client over one of its rate limits.
pub fn too_many_attempts() -> ApiError {
    ApiError::new(
        ErrorCode::TooManyAttempts,
        "Too many attempts from here; wait a minute and try again.",
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_number_out_of_range_is_named_as_such_not_as_a_float() {
        #[derive(Debug, serde::Deserialize)]
        struct Body {
            #[allow(dead_code)]
            amount: i64,
        }
        let error = super::parse_json::<Body>(br#"{"amount": 100000000000000000000}"#).unwrap_err();
        assert!(error.message.contains("not a whole number in range"), "{}", error.message);
        assert!(!error.message.contains("floating point"), "{}", error.message);
        let error = super::parse_json::<Body>(br#"{"amount": 1.5}"#).unwrap_err();
        assert!(error.message.contains("not a whole number in range"), "{}", error.message);
    }
}
