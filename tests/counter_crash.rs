//! A counter killed with SIGKILL at random moments of a sync, 50 times, against the real
//! fund server: nothing recorded is lost and nothing is applied twice.

// Test code: helpers outside #[test] fns unwrap too, and a failure should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::time::Duration;

use tillfund_e2e::demo;
use tillfund_e2e::process::{FundServer, counter_cli_binary};

const TOP_UPS: u32 = 1_000;
const KILLS: u32 = 50;
/// Recorded before each killed sync, so every sync has work when it dies.
const TOP_UPS_PER_KILL: u32 = 20;

fn counter_cli(db: &std::path::Path, arguments: &[&str]) -> (bool, String) {
    let output =
        Command::new(counter_cli_binary()).arg("--db").arg(db).args(arguments).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test]
async fn killed_fifty_times_mid_sync_the_counter_loses_and_doubles_nothing() {
    let server_dir = tempfile::tempdir().unwrap();
    let server = FundServer::start(server_dir.path(), "127.0.0.1:0").unwrap();
    let code = demo::activation_code(server_dir.path());
    let counter_dir = tempfile::tempdir().unwrap();
    let db = counter_dir.path().join("counter.sqlite");
    let (ok, text) = counter_cli(&db, &["enrol", "--server", &server.url, "--code", &code]);
    assert!(ok, "{text}");
    let (ok, text) = counter_cli(&db, &["sync"]);
    assert!(ok, "{text}");
    let count = TOP_UPS.to_string();
    let (ok, text) = counter_cli(
        &db,
        &["top-up", "--customer", "800000000011", "--amount", "1.00", "--count", &count],
    );
    assert!(ok, "{text}");

    // Kill the syncing counter at pseudo-random moments.
    let mut seed = u64::from(std::process::id()) | 1;
    let mut interrupted = 0;
    for _ in 0..KILLS {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_millis(5 + seed % 120);
        let batch = TOP_UPS_PER_KILL.to_string();
        let (ok, text) = counter_cli(
            &db,
            &["top-up", "--customer", "800000000011", "--amount", "1.00", "--count", &batch],
        );
        assert!(ok, "{text}");
        let mut child = Command::new(counter_cli_binary())
            .arg("--db")
            .arg(&db)
            .arg("sync")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        child.kill().unwrap(); // SIGKILL: no chance to clean up.
        let finished = child.wait().unwrap().success();
        let (_, status) = counter_cli(&db, &["status"]);
        if !finished && !status.starts_with("pending 0") {
            interrupted += 1;
        }
    }
    eprintln!("{interrupted} of {KILLS} syncs were killed with entries still to push");
    assert!(interrupted > 0, "no kill landed before its sync finished: the test proved nothing");

    let (_, after_kills) = counter_cli(&db, &["status"]);
    eprintln!("after {KILLS} kills: {after_kills}");

    // Whatever state the kills left, syncing to the end applies every top-up once.
    for _ in 0..20 {
        let (ok, text) = counter_cli(&db, &["sync"]);
        assert!(ok, "{text}");
        if text.contains("in sync") {
            break;
        }
    }
    let (_, status) = counter_cli(&db, &["status"]);
    assert!(status.starts_with("pending 0"), "{status}");
    assert!(!status.contains("needs attention"), "{status}");

    let wallet = demo::wallet(&server.url).await;
    let recorded = TOP_UPS + KILLS * TOP_UPS_PER_KILL;
    assert_eq!(wallet["principal"], i64::from(recorded) * 100, "{wallet}");
    assert!(server.stop().unwrap().success());
    demo::assert_audit_passes(server_dir.path());
}
