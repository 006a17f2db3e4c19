//! A manager gives back cash for a top-up (a mistyped amount, a customer changing their
//! mind), through the counter's own `reverse_top_up`: online only, its key stored before it
//! is sent, resent by the sync worker when the answer is lost. Mostly a recent top-up, for
//! part of it, all of it, or a minor unit more than is left (refused).

use anyhow::Result;

use crate::workload::{money, shown};
use crate::world::World;

/// Reversals are drawn from this many of the most recent top-ups: a manager reverses what
/// was just keyed, rarely something from days ago.
const RECENT_TOP_UPS: usize = 12;

impl World {
    pub(crate) async fn reverse_top_up(&mut self) -> Result<()> {
        // At the counter a crash is planned for, when there is one.
        let focus = self.focus;
        let recent: Vec<usize> = (0..self.top_ups.len())
            .rev()
            .filter(|index| focus.is_none_or(|counter| self.top_ups[*index].counter == counter))
            .take(RECENT_TOP_UPS)
            .collect();
        if recent.is_empty() {
            return Ok(());
        }
        let top_up = &self.top_ups[recent[self.rng.index(recent.len())]];
        let amount = match self.rng.below(10) {
            0..=4 => self.rng.between(1, top_up.amount),
            5..=8 => top_up.amount,
            _ => top_up.amount + 1,
        };
        let counter = &self.counters[top_up.counter];
        let result = counter.counter.reverse_top_up(None, top_up.entry_id, &money(amount)).await;
        let text = format!(
            "{} reverses {} of {} -> {}",
            counter.label,
            money(amount),
            top_up.label,
            shown(&result, |error| error.code().to_owned())
        );
        self.log(text);
        Ok(())
    }
}
