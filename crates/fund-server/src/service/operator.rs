//! The operator's use cases: merchants, the reserve, bonus rules, status and audit.

use super::*;
use crate::store::Storage;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerStatus {
    pub reserve: Amount,
    pub service: Amount,
    pub reserve_threshold: Amount,
    pub reserve_refill: Amount,
    pub wallet_balance_cap: Amount,
    /// The stored version of the limits; `None` while the start flags apply.
    pub limits_version: Option<i64>,
    /// Set while the reserve is under its threshold and the service account cannot refill it.
    pub reserve_alert: Option<String>,
    pub last_yield_day: Option<String>,
}

impl<S: Storage> FundService<S> {
    /// The partner stores by name, at most `limit` (sign-up, the start page, the API).
    pub async fn merchants(&self, limit: u32) -> Result<Vec<Merchant>, ServiceError> {
        Ok(self.store.list_merchants(limit).await?)
    }

    /// The bonus rule set in force, for counters to preview bonuses offline.
    pub async fn current_bonus_rules(&self) -> Result<BonusRuleSet, ServiceError> {
        Ok(self.store.current_bonus_rules().await?)
    }

    /// Whether the database answers at all (the health report).
    pub async fn database_answers(&self) -> bool {
        match self.store.ping().await {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!(%error, "health check: database does not answer");
                false
            }
        }
    }

    pub async fn add_merchant(
        &self,
        name: &str,
        time_zone: &str,
    ) -> Result<Merchant, ServiceError> {
        self.add_merchant_as(MerchantId::generate_from(&self.config.ids), name, time_zone).await
    }

    /// Adds a merchant under an id the caller chose (the demo seed's fixed store).
    pub async fn add_merchant_as(
        &self,
        merchant_id: MerchantId,
        name: &str,
        time_zone: &str,
    ) -> Result<Merchant, ServiceError> {
        let merchant = checked_merchant(merchant_id, name, time_zone, "")?;
        self.store.add_merchant(&merchant, self.store.clock().now_ms()).await?;
        Ok(merchant)
    }

    /// A merchant's fields checked as an operator typed them: a name of 1 to 100
    /// characters, an IANA time zone, a settlement account of at most 80 characters with no
    /// control characters (empty: not set).
    pub fn checked_merchant_fields(
        id: MerchantId,
        name: &str,
        time_zone: &str,
        settlement_account: &str,
    ) -> Result<Merchant, ServiceError> {
        checked_merchant(id, name, time_zone, settlement_account)
    }

    pub async fn fund_reserve(
        &self,
        amount: PositiveAmount,
        idempotency_key: &str,
    ) -> Result<Outcome, ServiceError> {
        let kind = CommandKind::FundReserve { amount };
        self.submit(self.reserve_command("fund", amount, idempotency_key, kind)).await
    }

    /// A command moving `amount` into or out of the reserve, keyed per direction
    /// (`operator/fund/…`, `operator/defund/…`) by the operator's key.
    pub(super) fn reserve_command(
        &self,
        direction: &str,
        amount: PositiveAmount,
        idempotency_key: &str,
        kind: CommandKind,
    ) -> Command {
        let minor_units = amount.amount().minor_units().to_be_bytes();
        Command {
            idempotency: IdempotencyKey {
                key: format!("operator/{direction}/{idempotency_key}"),
                fingerprint: fingerprint(&[direction.as_bytes(), &minor_units]),
            },
            recorded_at_ms: self.store.clock().now_ms(),
            kind,
        }
    }

    pub async fn publish_bonus_rules(
        &self,
        rules: Vec<BonusRule>,
    ) -> Result<BonusRuleSet, ServiceError> {
        self.store.publish_bonus_rules(rules).await.map_err(|error| match error {
            StoreError::Invalid(rule_error) => {
                ServiceError::new(rule_error.code(), rule_error.to_string())
            }
            other => ServiceError::from(other),
        })
    }

    /// Checks the operator's bearer token in constant time.
    pub fn authenticate_operator(&self, token: &str) -> Result<(), ServiceError> {
        let Some(expected) = self.config.operator_token.as_deref() else {
            return Err(ServiceError::new(
                ErrorCode::OperatorApiDisabled,
                "The operator API is off: start the server with TILLFUND_OPERATOR_TOKEN set.",
            ));
        };
        let matches = expected.len() == token.len()
            && expected.bytes().zip(token.bytes()).fold(0_u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if !matches {
            return Err(ServiceError::new(
                ErrorCode::OperatorTokenInvalid,
                "The operator token is wrong.",
            ));
        }
        Ok(())
    }

    /// Logs the reserve alert while it stays open: what `serve` does every hour, so that an
    /// open alert is repeated at a bounded rate rather than on every operation.
    pub async fn remind_of_open_alerts(&self) {
        match self.store.reserve_alert().await {
            Ok(Some(alert)) => tracing::warn!(%alert, "reserve alert still open"),
            Ok(None) => {}
            Err(error) => tracing::error!(%error, "cannot read the reserve alert"),
        }
    }

    /// The reserve's health, for the operator and for monitoring.
    pub async fn ledger_status(&self) -> Result<LedgerStatus, ServiceError> {
        let (limits, limits_version) = self.money_limits().await?;
        Ok(LedgerStatus {
            reserve: self.store.balance(Account::Reserve).await?,
            service: self.store.balance(Account::Service).await?,
            reserve_threshold: limits.reserve_threshold,
            reserve_refill: limits.reserve_refill,
            wallet_balance_cap: limits.wallet_balance_cap,
            limits_version,
            reserve_alert: self.store.reserve_alert().await?,
            last_yield_day: self.store.last_accrued_day().await?,
        })
    }

    /// Verifies the entries since the last passing audit (all of them the first time), and
    /// the operators' trail.
    pub async fn audit(&self) -> Result<AuditReport, ServiceError> {
        let mut report =
            audit_store(&self.store, AuditScope::SinceCheckpoint, self.store.clock().now_ms())
                .await?;
        self.check_operator_trail(&mut report).await?;
        Ok(report)
    }

    /// Verifies the whole journal from its first entry, whatever an earlier audit found, and
    /// the operators' trail.
    pub async fn audit_full(&self) -> Result<AuditReport, ServiceError> {
        let mut report =
            audit_store(&self.store, AuditScope::Full, self.store.clock().now_ms()).await?;
        self.check_operator_trail(&mut report).await?;
        Ok(report)
    }

    /// Runs the audit for an operator (approvers and administrators), recorded in the
    /// trail with its result; with it, where the journal's chain now ends (after a passing
    /// audit: the checkpoint it left).
    pub async fn operator_audit(
        &self,
        by: &super::SignedInOperator,
        source: &super::RequestSource,
        full: bool,
    ) -> Result<(AuditReport, Option<crate::ledger::audit::AuditCheckpoint>), ServiceError> {
        use tillfund_core::protocol::OperatorAction;
        let caller = super::Caller::Operator(by.clone());
        let action = OperatorAction::AuditRun;
        self.require_permission(
            &caller,
            source,
            crate::operators::Permission::RunAudit,
            action,
            "ledger",
        )
        .await?;
        let report = if full { self.audit_full().await? } else { self.audit().await? };
        let head = {
            use crate::store::AuditRead;
            let mut view = self.store.begin_audit().await?;
            view.checkpoint().await?
        };
        let (detail, outcome) = audit_for_trail(&report, full);
        self.record_operator_action(
            by.actor(),
            source,
            action,
            "ledger",
            &detail,
            outcome.as_ref().map(|_| ()),
        )
        .await?;
        Ok((report, head))
    }

    /// Replays the chain of the operators' trail from its first record: it is short (one
    /// record per sign-in or decision), so every audit checks all of it.
    async fn check_operator_trail(&self, report: &mut AuditReport) -> Result<(), ServiceError> {
        const CHUNK: i64 = 5_000;
        const PROBLEMS_MAX: usize = 20;
        let mut previous = (0, crate::operators::TRAIL_GENESIS_HASH);
        let mut problems = Vec::new();
        let mut checked = 0_u64;
        loop {
            let records = match self.store.trail_after(previous.0, CHUNK).await {
                Ok(records) => records,
                Err(StoreError::Corrupt(problem)) => {
                    problems.push(format!(
                        "operator trail: a record after {} is unreadable: {problem}",
                        previous.0
                    ));
                    break;
                }
                Err(error) => return Err(error.into()),
            };
            let Some(last) = records.last() else { break };
            let room = PROBLEMS_MAX.saturating_sub(problems.len());
            problems.extend(crate::operators::check_trail(previous, &records, room));
            checked += records.len() as u64;
            previous = (last.sequence, last.hash);
        }
        report.add_trail_check(checked, problems);
        Ok(())
    }
}

fn checked_merchant(
    id: MerchantId,
    name: &str,
    time_zone: &str,
    settlement_account: &str,
) -> Result<Merchant, ServiceError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ServiceError::new(
            ErrorCode::MerchantNameInvalid,
            "A store name is 1 to 100 characters.",
        ));
    }
    let time_zone = time_zone.trim();
    if time_zone.len() > 64 || jiff::tz::TimeZone::get(time_zone).is_err() {
        return Err(ServiceError::new(
            ErrorCode::TimeZoneInvalid,
            format!(
                "'{}' is not an IANA time zone name such as Asia/Shanghai.",
                time_zone.chars().take(64).collect::<String>()
            ),
        ));
    }
    let settlement_account = settlement_account.trim();
    if settlement_account.chars().count() > 80 || settlement_account.chars().any(char::is_control) {
        return Err(ServiceError::new(
            ErrorCode::SettlementAccountInvalid,
            "A settlement account is at most 80 characters, on one line.",
        ));
    }
    Ok(Merchant {
        id,
        name: name.to_owned(),
        time_zone: time_zone.to_owned(),
        settlement_account: settlement_account.to_owned(),
    })
}

/// An audit as the trail keeps it: what it checked, and `audit_problems_found` as its
/// outcome when it found any (the dashboard raises an alert on it).
pub(super) fn audit_for_trail(
    report: &AuditReport,
    full: bool,
) -> (String, Result<(), ServiceError>) {
    let detail = format!(
        "{} audit: {} entries, {} trail records, {} problems",
        if full { "full" } else { "incremental" },
        report.entries_checked,
        report.trail_records_checked,
        report.problems_found
    );
    let outcome = if report.passed() {
        Ok(())
    } else {
        Err(ServiceError::new(
            ErrorCode::AuditProblemsFound,
            format!("The audit found {} problems.", report.problems_found),
        ))
    };
    (detail, outcome)
}
