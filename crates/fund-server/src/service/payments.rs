//! Payments: a customer pays a counter's order (the QR token) with the PIN.

use super::*;
use crate::store::Storage;

/// What a payment code is for, shown before the customer enters the PIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentPreview {
    pub merchant: Merchant,
    /// The counter that made the code, as its screen names it: the receipt prefix its
    /// order numbers start with, and its label. Which counter, where two play or show codes
    /// side by side.
    pub counter_prefix: String,
    pub counter_label: String,
    pub amount: PositiveAmount,
    pub expires_at_ms: i64,
    pub expired: bool,
    /// Who paid it already, if anyone has.
    pub paid_by: Option<CustomerId>,
}

impl<S: Storage> FundService<S> {
    /// The customer pays the order in a counter's payment token, confirmed with the PIN.
    pub async fn pay(
        &self,
        customer: &Customer,
        token_text: &str,
        pin: PaymentPin,
        idempotency_key: &str,
    ) -> Result<Outcome, ServiceError> {
        let token = UnverifiedToken::parse(token_text)
            .map_err(|error| ServiceError::new(error.code(), error.to_string()))?;
        let terminal = self.active_terminal(token.terminal_id()).await.map_err(|_| {
            ServiceError::new(
                ErrorCode::TokenBadSignature,
                "The payment code was not made by an enrolled counter.",
            )
        })?;
        let key = self.terminal_key(&terminal)?;
        let claims = token
            .verify(&key, self.store.clock().now_ms())
            .map_err(|error| ServiceError::new(error.code(), error.to_string()))?;
        if claims.merchant_id != terminal.merchant_id {
            return Err(ServiceError::new(
                ErrorCode::TokenBadSignature,
                "The payment code names another store.",
            ));
        }
        if claims.currency != self.config.policy.currency.code() {
            return Err(ServiceError::new(
                ErrorCode::CurrencyMismatch,
                format!(
                    "This server counts in {}, the payment code in {}.",
                    self.config.policy.currency, claims.currency
                ),
            ));
        }
        self.verify_pin(customer, pin).await?;
        let confirmation = confirmation_code(&key, claims.order_id, claims.amount);
        // The PIN is not part of the fingerprint: it must never be stored, even hashed.
        let fingerprint =
            fingerprint(&[b"pay", customer.id.to_string().as_bytes(), token_text.as_bytes()]);
        let command = Command {
            idempotency: IdempotencyKey {
                key: format!("customer/{}/pay/{idempotency_key}", customer.id),
                fingerprint,
            },
            recorded_at_ms: self.store.clock().now_ms(),
            kind: CommandKind::Payment(Payment {
                claims,
                customer_id: customer.id,
                confirmation_code: confirmation,
            }),
        };
        self.submit(command).await
    }

    /// Reads a counter's payment code for the pay page: the signature is checked (a forged
    /// code shows nothing), the expiry only reported.
    pub async fn payment_preview(&self, token_text: &str) -> Result<PaymentPreview, ServiceError> {
        let token = UnverifiedToken::parse(token_text)
            .map_err(|error| ServiceError::new(error.code(), error.to_string()))?;
        let forged = || {
            ServiceError::new(
                ErrorCode::TokenBadSignature,
                "The payment code was not made by an enrolled counter.",
            )
        };
        let terminal = self.active_terminal(token.terminal_id()).await.map_err(|_| forged())?;
        let key = self.terminal_key(&terminal)?;
        let claims = token.verify_signature(&key).map_err(|_| forged())?;
        if claims.merchant_id != terminal.merchant_id {
            return Err(forged());
        }
        let merchant = self.store.merchant(claims.merchant_id).await?.ok_or_else(forged)?;
        Ok(PaymentPreview {
            merchant,
            counter_prefix: terminal.receipt_prefix.clone(),
            counter_label: terminal.label.clone(),
            amount: claims.amount,
            expires_at_ms: claims.expires_at_ms,
            expired: self.store.clock().now_ms() >= claims.expires_at_ms,
            paid_by: self.store.order_payer(claims.terminal_id, claims.order_id).await?,
        })
    }
}
