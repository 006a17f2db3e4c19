//! The operators' dashboard: today's flows, the reserve at the end of each of the last 30
//! days, counters silent for more than a day, and what waits for approval.

use jiff::civil::Date;
use tillfund_core::protocol::{OperatorAction, ProposalStatus};

use super::operators::{Caller, RequestSource, SignedInOperator};
use super::*;
use crate::operators::Permission;
use crate::store::Flows;

/// Days of the reserve's history the dashboard draws.
pub const RESERVE_HISTORY_DAYS: usize = 30;
/// A counter not heard from for this long is silent.
pub const SILENT_AFTER_MS: i64 = 24 * 60 * 60 * 1000;
/// Silent counters listed at most.
const SILENT_LISTED_MAX: usize = 50;

/// A counter that has not been heard from for more than a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SilentCounter {
    pub merchant: String,
    pub label: String,
    pub terminal_id: TerminalId,
    /// `None`: never heard from since it enrolled.
    pub last_seen_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dashboard {
    pub status: LedgerStatus,
    /// The platform's day (its time zone), and what moved in it so far.
    pub today: Date,
    pub today_flows: Flows,
    /// The reserve at the end of each day, oldest first, today last (as it stands now).
    pub reserve_by_day: Vec<(Date, i64)>,
    pub silent_counters: Vec<SilentCounter>,
    pub pending_proposals: usize,
}

impl<S: Storage> FundService<S> {
    pub async fn dashboard(
        &self,
        by: &SignedInOperator,
        source: &RequestSource,
    ) -> Result<Dashboard, ServiceError> {
        let caller = Caller::Operator(by.clone());
        let action = OperatorAction::StatusRead;
        self.require_permission(&caller, source, Permission::Read, action, "dashboard").await?;
        let status = self.ledger_status().await?;
        let now = self.store.clock().now_ms();
        let zone = self.config.yield_policy.time_zone.clone();
        let today = jiff::Timestamp::from_millisecond(now)
            .map_err(|error| internal(error.to_string()))?
            .to_zoned(zone.clone())
            .date();
        let day_start = |day: Date| -> Result<i64, ServiceError> {
            Ok(day
                .to_zoned(zone.clone())
                .map_err(|error| internal(error.to_string()))?
                .timestamp()
                .as_millisecond())
        };
        // Backwards from now: the end of each day is the next day's end less what moved in it.
        let mut reserve_by_day = Vec::with_capacity(RESERVE_HISTORY_DAYS);
        let mut balance = status.reserve.minor_units();
        let mut day = today;
        let mut today_flows = Flows::default();
        for index in 0..RESERVE_HISTORY_DAYS {
            let flows =
                self.store.flows_between(day_start(day)?, end_of_day_ms(&zone, day)?).await?;
            reserve_by_day.push((day, balance));
            balance -= flows.reserve_change;
            if index == 0 {
                today_flows = flows;
            }
            day = day.yesterday().map_err(|error| internal(error.to_string()))?;
        }
        reserve_by_day.reverse();
        let mut silent_counters = Vec::new();
        'merchants: for merchant in
            self.store.list_merchants(super::operator_merchants::MERCHANTS_LISTED_MAX).await?
        {
            let counters = self
                .store
                .terminals_of(merchant.id, super::operator_merchants::COUNTERS_LISTED_MAX)
                .await?;
            for counter in counters {
                let heard = counter.last_seen_ms.unwrap_or(counter.enrolled_at_ms);
                if counter.revoked_at_ms.is_none() && now - heard > SILENT_AFTER_MS {
                    if silent_counters.len() == SILENT_LISTED_MAX {
                        break 'merchants;
                    }
                    silent_counters.push(SilentCounter {
                        merchant: merchant.name.clone(),
                        label: counter.label,
                        terminal_id: counter.id,
                        last_seen_ms: counter.last_seen_ms,
                    });
                }
            }
        }
        let pending_proposals =
            self.proposals(by, source, Some(ProposalStatus::Pending)).await?.len();
        Ok(Dashboard {
            status,
            today,
            today_flows,
            reserve_by_day,
            silent_counters,
            pending_proposals,
        })
    }
}
