//! The closed days, recomputed here from the entries they settled (by SQL of the
//! simulator's own, not the server's fold), and each counter's Z-reports against the
//! server's closes.

use anyhow::{Result, bail};
use tillfund_core::protocol::SettlementBody;
use tillfund_core::settlement::SettlementFigures;

use crate::ledger::LedgerReader;

/// The figures of the settled entries, grouped by `GROUP_BY` (a list of columns of
/// `settled`); compared column by column with the stored figures.
fn recomputed(group_by: &str) -> String {
    format!(
        "SELECT {group_by}, \
           count(DISTINCT CASE WHEN code = 'top_up' THEN sequence END) AS top_up_count, \
           sum(CASE WHEN code = 'top_up' AND transfer_code = 'cash' THEN amount ELSE 0 END) AS cash, \
           sum(CASE WHEN code = 'top_up' AND transfer_code = 'bonus' THEN amount ELSE 0 END) AS bonus, \
           count(DISTINCT CASE WHEN code = 'payment' THEN sequence END) AS payment_count, \
           sum(CASE WHEN code = 'payment' THEN amount ELSE 0 END) AS payments, \
           count(DISTINCT CASE WHEN code = 'refund' THEN sequence END) AS refund_count, \
           sum(CASE WHEN code = 'refund' THEN amount ELSE 0 END) AS refunds, \
           count(DISTINCT CASE WHEN code = 'top_up_reversal' THEN sequence END) AS reversal_count, \
           sum(CASE WHEN code = 'top_up_reversal' AND transfer_code = 'cash' THEN amount ELSE 0 END) AS reversed_cash, \
           sum(CASE WHEN code = 'top_up_reversal' AND transfer_code = 'bonus' THEN amount ELSE 0 END) AS reversed_bonus, \
           count(DISTINCT CASE WHEN code = 'redemption' THEN sequence END) AS redemption_count, \
           sum(CASE WHEN code = 'redemption' AND transfer_code = 'cash' THEN amount ELSE 0 END) AS redeemed_cash, \
           sum(CASE WHEN code = 'redemption' AND transfer_code = 'bonus' THEN amount ELSE 0 END) AS redeemed_bonus \
         FROM settled GROUP BY {group_by}"
    )
}

/// The transfers of the settled entries that `filter` keeps, as `settled`.
fn settled(filter: &str) -> String {
    format!(
        "WITH settled AS (SELECT se.merchant_id, se.day, e.terminal_id, \
           e.sequence, e.code, t.code AS transfer_code, t.amount \
         FROM settled_entries se JOIN journal_entries e ON e.sequence = se.entry_sequence \
         JOIN transfers t ON t.entry_sequence = e.sequence WHERE {filter})"
    )
}

const FIGURES: [&str; 13] = [
    "top_up_count",
    "cash",
    "bonus",
    "payment_count",
    "payments",
    "refund_count",
    "refunds",
    "reversal_count",
    "reversed_cash",
    "reversed_bonus",
    "redemption_count",
    "redeemed_cash",
    "redeemed_bonus",
];

/// Rows of `stored` (joined on `keys`) whose figures differ from the recomputed ones of the
/// entries `filter` keeps, and recomputed rows with no stored row.
fn differing(stored: &str, keys: &[&str], filter: &str) -> String {
    let group_by = keys.iter().map(|key| format!("settled.{key}")).collect::<Vec<_>>();
    let joined = keys.iter().map(|key| format!("c.{key} = s.{key}")).collect::<Vec<_>>();
    let differs = FIGURES
        .iter()
        .map(|figure| format!("coalesce(c.{figure}, 0) <> s.{figure}"))
        .collect::<Vec<_>>();
    let computed = recomputed(&group_by.join(", "));
    format!(
        "{settled}, computed AS ({computed}) \
         SELECT (SELECT count(*) FROM {stored} s LEFT JOIN computed c ON {on} WHERE {differs}) \
              + (SELECT count(*) FROM computed c LEFT JOIN {stored} s ON {on} \
                 WHERE s.{first} IS NULL)",
        on = joined.join(" AND "),
        differs = differs.join(" OR "),
        settled = settled(filter),
        first = keys[0],
    )
}

/// Every close's figures, and each counter's part of them, equal what the entries it settled
/// add up to; every settled entry is of the close's store and of a kind a close counts.
/// (An entry is settled at most once: it is the key of `settled_entries`.)
pub async fn settlements_add_up(ledger: &LedgerReader) -> Result<()> {
    let days = differing("settlements", &["merchant_id", "day"], "TRUE");
    let wrong = ledger.number(&days, &[]).await?;
    if wrong != 0 {
        bail!("settlement_figures: {wrong} closed days differ from the entries they settled");
    }
    // Entries made at no counter are in a day's figures but in no counter's part.
    let by_terminal = differing(
        "settlement_terminals",
        &["merchant_id", "day", "terminal_id"],
        "e.terminal_id IS NOT NULL",
    );
    let wrong = ledger.number(&by_terminal, &[]).await?;
    if wrong != 0 {
        bail!(
            "settlement_figures: {wrong} counters' parts of closed days differ from their entries"
        );
    }
    let strays = ledger
        .number(
            "SELECT count(*) FROM settled_entries se \
             JOIN journal_entries e ON e.sequence = se.entry_sequence \
             WHERE e.merchant_id IS NULL OR e.merchant_id <> se.merchant_id \
                OR e.code NOT IN ('top_up', 'top_up_reversal', 'redemption', 'payment', 'refund') \
                OR NOT EXISTS (SELECT 1 FROM settlements s \
                               WHERE s.merchant_id = se.merchant_id AND s.day = se.day)",
            &[],
        )
        .await?;
    if strays != 0 {
        bail!("settlement_figures: {strays} settled entries are of another store, kind or close");
    }
    Ok(())
}

/// How many rows of `table` for the key hold exactly `figures`.
async fn stored_rows_equal(
    ledger: &LedgerReader,
    table: &str,
    key: &[(&str, &str)],
    figures: &SettlementFigures,
) -> Result<i64> {
    let values = [
        figures.top_up_count,
        figures.cash,
        figures.bonus,
        figures.payment_count,
        figures.payments,
        figures.refund_count,
        figures.refunds,
        figures.reversal_count,
        figures.reversed_cash,
        figures.reversed_bonus,
        figures.redemption_count,
        figures.redeemed_cash,
        figures.redeemed_bonus,
    ]
    .map(|value| value.to_string());
    let conditions = key
        .iter()
        .map(|(column, _)| format!("{column} = ?"))
        .chain(FIGURES.iter().map(|figure| format!("{figure} = CAST(? AS BIGINT)")))
        .collect::<Vec<_>>()
        .join(" AND ");
    let binds = key
        .iter()
        .map(|(_, value)| *value)
        .chain(values.iter().map(String::as_str))
        .collect::<Vec<_>>();
    ledger.number(&format!("SELECT count(*) FROM {table} WHERE {conditions}"), &binds).await
}

/// A counter's Z-report keeps the server's close: the day's figures and the counter's part
/// stay as the server stored them (a closed day never changes).
pub async fn z_report_is_the_close(
    ledger: &LedgerReader,
    merchant_id: &str,
    terminal_id: &str,
    server: &SettlementBody,
) -> Result<()> {
    let day = server.day.as_str();
    let key = [("merchant_id", merchant_id), ("day", day)];
    if stored_rows_equal(ledger, "settlements", &key, &server.figures).await? != 1 {
        bail!("closed_days_immutable: the Z-report of {day} differs from the server's close");
    }
    if server.this_terminal == SettlementFigures::default() {
        return Ok(());
    }
    let key = [("merchant_id", merchant_id), ("day", day), ("terminal_id", terminal_id)];
    if stored_rows_equal(ledger, "settlement_terminals", &key, &server.this_terminal).await? != 1 {
        bail!(
            "closed_days_immutable: the counter's part of {day} in its Z-report differs from the server's close"
        );
    }
    Ok(())
}
