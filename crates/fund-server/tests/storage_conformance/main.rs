//! The storage conformance suite: what every `Storage` implementation must do, written
//! against the traits only. A backend passes by running every check here; SQLite and
//! PostgreSQL run below. A new backend adds one line to `backends!`, with a function that
//! opens a fresh, migrated, empty store of its kind.
//!
//! PostgreSQL: each check gets a throwaway database on the server `TILLFUND_TEST_POSTGRES`
//! names (default `postgres://postgres@127.0.0.1:5432/postgres`, what `make test` starts),
//! dropped when the check ends, pass or fail.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::unreachable)]

mod attempts;
mod audit;
mod cash_counts;
mod cashiers;
mod ledger;
mod life_cycle;
mod operators;
mod parties;
mod support;
mod tamper;
mod terminals;
#[path = "../common/test_database.rs"]
mod test_database;
mod yields;

use fund_server::store::prelude::*;
use fund_server::store::{PgStore, SqliteStore};

/// A fresh SQLite store in its own directory; the directory lives as long as the guard.
async fn sqlite() -> (SqliteStore, support::SqliteFile) {
    let file = support::SqliteFile::create();
    let store = SqliteStore::connect(&file.url).await.unwrap();
    store.migrate().await.unwrap();
    (store, file)
}

/// A fresh PostgreSQL store in a database of its own, dropped with the guard.
async fn postgres() -> (PgStore, support::ThrowawayDatabase) {
    let database = support::ThrowawayDatabase::create().await;
    let store = PgStore::connect(&database.url).await.unwrap();
    store.migrate().await.unwrap();
    (store, database)
}

/// One test per check and backend: `sqlite::parties_merchants_listed_by_name`, …
macro_rules! backends {
    ($($backend:ident => $open:path),* $(,)?) => {$(
        mod $backend {
            checks! { $open;
                life_cycle::migrating_again_changes_nothing,
                parties::merchants_are_kept_and_listed_by_name,
                parties::registration_answers_every_outcome_and_writes_once,
                parties::a_taken_member_code_is_drawn_again,
                parties::pin_attempts_lock_at_the_limit_and_reset,
                parties::parallel_pin_attempts_never_pass_the_limit,
                parties::bindings_change_once_and_are_pulled_in_order,
                parties::sessions_live_until_they_expire_or_end_and_expired_ones_are_purged,
                terminals::activation_codes_enrol_once,
                terminals::terminals_keep_keys_and_revocation,
                terminals::a_nonce_is_accepted_once_per_terminal,
                terminals::parallel_uses_of_a_nonce_accept_one,
                attempts::attempts_count_per_key_within_a_window,
                attempts::ended_windows_are_purged,
                attempts::parallel_attempts_are_all_counted,
                ledger::a_batch_writes_only_when_committed,
                ledger::batches_apply_once_and_balance_to_zero,
                ledger::bonus_rule_sets_get_the_next_version,
                ledger::paid_orders_are_found_by_counter_and_merchant,
                ledger::a_day_is_open_then_closed_with_its_figures,
                ledger::the_audit_reads_one_clean_journal,
                ledger::wallet_history_is_newest_first,
                yields::yield_rates_are_set_and_replaced_by_day,
                yields::an_accrual_day_is_recorded_once_and_posted,
                yields::accrual_takes_balances_as_of_an_entry,
                operators::accounts_are_unique_by_name_and_read_back,
                operators::parallel_sign_in_attempts_never_pass_the_limit,
                operators::a_second_factor_step_is_used_once_even_in_parallel,
                operators::sessions_end_by_idling_expiry_sign_out_and_account_changes,
                operators::the_trail_appends_in_one_chain_and_is_read_back_by_filter,
                operators::a_proposal_is_decided_once_never_by_its_proposer_and_never_late,
                cash_counts::a_drawer_count_is_kept_once_per_counter_and_day,
                cashiers::a_record_keeps_its_first_cashier_and_names_come_from_the_store,
            }

            /// Writes its many wallets beneath the store.
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn accrual_and_postings_page_through_every_wallet() {
                use crate::support::RawDatabase;
                let (store, guard) = $open().await;
                crate::yields::accrual_and_postings_page_through_every_wallet(
                    store,
                    &guard.url(),
                )
                .await;
            }

            /// Needs to reach the database beneath the store, as an intruder would.
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn the_incremental_audit_resumes_and_checks_every_balance() {
                use crate::support::RawDatabase;
                let (store, guard) = $open().await;
                crate::audit::the_incremental_audit_resumes_and_checks_every_balance(
                    store,
                    &guard.url(),
                )
                .await;
            }

            /// Needs to reach the database beneath the store, as an intruder would.
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn the_database_itself_refuses_to_rewrite_the_trail() {
                use crate::support::RawDatabase;
                let (store, guard) = $open().await;
                crate::operators::the_database_itself_refuses_to_rewrite_the_trail(
                    store,
                    &guard.url(),
                )
                .await;
            }

            /// Needs to reach the database beneath the store, as an intruder would.
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn the_database_itself_refuses_to_rewrite_the_journal() {
                use crate::support::RawDatabase;
                let (store, guard) = $open().await;
                crate::tamper::the_database_itself_refuses_to_rewrite_the_journal(
                    store,
                    &guard.url(),
                )
                .await;
            }
        }
    )*};
}

macro_rules! checks {
    ($open:path; $($module:ident :: $check:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $check() {
            let (store, _guard) = $open().await;
            crate::$module::$check(store).await;
        }
    )*};
}

backends! {
    sqlite => super::sqlite,
    postgres => super::postgres,
}
