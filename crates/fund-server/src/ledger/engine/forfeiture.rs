//! A wallet closed with nothing payable gives back the bonus it still holds: bonus is never
//! paid out as cash, and a closed wallet holds nothing. Payments split across the buckets
//! in proportion, so a wallet can be left with a few fen of bonus and no principal.

use super::*;

impl Batch {
    pub(super) fn forfeit_bonus(
        &mut self,
        customer_id: CustomerId,
        command: &Command,
    ) -> Result<Outcome, Deferred> {
        let payable = self.balance(Account::Wallet(customer_id, Bucket::Principal))?.minor_units()
            + self.balance(Account::Wallet(customer_id, Bucket::Yield))?.minor_units();
        // Decided here, in the batch that moves the bonus: a top-up or yield posted since
        // the service looked makes the wallet payable again, and then nothing is forfeited.
        if payable != 0 {
            return Ok(Outcome::rejected(
                RejectCode::WalletChanged,
                "The wallet holds money: it is paid out at a store before it closes.",
            ));
        }
        let bonus = self.balance(Account::Wallet(customer_id, Bucket::Bonus))?;
        let Ok(amount) = PositiveAmount::try_from(bonus.minor_units()) else {
            return Ok(Outcome::BonusForfeited {
                entry_sequence: None,
                customer_id,
                amount: bonus,
            });
        };
        let entry = NewEntry {
            code: EntryCode::BonusForfeiture,
            recorded_at_ms: command.recorded_at_ms,
            references: EntryReferences {
                customer_id: Some(customer_id),
                ..EntryReferences::default()
            },
            transfers: vec![Transfer {
                from: Account::Wallet(customer_id, Bucket::Bonus),
                to: Account::Reserve,
                amount,
                code: TransferCode::Bonus,
            }],
        };
        match self.post(entry)? {
            Ok(sequence) => Ok(Outcome::BonusForfeited {
                entry_sequence: Some(sequence),
                customer_id,
                amount: bonus,
            }),
            Err(account) => guard_tripped(account),
        }
    }
}
