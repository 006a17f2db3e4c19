//! Property: any sequence of money operations, cut into batches at random and with replays
//! of earlier requests mixed in, keeps every ledger invariant on a real SQLite file, applies
//! each idempotency key once, and answers a replay with the first answer.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/test_database.rs"]
mod test_database;

use std::collections::HashMap;
use test_database::TestDatabase;

use fund_server::ledger::{
    Account, Bucket, CashTopUp, Command, CommandKind, Deferred, IdempotencyKey, LedgerPolicy,
    Outcome, Payment, Redemption, Refund, ReverseTopUp,
};
use fund_server::model::Customer;
use fund_server::service::{AuditScope, audit_store};
use fund_server::store::Backend;
use fund_server::store::prelude::*;
use proptest::prelude::*;
use tillfund_core::payment_token::PaymentClaims;
use tillfund_core::{
    Amount, Currency, CustomerId, MemberCode, MerchantId, OrderId, OutboxEntryId, PhoneNumber,
    PositiveAmount, TerminalId,
};

#[derive(Debug, Clone)]
enum Operation {
    TopUp {
        customer: usize,
        merchant: usize,
        minor_units: i64,
    },
    Pay {
        customer: usize,
        merchant: usize,
        minor_units: i64,
    },
    Refund {
        payment: usize,
        minor_units: i64,
    },
    Fund {
        minor_units: i64,
    },
    /// Closes a merchant's day: settles everything not settled yet.
    Close {
        merchant: usize,
    },
    /// Gives back cash for part of an earlier top-up.
    Reverse {
        top_up: usize,
        minor_units: i64,
    },
    /// Pays part of a wallet out as cash at a store.
    Redeem {
        customer: usize,
        merchant: usize,
        minor_units: i64,
    },
    /// Gives a wallet's bonus back to the reserve as it closes (refused while it holds
    /// principal or yield).
    ForfeitBonus {
        customer: usize,
    },
    /// Sends an earlier command again, unchanged.
    Replay {
        command: usize,
    },
    /// Sends an earlier command's key with a different request.
    ReplayAltered {
        command: usize,
    },
}

fn operation() -> impl Strategy<Value = Operation> {
    prop_oneof![
        4 => (0..4_usize, 0..2_usize, 1..60_000_i64)
            .prop_map(|(customer, merchant, minor_units)| Operation::TopUp { customer, merchant, minor_units }),
        4 => (0..4_usize, 0..2_usize, 1..30_000_i64)
            .prop_map(|(customer, merchant, minor_units)| Operation::Pay { customer, merchant, minor_units }),
        2 => (0..100_usize, 1..20_000_i64)
            .prop_map(|(payment, minor_units)| Operation::Refund { payment, minor_units }),
        1 => (1..50_000_i64).prop_map(|minor_units| Operation::Fund { minor_units }),
        1 => (0..2_usize).prop_map(|merchant| Operation::Close { merchant }),
        1 => (0..100_usize, 1..40_000_i64)
            .prop_map(|(top_up, minor_units)| Operation::Reverse { top_up, minor_units }),
        2 => (0..4_usize, 0..2_usize, 1..40_000_i64)
            .prop_map(|(customer, merchant, minor_units)| Operation::Redeem { customer, merchant, minor_units }),
        1 => (0..4_usize).prop_map(|customer| Operation::ForfeitBonus { customer }),
        2 => (0..100_usize).prop_map(|command| Operation::Replay { command }),
        1 => (0..100_usize).prop_map(|command| Operation::ReplayAltered { command }),
    ]
}

struct World {
    store: Backend,
    policy: LedgerPolicy,
    merchants: [MerchantId; 2],
    customers: [CustomerId; 4],
    _database: TestDatabase,
}

async fn world() -> World {
    let database = TestDatabase::create().await;
    let store = database.store().await;
    let now = fund_server::model::now_ms();
    let mut merchants = Vec::new();
    for name in ["A", "B"] {
        let merchant = fund_server::model::Merchant {
            id: MerchantId::generate(),
            name: name.into(),
            time_zone: "Asia/Shanghai".into(),
            settlement_account: String::new(),
        };
        store.add_merchant(&merchant, now).await.unwrap();
        merchants.push(merchant.id);
    }
    let mut customers = Vec::new();
    for index in 0..4_u64 {
        let customer = Customer {
            id: CustomerId::generate(),
            phone: PhoneNumber::parse(&format!("1380000000{index}")).unwrap(),
            display_name: format!("C{index}"),
            member_code: MemberCode::from_body(index),
            pin_hash: "not-used".into(),
        };
        // Customer 3 is bound to both stores; the others to store A only.
        let bound: Vec<MerchantId> =
            if index == 3 { merchants.clone() } else { vec![merchants[0]] };
        store
            .register_customer(&customer, &bound, || MemberCode::from_body(index + 100), None, now)
            .await
            .unwrap();
        customers.push(customer.id);
    }
    let mut policy = LedgerPolicy::default_for(Currency::CNY);
    policy.wallet_balance_cap = Amount::from_minor_units(100_000).unwrap();
    policy.reserve_threshold = Amount::from_minor_units(20_000).unwrap();
    policy.reserve_refill = Amount::from_minor_units(30_000).unwrap();
    World {
        store,
        policy,
        merchants: [merchants[0], merchants[1]],
        customers: [customers[0], customers[1], customers[2], customers[3]],
        _database: database,
    }
}

fn key(index: usize, salt: u8) -> IdempotencyKey {
    IdempotencyKey { key: format!("test/{index}"), fingerprint: [salt; 32] }
}

fn positive(minor_units: i64) -> PositiveAmount {
    PositiveAmount::try_from(minor_units).unwrap()
}

/// Turns operations into commands; replays refer to commands made before them.
fn commands(world: &World, operations: &[Operation]) -> Vec<Command> {
    let mut commands: Vec<Command> = Vec::new();
    let mut payments: Vec<OrderId> = Vec::new();
    for operation in operations {
        let index = commands.len();
        let command = match operation {
            Operation::TopUp { customer, merchant, minor_units } => Command {
                idempotency: key(index, 1),
                recorded_at_ms: 1_000,
                kind: CommandKind::CashTopUp(CashTopUp {
                    merchant_id: world.merchants[*merchant],
                    terminal_id: TerminalId::generate(),
                    outbox_entry_id: OutboxEntryId::generate(),
                    customer_id: world.customers[*customer],
                    amount: positive(*minor_units),
                    bonus_shown: Amount::ZERO,
                    rule_set_version: None,
                }),
            },
            Operation::Pay { customer, merchant, minor_units } => {
                let order_id = OrderId::generate();
                payments.push(order_id);
                Command {
                    idempotency: key(index, 1),
                    recorded_at_ms: 1_000,
                    kind: CommandKind::Payment(Payment {
                        claims: PaymentClaims {
                            merchant_id: world.merchants[*merchant],
                            terminal_id: TerminalId::generate(),
                            order_id,
                            amount: positive(*minor_units),
                            currency: "CNY".into(),
                            expires_at_ms: i64::MAX,
                        },
                        customer_id: world.customers[*customer],
                        confirmation_code: "000000".into(),
                    }),
                }
            }
            Operation::Refund { payment, minor_units } => {
                let Some(order_id) = payments.get(payment % payments.len().max(1)).copied() else {
                    continue;
                };
                // Refunds are made at the store of the payment; the order knows which.
                let merchant_id = commands
                    .iter()
                    .find_map(|command| match &command.kind {
                        CommandKind::Payment(paid) if paid.claims.order_id == order_id => {
                            Some(paid.claims.merchant_id)
                        }
                        _ => None,
                    })
                    .unwrap_or(world.merchants[0]);
                Command {
                    idempotency: key(index, 1),
                    recorded_at_ms: 1_000,
                    kind: CommandKind::Refund(Refund {
                        merchant_id,
                        terminal_id: TerminalId::generate(),
                        order_id,
                        amount: positive(*minor_units),
                    }),
                }
            }
            Operation::Reverse { top_up, minor_units } => {
                let top_ups: Vec<&CashTopUp> = commands
                    .iter()
                    .filter_map(|command| match &command.kind {
                        CommandKind::CashTopUp(top_up) => Some(top_up),
                        _ => None,
                    })
                    .collect();
                let Some(original) = top_ups.get(top_up % top_ups.len().max(1)).copied() else {
                    continue;
                };
                Command {
                    idempotency: key(index, 1),
                    recorded_at_ms: 1_000,
                    kind: CommandKind::ReverseTopUp(ReverseTopUp {
                        merchant_id: original.merchant_id,
                        terminal_id: original.terminal_id,
                        top_up_terminal_id: original.terminal_id,
                        top_up: original.outbox_entry_id,
                        amount: positive(*minor_units),
                        // Every command is recorded in one day, which began at 0.
                        day_start_ms: 0,
                        day_end_ms: i64::MAX,
                    }),
                }
            }
            Operation::Redeem { customer, merchant, minor_units } => Command {
                idempotency: key(index, 1),
                recorded_at_ms: 1_000,
                kind: CommandKind::Redeem(Redemption {
                    merchant_id: world.merchants[*merchant],
                    terminal_id: TerminalId::generate(),
                    customer_id: world.customers[*customer],
                    amount: positive(*minor_units),
                    day_start_ms: 0,
                    day_end_ms: i64::MAX,
                    closes_wallet: false,
                    only_if_made: false,
                }),
            },
            Operation::Close { merchant } => Command {
                idempotency: key(index, 1),
                recorded_at_ms: 1_000,
                kind: CommandKind::CloseDay {
                    merchant_id: world.merchants[*merchant],
                    day: format!("day-{index}"),
                    day_end_ms: i64::MAX,
                },
            },
            Operation::ForfeitBonus { customer } => Command {
                idempotency: key(index, 1),
                recorded_at_ms: 1_000,
                kind: CommandKind::ForfeitBonus { customer_id: world.customers[*customer] },
            },
            Operation::Fund { minor_units } => Command {
                idempotency: key(index, 1),
                recorded_at_ms: 1_000,
                kind: CommandKind::FundReserve { amount: positive(*minor_units) },
            },
            Operation::Replay { command } => {
                let Some(earlier) = commands.get(command % commands.len().max(1)) else { continue };
                earlier.clone()
            }
            Operation::ReplayAltered { command } => {
                let Some(earlier) = commands.get(command % commands.len().max(1)) else { continue };
                let mut altered = earlier.clone();
                altered.idempotency.fingerprint = [2; 32];
                altered
            }
        };
        commands.push(command);
    }
    commands
}

async fn wallet_total(store: &Backend, customer_id: CustomerId) -> i64 {
    let mut total = 0;
    for bucket in Bucket::ALL {
        total += store.balance(Account::Wallet(customer_id, bucket)).await.unwrap().minor_units();
    }
    total
}

async fn check(operations: Vec<Operation>, batch_sizes: Vec<usize>) {
    let world = world().await;
    fund_server::ledger_writer::apply_batch(
        &world.store,
        &world.policy,
        &[Command {
            idempotency: IdempotencyKey { key: "seed".into(), fingerprint: [0; 32] },
            recorded_at_ms: 0,
            kind: CommandKind::FundReserve { amount: positive(100_000) },
        }],
    )
    .await
    .unwrap();
    let commands = commands(&world, &operations);
    // The first answer to each key, with the fingerprint of the request it answered.
    let mut first_answers: HashMap<String, ([u8; 32], Outcome)> = HashMap::new();
    let mut model_wallets: HashMap<CustomerId, i64> = HashMap::new();
    let mut cash_taken: HashMap<MerchantId, i64> = HashMap::new();
    let mut cash_settled: HashMap<MerchantId, i64> = HashMap::new();
    let mut next = 0;
    let mut sizes = batch_sizes.iter().cycle();
    while next < commands.len() {
        let size = (*sizes.next().unwrap()).clamp(1, commands.len() - next);
        let batch = &commands[next..next + size];
        let results = fund_server::ledger_writer::apply_batch(&world.store, &world.policy, batch)
            .await
            .unwrap();
        for (command, result) in batch.iter().zip(results) {
            let key = command.idempotency.key.clone();
            match result {
                Ok(decided) => {
                    if let Some((fingerprint, first)) = first_answers.get(&key) {
                        assert!(decided.replayed, "a second answer for {key} was not a replay");
                        assert_eq!(
                            &decided.outcome, first,
                            "a replay of {key} answered differently"
                        );
                        assert_eq!(&command.idempotency.fingerprint, fingerprint);
                        continue;
                    }
                    assert!(!decided.replayed);
                    match &decided.outcome {
                        Outcome::ToppedUp { customer_id, amount, bonus, .. } => {
                            *model_wallets.entry(*customer_id).or_default() +=
                                amount.minor_units() + bonus.minor_units();
                            let CommandKind::CashTopUp(top_up) = &command.kind else {
                                panic!("a top-up answer to another command")
                            };
                            *cash_taken.entry(top_up.merchant_id).or_default() +=
                                amount.minor_units();
                        }
                        Outcome::DayClosed { merchant_id, figures, .. } => {
                            *cash_settled.entry(*merchant_id).or_default() += figures.drawer_cash();
                        }
                        Outcome::TopUpReversed {
                            customer_id, amount, bonus_clawed_back, ..
                        } => {
                            *model_wallets.entry(*customer_id).or_default() -=
                                amount.minor_units() + bonus_clawed_back.minor_units();
                            let CommandKind::ReverseTopUp(reversal) = &command.kind else {
                                panic!("a reversal answer to another command")
                            };
                            *cash_taken.entry(reversal.merchant_id).or_default() -=
                                amount.minor_units();
                        }
                        Outcome::Redeemed {
                            customer_id,
                            cash,
                            principal,
                            yield_paid,
                            bonus_clawed_back,
                            ..
                        } => {
                            assert_eq!(
                                principal.minor_units() + yield_paid.minor_units(),
                                cash.minor_units()
                            );
                            *model_wallets.entry(*customer_id).or_default() -=
                                cash.minor_units() + bonus_clawed_back.minor_units();
                            let CommandKind::Redeem(redemption) = &command.kind else {
                                panic!("a redemption answer to another command")
                            };
                            *cash_taken.entry(redemption.merchant_id).or_default() -=
                                cash.minor_units();
                        }
                        Outcome::Paid { customer_id, amount, .. } => {
                            *model_wallets.entry(*customer_id).or_default() -= amount.minor_units();
                        }
                        Outcome::Refunded { amount, .. } => {
                            let CommandKind::Refund(refund) = &command.kind else {
                                panic!("refund answer")
                            };
                            let payer = commands
                                .iter()
                                .find_map(|earlier| match &earlier.kind {
                                    CommandKind::Payment(paid)
                                        if paid.claims.order_id == refund.order_id =>
                                    {
                                        Some(paid.customer_id)
                                    }
                                    _ => None,
                                })
                                .unwrap();
                            *model_wallets.entry(payer).or_default() += amount.minor_units();
                        }
                        Outcome::YieldPosted { customer_id, amount, .. } => {
                            *model_wallets.entry(*customer_id).or_default() += amount.minor_units();
                        }
                        Outcome::BonusForfeited { customer_id, amount, .. } => {
                            // Only ever all of a wallet that held nothing else.
                            let model = model_wallets.entry(*customer_id).or_default();
                            assert_eq!(
                                *model,
                                amount.minor_units(),
                                "forfeited {amount:?} of {model}"
                            );
                            *model = 0;
                        }
                        Outcome::Funded { .. }
                        | Outcome::Defunded { .. }
                        | Outcome::Rejected { .. } => {}
                    }
                    first_answers.insert(key, (command.idempotency.fingerprint, decided.outcome));
                }
                Err(deferred) => {
                    // Only a reused key with another request, a reserve that cannot cover a
                    // top-up, or a service account that cannot cover a refund (refills
                    // drain it) may be deferred; none wrote anything.
                    assert!(
                        matches!(
                            deferred,
                            Deferred::KeyReused { .. }
                                | Deferred::ReserveInsufficient { .. }
                                | Deferred::ServiceInsufficient
                        ),
                        "unexpected deferral {deferred:?}"
                    );
                    if matches!(deferred, Deferred::KeyReused { .. }) {
                        let (fingerprint, _) = &first_answers[&key];
                        assert_ne!(&command.idempotency.fingerprint, fingerprint);
                    }
                }
            }
        }
        next += size;
        // Incremental after each batch, each resuming where the last one stopped.
        let report = audit_store(&world.store, AuditScope::SinceCheckpoint, 0).await.unwrap();
        assert!(report.passed(), "audit after a batch: {:?}", report.problems);
    }
    // The full replay agrees with the incremental audits that came before it.
    let report = audit_store(&world.store, AuditScope::Full, 0).await.unwrap();
    assert!(report.passed(), "full audit: {:?}", report.problems);
    // Every cash top-up is settled once at most: what closes took out of each drawer plus
    // what is still in it is exactly the cash taken.
    for merchant_id in world.merchants {
        let drawer = world.store.balance(Account::Drawer(merchant_id)).await.unwrap().minor_units();
        let settled = cash_settled.get(&merchant_id).copied().unwrap_or(0);
        let taken = cash_taken.get(&merchant_id).copied().unwrap_or(0);
        assert_eq!(drawer + settled, taken, "cash of {merchant_id}");
    }
    for customer_id in world.customers {
        let total = wallet_total(&world.store, customer_id).await;
        assert_eq!(
            total,
            model_wallets.get(&customer_id).copied().unwrap_or(0),
            "wallet of {customer_id}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_operations_with_replays_keep_every_invariant(
        operations in proptest::collection::vec(operation(), 1..70),
        batch_sizes in proptest::collection::vec(1..12_usize, 1..8),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(check(operations, batch_sizes));
    }
}
