//! Moving a store's ledger from the embedded SQLite files to PostgreSQL with
//! `fund-server copy-to`, as an operator who outgrows one machine does: the server stopped,
//! the copy made and proven, the server started again on PostgreSQL at the same address.
//! The counter enrolled before the move keeps signing and syncing without noticing, the
//! customer stays signed in with the same balance, and the ledger continues where it was.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use counter_core::counter::Counter;
use counter_core::sync::{RoundOutcome, sync_round};
use sqlx::Connection;
use tillfund_e2e::demo::{self, DemoCustomer};
use tillfund_e2e::postgres::ThrowawayDatabase;
use tillfund_e2e::process::FundServer;
use tillfund_e2e::raw_counter::register_customer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_ledger_copied_to_postgresql_carries_on_where_it_was() {
    let data_dir = tempfile::tempdir().unwrap();
    let address = format!("127.0.0.1:{}", tillfund_e2e::free_port());
    let sqlite_server = FundServer::start(data_dir.path(), &address).unwrap();

    // A day at the store on SQLite: a top-up, a payment, a refund, a customer signed in.
    let counter_dir = tempfile::tempdir().unwrap();
    let counter = Counter::open(&counter_dir.path().join("counter.sqlite")).await.unwrap();
    let code = demo::activation_code(data_dir.path());
    counter.enrol(&sqlite_server.url, &code, "Counter 1").await.unwrap();
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Empty);
    let preview = counter.preview_top_up(demo::MEMBER_CODE, "600.00").await.unwrap();
    counter.record_top_up(None, &preview).await.unwrap();
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Done { pushed: 1 });
    let customer = DemoCustomer::sign_in(&sqlite_server.url).await;
    let order = counter.create_order(None, "25.00").await.unwrap();
    assert_eq!(customer.pay(&order.token, "before-the-move").await.status().as_u16(), 200);
    counter.refund(None, order.order_id, "5.00").await.unwrap();
    let wallet_before = customer.wallet().await;
    assert_eq!(wallet_before["total"], 60_000 + 5_000 - 2_500 + 500, "{wallet_before}");
    assert!(sqlite_server.stop().unwrap().success());
    // An operator's account and its trail move too.
    let add = ["operator", "add", "--name", "li.wei", "--role", "administrator"];
    let (ok, _, stderr) =
        demo::fund_server_cli_with_input(data_dir.path(), &[], &add, "keep the ledger honest\n");
    assert!(ok, "{stderr}");

    // A database that holds something else is refused before anything is written to it.
    let foreign = ThrowawayDatabase::create().await.unwrap();
    let mut connection = sqlx::PgConnection::connect(&foreign.url).await.unwrap();
    sqlx::query("CREATE TABLE invoices (id BIGINT)").execute(&mut connection).await.unwrap();
    let (ok, stdout, stderr) = demo::fund_server_cli(data_dir.path(), &["copy-to", &foreign.url]);
    assert!(!ok && stderr.contains("not Tillfund's"), "{stdout}{stderr}");
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_one(&mut connection)
    .await
    .unwrap();
    assert_eq!(tables, 1, "nothing was migrated into the foreign database");
    connection.close().await.unwrap();

    let database = ThrowawayDatabase::create().await.unwrap();
    let (ok, stdout, stderr) =
        demo::fund_server_cli(data_dir.path(), &["copy-to", "sqlite:///tmp/elsewhere.sqlite"]);
    assert!(!ok && stderr.contains("give a postgres://"), "{stdout}{stderr}");
    let (ok, stdout, stderr) = demo::fund_server_cli(data_dir.path(), &["copy-to", &database.url]);
    assert!(ok, "{stdout}{stderr}");
    eprintln!("{stdout}");
    // The demo's funding, the top-up, the payment and the refund.
    assert!(stdout.contains("copied 4 rows of journal_entries"), "{stdout}");
    assert!(stdout.contains("balances of all"), "{stdout}");
    assert!(stdout.contains("audited 4 journal entries"), "{stdout}");
    assert!(stdout.contains("audit passed"), "{stdout}");
    // Copying again would mix two ledgers: refused, and nothing changes.
    let (ok, again, stderr) = demo::fund_server_cli(data_dir.path(), &["copy-to", &database.url]);
    assert!(!ok && stderr.contains("is not empty"), "{again}{stderr}");

    // The same address, now on PostgreSQL, with the same secrets key (the data directory).
    let environment = [("DATABASE_URL", database.url.as_str())];
    let postgres_server =
        FundServer::start_with_env(data_dir.path(), &address, &environment).unwrap();
    assert_eq!(customer.wallet().await, wallet_before, "the session and balance moved");
    let preview = counter.preview_top_up(demo::MEMBER_CODE, "100.00").await.unwrap();
    counter.record_top_up(None, &preview).await.unwrap();
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Done { pushed: 1 });
    let order = counter.create_order(None, "40.00").await.unwrap();
    assert_eq!(customer.pay(&order.token, "after-the-move").await.status().as_u16(), 200);
    // A payment key used before the move is still known: its retry is answered, not paid.
    let earlier = counter.create_order(None, "25.00").await.unwrap();
    let replay = customer.pay(&earlier.token, "before-the-move").await;
    assert_eq!(replay.status().as_u16(), 409, "a key reused for another order is refused");
    // A customer who joins after the move reaches the counter's cache: the binding changes
    // continue after the copied ones, past the counter's cursor.
    let http = reqwest::Client::new();
    register_customer(&http, &postgres_server.url, "13900000042", &[demo::MERCHANT_ID]).await;
    sync_round(counter.store()).await;
    counter.preview_top_up("13900000042", "10.00").await.expect("the new customer is cached");
    let wallet_after = customer.wallet().await;
    assert_eq!(wallet_after["total"], 63_000 + 10_000 - 4_000, "{wallet_after}");
    assert!(postgres_server.stop().unwrap().success());
    // The copy's audit left a checkpoint after the 4 copied entries; two came since.
    let (ok, stdout, stderr) =
        demo::fund_server_cli_with_env(data_dir.path(), &environment, &["audit"]);
    assert!(ok && stdout.contains("audited 2 journal entries after entry 4"), "{stdout}{stderr}");
    let (ok, stdout, stderr) =
        demo::fund_server_cli_with_env(data_dir.path(), &environment, &["audit", "--full"]);
    assert!(ok && stdout.contains("audited 6 journal entries"), "{stdout}{stderr}");
    // The operator's account, and the audit just before, recorded as `cli`.
    assert!(stdout.contains("checked the chain of 2 records of the operators' trail"), "{stdout}");
    let (_, list, _) =
        demo::fund_server_cli_with_env(data_dir.path(), &environment, &["operator", "list"]);
    assert!(list.contains("li.wei") && list.contains("active"), "{list}");
}
