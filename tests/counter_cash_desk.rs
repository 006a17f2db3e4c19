//! The drawer through a day, against the real fund-server binary: the opening float, a
//! cash drop, the blind count (over/short, the note beyond the limit, once), the close that
//! carries the count, and the server keeping it per counter; and a forged count sent by
//! hand, refused without closing the day.

// Test code: helpers outside #[test] fns unwrap too, and a failure should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use counter_core::cash_desk::Counted;
use counter_core::counter::Counter;
use counter_core::staff::{Cashier, Role, StaffSession};
use counter_core::sync::{RoundOutcome, sync_round};
use reqwest::Method;
use serde_json::{Value, json};
use tillfund_core::cash_count::DenominationCount;
use tillfund_core::{Amount, OutboxEntryId, StaffId};
use tillfund_e2e::demo::{self, MEMBER_CODE, MERCHANT_ID};
use tillfund_e2e::free_port;
use tillfund_e2e::process::FundServer;
use tillfund_e2e::raw_counter::{Target, now_ms};

fn manager() -> StaffSession {
    StaffSession {
        staff_id: StaffId::generate(),
        name: "Mia".to_owned(),
        role: Role::Manager,
        signed_in_at_ms: 0,
    }
}

fn pieces(counts: &[(i64, i64)]) -> Counted {
    Counted::Denominations(
        counts.iter().map(|&(value, pieces)| DenominationCount { value, pieces }).collect(),
    )
}

#[tokio::test]
async fn a_drawer_is_floated_dropped_counted_blind_and_sent_with_the_close() {
    let server_dir = tempfile::tempdir().unwrap();
    let server =
        FundServer::start(server_dir.path(), &format!("127.0.0.1:{}", free_port())).unwrap();
    let counter_dir = tempfile::tempdir().unwrap();
    let counter = Counter::open(&counter_dir.path().join("counter.sqlite")).await.unwrap();
    counter.enrol(&server.url, &demo::activation_code(server_dir.path()), "Till 1").await.unwrap();
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Empty);
    let mia = manager();
    let today = counter.store_today().await.unwrap();

    // The float, then ¥800 of top-ups: the drawer should hold ¥1,000.
    let drawer = counter.set_opening_float("150.00", &mia).await.unwrap();
    assert_eq!(drawer.opening_float, Some(15_000));
    let drawer = counter.set_opening_float("200.00", &mia).await.unwrap();
    assert_eq!((drawer.opening_float, drawer.float_set_by.as_deref()), (Some(20_000), Some("Mia")));
    assert_eq!(
        counter.set_opening_float("-1.00", &mia).await.unwrap_err().code(),
        "drawer_amount_invalid"
    );
    for amount in ["500.00", "300.00"] {
        let preview = counter.preview_top_up(MEMBER_CODE, amount).await.unwrap();
        counter.record_top_up(None, &preview).await.unwrap();
    }
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Done { pushed: 2 });

    // A cashier puts the float in; changing it takes a manager (a lower float would hide
    // cash taken out of the drawer).
    let ben = StaffSession { name: "Ben".into(), role: Role::Cashier, ..manager() };
    assert_eq!(
        counter.set_opening_float("100.00", &ben).await.unwrap_err().code(),
        "manager_required"
    );
    // ¥500 to the bank. (A drop is not checked against what the drawer should hold: a
    // refusal would give the expected cash away before the blind count.)
    assert_eq!(
        counter.record_cash_drop("0", &mia).await.unwrap_err().code(),
        "drawer_amount_invalid"
    );
    let drawer = counter.record_cash_drop("500.00", &mia).await.unwrap();
    assert_eq!((drawer.drops.len(), drawer.cash_dropped()), (1, 50_000));

    // Before the count the day has none; the expected cash is 200 + 800 − 500 = ¥500.
    assert_eq!(counter.day_report(today).await.unwrap().cash_count, None);
    // Counted ¥485: ¥15 short, beyond the ¥10 limit, so the note is needed.
    let counted = [(10_000, 4), (2_000, 4), (500, 1)];
    let refused = counter.count_cash(today, pieces(&counted), None, &mia).await.unwrap_err();
    assert_eq!(refused.code(), "cash_count_note_needed", "{refused}");
    let refused =
        counter.count_cash(today, pieces(&[(3_000, 1)]), Some("x".into()), &mia).await.unwrap_err();
    assert_eq!(refused.code(), "cash_count_invalid", "{refused}");
    let tomorrow = today.tomorrow().unwrap();
    let early = counter.count_cash(tomorrow, pieces(&counted), None, &mia).await.unwrap_err();
    assert_eq!(early.code(), "day_invalid", "{early}");
    assert_eq!(counter.drawer_day(today).await.unwrap().count, None, "refusals keep nothing");
    assert_eq!(counter.drawer_day(tomorrow).await.unwrap().count, None);
    let count = counter
        .count_cash(today, pieces(&counted), Some(" change given twice ".into()), &mia)
        .await
        .unwrap();
    assert_eq!(
        (count.opening_float, count.drawer_cash, count.cash_dropped, count.expected),
        (20_000, 80_000, 50_000, 50_000)
    );
    assert_eq!((count.counted, count.over_short), (48_500, -1_500));
    assert_eq!(count.note.as_deref(), Some("change given twice"));
    assert_eq!(count.denominations.len(), 3);

    // Once counted, the drawer's figures do not change.
    let again = counter
        .count_cash(today, Counted::Total(Amount::from_minor_units(50_000).unwrap()), None, &mia)
        .await
        .unwrap_err();
    assert_eq!(again.code(), "drawer_counted");
    assert_eq!(counter.set_opening_float("1.00", &mia).await.unwrap_err().code(), "drawer_counted");
    assert_eq!(counter.record_cash_drop("1.00", &mia).await.unwrap_err().code(), "drawer_counted");

    // Cash taken after the count makes it stale: the close refuses it until counted again.
    let late = counter.preview_top_up(MEMBER_CODE, "10.00").await.unwrap();
    counter.record_top_up(None, &late).await.unwrap();
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Done { pushed: 1 });
    let stale = counter.close_day(None, today).await.unwrap_err();
    assert_eq!(stale.code(), "drawer_count_stale", "{stale}");
    let recounted = [(10_000, 4), (2_000, 4), (500, 1), (1_000, 1)];
    let count = counter
        .count_cash(today, pieces(&recounted), Some("change given twice".into()), &mia)
        .await
        .unwrap();
    assert_eq!((count.drawer_cash, count.expected, count.over_short), (81_000, 51_000, -1_500));

    // The close carries the count; the server keeps it for this counter and answers it.
    let closed = counter.close_day(None, today).await.unwrap();
    assert_eq!(closed.matches, Some(true));
    assert_eq!(closed.cash_count.as_ref(), Some(&count));
    assert_eq!(closed.server.as_ref().unwrap().this_terminal_count.as_ref(), Some(&count));
    let z_report = closed.z_report_text();
    for (label, value) in [
        ("Opening float", "200.00"),
        ("Cash drops (1)", "500.00"),
        ("Expected in drawer", "510.00"),
        ("Counted", "495.00"),
        ("Short", "15.00"),
    ] {
        let line = format!("{label:<20}{value:>12}");
        assert!(z_report.contains(&line), "{line:?} missing from\n{z_report}");
    }
    assert!(z_report.contains("Note: change given twice"), "{z_report}");
    let csv = closed.csv();
    assert!(csv.contains(",200.00,500.00,510.00,495.00,-15.00,\"Mia\""), "{csv}");
    let chinese = closed.z_report_text_in(counter_core::z_report::ReportLanguage::Chinese, None);
    assert!(chinese.contains("实点") && chinese.contains("短款"), "{chinese}");

    // Enrolled again the same day, the counter still reads its count from the server: it
    // was sent under the terminal the new one replaced.
    let code = demo::activation_code(server_dir.path());
    counter.re_enrol(&mia, &server.url, &code, "Till 1").await.unwrap();
    let report = counter.day_report(today).await.unwrap();
    assert_eq!(report.server.unwrap().this_terminal_count.as_ref(), Some(&count));
    // Nor can the new terminal replace it: a count is kept once per counter and day.
    let mut other = count.clone();
    other.note = Some("counted again after enrolling".into());
    let credentials = counter.profile().await.unwrap().credentials().unwrap();
    let client = counter_core::client::ServerClient::new(&server.url).unwrap();
    let closed = client.close_day(&credentials, &today.to_string(), Some(other), None).await;
    assert_eq!(closed.unwrap().this_terminal_count.as_ref(), Some(&count));
    assert!(server.stop().unwrap().success());
}

fn forged_count(counted_at_ms: i64) -> Value {
    json!({
        "opening_float": 10_000, "drawer_cash": 2_000, "cash_dropped": 0, "cash_drop_count": 0,
        "expected": 12_000, "counted": 12_000, "over_short": 0, "denominations": [],
        "counted_by": "Mia", "counted_at_ms": counted_at_ms, "note": null
    })
}

#[tokio::test]
async fn a_count_that_does_not_add_up_is_refused_and_the_day_stays_open() {
    let target = Target::start(&[]);
    let till = target.enrol(MERCHANT_ID).await;
    let (customer_id, _) = target.customer("13900139021", &[MERCHANT_ID]).await;
    till.top_up(OutboxEntryId::generate(), &customer_id, 2_000).await;
    let day = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap());
    let day = day.date().to_string();
    let close = |count: Value| json!({"day": day, "cash_count": count});
    let key = || OutboxEntryId::generate().to_string();

    let mut wrong = Vec::new();
    for (field, value) in [
        ("over_short", json!(1)),
        ("expected", json!(i64::MIN)),
        ("counted", json!(-5)),
        ("opening_float", json!(i64::MAX)),
        ("denominations", json!([{"value": 2_000, "pieces": 1}])),
        ("denominations", json!([{"value": 3, "pieces": 4_000}])),
        ("counted_by", json!("")),
        ("counted_by", json!("Mia\u{1b}[2J")),
        ("note", json!("x".repeat(501))),
        ("note", json!(" why ")),
        ("note", json!("")),
        ("cash_drop_count", json!(3)),
        ("counted_at_ms", json!(now_ms() + 60 * 60 * 1000)),
        ("counted_at_ms", json!(0)),
    ] {
        let mut count = forged_count(now_ms());
        count[field] = value.clone();
        wrong.push((format!("{field} = {value}"), count, "cash_count_invalid"));
    }
    let mut short = forged_count(now_ms());
    short["counted"] = json!(10_000);
    short["over_short"] = json!(-2_000);
    wrong.push(("short without a note".into(), short, "cash_count_note_needed"));
    for (what, count, code) in wrong {
        let (status, answer) =
            till.signed(Method::POST, "/v1/terminal/settlement/close", close(count), &key()).await;
        assert_eq!(
            (status.as_u16(), answer["code"].as_str()),
            (422, Some(code)),
            "{what}: {answer}"
        );
    }
    let path = format!("/v1/terminal/settlement?day={day}");
    let (_, open) = till.signed(Method::GET, &path, Value::Null, &key()).await;
    assert_eq!(open["closed"], json!(false), "a refused count closes nothing: {open}");
    assert_eq!(open["this_terminal_count"], Value::Null);

    // A count that adds up closes the day and is kept; a second, different one is not.
    let first = forged_count(now_ms());
    let (status, closed) = till
        .signed(Method::POST, "/v1/terminal/settlement/close", close(first.clone()), &key())
        .await;
    assert_eq!(status.as_u16(), 200, "{closed}");
    assert_eq!(closed["this_terminal_count"], first);
    let mut second = forged_count(now_ms());
    second["opening_float"] = json!(0);
    second["expected"] = json!(2_000);
    second["counted"] = json!(2_000);
    let (status, again) =
        till.signed(Method::POST, "/v1/terminal/settlement/close", close(second), &key()).await;
    assert_eq!(status.as_u16(), 200, "{again}");
    assert_eq!(again["this_terminal_count"], first, "the first count is kept");

    // Another counter of the store sees only its own count (none).
    let other = target.enrol(MERCHANT_ID).await;
    let (_, theirs) = other.signed(Method::GET, &path, Value::Null, &key()).await;
    assert_eq!(theirs["this_terminal_count"], Value::Null, "{theirs}");
    target.stop_and_audit();
}

/// A customer takes money back: their wallet gives a code for this store and amount (after
/// the PIN), the manager keys it in, the drawer pays principal and yield out and the bonus
/// goes back in proportion; the day's figures, the shift report and the Z-report count it,
/// and the count expects the drawer to hold that much less.
#[tokio::test]
async fn the_drawer_pays_a_customer_out_against_the_code_from_their_wallet() {
    let server_dir = tempfile::tempdir().unwrap();
    let server =
        FundServer::start(server_dir.path(), &format!("127.0.0.1:{}", free_port())).unwrap();
    let counter_dir = tempfile::tempdir().unwrap();
    let counter = Counter::open(&counter_dir.path().join("counter.sqlite")).await.unwrap();
    counter.enrol(&server.url, &demo::activation_code(server_dir.path()), "Till 1").await.unwrap();
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Empty);
    let mia = Cashier { staff_id: StaffId::generate(), name: "Mia".into() };
    let today = counter.store_today().await.unwrap();
    let preview = counter.preview_top_up(MEMBER_CODE, "500.00").await.unwrap();
    let bonus = preview.bonus.minor_units();
    counter.record_top_up(Some(&mia), &preview).await.unwrap();
    assert_eq!(sync_round(counter.store()).await, RoundOutcome::Done { pushed: 1 });
    let customer = demo::DemoCustomer::sign_in(&server.url).await;

    // The customer asks for 200.00 on the phone and reads the code out.
    let (status, issued) = customer.redemption_code(20_000).await;
    assert_eq!(status, 200, "{issued}");
    let code = issued["code"].as_str().unwrap();
    // A mistyped code pays nothing; the counter checks the form before asking.
    let wrong = if code.starts_with('9') { "10000000" } else { "99999999" };
    let refused = counter.redeem(Some(&mia), MEMBER_CODE, wrong, "200.00").await.unwrap_err();
    assert_eq!(refused.code(), "redemption_code_wrong", "{refused}");
    let refused = counter.redeem(Some(&mia), MEMBER_CODE, "1234", "200.00").await.unwrap_err();
    assert_eq!(refused.code(), "redemption_code_invalid");
    let refused = counter.redeem(Some(&mia), MEMBER_CODE, code, "250.00").await.unwrap_err();
    assert_eq!(refused.code(), "redemption_code_wrong", "another amount than asked for");

    let done = counter.redeem(Some(&mia), MEMBER_CODE, code, "200.00").await.unwrap();
    assert_eq!((done.cash, done.principal + done.yield_paid), (20_000, 20_000));
    assert_eq!(done.bonus_clawed_back, bonus * 20_000 / 50_000, "the bonus in proportion");
    assert_eq!(done.customer_name, "Demo Customer");
    let receipt = counter.redemption_receipt(done.entry_sequence).await.unwrap();
    assert_eq!(receipt.title, "CASH OUT");
    for line in [("Cash paid out", "200.00"), ("Cashier", "Mia"), ("Customer", "Demo Customer")] {
        assert!(
            receipt.lines.iter().any(|(label, value)| label == line.0 && value.contains(line.1)),
            "{line:?} missing from {:?}",
            receipt.lines
        );
    }
    // Pressing again with the same code pays nothing more: the code was used.
    let again = counter.redeem(Some(&mia), MEMBER_CODE, code, "200.00").await.unwrap_err();
    assert_eq!(again.code(), "redemption_code_used", "{again}");
    let wallet = customer.wallet().await;
    assert_eq!(wallet["principal"], 30_000);

    // The day: 500 taken, 200 paid out; both sides agree; Mia's line shows the payout.
    let report = counter.day_report(today).await.unwrap();
    assert_eq!((report.counter.redemption_count, report.counter.redeemed_cash), (1, 20_000));
    assert_eq!(report.counter.drawer_cash(), 30_000);
    assert_eq!(report.matches, Some(true), "{report:?}");
    let line = report.cashiers.iter().find(|shift| shift.name.as_deref() == Some("Mia")).unwrap();
    assert_eq!(
        (line.redemption_count, line.redeemed_cash, line.drawer_cash()),
        (1, 20_000, 30_000)
    );
    let session = StaffSession {
        staff_id: mia.staff_id,
        name: "Mia".into(),
        role: Role::Manager,
        signed_in_at_ms: 0,
    };
    let count = counter
        .count_cash(
            today,
            Counted::Total(Amount::from_minor_units(30_000).unwrap()),
            None,
            &session,
        )
        .await
        .unwrap();
    assert_eq!((count.expected, count.over_short), (30_000, 0));
    let closed = counter.close_day(Some(&mia), today).await.unwrap();
    assert_eq!(closed.matches, Some(true));
    let server_figures = &closed.server.as_ref().unwrap().figures;
    assert_eq!((server_figures.redemption_count, server_figures.redeemed_cash), (1, 20_000));
    let z_report = closed.z_report_text();
    for (label, value) in
        [("Cash-outs", "1"), ("Cash paid out", "200.00"), ("Cash in drawer", "300.00")]
    {
        let line = format!("{label:<20}{value:>12}");
        assert!(z_report.contains(&line), "{line:?} missing from\n{z_report}");
    }
    assert!(server.stop().unwrap().success());
}
