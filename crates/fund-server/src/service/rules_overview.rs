//! The money rules in force, as the rules screen and `GET /v1/operator/rules` show them.

use tillfund_core::protocol::OperatorAction;

use super::operators::{Caller, RequestSource, SignedInOperator};
use super::*;
use crate::ledger::MoneyLimits;
use crate::operators::Permission;
use crate::store::{RuleSetVersion, Storage};

/// Earlier bonus rule set versions listed at most.
pub const RULE_VERSIONS_LISTED_MAX: u32 = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesOverview {
    pub bonus_rules: BonusRuleSet,
    /// Newest first.
    pub versions: Vec<RuleSetVersion>,
    /// Oldest first: (first day, annual rate as a fraction).
    pub yield_rates: Vec<(String, Decimal)>,
    pub limits: MoneyLimits,
    pub limits_version: Option<i64>,
}

impl<S: Storage> FundService<S> {
    /// Everyone signed in reads the rules.
    pub async fn rules_overview(
        &self,
        by: &SignedInOperator,
        source: &RequestSource,
    ) -> Result<RulesOverview, ServiceError> {
        let caller = Caller::Operator(by.clone());
        let action = OperatorAction::StatusRead;
        self.require_permission(&caller, source, Permission::Read, action, "rules").await?;
        let (limits, limits_version) = self.money_limits().await?;
        Ok(RulesOverview {
            bonus_rules: self.store.current_bonus_rules().await?,
            versions: self.store.bonus_rule_versions(RULE_VERSIONS_LISTED_MAX).await?,
            yield_rates: self.store.yield_rates().await?,
            limits,
            limits_version,
        })
    }
}
