//! The counter's HTTP client for the fund server: enrolment, and signed sync requests.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use tillfund_core::TerminalId;
use tillfund_core::bonus::BonusRuleSet;
use tillfund_core::enrolment::CounterHandshake;
use tillfund_core::protocol::{
    BINDING_CHANGES_PER_PULL_MAX, BindingChangesBody, ChangesQuery, CloseDayRequest, DayQuery,
    EnrolRequest, EnrolmentBody, ErrorBody, MerchantBody, OutboxEntry, PaidOrdersBody,
    PaymentsQuery, PushRequest, PushResponse, RefundBody, RefundRequest, SettlementBody,
};
use tillfund_core::signing::TerminalKey;

use crate::error_code::CounterCode;

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
            ClientError::Unreachable(_) => CounterCode::ServerUnreachable.as_str(),
            ClientError::Refused { code, .. } => code,
            ClientError::Unreadable(_) => CounterCode::ServerAnswerUnreadable.as_str(),
        }
    }
}

/// What enrolment gives a counter; kept in the local database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    pub terminal_id: TerminalId,
    /// Derived here from the key agreement; the server never sends it.
    pub terminal_key: String,
    pub receipt_prefix: String,
    pub merchant: MerchantBody,
    pub currency: String,
}

/// Times an enrolment is sent when the answer does not arrive. Each retry carries the same
/// public key, so the server answers the same enrolment and the code is not burnt.
const ENROL_ATTEMPTS_MAX: u32 = 3;

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

    /// Enrols with a one-time activation code by key agreement (see
    /// `tillfund_core::enrolment`): the terminal key is derived here and never crosses the
    /// wire. A lost answer is asked for again with the same public key.
    pub async fn enrol(
        &self,
        activation_code: &str,
        label: &str,
    ) -> Result<Enrolment, ClientError> {
        let handshake =
            CounterHandshake::new().map_err(|error| ClientError::Unreadable(error.to_string()))?;
        let body = EnrolRequest {
            activation_code: activation_code.to_owned(),
            label: label.to_owned(),
            public_key: handshake.public_key_hex(),
        };
        let mut attempt = 1;
        let answer: EnrolmentBody = loop {
            let response = self
                .http
                .post(format!("{}/v1/terminals/enrol", self.base_url))
                .json(&body)
                .send()
                .await;
            match ServerClient::answer(response).await {
                Err(ClientError::Unreachable(_)) if attempt < ENROL_ATTEMPTS_MAX => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                }
                other => break other?,
            }
        };
        let key = handshake
            .finish(&answer.terminal_id.to_string(), &answer.server_public_key)
            .map_err(|error| ClientError::Unreadable(error.to_string()))?;
        Ok(Enrolment {
            terminal_id: answer.terminal_id,
            terminal_key: key.to_hex(),
            receipt_prefix: answer.receipt_prefix,
            merchant: answer.merchant,
            currency: answer.currency,
        })
    }

    async fn signed<T: DeserializeOwned>(
        &self,
        credentials: &TerminalCredentials,
        method: reqwest::Method,
        path_and_query: &str,
        body: Option<Vec<u8>>,
    ) -> Result<T, ClientError> {
        self.signed_with_key(credentials, method, path_and_query, body, "").await
    }

    /// Signs and sends one request: a fresh nonce every time, so a retry is a new signed
    /// request (the idempotency key or entry id makes it safe), never a replay.
    async fn signed_with_key<T: DeserializeOwned>(
        &self,
        credentials: &TerminalCredentials,
        method: reqwest::Method,
        path_and_query: &str,
        body: Option<Vec<u8>>,
        idempotency_key: &str,
    ) -> Result<T, ClientError> {
        let body = body.unwrap_or_default();
        let terminal_id = credentials.terminal_id.to_string();
        let headers = credentials.key.signed_headers(
            &terminal_id,
            method.as_str(),
            path_and_query,
            now_ms(),
            idempotency_key,
            &body,
        );
        let mut request = self.http.request(method, format!("{}{path_and_query}", self.base_url));
        for (name, value) in headers {
            request = request.header(name, value);
        }
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
    ) -> Result<BindingChangesBody, ClientError> {
        let path = ChangesQuery { after, limit: BINDING_CHANGES_PER_PULL_MAX }.path();
        self.signed(credentials, reqwest::Method::GET, &path, None).await
    }

    /// Orders of this store paid after the cursor; with `wait_ms` the server holds an
    /// empty answer until a payment arrives or the wait ends.
    pub async fn paid_orders(
        &self,
        credentials: &TerminalCredentials,
        after: i64,
        wait_ms: u64,
    ) -> Result<PaidOrdersBody, ClientError> {
        let path = PaymentsQuery { after, wait_ms }.path();
        self.signed(credentials, reqwest::Method::GET, &path, None).await
    }

    /// Refunds all or part of a paid order; the same key on a retry refunds once.
    pub async fn refund(
        &self,
        credentials: &TerminalCredentials,
        order_id: tillfund_core::OrderId,
        amount_minor_units: i64,
        idempotency_key: &str,
    ) -> Result<RefundBody, ClientError> {
        let request = RefundRequest { order_id: order_id.to_string(), amount: amount_minor_units };
        let body = serde_json::to_vec(&request)
            .map_err(|error| ClientError::Unreadable(error.to_string()))?;
        self.signed_with_key(
            credentials,
            reqwest::Method::POST,
            "/v1/terminal/refunds",
            Some(body),
            idempotency_key,
        )
        .await
    }

    pub async fn settlement(
        &self,
        credentials: &TerminalCredentials,
        day: &str,
    ) -> Result<SettlementBody, ClientError> {
        let path = DayQuery { day: day.to_owned() }.settlement_path();
        let body: SettlementBody =
            self.signed(credentials, reqwest::Method::GET, &path, None).await?;
        Ok(body)
    }

    pub async fn close_day(
        &self,
        credentials: &TerminalCredentials,
        day: &str,
    ) -> Result<SettlementBody, ClientError> {
        let body = serde_json::to_vec(&CloseDayRequest { day: day.to_owned() })
            .map_err(|error| ClientError::Unreadable(error.to_string()))?;
        let answer: SettlementBody = self
            .signed(credentials, reqwest::Method::POST, "/v1/terminal/settlement/close", Some(body))
            .await?;
        Ok(answer)
    }

    pub async fn bonus_rules(
        &self,
        credentials: &TerminalCredentials,
    ) -> Result<BonusRuleSet, ClientError> {
        self.signed(credentials, reqwest::Method::GET, "/v1/sync/bonus-rules", None).await
    }
}
