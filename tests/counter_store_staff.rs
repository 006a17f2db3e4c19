//! The store's staff kept on the server and copied to every counter (`counter_core::
//! staff_sync`), headless, against the real fund-server binary: members made at a counter
//! before it was enrolled are sent once (the same person enrolled at two counters is
//! adopted from the store's list, whose PIN wins), a new counter of a store with staff
//! offers no "first manager", changes made at one counter reach the others, wrong PINs stay
//! counted at their counter, and no change is made while the server cannot be reached.

// Test code: helpers outside #[test] fns unwrap too, and a failure should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use counter_core::cash_desk::Counted;
use counter_core::counter::{Counter, now_ms};
use counter_core::shift_report::CashierShift;
use counter_core::staff::{Cashier, MAX_WRONG_PINS, Role, StaffMember, StaffSession};
use counter_core::staff_sync::{StaffRound, sync_staff};
use counter_core::sync::{RoundOutcome, sync_round};
use serde_json::{Value, json};
use tillfund_core::Amount;
use tillfund_e2e::demo::{self, MEMBER_CODE};
use tillfund_e2e::free_port;
use tillfund_e2e::operators::{Authenticator, OPERATOR_PASSWORD, add_operator};
use tillfund_e2e::process::FundServer;

async fn open(directory: &tempfile::TempDir, name: &str) -> Counter {
    Counter::open(&directory.path().join(format!("{name}.sqlite"))).await.unwrap()
}

fn named<'a>(staff: &'a [StaffMember], name: &str) -> &'a StaffMember {
    staff.iter().find(|member| member.name == name).unwrap_or_else(|| panic!("{name}: {staff:?}"))
}

async fn sign_in(counter: &Counter, name: &str, pin: &str) -> Result<StaffSession, String> {
    let staff = counter.staff().await.unwrap();
    let signed_in = counter.sign_in(named(&staff, name).staff_id, pin, now_ms()).await;
    signed_in.map_err(|error| error.code().to_owned())
}

async fn names(counter: &Counter) -> Vec<(String, bool)> {
    let mut names: Vec<_> = counter
        .staff()
        .await
        .unwrap()
        .into_iter()
        .map(|member| (member.name, member.active))
        .collect();
    names.sort();
    names
}

fn listed(entries: &[(&str, bool)]) -> Vec<(String, bool)> {
    entries.iter().map(|(name, active)| ((*name).to_owned(), *active)).collect()
}

#[tokio::test]
async fn one_staff_list_for_the_whole_store() {
    let server_dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    let server = FundServer::start(server_dir.path(), &listen).unwrap();
    let counters = tempfile::tempdir().unwrap();

    // Counter A had its staff before it was enrolled: enrolment sends them to the store.
    let till_a = open(&counters, "a").await;
    let mia = till_a.add_staff(None, "Mia", Role::Manager, "2468", now_ms()).await.unwrap();
    let mia_a = till_a.sign_in(mia.staff_id, "2468", now_ms()).await.unwrap();
    till_a.add_staff(Some(&mia_a), "Ben", Role::Cashier, "1357", now_ms()).await.unwrap();
    till_a.enrol(&server.url, &demo::activation_code(server_dir.path()), "A").await.unwrap();
    assert_eq!(
        sync_staff(till_a.store()).await.unwrap(),
        StaffRound::default(),
        "sent at enrolment"
    );

    // Counter B enrolled the same manager on its own, with another PIN, and a cashier of
    // its own: its Mia gives way to the store's (whose PIN wins), its cashier joins.
    let till_b = open(&counters, "b").await;
    let mia_own = till_b.add_staff(None, "mia", Role::Manager, "1111", now_ms()).await.unwrap();
    let mia_own = till_b.sign_in(mia_own.staff_id, "1111", now_ms()).await.unwrap();
    till_b.add_staff(Some(&mia_own), "Cy", Role::Cashier, "3690", now_ms()).await.unwrap();
    till_b.enrol(&server.url, &demo::activation_code(server_dir.path()), "B").await.unwrap();
    assert_eq!(names(&till_b).await, listed(&[("Ben", true), ("Cy", true), ("Mia", true)]));
    assert_eq!(sign_in(&till_b, "Mia", "1111").await.unwrap_err(), "staff_pin_wrong");
    let mia_b = sign_in(&till_b, "Mia", "2468").await.unwrap();
    assert_eq!(mia_b.staff_id, mia.staff_id, "the store's Mia, the same at every counter");

    // A new counter of the store has the list at once: no "first manager" to make there.
    let till_c = open(&counters, "c").await;
    till_c.enrol(&server.url, &demo::activation_code(server_dir.path()), "C").await.unwrap();
    assert_eq!(names(&till_c).await, listed(&[("Ben", true), ("Cy", true), ("Mia", true)]));
    let refused = till_c.add_staff(None, "Zed", Role::Manager, "0000", now_ms()).await;
    assert_eq!(refused.unwrap_err().code(), "manager_required");

    // Changes made at one counter reach the others with their next sync.
    sync_staff(till_a.store()).await.unwrap();
    let ben = named(&till_a.staff().await.unwrap(), "Ben").staff_id;
    till_b.set_staff_active(&mia_b, ben, false).await.unwrap();
    let round = sync_staff(till_a.store()).await.unwrap();
    assert_eq!(round.pulled, 1, "{round:?}");
    assert_eq!(sign_in(&till_a, "Ben", "1357").await.unwrap_err(), "staff_inactive");

    // Wrong PINs lock a member at the counter they were typed at only; a manager's new PIN
    // lifts the lock wherever it arrives.
    for _ in 0..MAX_WRONG_PINS {
        let _ = sign_in(&till_b, "Cy", "0000").await;
    }
    assert_eq!(sign_in(&till_b, "Cy", "3690").await.unwrap_err(), "staff_locked");
    sync_staff(till_c.store()).await.unwrap();
    assert!(sign_in(&till_c, "Cy", "3690").await.is_ok(), "not locked at counter C");
    let cy = named(&till_a.staff().await.unwrap(), "Cy").staff_id;
    till_a.reset_staff_pin(&mia_a, cy, "8642").await.unwrap();
    sync_staff(till_b.store()).await.unwrap();
    assert!(sign_in(&till_b, "Cy", "8642").await.is_ok(), "the new PIN, lock lifted");

    // A name is the store's: taken at another counter is taken here, even before this
    // counter has heard of it (the server refuses; the list then shows who has it).
    till_b.add_staff(Some(&mia_b), "Dee", Role::Cashier, "4444", now_ms()).await.unwrap();
    let refused = till_a.add_staff(Some(&mia_a), "dee", Role::Cashier, "5555", now_ms()).await;
    assert_eq!(refused.unwrap_err().code(), "staff_name_taken");
    assert_eq!(sign_in(&till_a, "Dee", "4444").await.map(|session| session.name), Ok("Dee".into()));
    // The store keeps an active manager, whichever counter tries to disable the last one.
    let refused = till_c
        .set_staff_active(&sign_in(&till_c, "Mia", "2468").await.unwrap(), mia.staff_id, false)
        .await;
    assert_eq!(refused.unwrap_err().code(), "last_manager");

    // Without the server: staff sign in as before, but nobody is added or changed.
    server.stop().unwrap();
    let before = names(&till_a).await;
    let refused = till_a.add_staff(Some(&mia_a), "Eve", Role::Cashier, "7777", now_ms()).await;
    assert_eq!(refused.unwrap_err().code(), "staff_change_offline");
    let dee = named(&till_a.staff().await.unwrap(), "Dee").staff_id;
    let refused = till_a.set_staff_active(&mia_a, dee, false).await;
    assert_eq!(refused.unwrap_err().code(), "staff_change_offline");
    assert_eq!(names(&till_a).await, before, "nothing changed here");
    assert!(sign_in(&till_a, "Mia", "2468").await.is_ok(), "offline sign-in");
}

/// Who did what: the signed-in member goes with every top-up, order, refund, reversal and
/// close, is printed on the receipt, and the day splits per cashier into lines that add up
/// to the counter's figures.
#[tokio::test]
async fn every_record_carries_its_cashier_and_the_day_splits_per_cashier() {
    let server_dir = tempfile::tempdir().unwrap();
    let server =
        FundServer::start(server_dir.path(), &format!("127.0.0.1:{}", free_port())).unwrap();
    let counters = tempfile::tempdir().unwrap();
    let till = open(&counters, "till").await;
    till.enrol(&server.url, &demo::activation_code(server_dir.path()), "Till").await.unwrap();
    assert_eq!(sync_round(till.store()).await, RoundOutcome::Empty);
    till.add_staff(None, "Mia", Role::Manager, "2468", now_ms()).await.unwrap();
    let mia = sign_in(&till, "Mia", "2468").await.unwrap();
    till.add_staff(Some(&mia), "Ben", Role::Cashier, "1357", now_ms()).await.unwrap();
    let ben = sign_in(&till, "Ben", "1357").await.unwrap();
    let (mia, ben) = (Cashier::from(&mia), Cashier::from(&ben));
    let today = till.store_today().await.unwrap();

    // Ben takes two top-ups and makes an order the customer pays; Mia takes one top-up.
    let mut top_ups = Vec::new();
    for (by, amount) in [(&ben, "100.00"), (&ben, "50.00"), (&mia, "20.00")] {
        let preview = till.preview_top_up(MEMBER_CODE, amount).await.unwrap();
        top_ups.push(till.record_top_up(Some(by), &preview).await.unwrap());
    }
    let receipt = till.top_up_receipt(top_ups[0].entry_id).await.unwrap();
    assert!(receipt.lines.contains(&("Cashier".into(), "Ben".into())), "{:?}", receipt.lines);
    assert_eq!(sync_round(till.store()).await, RoundOutcome::Done { pushed: 3 });
    let order = till.create_order(Some(&ben), "30.00").await.unwrap();
    let customer = demo::DemoCustomer::sign_in(&server.url).await;
    assert_eq!(customer.pay(&order.token, "pay-ben").await.status(), 200);
    sync_round(till.store()).await;
    let receipt = till.order_receipt(order.order_id).await.unwrap();
    assert!(receipt.lines.contains(&("Cashier".into(), "Ben".into())), "{:?}", receipt.lines);

    // Mia refunds part of Ben's order and gives back part of her own top-up.
    till.refund(Some(&mia), order.order_id, "5.00").await.unwrap();
    till.reverse_top_up(Some(&mia), top_ups[2].entry_id, "20.00").await.unwrap();

    // The shift report: one line per cashier, adding up to the counter's figures.
    let report = till.day_report(today).await.unwrap();
    let line = |name: &str| {
        report.cashiers.iter().find(|shift| shift.name.as_deref() == Some(name)).unwrap().clone()
    };
    let (ben_day, mia_day) = (line("Ben"), line("Mia"));
    assert_eq!((ben_day.top_up_count, ben_day.cash), (2, 15_000));
    assert_eq!((ben_day.payment_count, ben_day.payments, ben_day.refund_count), (1, 3_000, 0));
    assert_eq!((mia_day.top_up_count, mia_day.cash, mia_day.refunds), (1, 2_000, 500));
    assert_eq!(
        (mia_day.reversal_count, mia_day.reversed_cash, mia_day.drawer_cash()),
        (1, 2_000, 0)
    );
    assert_eq!(report.cashiers.len(), 2, "{:?}", report.cashiers);
    let sum = |field: fn(&CashierShift) -> i64| report.cashiers.iter().map(field).sum::<i64>();
    assert_eq!(sum(|shift| shift.cash), report.counter.cash);
    assert_eq!(sum(|shift| shift.payments), report.counter.payments);
    assert_eq!(sum(|shift| shift.refunds), report.counter.refunds);
    assert_eq!(sum(|shift| shift.reversed_cash), report.counter.reversed_cash);

    // Mia counts and closes: the Z-report names who closed and each cashier's part.
    till.count_cash(
        today,
        Counted::Total(Amount::from_minor_units(15_000).unwrap()),
        None,
        &mia_session(&mia),
    )
    .await
    .unwrap();
    let closed = till.close_day(Some(&mia), today).await.unwrap();
    assert_eq!(closed.closed_by.as_deref(), Some("Mia"));
    let z_report = closed.z_report_text();
    for line in ["Ben cash", "Ben payments", "Mia refunds", "Closed by"] {
        assert!(z_report.contains(line), "{line:?} missing from\n{z_report}");
    }
    assert_eq!(till.day_report(today).await.unwrap(), closed, "kept as closed");

    // The server learnt who did what: the operators' day lists each member at the counter.
    let phone = Authenticator::new(add_operator(server_dir.path(), "vera", "viewer"));
    let http = reqwest::Client::new();
    let session: Value = http
        .post(format!("{}/v1/operator/sessions", server.url))
        .json(&json!({"name": "vera", "password": OPERATOR_PASSWORD,
            "one_time_code": phone.next_code().await}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let days: Value = http
        .get(format!("{}/v1/operator/settlements?day={today}", server.url))
        .bearer_auth(session["token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let store = days["days"].as_array().unwrap().iter().find(|day| day["closed"] == true).unwrap();
    let cashiers = store["counters"][0]["cashiers"].as_array().unwrap();
    let on_server = |name: &str| cashiers.iter().find(|line| line["name"] == name).unwrap().clone();
    let (ben_line, mia_line) = (on_server("Ben"), on_server("Mia"));
    assert_eq!((&ben_line["top_up_count"], &ben_line["top_ups"]), (&json!(2), &json!(15_000)));
    assert_eq!((&mia_line["refunds"], &mia_line["reversed_cash"]), (&json!(500), &json!(2_000)));
    assert_eq!((&mia_line["top_ups"], &mia_line["closes"]), (&json!(2_000), &json!(1)));
    assert_eq!(ben_line["staff_id"], ben.staff_id.to_string().as_str());
}

fn mia_session(mia: &Cashier) -> StaffSession {
    StaffSession {
        staff_id: mia.staff_id,
        name: mia.name.clone(),
        role: Role::Manager,
        signed_in_at_ms: 0,
    }
}
