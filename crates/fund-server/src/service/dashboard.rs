//! The operators' dashboard: today's flows, the reserve at the end of each of the last 30
//! days, counters silent for more than a day, counters' entries refused in the last day,
//! the newest audit, and what waits for approval.

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
/// Counters' entries refused this long ago or less are shown: they wait in the counter's
/// "needs attention" list, and a day is when a manager should have seen them.
pub const REFUSED_WITHIN_MS: i64 = 24 * 60 * 60 * 1000;
/// Refused entries read at most; past it the counts say "at least".
const REFUSED_READ_MAX: u32 = 500;
/// An audit older than this (or none) is itself an alert.
pub const AUDIT_DUE_AFTER_MS: i64 = 48 * 60 * 60 * 1000;

/// A counter whose entries the server refused in the last day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedAtCounter {
    pub merchant: String,
    pub label: String,
    pub terminal_id: TerminalId,
    pub refused: u64,
}

/// The newest audit, as the trail recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastAudit {
    pub at_ms: i64,
    pub by: String,
    /// `ok`, or `audit_problems_found`.
    pub outcome: String,
    pub detail: String,
}

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
    pub refused_entries: Vec<RefusedAtCounter>,
    pub last_audit: Option<LastAudit>,
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
            refused_entries: self.refused_entries(now - REFUSED_WITHIN_MS).await?,
            last_audit: self.last_audit().await?,
            pending_proposals,
        })
    }

    /// Counters whose outbox entries were refused since `since_ms`, most refused first.
    async fn refused_entries(&self, since_ms: i64) -> Result<Vec<RefusedAtCounter>, ServiceError> {
        let mut by_terminal: std::collections::BTreeMap<TerminalId, u64> = Default::default();
        for key in self.store.refused_outbox_keys_since(since_ms, REFUSED_READ_MAX).await? {
            // Exactly `terminal/<id>/outbox/<entry>`: a counter's own refund or reversal key
            // may hold slashes, and must not pass for an outbox entry.
            let parts: Vec<&str> = key.split('/').collect();
            let terminal = match parts.as_slice() {
                ["terminal", id, "outbox", _] => id.parse::<TerminalId>().ok(),
                _ => None,
            };
            if let Some(terminal) = terminal {
                *by_terminal.entry(terminal).or_default() += 1;
            }
        }
        let mut refused = Vec::with_capacity(by_terminal.len());
        for (terminal_id, count) in by_terminal {
            let Some(terminal) = self.store.terminal(terminal_id).await? else { continue };
            let merchant = self.store.merchant(terminal.merchant_id).await?;
            refused.push(RefusedAtCounter {
                merchant: merchant.map_or_else(|| terminal.merchant_id.to_string(), |m| m.name),
                label: terminal.label,
                terminal_id,
                refused: count,
            });
        }
        refused.sort_by_key(|counter| std::cmp::Reverse(counter.refused));
        Ok(refused)
    }

    async fn last_audit(&self) -> Result<Option<LastAudit>, ServiceError> {
        let query = crate::store::TrailQuery {
            before_sequence: None,
            operator_id: None,
            action: Some(OperatorAction::AuditRun),
            from_ms: None,
            until_ms: None,
            limit: 1,
        };
        Ok(self.store.trail(&query).await?.into_iter().next().map(|record| LastAudit {
            at_ms: record.record.at_ms,
            by: record.record.actor.name,
            outcome: record.record.outcome,
            detail: record.record.detail,
        }))
    }
}
