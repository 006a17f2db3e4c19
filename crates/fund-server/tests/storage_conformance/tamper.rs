//! What the database itself refuses, whoever writes to it: the journal is append-only,
//! no account but `world` goes negative, and an entry extends the hash chain or is not
//! written. The store's code never tries any of this; an intruder with the file or the
//! credentials, or a bug, might.

use fund_server::ledger::Account;
use fund_server::service::{AuditScope, audit_store};
use fund_server::store::Storage;

use crate::support::{apply, execute_raw, fund};

pub async fn the_database_itself_refuses_to_rewrite_the_journal<S: Storage>(store: S, url: &str) {
    apply(&store, &[fund("fund/1", 10_000), fund("fund/2", 5_000)]).await;
    for statement in [
        "UPDATE transfers SET amount = 1",
        "DELETE FROM transfers",
        "UPDATE journal_entries SET code = 'refund'",
        "DELETE FROM journal_entries",
        "UPDATE accounts SET balance = -1 WHERE key = 'reserve'",
        // A third entry that does not name the second's hash.
        "INSERT INTO journal_entries (sequence, applied_at_ms, code, recorded_at_ms, \
         previous_hash, hash) VALUES (3, 1, 'fund', 1, \
         X'0000000000000000000000000000000000000000000000000000000000000000', \
         X'1111111111111111111111111111111111111111111111111111111111111111')",
        // An entry that skips a number, naming the head's hash.
        "INSERT INTO journal_entries (sequence, applied_at_ms, code, recorded_at_ms, \
         previous_hash, hash) SELECT 4, 1, 'fund', 1, hash, hash FROM journal_entries \
         WHERE sequence = 2",
    ] {
        let statement =
            statement.replace("X'", if url.starts_with("sqlite") { "X'" } else { "'\\x" });
        let answer = execute_raw(url, &statement).await;
        assert!(answer.is_err(), "the database let this through: {statement} ({answer:?})");
    }
    assert_eq!(store.balance(Account::Reserve).await.unwrap().minor_units(), 15_000);
    let report = audit_store(&store, AuditScope::Full, 0).await.unwrap();
    assert!(report.passed(), "{report:?}");
    assert_eq!(report.entries_checked, 2);
}
