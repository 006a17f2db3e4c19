//! A seeded, deterministic simulation of Tillfund: the real fund server (service, ledger
//! writer, HTTP router, SQLite files) and real counters (counter-core, each with its own
//! SQLite file and outbox), customers paying from their phones and the operator, in one
//! process, with the clock, the ids, the randomness and the network in the simulator's
//! hands. Every step is one operation or one fault; the invariants are checked after each
//! step and again once the network heals at the end. A seed is a run: the same seed gives
//! the same trace, byte for byte.

pub mod faults;
pub mod invariants;
pub mod ledger;
pub mod network;
pub mod postgres;
pub mod redemptions;
pub mod reversals;
pub mod rng;
pub mod settlements;
pub mod trace;
pub mod workload;
pub mod world;

use anyhow::Result;

use crate::network::FaultRates;
use crate::trace::Trace;
use crate::world::World;

/// A deliberately broken version to run instead of the real one: the simulator must
/// catch each (see `tests/broken_variants.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Bug {
    #[default]
    None,
    /// The server keys outbox entries by arrival as well as by id: a resend applies again.
    OutboxIdempotencyOff,
    /// The server measures a refund against the whole payment, not what is left of it.
    RefundIgnoresRefunded,
    /// The counter marks an outbox entry acknowledged when it sends it.
    AckBeforeAnswer,
    /// A close's figures per counter leave the refunds out.
    CounterPartsSkipRefunds,
}

impl Bug {
    pub const ALL: [Bug; 4] = [
        Bug::OutboxIdempotencyOff,
        Bug::RefundIgnoresRefunded,
        Bug::AckBeforeAnswer,
        Bug::CounterPartsSkipRefunds,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Bug::None => "none",
            Bug::OutboxIdempotencyOff => "outbox-idempotency-off",
            Bug::RefundIgnoresRefunded => "refund-ignores-refunded",
            Bug::AckBeforeAnswer => "ack-before-answer",
            Bug::CounterPartsSkipRefunds => "counter-parts-skip-refunds",
        }
    }

    pub fn from_name(name: &str) -> Option<Bug> {
        [Bug::None].into_iter().chain(Bug::ALL).find(|bug| bug.name() == name)
    }
}

/// Steps per seed in `make test`'s short run; `make sim` runs more.
pub const STEPS_SHORT: u32 = 150;
/// Sync rounds each counter gets to drain once the network heals.
const HEAL_ROUNDS_MAX: usize = 30;

/// What one seed's run gave.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub seed: u64,
    pub steps_run: u32,
    pub trace: String,
    /// `None`: every invariant held. Otherwise the failure, naming its invariant.
    pub failure: Option<String>,
}

/// The server's database in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Database {
    /// A SQLite file (in /dev/shm where there is one).
    #[default]
    Sqlite,
    /// A throwaway database on the test PostgreSQL server (`TILLFUND_TEST_POSTGRES`, by
    /// default postgres://postgres@127.0.0.1:5432/postgres), dropped after the run. The
    /// server dies mid-batch there at a ledger batch's commit (its commit gate).
    Postgres,
}

/// How a seed runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    pub steps: u32,
    pub bug: Bug,
    pub database: Database,
}

impl RunOptions {
    pub fn steps(steps: u32) -> RunOptions {
        RunOptions { steps, bug: Bug::None, database: Database::Sqlite }
    }
}

/// Runs one seed on a runtime of its own (one thread: the seed alone orders events).
pub fn run_seed(seed: u64, steps: u32) -> RunReport {
    run_seed_with_options(seed, &RunOptions::steps(steps))
}

/// As `run_seed`, with one deliberately broken behaviour switched on.
pub fn run_seed_with(seed: u64, steps: u32, bug: Bug) -> RunReport {
    run_seed_with_options(seed, &RunOptions { bug, ..RunOptions::steps(steps) })
}

pub fn run_seed_with_options(seed: u64, options: &RunOptions) -> RunReport {
    let trace = Trace::default();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            return RunReport {
                seed,
                steps_run: 0,
                trace: String::new(),
                failure: Some(format!("runtime: {error}")),
            };
        }
    };
    let (steps_run, outcome) = runtime.block_on(run(seed, options, trace.clone()));
    let failure = outcome.err().map(|error| format!("{error:#}"));
    if let Some(failure) = &failure {
        trace.push(format!("FAILED seed={seed} step={steps_run}: {failure}"));
    }
    RunReport { seed, steps_run, trace: trace.text(), failure }
}

async fn run(seed: u64, options: &RunOptions, trace: Trace) -> (u32, Result<()>) {
    let mut world = match World::create(seed, options.bug, options.database, trace.clone()).await {
        Ok(world) => world,
        Err(error) => return (0, Err(error.context("setting up the world"))),
    };
    let outcome = drive(&mut world, options.steps).await;
    let steps = world.step;
    let removed = world.remove().await;
    (steps, outcome.and(removed))
}

async fn drive(world: &mut World, steps: u32) -> Result<()> {
    let ledger = world.ledger_reader().await?;
    for _ in 0..steps {
        world.run_step().await?;
        invariants::after_step(world, &ledger).await?;
    }
    heal(world).await?;
    invariants::after_heal(world, &ledger).await?;
    let (sequence, hash) = ledger.head().await?;
    let hash: String = hash.iter().map(|byte| format!("{byte:02x}")).collect();
    world.trace.push(format!("== end: invariants held; journal head #{sequence} {hash}"));
    ledger.close().await;
    Ok(())
}

/// The network heals: no more faults, every held-back copy delivered, every counter syncs
/// until it has nothing left to push.
async fn heal(world: &mut World) -> Result<()> {
    world.trace.push("== heal".to_owned());
    world.network.set_rates(FaultRates::CALM);
    world.network.heal_all();
    for index in 0..world.counters.len() {
        world.set_skew(index, 0);
    }
    while world.network.deliver_one_late().await {}
    for index in 0..world.counters.len() {
        let store = world.counters[index].counter.store();
        for _ in 0..HEAL_ROUNDS_MAX {
            let outcome = counter_core::sync::sync_round(store).await;
            if outcome == counter_core::sync::RoundOutcome::Empty {
                break;
            }
        }
    }
    Ok(())
}
