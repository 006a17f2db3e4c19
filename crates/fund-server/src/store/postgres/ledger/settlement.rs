//! The figures of a store's day: as closed, or what closing now would settle.

use super::*;
use crate::ledger::{EntryCode, TransferCode};

pub(super) const FIGURE_COLUMNS: &str = "top_up_count, cash, bonus, payment_count, payments, refund_count, \
    refunds, reversal_count, reversed_cash, reversed_bonus";

pub(super) fn figures_from_row(
    row: &sqlx::postgres::PgRow,
) -> Result<SettlementFigures, StoreError> {
    Ok(SettlementFigures {
        top_up_count: row.try_get("top_up_count")?,
        cash: row.try_get("cash")?,
        bonus: row.try_get("bonus")?,
        payment_count: row.try_get("payment_count")?,
        payments: row.try_get("payments")?,
        refund_count: row.try_get("refund_count")?,
        refunds: row.try_get("refunds")?,
        reversal_count: row.try_get("reversal_count")?,
        reversed_cash: row.try_get("reversed_cash")?,
        reversed_bonus: row.try_get("reversed_bonus")?,
    })
}

/// A merchant's entries recorded before `day_end_ms` that no close has settled, with their
/// figures; and whether `day` itself was already closed.
pub(super) async fn unsettled_day(
    connection: &mut PgConnection,
    merchant_id: MerchantId,
    day: &str,
    day_end_ms: i64,
) -> Result<UnsettledDay, StoreError> {
    let already_closed =
        sqlx::query("SELECT 1 FROM settlements WHERE merchant_id = $1 AND day = $2")
            .bind(merchant_id.to_string())
            .bind(day)
            .fetch_optional(&mut *connection)
            .await?
            .is_some();
    let rows = sqlx::query(
        "SELECT e.sequence, e.terminal_id, e.code, t.code AS transfer_code, t.amount \
         FROM journal_entries e JOIN transfers t ON t.entry_sequence = e.sequence \
         WHERE e.merchant_id = $1 AND e.recorded_at_ms < $2 \
           AND e.code IN ('top_up', 'top_up_reversal', 'payment', 'refund') \
           AND NOT EXISTS (SELECT 1 FROM settled_entries s WHERE s.entry_sequence = e.sequence) \
         ORDER BY e.sequence",
    )
    .bind(merchant_id.to_string())
    .bind(day_end_ms)
    .fetch_all(&mut *connection)
    .await?;
    let mut state = UnsettledDay { already_closed, entries: Vec::new() };
    for row in rows {
        let sequence: i64 = row.try_get("sequence")?;
        let amount: i64 = row.try_get("amount")?;
        let code: EntryCode = parse(row.try_get::<&str, _>("code")?)?;
        let transfer_code: TransferCode = parse(row.try_get::<&str, _>("transfer_code")?)?;
        if state.entries.last().is_none_or(|(_, entry)| entry.sequence() != sequence) {
            let terminal_id = parse_optional(row.try_get("terminal_id")?)?;
            state.entries.push((
                terminal_id,
                match code {
                    EntryCode::TopUp => UnsettledEntry::TopUp { sequence, cash: 0, bonus: 0 },
                    EntryCode::TopUpReversal => {
                        UnsettledEntry::Reversal { sequence, cash: 0, bonus: 0 }
                    }
                    EntryCode::Payment => UnsettledEntry::Payment { sequence, amount: 0 },
                    EntryCode::Refund => UnsettledEntry::Refund { sequence, amount: 0 },
                    other => {
                        return Err(corrupt(format!(
                            "entry {sequence} of code {other} in a settlement"
                        )));
                    }
                },
            ));
        }
        match (state.entries.last_mut().map(|(_, entry)| entry), transfer_code) {
            (Some(UnsettledEntry::TopUp { cash, .. }), TransferCode::Cash) => *cash += amount,
            (Some(UnsettledEntry::TopUp { bonus, .. }), TransferCode::Bonus) => *bonus += amount,
            (Some(UnsettledEntry::Reversal { cash, .. }), TransferCode::Cash) => *cash += amount,
            (Some(UnsettledEntry::Reversal { bonus, .. }), TransferCode::Bonus) => *bonus += amount,
            (Some(UnsettledEntry::Payment { amount: total, .. }), _)
            | (Some(UnsettledEntry::Refund { amount: total, .. }), _) => *total += amount,
            _ => {}
        }
    }
    Ok(state)
}
