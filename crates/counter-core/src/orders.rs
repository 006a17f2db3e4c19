//! Payment orders: the cashier keys an amount, the counter makes a signed token and its QR
//! code with no network, and learns the result from the server (or, offline, from the
//! customer's confirmation code).

use std::io::Cursor;
use std::str::FromStr;

use image::{ImageFormat, Luma};
use qrcode::QrCode;
use sqlx::Row;
use tillfund_core::payment_token::{PaymentClaims, confirmation_code};
use tillfund_core::signing::TerminalKey;
use tillfund_core::{OrderId, PositiveAmount};

use crate::counter::{Counter, CounterError, now_ms, profile_amount};
use crate::store::LocalStoreError;

/// How long a payment code can be paid.
pub const ORDER_LIFETIME_MS: i64 = 5 * 60 * 1000;
/// Pixels per QR module in the PNG: large enough to scan from a screen across a counter.
const QR_MODULE_PIXELS: u32 = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    Created,
    Paid,
    Cancelled,
    Expired,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentOrder {
    pub order_id: OrderId,
    pub receipt_number: String,
    pub amount: PositiveAmount,
    pub token: String,
    /// What the QR code holds: the customer wallet's pay page with the token.
    pub pay_url: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub status: OrderStatus,
}

fn corrupt(what: impl std::fmt::Display) -> CounterError {
    CounterError::Local(LocalStoreError::Corrupt(what.to_string()))
}

/// The QR code of `text` as a PNG, with the quiet zone scanners need.
pub fn qr_png(text: &str) -> Result<Vec<u8>, CounterError> {
    let code = QrCode::new(text.as_bytes())
        .map_err(|error| CounterError::Invalid { code: "qr_failed", message: error.to_string() })?;
    let image =
        code.render::<Luma<u8>>().module_dimensions(QR_MODULE_PIXELS, QR_MODULE_PIXELS).build();
    let mut png = Cursor::new(Vec::new());
    image
        .write_to(&mut png, ImageFormat::Png)
        .map_err(|error| CounterError::Invalid { code: "qr_failed", message: error.to_string() })?;
    Ok(png.into_inner())
}

impl Counter {
    /// Makes an order for `amount_text` with its signed payment token; no network needed.
    pub async fn create_order(&self, amount_text: &str) -> Result<PaymentOrder, CounterError> {
        let profile = self.profile().await?;
        let amount = profile_amount(&profile, amount_text)?;
        let key = TerminalKey::from_hex(&profile.terminal_key).map_err(corrupt)?;
        let created_at_ms = now_ms();
        let claims = PaymentClaims {
            merchant_id: profile.merchant_id,
            terminal_id: profile.terminal_id,
            order_id: OrderId::generate(),
            amount,
            currency: profile.currency.clone(),
            expires_at_ms: created_at_ms + ORDER_LIFETIME_MS,
        };
        let token = claims.sign(&key);
        let pool = self.store().pool();
        let mut transaction =
            pool.begin_with("BEGIN IMMEDIATE").await.map_err(LocalStoreError::from)?;
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
            .fetch_one(&mut *transaction)
            .await
            .map_err(LocalStoreError::from)?;
        let receipt_number = format!("{}-P{:06}", profile.receipt_prefix, count + 1);
        sqlx::query(
            "INSERT INTO orders (order_id, receipt_number, amount, token, created_at_ms, expires_at_ms, status) \
             VALUES (?, ?, ?, ?, ?, ?, 'created')",
        )
        .bind(claims.order_id.to_string())
        .bind(&receipt_number)
        .bind(amount.amount().minor_units())
        .bind(&token)
        .bind(created_at_ms)
        .bind(claims.expires_at_ms)
        .execute(&mut *transaction)
        .await
        .map_err(LocalStoreError::from)?;
        transaction.commit().await.map_err(LocalStoreError::from)?;
        Ok(PaymentOrder {
            order_id: claims.order_id,
            receipt_number,
            amount,
            pay_url: format!("{}/pay?t={token}", profile.server_url),
            token,
            created_at_ms,
            expires_at_ms: claims.expires_at_ms,
            status: OrderStatus::Created,
        })
    }

    pub async fn order(&self, order_id: OrderId) -> Result<Option<PaymentOrder>, CounterError> {
        let profile = self.profile().await?;
        let row = sqlx::query(
            "SELECT order_id, receipt_number, amount, token, created_at_ms, expires_at_ms, status \
             FROM orders WHERE order_id = ?",
        )
        .bind(order_id.to_string())
        .fetch_optional(self.store().pool())
        .await
        .map_err(LocalStoreError::from)?;
        let Some(row) = row else { return Ok(None) };
        let read = |error: sqlx::Error| CounterError::Local(LocalStoreError::from(error));
        let expires_at_ms: i64 = row.try_get("expires_at_ms").map_err(read)?;
        let status = match row.try_get::<&str, _>("status").map_err(read)? {
            "paid" => OrderStatus::Paid,
            "cancelled" => OrderStatus::Cancelled,
            "created" if now_ms() >= expires_at_ms => OrderStatus::Expired,
            "created" => OrderStatus::Created,
            other => return Err(corrupt(format!("order status {other}"))),
        };
        let token: String = row.try_get("token").map_err(read)?;
        Ok(Some(PaymentOrder {
            order_id: OrderId::from_str(row.try_get::<&str, _>("order_id").map_err(read)?)
                .map_err(corrupt)?,
            receipt_number: row.try_get("receipt_number").map_err(read)?,
            amount: PositiveAmount::try_from(row.try_get::<i64, _>("amount").map_err(read)?)
                .map_err(corrupt)?,
            pay_url: format!("{}/pay?t={token}", profile.server_url),
            token,
            created_at_ms: row.try_get("created_at_ms").map_err(read)?,
            expires_at_ms,
            status,
        }))
    }

    /// Offline: checks the six-digit code on the customer's screen against the order, with
    /// the terminal's key, and marks the order paid when it matches.
    pub async fn confirm_by_code(&self, order_id: OrderId, code: &str) -> Result<(), CounterError> {
        let profile = self.profile().await?;
        let order = self.order(order_id).await?.ok_or(CounterError::Invalid {
            code: "order_not_found",
            message: "There is no such order at this counter.".to_owned(),
        })?;
        let key = TerminalKey::from_hex(&profile.terminal_key).map_err(corrupt)?;
        if confirmation_code(&key, order.order_id, order.amount) != code.trim() {
            return Err(CounterError::Invalid {
                code: "confirmation_code_wrong",
                message:
                    "This confirmation code does not belong to this order: the order is not paid."
                        .to_owned(),
            });
        }
        sqlx::query(
            "UPDATE orders SET status = 'paid', paid_at_ms = ?, paid_by = 'code' WHERE order_id = ? AND status <> 'paid'",
        )
        .bind(now_ms())
        .bind(order_id.to_string())
        .execute(self.store().pool())
        .await
        .map_err(LocalStoreError::from)?;
        Ok(())
    }

    /// A manager refunds all or part of a paid order to the customer's wallet. Needs the
    /// server (it checks what is left to refund); a retry after a lost answer refunds once
    /// because the refund id is the idempotency key.
    pub async fn refund(&self, order_id: OrderId, amount_text: &str) -> Result<i64, CounterError> {
        let profile = self.profile().await?;
        let amount = profile_amount(&profile, amount_text)?;
        let refund_id = OrderId::generate().to_string();
        let client = crate::client::ServerClient::new(&profile.server_url)?;
        let answer = client
            .refund(&profile.credentials()?, order_id, amount.amount().minor_units(), &refund_id)
            .await?;
        sqlx::query(
            "INSERT INTO refunds (refund_id, order_id, amount, refunded_at_ms) VALUES (?, ?, ?, ?)",
        )
        .bind(&refund_id)
        .bind(order_id.to_string())
        .bind(answer.amount)
        .bind(now_ms())
        .execute(self.store().pool())
        .await
        .map_err(LocalStoreError::from)?;
        Ok(answer.refunded_total)
    }

    /// The cashier gives up on an unpaid order. A paid order cannot be cancelled (refund it).
    pub async fn cancel_order(&self, order_id: OrderId) -> Result<(), CounterError> {
        let result = sqlx::query(
            "UPDATE orders SET status = 'cancelled' WHERE order_id = ? AND status = 'created'",
        )
        .bind(order_id.to_string())
        .execute(self.store().pool())
        .await
        .map_err(LocalStoreError::from)?;
        if result.rows_affected() == 0 {
            return Err(CounterError::Invalid {
                code: "order_not_cancellable",
                message: "Only an unpaid order can be cancelled; refund a paid one.".to_owned(),
            });
        }
        Ok(())
    }
}
