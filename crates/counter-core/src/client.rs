//! The counter's HTTP client for the fund server: enrolment, and signed sync requests.

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use tillfund_core::TerminalId;
use tillfund_core::bonus::BonusRuleSet;
use tillfund_core::clock::Clock;
use tillfund_core::enrolment::CounterHandshake;
use tillfund_core::protocol::{
    BINDING_CHANGES_PER_PULL_MAX, BindingChangesBody, ChangesQuery, CloseDayRequest, DayQuery,
    EnrolRequest, EnrolmentBody, ErrorBody, MerchantBody, OutboxEntry, PaidOrdersBody,
    PaymentsQuery, PushRequest, PushResponse, RedemptionBody, RedemptionRequest, RefundBody,
    RefundRequest, ReplacedTerminal, ReversalBody, ReversalRequest, SettlementBody,
    StaffChangeRequest, StaffChangesBody, StaffChangesQuery, StoreStaffBody, staff_path,
};
use tillfund_core::signing::TerminalKey;

use crate::error_code::CounterCode;
use crate::transport::{CounterEnv, Transport, WireAnswer, WireRequest};

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

#[derive(Clone)]
pub struct ServerClient {
    base_url: String,
    wire: Wire,
    clock: Clock,
}

#[derive(Clone)]
enum Wire {
    Http(reqwest::Client),
    Custom(Arc<dyn Transport>),
}

impl std::fmt::Debug for ServerClient {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("ServerClient").field("base_url", &self.base_url).finish()
    }
}

/// Reads an answer: a success body as `T`, an error as the server's `{code, message}`.
/// Anything else (a proxy's page, a cut body) is `Unreadable`: the caller cannot tell
/// whether the server applied the request.
pub fn read_answer<T: DeserializeOwned>(answer: &WireAnswer) -> Result<T, ClientError> {
    if !(200..300).contains(&answer.status) {
        let body: ErrorBody = serde_json::from_slice(&answer.body).map_err(|_| {
            ClientError::Unreadable(format!("HTTP {} without an error body", answer.status))
        })?;
        return Err(ClientError::Refused {
            status: answer.status,
            code: body.code,
            message: body.message,
        });
    }
    serde_json::from_slice(&answer.body).map_err(|error| ClientError::Unreadable(error.to_string()))
}

impl ServerClient {
    /// A client over HTTP, reading the system clock for signatures.
    pub fn new(base_url: &str) -> Result<ServerClient, ClientError> {
        ServerClient::with_env(base_url, &CounterEnv::system())
    }

    /// A client as `env` says: its clock signs the requests, its transport (if any)
    /// carries them.
    pub fn with_env(base_url: &str, env: &CounterEnv) -> Result<ServerClient, ClientError> {
        let wire = match &env.transport {
            Some(transport) => Wire::Custom(transport.clone()),
            None => Wire::Http(
                reqwest::Client::builder()
                    .timeout(REQUEST_TIMEOUT)
                    .connect_timeout(Duration::from_secs(3))
                    .build()
                    .map_err(|error| ClientError::Unreachable(error.to_string()))?,
            ),
        };
        Ok(ServerClient {
            base_url: base_url.trim_end_matches('/').to_owned(),
            wire,
            clock: env.clock.clone(),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Sends one request and reads its answer.
    async fn exchange<T: DeserializeOwned>(&self, request: WireRequest) -> Result<T, ClientError> {
        let answer = match &self.wire {
            Wire::Custom(transport) => transport
                .exchange(&self.base_url, request)
                .await
                .map_err(ClientError::Unreachable)?,
            Wire::Http(http) => {
                let method = reqwest::Method::from_bytes(request.method.as_bytes())
                    .map_err(|error| ClientError::Unreadable(error.to_string()))?;
                let mut builder =
                    http.request(method, format!("{}{}", self.base_url, request.path_and_query));
                for (name, value) in &request.headers {
                    builder = builder.header(name.as_str(), value.as_str());
                }
                if !request.body.is_empty() {
                    builder = builder.body(request.body);
                }
                let response = builder
                    .send()
                    .await
                    .map_err(|error| ClientError::Unreachable(error.to_string()))?;
                let status = response.status().as_u16();
                let body = response
                    .bytes()
                    .await
                    .map_err(|error| ClientError::Unreachable(error.to_string()))?;
                WireAnswer { status, body: body.to_vec() }
            }
        };
        read_answer(&answer)
    }

    /// Enrols with a one-time activation code by key agreement (see
    /// `tillfund_core::enrolment`): the terminal key is derived here and never crosses the
    /// wire. A lost answer is asked for again with the same public key. Enrolling again,
    /// `replaces` is the terminal this counter was: its key proves it, and the server revokes
    /// it once the new enrolment stands.
    pub async fn enrol(
        &self,
        activation_code: &str,
        label: &str,
        replaces: Option<&TerminalCredentials>,
    ) -> Result<Enrolment, ClientError> {
        let handshake =
            CounterHandshake::new().map_err(|error| ClientError::Unreadable(error.to_string()))?;
        let public_key = handshake.public_key_hex();
        let replaces = replaces.map(|old| ReplacedTerminal {
            terminal_id: old.terminal_id,
            proof: old.key.replacement_proof(activation_code, &public_key),
        });
        let body = EnrolRequest {
            activation_code: activation_code.to_owned(),
            label: label.to_owned(),
            public_key,
            replaces,
        };
        let mut attempt = 1;
        let answer: EnrolmentBody = loop {
            let request = WireRequest {
                method: "POST",
                path_and_query: "/v1/terminals/enrol".to_owned(),
                headers: vec![("content-type".to_owned(), "application/json".to_owned())],
                body: serde_json::to_vec(&body)
                    .map_err(|error| ClientError::Unreadable(error.to_string()))?,
            };
            match self.exchange(request).await {
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
        method: &'static str,
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
        method: &'static str,
        path_and_query: &str,
        body: Option<Vec<u8>>,
        idempotency_key: &str,
    ) -> Result<T, ClientError> {
        let body = body.unwrap_or_default();
        let terminal_id = credentials.terminal_id.to_string();
        let headers = credentials.key.signed_headers(
            &terminal_id,
            method,
            path_and_query,
            self.clock.now_ms(),
            idempotency_key,
            &body,
        );
        let mut headers: Vec<(String, String)> =
            headers.into_iter().map(|(name, value)| (name.to_owned(), value)).collect();
        if !body.is_empty() {
            headers.push(("content-type".to_owned(), "application/json".to_owned()));
        }
        headers.push((
            tillfund_core::protocol::APP_VERSION_HEADER.to_owned(),
            env!("CARGO_PKG_VERSION").to_owned(),
        ));
        self.exchange(WireRequest {
            method,
            path_and_query: path_and_query.to_owned(),
            headers,
            body,
        })
        .await
    }

    pub async fn push(
        &self,
        credentials: &TerminalCredentials,
        entries: Vec<OutboxEntry>,
    ) -> Result<PushResponse, ClientError> {
        let body = serde_json::to_vec(&PushRequest { entries })
            .map_err(|error| ClientError::Unreadable(error.to_string()))?;
        self.signed(credentials, "POST", "/v1/sync/push", Some(body)).await
    }

    pub async fn binding_changes(
        &self,
        credentials: &TerminalCredentials,
        after: i64,
    ) -> Result<BindingChangesBody, ClientError> {
        let path = ChangesQuery { after, limit: BINDING_CHANGES_PER_PULL_MAX }.path();
        self.signed(credentials, "GET", &path, None).await
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
        self.signed(credentials, "GET", &path, None).await
    }

    /// Refunds all or part of a paid order; the same key on a retry refunds once.
    pub async fn refund(
        &self,
        credentials: &TerminalCredentials,
        order_id: tillfund_core::OrderId,
        amount_minor_units: i64,
        cashier: Option<tillfund_core::StaffId>,
        idempotency_key: &str,
    ) -> Result<RefundBody, ClientError> {
        let request =
            RefundRequest { order_id: order_id.to_string(), amount: amount_minor_units, cashier };
        let body = serde_json::to_vec(&request)
            .map_err(|error| ClientError::Unreadable(error.to_string()))?;
        self.signed_with_key(
            credentials,
            "POST",
            "/v1/terminal/refunds",
            Some(body),
            idempotency_key,
        )
        .await
    }

    /// Gives back cash for all or part of a pushed top-up (a manager's action, online
    /// only); the same key on a retry reverses once.
    pub async fn reverse_top_up(
        &self,
        credentials: &TerminalCredentials,
        top_up_terminal_id: Option<TerminalId>,
        top_up_entry_id: tillfund_core::OutboxEntryId,
        amount_minor_units: i64,
        cashier: Option<tillfund_core::StaffId>,
        idempotency_key: &str,
    ) -> Result<ReversalBody, ClientError> {
        let request = ReversalRequest {
            top_up_terminal_id,
            top_up_entry_id: top_up_entry_id.to_string(),
            amount: amount_minor_units,
            cashier,
        };
        let body = serde_json::to_vec(&request)
            .map_err(|error| ClientError::Unreadable(error.to_string()))?;
        self.signed_with_key(
            credentials,
            "POST",
            "/v1/terminal/top-up-reversals",
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
        let body: SettlementBody = self.signed(credentials, "GET", &path, None).await?;
        Ok(body)
    }

    pub async fn close_day(
        &self,
        credentials: &TerminalCredentials,
        day: &str,
        cash_count: Option<tillfund_core::cash_count::CashCount>,
        closed_by: Option<tillfund_core::StaffId>,
    ) -> Result<SettlementBody, ClientError> {
        let request = CloseDayRequest { day: day.to_owned(), cash_count, closed_by };
        let body = serde_json::to_vec(&request)
            .map_err(|error| ClientError::Unreadable(error.to_string()))?;
        let answer: SettlementBody =
            self.signed(credentials, "POST", "/v1/terminal/settlement/close", Some(body)).await?;
        Ok(answer)
    }

    /// Puts a member's whole record in the store's staff; the same record again is kept
    /// as it is, so a retry after a lost answer changes nothing more.
    pub async fn put_staff(
        &self,
        credentials: &TerminalCredentials,
        staff_id: tillfund_core::StaffId,
        request: &StaffChangeRequest,
    ) -> Result<StoreStaffBody, ClientError> {
        let body = serde_json::to_vec(request)
            .map_err(|error| ClientError::Unreadable(error.to_string()))?;
        self.signed(credentials, "PUT", &staff_path(staff_id), Some(body)).await
    }

    /// The store's members changed after the cursor, each once as they stand now.
    pub async fn staff_changes(
        &self,
        credentials: &TerminalCredentials,
        after: i64,
    ) -> Result<StaffChangesBody, ClientError> {
        self.signed(credentials, "GET", &StaffChangesQuery { after }.path(), None).await
    }

    /// Pays a customer out against their code; the same attempt again answers the same
    /// payout.
    pub async fn redeem(
        &self,
        credentials: &TerminalCredentials,
        request: &RedemptionRequest,
    ) -> Result<RedemptionBody, ClientError> {
        let body = serde_json::to_vec(request)
            .map_err(|error| ClientError::Unreadable(error.to_string()))?;
        self.signed(credentials, "POST", "/v1/terminal/redemptions", Some(body)).await
    }

    pub async fn bonus_rules(
        &self,
        credentials: &TerminalCredentials,
    ) -> Result<BonusRuleSet, ClientError> {
        self.signed(credentials, "GET", "/v1/sync/bonus-rules", None).await
    }
}
