//! Merchant day settlement: a business day in the merchant's own time zone.

use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::{
    AuthenticatedTerminal, FundService, ServiceError, end_of_day_ms, fingerprint, internal,
};
use crate::ledger::figures_by_terminal;
use crate::ledger::{Command, CommandKind, IdempotencyKey, Outcome, SettlementFigures};
use crate::model::Merchant;
use crate::service::ErrorCode;
use crate::store::{Storage, StoredCashCount, StoredDay};
use tillfund_core::TerminalId;
use tillfund_core::cash_count::{CashCount, CashCountProblem};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// The most terminals a counter's past is followed through (enrolled again that often, it is
/// not one counter's life any more).
const LINEAGE_TERMINALS_MAX: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    pub day: Date,
    pub closed: bool,
    pub figures: SettlementFigures,
    /// The part of the figures made at the asking counter (under its terminal and those it
    /// replaced at this store when it enrolled again).
    pub this_terminal: SettlementFigures,
    /// The asking counter's entries recorded within the day, settled by this close, an
    /// earlier or a later one, or by none yet: what its own records of the day add up to.
    /// (A close settles everything unsettled before the day's end, so `this_terminal` also
    /// holds earlier days nobody closed.)
    pub this_terminal_in_day: SettlementFigures,
    /// The journal entry of the close, when it moved money.
    pub entry_sequence: Option<i64>,
    /// The asking counter's drawer count for the day, once it sent one (under its newest
    /// terminal that did, when it enrolled again that day).
    pub this_terminal_count: Option<StoredCashCount>,
}

impl<S: Storage> FundService<S> {
    pub(super) async fn merchant_zone(
        &self,
        terminal: &AuthenticatedTerminal,
    ) -> Result<TimeZone, ServiceError> {
        let merchant =
            self.store.merchant(terminal.terminal.merchant_id).await?.ok_or_else(|| {
                internal(format!("merchant of terminal {} is missing", terminal.terminal.id))
            })?;
        TimeZone::get(&merchant.time_zone).map_err(|error| {
            internal(format!("merchant {} has zone {}: {error}", merchant.id, merchant.time_zone))
        })
    }

    /// The start and end of `day` at the counter's store, refusing days that have not
    /// started yet there.
    async fn settlement_day_bounds_ms(
        &self,
        terminal: &AuthenticatedTerminal,
        day: Date,
    ) -> Result<(i64, i64), ServiceError> {
        let zone = &self.merchant_zone(terminal).await?;
        let now = jiff::Timestamp::from_millisecond(self.store.clock().now_ms())
            .map_err(|error| internal(error.to_string()))?;
        let today = now.to_zoned(zone.clone()).date();
        if day > today {
            return Err(ServiceError::new(
                ErrorCode::DayInFuture,
                format!("{day} has not started yet at this store (today is {today})."),
            ));
        }
        let start_ms = day
            .to_zoned(zone.clone())
            .map_err(|error| internal(error.to_string()))?
            .timestamp()
            .as_millisecond();
        Ok((start_ms, end_of_day_ms(zone, day)?))
    }

    /// The day's figures: as closed, or what a close now would settle (everything recorded
    /// before the day's end and not settled by an earlier close).
    pub async fn settlement(
        &self,
        terminal: &AuthenticatedTerminal,
        day: Date,
    ) -> Result<Settlement, ServiceError> {
        let (day_start_ms, day_end_ms) = self.settlement_day_bounds_ms(terminal, day).await?;
        let day_text = day.to_string();
        let stored = self.store.stored_day(terminal.terminal.merchant_id, &day_text, day_end_ms);
        let (figures, by_terminal, closed) = match stored.await? {
            StoredDay::Closed { figures, by_terminal } => (figures, by_terminal, true),
            StoredDay::Open(open) => {
                let (figures, by_terminal) = figures_by_terminal(&open.entries);
                (figures, by_terminal, false)
            }
        };
        let lineage = self.lineage(terminal).await?;
        let mut this_terminal = SettlementFigures::default();
        for (terminal_id, figures) in by_terminal {
            if lineage.contains(&terminal_id) {
                this_terminal += figures;
            }
        }
        let this_terminal_in_day =
            self.counter_day(terminal, &lineage, day_start_ms, day_end_ms).await?;
        // The newest of the counter's terminals that counted the drawer that day: a counter
        // that counted, then enrolled again, still sees its count.
        let counts = self.store.cash_counts(terminal.terminal.merchant_id, &day_text).await?;
        let this_terminal_count = lineage.iter().find_map(|terminal_id| {
            counts.iter().find(|count| count.terminal_id == *terminal_id).cloned()
        });
        Ok(Settlement {
            day,
            closed,
            figures,
            this_terminal,
            this_terminal_in_day,
            entry_sequence: None,
            this_terminal_count,
        })
    }

    /// Closes the day once: moves the drawer's cash to the service account and the net of
    /// payments less refunds out to the store. Closing again answers the first close.
    /// The counter's drawer count, when sent, is checked before anything happens and kept
    /// after the close (once per counter and day: a later one changes nothing).
    pub async fn close_day(
        &self,
        terminal: &AuthenticatedTerminal,
        day: Date,
        cash_count: Option<&CashCount>,
        closed_by: Option<tillfund_core::StaffId>,
    ) -> Result<Settlement, ServiceError> {
        let (day_start_ms, day_end_ms) = self.settlement_day_bounds_ms(terminal, day).await?;
        if let Some(count) = cash_count {
            self.check_cash_count(count, day_start_ms)?;
        }
        let merchant_id = terminal.terminal.merchant_id;
        let day_text = day.to_string();
        let command = Command {
            idempotency: IdempotencyKey {
                key: format!("settlement/{merchant_id}/{day_text}"),
                fingerprint: fingerprint(&[
                    b"close",
                    merchant_id.to_string().as_bytes(),
                    day_text.as_bytes(),
                ]),
            },
            recorded_at_ms: self.store.clock().now_ms(),
            kind: CommandKind::CloseDay { merchant_id, day: day_text.clone(), day_end_ms },
        };
        let entry_sequence = match self.submit(command).await? {
            Outcome::DayClosed { entry_sequence, .. } => entry_sequence,
            other => return Err(internal(format!("close answered {other:?}"))),
        };
        // A count is kept once per counter and day, never replaced: also not by the terminal
        // a counter became when it enrolled again after counting.
        let lineage = self.lineage(terminal).await?;
        let counted_before = match cash_count {
            Some(_) => self.store.cash_counts(merchant_id, &day_text).await?.iter().any(|count| {
                count.terminal_id != terminal.terminal.id && lineage.contains(&count.terminal_id)
            }),
            None => false,
        };
        if let Some(count) = cash_count.filter(|_| !counted_before) {
            let in_day = self.counter_day(terminal, &lineage, day_start_ms, day_end_ms).await?;
            self.store
                .keep_cash_count(
                    merchant_id,
                    terminal.terminal.id,
                    &day_text,
                    count,
                    in_day.drawer_cash(),
                    self.store.clock().now_ms(),
                )
                .await?;
        }
        let now_ms = self.store.clock().now_ms();
        let kind = crate::store::CashierKind::Close;
        self.keep_cashier(terminal.place(), kind, day_text, closed_by, 0, now_ms).await;
        let closed = self.settlement(terminal, day).await?;
        Ok(Settlement { entry_sequence, ..closed })
    }

    /// The asking counter's terminals at its store: its own, then those it replaced when it
    /// enrolled again (a day's records can be under several; the drawer is one).
    pub(super) async fn lineage(
        &self,
        terminal: &AuthenticatedTerminal,
    ) -> Result<Vec<TerminalId>, ServiceError> {
        let mut lineage = vec![terminal.terminal.id];
        let mut successor = terminal.terminal.id;
        let mut previous = terminal.terminal.replaces;
        // Each step goes to an older terminal (`replaced_by` is set once, to a newer one),
        // so the walk cannot loop; the bound keeps it short all the same.
        for _ in 1..LINEAGE_TERMINALS_MAX {
            let Some(terminal_id) = previous else { break };
            let Some(replaced) = self.store.terminal(terminal_id).await? else { break };
            // Only the first replacement counts: another enrolment naming the same terminal
            // (from a copy of its key) adopts none of its figures.
            if replaced.replaced_by != Some(successor) {
                break;
            }
            successor = terminal_id;
            // A counter moved from another store: that store's figures are not this one's.
            if replaced.merchant_id == terminal.terminal.merchant_id {
                lineage.push(terminal_id);
            }
            previous = replaced.replaces;
        }
        Ok(lineage)
    }

    /// What the counter's own records of the day add up to, under all its terminals.
    async fn counter_day(
        &self,
        terminal: &AuthenticatedTerminal,
        lineage: &[TerminalId],
        day_start_ms: i64,
        day_end_ms: i64,
    ) -> Result<SettlementFigures, ServiceError> {
        let merchant_id = terminal.terminal.merchant_id;
        let mut figures = SettlementFigures::default();
        for terminal_id in lineage {
            figures += self
                .store
                .terminal_day(merchant_id, *terminal_id, day_start_ms, day_end_ms)
                .await?;
        }
        Ok(figures)
    }

    /// A count adds up, is within bounds, and was made after the day began and before now
    /// by the server's clock: a counter's clock may run ahead by the signed requests' skew,
    /// and a counter that kept the store's former time zone may see the day begin up to a
    /// day apart (a count refused on every retry would keep the day open at that counter
    /// for good).
    fn check_cash_count(&self, count: &CashCount, day_start_ms: i64) -> Result<(), ServiceError> {
        count.check().map_err(|problem| match problem {
            CashCountProblem::NoteNeeded { .. } => {
                ServiceError::new(ErrorCode::CashCountNoteNeeded, problem.to_string())
            }
            CashCountProblem::Invalid(_) => {
                ServiceError::new(ErrorCode::CashCountInvalid, problem.to_string())
            }
        })?;
        let latest_ms = self.store.clock().now_ms().saturating_add(self.config.request_skew_ms);
        let earliest_ms = day_start_ms.saturating_sub(DAY_MS);
        if !(earliest_ms..=latest_ms).contains(&count.counted_at_ms) {
            return Err(ServiceError::new(
                ErrorCode::CashCountInvalid,
                "the count's time is before the day began or later than now",
            ));
        }
        Ok(())
    }
}

/// A store's day as operators read it: every counter's part, closed or open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreDay {
    pub merchant: Merchant,
    pub closed: bool,
    pub figures: SettlementFigures,
    pub by_terminal: Vec<(TerminalId, SettlementFigures)>,
    /// The drawer counts the store's counters sent with the day's close.
    pub cash_counts: Vec<StoredCashCount>,
    /// The labels of the counters that sent them ("Counter 2"), as operators know them.
    pub counter_labels: Vec<(TerminalId, String)>,
    /// Who did what at each counter in the day, as the counters named them.
    pub cashiers: Vec<crate::store::CashierDay>,
}

/// Lines of a store's day per counter and cashier: far above a store's staff on shift.
const CASHIER_LINES_MAX: i64 = 400;

impl<S: Storage> FundService<S> {
    /// Every store's `day` in its own time zone (everyone reads), at most 500 stores.
    pub async fn store_days(
        &self,
        by: &super::SignedInOperator,
        source: &super::RequestSource,
        day: Date,
    ) -> Result<Vec<StoreDay>, ServiceError> {
        let caller = super::Caller::Operator(by.clone());
        let action = tillfund_core::protocol::OperatorAction::StatusRead;
        self.require_permission(
            &caller,
            source,
            crate::operators::Permission::Read,
            action,
            "settlements",
        )
        .await?;
        let mut days = Vec::new();
        for merchant in
            self.store.list_merchants(super::operator_merchants::MERCHANTS_LISTED_MAX).await?
        {
            let zone =
                TimeZone::get(&merchant.time_zone).map_err(|error| internal(error.to_string()))?;
            let day_end_ms = end_of_day_ms(&zone, day)?;
            let stored = self.store.stored_day(merchant.id, &day.to_string(), day_end_ms).await?;
            let (figures, by_terminal, closed) = match stored {
                StoredDay::Closed { figures, by_terminal } => (figures, by_terminal, true),
                StoredDay::Open(open) => {
                    let (figures, by_terminal) = figures_by_terminal(&open.entries);
                    (figures, by_terminal, false)
                }
            };
            let cash_counts = self.store.cash_counts(merchant.id, &day.to_string()).await?;
            let day_start_ms = day
                .to_zoned(zone.clone())
                .map_err(|error| internal(error.to_string()))?
                .timestamp()
                .as_millisecond();
            let cashiers = self
                .store
                .cashier_days(merchant.id, day_start_ms, day_end_ms, CASHIER_LINES_MAX)
                .await?;
            let counter_labels = if cash_counts.is_empty() && cashiers.is_empty() {
                Vec::new()
            } else {
                self.store
                    .terminals_of(merchant.id, super::operator_merchants::COUNTERS_LISTED_MAX)
                    .await?
                    .into_iter()
                    .map(|terminal| (terminal.id, terminal.label))
                    .collect()
            };
            days.push(StoreDay {
                merchant,
                closed,
                figures,
                by_terminal,
                cash_counts,
                counter_labels,
                cashiers,
            });
        }
        Ok(days)
    }
}
