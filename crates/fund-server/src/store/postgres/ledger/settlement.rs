//! The figures of a store's day: as closed, or what closing now would settle.

use super::*;
use crate::store::day_entries::{DAY_ROWS_SELECT, DayEntries, DayRow};

pub(super) const FIGURE_COLUMNS: &str = "top_up_count, cash, bonus, payment_count, payments, refund_count, \
    refunds, reversal_count, reversed_cash, reversed_bonus, redemption_count, redeemed_cash, \
    redeemed_bonus";

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
        redemption_count: row.try_get("redemption_count")?,
        redeemed_cash: row.try_get("redeemed_cash")?,
        redeemed_bonus: row.try_get("redeemed_bonus")?,
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
    // Every unsettled entry before the day's end, however old: what a close settles.
    let entries = unsettled_within(connection, merchant_id, i64::MIN, day_end_ms).await?;
    Ok(UnsettledDay { already_closed, entries })
}

/// A merchant's entries recorded in `[start_ms, end_ms)` that no close has settled: what a
/// close settles (from the first), and what a reversal recorded in a day may be paid out of.
pub(super) async fn unsettled_within(
    connection: &mut PgConnection,
    merchant_id: MerchantId,
    start_ms: i64,
    end_ms: i64,
) -> Result<Vec<TerminalEntry>, StoreError> {
    let rows = sqlx::query(&format!(
        "{DAY_ROWS_SELECT} AND e.merchant_id = $1 AND e.recorded_at_ms >= $2 \
           AND e.recorded_at_ms < $3 \
           AND NOT EXISTS (SELECT 1 FROM settled_entries s WHERE s.entry_sequence = e.sequence) \
         ORDER BY e.sequence"
    ))
    .bind(merchant_id.to_string())
    .bind(start_ms)
    .bind(end_ms)
    .fetch_all(&mut *connection)
    .await?;
    let mut day = DayEntries::default();
    for row in &rows {
        day.push(day_row(row)?)?;
    }
    Ok(day.entries)
}

fn day_row(row: &sqlx::postgres::PgRow) -> Result<DayRow<'_>, StoreError> {
    Ok(DayRow {
        sequence: row.try_get("sequence")?,
        terminal_id: row.try_get("terminal_id")?,
        code: row.try_get("code")?,
        transfer_code: row.try_get("transfer_code")?,
        amount: row.try_get("amount")?,
    })
}

/// The figures of one counter's entries recorded in `[start_ms, end_ms)`, settled by any
/// close or by none: what the counter's own records of that day must add up to.
pub(super) async fn terminal_window(
    connection: &mut PgConnection,
    merchant_id: MerchantId,
    terminal_id: TerminalId,
    start_ms: i64,
    end_ms: i64,
) -> Result<SettlementFigures, StoreError> {
    let rows = sqlx::query(&format!(
        "{DAY_ROWS_SELECT} AND e.merchant_id = $1 AND e.recorded_at_ms >= $2 \
           AND e.recorded_at_ms < $3 AND e.terminal_id = $4 ORDER BY e.sequence"
    ))
    .bind(merchant_id.to_string())
    .bind(start_ms)
    .bind(end_ms)
    .bind(terminal_id.to_string())
    .fetch_all(&mut *connection)
    .await?;
    let mut day = DayEntries::default();
    for row in &rows {
        day.push(day_row(row)?)?;
    }
    let mut figures = SettlementFigures::default();
    for (_, entry) in day.entries {
        entry.add_to(&mut figures);
    }
    Ok(figures)
}
