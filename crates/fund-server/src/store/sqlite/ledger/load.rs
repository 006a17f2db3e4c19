//! Loading what a batch needs inside its write transaction, with a few multi-row reads.

use super::*;
use crate::ledger::OrderKey;

pub(super) async fn load_batch_state(
    connection: &mut SqliteConnection,
    needs: &BatchNeeds,
    now_ms: i64,
) -> Result<BatchState, StoreError> {
    let (existing_customers, bindings) = load_customers(connection, needs).await?;
    let orders = load_orders(connection, &needs.orders).await?;
    let top_ups = load_top_ups(connection, &needs.top_ups).await?;
    // A refund names only its order, a reversal only its top-up; the wallet they touch is
    // known once those are loaded, so the accounts to load are completed here.
    let mut accounts = needs.accounts.clone();
    for order in orders.values() {
        accounts.extend(Account::wallet_buckets(order.customer_id));
    }
    for top_up in top_ups.values() {
        accounts.extend(Account::wallet_buckets(top_up.customer_id));
    }
    let balances = load_balances(connection, &accounts).await?;
    let idempotency = load_outcomes(connection, &needs.idempotency_keys).await?;
    let mut unsettled = HashMap::new();
    for (merchant_id, day, day_end_ms) in &needs.closes {
        let day_state = unsettled_day(connection, *merchant_id, day, *day_end_ms).await?;
        unsettled.insert((*merchant_id, day.clone()), day_state);
    }
    let mut unsettled_within_days = HashMap::new();
    for (merchant_id, day_start_ms, day_end_ms) in &needs.reversal_days {
        let entries =
            unsettled_within(connection, *merchant_id, *day_start_ms, *day_end_ms).await?;
        unsettled_within_days.insert((*merchant_id, *day_start_ms, *day_end_ms), entries);
    }
    let (rule_sets, current_rule_set) =
        load_rule_sets(connection, &needs.rule_set_versions).await?;
    let (head_sequence, head_hash, head_applied_at_ms) = load_journal_head(connection).await?;
    let reserve_alert_open = sqlx::query("SELECT 1 FROM ledger_alerts WHERE name = 'reserve'")
        .fetch_optional(&mut *connection)
        .await?
        .is_some();
    // Read in the write transaction: a batch decides under the limits in force as it commits.
    let money_limits = sqlx::query(crate::store::sqlite::limits::NEWEST_LIMITS)
        .fetch_optional(&mut *connection)
        .await?
        .as_ref()
        .map(crate::store::sqlite::limits::limits_row)
        .transpose()?
        .map(|stored| stored.limits);
    Ok(BatchState {
        top_ups,
        unsettled,
        unsettled_within_day: unsettled_within_days,
        money_limits,
        reserve_alert_open,
        balances,
        existing_customers,
        bindings,
        orders,
        idempotency,
        rule_sets,
        current_rule_set,
        head_sequence,
        head_hash,
        applied_at_ms: now_ms.max(head_applied_at_ms),
    })
}

/// Which of the needed customers exist, and which of the needed bindings hold.
async fn load_customers(
    connection: &mut SqliteConnection,
    needs: &BatchNeeds,
) -> Result<(HashSet<CustomerId>, HashSet<(CustomerId, MerchantId)>), StoreError> {
    let customer_ids: Vec<String> = needs.customers.iter().map(ToString::to_string).collect();
    let mut existing_customers = HashSet::new();
    let mut bindings = HashSet::new();
    for chunk in customer_ids.chunks(ROWS_PER_STATEMENT) {
        // Each customer with each merchant it is bound to ('-' for none), packed in one row.
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT group_concat(c.id || ' ' || coalesce(b.merchant_id, '-'), char(10)) \
             FROM customers c LEFT JOIN bindings b ON b.customer_id = c.id WHERE c.id IN (",
        );
        push_list(&mut query, chunk);
        let packed: Option<String> = query.build_query_scalar().fetch_one(&mut *connection).await?;
        for line in packed.as_deref().unwrap_or("").lines() {
            let (customer, merchant) =
                line.split_once(' ').ok_or_else(|| corrupt("packed binding"))?;
            let customer_id: CustomerId = parse(customer)?;
            existing_customers.insert(customer_id);
            if merchant != "-" {
                let pair = (customer_id, parse::<MerchantId>(merchant)?);
                if needs.bindings.contains(&pair) {
                    bindings.insert(pair);
                }
            }
        }
    }
    Ok((existing_customers, bindings))
}

/// Paid orders by (counter, order).
async fn load_orders(
    connection: &mut SqliteConnection,
    wanted: &BTreeSet<OrderKey>,
) -> Result<HashMap<OrderKey, PaidOrder>, StoreError> {
    let order_ids: Vec<String> = wanted.iter().map(|(_, order_id)| order_id.to_string()).collect();
    let mut orders = HashMap::new();
    for chunk in order_ids.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {PAID_ORDER_COLUMNS} FROM paid_orders WHERE order_id IN ("
        ));
        push_list(&mut query, chunk);
        for row in query.build().fetch_all(&mut *connection).await? {
            let order = paid_order_from_row(&row)?;
            // Order ids are per counter: another counter's order of the same id is not it.
            let order_key = (order.terminal_id, order.order_id);
            if wanted.contains(&order_key) {
                orders.insert(order_key, order);
            }
        }
    }
    Ok(orders)
}

/// Every account in `accounts`, at zero when it has no row yet: the engine treats an
/// account missing from the map as a bug, never as an empty account.
async fn load_balances(
    connection: &mut SqliteConnection,
    accounts: &BTreeSet<Account>,
) -> Result<HashMap<Account, Amount>, StoreError> {
    let mut balances: HashMap<Account, Amount> =
        accounts.iter().map(|account| (*account, Amount::ZERO)).collect();
    let account_keys: Vec<String> = accounts.iter().map(ToString::to_string).collect();
    for chunk in account_keys.chunks(ROWS_PER_STATEMENT) {
        // One row for the whole chunk: sqlx hands rows over from its SQLite thread one at a
        // time, and a batch loads hundreds of balances.
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT group_concat(key || ' ' || balance, char(10)) FROM accounts WHERE key IN (",
        );
        push_list(&mut query, chunk);
        let packed: Option<String> = query.build_query_scalar().fetch_one(&mut *connection).await?;
        for line in packed.as_deref().unwrap_or("").lines() {
            let (key, balance) = line.split_once(' ').ok_or_else(|| corrupt("packed balance"))?;
            balances.insert(parse(key)?, amount(parse(balance)?)?);
        }
    }
    Ok(balances)
}

/// The stored outcomes of the idempotency keys the batch carries.
async fn load_outcomes(
    connection: &mut SqliteConnection,
    keys: &BTreeSet<String>,
) -> Result<HashMap<String, StoredOutcome>, StoreError> {
    let keys: Vec<String> = keys.iter().cloned().collect();
    let mut idempotency = HashMap::new();
    for chunk in keys.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT key, fingerprint, outcome FROM idempotency_records WHERE key IN (",
        );
        push_list(&mut query, chunk);
        for row in query.build().fetch_all(&mut *connection).await? {
            let outcome: Outcome =
                serde_json::from_str(row.try_get::<&str, _>("outcome")?).map_err(corrupt)?;
            idempotency.insert(
                row.try_get::<String, _>("key")?,
                StoredOutcome { fingerprint: hash(row.try_get("fingerprint")?)?, outcome },
            );
        }
    }
    Ok(idempotency)
}

/// The journal's last entry: sequence, hash and when it was applied (genesis when empty).
async fn load_journal_head(
    connection: &mut SqliteConnection,
) -> Result<(i64, [u8; 32], i64), StoreError> {
    let head = sqlx::query(
        "SELECT sequence, hash, applied_at_ms FROM journal_entries ORDER BY sequence DESC LIMIT 1",
    )
    .fetch_optional(&mut *connection)
    .await?;
    Ok(match head {
        Some(row) => {
            (row.try_get("sequence")?, hash(row.try_get("hash")?)?, row.try_get("applied_at_ms")?)
        }
        None => (0, crate::ledger::entry::GENESIS_HASH, 0),
    })
}

/// Applied top-ups by their outbox entry, with what reversals have taken back so far.
pub(super) async fn load_top_ups(
    connection: &mut SqliteConnection,
    wanted: &BTreeSet<TopUpKey>,
) -> Result<HashMap<TopUpKey, AppliedTopUp>, StoreError> {
    let ids: Vec<String> = wanted.iter().map(|(_, entry_id)| entry_id.to_string()).collect();
    let mut top_ups: HashMap<TopUpKey, AppliedTopUp> = HashMap::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT e.outbox_entry_id, e.terminal_id, e.merchant_id, e.customer_id, e.code, \
             t.code AS transfer_code, \
             t.amount FROM journal_entries e JOIN transfers t ON t.entry_sequence = e.sequence \
             WHERE e.code IN ('top_up', 'top_up_reversal') AND e.outbox_entry_id IN (",
        );
        push_list(&mut query, chunk);
        for row in query.build().fetch_all(&mut *connection).await? {
            let outbox_entry_id: OutboxEntryId = parse(row.try_get::<&str, _>("outbox_entry_id")?)?;
            let terminal_id: TerminalId = parse(row.try_get::<&str, _>("terminal_id")?)?;
            let key = (terminal_id, outbox_entry_id);
            // Entry ids are per counter: another counter's entry of the same id is not it.
            if !wanted.contains(&key) {
                continue;
            }
            let entry = match top_ups.get_mut(&key) {
                Some(entry) => entry,
                None => top_ups.entry(key).or_insert(AppliedTopUp {
                    outbox_entry_id,
                    terminal_id,
                    merchant_id: parse(row.try_get::<&str, _>("merchant_id")?)?,
                    customer_id: parse(row.try_get::<&str, _>("customer_id")?)?,
                    amount: 0,
                    bonus: 0,
                    reversed_amount: 0,
                    reversed_bonus: 0,
                }),
            };
            let amount: i64 = row.try_get("amount")?;
            match (row.try_get::<&str, _>("code")?, row.try_get::<&str, _>("transfer_code")?) {
                ("top_up", "principal") => entry.amount += amount,
                ("top_up", "bonus") => entry.bonus += amount,
                ("top_up_reversal", "principal") => entry.reversed_amount += amount,
                ("top_up_reversal", "bonus") => entry.reversed_bonus += amount,
                _ => {}
            }
        }
    }
    // A reversal without its top-up cannot happen; drop anything that is not a top-up.
    top_ups.retain(|_, top_up| top_up.amount > 0);
    Ok(top_ups)
}

pub(super) async fn load_rule_sets(
    connection: &mut SqliteConnection,
    versions: &BTreeSet<u32>,
) -> Result<(HashMap<u32, RuleSetRecord>, BonusRuleSet), StoreError> {
    let mut query = QueryBuilder::<Sqlite>::new(
        "SELECT version, rules, published_at_ms, superseded_at_ms FROM bonus_rule_sets \
         WHERE version = (SELECT max(version) FROM bonus_rule_sets)",
    );
    // A counter names at most a few versions per batch; the list is short.
    for version in versions.iter().take(ROWS_PER_STATEMENT) {
        query.push(" OR version = ").push_bind(i64::from(*version));
    }
    let mut records = HashMap::new();
    let mut current: Option<(u32, BonusRuleSet)> = None;
    for row in query.build().fetch_all(&mut *connection).await? {
        let version = u32::try_from(row.try_get::<i64, _>("version")?).map_err(corrupt)?;
        let rules = serde_json::from_str(row.try_get::<&str, _>("rules")?).map_err(corrupt)?;
        let rule_set = BonusRuleSet::new(version, rules).map_err(corrupt)?;
        if current.as_ref().is_none_or(|(current_version, _)| version > *current_version) {
            current = Some((version, rule_set.clone()));
        }
        records.insert(
            version,
            RuleSetRecord {
                rule_set,
                published_at_ms: row.try_get("published_at_ms")?,
                superseded_at_ms: row.try_get("superseded_at_ms")?,
            },
        );
    }
    let current = current.map_or_else(BonusRuleSet::empty, |(_, rule_set)| rule_set);
    Ok((records, current))
}
