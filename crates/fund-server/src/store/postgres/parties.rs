//! Storage of the parties: merchants, customers, bindings and customer sessions
//! (counters are in `terminals.rs`).

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use tillfund_core::{CustomerId, MemberCode, MerchantId, PhoneNumber};

use super::{PARTIES_LOCK, PgStore, StoreError, lock, parse};
use crate::model::{Customer, Merchant};
use crate::store::{
    BindOutcome, BindingChange, PartyStore, PinAttempt, RegisterOutcome, RegistrationKey,
    secret_hash,
};

pub(super) fn merchant_from_row(row: &PgRow) -> Result<Merchant, StoreError> {
    Ok(Merchant {
        id: parse(row.try_get::<&str, _>("id")?)?,
        name: row.try_get("name")?,
        time_zone: row.try_get("time_zone")?,
        settlement_account: row.try_get("settlement_account")?,
    })
}

const CUSTOMER_COLUMNS: &str = "id, phone, display_name, member_code, pin_hash";

fn customer_from_row(row: &PgRow) -> Result<Customer, StoreError> {
    Ok(Customer {
        id: parse(row.try_get::<&str, _>("id")?)?,
        phone: parse(row.try_get::<&str, _>("phone")?)?,
        display_name: row.try_get("display_name")?,
        member_code: parse(row.try_get::<&str, _>("member_code")?)?,
        pin_hash: row.try_get("pin_hash")?,
    })
}

pub(super) async fn merchant_exists(
    connection: &mut PgConnection,
    merchant_id: MerchantId,
) -> Result<bool, StoreError> {
    Ok(sqlx::query("SELECT 1 FROM merchants WHERE id = $1")
        .bind(merchant_id.to_string())
        .fetch_optional(&mut *connection)
        .await?
        .is_some())
}

pub(super) async fn record_binding(
    connection: &mut PgConnection,
    customer_id: CustomerId,
    merchant_id: MerchantId,
    bound: bool,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let changed = if bound {
        sqlx::query(
            "INSERT INTO bindings (customer_id, merchant_id, bound_at_ms) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(customer_id.to_string())
        .bind(merchant_id.to_string())
        .bind(now_ms)
        .execute(&mut *connection)
        .await?
    } else {
        sqlx::query("DELETE FROM bindings WHERE customer_id = $1 AND merchant_id = $2")
            .bind(customer_id.to_string())
            .bind(merchant_id.to_string())
            .execute(&mut *connection)
            .await?
    };
    if changed.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO binding_changes (customer_id, merchant_id, bound, changed_at_ms) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(customer_id.to_string())
    .bind(merchant_id.to_string())
    .bind(i64::from(bound))
    .bind(now_ms)
    .execute(&mut *connection)
    .await?;
    Ok(true)
}

/// The answer a registration gets without writing anything, if it gets one: its earlier
/// answer (same key), or why it is refused.
async fn registration_answered(
    connection: &mut PgConnection,
    customer: &Customer,
    merchant_ids: &[MerchantId],
    idempotency: Option<&RegistrationKey>,
) -> Result<Option<RegisterOutcome>, StoreError> {
    if let Some(idempotency) = idempotency {
        let stored =
            sqlx::query("SELECT fingerprint, outcome FROM idempotency_records WHERE key = $1")
                .bind(&idempotency.key)
                .fetch_optional(&mut *connection)
                .await?;
        if let Some(row) = stored {
            if row.try_get::<Vec<u8>, _>("fingerprint")? != idempotency.fingerprint.to_vec() {
                return Ok(Some(RegisterOutcome::KeyReused));
            }
            let customer_id = parse(row.try_get::<&str, _>("outcome")?)?;
            return Ok(Some(RegisterOutcome::Replayed(customer_id)));
        }
    }
    let taken = sqlx::query("SELECT 1 FROM customers WHERE phone = $1")
        .bind(customer.phone.as_str())
        .fetch_optional(&mut *connection)
        .await?;
    if taken.is_some() {
        return Ok(Some(RegisterOutcome::PhoneTaken));
    }
    for merchant_id in merchant_ids {
        if !merchant_exists(connection, *merchant_id).await? {
            return Ok(Some(RegisterOutcome::MerchantUnknown(*merchant_id)));
        }
    }
    Ok(None)
}

/// `first`, or another code `draw` makes when it is taken (a few tries: codes are drawn
/// from 10^11, so a second collision is already unlikely).
async fn free_member_code(
    connection: &mut PgConnection,
    first: MemberCode,
    draw: &mut (impl FnMut() -> MemberCode + Send),
) -> Result<MemberCode, StoreError> {
    const MEMBER_CODE_TRIES_MAX: usize = 5;
    let mut code = first;
    for _ in 0..MEMBER_CODE_TRIES_MAX {
        let code_taken = sqlx::query("SELECT 1 FROM customers WHERE member_code = $1")
            .bind(code.as_str())
            .fetch_optional(&mut *connection)
            .await?;
        if code_taken.is_none() {
            break;
        }
        code = draw();
    }
    Ok(code)
}

impl PartyStore for PgStore {
    async fn add_merchant(&self, merchant: &Merchant, now_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO merchants (id, name, time_zone, settlement_account, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(merchant.id.to_string())
        .bind(&merchant.name)
        .bind(&merchant.time_zone)
        .bind(&merchant.settlement_account)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn update_merchant(&self, merchant: &Merchant) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE merchants SET name = $1, time_zone = $2, settlement_account = $3 WHERE id = $4",
        )
        .bind(&merchant.name)
        .bind(&merchant.time_zone)
        .bind(&merchant.settlement_account)
        .bind(merchant.id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    async fn merchant(&self, merchant_id: MerchantId) -> Result<Option<Merchant>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, time_zone, settlement_account FROM merchants WHERE id = $1",
        )
        .bind(merchant_id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(merchant_from_row).transpose()
    }

    /// Registers a customer bound to the given merchants, all in one transaction. The
    /// member code is drawn by `member_code`, retried on the rare collision.
    async fn register_customer(
        &self,
        customer: &Customer,
        merchant_ids: &[MerchantId],
        mut member_code: impl FnMut() -> MemberCode + Send,
        idempotency: Option<&RegistrationKey>,
        now_ms: i64,
    ) -> Result<RegisterOutcome, StoreError> {
        let mut transaction = self.pool.begin().await?;
        lock(&mut transaction, PARTIES_LOCK).await?;
        if let Some(answer) =
            registration_answered(&mut transaction, customer, merchant_ids, idempotency).await?
        {
            return Ok(answer);
        }
        let mut registered = customer.clone();
        registered.member_code =
            free_member_code(&mut transaction, registered.member_code, &mut member_code).await?;
        sqlx::query(
            "INSERT INTO customers (id, phone, display_name, member_code, pin_hash, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(registered.id.to_string())
        .bind(registered.phone.as_str())
        .bind(&registered.display_name)
        .bind(registered.member_code.as_str())
        .bind(&registered.pin_hash)
        .bind(now_ms)
        .execute(&mut *transaction)
        .await?;
        for merchant_id in merchant_ids {
            record_binding(&mut transaction, registered.id, *merchant_id, true, now_ms).await?;
        }
        if let Some(idempotency) = idempotency {
            // The answer to replay is the customer id; the view is read again on replay.
            sqlx::query(
                "INSERT INTO idempotency_records (key, fingerprint, outcome, created_at_ms) VALUES ($1, $2, $3, $4)",
            )
            .bind(&idempotency.key)
            .bind(idempotency.fingerprint.to_vec())
            .bind(registered.id.to_string())
            .bind(now_ms)
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(RegisterOutcome::Registered(registered))
    }

    async fn customer(&self, customer_id: CustomerId) -> Result<Option<Customer>, StoreError> {
        let row = sqlx::query(&format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = $1"))
            .bind(customer_id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(customer_from_row).transpose()
    }

    async fn customer_by_phone(&self, phone: &PhoneNumber) -> Result<Option<Customer>, StoreError> {
        let row =
            sqlx::query(&format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE phone = $1"))
                .bind(phone.as_str())
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(customer_from_row).transpose()
    }

    async fn find_customers(
        &self,
        exact: &str,
        name_part: &str,
        limit: u32,
    ) -> Result<Vec<Customer>, StoreError> {
        // LIKE's wildcards in what was typed are matched as themselves.
        let pattern = format!(
            "%{}%",
            name_part.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
        );
        sqlx::query(&format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers \
             WHERE phone = $1 OR member_code = $1 OR ($2 <> '%%' AND display_name ILIKE $2 ESCAPE '\\') \
             ORDER BY display_name, id LIMIT $3"
        ))
        .bind(exact)
        .bind(pattern)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(customer_from_row)
        .collect()
    }

    async fn pin_locked_until(&self, customer_id: CustomerId) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT locked_until_ms FROM pin_attempts WHERE customer_id = $1")
            .bind(customer_id.to_string())
            .fetch_optional(&self.counters)
            .await?
            .flatten())
    }

    /// Takes one PIN attempt before the PIN is checked, in one statement, so that every
    /// request and every process agrees: an attempt is counted as wrong until it proves
    /// right, the `limit`-th in a row locks the wallet at once, and no attempt is taken
    /// while it is locked. However many guesses arrive together, at most `limit` are
    /// checked per lock period. A lock that has run out starts the count again.
    async fn take_pin_attempt(
        &self,
        customer_id: CustomerId,
        limit: i64,
        now_ms: i64,
        lock_until_ms: i64,
    ) -> Result<PinAttempt, StoreError> {
        assert!(limit > 0, "a PIN attempt limit is positive");
        // The first attempt inserts the row; later ones raise it unless the wallet is
        // locked (then the upsert's WHERE leaves it alone and no row comes back). A lock
        // that has run out starts the count again at one.
        let row = sqlx::query(
            "INSERT INTO pin_attempts (customer_id, failed_attempts, locked_until_ms) \
             VALUES ($1, 1, CASE WHEN 1 >= $2::BIGINT THEN $3::BIGINT ELSE NULL END) \
             ON CONFLICT (customer_id) DO UPDATE SET \
               failed_attempts = CASE WHEN pin_attempts.locked_until_ms IS NOT NULL THEN 1 \
                                      ELSE pin_attempts.failed_attempts + 1 END, \
               locked_until_ms = CASE WHEN (CASE WHEN pin_attempts.locked_until_ms IS NOT NULL \
                                                 THEN 1 ELSE pin_attempts.failed_attempts + 1 END) \
                                           >= $2 THEN $3 ELSE NULL END \
             WHERE pin_attempts.locked_until_ms IS NULL OR pin_attempts.locked_until_ms <= $4 \
             RETURNING failed_attempts, locked_until_ms",
        )
        .bind(customer_id.to_string())
        .bind(limit)
        .bind(lock_until_ms)
        .bind(now_ms)
        .fetch_optional(&self.counters)
        .await?;
        if let Some(row) = row {
            let attempt: i64 = row.try_get("failed_attempts")?;
            let locked: Option<i64> = row.try_get("locked_until_ms")?;
            assert!(attempt >= 1 && attempt <= limit, "attempt {attempt} of {limit}");
            return Ok(PinAttempt::Taken { attempt, locks: locked.is_some() });
        }
        let until_ms: Option<i64> =
            sqlx::query_scalar("SELECT locked_until_ms FROM pin_attempts WHERE customer_id = $1")
                .bind(customer_id.to_string())
                .fetch_optional(&self.counters)
                .await?
                .flatten();
        Ok(PinAttempt::Locked { until_ms: until_ms.unwrap_or(lock_until_ms) })
    }

    /// A right PIN starts the count again.
    async fn reset_pin_failures(&self, customer_id: CustomerId) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM pin_attempts WHERE customer_id = $1")
            .bind(customer_id.to_string())
            .execute(&self.counters)
            .await?;
        Ok(())
    }

    async fn set_binding(
        &self,
        customer_id: CustomerId,
        merchant_id: MerchantId,
        bound: bool,
        now_ms: i64,
    ) -> Result<BindOutcome, StoreError> {
        let mut transaction = self.pool.begin().await?;
        lock(&mut transaction, PARTIES_LOCK).await?;
        if !merchant_exists(&mut transaction, merchant_id).await? {
            return Ok(BindOutcome::MerchantUnknown);
        }
        let changed =
            record_binding(&mut transaction, customer_id, merchant_id, bound, now_ms).await?;
        transaction.commit().await?;
        Ok(if changed { BindOutcome::Changed } else { BindOutcome::Unchanged })
    }

    async fn bound_merchants(&self, customer_id: CustomerId) -> Result<Vec<Merchant>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.id, m.name, m.time_zone, m.settlement_account FROM bindings b JOIN merchants m ON m.id = b.merchant_id \
             WHERE b.customer_id = $1 ORDER BY m.name, m.id",
        )
        .bind(customer_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(merchant_from_row).collect()
    }

    /// Binds and unbinds at a merchant after `after_sequence`, oldest first: what a counter
    /// applies to its cache of customers.
    async fn binding_changes(
        &self,
        merchant_id: MerchantId,
        after_sequence: i64,
        limit: i64,
    ) -> Result<Vec<BindingChange>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT bc.sequence, bc.bound, {} FROM binding_changes bc \
             JOIN customers c ON c.id = bc.customer_id \
             WHERE bc.merchant_id = $1 AND bc.sequence > $2 ORDER BY bc.sequence LIMIT $3",
            CUSTOMER_COLUMNS
                .split(", ")
                .map(|column| format!("c.{column}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .bind(merchant_id.to_string())
        .bind(after_sequence)
        .bind(limit.min(tillfund_core::protocol::BINDING_CHANGES_PER_PULL_MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(BindingChange {
                    sequence: row.try_get("sequence")?,
                    bound: row.try_get::<i64, _>("bound")? == 1,
                    customer: customer_from_row(row)?,
                })
            })
            .collect()
    }

    async fn add_session(
        &self,
        token: &str,
        customer_id: CustomerId,
        now_ms: i64,
        expires_at_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO customer_sessions (token_hash, customer_id, created_at_ms, expires_at_ms) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(secret_hash(token))
        .bind(customer_id.to_string())
        .bind(now_ms)
        .bind(expires_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The customer a live session token belongs to.
    async fn session_customer(
        &self,
        token: &str,
        now_ms: i64,
    ) -> Result<Option<CustomerId>, StoreError> {
        let customer: Option<String> = sqlx::query_scalar(
            "SELECT customer_id FROM customer_sessions WHERE token_hash = $1 AND expires_at_ms > $2",
        )
        .bind(secret_hash(token))
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?;
        customer.as_deref().map(parse).transpose()
    }

    /// Ends a session (sign-out): the token stops working at once.
    async fn end_session(&self, token: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM customer_sessions WHERE token_hash = $1")
            .bind(secret_hash(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn purge_expired_sessions(&self, now_ms: i64, limit: i64) -> Result<u64, StoreError> {
        let purged = sqlx::query(
            "DELETE FROM customer_sessions WHERE token_hash IN \
             (SELECT token_hash FROM customer_sessions WHERE expires_at_ms <= $1 LIMIT $2)",
        )
        .bind(now_ms)
        .bind(limit)
        .execute(&self.pool)
        .await?;
        Ok(purged.rows_affected())
    }

    /// Merchants by name, at most `limit`.
    async fn list_merchants(&self, limit: u32) -> Result<Vec<Merchant>, StoreError> {
        let rows =
            sqlx::query("SELECT id, name, time_zone, settlement_account FROM merchants ORDER BY name, id LIMIT $1")
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(merchant_from_row).collect()
    }
}
