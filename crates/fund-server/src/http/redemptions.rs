//! Redemption on the wire: the customer's code (`/v1/wallet/redemption-codes`, bearer) and
//! the counter's payout against it (`/v1/terminal/redemptions`, signed, a manager's act).

use axum::Json;
use axum::extract::State;
use tillfund_core::protocol::{
    RedemptionBody, RedemptionCodeBody, RedemptionCodeRequest, RedemptionRequest,
};
use tillfund_core::{CustomerId, PositiveAmount};

use super::customers::{parse_merchant_id, parse_pin};
use super::extract::{ApiJson, CustomerSession, Signed};
use super::{ApiError, AppState, ErrorBody};
use crate::ledger::Outcome;
use crate::service::{ErrorCode, ServiceError};

fn positive(minor_units: i64) -> Result<PositiveAmount, ApiError> {
    PositiveAmount::try_from(minor_units)
        .map_err(|error| ApiError::from(ServiceError::new(error.code(), error.to_string())))
}

/// Asks to take `amount` out as cash at a bound store: after the PIN, a code for the
/// store's manager, valid 10 minutes. Shown once; the server keeps its hash. To close the
/// wallet, `close_wallet` with everything payable as `amount` (0 closes an empty wallet at
/// once, answering no code).
#[utoipa::path(
    post, path = "/v1/wallet/redemption-codes", tag = "customer",
    request_body = RedemptionCodeRequest,
    responses(
        (status = 200, body = RedemptionCodeBody),
        (status = 401, description = "pin_wrong", body = ErrorBody),
        (status = 409, description = "redemption_daily_limit, redemption_codes_live, wallet_closed, wallet_changed", body = ErrorBody),
        (status = 422, description = "merchant_id_invalid, pin_invalid, amount_not_positive, amount_out_of_range, customer_not_bound, redemption_exceeds_balance", body = ErrorBody),
        (status = 423, description = "wallet_locked", body = ErrorBody),
        (status = 429, description = "too_many_attempts", body = ErrorBody)
    ),
    security(("bearer" = []))
)]
pub async fn issue_code(
    State(state): State<AppState>,
    CustomerSession(customer): CustomerSession,
    ApiJson(request): ApiJson<RedemptionCodeRequest>,
) -> Result<Json<RedemptionCodeBody>, ApiError> {
    state.count_attempt(&state.web_limits().pay_by_wallet, &customer.id.to_string()).await?;
    let merchant_id = parse_merchant_id(&request.merchant_id)?;
    let pin = parse_pin(&request.pin)?;
    if request.close_wallet && request.amount == 0 {
        state.service().close_empty_wallet(&customer, pin).await?;
        return Ok(Json(RedemptionCodeBody {
            code: String::new(),
            merchant_name: String::new(),
            merchant_time_zone: String::new(),
            amount: 0,
            expires_at_ms: 0,
            closes_wallet: true,
        }));
    }
    let amount = positive(request.amount)?;
    let service = state.service();
    let body = service
        .issue_redemption_code(&customer, merchant_id, amount, pin, request.close_wallet)
        .await?;
    Ok(Json(body))
}

/// Pays a customer out in cash against their code: principal and yield out of the drawer,
/// the bonus clawed back in proportion. The code is the idempotency: sending it again
/// answers the same payout.
#[utoipa::path(
    post, path = "/v1/terminal/redemptions", tag = "counter",
    request_body = RedemptionRequest,
    responses(
        (status = 200, body = RedemptionBody),
        (status = 409, description = "wallet_changed, redemption_code_used, redemption_not_made", body = ErrorBody),
        (status = 422, description = "customer_id_invalid, redemption_attempt_invalid, redemption_code_invalid, redemption_code_wrong, amount_not_positive, amount_out_of_range, customer_not_bound, redemption_exceeds_balance, drawer_insufficient", body = ErrorBody),
        (status = 429, description = "too_many_attempts", body = ErrorBody)
    ),
    security(("terminal_signature" = []))
)]
pub async fn redeem(
    State(state): State<AppState>,
    request: Signed<RedemptionRequest>,
) -> Result<Json<RedemptionBody>, ApiError> {
    let customer_id: CustomerId =
        request.body.customer_id.parse().map_err(|_| {
            ApiError::new(ErrorCode::CustomerIdInvalid, "This is not a customer id.")
        })?;
    let amount = positive(request.body.amount)?;
    let body = &request.body;
    let (outcome, wallet_closed) = state
        .service()
        .redeem(
            &request.terminal,
            customer_id,
            &body.code,
            amount,
            body.cashier,
            &body.attempt_id,
            body.only_if_made,
        )
        .await?;
    match outcome {
        Outcome::Redeemed {
            entry_sequence,
            cash,
            principal,
            yield_paid,
            bonus_clawed_back,
            wallet_balance,
            redeemed_at_ms,
            ..
        } => Ok(Json(RedemptionBody {
            cash: cash.minor_units(),
            principal: principal.minor_units(),
            yield_paid: yield_paid.minor_units(),
            bonus_clawed_back: bonus_clawed_back.minor_units(),
            wallet_balance: wallet_balance.minor_units(),
            entry_sequence,
            redeemed_at_ms,
            wallet_closed,
        })),
        other => Err(ApiError::internal(format!("redemption answered {other:?}"))),
    }
}
