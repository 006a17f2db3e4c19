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

use crate::counter::{Counter, CounterError, profile_amount};
use crate::error_code::CounterCode;
use crate::receipt::{Receipt, fit_columns};

/// A cashier's name on a receipt line beside "Cashier", within the paper's 32 columns.
const CASHIER_COLUMNS_MAX: usize = 22;
use crate::staff::Cashier;
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

impl OrderStatus {
    /// From the stored status: an unpaid order past its expiry is expired (never stored).
    fn from_stored(
        stored: &str,
        expires_at_ms: i64,
        now_ms: i64,
    ) -> Result<OrderStatus, CounterError> {
        match stored {
            "paid" => Ok(OrderStatus::Paid),
            "cancelled" => Ok(OrderStatus::Cancelled),
            "created" if now_ms >= expires_at_ms => Ok(OrderStatus::Expired),
            "created" => Ok(OrderStatus::Created),
            other => Err(corrupt(format!("order status {other}"))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Created => "created",
            OrderStatus::Paid => "paid",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Expired => "expired",
        }
    }
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
    let code = QrCode::new(text.as_bytes()).map_err(|error| CounterError::Invalid {
        code: CounterCode::QrFailed,
        message: error.to_string(),
    })?;
    let image =
        code.render::<Luma<u8>>().module_dimensions(QR_MODULE_PIXELS, QR_MODULE_PIXELS).build();
    let mut png = Cursor::new(Vec::new());
    image.write_to(&mut png, ImageFormat::Png).map_err(|error| CounterError::Invalid {
        code: CounterCode::QrFailed,
        message: error.to_string(),
    })?;
    Ok(png.into_inner())
}

impl Counter {
    /// Makes an order for `amount_text` with its signed payment token; no network needed.
    /// The cashier stays at the counter (the token is short enough for a QR code or sound).
    pub async fn create_order(
        &self,
        by: Option<&Cashier>,
        amount_text: &str,
    ) -> Result<PaymentOrder, CounterError> {
        let profile = self.profile().await?;
        let amount = profile_amount(&profile, amount_text)?;
        let key = TerminalKey::from_hex(&profile.terminal_key).map_err(corrupt)?;
        let created_at_ms = self.store().now_ms();
        let claims = PaymentClaims {
            merchant_id: profile.merchant_id,
            terminal_id: profile.terminal_id,
            order_id: OrderId::generate_from(&self.store().env().ids),
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
            "INSERT INTO orders (order_id, receipt_number, amount, token, created_at_ms, \
             expires_at_ms, status, cashier_id, cashier_name) \
             VALUES (?, ?, ?, ?, ?, ?, 'created', ?, ?)",
        )
        .bind(claims.order_id.to_string())
        .bind(&receipt_number)
        .bind(amount.amount().minor_units())
        .bind(&token)
        .bind(created_at_ms)
        .bind(claims.expires_at_ms)
        .bind(by.map(|cashier| cashier.staff_id.to_string()))
        .bind(by.map(|cashier| cashier.name.clone()))
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
        let status = OrderStatus::from_stored(
            row.try_get::<&str, _>("status").map_err(read)?,
            expires_at_ms,
            self.store().now_ms(),
        )?;
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
            code: CounterCode::OrderNotFound,
            message: "There is no such order at this counter.".to_owned(),
        })?;
        let key = TerminalKey::from_hex(&profile.terminal_key).map_err(corrupt)?;
        if confirmation_code(&key, order.order_id, order.amount) != code.trim() {
            return Err(CounterError::Invalid {
                code: CounterCode::ConfirmationCodeWrong,
                message:
                    "This confirmation code does not belong to this order: the order is not paid."
                        .to_owned(),
            });
        }
        sqlx::query(
            "UPDATE orders SET status = 'paid', paid_at_ms = ?, paid_by = 'code' WHERE order_id = ? AND status <> 'paid'",
        )
        .bind(self.store().now_ms())
        .bind(order_id.to_string())
        .execute(self.store().pool())
        .await
        .map_err(LocalStoreError::from)?;
        self.store().announce_paid(order_id);
        Ok(())
    }

    /// The code the customer's wallet shows for a paid order, for the cashier to compare;
    /// `None` until the order is paid.
    pub async fn paid_confirmation_code(
        &self,
        order: &PaymentOrder,
    ) -> Result<Option<String>, CounterError> {
        if order.status != OrderStatus::Paid {
            return Ok(None);
        }
        let profile = self.profile().await?;
        let key = TerminalKey::from_hex(&profile.terminal_key).map_err(corrupt)?;
        Ok(Some(confirmation_code(&key, order.order_id, order.amount)))
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
                code: CounterCode::OrderNotCancellable,
                message: "Only an unpaid order can be cancelled; refund a paid one.".to_owned(),
            });
        }
        Ok(())
    }
}

/// An order as the sales list shows it, with what has been refunded of it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OrderSummary {
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub order_id: OrderId,
    pub receipt_number: String,
    /// Minor units.
    pub amount: i64,
    pub refunded: i64,
    /// "created", "paid", "cancelled" or "expired".
    #[cfg_attr(feature = "ts", ts(type = "\"created\" | \"paid\" | \"cancelled\" | \"expired\""))]
    pub status: &'static str,
    pub created_at_ms: i64,
}

/// The longest sales list one call returns.
pub const RECENT_ORDERS_MAX: i64 = 200;

impl Counter {
    /// The newest orders first, at most `limit` (capped at [`RECENT_ORDERS_MAX`]).
    pub async fn recent_orders(&self, limit: i64) -> Result<Vec<OrderSummary>, CounterError> {
        let read = |error: sqlx::Error| CounterError::Local(LocalStoreError::from(error));
        let rows = sqlx::query(
            "SELECT o.order_id, o.receipt_number, o.amount, o.status, o.created_at_ms, o.expires_at_ms, \
                    coalesce((SELECT sum(r.amount) FROM refunds r WHERE r.order_id = o.order_id), 0) AS refunded \
             FROM orders o ORDER BY o.created_at_ms DESC, o.order_id DESC LIMIT ?",
        )
        .bind(limit.clamp(1, RECENT_ORDERS_MAX))
        .fetch_all(self.store().pool())
        .await
        .map_err(read)?;
        let now = self.store().now_ms();
        rows.iter()
            .map(|row| {
                let expires_at_ms: i64 = row.try_get("expires_at_ms").map_err(read)?;
                let status = OrderStatus::from_stored(
                    row.try_get::<&str, _>("status").map_err(read)?,
                    expires_at_ms,
                    now,
                )?
                .as_str();
                Ok(OrderSummary {
                    order_id: OrderId::from_str(row.try_get::<&str, _>("order_id").map_err(read)?)
                        .map_err(corrupt)?,
                    receipt_number: row.try_get("receipt_number").map_err(read)?,
                    amount: row.try_get("amount").map_err(read)?,
                    refunded: row.try_get("refunded").map_err(read)?,
                    status,
                    created_at_ms: row.try_get("created_at_ms").map_err(read)?,
                })
            })
            .collect()
    }

    /// The order's receipt: the payment QR code for a customer who pays from the paper
    /// slip, or the proof of payment once paid.
    pub async fn order_receipt(&self, order_id: OrderId) -> Result<Receipt, CounterError> {
        let profile = self.profile().await?;
        let order = self.order(order_id).await?.ok_or(CounterError::Invalid {
            code: CounterCode::OrderNotFound,
            message: "There is no such order at this counter.".to_owned(),
        })?;
        let currency = tillfund_core::Currency::from_code(&profile.currency).unwrap_or_default();
        let mut lines = vec![
            ("Order".to_owned(), order.receipt_number.clone()),
            ("Amount".to_owned(), order.amount.amount().format(currency)),
        ];
        let cashier: Option<String> =
            sqlx::query_scalar("SELECT cashier_name FROM orders WHERE order_id = ?")
                .bind(order_id.to_string())
                .fetch_one(self.store().pool())
                .await
                .map_err(LocalStoreError::from)?;
        if let Some(name) = cashier {
            lines.push(("Cashier".to_owned(), fit_columns(&name, CASHIER_COLUMNS_MAX)));
        }
        let (title, qr, footer) = match order.status {
            OrderStatus::Created => {
                lines
                    .push(("Pay within".to_owned(), format!("{} min", ORDER_LIFETIME_MS / 60_000)));
                ("PLEASE PAY", Some(order.pay_url.clone()), "Scan with your Tillfund wallet")
            }
            OrderStatus::Paid => ("PAID", None, "Thank you"),
            OrderStatus::Cancelled => ("CANCELLED", None, "Nothing was charged"),
            OrderStatus::Expired => ("EXPIRED", None, "Nothing was charged"),
        };
        Ok(Receipt {
            title: title.to_owned(),
            store: profile.merchant_name,
            lines,
            qr,
            footer: footer.to_owned(),
        })
    }

    /// The slip for a cash top-up. The bonus is the one shown; the wallet shows the
    /// credited figures once the server has them.
    pub async fn top_up_receipt(
        &self,
        entry_id: tillfund_core::OutboxEntryId,
    ) -> Result<Receipt, CounterError> {
        let profile = self.profile().await?;
        let record = self.store().top_up(entry_id).await?.ok_or(CounterError::Invalid {
            code: CounterCode::TopUpNotFound,
            message: "There is no such top-up at this counter.".to_owned(),
        })?;
        let read = |error: sqlx::Error| CounterError::Local(LocalStoreError::from(error));
        let customer =
            sqlx::query("SELECT display_name, member_code FROM customers WHERE customer_id = ?")
                .bind(record.customer_id.to_string())
                .fetch_optional(self.store().pool())
                .await
                .map_err(read)?;
        let currency = tillfund_core::Currency::from_code(&profile.currency).unwrap_or_default();
        let mut lines = vec![("Receipt".to_owned(), record.receipt_number.clone())];
        if let Some(customer) = customer {
            let code: String = customer.try_get("member_code").map_err(read)?;
            // The last four digits are enough to recognise one's own card.
            let tail = code.get(code.len().saturating_sub(4)..).unwrap_or_default();
            lines.push(("Customer".to_owned(), customer.try_get("display_name").map_err(read)?));
            lines.push(("Member".to_owned(), format!("****{tail}")));
        }
        lines.push(("Cash".to_owned(), record.amount.amount().format(currency)));
        lines.push(("Bonus".to_owned(), record.bonus_shown.format(currency)));
        if let Some(name) = &record.cashier_name {
            lines.push(("Cashier".to_owned(), fit_columns(name, CASHIER_COLUMNS_MAX)));
        }
        let footer = match record.status {
            crate::store::TopUpStatus::Confirmed => "Credited to your wallet",
            crate::store::TopUpStatus::Pending => "Credited when the counter syncs",
            crate::store::TopUpStatus::Rejected => "NOT credited: see the manager",
        };
        Ok(Receipt {
            title: "CASH TOP-UP".to_owned(),
            store: profile.merchant_name,
            lines,
            qr: None,
            footer: footer.to_owned(),
        })
    }
}
