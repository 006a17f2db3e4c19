//! Writing what a batch produced, with multi-row statements, in the same transaction.

use super::*;

pub(super) async fn write_batch(
    connection: &mut SqliteConnection,
    writes: &BatchWrites,
    now: i64,
) -> Result<(), StoreError> {
    for chunk in writes.entries.chunks(ROWS_PER_STATEMENT) {
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

    let transfers: Vec<(i64, usize, &Transfer)> = writes
        .entries
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

    for chunk in writes.balances.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Sqlite>::new("INSERT INTO accounts (key, balance) ");
        query.push_values(chunk, |mut row, (account, balance)| {
            row.push_bind(account.to_string()).push_bind(balance.minor_units());
        });
        query.push(
            " ON CONFLICT (key) DO UPDATE SET balance = excluded.balance, version = accounts.version + 1",
        );
        query.build().execute(&mut *connection).await?;
    }

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

    let outcomes: Vec<(String, Vec<u8>, String)> = writes
        .outcomes
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

    for closed in &writes.settlements {
        let figures = &closed.figures;
        sqlx::query(
            "INSERT INTO settlements (merchant_id, day, entry_sequence, top_up_count, cash, bonus, \
             payment_count, payments, refund_count, refunds, reversal_count, reversed_cash, \
             reversed_bonus, closed_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(closed.merchant_id.to_string())
        .bind(&closed.day)
        .bind(closed.entry_sequence)
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
        .bind(now)
        .execute(&mut *connection)
        .await?;
        for (terminal_id, terminal_figures) in &closed.by_terminal {
            sqlx::query(&format!(
                "INSERT INTO settlement_terminals (merchant_id, day, terminal_id, {FIGURE_COLUMNS}) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ))
            .bind(closed.merchant_id.to_string())
            .bind(&closed.day)
            .bind(terminal_id.to_string())
            .bind(terminal_figures.top_up_count)
            .bind(terminal_figures.cash)
            .bind(terminal_figures.bonus)
            .bind(terminal_figures.payment_count)
            .bind(terminal_figures.payments)
            .bind(terminal_figures.refund_count)
            .bind(terminal_figures.refunds)
            .bind(terminal_figures.reversal_count)
            .bind(terminal_figures.reversed_cash)
            .bind(terminal_figures.reversed_bonus)
            .execute(&mut *connection)
            .await?;
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
    }

    match &writes.reserve_alert {
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
