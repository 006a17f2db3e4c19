//! Customers for the platform's staff: search, and one wallet's dossier.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use tillfund_core::protocol::{
    CustomerBody, CustomerDossierBody, CustomerSearchBody, WalletEntryBody,
};

use super::customers::wallet_body;
use super::extract::ApiQuery;
use super::operators::OperatorCall;
use super::{ApiError, AppState, ErrorBody};
use crate::service::ErrorCode;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// A phone number, a member code, or part of a name (1 to 50 characters).
    pub q: String,
}

/// Customers by phone, member code or name (at most 20; everyone reads; recorded in the
/// trail with what was found).
#[utoipa::path(
    get, path = "/v1/operator/customers", tag = "operator",
    params(SearchParams),
    responses((status = 200, body = CustomerSearchBody)),
    security(("operator_session" = []))
)]
pub async fn search(
    State(state): State<AppState>,
    call: OperatorCall,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> Result<Json<CustomerSearchBody>, ApiError> {
    let found = state.service().search_customers(&call.operator, &call.source, &params.q).await?;
    Ok(Json(CustomerSearchBody { customers: found.iter().map(CustomerBody::from).collect() }))
}

/// One customer's wallet: balances, stores, the PIN lock, the latest 50 entries
/// (recorded in the trail).
#[utoipa::path(
    get, path = "/v1/operator/customers/{customer_id}", tag = "operator",
    params(("customer_id" = String, Path)),
    responses(
        (status = 200, body = CustomerDossierBody),
        (status = 404, description = "customer_unknown", body = ErrorBody)
    ),
    security(("operator_session" = []))
)]
pub async fn dossier(
    State(state): State<AppState>,
    call: OperatorCall,
    Path(customer_id): Path<String>,
) -> Result<Json<CustomerDossierBody>, ApiError> {
    let customer_id = customer_id
        .parse()
        .map_err(|_| ApiError::new(ErrorCode::CustomerUnknown, "There is no such customer."))?;
    let dossier =
        state.service().customer_dossier(&call.operator, &call.source, customer_id).await?;
    Ok(Json(CustomerDossierBody {
        wallet: wallet_body(state.currency(), &dossier.wallet),
        locked_until_ms: dossier.locked_until_ms,
        entries: dossier
            .entries
            .into_iter()
            .map(|entry| WalletEntryBody {
                sequence: entry.sequence,
                kind: entry.code.as_str().to_owned(),
                applied_at_ms: entry.applied_at_ms,
                store: entry.merchant,
                change: entry.change,
            })
            .collect(),
    }))
}
