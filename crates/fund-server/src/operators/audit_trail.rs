//! The operators' audit trail: every sign-in, proposal, approval and read of a customer's
//! personal data, appended and chained by hash like the journal, so that an edited,
//! removed or reordered record breaks the chain from there on and `audit` says where.
//! The database refuses updates and deletes of the table as well (a trigger); the chain is
//! what still tells when someone with the database's keys went around that.

use sha2::{Digest, Sha256};
use tillfund_core::OperatorId;
use tillfund_core::protocol::OperatorAction;
use tillfund_core::signing::encode_hex;

/// The hash before the first record.
pub const TRAIL_GENESIS_HASH: [u8; 32] = [0; 32];

/// Longest stored texts, in characters: what a sender typed is cut there, never refused,
/// so that even an absurd sign-in attempt leaves its record.
pub const NAME_CHARS_MAX: usize = 64;
pub const SOURCE_CHARS_MAX: usize = 64;
pub const SUBJECT_CHARS_MAX: usize = 200;
pub const DETAIL_CHARS_MAX: usize = 2_000;

/// Who acted: a signed-in operator, or a name typed at a sign-in that did not succeed, or
/// the command line on the server's machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub operator_id: Option<OperatorId>,
    pub name: String,
}

/// One record to append: the store gives it its sequence and chains it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTrailRecord {
    pub at_ms: i64,
    pub actor: Actor,
    /// Where from: the client's address, or `cli`.
    pub source: String,
    pub action: OperatorAction,
    /// What it was about: `operator:li.wei`, `customer:<id>`, `proposal:<id>`, ….
    pub subject: String,
    /// What changed or was asked, for a person to read.
    pub detail: String,
    /// `ok`, or the error code that refused it.
    pub outcome: String,
}

impl NewTrailRecord {
    /// A record with every text cut to its bound.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        at_ms: i64,
        actor: Actor,
        source: &str,
        action: OperatorAction,
        subject: &str,
        detail: &str,
        outcome: &str,
    ) -> NewTrailRecord {
        NewTrailRecord {
            at_ms,
            actor: Actor { operator_id: actor.operator_id, name: cut(&actor.name, NAME_CHARS_MAX) },
            source: cut(source, SOURCE_CHARS_MAX),
            action,
            subject: cut(subject, SUBJECT_CHARS_MAX),
            detail: cut(detail, DETAIL_CHARS_MAX),
            outcome: cut(outcome, NAME_CHARS_MAX),
        }
    }
}

/// An appended record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailRecord {
    /// 1, 2, 3, … with no gaps.
    pub sequence: i64,
    pub record: NewTrailRecord,
    pub previous_hash: [u8; 32],
    pub hash: [u8; 32],
}

impl TrailRecord {
    pub fn seal(sequence: i64, record: NewTrailRecord, previous_hash: [u8; 32]) -> TrailRecord {
        let hash = trail_hash(sequence, &record, &previous_hash);
        TrailRecord { sequence, record, previous_hash, hash }
    }
}

/// SHA-256 over every field, each prefixed by its length (free text may hold anything,
/// newlines included), and the previous hash.
pub fn trail_hash(sequence: i64, record: &NewTrailRecord, previous_hash: &[u8; 32]) -> [u8; 32] {
    let operator_id = record.actor.operator_id.map(|id| id.to_string()).unwrap_or_default();
    let fields: [&[u8]; 10] = [
        b"tillfund-operator-trail-v1",
        &sequence.to_be_bytes(),
        &record.at_ms.to_be_bytes(),
        operator_id.as_bytes(),
        record.actor.name.as_bytes(),
        record.source.as_bytes(),
        record.action.as_str().as_bytes(),
        record.subject.as_bytes(),
        record.detail.as_bytes(),
        record.outcome.as_bytes(),
    ];
    let mut hasher = Sha256::new();
    for field in fields {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field);
    }
    hasher.update(previous_hash);
    hasher.finalize().into()
}

/// Checks records read in order after `previous` (sequence and hash of the record before
/// them, `(0, genesis)` from the start): what is wrong, one sentence per problem, at most
/// `problems_max`.
pub fn check_trail(
    previous: (i64, [u8; 32]),
    records: &[TrailRecord],
    problems_max: usize,
) -> Vec<String> {
    let mut problems = Vec::new();
    let (mut sequence, mut hash) = previous;
    for record in records {
        if problems.len() >= problems_max {
            break;
        }
        if record.sequence != sequence + 1 {
            problems.push(format!(
                "operator trail: record {} follows record {sequence} (one is missing or reordered)",
                record.sequence
            ));
        } else if record.previous_hash != hash {
            problems.push(format!(
                "operator trail: record {} does not chain to record {sequence}",
                record.sequence
            ));
        } else if trail_hash(record.sequence, &record.record, &record.previous_hash) != record.hash
        {
            problems.push(format!(
                "operator trail: record {} was changed after it was written (hash {})",
                record.sequence,
                encode_hex(&record.hash)
            ));
        }
        sequence = record.sequence;
        hash = record.hash;
    }
    problems
}

/// `text` cut to `chars_max` characters, control characters other than newline shown as
/// spaces (a log line read in a terminal cannot be made to rewrite itself).
fn cut(text: &str, chars_max: usize) -> String {
    text.chars()
        .take(chars_max)
        .map(|char| if char.is_control() && char != '\n' { ' ' } else { char })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(at_ms: i64, detail: &str) -> NewTrailRecord {
        NewTrailRecord::new(
            at_ms,
            Actor { operator_id: Some(OperatorId::generate()), name: "li.wei".into() },
            "10.0.0.7",
            OperatorAction::SignIn,
            "operator:li.wei",
            detail,
            "ok",
        )
    }

    fn chain(records: Vec<NewTrailRecord>) -> Vec<TrailRecord> {
        let mut previous = TRAIL_GENESIS_HASH;
        let mut sealed = Vec::new();
        for (index, record) in records.into_iter().enumerate() {
            let next = TrailRecord::seal(index as i64 + 1, record, previous);
            previous = next.hash;
            sealed.push(next);
        }
        sealed
    }

    #[test]
    fn an_untouched_trail_checks_clean_and_every_edit_is_found() {
        let trail = chain(vec![record(1, "a"), record(2, "b"), record(3, "c")]);
        assert!(check_trail((0, TRAIL_GENESIS_HASH), &trail, 10).is_empty());
        assert!(check_trail((1, trail[0].hash), &trail[1..], 10).is_empty());

        let mut edited = trail.clone();
        edited[1].record.outcome = "operator_forbidden".into();
        let problems = check_trail((0, TRAIL_GENESIS_HASH), &edited, 10);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("record 2 was changed"), "{problems:?}");

        let mut removed = trail.clone();
        removed.remove(1);
        let problems = check_trail((0, TRAIL_GENESIS_HASH), &removed, 10);
        assert!(problems[0].contains("record 3 follows record 1"), "{problems:?}");

        let mut resealed = trail.clone();
        resealed[1] = TrailRecord::seal(2, record(2, "rewritten"), TRAIL_GENESIS_HASH);
        let problems = check_trail((0, TRAIL_GENESIS_HASH), &resealed, 10);
        assert!(problems[0].contains("record 2 does not chain"), "{problems:?}");
        assert!(problems[1].contains("record 3 does not chain"), "{problems:?}");
    }

    #[test]
    fn fields_cannot_be_shifted_into_each_other() {
        let mut left = record(1, "x");
        left.subject = "ab".into();
        left.detail = "c".into();
        let mut right = left.clone();
        right.subject = "a".into();
        right.detail = "bc".into();
        assert_ne!(
            trail_hash(1, &left, &TRAIL_GENESIS_HASH),
            trail_hash(1, &right, &TRAIL_GENESIS_HASH)
        );
    }

    #[test]
    fn typed_texts_are_bounded_and_cannot_rewrite_a_terminal() {
        let long = "名".repeat(5_000);
        let record = NewTrailRecord::new(
            1,
            Actor { operator_id: None, name: format!("evil\u{1b}[2J{long}") },
            &long,
            OperatorAction::SignIn,
            &long,
            &long,
            "operator_sign_in_failed",
        );
        assert_eq!(record.actor.name.chars().count(), NAME_CHARS_MAX);
        assert!(record.actor.name.starts_with("evil [2J"));
        assert_eq!(record.source.chars().count(), SOURCE_CHARS_MAX);
        assert_eq!(record.subject.chars().count(), SUBJECT_CHARS_MAX);
        assert_eq!(record.detail.chars().count(), DETAIL_CHARS_MAX);
    }
}
