//! What `fund-server`'s subcommands change on the server's machine. They act at once,
//! without four eyes: whoever runs them holds the database and its keys already. But each
//! is recorded in the operators' trail as `cli` (`command_line_change`), done or refused,
//! so that the trail shows every change to money and its rules, wherever it came from.

use jiff::civil::Date;
use tillfund_core::protocol::OperatorAction;

use super::operators::{Caller, RequestSource};
use super::*;
use crate::store::Storage;

impl<S: Storage> FundService<S> {
    /// Records a command line change with its outcome, then hands the outcome back.
    async fn on_the_command_line<T>(
        &self,
        subject: &str,
        detail: &str,
        result: Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        self.record_operator_action(
            Caller::CommandLine.actor(),
            &RequestSource::command_line(),
            OperatorAction::CommandLineChange,
            subject,
            detail,
            result.as_ref().map(|_| ()),
        )
        .await?;
        result
    }

    pub async fn command_line_fund_reserve(
        &self,
        amount: PositiveAmount,
        idempotency_key: &str,
    ) -> Result<Outcome, ServiceError> {
        let currency = self.config.policy.currency;
        let detail =
            format!("reserve fund {} (key {idempotency_key})", amount.amount().format(currency));
        // `proposal/<id>` is what an approved proposal funds under: the command line taking
        // the same key would answer (or be answered by) that proposal's funding.
        let result = if idempotency_key.trim_start().starts_with("proposal/") {
            Err(ServiceError::new(
                ErrorCode::IdempotencyKeyReused,
                "Keys beginning with proposal/ belong to approved proposals; choose another key.",
            ))
        } else {
            self.fund_reserve(amount, idempotency_key).await
        };
        self.on_the_command_line("reserve", &detail, result).await
    }

    pub async fn command_line_publish_bonus_rules(
        &self,
        rules: Vec<BonusRule>,
    ) -> Result<BonusRuleSet, ServiceError> {
        let detail = format!("bonus publish ({} rules)", rules.len());
        let result = self.publish_bonus_rules(rules).await;
        let subject = match &result {
            Ok(set) => format!("bonus_rules:{}", set.version()),
            Err(_) => "bonus_rules".to_owned(),
        };
        self.on_the_command_line(&subject, &detail, result).await
    }

    pub async fn command_line_set_yield_rate(
        &self,
        from: Date,
        annual_rate: Decimal,
    ) -> Result<(), ServiceError> {
        let percent = (annual_rate * Decimal::from(100)).normalize();
        let detail = format!("yield rate {percent}% from {from}");
        let result = self.set_yield_rate(from, annual_rate).await;
        self.on_the_command_line("yield_rates", &detail, result).await
    }

    /// Runs the audit from the command line, recorded in the trail as any audit is.
    pub async fn command_line_audit(&self, full: bool) -> Result<AuditReport, ServiceError> {
        let report = if full { self.audit_full().await? } else { self.audit().await? };
        let (detail, outcome) = super::operator::audit_for_trail(&report, full);
        self.record_operator_action(
            Caller::CommandLine.actor(),
            &RequestSource::command_line(),
            OperatorAction::AuditRun,
            "ledger",
            &detail,
            outcome.as_ref().map(|_| ()),
        )
        .await?;
        Ok(report)
    }

    pub async fn command_line_revoke_terminal(
        &self,
        terminal_id: TerminalId,
    ) -> Result<(), ServiceError> {
        let result = self.revoke_terminal(terminal_id).await;
        self.on_the_command_line(&format!("terminal:{terminal_id}"), "terminal revoke", result)
            .await
    }
}
