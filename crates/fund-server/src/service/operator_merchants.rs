//! Merchants, their counters and activation codes as the platform's staff manage them:
//! day-to-day work, no money moves, every change in the trail. Revoking a counter stays a
//! proposal (four eyes).

use tillfund_core::protocol::OperatorAction;

use super::operators::{Caller, RequestSource, SignedInOperator};
use super::*;
use crate::operators::Permission;
use crate::store::{ActivationCodeRecord, TerminalSummary};

/// Merchants listed at most, and counters and codes shown per merchant.
pub const MERCHANTS_LISTED_MAX: u32 = 500;
pub const COUNTERS_LISTED_MAX: u32 = 200;
pub const CODES_LISTED_MAX: u32 = 20;

/// A merchant with its counters and latest activation codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantDetail {
    pub merchant: Merchant,
    pub counters: Vec<TerminalSummary>,
    pub activation_codes: Vec<ActivationCodeRecord>,
}

impl<S: Storage> FundService<S> {
    /// Every merchant with its counters and codes (everyone reads).
    pub async fn merchant_details(
        &self,
        by: &SignedInOperator,
        source: &RequestSource,
    ) -> Result<Vec<MerchantDetail>, ServiceError> {
        let caller = Caller::Operator(by.clone());
        let action = OperatorAction::MerchantAdded;
        self.require_permission(&caller, source, Permission::Read, action, "merchants").await?;
        let mut details = Vec::new();
        for merchant in self.store.list_merchants(MERCHANTS_LISTED_MAX).await? {
            let counters = self.store.terminals_of(merchant.id, COUNTERS_LISTED_MAX).await?;
            let activation_codes =
                self.store.activation_codes_of(merchant.id, CODES_LISTED_MAX).await?;
            details.push(MerchantDetail { merchant, counters, activation_codes });
        }
        Ok(details)
    }

    /// Adds a partner store (operators and approvers).
    pub async fn operator_add_merchant(
        &self,
        by: &SignedInOperator,
        source: &RequestSource,
        name: &str,
        time_zone: &str,
    ) -> Result<Merchant, ServiceError> {
        let caller = Caller::Operator(by.clone());
        let action = OperatorAction::MerchantAdded;
        let subject = format!("merchant:{}", name.trim());
        self.require_permission(&caller, source, Permission::DayToDay, action, &subject).await?;
        let result = self.add_merchant(name, time_zone).await;
        let subject = match &result {
            Ok(merchant) => format!("merchant:{}", merchant.id),
            Err(_) => subject,
        };
        let detail = format!("{} ({})", name.trim(), time_zone.trim());
        self.record_operator_action(
            by.actor(),
            source,
            action,
            &subject,
            &detail,
            result.as_ref().map(|_| ()),
        )
        .await?;
        result
    }

    /// Issues a one-time activation code for a new counter of `merchant_id`; the code is
    /// shown this once and never recorded, not even in the trail.
    pub async fn operator_issue_activation_code(
        &self,
        by: &SignedInOperator,
        source: &RequestSource,
        merchant_id: MerchantId,
    ) -> Result<(String, i64), ServiceError> {
        let caller = Caller::Operator(by.clone());
        let action = OperatorAction::ActivationCodeIssued;
        let subject = format!("merchant:{merchant_id}");
        self.require_permission(&caller, source, Permission::DayToDay, action, &subject).await?;
        let result = self.create_activation_code(merchant_id).await;
        let detail = match &result {
            Ok((code, _)) => format!("code {}", code_id(code)),
            Err(_) => String::new(),
        };
        self.record_operator_action(
            by.actor(),
            source,
            action,
            &subject,
            &detail,
            result.as_ref().map(|_| ()),
        )
        .await?;
        result
    }

    /// Cancels a code not yet used (a code given to the wrong person, a store that will
    /// not open).
    pub async fn operator_cancel_activation_code(
        &self,
        by: &SignedInOperator,
        source: &RequestSource,
        merchant_id: MerchantId,
        code_id: &str,
    ) -> Result<(), ServiceError> {
        let caller = Caller::Operator(by.clone());
        let action = OperatorAction::ActivationCodeCancelled;
        let subject = format!("merchant:{merchant_id}");
        self.require_permission(&caller, source, Permission::DayToDay, action, &subject).await?;
        let not_waiting = || {
            ServiceError::new(
                ErrorCode::ActivationCodeNotWaiting,
                "This activation code is used, expired or cancelled already.",
            )
        };
        let result =
            match tillfund_core::signing::decode_hex(code_id).filter(|hash| hash.len() == 32) {
                None => Err(not_waiting()),
                Some(hash) => {
                    let now = self.store.clock().now_ms();
                    match self.store.cancel_activation_code(merchant_id, &hash, now).await? {
                        true => Ok(()),
                        false => Err(not_waiting()),
                    }
                }
            };
        let detail = format!("code {}", code_id.chars().take(16).collect::<String>());
        self.record_operator_action(
            by.actor(),
            source,
            action,
            &subject,
            &detail,
            result.as_ref().copied(),
        )
        .await?;
        result
    }
}

/// The id under which an activation code is listed and cancelled: hex of its stored hash.
pub fn code_id(code: &str) -> String {
    tillfund_core::signing::encode_hex(&crate::store::secret_hash(code))
}
