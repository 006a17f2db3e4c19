//! The HTTP face of the server: the JSON API for counters, customers and operators
//! (`operators.rs`: sign-in, sessions, accounts, the trail; `trail_export.rs` its CSV), the
//! OpenAPI document, and the customer wallet pages. Handlers are thin: parse, call, map the error.

mod console;
mod customers;
mod extract;
mod health;
mod html;
mod openapi;
mod operator_audit;
mod operator_customers;
mod operator_merchants;
mod operator_rules;
mod operator_settlements;
mod operators;
mod proposals;
mod redemptions;
mod store_staff;
mod terminals;
mod trail_export;
mod wallet;
mod web;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::service::{ErrorCode, FundService, ServiceError};

pub use openapi::ApiDoc;
pub use web::WebLimits;

/// Largest request body accepted; a push of the largest outbox batch fits well inside.
pub const REQUEST_BODY_BYTES_MAX: usize = 256 * 1024;
/// A request that takes longer than this is answered 408 and its work abandoned.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone)]
pub struct AppState {
    inner: Arc<AppStateInner>,
}

struct AppStateInner {
    service: FundService,
    web_limits: web::WebLimits,
}

impl AppState {
    pub fn new(service: FundService) -> AppState {
        AppState::with_limits(service, web::WebLimits::default())
    }

    pub fn with_limits(service: FundService, web_limits: web::WebLimits) -> AppState {
        AppState { inner: Arc::new(AppStateInner { service, web_limits }) }
    }

    pub fn service(&self) -> &FundService {
        &self.inner.service
    }

    pub fn web_limits(&self) -> &web::WebLimits {
        &self.inner.web_limits
    }

    /// Counts an attempt under `limit` for `what`: `too_many_attempts` once its window is
    /// used up.
    pub async fn count_attempt(
        &self,
        limit: &crate::service::AttemptLimit,
        what: &str,
    ) -> Result<(), ApiError> {
        if self.service().allow_attempt(limit, what).await? {
            Ok(())
        } else {
            Err(extract::too_many_attempts())
        }
    }

    pub fn currency(&self) -> tillfund_core::Currency {
        self.inner.service.config().policy.currency
    }
}

/// The JSON API. Each route is registered together with its OpenAPI description, so the
/// document at `/openapi.json` is generated from exactly the routes that exist.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::operator_status))
        .routes(routes!(operators::sign_in, operators::sign_out_everywhere))
        .routes(routes!(operators::sign_out))
        .routes(routes!(operators::me))
        .routes(routes!(operators::change_password))
        .routes(routes!(operators::list_operators, operators::add_operator))
        .routes(routes!(operators::disable_operator))
        .routes(routes!(operators::enable_operator))
        .routes(routes!(operators::reset_second_factor))
        .routes(routes!(operators::trail))
        .routes(routes!(trail_export::trail_csv))
        .routes(routes!(proposals::propose, proposals::list))
        .routes(routes!(proposals::read))
        .routes(routes!(proposals::approve))
        .routes(routes!(proposals::reject))
        .routes(routes!(proposals::withdraw))
        .routes(routes!(operator_customers::search))
        .routes(routes!(operator_customers::dossier))
        .routes(routes!(operator_merchants::list, operator_merchants::add))
        .routes(routes!(operator_merchants::issue_code))
        .routes(routes!(operator_merchants::cancel_code))
        .routes(routes!(operator_settlements::days))
        .routes(routes!(operator_settlements::days_csv))
        .routes(routes!(operator_settlements::dashboard))
        .routes(routes!(operator_audit::run))
        .routes(routes!(operator_rules::rules))
        .routes(routes!(customers::list_merchants))
        .routes(routes!(customers::register))
        .routes(routes!(customers::sign_in))
        .routes(routes!(customers::wallet))
        .routes(routes!(customers::bind_store, customers::unbind_store))
        .routes(routes!(customers::pay))
        .routes(routes!(terminals::enrol))
        .routes(routes!(terminals::push))
        .routes(routes!(terminals::binding_changes))
        .routes(routes!(terminals::bonus_rules))
        .routes(routes!(terminals::paid_orders))
        .routes(routes!(terminals::refund))
        .routes(routes!(terminals::reverse_top_up))
        .routes(routes!(terminals::settlement))
        .routes(routes!(terminals::close_day))
        .routes(routes!(redemptions::issue_code))
        .routes(routes!(redemptions::redeem))
        .routes(routes!(store_staff::put_staff))
        .routes(routes!(store_staff::staff_changes))
}

/// The JSON API's router and its OpenAPI document, completed with the refusals every
/// operation shares.
fn api() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut openapi) = api_routes().split_for_parts();
    utoipa::Modify::modify(&openapi::CommonRefusals, &mut openapi);
    (router, openapi)
}

/// The OpenAPI document of the JSON API.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    api().1
}

/// Serves `router` on `listener` until `shutdown` completes; the peer address of each
/// connection feeds the rate limits.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

pub fn app(state: AppState) -> Router {
    let (api_router, openapi) = api();
    // Serialised once: the document only changes with the code.
    let openapi_json = Bytes::from(openapi.to_pretty_json().unwrap_or_else(|error| {
        tracing::error!(%error, "cannot serialise the OpenAPI document");
        String::from("{}")
    }));
    api_router
        .route(
            "/openapi.json",
            get(move || async move { ([(CONTENT_TYPE, "application/json")], openapi_json) }),
        )
        .route("/", get(wallet::start_page))
        .merge(web::routes())
        .merge(console::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(REQUEST_BODY_BYTES_MAX))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        // Outermost but for tracing, so that it also sees the answers of the layers above.
        .layer(axum::middleware::map_response(harden_response))
        .layer(TraceLayer::new_for_http())
}

/// Every error the API returns: a stable `code` that clients match on (its HTTP status comes
/// from `ErrorCode`'s table) and a `message` for people. Internal details are logged, never
/// sent.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    message: String,
}

pub use tillfund_core::protocol::ErrorBody;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError { code, message: message.into() }
    }

    pub fn internal(error: impl std::fmt::Display) -> ApiError {
        tracing::error!(%error, "internal error");
        ApiError::new(
            ErrorCode::Internal,
            "The server could not complete the request; it has been logged.",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { code: self.code.as_str().to_owned(), message: self.message };
        (status_of(self.code), axum::Json(body)).into_response()
    }
}

/// The HTTP status of a code, for the API and the wallet pages alike.
pub(crate) fn status_of(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> ApiError {
        ApiError { code: error.code, message: error.message }
    }
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "There is nothing at this address.")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "This address does not take this method; see /openapi.json.",
    )
}

/// Every answer leaves here in one of two shapes: an HTML page with the pages' security
/// headers, or JSON. Refusals made by layers and extractors that know nothing of our error
/// type (body too large, timeout, a malformed header or query) are plain text when they
/// arise; they are rewritten as `{code, message}` with a stable code.
async fn harden_response(mut response: Response) -> Response {
    use axum::http::HeaderValue;
    use axum::http::header::{CONTENT_SECURITY_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let status = response.status();
    if (status.is_client_error() || status.is_server_error())
        && !content_type.starts_with("application/json")
        && !content_type.starts_with("text/html")
    {
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::BodyTooLarge,
            StatusCode::REQUEST_TIMEOUT => ErrorCode::RequestTimeout,
            StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::ContentTypeUnsupported,
            status if status.is_server_error() => ErrorCode::Internal,
            _ => ErrorCode::RequestInvalid,
        };
        tracing::debug!(%status, %code, "plain refusal rewritten as JSON");
        let headers = std::mem::take(response.headers_mut());
        response = ApiError::new(code, code.english()).into_response();
        for name in [axum::http::header::ALLOW, axum::http::header::RETRY_AFTER] {
            if let Some(value) = headers.get(&name) {
                response.headers_mut().insert(name, value.clone());
            }
        }
    }
    let headers = response.headers_mut();
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        // The refused body was not read to its end, so this connection cannot carry another
        // request. Saying so stops a client from sending its next request on a connection
        // the server is about to close (it would fail as an incomplete message).
        headers.insert(axum::http::header::CONNECTION, HeaderValue::from_static("close"));
    }
    let permissions = axum::http::HeaderName::from_static("permissions-policy");
    if content_type.starts_with("text/html") && !headers.contains_key(&permissions) {
        // No page but the Listen page (which says so itself) may use the microphone, the
        // camera or the location: the console's and any page a layer made included.
        headers.insert(permissions, HeaderValue::from_static(web::page::NO_DEVICES_POLICY));
    }
    if content_type.starts_with("text/html") && !headers.contains_key(CONTENT_SECURITY_POLICY) {
        headers
            .insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(web::page::CONTENT_POLICY));
        headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            axum::http::HeaderName::from_static("referrer-policy"),
            HeaderValue::from_static("no-referrer"),
        );
    }
    response
}
