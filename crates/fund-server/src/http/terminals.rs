//! The counter's JSON API. Every request but enrolment is signed with the terminal's key
//! (see `tillfund_core::signing`) and acts only for the terminal's own merchant.

use axum::Json;
use axum::extract::State;
use tillfund_core::protocol::{
    BINDING_CHANGES_PER_PULL_MAX, BindingChangeBody, BindingChangesBody, ChangesQuery,
    CloseDayRequest, CustomerBody, DayQuery, EnrolRequest, EnrolmentBody, MerchantBody,
    PUSH_BATCH_SIZE_MAX, PaidOrderBody, PaidOrdersBody, PaymentsQuery, PushRequest, PushResponse,
    RefundBody, RefundRequest, ReversalBody, ReversalRequest, SettlementBody,
};
use tillfund_core::{OrderId, PositiveAmount};

use super::extract::{ApiJson, ApiQuery, ClientAddress, IdempotencyKey, Signed};
use super::{ApiError, AppState, ErrorBody};
use crate::ledger::Outcome;
use crate::service::ErrorCode;
use crate::service::{CustomerView, ServiceError};

/// Enrols a counter with a one-time activation code, by X25519 key agreement. The same
/// counter retrying with the same public key (its answer was lost) gets the same answer
/// while the code is valid; any other use of a used code is refused.
#[utoipa::path(
    post, path = "/v1/terminals/enrol", tag = "counter",
    request_body = EnrolRequest,
    responses(
        (status = 200, body = EnrolmentBody),
        (status = 404, description = "activation_code_unknown", body = ErrorBody),
        (status = 409, description = "activation_code_used, activation_code_expired", body = ErrorBody),
        (status = 422, description = "body_invalid, label_invalid, public_key_invalid, replaced_terminal_unproven", body = ErrorBody),
        (status = 429, description = "too_many_attempts", body = ErrorBody)
    )
)]
pub async fn enrol(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ApiJson(request): ApiJson<EnrolRequest>,
) -> Result<Json<EnrolmentBody>, ApiError> {
    state.count_attempt(&state.web_limits().enrol_by_address, &address.to_string()).await?;
    let enrolment = state
        .service()
        .enrol(
            &request.activation_code,
            &request.label,
            &request.public_key,
            request.replaces.as_ref(),
        )
        .await?;
    Ok(Json(EnrolmentBody {
        terminal_id: enrolment.terminal.id,
        server_public_key: enrolment.server_public_key.clone(),
        receipt_prefix: enrolment.terminal.receipt_prefix.clone(),
        merchant: MerchantBody::from(&enrolment.merchant),
        currency: state.currency().code().to_owned(),
    }))
}

/// Pushes outbox entries (cash top-ups) in order. Each entry is answered on its own:
/// applied, already applied (a retry), rejected for good, or retry later.
#[utoipa::path(
    post, path = "/v1/sync/push", tag = "counter",
    request_body = PushRequest,
    responses(
        (status = 200, body = PushResponse),
        (status = 401, description = "signature_invalid, clock_skew", body = ErrorBody),
        (status = 422, description = "batch_too_large", body = ErrorBody)
    ),
    security(("terminal_signature" = []))
)]
pub async fn push(
    State(state): State<AppState>,
    request: Signed<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    if request.body.entries.len() > PUSH_BATCH_SIZE_MAX {
        return Err(ServiceError::new(
            ErrorCode::BatchTooLarge,
            format!("Push at most {PUSH_BATCH_SIZE_MAX} entries at a time."),
        )
        .into());
    }
    let results = state.service().push_outbox(&request.terminal, request.body.entries).await?;
    Ok(Json(PushResponse { results }))
}

/// Orders paid at this store since a cursor. With `wait_ms`, an answer with no orders is
/// held until one is paid or the wait ends (long poll).
#[utoipa::path(
    get, path = "/v1/sync/payments", tag = "counter",
    params(PaymentsQuery),
    responses((status = 200, body = PaidOrdersBody), (status = 401, body = ErrorBody)),
    security(("terminal_signature" = []))
)]
pub async fn paid_orders(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PaymentsQuery>,
    request: Signed<()>,
) -> Result<Json<PaidOrdersBody>, ApiError> {
    // Below the request timeout, so a held request is answered, not cut off.
    const WAIT_MS_MAX: u64 = 10_000;
    let wait = std::time::Duration::from_millis(query.wait_ms.min(WAIT_MS_MAX));
    let after = query.after.max(0);
    let orders = state.service().paid_orders(&request.terminal, after, wait).await?;
    let next_after = orders.last().map_or(after, |order| order.payment_entry);
    Ok(Json(PaidOrdersBody {
        orders: orders
            .iter()
            .map(|order| PaidOrderBody {
                order_id: order.order_id,
                terminal_id: order.terminal_id,
                amount: order.amount.amount().minor_units(),
                paid_at_ms: order.paid_at_ms,
                entry_sequence: order.payment_entry,
            })
            .collect(),
        next_after,
    }))
}

/// Customers bound to or unbound from this counter's store since a cursor, oldest first.
#[utoipa::path(
    get, path = "/v1/sync/bindings", tag = "counter",
    params(ChangesQuery),
    responses((status = 200, body = BindingChangesBody), (status = 401, body = ErrorBody)),
    security(("terminal_signature" = []))
)]
pub async fn binding_changes(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ChangesQuery>,
    request: Signed<()>,
) -> Result<Json<BindingChangesBody>, ApiError> {
    let limit = query.limit.clamp(1, BINDING_CHANGES_PER_PULL_MAX);
    let changes =
        state.service().binding_changes(&request.terminal, query.after.max(0), limit).await?;
    let next_after = changes.last().map_or(query.after.max(0), |change| change.sequence);
    Ok(Json(BindingChangesBody {
        changes: changes
            .iter()
            .map(|change| BindingChangeBody {
                sequence: change.sequence,
                bound: change.bound,
                customer: CustomerBody::from(&CustomerView::from(&change.customer)),
            })
            .collect(),
        next_after,
    }))
}

/// The bonus rule set in force; the counter previews bonuses offline with it.
#[utoipa::path(
    get, path = "/v1/sync/bonus-rules", tag = "counter",
    responses((status = 200, description = "{version, rules}", body = Object), (status = 401, body = ErrorBody)),
    security(("terminal_signature" = []))
)]
pub async fn bonus_rules(
    State(state): State<AppState>,
    _request: Signed<()>,
) -> Result<Json<tillfund_core::bonus::BonusRuleSet>, ApiError> {
    Ok(Json(state.service().current_bonus_rules().await?))
}

/// Refunds all or part of a paid order back to the customer's wallet (a manager's action
/// at the counter). Send the same `Idempotency-Key` on a retry.
#[utoipa::path(
    post, path = "/v1/terminal/refunds", tag = "counter",
    request_body = RefundRequest,
    params(("Idempotency-Key" = String, Header)),
    responses(
        (status = 200, body = RefundBody),
        (status = 403, description = "order_of_another_merchant", body = ErrorBody),
        (status = 404, description = "order_not_found", body = ErrorBody),
        (status = 422, description = "order_id_invalid, amount_not_positive, amount_out_of_range, refund_exceeds_paid", body = ErrorBody)
    ),
    security(("terminal_signature" = []))
)]
pub async fn refund(
    State(state): State<AppState>,
    IdempotencyKey(key): IdempotencyKey,
    request: Signed<RefundRequest>,
) -> Result<Json<RefundBody>, ApiError> {
    let order_id: OrderId =
        request.body.order_id.parse().map_err(|error: tillfund_core::InvalidId| {
            ServiceError::new(ErrorCode::OrderIdInvalid, error.to_string())
        })?;
    let amount = PositiveAmount::try_from(request.body.amount)
        .map_err(|error| ServiceError::new(error.code(), error.to_string()))?;
    match state
        .service()
        .refund(&request.terminal, order_id, amount, request.body.cashier, &key)
        .await?
    {
        Outcome::Refunded {
            entry_sequence,
            order_id,
            amount,
            refunded_total,
            wallet_balance,
            refunded_at_ms,
        } => Ok(Json(RefundBody {
            order_id,
            amount: amount.minor_units(),
            refunded_total: refunded_total.minor_units(),
            wallet_balance: wallet_balance.minor_units(),
            entry_sequence,
            refunded_at_ms,
        })),
        other => Err(ApiError::internal(format!("refund answered {other:?}"))),
    }
}

/// Gives back cash for all or part of a top-up (a manager's action): the principal leaves
/// the wallet, the bonus is clawed back in proportion, the cash leaves the drawer.
#[utoipa::path(
    post, path = "/v1/terminal/top-up-reversals", tag = "counter",
    request_body = ReversalRequest,
    params(("Idempotency-Key" = String, Header)),
    responses(
        (status = 200, body = ReversalBody),
        (status = 404, description = "top_up_not_found", body = ErrorBody),
        (status = 422, description = "top_up_entry_id_invalid, amount_not_positive, amount_out_of_range, reversal_exceeds_top_up, wallet_insufficient, drawer_insufficient", body = ErrorBody)
    ),
    security(("terminal_signature" = []))
)]
pub async fn reverse_top_up(
    State(state): State<AppState>,
    IdempotencyKey(key): IdempotencyKey,
    request: Signed<ReversalRequest>,
) -> Result<Json<ReversalBody>, ApiError> {
    let top_up: tillfund_core::OutboxEntryId =
        request.body.top_up_entry_id.parse().map_err(|error: tillfund_core::InvalidId| {
            ServiceError::new(ErrorCode::TopUpEntryIdInvalid, error.to_string())
        })?;
    let amount = PositiveAmount::try_from(request.body.amount)
        .map_err(|error| ServiceError::new(error.code(), error.to_string()))?;
    let cashier = request.body.cashier;
    let taken_by = request.body.top_up_terminal_id;
    let reversal =
        state.service().reverse_top_up(&request.terminal, taken_by, top_up, amount, cashier, &key);
    match reversal.await? {
        Outcome::TopUpReversed {
            entry_sequence,
            amount,
            bonus_clawed_back,
            wallet_balance,
            reversed_at_ms,
            ..
        } => Ok(Json(ReversalBody {
            amount: amount.minor_units(),
            bonus_clawed_back: bonus_clawed_back.minor_units(),
            wallet_balance: wallet_balance.minor_units(),
            entry_sequence,
            reversed_at_ms,
        })),
        other => Err(ApiError::internal(format!("reversal answered {other:?}"))),
    }
}

impl From<&crate::service::Settlement> for SettlementBody {
    fn from(settlement: &crate::service::Settlement) -> SettlementBody {
        SettlementBody {
            day: settlement.day.to_string(),
            closed: settlement.closed,
            figures: settlement.figures,
            drawer_cash: settlement.figures.drawer_cash(),
            net_owed_to_store: settlement.figures.net_owed_to_store(),
            entry_sequence: settlement.entry_sequence,
            this_terminal: settlement.this_terminal,
            this_terminal_in_day: Some(settlement.this_terminal_in_day),
            this_terminal_count: settlement
                .this_terminal_count
                .as_ref()
                .map(|kept| kept.count.clone()),
        }
    }
}

/// A business day as a counter names it: a real date, from 2000 to 2999 (so that the day
/// after it and its end in any time zone exist). Later checks refuse days in the future.
fn parse_day(text: &str) -> Result<jiff::civil::Date, ApiError> {
    let invalid = || -> ApiError {
        ServiceError::new(
            ErrorCode::DayInvalid,
            format!(
                "'{}' is not a day from 2000-01-01 to 2999-12-31 (YYYY-MM-DD).",
                text.chars().take(20).collect::<String>()
            ),
        )
        .into()
    };
    let day: jiff::civil::Date = text.parse().map_err(|_| invalid())?;
    if !(2000..=2999).contains(&day.year()) {
        return Err(invalid());
    }
    Ok(day)
}

/// The store's figures for a business day: as closed, or what closing now would settle.
#[utoipa::path(
    get, path = "/v1/terminal/settlement", tag = "counter",
    params(DayQuery),
    responses((status = 200, body = SettlementBody), (status = 422, description = "day_invalid, day_in_future", body = ErrorBody)),
    security(("terminal_signature" = []))
)]
pub async fn settlement(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<DayQuery>,
    request: Signed<()>,
) -> Result<Json<SettlementBody>, ApiError> {
    let day = parse_day(&query.day)?;
    let settlement = state.service().settlement(&request.terminal, day).await?;
    Ok(Json(SettlementBody::from(&settlement)))
}

/// Closes the store's business day (a manager's action): settles every entry recorded
/// before the day's end and not settled yet. Closing the same day again answers the first
/// close; entries that arrive later are settled by the next close.
#[utoipa::path(
    post, path = "/v1/terminal/settlement/close", tag = "counter",
    request_body = CloseDayRequest,
    responses(
        (status = 200, body = SettlementBody),
        (status = 422, description = "day_invalid, day_in_future, cash_count_invalid, cash_count_note_needed", body = ErrorBody),
        (status = 503, description = "service_insufficient", body = ErrorBody)
    ),
    security(("terminal_signature" = []))
)]
pub async fn close_day(
    State(state): State<AppState>,
    request: Signed<CloseDayRequest>,
) -> Result<Json<SettlementBody>, ApiError> {
    let day = parse_day(&request.body.day)?;
    let count = request.body.cash_count.as_ref();
    let closed_by = request.body.closed_by;
    let settlement = state.service().close_day(&request.terminal, day, count, closed_by).await?;
    Ok(Json(SettlementBody::from(&settlement)))
}
