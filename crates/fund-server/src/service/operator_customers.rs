//! Customers as the platform's staff look them up: search and one wallet's dossier. Every
//! read of personal data is recorded in the operators' trail, with what was found.

use tillfund_core::protocol::OperatorAction;

use super::operators::{Caller, RequestSource, SignedInOperator};
use super::*;
use crate::operators::Permission;

/// Customers one search returns at most: a lookup, not an export.
pub const CUSTOMERS_FOUND_MAX: u32 = 20;
/// Entries of a wallet's history an operator sees.
pub const DOSSIER_ENTRIES_SHOWN: u32 = 50;
/// The longest search text, in characters.
const SEARCH_CHARS_MAX: usize = 50;

/// One wallet as an operator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerDossier {
    pub wallet: WalletSummary,
    pub locked_until_ms: Option<i64>,
    /// Newest first.
    pub entries: Vec<WalletEntry>,
}

impl<S: Storage> FundService<S> {
    /// Customers whose phone number or member code is `text`, or whose name contains it.
    pub async fn search_customers(
        &self,
        by: &SignedInOperator,
        source: &RequestSource,
        text: &str,
    ) -> Result<Vec<CustomerView>, ServiceError> {
        let action = OperatorAction::CustomersSearched;
        let caller = Caller::Operator(by.clone());
        self.require_permission(&caller, source, Permission::Read, action, "customers").await?;
        let text = text.trim();
        let chars = text.chars().count();
        if chars == 0 || chars > SEARCH_CHARS_MAX {
            let error = ServiceError::new(
                ErrorCode::QueryInvalid,
                format!(
                    "Search with 1 to {SEARCH_CHARS_MAX} characters: a phone number, a member code or part of a name."
                ),
            );
            self.record_operator_action(by.actor(), source, action, "customers", text, Err(&error))
                .await?;
            return Err(error);
        }
        let exact = match (PhoneNumber::parse(text), MemberCode::parse(text)) {
            (Ok(phone), _) => phone.as_str().to_owned(),
            (_, Ok(code)) => code.to_string(),
            _ => text.to_owned(),
        };
        let found = self.store.find_customers(&exact, text, CUSTOMERS_FOUND_MAX).await?;
        let mut detail = format!("'{text}': {} found", found.len());
        for customer in &found {
            detail.push_str(&format!("\n{} {}", customer.member_code, customer.id));
        }
        self.record_operator_action(by.actor(), source, action, "customers", &detail, Ok(()))
            .await?;
        Ok(found.iter().map(CustomerView::from).collect())
    }

    /// One wallet: balances by bucket, stores, the PIN lock and the latest entries.
    pub async fn customer_dossier(
        &self,
        by: &SignedInOperator,
        source: &RequestSource,
        customer_id: CustomerId,
    ) -> Result<CustomerDossier, ServiceError> {
        let action = OperatorAction::CustomerRead;
        let subject = format!("customer:{customer_id}");
        let caller = Caller::Operator(by.clone());
        self.require_permission(&caller, source, Permission::Read, action, &subject).await?;
        let Some(customer) = self.store.customer(customer_id).await? else {
            let error = ServiceError::new(ErrorCode::CustomerUnknown, "There is no such customer.");
            self.record_operator_action(by.actor(), source, action, &subject, "", Err(&error))
                .await?;
            return Err(error);
        };
        // Recorded before it is shown: a read that cannot be recorded does not happen.
        let detail = "wallet, stores, PIN lock, history";
        self.record_operator_action(by.actor(), source, action, &subject, detail, Ok(())).await?;
        Ok(CustomerDossier {
            wallet: self.wallet(&customer).await?,
            locked_until_ms: self.store.pin_locked_until(customer_id).await?,
            entries: self.store.wallet_history(customer_id, DOSSIER_ENTRIES_SHOWN).await?,
        })
    }
}
