//! What happens in a step: one operation of a counter, a customer, the operator, the clock
//! or the faults, drawn from the seed. Each is awaited to its end before the next begins,
//! so the order of everything the server sees is the seed's alone.

use anyhow::Result;
use counter_core::sync::{RoundOutcome, sync_round_in_batches_of};
use counter_core::transport::WireRequest;
use tillfund_core::protocol::ErrorBody;

use crate::faults::SKEWS_MS;

/// The manager who counts the drawers (an id of the simulator's, never drawn at random).
const SIM_MANAGER: &str = "01900000-0000-7000-8000-000000000001";
use crate::world::{CUSTOMER_PIN, SimOrder, SimTopUp, World, publish_rules};

/// Operations and their weights (per mille of steps).
const OPERATIONS: &[(Operation, u64)] = &[
    (Operation::TopUp, 200),
    (Operation::Sync, 190),
    (Operation::CreateOrder, 110),
    (Operation::Pay, 120),
    (Operation::Refund, 60),
    (Operation::ReverseTopUp, 25),
    (Operation::Redeem, 20),
    (Operation::CancelOrder, 20),
    (Operation::Wait, 90),
    (Operation::LongWait, 15),
    (Operation::DeliverLate, 40),
    (Operation::Partition, 20),
    (Operation::RestartCounter, 25),
    (Operation::RestartServer, 10),
    (Operation::AccrueYield, 15),
    (Operation::CloseDay, 20),
    (Operation::Bind, 15),
    (Operation::PublishRules, 5),
    (Operation::Skew, 15),
    (Operation::CrashCounter, 30),
    (Operation::CrashServer, 15),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    TopUp,
    Sync,
    CreateOrder,
    Pay,
    Refund,
    ReverseTopUp,
    Redeem,
    CancelOrder,
    Wait,
    LongWait,
    DeliverLate,
    Partition,
    RestartCounter,
    RestartServer,
    AccrueYield,
    CloseDay,
    Bind,
    PublishRules,
    Skew,
    CrashCounter,
    CrashServer,
}

pub(crate) fn money(minor_units: i64) -> String {
    format!("{}.{:02}", minor_units / 100, minor_units % 100)
}

/// An outcome as the trace shows it: `ok`, or the stable code.
pub(crate) fn shown<T, E>(result: &Result<T, E>, code: impl Fn(&E) -> String) -> String {
    match result {
        Ok(_) => "ok".to_owned(),
        Err(error) => code(error),
    }
}

impl World {
    pub(crate) fn log(&self, text: String) {
        let seconds = (self.clock.now_ms() - crate::world::EPOCH_MS) / 1_000;
        self.trace.push(format!("{:05} t+{seconds}s {text}", self.step));
    }

    /// Draws and runs the next operation.
    pub async fn run_step(&mut self) -> Result<()> {
        self.step += 1;
        let total: u64 = OPERATIONS.iter().map(|(_, weight)| weight).sum();
        let mut draw = self.rng.below(total);
        let mut chosen = Operation::Wait;
        for (operation, weight) in OPERATIONS {
            if draw < *weight {
                chosen = *operation;
                break;
            }
            draw -= weight;
        }
        // Every operation takes a moment of simulated time.
        let moment = self.rng.between(0, 3_000);
        self.advance(moment);
        match chosen {
            Operation::TopUp => self.top_up().await,
            Operation::Sync => self.sync().await,
            Operation::CreateOrder => {
                self.create_order().await?;
                // Mostly the customer scans the code at once, as at a real counter.
                if self.rng.chance(700) { self.pay_latest().await } else { Ok(()) }
            }
            Operation::Pay => self.pay().await,
            Operation::Refund => self.refund().await,
            Operation::ReverseTopUp => self.reverse_top_up().await,
            Operation::Redeem => self.redeem().await,
            Operation::CancelOrder => self.cancel_order().await,
            Operation::Wait => {
                let wait = self.rng.between(1_000, 180_000);
                self.advance(wait);
                self.log(format!("time +{}s", wait / 1_000));
                Ok(())
            }
            Operation::LongWait => {
                let wait = self.rng.between(3_600_000, 30 * 3_600_000);
                self.advance(wait);
                self.log(format!("time +{}h", wait / 3_600_000));
                Ok(())
            }
            Operation::DeliverLate => {
                if self.network.late_count() > 0 {
                    self.log("late copy".to_owned());
                    self.network.deliver_one_late().await;
                }
                Ok(())
            }
            Operation::Partition => {
                let index = self.rng.index(self.counters.len());
                let label = self.counters[index].label.clone();
                if self.network.is_partitioned(&label) {
                    self.network.heal(&label);
                    self.log(format!("{label} back online"));
                } else {
                    self.network.partition(&label);
                    self.log(format!("{label} offline"));
                }
                Ok(())
            }
            Operation::RestartCounter => {
                let index = self.rng.index(self.counters.len());
                self.log(format!("{} restarts", self.counters[index].label));
                self.restart_counter(index).await
            }
            Operation::RestartServer => {
                self.log("server restarts".to_owned());
                self.restart_server().await
            }
            Operation::AccrueYield => {
                let result = self.service.accrue_through_yesterday().await;
                let days = result.as_ref().map_or(0, |report| report.days.len());
                self.log(format!(
                    "yield accrued: {days} days -> {}",
                    shown(&result, |e| e.code.to_string())
                ));
                Ok(())
            }
            Operation::CloseDay => self.close_day().await,
            Operation::Bind => self.bind().await,
            Operation::Skew => {
                let index = self.rng.index(self.counters.len());
                let skew = SKEWS_MS[self.rng.index(SKEWS_MS.len())];
                self.set_skew(index, skew);
                self.log(format!(
                    "{}'s clock is {}s off",
                    self.counters[index].label,
                    skew / 1_000
                ));
                Ok(())
            }
            Operation::CrashCounter => self.crash_counter().await,
            // The server dies mid-batch: on SQLite at any commit of the ledger's file (its
            // commit hook), on PostgreSQL at a commit of a ledger batch (the batch's gate).
            Operation::CrashServer => self.crash_server().await,
            Operation::PublishRules => {
                let version = i64::from(self.step);
                publish_rules(&self.service, version).await?;
                self.log("operator publishes new bonus rules".to_owned());
                Ok(())
            }
        }
    }

    /// The counter an operation acts at: the one a crash is planned for, or any.
    pub(crate) fn pick_counter(&mut self) -> usize {
        match self.focus {
            Some(index) => index,
            None => self.rng.index(self.counters.len()),
        }
    }

    /// A counter dies at one of the commits of its next operation (the commit rolls back,
    /// nothing more is sent) and starts again on its file.
    async fn crash_counter(&mut self) -> Result<()> {
        let index = self.rng.index(self.counters.len());
        let commit = self.rng.below(6);
        let label = self.counters[index].label.clone();
        self.log(format!("{label} will die at commit {commit} of its next operation"));
        self.counters[index].crash.arm(commit);
        self.focus = Some(index);
        // Mostly a sync round: it commits most often, between sends.
        let operation = self.rng.below(8);
        let outcome = match operation {
            0 => self.top_up().await,
            1 => self.create_order().await,
            2 => self.close_day().await,
            3 => self.reverse_top_up().await,
            _ => self.sync().await,
        };
        self.focus = None;
        outcome?;
        let crash = self.counters[index].crash.clone();
        if crash.is_dead() {
            self.log(format!("{label} died; restarts"));
            self.restart_counter(index).await
        } else {
            self.log(format!("{label} lived ({} commits)", crash.commits()));
            crash.disarm();
            Ok(())
        }
    }

    /// The server dies at one of the first commits of its ledger during the next operation
    /// that writes (a sync push, a payment, a refund, a reversal, a close): that commit rolls back, the
    /// request gets no answer, and the server restarts on its files.
    async fn crash_server(&mut self) -> Result<()> {
        let commit = self.rng.below(2);
        self.log(format!("the server will die at its ledger's commit {commit}"));
        self.server_crash.arm(commit);
        let outcome = match self.rng.below(5) {
            0 => self.pay().await,
            1 => self.refund().await,
            2 => self.close_day().await,
            3 => self.reverse_top_up().await,
            _ => self.sync().await,
        };
        outcome?;
        if self.server_crash.is_dead() {
            self.log("server died; restarts".to_owned());
            self.restart_server().await
        } else {
            self.log(format!("the server lived ({} commits)", self.server_crash.commits()));
            self.server_crash.disarm();
            Ok(())
        }
    }

    /// A customer, mostly one bound to `merchant` (the others test the refusals).
    pub(crate) fn customer_for(&mut self, merchant: usize) -> usize {
        let bound: Vec<usize> = (0..self.customers.len())
            .filter(|index| self.customers[*index].bound[merchant])
            .collect();
        if !bound.is_empty() && self.rng.chance(850) {
            bound[self.rng.index(bound.len())]
        } else {
            self.rng.index(self.customers.len())
        }
    }

    /// An order, mostly one of the latest few (older ones have expired).
    fn some_order(&mut self) -> usize {
        let len = self.orders.len();
        if self.rng.chance(800) {
            len - 1 - self.rng.index(len.min(3))
        } else {
            self.rng.index(len)
        }
    }

    async fn top_up(&mut self) -> Result<()> {
        let counter_index = self.pick_counter();
        let customer_index = self.customer_for(self.counters[counter_index].merchant);
        let amount = if self.rng.chance(300) {
            self.rng.between(1, 40_000)
        } else {
            self.rng.between(1, 30) * 1_000
        };
        let key = self.customers[customer_index].member_code.clone();
        let counter = &self.counters[counter_index];
        let preview = counter.counter.preview_top_up(&key, &money(amount)).await;
        let result = match preview {
            Ok(preview) => counter.counter.record_top_up(None, &preview).await,
            Err(error) => Err(error),
        };
        let label = format!("u{}", self.top_ups.len() + 1);
        let text = format!(
            "{} top-up {label} {} {} -> {}",
            counter.label,
            self.customers[customer_index].label,
            money(amount),
            shown(&result, |e| e.code().to_owned())
        );
        self.log(text);
        if let Ok(record) = result {
            self.top_ups.push(SimTopUp {
                label,
                counter: counter_index,
                entry_id: record.entry_id,
                amount,
            });
        }
        Ok(())
    }

    async fn sync(&mut self) -> Result<()> {
        let index = self.pick_counter();
        let batch = usize::try_from(self.rng.between(1, 100)).unwrap_or(1);
        let counter = &self.counters[index];
        self.log(format!("{} sync (batch {batch})", counter.label));
        let outcome = sync_round_in_batches_of(counter.counter.store(), batch).await;
        let text = match outcome {
            RoundOutcome::Done { pushed } => format!("pushed {pushed}"),
            RoundOutcome::Empty => "nothing to push".to_owned(),
            RoundOutcome::NotEnrolled => "not enrolled".to_owned(),
            RoundOutcome::Failed(_) => "failed".to_owned(),
        };
        self.log(format!("{} sync -> {text}", counter.label));
        Ok(())
    }

    async fn create_order(&mut self) -> Result<()> {
        let index = self.pick_counter();
        let amount = self.rng.between(1, 25_000);
        let counter = &self.counters[index];
        match counter.counter.create_order(None, &money(amount)).await {
            Ok(order) => {
                let label = format!("o{}", self.orders.len() + 1);
                self.log(format!("{} order {label} {} -> ok", counter.label, money(amount)));
                self.orders.push(SimOrder {
                    label,
                    counter: index,
                    order_id: order.order_id,
                    amount,
                    token: order.token,
                    paid: false,
                });
            }
            Err(error) => {
                self.log(format!("{} order {} -> {}", counter.label, money(amount), error.code()))
            }
        }
        Ok(())
    }

    /// A customer of its store pays the order just made.
    async fn pay_latest(&mut self) -> Result<()> {
        let Some(order_index) = self.orders.len().checked_sub(1) else { return Ok(()) };
        let merchant = self.counters[self.orders[order_index].counter].merchant;
        let payer = self.customer_for(merchant);
        self.customers[payer].payments_made += 1;
        let key = format!("pay-{}", self.customers[payer].payments_made);
        self.send_payment(payer, order_index, key, false).await
    }

    async fn pay(&mut self) -> Result<()> {
        if self.orders.is_empty() {
            return Ok(());
        }
        let waiting: Vec<usize> = (0..self.customers.len())
            .filter(|index| self.customers[*index].unanswered_payment.is_some())
            .collect();
        // A customer whose payment got no answer mostly tries again, with the same key.
        let retried = if !waiting.is_empty() && self.rng.chance(700) {
            let customer_index = waiting[self.rng.index(waiting.len())];
            self.customers[customer_index]
                .unanswered_payment
                .take()
                .map(|(order_index, key)| (customer_index, order_index, key))
        } else {
            None
        };
        let retry = retried.is_some();
        let (customer_index, order_index, key) = match retried {
            Some(retried) => retried,
            None => {
                // A new payment: mostly a recent order, by a customer of its store.
                let order_index = self.some_order();
                let merchant = self.counters[self.orders[order_index].counter].merchant;
                let payer = self.customer_for(merchant);
                let customer = &mut self.customers[payer];
                customer.payments_made += 1;
                (payer, order_index, format!("pay-{}", customer.payments_made))
            }
        };
        self.send_payment(customer_index, order_index, key, retry).await
    }

    async fn send_payment(
        &mut self,
        customer_index: usize,
        order_index: usize,
        key: String,
        retry: bool,
    ) -> Result<()> {
        let customer = &self.customers[customer_index];
        let order = &self.orders[order_index];
        let body =
            serde_json::to_vec(&serde_json::json!({"token": order.token, "pin": CUSTOMER_PIN}))?;
        let request = WireRequest {
            method: "POST",
            path_and_query: "/v1/payments".to_owned(),
            headers: vec![
                ("authorization".to_owned(), format!("Bearer {}", customer.token)),
                ("idempotency-key".to_owned(), key.clone()),
                ("content-type".to_owned(), "application/json".to_owned()),
            ],
            body,
        };
        let label = customer.label.clone();
        let order_label = order.label.clone();
        let answer = self.network.exchange(&label, request).await;
        let text = match &answer {
            Ok(answer) if (200..300).contains(&answer.status) => {
                self.orders[order_index].paid = true;
                "paid".to_owned()
            }
            Ok(answer) => serde_json::from_slice::<ErrorBody>(&answer.body)
                .map_or_else(|_| format!("HTTP {}", answer.status), |body| body.code),
            Err(_) => {
                self.customers[customer_index].unanswered_payment =
                    Some((order_index, key.clone()));
                "no answer".to_owned()
            }
        };
        let again = if retry { " again" } else { "" };
        self.log(format!("{label} pays {order_label}{again} -> {text}"));
        Ok(())
    }

    async fn refund(&mut self) -> Result<()> {
        if self.orders.is_empty() {
            return Ok(());
        }
        // Mostly an order the simulator saw paid: refunds of unpaid ones are refused.
        let paid: Vec<usize> =
            (0..self.orders.len()).filter(|index| self.orders[*index].paid).collect();
        let order_index = if !paid.is_empty() && self.rng.chance(850) {
            paid[self.rng.index(paid.len())]
        } else {
            self.some_order()
        };
        let order = &self.orders[order_index];
        let amount =
            if self.rng.chance(200) { order.amount + 1 } else { self.rng.between(1, order.amount) };
        let counter = &self.counters[order.counter];
        let result = counter.counter.refund(None, order.order_id, &money(amount)).await;
        let text = format!(
            "{} refunds {} of {} -> {}",
            counter.label,
            money(amount),
            order.label,
            shown(&result, |e| e.code().to_owned())
        );
        self.log(text);
        Ok(())
    }

    async fn cancel_order(&mut self) -> Result<()> {
        if self.orders.is_empty() {
            return Ok(());
        }
        let order_index = self.some_order();
        let order = &self.orders[order_index];
        let counter = &self.counters[order.counter];
        let result = counter.counter.cancel_order(order.order_id).await;
        let text = format!(
            "{} cancels {} -> {}",
            counter.label,
            order.label,
            shown(&result, |e| e.code().to_owned())
        );
        self.log(text);
        Ok(())
    }

    async fn close_day(&mut self) -> Result<()> {
        let index = self.pick_counter();
        let day = self.yesterday(self.counters[index].merchant)?;
        let counter = &self.counters[index];
        // The manager counts the drawer first (a figure drawn from the step, not from the
        // random source, so that adding the count moved no other draw); the close sends it.
        let counted =
            tillfund_core::Amount::from_minor_units(i64::from(self.step) * 137 % 300_000)?;
        let manager = counter_core::staff::StaffSession {
            staff_id: SIM_MANAGER.parse()?,
            name: "Sim manager".to_owned(),
            role: counter_core::staff::Role::Manager,
            signed_in_at_ms: 0,
        };
        let note = Some("counted by the simulator".to_owned());
        let count = counter
            .counter
            .count_cash(day, counter_core::cash_desk::Counted::Total(counted), note, &manager)
            .await;
        let text = format!(
            "{} counts {day}: {} -> {}",
            counter.label,
            money(counted.minor_units()),
            shown(&count, |e| e.code().to_owned())
        );
        self.log(text);
        let counter = &self.counters[index];
        let result = counter.counter.close_day(None, day).await;
        let matches = match &result {
            Ok(report) => format!(" (matches: {:?})", report.matches),
            Err(_) => String::new(),
        };
        let text = format!(
            "{} closes {day} -> {}{matches}",
            counter.label,
            shown(&result, |e| e.code().to_owned())
        );
        self.log(text);
        Ok(())
    }

    async fn bind(&mut self) -> Result<()> {
        let customer_index = self.rng.index(self.customers.len());
        let merchant_index = self.rng.index(self.merchants.len());
        let bound = self.rng.chance(600);
        let customer = self.service.session_customer(&self.customers[customer_index].token).await?;
        let result =
            self.service.set_binding(&customer, self.merchants[merchant_index].id, bound).await;
        if result.is_ok() {
            self.customers[customer_index].bound[merchant_index] = bound;
        }
        let verb = if bound { "binds" } else { "unbinds" };
        let text = format!(
            "{} {verb} store {} -> {}",
            self.customers[customer_index].label,
            merchant_index + 1,
            shown(&result, |e| e.code.to_string())
        );
        self.log(text);
        Ok(())
    }
}
