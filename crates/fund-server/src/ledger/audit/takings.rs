//! Takings: what a top-up or a payment took, and what its reversals or refunds gave back,
//! so that nothing gives back more than was taken, bucket by bucket.

use std::collections::HashMap;

use crate::ledger::account::{Account, Bucket};
use crate::ledger::entry::{NewEntry, TransferCode};

/// What an entry took, bucket by bucket, and what the entries that refer back to it gave
/// back: a top-up and its reversals ([principal, bonus]), a payment and its refunds
/// ([principal, bonus, yield]).
#[derive(Debug, Clone, Copy)]
pub(super) struct Takings<const BUCKETS: usize> {
    pub(super) taken: [i128; BUCKETS],
    pub(super) returned: [i128; BUCKETS],
}

/// What is wrong with an entry that takes or gives back, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TakingProblem {
    TakenTwice,
    ReturnsWhatIsNotHeld,
    ReturnsMoreThanTaken,
}

/// Records an entry that takes (`returning` false) or gives back against `key`.
pub(super) fn track<K: std::hash::Hash + Eq, const BUCKETS: usize>(
    takings: &mut HashMap<K, Takings<BUCKETS>>,
    key: K,
    amounts: [i128; BUCKETS],
    returning: bool,
) -> Option<TakingProblem> {
    if !returning {
        let fresh = Takings { taken: amounts, returned: [0; BUCKETS] };
        return takings.insert(key, fresh).is_some().then_some(TakingProblem::TakenTwice);
    }
    let Some(totals) = takings.get_mut(&key) else {
        return Some(TakingProblem::ReturnsWhatIsNotHeld);
    };
    for (total, amount) in totals.returned.iter_mut().zip(amounts) {
        *total += amount;
    }
    let over = totals.returned.iter().zip(totals.taken).any(|(returned, taken)| *returned > taken);
    over.then_some(TakingProblem::ReturnsMoreThanTaken)
}

/// What an entry's transfers of `code` moved out of (`outgoing`) or into a wallet's
/// `bucket`.
pub(super) fn wallet_sum(
    entry: &NewEntry,
    code: TransferCode,
    bucket: Bucket,
    outgoing: bool,
) -> i128 {
    entry
        .transfers
        .iter()
        .filter(|transfer| transfer.code == code)
        .filter(|transfer| {
            let account = if outgoing { transfer.from } else { transfer.to };
            matches!(account, Account::Wallet(_, found) if found == bucket)
        })
        .map(|transfer| i128::from(transfer.amount.amount().minor_units()))
        .sum()
}
