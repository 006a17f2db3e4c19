//! The counter's own staff rules, on a counter that is not enrolled (kept locally).

use super::*;

async fn counter() -> (tempfile::TempDir, Counter) {
    let directory = tempfile::tempdir().unwrap();
    let counter = Counter::open(&directory.path().join("counter.sqlite")).await.unwrap();
    (directory, counter)
}

#[test]
fn pins_are_four_to_eight_digits() {
    for good in ["1234", "00000000", "123456"] {
        assert!(StaffPin::parse(good).is_ok(), "{good}");
    }
    for bad in ["", "123", "123456789", "12a4", " 1234", "１２３４"] {
        assert_eq!(StaffPin::parse(bad).unwrap_err().code(), "staff_pin_invalid", "{bad:?}");
    }
    assert!(!format!("{:?}", StaffPin::parse("1234").unwrap()).contains("1234"));
}

#[test]
fn roles_allow_what_they_should() {
    assert!(Role::Manager.allows(Role::Manager));
    assert!(Role::Manager.allows(Role::Cashier));
    assert!(Role::Cashier.allows(Role::Cashier));
    assert!(!Role::Cashier.allows(Role::Manager));
}

#[test]
fn a_quiet_shift_signs_out_and_actions_keep_it_open() {
    let shift = Shift::default();
    assert_eq!(shift.require(Role::Cashier, 0).unwrap_err().code(), "sign_in_required");
    let session = StaffSession {
        staff_id: StaffId::generate(),
        name: "Ann".to_owned(),
        role: Role::Cashier,
        signed_in_at_ms: 0,
    };
    shift.begin(session.clone(), 0);
    assert_eq!(shift.require(Role::Manager, 10).unwrap_err().code(), "manager_required");
    // Each action moves the idle clock on.
    assert_eq!(shift.require(Role::Cashier, IDLE_SIGN_OUT_MS).unwrap(), session);
    assert!(shift.current(2 * IDLE_SIGN_OUT_MS).is_some());
    assert!(shift.current(2 * IDLE_SIGN_OUT_MS + 1).is_none());
    assert_eq!(
        shift.require(Role::Cashier, 2 * IDLE_SIGN_OUT_MS + 1).unwrap_err().code(),
        "sign_in_required"
    );
    shift.begin(session, 0);
    shift.end();
    assert!(shift.current(1).is_none());
}

#[tokio::test]
async fn the_first_member_is_a_manager_who_then_adds_the_others() {
    let (_directory, counter) = counter().await;
    let error = counter.add_staff(None, "Bo", Role::Cashier, "1111", 1).await.unwrap_err();
    assert_eq!(error.code(), "first_staff_must_be_manager");
    let manager = counter.add_staff(None, "Mia", Role::Manager, "2468", 1).await.unwrap();
    // Once there is a manager, nobody adds staff without signing in as one.
    let error = counter.add_staff(None, "Bo", Role::Cashier, "1111", 2).await.unwrap_err();
    assert_eq!(error.code(), "manager_required");
    let session = counter.sign_in(manager.staff_id, "2468", 3).await.unwrap();
    let cashier = counter.add_staff(Some(&session), "Bo", Role::Cashier, "1111", 4).await.unwrap();
    let cashier_session = counter.sign_in(cashier.staff_id, "1111", 5).await.unwrap();
    let error = counter
        .add_staff(Some(&cashier_session), "Cy", Role::Cashier, "3333", 6)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "manager_required");
    let error =
        counter.add_staff(Some(&session), " bo ", Role::Cashier, "9999", 7).await.unwrap_err();
    assert_eq!(error.code(), "staff_name_taken");
    for (name, pin, code) in
        [("", "1234", "staff_name_invalid"), ("Dee", "12", "staff_pin_invalid")]
    {
        let error =
            counter.add_staff(Some(&session), name, Role::Cashier, pin, 8).await.unwrap_err();
        assert_eq!(error.code(), code);
    }
    let names: Vec<String> = counter.staff().await.unwrap().into_iter().map(|m| m.name).collect();
    assert_eq!(names, ["Mia", "Bo"]);
}

#[tokio::test]
async fn five_wrong_pins_lock_the_member_for_five_minutes() {
    let (_directory, counter) = counter().await;
    let manager = counter.add_staff(None, "Mia", Role::Manager, "2468", 0).await.unwrap();
    for left in (1..MAX_WRONG_PINS).rev() {
        let error = counter.sign_in(manager.staff_id, "0000", 10).await.unwrap_err();
        assert_eq!(error.code(), "staff_pin_wrong");
        assert!(
            matches!(error, CounterError::StaffPinWrong { attempts_left } if attempts_left == left)
        );
    }
    let error = counter.sign_in(manager.staff_id, "0000", 10).await.unwrap_err();
    assert!(matches!(error, CounterError::StaffLocked { minutes: 5 }), "{error:?}");
    // Even the right PIN waits out the lock; then it works and the count starts afresh.
    let error = counter.sign_in(manager.staff_id, "2468", 10 + LOCK_MS - 1).await.unwrap_err();
    assert_eq!(error.code(), "staff_locked");
    let session = counter.sign_in(manager.staff_id, "2468", 10 + LOCK_MS).await.unwrap();
    assert_eq!(session.role, Role::Manager);
    let error = counter.sign_in(manager.staff_id, "0000", 10 + LOCK_MS).await.unwrap_err();
    assert!(matches!(error, CounterError::StaffPinWrong { attempts_left: 4 }));
}

#[tokio::test]
async fn managers_disable_and_reset_but_keep_one_manager() {
    let (_directory, counter) = counter().await;
    let manager = counter.add_staff(None, "Mia", Role::Manager, "2468", 0).await.unwrap();
    let session = counter.sign_in(manager.staff_id, "2468", 1).await.unwrap();
    let error = counter.set_staff_active(&session, manager.staff_id, false).await.unwrap_err();
    assert_eq!(error.code(), "last_manager");
    let cashier = counter.add_staff(Some(&session), "Bo", Role::Cashier, "1111", 2).await.unwrap();
    let disabled = counter.set_staff_active(&session, cashier.staff_id, false).await.unwrap();
    assert!(!disabled.active);
    let error = counter.sign_in(cashier.staff_id, "1111", 3).await.unwrap_err();
    assert_eq!(error.code(), "staff_inactive");
    counter.set_staff_active(&session, cashier.staff_id, true).await.unwrap();
    counter.reset_staff_pin(&session, cashier.staff_id, "5555").await.unwrap();
    assert_eq!(
        counter.sign_in(cashier.staff_id, "1111", 4).await.unwrap_err().code(),
        "staff_pin_wrong"
    );
    let cashier_session = counter.sign_in(cashier.staff_id, "5555", 5).await.unwrap();
    let error =
        counter.reset_staff_pin(&cashier_session, manager.staff_id, "0000").await.unwrap_err();
    assert_eq!(error.code(), "manager_required");
}
