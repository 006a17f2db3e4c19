//! The simulated world: one fund server (its service, its router, its SQLite files), the
//! stores, the counters (each a real `Counter` on its own SQLite file), the customers, and
//! the network between them, all on one clock the simulator moves.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Result, anyhow};
use counter_core::counter::Counter;
use counter_core::sim_bugs::CounterSimBugs;
use counter_core::transport::CounterEnv;
use fund_server::credentials::PinHashCost;
use fund_server::http::{AppState, WebLimits, app};
use fund_server::ledger::{LedgerPolicy, ServerSimBugs};
use fund_server::service::{FundService, NewWallet, ServiceConfig};
use fund_server::store::prelude::*;
use fund_server::store::{Backend, PgStore, SqliteStore};
use rust_decimal::Decimal;
use tillfund_core::bonus::{BonusFormula, BonusRule, BonusTier};
use tillfund_core::clock::Clock;
use tillfund_core::ids::IdSource;
use tillfund_core::{
    Amount, Currency, CustomerId, DisplayName, MemberCode, MerchantId, OrderId, OutboxEntryId,
    PaymentPin, PhoneNumber, PositiveAmount, TerminalId,
};

use crate::faults::CrashSwitch;
use crate::ledger::LedgerReader;
use crate::network::{FaultRates, Link, Network};
use crate::postgres::ThrowawayDatabase;
use crate::rng::Rng;
use crate::trace::Trace;
use crate::{Bug, Database};

/// 2026-03-28 20:00 UTC: hours before Europe/Berlin moves its clocks, a day's end in
/// Shanghai just passed. Days, zones and the clock change are all in reach of a run.
pub const EPOCH_MS: i64 = 1_774_728_000_000;
pub const CUSTOMER_PIN: &str = "123456";
/// Minor units in the reserve at the start: enough that yield never runs it dry.
const RESERVE_FUNDING: &str = "1000000.00";

pub struct SimMerchant {
    pub id: MerchantId,
    pub time_zone: String,
}

pub struct SimCounter {
    pub label: String,
    /// The counter's own clock: the server's plus `skew_ms`.
    pub clock: Clock,
    pub skew_ms: i64,
    pub crash: Arc<CrashSwitch>,
    pub path: PathBuf,
    pub merchant: usize,
    pub terminal_id: TerminalId,
    pub counter: Counter,
    pub env: CounterEnv,
}

pub struct SimCustomer {
    pub label: String,
    pub id: CustomerId,
    pub member_code: String,
    pub token: String,
    /// Per store: whether this customer is bound to it (as the simulator last set it).
    pub bound: Vec<bool>,
    /// A payment whose answer did not arrive: (order index, idempotency key), retried.
    pub unanswered_payment: Option<(usize, String)>,
    pub payments_made: u32,
}

pub struct SimOrder {
    pub label: String,
    pub counter: usize,
    pub order_id: OrderId,
    pub amount: i64,
    pub token: String,
    /// Whether a customer was told it is paid (it may be paid without anyone told).
    pub paid: bool,
}

/// A top-up a counter recorded (pushed or not yet): what a manager may reverse.
pub struct SimTopUp {
    pub label: String,
    pub counter: usize,
    pub entry_id: OutboxEntryId,
    pub amount: i64,
}

pub struct World {
    pub rng: Rng,
    pub trace: Trace,
    pub clock: Clock,
    pub network: Arc<Network>,
    pub service: FundService,
    pub merchants: Vec<SimMerchant>,
    pub counters: Vec<SimCounter>,
    pub customers: Vec<SimCustomer>,
    pub orders: Vec<SimOrder>,
    pub top_ups: Vec<SimTopUp>,
    pub step: u32,
    /// The server process's fate at its ledger's next commits.
    pub server_crash: Arc<CrashSwitch>,
    /// The counter the current operation acts at, when a crash is planned for it.
    pub focus: Option<usize>,
    config: ServiceConfig,
    database_url: String,
    /// The run's PostgreSQL database, when the server runs on one.
    postgres: Option<ThrowawayDatabase>,
    /// Where the files live; removed when the world is dropped.
    _directory: tempfile::TempDir,
    seed: u64,
    bug: Bug,
}

fn simulation_directory() -> Result<tempfile::TempDir> {
    // Memory-backed where there is one: fsyncs cost nothing, the files are still real.
    let shm = std::path::Path::new("/dev/shm");
    let parent = std::env::var_os("TILLFUND_SIM_DIR")
        .map(PathBuf::from)
        .or_else(|| shm.is_dir().then(|| shm.to_path_buf()));
    Ok(match parent {
        Some(parent) => tempfile::Builder::new().prefix("tillfund-sim-").tempdir_in(parent)?,
        None => tempfile::Builder::new().prefix("tillfund-sim-").tempdir()?,
    })
}

fn minor(text: &str) -> Result<PositiveAmount> {
    PositiveAmount::parse(text, Currency::CNY).map_err(|error| anyhow!("{error}"))
}

impl World {
    /// Builds the world of `seed`: two stores, 2–4 counters enrolled over the network,
    /// 3–6 customers bound to some of the stores, a funded reserve, a bonus rule and a
    /// yield rate.
    pub async fn create(seed: u64, bug: Bug, database: Database, trace: Trace) -> Result<World> {
        let mut rng = Rng::new(seed);
        let clock = Clock::manual(EPOCH_MS);
        let directory = simulation_directory()?;
        let postgres = match database {
            Database::Sqlite => None,
            Database::Postgres => Some(ThrowawayDatabase::create(seed).await?),
        };
        let database_url = match &postgres {
            Some(postgres) => postgres.url.clone(),
            None => format!("sqlite://{}", directory.path().join("fund.sqlite").display()),
        };
        let mut config = ServiceConfig::new(LedgerPolicy::default_for(Currency::CNY));
        config.pin_hash_cost = PinHashCost::MINIMAL;
        config.ids = IdSource::seeded(rng.next_u64(), clock.clone());
        config.policy.sim_bugs = ServerSimBugs {
            outbox_idempotency_off: bug == Bug::OutboxIdempotencyOff,
            refund_ignores_refunded: bug == Bug::RefundIgnoresRefunded,
            counter_parts_skip_refunds: bug == Bug::CounterPartsSkipRefunds,
        };
        let network_rng = rng.fork();
        let rates = FaultRates::draw(&mut rng);
        let server_crash = CrashSwitch::new();
        let network =
            Network::new(network_rng, FaultRates::CALM, trace.clone(), server_crash.clone());
        let service = start_server(&database_url, &clock, &config, &network, &server_crash).await?;
        trace.push(format!(
            "# seed={seed}{} bug={} faults per mille: drop={} lose_answer={} duplicate={} delay={}",
            if database == Database::Postgres { " postgres" } else { "" },
            bug.name(),
            rates.drop,
            rates.lose_answer,
            rates.duplicate,
            rates.delay
        ));

        let mut merchants = Vec::new();
        for (name, time_zone) in [("Store A", "Asia/Shanghai"), ("Store B", "Europe/Berlin")] {
            let merchant = service.add_merchant(name, time_zone).await?;
            merchants.push(SimMerchant { id: merchant.id, time_zone: time_zone.to_owned() });
        }
        service.fund_reserve(minor(RESERVE_FUNDING)?, "sim-reserve").await?;
        publish_rules(&service, 1).await?;
        let epoch_day = jiff::Timestamp::from_millisecond(EPOCH_MS)?
            .to_zoned(service.config().yield_policy.time_zone.clone())
            .date();
        service.set_yield_rate(epoch_day, Decimal::new(25, 3)).await?;

        let mut customers = Vec::new();
        let customer_count = rng.between(3, 6);
        for index in 1..=customer_count {
            let mut bound = Vec::new();
            let mut bound_flags = Vec::new();
            for merchant in &merchants {
                let binds = rng.chance(700);
                bound_flags.push(binds);
                if binds {
                    bound.push(merchant.id);
                }
            }
            let wallet = NewWallet {
                customer_id: CustomerId::generate_from(&service.config().ids),
                member_code: MemberCode::from_body(rng.below(10_000_000_000)),
            };
            let phone = PhoneNumber::parse(&format!("139{index:08}"))?;
            let name = DisplayName::parse(&format!("Customer {index}"))?;
            let view = service
                .register_customer_as(
                    wallet,
                    phone.clone(),
                    name,
                    PaymentPin::parse(CUSTOMER_PIN)?,
                    bound,
                    &format!("sim-{index}"),
                )
                .await?;
            let (token, _) = service.sign_in(&phone, PaymentPin::parse(CUSTOMER_PIN)?).await?;
            customers.push(SimCustomer {
                label: format!("K{index}"),
                id: view.customer_id,
                member_code: view.member_code.as_str().to_owned(),
                token,
                bound: bound_flags,
                unanswered_payment: None,
                payments_made: 0,
            });
        }

        let mut world = World {
            rng,
            trace,
            clock,
            network,
            service,
            merchants,
            counters: Vec::new(),
            customers,
            orders: Vec::new(),
            top_ups: Vec::new(),
            step: 0,
            server_crash,
            focus: None,
            config,
            database_url,
            postgres,
            _directory: directory,
            seed,
            bug,
        };
        let counter_count = world.rng.between(2, 4);
        for index in 1..=counter_count {
            // C1 and C2 at store A (store and this-counter figures differ), the rest at B.
            let merchant = if index <= 2 { 0 } else { 1 };
            world.enrol_counter(index, merchant).await?;
        }
        for index in 0..world.counters.len() {
            counter_core::sync::sync_round(world.counters[index].counter.store()).await;
        }
        world.network.set_rates(rates);
        Ok(world)
    }

    async fn enrol_counter(&mut self, index: i64, merchant: usize) -> Result<()> {
        let label = format!("C{index}");
        let path = self._directory.path().join(format!("counter-{index}.sqlite"));
        let clock = Clock::manual(self.clock.now_ms());
        let crash = CrashSwitch::new();
        let env = CounterEnv {
            clock: clock.clone(),
            ids: IdSource::seeded(self.seed ^ (0x00C0_FFEE << index), clock.clone()),
            transport: Some(Arc::new(Link {
                from: label.clone(),
                network: self.network.clone(),
                crash: crash.clone(),
            })),
            sim_bugs: CounterSimBugs { ack_before_answer: self.bug == Bug::AckBeforeAnswer },
            commit_gate: Some(crash.gate()),
        };
        let counter = Counter::open_with(&path, env.clone()).await?;
        let (code, _) = self.service.create_activation_code(self.merchants[merchant].id).await?;
        let profile = counter.enrol("http://fund.sim", &code, &format!("Counter {index}")).await?;
        self.counters.push(SimCounter {
            label,
            clock,
            skew_ms: 0,
            crash,
            path,
            merchant,
            terminal_id: profile.terminal_id,
            counter,
            env,
        });
        Ok(())
    }

    /// The counter process dies and starts again: its state in memory is gone, its file
    /// stays.
    pub async fn restart_counter(&mut self, index: usize) -> Result<()> {
        let counter = &mut self.counters[index];
        counter.counter.store().close().await;
        counter.crash.disarm();
        counter.counter = Counter::open_with(&counter.path, counter.env.clone()).await?;
        Ok(())
    }

    /// The server process dies between requests and starts again on the same files, with
    /// the same configuration (its secrets key opens the sealed terminal keys).
    pub async fn restart_server(&mut self) -> Result<()> {
        self.network.set_server(None);
        let store = self.service.store().clone();
        self.server_crash.disarm();
        self.service = start_server(
            &self.database_url,
            &self.clock,
            &self.config,
            &self.network,
            &self.server_crash,
        )
        .await?;
        store.close().await;
        Ok(())
    }

    /// Time passes for everyone: the server and every counter's clock alike.
    pub fn advance(&self, milliseconds: i64) {
        self.clock.advance(milliseconds);
        for counter in &self.counters {
            counter.clock.advance(milliseconds);
        }
    }

    /// Sets a counter's clock `skew_ms` off the server's.
    pub fn set_skew(&mut self, index: usize, skew_ms: i64) {
        let counter = &mut self.counters[index];
        counter.clock.advance(skew_ms - counter.skew_ms);
        counter.skew_ms = skew_ms;
    }

    /// A plain read of the server's database, for the invariants.
    pub async fn ledger_reader(&self) -> Result<LedgerReader> {
        match &self.postgres {
            Some(postgres) => LedgerReader::open_postgres(&postgres.url).await,
            None => {
                LedgerReader::open_sqlite(self.database_url.trim_start_matches("sqlite://")).await
            }
        }
    }

    /// Ends the run: the server and the counters close their databases, and a PostgreSQL
    /// database is dropped (the files go with the directory).
    pub async fn remove(self) -> Result<()> {
        self.network.set_server(None);
        self.service.store().close().await;
        for counter in &self.counters {
            counter.counter.store().close().await;
        }
        if let Some(postgres) = &self.postgres {
            postgres.drop_database().await?;
        }
        Ok(())
    }

    /// Every business day of a store from the start of the run through today.
    pub fn days_so_far(&self, merchant: usize) -> Result<Vec<jiff::civil::Date>> {
        let zone = jiff::tz::TimeZone::get(&self.merchants[merchant].time_zone)?;
        let first = jiff::Timestamp::from_millisecond(EPOCH_MS)?.to_zoned(zone.clone()).date();
        let today = jiff::Timestamp::from_millisecond(self.clock.now_ms())?.to_zoned(zone).date();
        let mut days = Vec::new();
        let mut day = first;
        while day <= today {
            days.push(day);
            day = day.tomorrow()?;
        }
        Ok(days)
    }

    /// The business day before today in a store's zone.
    pub fn yesterday(&self, merchant: usize) -> Result<jiff::civil::Date> {
        let zone = jiff::tz::TimeZone::get(&self.merchants[merchant].time_zone)?;
        Ok(jiff::Timestamp::from_millisecond(self.clock.now_ms())?
            .to_zoned(zone)
            .date()
            .yesterday()?)
    }
}

async fn start_server(
    database_url: &str,
    clock: &Clock,
    config: &ServiceConfig,
    network: &Network,
    crash: &Arc<CrashSwitch>,
) -> Result<FundService> {
    let store = if database_url.starts_with("sqlite://") {
        Backend::Sqlite(SqliteStore::connect_with(database_url, Some(crash.gate())).await?)
    } else {
        Backend::Postgres(PgStore::connect_with(database_url, Some(crash.gate())).await?)
    };
    let store = store.with_clock(clock.clone());
    store.migrate().await?;
    let service = FundService::start(store, config.clone());
    network.set_server(Some(app(AppState::with_limits(service.clone(), WebLimits::unlimited()))));
    Ok(service)
}

/// Publishes the bonus rule set number `version`: every store, a bonus from 100.00.
pub async fn publish_rules(service: &FundService, version: i64) -> Result<()> {
    let tier = |minimum: &str, bonus: &str| -> Result<BonusTier> {
        Ok(BonusTier {
            minimum: minor(minimum)?,
            bonus: Amount::parse(bonus, Currency::CNY).map_err(|error| anyhow!("{error}"))?,
        })
    };
    let bonus = format!("{}.00", 5 + version % 10);
    let rule = BonusRule {
        merchant_id: None,
        valid_from_ms: 0,
        valid_until_ms: None,
        formula: BonusFormula::Tiers {
            tiers: vec![tier("100.00", &bonus)?, tier("300.00", "40.00")?],
        },
    };
    service.publish_bonus_rules(vec![rule]).await?;
    Ok(())
}
