//! Fixtures for the checks: parties and ledger commands made the same way for every backend.

use fund_server::ledger::{
    CashTopUp, Command, CommandKind, Decided, IdempotencyKey, LedgerPolicy, Payment,
};
use fund_server::ledger_writer::apply_batch;
use fund_server::model::{Customer, Merchant, Terminal};
use fund_server::store::Storage;
use tillfund_core::payment_token::PaymentClaims;
use tillfund_core::{
    Amount, Currency, CustomerId, MemberCode, MerchantId, OrderId, OutboxEntryId, PhoneNumber,
    PositiveAmount, TerminalId,
};

pub fn merchant(name: &str) -> Merchant {
    Merchant { id: MerchantId::generate(), name: name.into(), time_zone: "Asia/Shanghai".into() }
}

pub fn customer(index: u64) -> Customer {
    Customer {
        id: CustomerId::generate(),
        phone: PhoneNumber::parse(&format!("1390000{index:04}")).unwrap(),
        display_name: format!("Customer {index}"),
        member_code: MemberCode::from_body(index),
        pin_hash: "hash".into(),
    }
}

pub fn terminal(merchant_id: MerchantId, receipt_prefix: &str, secret: &str) -> Terminal {
    Terminal {
        id: TerminalId::generate(),
        merchant_id,
        label: "Counter".into(),
        receipt_prefix: receipt_prefix.into(),
        secret: secret.into(),
        server_public_key: None,
        enrolled_at_ms: 1_000,
        revoked: false,
    }
}

pub fn positive(minor_units: i64) -> PositiveAmount {
    PositiveAmount::try_from(minor_units).unwrap()
}

pub fn minor(minor_units: i64) -> Amount {
    Amount::from_minor_units(minor_units).unwrap()
}

pub fn policy() -> LedgerPolicy {
    LedgerPolicy::default_for(Currency::CNY)
}

/// A merchant with one customer bound to it.
pub async fn shop<S: Storage>(store: &S) -> (Merchant, Customer) {
    let shop = merchant("Shop");
    store.add_merchant(&shop, 1_000).await.unwrap();
    let buyer = customer(1);
    store.register_customer(&buyer, &[shop.id], || unreachable!(), None, 1_000).await.unwrap();
    (shop, buyer)
}

pub fn command(key: &str, recorded_at_ms: i64, kind: CommandKind) -> Command {
    Command {
        idempotency: IdempotencyKey { key: key.into(), fingerprint: [1; 32] },
        recorded_at_ms,
        kind,
    }
}

pub fn fund(key: &str, minor_units: i64) -> Command {
    command(key, 1_000, CommandKind::FundReserve { amount: positive(minor_units) })
}

pub fn top_up(
    key: &str,
    shop: &Merchant,
    terminal_id: TerminalId,
    buyer: CustomerId,
    minor_units: i64,
) -> Command {
    command(
        key,
        1_000,
        CommandKind::CashTopUp(CashTopUp {
            merchant_id: shop.id,
            terminal_id,
            outbox_entry_id: OutboxEntryId::generate(),
            customer_id: buyer,
            amount: positive(minor_units),
            bonus_shown: Amount::ZERO,
            rule_set_version: None,
        }),
    )
}

pub fn payment(
    key: &str,
    shop: &Merchant,
    terminal_id: TerminalId,
    order_id: OrderId,
    buyer: CustomerId,
    minor_units: i64,
) -> Command {
    command(
        key,
        1_000,
        CommandKind::Payment(Payment {
            claims: PaymentClaims {
                merchant_id: shop.id,
                terminal_id,
                order_id,
                amount: positive(minor_units),
                currency: "CNY".into(),
                expires_at_ms: i64::MAX,
            },
            customer_id: buyer,
            confirmation_code: "000000".into(),
        }),
    )
}

/// Applies commands as one batch and insists every one was decided.
pub async fn apply<S: Storage>(store: &S, commands: &[Command]) -> Vec<Decided> {
    apply_batch(store, &policy(), commands)
        .await
        .unwrap()
        .into_iter()
        .map(|result| result.expect("decided"))
        .collect()
}

/// A database of its own on the test PostgreSQL server, dropped (connections and all) when
/// this guard is, so no check sees another's rows and nothing is left behind.
pub struct ThrowawayDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

/// The server the PostgreSQL checks use; `make test` makes sure it answers.
pub fn postgres_admin_url() -> String {
    std::env::var("TILLFUND_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

impl ThrowawayDatabase {
    pub async fn create() -> ThrowawayDatabase {
        use sqlx::Connection;
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let admin_url = postgres_admin_url();
        let name = format!(
            "tillfund_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            {
                let mut salt = [0_u8; 4];
                tillfund_core::random::fill(&mut salt);
                u32::from_be_bytes(salt)
            }
        );
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap_or_else(|error| {
            panic!("PostgreSQL at {admin_url} does not answer ({error}); `make test` starts it, or set TILLFUND_TEST_POSTGRES")
        });
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.unwrap();
        admin.close().await.unwrap();
        let (base, _) = admin_url.rsplit_once('/').expect("a database URL ends in /NAME");
        ThrowawayDatabase { url: format!("{base}/{name}"), admin_url, name }
    }
}

impl Drop for ThrowawayDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop cannot await; a thread with its own runtime does the dropping.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                use sqlx::Connection;
                let mut admin =
                    sqlx::PgConnection::connect(&admin_url).await.map_err(std::io::Error::other)?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await
                    .map_err(std::io::Error::other)?;
                Ok::<(), std::io::Error>(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the test database {}: {dropped:?}", self.name);
        }
    }
}

/// Where a check can reach the database beneath a store, as an intruder with the file or
/// the credentials would.
pub trait RawDatabase {
    fn url(&self) -> String;
}

/// A SQLite store's file, in a directory removed with this guard.
pub struct SqliteFile {
    pub url: String,
    pub _directory: tempfile::TempDir,
}

impl RawDatabase for SqliteFile {
    fn url(&self) -> String {
        self.url.clone()
    }
}

impl RawDatabase for ThrowawayDatabase {
    fn url(&self) -> String {
        self.url.clone()
    }
}

/// Runs one statement on the database at `url`, beneath any store.
pub async fn execute_raw(url: &str, statement: &str) -> Result<u64, String> {
    use sqlx::Connection;
    if url.starts_with("sqlite://") {
        let mut connection =
            sqlx::SqliteConnection::connect(url).await.map_err(|e| e.to_string())?;
        let done = sqlx::query(statement).execute(&mut connection).await.map_err(|e| e.to_string());
        connection.close().await.map_err(|e| e.to_string())?;
        done.map(|done| done.rows_affected())
    } else {
        let mut connection = sqlx::PgConnection::connect(url).await.map_err(|e| e.to_string())?;
        let done = sqlx::query(statement).execute(&mut connection).await.map_err(|e| e.to_string());
        connection.close().await.map_err(|e| e.to_string())?;
        done.map(|done| done.rows_affected())
    }
}
