//! Operators' accounts, sign-in attempts, second-factor steps, sessions, the trail and
//! proposals.

use std::sync::Arc;

use fund_server::operators::{Actor, NewTrailRecord, TRAIL_GENESIS_HASH, check_trail};
use fund_server::store::{
    Decision, OperatorRecord, PinAttempt, ProposalRecord, SessionLimits, Storage, TrailQuery,
};
use tillfund_core::protocol::{
    ChangeLineBody, OperatorAction, OperatorRole, ProposalStatus, ProposedChange,
};
use tillfund_core::{OperatorId, ProposalId};

use crate::support::execute_raw;

fn account(name: &str, role: OperatorRole) -> OperatorRecord {
    OperatorRecord {
        id: OperatorId::generate(),
        name: name.into(),
        role,
        password_hash: format!("hash of {name}"),
        totp_secret_sealed: format!("sealed of {name}"),
        totp_last_step: None,
        disabled: false,
        locked_until_ms: None,
        created_at_ms: 1_000,
    }
}

const LIMITS: SessionLimits = SessionLimits { idle_ms: 1_000, per_operator_max: 3 };

pub async fn accounts_are_unique_by_name_and_read_back<S: Storage>(store: S) {
    let wei = account("li.wei", OperatorRole::Approver);
    assert!(store.add_operator(&wei).await.unwrap());
    let again = account("li.wei", OperatorRole::Viewer);
    assert!(!store.add_operator(&again).await.unwrap(), "the name is taken");
    assert!(store.operator(again.id).await.unwrap().is_none(), "nothing written");
    assert!(store.add_operator(&account("admin", OperatorRole::Administrator)).await.unwrap());
    assert_eq!(store.operator(wei.id).await.unwrap(), Some(wei.clone()));
    assert_eq!(store.operator_by_name("li.wei").await.unwrap(), Some(wei.clone()));
    assert_eq!(store.operator_by_name("nobody").await.unwrap(), None);
    let names: Vec<_> =
        store.list_operators(10).await.unwrap().into_iter().map(|record| record.name).collect();
    assert_eq!(names, ["admin", "li.wei"]);
    assert_eq!(store.list_operators(1).await.unwrap().len(), 1);

    assert!(store.set_operator_disabled(wei.id, true).await.unwrap());
    assert!(store.operator(wei.id).await.unwrap().unwrap().disabled);
    assert!(store.set_operator_disabled(wei.id, false).await.unwrap());
    assert!(!store.set_operator_disabled(OperatorId::generate(), true).await.unwrap());
    assert!(store.set_operator_password(wei.id, "new hash").await.unwrap());
    assert!(store.set_operator_totp(wei.id, "new sealed").await.unwrap());
    let changed = store.operator(wei.id).await.unwrap().unwrap();
    assert_eq!(
        (changed.password_hash.as_str(), changed.totp_secret_sealed.as_str()),
        ("new hash", "new sealed")
    );
    assert!(!store.set_operator_password(OperatorId::generate(), "x").await.unwrap());
}

pub async fn parallel_sign_in_attempts_never_pass_the_limit<S: Storage>(store: S) {
    let wei = account("li.wei", OperatorRole::Operator);
    store.add_operator(&wei).await.unwrap();
    let store = Arc::new(store);
    let attempts: Vec<_> = (0..30)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store.take_sign_in_attempt(wei.id, 5, 10_000, 70_000).await.unwrap()
            })
        })
        .collect();
    let mut taken = Vec::new();
    let mut locked = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            PinAttempt::Taken { attempt, locks } => taken.push((attempt, locks)),
            PinAttempt::Locked { until_ms } => {
                assert_eq!(until_ms, 70_000);
                locked += 1;
            }
        }
    }
    taken.sort();
    assert_eq!(taken, [(1, false), (2, false), (3, false), (4, false), (5, true)]);
    assert_eq!(locked, 25);
    assert_eq!(store.operator(wei.id).await.unwrap().unwrap().locked_until_ms, Some(70_000));
    // The lock runs out: the count starts again at one.
    assert_eq!(
        store.take_sign_in_attempt(wei.id, 5, 70_000, 130_000).await.unwrap(),
        PinAttempt::Taken { attempt: 1, locks: false }
    );
    store.reset_sign_in_failures(wei.id).await.unwrap();
    assert_eq!(
        store.take_sign_in_attempt(wei.id, 5, 70_001, 130_000).await.unwrap(),
        PinAttempt::Taken { attempt: 1, locks: false }
    );
}

pub async fn a_second_factor_step_is_used_once_even_in_parallel<S: Storage>(store: S) {
    let wei = account("li.wei", OperatorRole::Operator);
    store.add_operator(&wei).await.unwrap();
    let store = Arc::new(store);
    let uses: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.use_totp_step(wei.id, 100).await.unwrap() })
        })
        .collect();
    let mut accepted = 0;
    for used in uses {
        accepted += usize::from(used.await.unwrap());
    }
    assert_eq!(accepted, 1);
    assert!(!store.use_totp_step(wei.id, 99).await.unwrap(), "an earlier step");
    assert!(store.use_totp_step(wei.id, 101).await.unwrap());
    assert_eq!(store.operator(wei.id).await.unwrap().unwrap().totp_last_step, Some(101));
}

pub async fn sessions_end_by_idling_expiry_sign_out_and_account_changes<S: Storage>(store: S) {
    let wei = account("li.wei", OperatorRole::Operator);
    let admin = account("admin", OperatorRole::Administrator);
    store.add_operator(&wei).await.unwrap();
    store.add_operator(&admin).await.unwrap();
    store.add_operator_session("tfo_a", wei.id, 0, 100_000, LIMITS).await.unwrap();
    assert_eq!(store.operator_session("tfo_a", 500, 1_000).await.unwrap(), Some(wei.id));
    assert_eq!(store.operator_session("tfo_b", 500, 1_000).await.unwrap(), None);
    // Seen at 500 (marks are kept to the minute, so the mark stays at 0): idle at 1,000.
    assert_eq!(store.operator_session("tfo_a", 1_000, 1_000).await.unwrap(), None, "idled out");
    // A session in use lives to its expiry, and not a moment longer.
    store.add_operator_session("tfo_c", wei.id, 0, 200_000, LIMITS).await.unwrap();
    let idle = 150_000;
    for now in (70_000..200_000).step_by(70_000) {
        assert_eq!(
            store.operator_session("tfo_c", now, idle).await.unwrap(),
            Some(wei.id),
            "{now}"
        );
    }
    assert_eq!(store.operator_session("tfo_c", 200_000, idle).await.unwrap(), None, "expired");

    store.add_operator_session("tfo_d", wei.id, 0, 100_000, LIMITS).await.unwrap();
    store.add_operator_session("tfo_e", wei.id, 0, 100_000, LIMITS).await.unwrap();
    store.add_operator_session("tfo_admin", admin.id, 0, 100_000, LIMITS).await.unwrap();
    store.end_operator_session("tfo_d").await.unwrap();
    assert_eq!(store.operator_session("tfo_d", 10, 1_000).await.unwrap(), None, "signed out");
    assert_eq!(store.operator_session("tfo_e", 10, 1_000).await.unwrap(), Some(wei.id));
    // Disabling the account ends its sessions, and only its.
    store.set_operator_disabled(wei.id, true).await.unwrap();
    assert_eq!(store.operator_session("tfo_e", 10, 1_000).await.unwrap(), None);
    store.set_operator_disabled(wei.id, false).await.unwrap();
    assert_eq!(store.operator_session("tfo_e", 10, 1_000).await.unwrap(), None, "gone for good");
    assert_eq!(store.operator_session("tfo_admin", 10, 1_000).await.unwrap(), Some(admin.id));

    // Sign-out everywhere, a new password and a new second factor each end every session.
    for change in 0..3 {
        store.add_operator_session("tfo_f", wei.id, 0, 100_000, LIMITS).await.unwrap();
        store.add_operator_session("tfo_g", wei.id, 0, 100_000, LIMITS).await.unwrap();
        match change {
            0 => assert_eq!(store.end_operator_sessions(wei.id).await.unwrap(), 2),
            1 => assert!(store.set_operator_password(wei.id, "h").await.unwrap()),
            _ => assert!(store.set_operator_totp(wei.id, "s").await.unwrap()),
        }
        for token in ["tfo_f", "tfo_g"] {
            assert_eq!(store.operator_session(token, 10, 1_000).await.unwrap(), None, "{change}");
        }
    }

    // An account holds at most `per_operator_max` sessions: the least recently seen goes.
    for (index, token) in ["tfo_1", "tfo_2", "tfo_3", "tfo_4"].into_iter().enumerate() {
        let now = 100 * index as i64;
        store.add_operator_session(token, wei.id, now, 100_000, LIMITS).await.unwrap();
    }
    assert_eq!(store.operator_session("tfo_1", 400, 1_000).await.unwrap(), None, "the oldest");
    for token in ["tfo_2", "tfo_3", "tfo_4"] {
        assert_eq!(store.operator_session(token, 400, 1_000).await.unwrap(), Some(wei.id));
    }
}

fn record(index: usize, operator: Option<OperatorId>, action: OperatorAction) -> NewTrailRecord {
    NewTrailRecord::new(
        1_000 + index as i64,
        Actor { operator_id: operator, name: format!("name {index}") },
        "10.0.0.1",
        action,
        &format!("subject {index}"),
        "detail\nwith a newline",
        "ok",
    )
}

pub async fn the_trail_appends_in_one_chain_and_is_read_back_by_filter<S: Storage>(store: S) {
    let wei = OperatorId::generate();
    let store = Arc::new(store);
    let appends: Vec<_> = (0..24)
        .map(|index| {
            let store = store.clone();
            let (operator, action) = if index % 3 == 0 {
                (Some(wei), OperatorAction::SignIn)
            } else {
                (None, OperatorAction::SignOut)
            };
            tokio::spawn(async move {
                store.append_trail(&record(index, operator, action)).await.unwrap()
            })
        })
        .collect();
    for append in appends {
        append.await.unwrap();
    }
    let all = store.trail_after(0, 100).await.unwrap();
    let sequences: Vec<_> = all.iter().map(|record| record.sequence).collect();
    assert_eq!(sequences, (1..=24).collect::<Vec<_>>(), "no gaps, in order");
    assert!(check_trail((0, TRAIL_GENESIS_HASH), &all, 10).is_empty(), "one chain");
    assert_eq!(all[0].previous_hash, TRAIL_GENESIS_HASH);
    assert_eq!(store.trail_after(20, 2).await.unwrap().len(), 2);

    let newest = store.trail(&TrailQuery { limit: 5, ..TrailQuery::default() }).await.unwrap();
    assert_eq!(
        newest.iter().map(|record| record.sequence).collect::<Vec<_>>(),
        [24, 23, 22, 21, 20]
    );
    assert_eq!(newest[0], all[23], "the same record either way");
    let next = TrailQuery { before_sequence: Some(20), limit: 2, ..TrailQuery::default() };
    assert_eq!(
        store.trail(&next).await.unwrap().iter().map(|r| r.sequence).collect::<Vec<_>>(),
        [19, 18]
    );
    let by_wei = TrailQuery { operator_id: Some(wei), limit: 100, ..TrailQuery::default() };
    let found = store.trail(&by_wei).await.unwrap();
    assert_eq!(found.len(), 8);
    assert!(found.iter().all(|record| record.record.action == OperatorAction::SignIn));
    let sign_outs =
        TrailQuery { action: Some(OperatorAction::SignOut), limit: 100, ..TrailQuery::default() };
    assert_eq!(store.trail(&sign_outs).await.unwrap().len(), 16);
    let window = TrailQuery {
        from_ms: Some(all[4].record.at_ms),
        until_ms: Some(all[4].record.at_ms + 1),
        limit: 100,
        ..TrailQuery::default()
    };
    let in_window = store.trail(&window).await.unwrap();
    assert!(in_window.iter().all(|record| record.record.at_ms == all[4].record.at_ms));
    assert!(!in_window.is_empty());
}

pub async fn the_database_itself_refuses_to_rewrite_the_trail<S: Storage>(store: S, url: &str) {
    for index in 0..3 {
        store.append_trail(&record(index, None, OperatorAction::SignIn)).await.unwrap();
    }
    for statement in [
        "UPDATE operator_trail SET outcome = 'ok'",
        "DELETE FROM operator_trail WHERE sequence = 2",
        "DELETE FROM operator_trail",
    ] {
        let answer = execute_raw(url, statement).await;
        assert!(answer.is_err(), "the database let this through: {statement} ({answer:?})");
    }
    let all = store.trail_after(0, 10).await.unwrap();
    assert_eq!(all.len(), 3);
    assert!(check_trail((0, TRAIL_GENESIS_HASH), &all, 10).is_empty());
}

fn proposal(proposer: &Actor, now_ms: i64) -> ProposalRecord {
    ProposalRecord {
        id: ProposalId::generate(),
        change: ProposedChange::FundReserve { amount: 100 },
        note: "why".into(),
        proposer: proposer.clone(),
        proposed_at_ms: now_ms,
        expires_at_ms: now_ms + 1_000,
        status: ProposalStatus::Pending,
        decider: None,
        decided_at_ms: None,
        decision_note: None,
        outcome: None,
        changes: vec![ChangeLineBody {
            what: "reserve".into(),
            before: "0".into(),
            after: "1".into(),
        }],
    }
}

fn actor(name: &str) -> Actor {
    Actor { operator_id: Some(OperatorId::generate()), name: name.into() }
}

pub async fn a_proposal_is_decided_once_never_by_its_proposer_and_never_late<S: Storage>(store: S) {
    let (maker, checkers) =
        (actor("wang"), (0..8).map(|i| actor(&format!("c{i}"))).collect::<Vec<_>>());
    let first = proposal(&maker, 1_000);
    store.add_proposal(&first).await.unwrap();
    assert_eq!(store.proposal(first.id).await.unwrap(), Some(first.clone()));
    let decision = |decider: &Actor, to, now_ms| {
        let store = store.clone();
        let decider = decider.clone();
        async move {
            let decision = Decision { to, decider: &decider, note: "ok", changes: &[], now_ms };
            store.decide_proposal(first.id, decision).await.unwrap()
        }
    };
    assert!(!decision(&maker, ProposalStatus::Approved, 1_500).await, "its own proposer");
    assert!(!decision(&checkers[0], ProposalStatus::Approved, 2_000).await, "expired");
    assert_eq!(store.proposal(first.id).await.unwrap().unwrap().status, ProposalStatus::Pending);

    // Parallel approvals by different approvers: one wins.
    let store = Arc::new(store);
    let second = proposal(&maker, 10_000);
    store.add_proposal(&second).await.unwrap();
    let decisions: Vec<_> = checkers
        .iter()
        .cloned()
        .map(|checker| {
            let store = store.clone();
            tokio::spawn(async move {
                let decision = Decision {
                    to: ProposalStatus::Approved,
                    decider: &checker,
                    note: "",
                    changes: &[],
                    now_ms: 10_500,
                };
                store.decide_proposal(second.id, decision).await.unwrap()
            })
        })
        .collect();
    let mut won = 0;
    for decided in decisions {
        won += usize::from(decided.await.unwrap());
    }
    assert_eq!(won, 1);
    let approved = store.proposal(second.id).await.unwrap().unwrap();
    assert_eq!(approved.status, ProposalStatus::Approved);
    assert_eq!(
        (approved.decided_at_ms, approved.decision_note.as_deref()),
        (Some(10_500), Some(""))
    );
    assert!(approved.changes.is_empty(), "the description as of the decision");
    assert!(
        !store.finish_proposal(first.id, ProposalStatus::Applied, "ok").await.unwrap(),
        "not approved"
    );
    assert!(store.finish_proposal(second.id, ProposalStatus::Applied, "ok").await.unwrap());
    assert!(!store.finish_proposal(second.id, ProposalStatus::Failed, "x").await.unwrap(), "once");
    let applied = store.proposal(second.id).await.unwrap().unwrap();
    assert_eq!((applied.status, applied.outcome.as_deref()), (ProposalStatus::Applied, Some("ok")));

    let listed: Vec<_> = store.proposals(None, 10).await.unwrap().iter().map(|p| p.id).collect();
    assert_eq!(listed, [second.id, first.id], "newest first");
    let pending: Vec<_> = store
        .proposals(Some(ProposalStatus::Pending), 10)
        .await
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(pending, [first.id]);
    assert!(store.proposal(ProposalId::generate()).await.unwrap().is_none());
}
