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
use crate::store::{Storage, StoredDay};
use tillfund_core::TerminalId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    pub day: Date,
    pub closed: bool,
    pub figures: SettlementFigures,
    /// The part of the figures made at the asking counter.
    pub this_terminal: SettlementFigures,
    /// The asking counter's entries recorded within the day, settled by this close, an
    /// earlier or a later one, or by none yet: what its own records of the day add up to.
    /// (A close settles everything unsettled before the day's end, so `this_terminal` also
    /// holds earlier days nobody closed.)
    pub this_terminal_in_day: SettlementFigures,
    /// The journal entry of the close, when it moved money.
    pub entry_sequence: Option<i64>,
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
        let this_terminal = by_terminal
            .into_iter()
            .find(|(terminal_id, _)| *terminal_id == terminal.terminal.id)
            .map(|(_, figures)| figures)
            .unwrap_or_default();
        let this_terminal_in_day = self
            .store
            .terminal_day(
                terminal.terminal.merchant_id,
                terminal.terminal.id,
                day_start_ms,
                day_end_ms,
            )
            .await?;
        Ok(Settlement {
            day,
            closed,
            figures,
            this_terminal,
            this_terminal_in_day,
            entry_sequence: None,
        })
    }

    /// Closes the day once: moves the drawer's cash to the service account and the net of
    /// payments less refunds out to the store. Closing again answers the first close.
    pub async fn close_day(
        &self,
        terminal: &AuthenticatedTerminal,
        day: Date,
    ) -> Result<Settlement, ServiceError> {
        let (_, day_end_ms) = self.settlement_day_bounds_ms(terminal, day).await?;
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
            kind: CommandKind::CloseDay { merchant_id, day: day_text, day_end_ms },
        };
        match self.submit(command).await? {
            Outcome::DayClosed { entry_sequence, .. } => {
                let closed = self.settlement(terminal, day).await?;
                Ok(Settlement { entry_sequence, ..closed })
            }
            other => Err(internal(format!("close answered {other:?}"))),
        }
    }
}

/// A store's day as operators read it: every counter's part, closed or open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreDay {
    pub merchant: Merchant,
    pub closed: bool,
    pub figures: SettlementFigures,
    pub by_terminal: Vec<(TerminalId, SettlementFigures)>,
}

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
            days.push(StoreDay { merchant, closed, figures, by_terminal });
        }
        Ok(days)
    }
}
