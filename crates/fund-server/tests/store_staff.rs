//! A store's staff on the server: put by any counter of the store, pulled by every one,
//! scoped to the signing counter's store, with names unique, at most 200 members, one
//! active manager kept, and only a proper argon2id PIN hash taken. Runs on SQLite and, with
//! `TILLFUND_TEST_DATABASE=postgres`, on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use argon2::password_hash::{PasswordHasher, SaltString};
use common::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tillfund_core::StaffId;

/// A PIN hash as counters make it (argon2id, 19 MiB, two passes).
fn pin_hash(pin: &str) -> String {
    let params = argon2::Params::new(19 * 1024, 2, 1, None).unwrap();
    let hasher = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt = SaltString::from_b64("c2FsdHNhbHRzYWx0c2FsdA").unwrap();
    hasher.hash_password(pin.as_bytes(), &salt).unwrap().to_string()
}

fn member(name: &str, role: &str, hash: &str, active: bool) -> Value {
    json!({"name": name, "role": role, "pin_hash": hash, "active": active})
}

async fn put(counter: &common::Counter, staff_id: StaffId, body: Value) -> (StatusCode, Value) {
    counter.signed(Method::PUT, &format!("/v1/terminal/staff/{staff_id}"), body, &[]).await
}

async fn pull(counter: &common::Counter, after: i64) -> Value {
    let (status, body) = counter
        .signed(Method::GET, &format!("/v1/sync/staff?after={after}"), Value::Null, &[])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn a_store_s_staff_is_kept_once_on_the_server_and_reaches_every_counter() {
    let server = TestServer::start().await;
    let shop = server.add_merchant("Corner Shop").await;
    let till_1 = server.enrol(shop).await;
    let till_2 = server.enrol(shop).await;
    let other = server.enrol(server.add_merchant("Other Shop").await).await;
    let hash = pin_hash("2468");
    let (mia, ben) = (StaffId::generate(), StaffId::generate());

    // The manager added at counter 1 is pulled by counter 2, with the hash to sign in by.
    let (status, kept) = put(&till_1, mia, member("Mia", "manager", &hash, true)).await;
    assert_eq!(status, StatusCode::OK, "{kept}");
    assert_eq!(kept["changed_by"], till_1.terminal_id.to_string().as_str());
    let pulled = pull(&till_2, 0).await;
    assert_eq!(pulled["changes"].as_array().unwrap().len(), 1, "{pulled}");
    assert_eq!(pulled["changes"][0]["name"], "Mia");
    assert_eq!(pulled["changes"][0]["pin_hash"], hash.as_str());
    let after_mia = pulled["next_after"].as_i64().unwrap();
    // The same record again changes nothing: nothing new to pull.
    let (status, again) = put(&till_2, mia, member("Mia", "manager", &hash, true)).await;
    assert_eq!((status, &again["sequence"]), (StatusCode::OK, &kept["sequence"]));
    assert!(pull(&till_1, after_mia).await["changes"].as_array().unwrap().is_empty());

    // A cashier added at counter 2; names are unique in the store, ignoring case.
    assert_eq!(put(&till_2, ben, member("Ben", "cashier", &hash, true)).await.0, StatusCode::OK);
    let (status, taken) =
        put(&till_1, StaffId::generate(), member("ben", "cashier", &hash, true)).await;
    assert_eq!((status, taken["code"].as_str()), (StatusCode::CONFLICT, Some("staff_name_taken")));
    // The only active manager stays: not disabled, not made a cashier.
    for change in [member("Mia", "manager", &hash, false), member("Mia", "cashier", &hash, true)] {
        let (status, refused) = put(&till_1, mia, change).await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (StatusCode::CONFLICT, Some("last_manager"))
        );
    }
    // Ben is disabled at counter 1: counter 2 pulls him once, as he stands now.
    assert_eq!(put(&till_1, ben, member("Ben", "cashier", &hash, false)).await.0, StatusCode::OK);
    let pulled = pull(&till_2, after_mia).await;
    let changes = pulled["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{pulled}");
    assert_eq!(
        (changes[0]["name"].as_str(), changes[0]["active"].as_bool()),
        (Some("Ben"), Some(false))
    );

    // Another store sees none of it, and its own member with Mia's id is its own.
    assert!(pull(&other, 0).await["changes"].as_array().unwrap().is_empty());
    let (status, theirs) = put(&other, mia, member("Mia", "cashier", &hash, true)).await;
    assert_eq!((status, theirs["role"].as_str()), (StatusCode::OK, Some("cashier")));
    assert_eq!(pull(&till_1, 0).await["changes"][0]["role"], "manager");

    // Records that cannot be are refused, and change nothing.
    let weak = {
        let params = argon2::Params::new(8, 1, 1, None).unwrap();
        let hasher =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let salt = SaltString::from_b64("c2FsdHNhbHRzYWx0c2FsdA").unwrap();
        hasher.hash_password(b"2468", &salt).unwrap().to_string()
    };
    let refusals = [
        (member("Ann", "cashier", "2468", true), "staff_pin_hash_invalid"),
        (member("Ann", "cashier", &weak, true), "staff_pin_hash_invalid"),
        (member("Ann", "owner", &hash, true), "staff_role_invalid"),
        (member(" Ann", "cashier", &hash, true), "staff_name_invalid"),
        (member(&"A".repeat(41), "cashier", &hash, true), "staff_name_invalid"),
    ];
    for (body, code) in refusals {
        let (status, refused) = put(&till_1, StaffId::generate(), body.clone()).await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
            "{body}"
        );
    }
    let (status, refused) = till_1
        .signed(
            Method::PUT,
            "/v1/terminal/staff/not-an-id",
            member("Ann", "cashier", &hash, true),
            &[],
        )
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("staff_id_invalid"))
    );
    assert_eq!(pull(&till_1, 0).await["changes"].as_array().unwrap().len(), 2, "Mia and Ben only");
}

#[tokio::test]
async fn a_store_keeps_at_most_two_hundred_and_parallel_changes_keep_names_unique() {
    let server = TestServer::start().await;
    let shop = server.add_merchant("Corner Shop").await;
    let till = server.enrol(shop).await;
    let hash = pin_hash("1357");
    // Twenty counters' worth of the same new name at once: one is kept.
    let puts = (0..20).map(|_| {
        let till = &till;
        let body = member("Zoe", "manager", &hash, true);
        async move { put(till, StaffId::generate(), body).await.0 }
    });
    let statuses = futures_util::future::join_all(puts).await;
    assert_eq!(
        statuses.iter().filter(|status| **status == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|status| *status == StatusCode::OK || *status == StatusCode::CONFLICT)
    );
    for index in 1..200 {
        let (status, body) = put(
            &till,
            StaffId::generate(),
            member(&format!("Cashier {index}"), "cashier", &hash, true),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{index}: {body}");
    }
    let (status, full) =
        put(&till, StaffId::generate(), member("One more", "cashier", &hash, true)).await;
    assert_eq!(
        (status, full["code"].as_str()),
        (StatusCode::CONFLICT, Some("staff_limit_reached"))
    );
    // Pulled in pages, oldest change first, every member once.
    let mut after = 0;
    let mut names = Vec::new();
    loop {
        let page = pull(&till, after).await;
        let changes = page["changes"].as_array().unwrap().clone();
        if changes.is_empty() {
            break;
        }
        names.extend(changes.iter().map(|change| change["name"].as_str().unwrap().to_owned()));
        after = page["next_after"].as_i64().unwrap();
    }
    assert_eq!(names.len(), 200);
    assert_eq!(names[0], "Zoe");
}

#[tokio::test]
async fn only_one_first_manager_is_made_for_a_store() {
    let server = TestServer::start().await;
    let shop = server.add_merchant("New Shop").await;
    let (till_1, till_2) = (server.enrol(shop).await, server.enrol(shop).await);
    let hash = pin_hash("2468");
    let first = |name: &str| {
        let mut body = member(name, "manager", &hash, true);
        body["first_of_store"] = json!(true);
        body
    };
    // Two new counters of one store both make "the first manager" at once: one is kept.
    let (mia, zoe) = (StaffId::generate(), StaffId::generate());
    let (one, two) = tokio::join!(put(&till_1, mia, first("Mia")), put(&till_2, zoe, first("Zoe")));
    let mut statuses = [one.0, two.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{one:?} {two:?}");
    let refused = if one.0 == StatusCode::OK { &two.1 } else { &one.1 };
    assert_eq!(refused["code"], "store_has_staff");
    // The winner's retry of the same record is kept as it was; a third "first" is refused.
    let (winner, winner_name) = if one.0 == StatusCode::OK { (mia, "Mia") } else { (zoe, "Zoe") };
    assert_eq!(put(&till_1, winner, first(winner_name)).await.0, StatusCode::OK);
    // Another "first" from the counter that lost is refused; the winner may add its own
    // second manager made before it knew the store (all members so far are its own).
    let (winner_till, loser_till) =
        if one.0 == StatusCode::OK { (&till_1, &till_2) } else { (&till_2, &till_1) };
    assert_eq!(put(winner_till, StaffId::generate(), first("Bob")).await.0, StatusCode::OK);
    let (status, refused) = put(loser_till, StaffId::generate(), first("Ann")).await;
    assert_eq!((status, refused["code"].as_str()), (StatusCode::CONFLICT, Some("store_has_staff")));
    assert_eq!(pull(&till_2, 0).await["changes"].as_array().unwrap().len(), 2);
}
