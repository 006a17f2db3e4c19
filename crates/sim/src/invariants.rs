//! What must hold, checked against the real databases: after every step (money, the guard,
//! at most once, refunds within payments, bonus never cash, no server error; every few
//! steps the audit and the closed days recomputed from their entries), and once the network
//! heals at the end (every outbox entry applied exactly once, every refund answered and
//! counted alike, every payment known at its counter and every one a customer was told of
//! on the server, the caches converged, every counter's day reports matching the server's
//! and its Z-reports equal to the server's closes, the full audit).

use anyhow::{Result, anyhow, bail};
use sqlx::{Row, SqlitePool};

use crate::ledger::LedgerReader;
use crate::settlements;
use crate::world::World;

/// The incremental audit runs every this many steps (and the full one at the end).
pub const AUDIT_EVERY_STEPS: u32 = 10;

async fn local_count(pool: &SqlitePool, sql: &str) -> Result<i64> {
    Ok(sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await?)
}

/// Checks run after every step; `Err` names the invariant that failed.
pub async fn after_step(world: &World, ledger: &LedgerReader) -> Result<()> {
    let errors = world.network.take_server_errors();
    if !errors.is_empty() {
        bail!("no_server_error: {}", errors.join("; "));
    }
    let total = ledger
        .number("SELECT CAST(coalesce(sum(balance), 0) AS BIGINT) FROM accounts", &[])
        .await?;
    if total != 0 {
        bail!("money_conserved: the balances sum to {total}, not 0");
    }
    let negative = ledger
        .number("SELECT count(*) FROM accounts WHERE balance < 0 AND key <> 'world'", &[])
        .await?;
    if negative != 0 {
        bail!("no_negative_account: {negative} accounts other than world are negative");
    }
    let top_ups_twice = ledger
        .number(
            "SELECT count(*) FROM (SELECT 1 FROM journal_entries WHERE code = 'top_up' \
             GROUP BY terminal_id, outbox_entry_id HAVING count(*) > 1) twice",
            &[],
        )
        .await?;
    if top_ups_twice != 0 {
        bail!("top_up_at_most_once: {top_ups_twice} outbox entries were applied more than once");
    }
    let paid_twice = ledger
        .number(
            "SELECT count(*) FROM (SELECT 1 FROM journal_entries WHERE code = 'payment' \
             GROUP BY terminal_id, order_id HAVING count(*) > 1) twice",
            &[],
        )
        .await?;
    if paid_twice != 0 {
        bail!("paid_at_most_once: {paid_twice} orders were paid more than once");
    }
    let over_refunded = ledger
        .number(
            "WITH moved AS (SELECT j.code, j.terminal_id, j.order_id, sum(t.amount) AS amount \
               FROM journal_entries j JOIN transfers t ON t.entry_sequence = j.sequence \
               WHERE j.code IN ('payment', 'refund') GROUP BY j.code, j.terminal_id, j.order_id) \
             SELECT count(*) FROM moved r LEFT JOIN moved p ON p.code = 'payment' \
               AND p.terminal_id = r.terminal_id AND p.order_id = r.order_id \
             WHERE r.code = 'refund' AND (p.amount IS NULL OR r.amount > p.amount)",
            &[],
        )
        .await?;
    if over_refunded != 0 {
        bail!(
            "refunds_within_payment: {over_refunded} orders were refunded more than they were paid"
        );
    }
    // Per top-up, what its reversals gave back (cash) and clawed back (bonus) is at most
    // what it brought in.
    let over_reversed = ledger
        .number(
            "WITH moved AS (SELECT j.code, j.terminal_id, j.outbox_entry_id, t.code AS part, \
                 sum(t.amount) AS amount \
               FROM journal_entries j JOIN transfers t ON t.entry_sequence = j.sequence \
               WHERE j.code IN ('top_up', 'top_up_reversal') AND t.code IN ('cash', 'bonus') \
               GROUP BY j.code, j.terminal_id, j.outbox_entry_id, t.code) \
             SELECT count(*) FROM moved r LEFT JOIN moved u ON u.code = 'top_up' \
               AND u.terminal_id = r.terminal_id AND u.outbox_entry_id = r.outbox_entry_id \
               AND u.part = r.part \
             WHERE r.code = 'top_up_reversal' AND (u.amount IS NULL OR r.amount > u.amount)",
            &[],
        )
        .await?;
    if over_reversed != 0 {
        bail!(
            "reversals_within_top_up: {over_reversed} top-ups gave back more than they brought in"
        );
    }
    let bonus_as_cash = ledger
        .number(
            "SELECT count(*) FROM transfers WHERE from_account LIKE 'customer/%/bonus' \
             AND (to_account = 'world' OR to_account LIKE 'drawer/%')",
            &[],
        )
        .await?;
    if bonus_as_cash != 0 {
        bail!("bonus_never_cash: {bonus_as_cash} transfers paid bonus out as cash");
    }
    if world.step % AUDIT_EVERY_STEPS == 0 {
        settlements::settlements_add_up(ledger).await?;
        let report = world.service.audit().await.map_err(|error| anyhow!("audit: {error:?}"))?;
        if !report.passed() {
            bail!("audit_clean: {}", report.problems.join("; "));
        }
    }
    Ok(())
}

/// Checks run once the network has healed and every counter has synced.
pub async fn after_heal(world: &World, ledger: &LedgerReader) -> Result<()> {
    after_step(world, ledger).await?;
    for index in 0..world.counters.len() {
        counter_agrees(world, index, ledger).await?;
    }
    // Every payment a customer was told of is on the server, once.
    for order in world.orders.iter().filter(|order| order.paid) {
        let terminal = world.counters[order.counter].terminal_id.to_string();
        let order_id = order.order_id.to_string();
        let payments = ledger
            .number(
                "SELECT count(*) FROM journal_entries WHERE code = 'payment' AND terminal_id = ? AND order_id = ?",
                &[&terminal, &order_id],
            )
            .await?;
        if payments != 1 {
            bail!(
                "acknowledged_present: {} was paid as its customer was told, and the server holds {payments} payments of it",
                order.label
            );
        }
    }
    settlements::settlements_add_up(ledger).await?;
    let report = world.service.audit_full().await.map_err(|error| anyhow!("audit: {error:?}"))?;
    if !report.passed() {
        bail!("audit_clean: {}", report.problems.join("; "));
    }
    Ok(())
}

/// One counter's records against the server's, after the heal.
async fn counter_agrees(world: &World, index: usize, ledger: &LedgerReader) -> Result<()> {
    let counter = &world.counters[index];
    let local = counter.counter.store();
    let label = &counter.label;
    let terminal = counter.terminal_id.to_string();
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&counter.path).read_only(true);
    let pool =
        sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
    let (pending, _) = local.pending_summary().await?;
    if pending != 0 {
        bail!(
            "outbox_drained: {label} still has {pending} entries waiting after the network healed"
        );
    }
    for row in sqlx::query("SELECT entry_id, state FROM outbox").fetch_all(&pool).await? {
        let entry_id: String = row.try_get("entry_id")?;
        let state: String = row.try_get("state")?;
        let applied = ledger
            .number(
                "SELECT count(*) FROM journal_entries WHERE code = 'top_up' AND terminal_id = ? AND outbox_entry_id = ?",
                &[&terminal, &entry_id],
            )
            .await?;
        let expected = i64::from(state == "acknowledged");
        if applied != expected {
            bail!(
                "outbox_exactly_once: {label}'s entry is {state} and was applied {applied} times"
            );
        }
    }
    // A refund may still wait after the heal when the server defers it (its service account
    // cannot cover it yet); then it is on neither side, which the next checks see.
    for row in
        sqlx::query("SELECT order_id, sum(amount) AS refunded FROM refunds GROUP BY order_id")
            .fetch_all(&pool)
            .await?
    {
        let order_id: String = row.try_get("order_id")?;
        let mine: i64 = row.try_get("refunded")?;
        let servers = ledger
            .number(
                "SELECT CAST(coalesce(sum(t.amount), 0) AS BIGINT) FROM journal_entries j \
                 JOIN transfers t ON t.entry_sequence = j.sequence \
                 WHERE j.code = 'refund' AND j.terminal_id = ? AND j.order_id = ?",
                &[&terminal, &order_id],
            )
            .await?;
        if mine != servers {
            bail!(
                "refunds_agree: {label} counts {mine} refunded of an order, the server {servers}"
            );
        }
    }
    // Every reversal the server applied for this counter is known to it, to the cent: the
    // sync worker resent each one whose answer was lost.
    let unanswered = local_count(&pool, "SELECT count(*) FROM reversal_attempts").await?;
    if unanswered != 0 {
        bail!(
            "reversals_agree: {label} still waits for {unanswered} reversal answers after the heal"
        );
    }
    // Every payout (redemption) the server made at this counter is known to it, to the
    // cent, and none waits for its answer.
    let unanswered = local_count(&pool, "SELECT count(*) FROM redemption_attempts").await?;
    if unanswered != 0 {
        bail!(
            "redemptions_agree: {label} still waits for {unanswered} payout answers after the heal"
        );
    }
    let mut server_payouts = ledger
        .texts(
            "SELECT CAST(j.sequence AS TEXT) || ':' || CAST(t.amount AS TEXT) \
             FROM journal_entries j JOIN transfers t ON t.entry_sequence = j.sequence \
             WHERE j.code = 'redemption' AND t.code = 'cash' AND j.terminal_id = ?",
            &[&terminal],
        )
        .await?;
    let mut local_payouts: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(entry_sequence AS TEXT) || ':' || CAST(cash AS TEXT) FROM redemptions",
    )
    .fetch_all(&pool)
    .await?;
    server_payouts.sort_unstable();
    local_payouts.sort_unstable();
    if server_payouts != local_payouts {
        bail!(
            "redemptions_agree: {label} has payouts {local_payouts:?}, the server {server_payouts:?}"
        );
    }
    let mut server_reversals = ledger
        .texts(
            "SELECT j.outbox_entry_id || ':' || CAST(sum(t.amount) AS TEXT) FROM journal_entries j \
             JOIN transfers t ON t.entry_sequence = j.sequence \
             WHERE j.code = 'top_up_reversal' AND t.code = 'cash' AND j.terminal_id = ? \
             GROUP BY j.outbox_entry_id",
            &[&terminal],
        )
        .await?;
    let mut local_reversals: Vec<String> = sqlx::query_scalar(
        "SELECT entry_id || ':' || CAST(sum(amount) AS TEXT) FROM top_up_reversals \
         GROUP BY entry_id",
    )
    .fetch_all(&pool)
    .await?;
    // Sorted here: the two databases may collate text differently.
    server_reversals.sort_unstable();
    local_reversals.sort_unstable();
    if server_reversals != local_reversals {
        bail!(
            "reversals_agree: the server reversed {server_reversals:?} of {label}'s top-ups, which knows of {local_reversals:?}"
        );
    }
    let server_refunds = ledger
        .number(
            "SELECT count(DISTINCT order_id) FROM journal_entries WHERE code = 'refund' AND terminal_id = ?",
            &[&terminal],
        )
        .await?;
    let local_refunds = local_count(&pool, "SELECT count(DISTINCT order_id) FROM refunds").await?;
    if server_refunds != local_refunds {
        bail!(
            "refunds_agree: the server refunded {server_refunds} orders of {label}, which knows of {local_refunds}"
        );
    }
    for order_id in ledger
        .texts(
            "SELECT order_id FROM journal_entries WHERE code = 'payment' AND terminal_id = ?",
            &[&terminal],
        )
        .await?
    {
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM orders WHERE order_id = ?")
                .bind(&order_id)
                .fetch_optional(&pool)
                .await?;
        if status.as_deref() != Some("paid") {
            bail!(
                "payments_known: an order of {label} paid on the server is {status:?} at the counter"
            );
        }
    }
    let cached: Vec<String> = sqlx::query_scalar(
        "SELECT customer_id FROM customers WHERE bound = 1 ORDER BY customer_id",
    )
    .fetch_all(&pool)
    .await?;
    let merchant = world.merchants[counter.merchant].id.to_string();
    let bound = ledger
        .texts(
            "SELECT customer_id FROM bindings WHERE merchant_id = ? ORDER BY customer_id",
            &[&merchant],
        )
        .await?;
    if cached != bound {
        bail!(
            "cache_converges: {label} holds {} customers bound, the server {}",
            cached.len(),
            bound.len()
        );
    }
    let local_rules =
        local_count(&pool, "SELECT coalesce(max(version), 0) FROM bonus_rules").await?;
    let server_rules = ledger
        .number("SELECT CAST(coalesce(max(version), 0) AS BIGINT) FROM bonus_rule_sets", &[])
        .await?;
    if local_rules != server_rules {
        bail!("cache_converges: {label} has bonus rules {local_rules}, the server {server_rules}");
    }
    pool.close().await;
    for day in world.days_so_far(counter.merchant)? {
        let report = counter.counter.day_report(day).await?;
        if report.matches != Some(true) {
            bail!(
                "day_reports_match: {label}'s {day} reads {:?} at the counter, {:?} on the server",
                report.counter,
                report.server.and_then(|server| server.this_terminal_in_day)
            );
        }
        if report.closed {
            let server = report.server.as_ref().ok_or_else(|| {
                anyhow!("closed_days_immutable: {label}'s Z-report of {day} keeps no close")
            })?;
            settlements::z_report_is_the_close(ledger, &merchant, &terminal, server)
                .await
                .map_err(|error| anyhow!("{error} (at {label})"))?;
            // The count the close sent is the one the server keeps for this counter's day.
            if let Some(count) = &report.cash_count {
                let kept = ledger
                    .number(
                        "SELECT count(*) FROM cash_counts WHERE terminal_id = ? AND day = ? \
                         AND CAST(counted AS TEXT) = ? AND CAST(expected AS TEXT) = ? \
                         AND CAST(counted_at_ms AS TEXT) = ?",
                        &[
                            &terminal,
                            &day.to_string(),
                            &count.counted.to_string(),
                            &count.expected.to_string(),
                            &count.counted_at_ms.to_string(),
                        ],
                    )
                    .await?;
                if kept != 1 {
                    bail!("cash_count_kept: {label}'s count of {day} is not the server's");
                }
            }
        }
    }
    Ok(())
}
