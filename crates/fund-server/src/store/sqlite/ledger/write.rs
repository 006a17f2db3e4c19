//! Writing what a batch produced, with multi-row statements, in the same transaction.

use super::*;
use crate::ledger::{ClosedDay, IdempotencyKey};

pub(super) async fn write_batch(
    connection: &mut SqliteConnection,
    writes: &BatchWrites,
    now: i64,
) -> Result<(), StoreError> {
    write_entries(connection, &writes.entries).await?;
    write_balances(connection, &writes.balances).await?;
    write_orders(connection, writes).await?;
    write_outcomes(connection, &writes.outcomes, now).await?;
    for closed in &writes.settlements {
        write_settlement(connection, closed, now).await?;
    }
    write_reserve_alert(connection, &writes.reserve_alert, now).await
}

/// The journal entries and their transfers.
async fn write_entries(
    connection: &mut SqliteConnection,
    entries: &[JournalEntry],
) -> Result<(), StoreError> {
    for chunk in entries.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO journal_entries (sequence, applied_at_ms, code, recorded_at_ms, merchant_id, terminal_id, \
             order_id, outbox_entry_id, customer_id, business_day, previous_hash, hash) ",
        );
        query.push_values(chunk, |mut row, journal_entry| {
            let entry = &journal_entry.entry;
            let references = &entry.references;
            row.push_bind(journal_entry.sequence)
                .push_bind(journal_entry.applied_at_ms)
                .push_bind(entry.code.as_str())
                .push_bind(entry.recorded_at_ms)
                .push_bind(references.merchant_id.map(|id| id.to_string()))
                .push_bind(references.terminal_id.map(|id| id.to_string()))
                .push_bind(references.order_id.map(|id| id.to_string()))
                .push_bind(references.outbox_entry_id.map(|id| id.to_string()))
                .push_bind(references.customer_id.map(|id| id.to_string()))
                .push_bind(references.business_day.clone())
                .push_bind(journal_entry.previous_hash.to_vec())
                .push_bind(journal_entry.hash.to_vec());
        });
        query.build().execute(&mut *connection).await?;
    }

    let transfers: Vec<(i64, usize, &Transfer)> = entries
        .iter()
        .flat_map(|journal_entry| {
            journal_entry
                .entry
                .transfers
                .iter()
                .enumerate()
                .map(|(position, transfer)| (journal_entry.sequence, position, transfer))
        })
        .collect();
    for chunk in transfers.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO transfers (entry_sequence, position, from_account, to_account, amount, code) ",
        );
        query.push_values(chunk, |mut row, (sequence, position, transfer)| {
            row.push_bind(*sequence)
                .push_bind(i64::try_from(*position).unwrap_or(i64::MAX))
                .push_bind(transfer.from.to_string())
                .push_bind(transfer.to.to_string())
                .push_bind(transfer.amount.amount().minor_units())
                .push_bind(transfer.code.as_str());
        });
        query.build().execute(&mut *connection).await?;
    }
    Ok(())
}

/// The final balances of the accounts the batch changed.
async fn write_balances(
    connection: &mut SqliteConnection,
    balances: &[(Account, Amount)],
) -> Result<(), StoreError> {
    for chunk in balances.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Sqlite>::new("INSERT INTO accounts (key, balance) ");
        query.push_values(chunk, |mut row, (account, balance)| {
            row.push_bind(account.to_string()).push_bind(balance.minor_units());
        });
        query.push(
            " ON CONFLICT (key) DO UPDATE SET balance = excluded.balance, version = accounts.version + 1",
        );
        query.build().execute(&mut *connection).await?;
    }
    Ok(())
}

/// Orders paid in the batch, and what refunds gave back on orders paid before.
async fn write_orders(
    connection: &mut SqliteConnection,
    writes: &BatchWrites,
) -> Result<(), StoreError> {
    for chunk in writes.new_orders.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO paid_orders (order_id, merchant_id, terminal_id, customer_id, amount, \
             paid_principal, paid_bonus, paid_yield, refunded_principal, refunded_bonus, \
             refunded_yield, payment_entry, paid_at_ms) ",
        );
        query.push_values(chunk, |mut row, order| {
            row.push_bind(order.order_id.to_string())
                .push_bind(order.merchant_id.to_string())
                .push_bind(order.terminal_id.to_string())
                .push_bind(order.customer_id.to_string())
                .push_bind(order.amount.amount().minor_units())
                .push_bind(order.paid_split[0])
                .push_bind(order.paid_split[1])
                .push_bind(order.paid_split[2])
                .push_bind(order.refunded_split[0])
                .push_bind(order.refunded_split[1])
                .push_bind(order.refunded_split[2])
                .push_bind(order.payment_entry)
                .push_bind(order.paid_at_ms);
        });
        query.build().execute(&mut *connection).await?;
    }

    for ((terminal_id, order_id), refunded_split) in &writes.refunded_orders {
        sqlx::query(
            "UPDATE paid_orders SET refunded_principal = ?, refunded_bonus = ?, refunded_yield = ? \
             WHERE terminal_id = ? AND order_id = ?",
        )
        .bind(refunded_split[0])
        .bind(refunded_split[1])
        .bind(refunded_split[2])
        .bind(terminal_id.to_string())
        .bind(order_id.to_string())
        .execute(&mut *connection)
        .await?;
    }
    Ok(())
}

/// Each decided command's outcome under its idempotency key, for replays.
async fn write_outcomes(
    connection: &mut SqliteConnection,
    outcomes: &[(IdempotencyKey, Outcome)],
    now: i64,
) -> Result<(), StoreError> {
    let outcomes: Vec<(String, Vec<u8>, String)> = outcomes
        .iter()
        .map(|(key, outcome)| {
            serde_json::to_string(outcome)
                .map(|json| (key.key.clone(), key.fingerprint.to_vec(), json))
                .map_err(corrupt)
        })
        .collect::<Result<_, _>>()?;
    for chunk in outcomes.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO idempotency_records (key, fingerprint, outcome, created_at_ms) ",
        );
        query.push_values(chunk, |mut row, (key, fingerprint, outcome)| {
            row.push_bind(key.clone())
                .push_bind(fingerprint.clone())
                .push_bind(outcome.clone())
                .push_bind(now);
        });
        query.build().execute(&mut *connection).await?;
    }

    Ok(())
}

/// A closed day: its figures, each counter's part, and the entries it settled.
async fn write_settlement(
    connection: &mut SqliteConnection,
    closed: &ClosedDay,
    now: i64,
) -> Result<(), StoreError> {
    let day_statement = format!(
        "INSERT INTO settlements (merchant_id, day, entry_sequence, {FIGURE_COLUMNS}, closed_at_ms) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    );
    let query = sqlx::query(&day_statement)
        .bind(closed.merchant_id.to_string())
        .bind(&closed.day)
        .bind(closed.entry_sequence);
    bind_figures(query, &closed.figures).bind(now).execute(&mut *connection).await?;
    let terminal_statement = format!(
        "INSERT INTO settlement_terminals (merchant_id, day, terminal_id, {FIGURE_COLUMNS}) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    );
    for (terminal_id, figures) in &closed.by_terminal {
        let query = sqlx::query(&terminal_statement)
            .bind(closed.merchant_id.to_string())
            .bind(&closed.day)
            .bind(terminal_id.to_string());
        bind_figures(query, figures).execute(&mut *connection).await?;
    }
    for chunk in closed.settled_entries.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO settled_entries (entry_sequence, merchant_id, day) ",
        );
        query.push_values(chunk, |mut row, sequence| {
            row.push_bind(*sequence)
                .push_bind(closed.merchant_id.to_string())
                .push_bind(closed.day.clone());
        });
        query.build().execute(&mut *connection).await?;
    }
    Ok(())
}

type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

/// Binds the figures in the order of `FIGURE_COLUMNS`.
fn bind_figures<'q>(query: SqliteQuery<'q>, figures: &SettlementFigures) -> SqliteQuery<'q> {
    query
        .bind(figures.top_up_count)
        .bind(figures.cash)
        .bind(figures.bonus)
        .bind(figures.payment_count)
        .bind(figures.payments)
        .bind(figures.refund_count)
        .bind(figures.refunds)
        .bind(figures.reversal_count)
        .bind(figures.reversed_cash)
        .bind(figures.reversed_bonus)
        .bind(figures.redemption_count)
        .bind(figures.redeemed_cash)
        .bind(figures.redeemed_bonus)
}

async fn write_reserve_alert(
    connection: &mut SqliteConnection,
    change: &AlertChange,
    now: i64,
) -> Result<(), StoreError> {
    match change {
        AlertChange::Unchanged => {}
        AlertChange::Raised(message) => {
            sqlx::query(
                "INSERT INTO ledger_alerts (name, message, raised_at_ms) VALUES ('reserve', ?, ?) \
                 ON CONFLICT (name) DO UPDATE SET message = excluded.message",
            )
            .bind(message)
            .bind(now)
            .execute(&mut *connection)
            .await?;
        }
        AlertChange::Cleared => {
            sqlx::query("DELETE FROM ledger_alerts WHERE name = 'reserve'")
                .execute(&mut *connection)
                .await?;
        }
    }
    Ok(())
}
