//! The customer's JSON API: stores, sign-up, sign-in, wallet, bindings, payment.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use tillfund_core::protocol::{
    CustomerBody, MerchantBody, PayRequest, PaymentBody, RegisterRequest, SessionBody,
    SignInRequest, WalletBody,
};
use tillfund_core::{DisplayName, MerchantId, PaymentPin, PhoneNumber};

use super::extract::{ApiJson, ClientAddress, CustomerSession, IdempotencyKey};
use super::web::phone_limit_key;
use super::{ApiError, AppState, ErrorBody};
use crate::ledger::Outcome;
use crate::model::Merchant;
use crate::service::ErrorCode;
use crate::service::{CustomerView, ServiceError};

/// Most stores listed by `GET /v1/merchants`.
const MERCHANTS_LISTED_MAX: u32 = 500;

impl From<&Merchant> for MerchantBody {
    fn from(merchant: &Merchant) -> MerchantBody {
        MerchantBody {
            merchant_id: merchant.id,
            name: merchant.name.clone(),
            time_zone: merchant.time_zone.clone(),
        }
    }
}

impl From<&CustomerView> for CustomerBody {
    fn from(customer: &CustomerView) -> CustomerBody {
        CustomerBody {
            customer_id: customer.customer_id,
            phone: customer.phone.to_string(),
            display_name: customer.display_name.clone(),
            member_code: customer.member_code.to_string(),
        }
    }
}

fn invalid(code: ErrorCode, message: String) -> ApiError {
    ApiError::from(ServiceError::new(code, message))
}

pub(super) fn parse_merchant_id(text: &str) -> Result<MerchantId, ApiError> {
    text.parse().map_err(|error: tillfund_core::InvalidId| {
        invalid(ErrorCode::MerchantIdInvalid, error.to_string())
    })
}

pub(super) fn parse_pin(text: &str) -> Result<PaymentPin, ApiError> {
    PaymentPin::parse(text).map_err(|error| invalid(error.code(), error.to_string()))
}

/// The partner stores, for choosing at sign-up.
#[utoipa::path(
    get, path = "/v1/merchants", tag = "customer",
    responses((status = 200, body = Vec<MerchantBody>))
)]
pub async fn list_merchants(
    State(state): State<AppState>,
) -> Result<Json<Vec<MerchantBody>>, ApiError> {
    let merchants = state.service().merchants(MERCHANTS_LISTED_MAX).await?;
    Ok(Json(merchants.iter().map(MerchantBody::from).collect()))
}

/// Opens a wallet. A retry with the same `Idempotency-Key` and request answers the first
/// sign-up; the phone number is unique across wallets.
#[utoipa::path(
    post, path = "/v1/customers", tag = "customer",
    request_body = RegisterRequest,
    params(("Idempotency-Key" = String, Header)),
    responses(
        (status = 201, body = CustomerBody),
        (status = 409, description = "phone_taken, idempotency_key_reused", body = ErrorBody),
        (status = 422, description = "phone_invalid, display_name_invalid, pin_invalid, merchant_id_invalid, merchant_unknown, too_many_stores", body = ErrorBody),
        (status = 429, description = "too_many_attempts", body = ErrorBody)
    )
)]
pub async fn register(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> Result<(StatusCode, Json<CustomerBody>), ApiError> {
    // Sign-ups count with sign-ins: the same per-address limit as the pages.
    state.count_attempt(&state.web_limits().sign_in_by_address, &address.to_string()).await?;
    let phone = PhoneNumber::parse(&request.phone)
        .map_err(|error| invalid(error.code(), error.to_string()))?;
    let display_name = DisplayName::parse(&request.display_name)
        .map_err(|error| invalid(error.code(), error.to_string()))?;
    let pin = parse_pin(&request.pin)?;
    let merchant_ids = request
        .merchant_ids
        .iter()
        .map(|id| parse_merchant_id(id))
        .collect::<Result<Vec<_>, _>>()?;
    let customer =
        state.service().register_customer(phone, display_name, pin, merchant_ids, &key).await?;
    Ok((StatusCode::CREATED, Json(CustomerBody::from(&customer))))
}

/// Phone and PIN for a session token. Five wrong PINs in a row lock the wallet for a while.
#[utoipa::path(
    post, path = "/v1/sessions", tag = "customer",
    request_body = SignInRequest,
    responses(
        (status = 200, body = SessionBody),
        (status = 401, description = "sign_in_failed", body = ErrorBody),
        (status = 422, description = "body_invalid, phone_invalid, pin_invalid", body = ErrorBody),
        (status = 423, description = "wallet_locked", body = ErrorBody),
        (status = 429, description = "too_many_attempts", body = ErrorBody)
    )
)]
pub async fn sign_in(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ApiJson(request): ApiJson<SignInRequest>,
) -> Result<Json<SessionBody>, ApiError> {
    let limits = state.web_limits();
    state.count_attempt(&limits.sign_in_by_address, &address.to_string()).await?;
    state.count_attempt(&limits.sign_in_by_phone, &phone_limit_key(&request.phone)).await?;
    let phone = PhoneNumber::parse(&request.phone)
        .map_err(|error| invalid(error.code(), error.to_string()))?;
    let pin = parse_pin(&request.pin)?;
    let (token, customer) = state.service().sign_in(&phone, pin).await?;
    Ok(Json(SessionBody { token, customer: CustomerBody::from(&customer) }))
}

/// The signed-in customer's balance, split into principal, bonus and yield.
#[utoipa::path(
    get, path = "/v1/wallet", tag = "customer",
    responses((status = 200, body = WalletBody), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn wallet(
    State(state): State<AppState>,
    CustomerSession(customer): CustomerSession,
) -> Result<Json<WalletBody>, ApiError> {
    let wallet = state.service().wallet(&customer).await?;
    Ok(Json(wallet_body(state.currency(), &wallet)))
}

/// A wallet as the API shows it, to its customer and to operators.
pub(super) fn wallet_body(
    currency: tillfund_core::Currency,
    wallet: &crate::service::WalletSummary,
) -> WalletBody {
    WalletBody {
        customer: CustomerBody::from(&wallet.customer),
        currency: currency.code().to_owned(),
        principal: wallet.principal.minor_units(),
        bonus: wallet.bonus.minor_units(),
        yield_earned: wallet.yield_earned.minor_units(),
        total: wallet.total.minor_units(),
        stores: wallet.bound_merchants.iter().map(MerchantBody::from).collect(),
    }
}

/// Binds the wallet to a store (idempotent: binding twice is the same as once).
#[utoipa::path(
    put, path = "/v1/wallet/stores/{merchant_id}", tag = "customer",
    params(("merchant_id" = String, Path)),
    responses(
        (status = 204),
        (status = 404, description = "merchant_unknown", body = ErrorBody),
        (status = 422, description = "merchant_id_invalid", body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn bind_store(
    State(state): State<AppState>,
    CustomerSession(customer): CustomerSession,
    Path(merchant_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let merchant_id = parse_merchant_id(&merchant_id)?;
    state.service().set_binding(&customer, merchant_id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unbinds the wallet from a store (idempotent).
#[utoipa::path(
    delete, path = "/v1/wallet/stores/{merchant_id}", tag = "customer",
    params(("merchant_id" = String, Path)),
    responses(
        (status = 204),
        (status = 404, description = "merchant_unknown", body = ErrorBody),
        (status = 422, description = "merchant_id_invalid", body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn unbind_store(
    State(state): State<AppState>,
    CustomerSession(customer): CustomerSession,
    Path(merchant_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let merchant_id = parse_merchant_id(&merchant_id)?;
    state.service().set_binding(&customer, merchant_id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pays a counter's order with the wallet. Send the same `Idempotency-Key` on a retry.
#[utoipa::path(
    post, path = "/v1/payments", tag = "customer",
    request_body = PayRequest,
    params(("Idempotency-Key" = String, Header)),
    responses(
        (status = 200, body = PaymentBody),
        (status = 401, description = "pin_wrong", body = ErrorBody),
        (status = 409, description = "order_already_paid, token_expired, idempotency_key_reused", body = ErrorBody),
        (status = 422, description = "pin_invalid, token_malformed, token_bad_signature, token_expiry_too_far, currency_mismatch, customer_not_bound, insufficient_funds", body = ErrorBody),
        (status = 423, description = "wallet_locked", body = ErrorBody),
        (status = 429, description = "too_many_attempts", body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn pay(
    State(state): State<AppState>,
    CustomerSession(customer): CustomerSession,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(request): ApiJson<PayRequest>,
) -> Result<Json<PaymentBody>, ApiError> {
    state.count_attempt(&state.web_limits().pay_by_wallet, &customer.id.to_string()).await?;
    let pin = parse_pin(&request.pin)?;
    match state.service().pay(&customer, &request.token, pin, &key).await? {
        Outcome::Paid {
            entry_sequence,
            order_id,
            amount,
            confirmation_code,
            wallet_balance,
            ..
        } => Ok(Json(PaymentBody {
            order_id,
            amount: amount.minor_units(),
            confirmation_code,
            wallet_balance: wallet_balance.minor_units(),
            entry_sequence,
        })),
        other => Err(ApiError::internal(format!("payment answered {other:?}"))),
    }
}
