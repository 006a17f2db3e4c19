//! Top-up bonus rules. The counter previews the bonus offline from its cached rule set and
//! the server applies it, both with this code, so the two can never disagree on the maths.
//!
//! A rule set is immutable and versioned: any change publishes a new version. Each rule
//! applies to one merchant or to all, inside a validity window. When several rules apply
//! to a top-up, the customer gets the largest bonus among them (ties go to the earlier
//! rule), so adding a rule can never lower a bonus somebody was shown.

use serde::{Deserialize, Serialize};

use crate::protocol::ErrorCode;
use crate::{Amount, MerchantId, PositiveAmount};

/// Most rules in one set and tiers in one rule: rule sets travel to every counter.
pub const RULES_PER_SET_MAX: usize = 100;
pub const TIERS_PER_RULE_MAX: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("a rule set holds at most {RULES_PER_SET_MAX} rules")]
    TooManyRules,
    #[error("rule {index}: a tier rule needs 1 to {TIERS_PER_RULE_MAX} tiers")]
    TierCount { index: usize },
    #[error("rule {index}: tier thresholds must rise strictly")]
    TiersNotRising { index: usize },
    #[error("rule {index}: a bonus cannot be negative")]
    NegativeBonus { index: usize },
    #[error("rule {index}: a percentage is between 0.01% and 100% (1 to 10000 basis points)")]
    PercentageOutOfRange { index: usize },
    #[error("rule {index}: the rule must end after it starts")]
    EmptyWindow { index: usize },
}

impl RuleError {
    pub fn code(&self) -> ErrorCode {
        ErrorCode::BonusRuleInvalid
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BonusTier {
    /// The tier applies from this top-up amount up.
    pub minimum: PositiveAmount,
    pub bonus: Amount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BonusFormula {
    /// The highest tier whose minimum the amount reaches; no bonus below the first tier.
    Tiers { tiers: Vec<BonusTier> },
    /// A share of the amount, rounded down to the minor unit, optionally capped.
    Percentage { basis_points: u32, cap: Option<Amount> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BonusRule {
    /// `None`: applies at every merchant.
    pub merchant_id: Option<MerchantId>,
    pub valid_from_ms: i64,
    /// Exclusive; `None`: open-ended.
    pub valid_until_ms: Option<i64>,
    pub formula: BonusFormula,
}

impl BonusRule {
    fn applies(&self, merchant_id: MerchantId, at_ms: i64) -> bool {
        self.merchant_id.is_none_or(|only| only == merchant_id)
            && at_ms >= self.valid_from_ms
            && self.valid_until_ms.is_none_or(|until| at_ms < until)
    }

    fn bonus_for(&self, amount: PositiveAmount) -> Amount {
        let minor_units = amount.amount().minor_units();
        match &self.formula {
            BonusFormula::Tiers { tiers } => tiers
                .iter()
                .rev()
                .find(|tier| tier.minimum.amount().minor_units() <= minor_units)
                .map_or(Amount::ZERO, |tier| tier.bonus),
            BonusFormula::Percentage { basis_points, cap } => {
                // i128 so that no amount times 10000 can overflow; the result is at most the
                // amount itself, which is in range.
                let share = i128::from(minor_units) * i128::from(*basis_points) / 10_000;
                let share = Amount::from_minor_units(i64::try_from(share).unwrap_or(i64::MAX))
                    .unwrap_or(Amount::ZERO);
                match cap {
                    Some(cap) if *cap < share => *cap,
                    _ => share,
                }
            }
        }
    }

    fn validate(&self, index: usize) -> Result<(), RuleError> {
        if self.valid_until_ms.is_some_and(|until| until <= self.valid_from_ms) {
            return Err(RuleError::EmptyWindow { index });
        }
        match &self.formula {
            BonusFormula::Tiers { tiers } => {
                if tiers.is_empty() || tiers.len() > TIERS_PER_RULE_MAX {
                    return Err(RuleError::TierCount { index });
                }
                if tiers.windows(2).any(|pair| pair[0].minimum >= pair[1].minimum) {
                    return Err(RuleError::TiersNotRising { index });
                }
                if tiers.iter().any(|tier| tier.bonus.is_negative()) {
                    return Err(RuleError::NegativeBonus { index });
                }
            }
            BonusFormula::Percentage { basis_points, cap } => {
                if !(1..=10_000).contains(basis_points) {
                    return Err(RuleError::PercentageOutOfRange { index });
                }
                if cap.is_some_and(Amount::is_negative) {
                    return Err(RuleError::NegativeBonus { index });
                }
            }
        }
        Ok(())
    }
}

/// The bonus a rule set gives for one top-up, and which version said so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BonusQuote {
    pub bonus: Amount,
    pub rule_set_version: u32,
}

/// One published version of the rules. Construct with [`BonusRuleSet::new`], which checks
/// every rule, so a rule set in hand is always well-formed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "UncheckedRuleSet")]
pub struct BonusRuleSet {
    version: u32,
    rules: Vec<BonusRule>,
}

#[derive(Deserialize)]
struct UncheckedRuleSet {
    version: u32,
    rules: Vec<BonusRule>,
}

impl TryFrom<UncheckedRuleSet> for BonusRuleSet {
    type Error = RuleError;

    fn try_from(unchecked: UncheckedRuleSet) -> Result<BonusRuleSet, RuleError> {
        BonusRuleSet::new(unchecked.version, unchecked.rules)
    }
}

impl BonusRuleSet {
    pub fn new(version: u32, rules: Vec<BonusRule>) -> Result<BonusRuleSet, RuleError> {
        if rules.len() > RULES_PER_SET_MAX {
            return Err(RuleError::TooManyRules);
        }
        for (index, rule) in rules.iter().enumerate() {
            rule.validate(index)?;
        }
        Ok(BonusRuleSet { version, rules })
    }

    /// Version 0: no rules, no bonus.
    pub fn empty() -> BonusRuleSet {
        BonusRuleSet { version: 0, rules: Vec::new() }
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    pub fn rules(&self) -> &[BonusRule] {
        &self.rules
    }

    /// The rules of a set that keeps `current` until `starts_at_ms` and `proposed` from then
    /// on: how a new set is scheduled to start later, as one set a counter quotes offline.
    /// A current rule is cut at the start (dropped when it would start at or after it); a
    /// proposed rule starts at the start at the earliest (dropped when it ends by then).
    pub fn scheduled(
        current: &[BonusRule],
        proposed: &[BonusRule],
        starts_at_ms: i64,
    ) -> Vec<BonusRule> {
        let until_start =
            current.iter().filter(|rule| rule.valid_from_ms < starts_at_ms).map(|rule| BonusRule {
                valid_until_ms: Some(
                    rule.valid_until_ms.map_or(starts_at_ms, |until| until.min(starts_at_ms)),
                ),
                ..rule.clone()
            });
        let from_start = proposed
            .iter()
            .filter(|rule| rule.valid_until_ms.is_none_or(|until| until > starts_at_ms))
            .map(|rule| BonusRule {
                valid_from_ms: rule.valid_from_ms.max(starts_at_ms),
                ..rule.clone()
            });
        until_start.chain(from_start).collect()
    }

    pub fn quote(&self, merchant_id: MerchantId, amount: PositiveAmount, at_ms: i64) -> BonusQuote {
        let bonus = self
            .rules
            .iter()
            .filter(|rule| rule.applies(merchant_id, at_ms))
            .map(|rule| rule.bonus_for(amount))
            .max()
            .unwrap_or(Amount::ZERO);
        BonusQuote { bonus, rule_set_version: self.version }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    fn cny(text: &str) -> Amount {
        Amount::parse(text, Currency::CNY).unwrap()
    }

    fn positive(text: &str) -> PositiveAmount {
        PositiveAmount::parse(text, Currency::CNY).unwrap()
    }

    #[test]
    fn a_scheduled_set_keeps_the_current_rules_until_its_start() {
        let merchant = MerchantId::generate();
        let rule = |from: i64, until: Option<i64>, bonus: &str| BonusRule {
            merchant_id: None,
            valid_from_ms: from,
            valid_until_ms: until,
            formula: BonusFormula::Tiers {
                tiers: vec![BonusTier { minimum: positive("100.00"), bonus: cny(bonus) }],
            },
        };
        let current =
            [rule(0, None, "5.00"), rule(5_000, None, "9.00"), rule(0, Some(500), "7.00")];
        let proposed = [rule(0, None, "20.00"), rule(0, Some(900), "30.00")];
        let rules = BonusRuleSet::scheduled(&current, &proposed, 1_000);
        assert_eq!(rules.len(), 3, "a rule starting after the start and one ending before it go");
        let set = BonusRuleSet::new(2, rules).unwrap();
        let bonus = |at: i64| set.quote(merchant, positive("100.00"), at).bonus;
        assert_eq!((bonus(0), bonus(499), bonus(999)), (cny("7.00"), cny("7.00"), cny("5.00")));
        assert_eq!((bonus(1_000), bonus(10_000)), (cny("20.00"), cny("20.00")));
    }

    fn tiers_rule(merchant_id: Option<MerchantId>) -> BonusRule {
        BonusRule {
            merchant_id,
            valid_from_ms: 1_000,
            valid_until_ms: Some(2_000),
            formula: BonusFormula::Tiers {
                tiers: vec![
                    BonusTier { minimum: positive("500.00"), bonus: cny("50.00") },
                    BonusTier { minimum: positive("1000.00"), bonus: cny("120.00") },
                ],
            },
        }
    }

    #[test]
    fn tiers_give_the_highest_tier_reached() {
        let merchant = MerchantId::generate();
        let rules = BonusRuleSet::new(3, vec![tiers_rule(None)]).unwrap();
        let bonus = |amount: &str| rules.quote(merchant, positive(amount), 1_500).bonus;
        assert_eq!(bonus("499.99"), Amount::ZERO);
        assert_eq!(bonus("500.00"), cny("50.00"));
        assert_eq!(bonus("999.99"), cny("50.00"));
        assert_eq!(bonus("1000.00"), cny("120.00"));
        assert_eq!(bonus("4000.00"), cny("120.00"));
        assert_eq!(rules.quote(merchant, positive("600"), 1_500).rule_set_version, 3);
    }

    #[test]
    fn validity_window_is_half_open() {
        let merchant = MerchantId::generate();
        let rules = BonusRuleSet::new(1, vec![tiers_rule(None)]).unwrap();
        assert_eq!(rules.quote(merchant, positive("500"), 999).bonus, Amount::ZERO);
        assert_eq!(rules.quote(merchant, positive("500"), 1_000).bonus, cny("50.00"));
        assert_eq!(rules.quote(merchant, positive("500"), 1_999).bonus, cny("50.00"));
        assert_eq!(rules.quote(merchant, positive("500"), 2_000).bonus, Amount::ZERO);
    }

    #[test]
    fn percentage_rounds_down_and_respects_the_cap() {
        let merchant = MerchantId::generate();
        let rule = BonusRule {
            merchant_id: Some(merchant),
            valid_from_ms: 0,
            valid_until_ms: None,
            formula: BonusFormula::Percentage { basis_points: 250, cap: Some(cny("30.00")) },
        };
        let rules = BonusRuleSet::new(2, vec![rule]).unwrap();
        assert_eq!(rules.quote(merchant, positive("100.00"), 5).bonus, cny("2.50"));
        assert_eq!(rules.quote(merchant, positive("0.39"), 5).bonus, Amount::ZERO);
        assert_eq!(rules.quote(merchant, positive("0.40"), 5).bonus, cny("0.01"));
        assert_eq!(rules.quote(merchant, positive("5000.00"), 5).bonus, cny("30.00"));
        // Another merchant: the merchant-only rule does not apply.
        assert_eq!(rules.quote(MerchantId::generate(), positive("100"), 5).bonus, Amount::ZERO);
    }

    #[test]
    fn the_largest_applicable_bonus_wins() {
        let merchant = MerchantId::generate();
        let percentage = BonusRule {
            merchant_id: Some(merchant),
            valid_from_ms: 0,
            valid_until_ms: None,
            formula: BonusFormula::Percentage { basis_points: 1_000, cap: None },
        };
        let rules = BonusRuleSet::new(4, vec![tiers_rule(None), percentage]).unwrap();
        // 10 % of 600 = 60 beats the 50 tier; 12 % tier at 1000 beats 10 % (100).
        assert_eq!(rules.quote(merchant, positive("600"), 1_500).bonus, cny("60.00"));
        assert_eq!(rules.quote(merchant, positive("1000"), 1_500).bonus, cny("120.00"));
    }

    #[test]
    fn malformed_rules_are_refused() {
        let mut rule = tiers_rule(None);
        rule.valid_until_ms = Some(1_000);
        assert_eq!(BonusRuleSet::new(1, vec![rule]), Err(RuleError::EmptyWindow { index: 0 }));
        let mut rule = tiers_rule(None);
        if let BonusFormula::Tiers { tiers } = &mut rule.formula {
            tiers.reverse();
        }
        assert_eq!(BonusRuleSet::new(1, vec![rule]), Err(RuleError::TiersNotRising { index: 0 }));
        let rule = BonusRule {
            merchant_id: None,
            valid_from_ms: 0,
            valid_until_ms: None,
            formula: BonusFormula::Percentage { basis_points: 10_001, cap: None },
        };
        assert_eq!(
            BonusRuleSet::new(1, vec![rule]),
            Err(RuleError::PercentageOutOfRange { index: 0 })
        );
        let rule = BonusRule {
            merchant_id: None,
            valid_from_ms: 0,
            valid_until_ms: None,
            formula: BonusFormula::Tiers { tiers: vec![] },
        };
        assert_eq!(BonusRuleSet::new(1, vec![rule]), Err(RuleError::TierCount { index: 0 }));
    }

    #[test]
    fn a_rule_set_read_from_json_is_checked() {
        let json = serde_json::json!({
            "version": 1,
            "rules": [{
                "merchant_id": null,
                "valid_from_ms": 0,
                "valid_until_ms": null,
                "formula": {"type": "percentage", "basis_points": 0, "cap": null}
            }]
        });
        assert!(serde_json::from_value::<BonusRuleSet>(json).is_err());
        let good = BonusRuleSet::new(7, vec![tiers_rule(None)]).unwrap();
        let json = serde_json::to_value(&good).unwrap();
        assert_eq!(serde_json::from_value::<BonusRuleSet>(json).unwrap(), good);
    }
}
