//! The terminals this counter was before it enrolled again (`re_enrolment.rs`): kept when
//! enrolment replaces the profile, read when a top-up taken under one of them is reversed.

use super::*;

/// A terminal this counter was until it enrolled again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierTerminal {
    /// Every receipt number the terminal gave starts with it and a dash.
    pub receipt_prefix: String,
    pub terminal_id: TerminalId,
    pub merchant_id: MerchantId,
    pub server_url: String,
}

/// Most earlier terminals read back, newest first: as many as the server follows back
/// through a counter's replacements (its `LINEAGE_TERMINALS_MAX`, this one included), so
/// the counter offers no reversal the server would not find. Older ones' top-ups are
/// refused here as of another enrolment.
const EARLIER_TERMINALS_MAX: i64 = 15;

/// Keeps the profile in `settings` (if the counter was enrolled, as another terminal than
/// `replaced_by`) as an earlier terminal, inside the enrolment's transaction, before the
/// new profile overwrites it.
pub(super) async fn remember_current_terminal(
    transaction: &mut sqlx::SqliteConnection,
    replaced_by: TerminalId,
    now_ms: i64,
) -> Result<(), LocalStoreError> {
    sqlx::query(
        "INSERT INTO earlier_terminals \
         (receipt_prefix, terminal_id, merchant_id, server_url, replaced_at_ms) \
         SELECT prefix.value, terminal.value, merchant.value, server.value, ? \
         FROM settings prefix, settings terminal, settings merchant, settings server \
         WHERE prefix.key = 'receipt_prefix' AND terminal.key = 'terminal_id' \
           AND merchant.key = 'merchant_id' AND server.key = 'server_url' \
           AND terminal.value <> ? \
         ON CONFLICT DO NOTHING",
    )
    .bind(now_ms)
    .bind(replaced_by.to_string())
    .execute(&mut *transaction)
    .await?;
    Ok(())
}

impl LocalStore {
    /// The terminals this counter was, newest first.
    pub async fn earlier_terminals(&self) -> Result<Vec<EarlierTerminal>, LocalStoreError> {
        let rows = sqlx::query(
            "SELECT receipt_prefix, terminal_id, merchant_id, server_url FROM earlier_terminals \
             ORDER BY replaced_at_ms DESC LIMIT ?",
        )
        .bind(EARLIER_TERMINALS_MAX)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(EarlierTerminal {
                    receipt_prefix: row.try_get("receipt_prefix")?,
                    terminal_id: row.try_get::<&str, _>("terminal_id")?.parse().map_err(corrupt)?,
                    merchant_id: row.try_get::<&str, _>("merchant_id")?.parse().map_err(corrupt)?,
                    server_url: row.try_get("server_url")?,
                })
            })
            .collect()
    }
}
