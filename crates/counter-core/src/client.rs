//! The counter's HTTP client for the fund server: enrolment, and signed sync requests.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde::de::DeserializeOwned;
use tillfund_core::bonus::BonusRuleSet;
use tillfund_core::protocol::{OutboxEntry, PushRequest, PushResponse};
use tillfund_core::signing::{SIGNATURE_HEADER, TERMINAL_HEADER, TIMESTAMP_HEADER, TerminalKey};
use tillfund_core::{CustomerId, MerchantId, TerminalId};

/// A request that takes longer than this counts as failed; the worker retries later.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// No answer: offline, refused, timed out. Retrying later is the answer.
    #[error("the server cannot be reached: {0}")]
    Unreachable(String),
    /// The server answered with an error `{code, message}`.
    #[error("{message}")]
    Refused { status: u16, code: String, message: String },
    #[error("the server's answer is not understood: {0}")]
    Unreadable(String),
}

impl ClientError {
    pub fn code(&self) -> &str {
        match self {
            ClientError::Unreachable(_) => "server_unreachable",
            ClientError::Refused { code, .. } => code,
            ClientError::Unreadable(_) => "server_answer_unreadable",
        }
    }
}

/// What enrolment gives a counter; kept in the local database.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Enrolment {
    pub terminal_id: TerminalId,
    pub terminal_key: String,
    pub receipt_prefix: String,
    pub merchant: MerchantProfile,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MerchantProfile {
    pub merchant_id: MerchantId,
    pub name: String,
    pub time_zone: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BindingChange {
    pub sequence: i64,
    pub bound: bool,
    pub customer: CachedCustomerBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CachedCustomerBody {
    pub customer_id: CustomerId,
    pub phone: String,
    pub display_name: String,
    pub member_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BindingChanges {
    pub changes: Vec<BindingChange>,
    pub next_after: i64,
}

/// The server's figures for a business day of this store.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ServerSettlement {
    pub day: String,
    pub closed: bool,
    pub top_up_count: i64,
    pub cash: i64,
    pub bonus: i64,
    pub payment_count: i64,
    pub payments: i64,
    pub refund_count: i64,
    pub refunds: i64,
    pub reversal_count: i64,
    pub reversed_cash: i64,
    pub drawer_cash: i64,
    pub net_owed_to_store: i64,
    /// The part of the store's figures made at this counter.
    pub this_terminal: TerminalFigures,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TerminalFigures {
    pub top_up_count: i64,
    pub cash: i64,
    pub bonus: i64,
    pub payment_count: i64,
    pub payments: i64,
    pub refund_count: i64,
    pub refunds: i64,
    pub reversal_count: i64,
    pub reversed_cash: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RefundAnswer {
    pub amount: i64,
    pub refunded_total: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PaidOrder {
    pub order_id: tillfund_core::OrderId,
    pub amount: i64,
    pub paid_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PaidOrders {
    pub orders: Vec<PaidOrder>,
    pub next_after: i64,
}

#[derive(Deserialize)]
struct ErrorBody {
    code: String,
    message: String,
}

/// Who this counter is, for signing.
#[derive(Debug, Clone)]
pub struct TerminalCredentials {
    pub terminal_id: TerminalId,
    pub key: TerminalKey,
}

#[derive(Debug, Clone)]
pub struct ServerClient {
    base_url: String,
    http: reqwest::Client,
}

fn now_ms() -> i64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

impl ServerClient {
    pub fn new(base_url: &str) -> Result<ServerClient, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(3))
            .build()
            .map_err(|error| ClientError::Unreachable(error.to_string()))?;
        Ok(ServerClient { base_url: base_url.trim_end_matches('/').to_owned(), http })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    async fn answer<T: DeserializeOwned>(
        response: Result<reqwest::Response, reqwest::Error>,
    ) -> Result<T, ClientError> {
        let response = response.map_err(|error| ClientError::Unreachable(error.to_string()))?;
        let status = response.status();
        let bytes =
            response.bytes().await.map_err(|error| ClientError::Unreachable(error.to_string()))?;
        if !status.is_success() {
            let body: ErrorBody = serde_json::from_slice(&bytes).map_err(|_| {
                ClientError::Unreadable(format!("HTTP {} without an error body", status.as_u16()))
            })?;
            return Err(ClientError::Refused {
                status: status.as_u16(),
                code: body.code,
                message: body.message,
            });
        }
        serde_json::from_slice(&bytes).map_err(|error| ClientError::Unreadable(error.to_string()))
    }

    /// Enrols with a one-time activation code. `idempotency_key` must be the same on a
    /// retry, so a lost answer does not burn the code.
    pub async fn enrol(
        &self,
        activation_code: &str,
        label: &str,
        idempotency_key: &str,
    ) -> Result<Enrolment, ClientError> {
        let response = self
            .http
            .post(format!("{}/v1/terminals/enrol", self.base_url))
            .header("idempotency-key", idempotency_key)
            .json(&serde_json::json!({"activation_code": activation_code, "label": label}))
            .send()
            .await;
        ServerClient::answer(response).await
    }

    async fn signed<T: DeserializeOwned>(
        &self,
        credentials: &TerminalCredentials,
        method: reqwest::Method,
        path_and_query: &str,
        body: Option<Vec<u8>>,
    ) -> Result<T, ClientError> {
        let body = body.unwrap_or_default();
        let timestamp_ms = now_ms();
        let signature =
            credentials.key.sign_request(method.as_str(), path_and_query, timestamp_ms, &body);
        let mut request = self
            .http
            .request(method, format!("{}{path_and_query}", self.base_url))
            .header(TERMINAL_HEADER, credentials.terminal_id.to_string())
            .header(TIMESTAMP_HEADER, timestamp_ms.to_string())
            .header(SIGNATURE_HEADER, signature);
        if !body.is_empty() {
            request = request.header("content-type", "application/json").body(body);
        }
        ServerClient::answer(request.send().await).await
    }

    pub async fn push(
        &self,
        credentials: &TerminalCredentials,
        entries: Vec<OutboxEntry>,
    ) -> Result<PushResponse, ClientError> {
        let body = serde_json::to_vec(&PushRequest { entries })
            .map_err(|error| ClientError::Unreadable(error.to_string()))?;
        self.signed(credentials, reqwest::Method::POST, "/v1/sync/push", Some(body)).await
    }

    pub async fn binding_changes(
        &self,
        credentials: &TerminalCredentials,
        after: i64,
    ) -> Result<BindingChanges, ClientError> {
        self.signed(
            credentials,
            reqwest::Method::GET,
            &format!("/v1/sync/bindings?after={after}"),
            None,
        )
        .await
    }

    /// Orders of this store paid after the cursor; with `wait_ms` the server holds an
    /// empty answer until a payment arrives or the wait ends.
    pub async fn paid_orders(
        &self,
        credentials: &TerminalCredentials,
        after: i64,
        wait_ms: u64,
    ) -> Result<PaidOrders, ClientError> {
        let path = format!("/v1/sync/payments?after={after}&wait_ms={wait_ms}");
        self.signed(credentials, reqwest::Method::GET, &path, None).await
    }

    /// Refunds all or part of a paid order; the same key on a retry refunds once.
    pub async fn refund(
        &self,
        credentials: &TerminalCredentials,
        order_id: tillfund_core::OrderId,
        amount_minor_units: i64,
        idempotency_key: &str,
    ) -> Result<RefundAnswer, ClientError> {
        let body = serde_json::to_vec(
            &serde_json::json!({"order_id": order_id, "amount": amount_minor_units}),
        )
        .map_err(|error| ClientError::Unreadable(error.to_string()))?;
        let path = "/v1/terminal/refunds";
        let timestamp_ms = now_ms();
        let signature = credentials.key.sign_request("POST", path, timestamp_ms, &body);
        let response = self
            .http
            .post(format!("{}{path}", self.base_url))
            .header(TERMINAL_HEADER, credentials.terminal_id.to_string())
            .header(TIMESTAMP_HEADER, timestamp_ms.to_string())
            .header(SIGNATURE_HEADER, signature)
            .header("idempotency-key", idempotency_key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        ServerClient::answer(response).await
    }

    pub async fn settlement(
        &self,
        credentials: &TerminalCredentials,
        day: &str,
    ) -> Result<ServerSettlement, ClientError> {
        self.signed(
            credentials,
            reqwest::Method::GET,
            &format!("/v1/terminal/settlement?day={day}"),
            None,
        )
        .await
    }

    pub async fn close_day(
        &self,
        credentials: &TerminalCredentials,
        day: &str,
    ) -> Result<ServerSettlement, ClientError> {
        let body = serde_json::to_vec(&serde_json::json!({"day": day}))
            .map_err(|error| ClientError::Unreadable(error.to_string()))?;
        self.signed(credentials, reqwest::Method::POST, "/v1/terminal/settlement/close", Some(body))
            .await
    }

    pub async fn bonus_rules(
        &self,
        credentials: &TerminalCredentials,
    ) -> Result<BonusRuleSet, ClientError> {
        self.signed(credentials, reqwest::Method::GET, "/v1/sync/bonus-rules", None).await
    }
}
