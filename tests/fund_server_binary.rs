//! The real `fund-server` binary on a real SQLite file: start, answer, stop, start again.

// Test code: helpers outside #[test] fns unwrap too, and a failure should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tillfund_core::protocol::{HealthReport, HealthStatus, PROTOCOL_VERSION};
use tillfund_e2e::process::{FundServer, fund_server_binary};

#[tokio::test]
async fn serves_health_openapi_and_wallet_page_and_restarts_on_the_same_data() {
    let data_dir = tempfile::tempdir().unwrap();
    let server = FundServer::start(data_dir.path(), "127.0.0.1:0").unwrap();
    assert!(
        server.startup_output.iter().any(|line| line.starts_with("demo store created")),
        "first start seeds the demo store: {:?}",
        server.startup_output
    );
    let http = reqwest::Client::new();

    let health: HealthReport =
        http.get(format!("{}/healthz", server.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(health.status, HealthStatus::Ok);
    assert_eq!(health.protocol_version, PROTOCOL_VERSION);
    assert_eq!(health.currency, "CNY");
    assert_eq!(health.server_version, env!("CARGO_PKG_VERSION"));

    let openapi: serde_json::Value = http
        .get(format!("{}/openapi.json", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(openapi["openapi"].as_str().unwrap().starts_with("3."));
    assert!(openapi["paths"]["/healthz"]["get"].is_object());

    let page =
        http.get(&server.url).header("Accept-Language", "zh-CN,zh;q=0.9").send().await.unwrap();
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = page.text().await.unwrap();
    assert!(page.contains("<html lang=\"zh-CN\">"));
    assert!(page.contains("Demo Store 示范店"));

    let missing = http.get(format!("{}/no/such/page", server.url)).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let missing: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(missing["code"], "not_found");

    let exit = server.stop().unwrap();
    assert!(exit.success(), "SIGTERM stops the server cleanly: {exit:?}");

    // Same data directory: the migrations and the demo seed are idempotent.
    let again = FundServer::start(data_dir.path(), "127.0.0.1:0").unwrap();
    assert!(
        again.startup_output.iter().any(|line| line.starts_with("demo store already present")),
        "{:?}",
        again.startup_output
    );
    let page = http.get(&again.url).send().await.unwrap().text().await.unwrap();
    assert_eq!(page.matches("<li>Demo Store 示范店</li>").count(), 1);
    assert!(again.stop().unwrap().success());
}

#[tokio::test]
async fn refuses_a_bad_configuration_with_a_readable_error() {
    let data_dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(fund_server_binary())
        .args(["migrate", "--currency", "XYZ"])
        .env("TILLFUND_DATA_DIR", data_dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("'XYZ' is not a supported currency"), "{stderr}");

    let output = std::process::Command::new(fund_server_binary())
        .args(["migrate", "--database-url", "mysql://localhost/x"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a database URL this server supports"), "{stderr}");

    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = busy.local_addr().unwrap().to_string();
    let output = std::process::Command::new(fund_server_binary())
        .args(["serve", "--listen", &address])
        .env("TILLFUND_DATA_DIR", data_dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("cannot listen on {address}")), "{stderr}");
    drop(busy);
}

fn fund_server(data_dir: &std::path::Path, arguments: &[&str]) -> (bool, String, String) {
    tillfund_e2e::demo::fund_server_cli(data_dir, arguments)
}

#[test]
fn the_operator_cli_adds_merchants_funds_the_reserve_once_and_audits() {
    let data_dir = tempfile::tempdir().unwrap();
    let (ok, stdout, stderr) = fund_server(
        data_dir.path(),
        &["merchant", "add", "--name", "Harbour Tea", "--time-zone", "Asia/Hong_Kong"],
    );
    assert!(ok, "{stderr}");
    let merchant_id = stdout.split_whitespace().nth(1).unwrap().to_owned();
    let (ok, _, stderr) = fund_server(
        data_dir.path(),
        &["merchant", "add", "--name", "X", "--time-zone", "Mars/Base"],
    );
    assert!(!ok);
    assert!(stderr.contains("is not an IANA time zone name"), "{stderr}");

    let (ok, stdout, stderr) =
        fund_server(data_dir.path(), &["terminal", "activation-code", "--merchant", &merchant_id]);
    assert!(ok, "{stderr}");
    assert!(stdout.starts_with("activation code ") && stdout.contains("one use"), "{stdout}");

    // The same key funds once: the second run answers with the same journal entry.
    let fund = ["reserve", "fund", "--amount", "2500.00", "--key", "bank-2026-11-30"];
    let (ok, first, stderr) = fund_server(data_dir.path(), &fund);
    assert!(ok, "{stderr}");
    let (ok, second, _) = fund_server(data_dir.path(), &fund);
    assert!(ok);
    assert_eq!(first, second);
    assert!(first.contains("2500.00 CNY (journal entry 1)"), "{first}");
    let (ok, _, stderr) =
        fund_server(data_dir.path(), &["reserve", "fund", "--amount", "10.005", "--key", "k"]);
    assert!(!ok);
    assert!(stderr.contains("at most 2 decimal places"), "{stderr}");
    // An approved proposal funds under proposal/<id>: the command line may not take it.
    let taken = ["reserve", "fund", "--amount", "1.00", "--key", "proposal/0193"];
    let (ok, _, stderr) = fund_server(data_dir.path(), &taken);
    assert!(!ok);
    assert!(stderr.contains("belong to approved proposals"), "{stderr}");
    let (_, status, _) = fund_server(data_dir.path(), &["reserve", "status"]);
    assert!(status.contains("reserve 2500.00 CNY"), "{status}");
    // Acting at once, but each in the operators' trail, done or refused, as `cli`.
    let (ok, trail, stderr) = fund_server(data_dir.path(), &["operator", "trail"]);
    assert!(ok, "{stderr}");
    let funded: Vec<&str> = trail
        .lines()
        .filter(|line| line.contains("reserve fund 2500.00 (key bank-2026-11-30)"))
        .collect();
    assert_eq!(funded.len(), 2, "{trail}");
    assert!(
        funded.iter().all(|line| line.contains("command_line_change") && line.contains("cli")),
        "{trail}"
    );

    let (ok, stdout, stderr) = fund_server(data_dir.path(), &["audit"]);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("audit passed"), "{stdout}");

    let (ok, _, stderr) = fund_server(data_dir.path(), &["accrue", "--through", "2999-01-01"]);
    assert!(!ok);
    assert!(stderr.contains("is not over yet"), "{stderr}");
    let (ok, _, stderr) = fund_server(
        data_dir.path(),
        &["yield", "rate", "--from", "2026-01-01", "--annual", "3.65"],
    );
    assert!(ok, "{stderr}");
}

#[tokio::test]
async fn audit_exits_non_zero_and_names_an_edited_row() {
    let data_dir = tempfile::tempdir().unwrap();
    let (ok, _, stderr) =
        fund_server(data_dir.path(), &["reserve", "fund", "--amount", "100.00", "--key", "a"]);
    assert!(ok, "{stderr}");
    let (ok, stdout, stderr) = fund_server(data_dir.path(), &["audit"]);
    assert!(ok && stdout.contains("audited 1 journal entries and 2 accounts"), "{stdout}{stderr}");
    let (ok, _, stderr) =
        fund_server(data_dir.path(), &["reserve", "fund", "--amount", "5.00", "--key", "b"]);
    assert!(ok, "{stderr}");
    let database = format!("sqlite://{}", data_dir.path().join("fund.sqlite").display());
    let pool = sqlx::SqlitePool::connect(&database).await.unwrap();
    sqlx::query("DROP TRIGGER transfers_are_never_updated").execute(&pool).await.unwrap();
    sqlx::query("UPDATE transfers SET amount = 1").execute(&pool).await.unwrap();
    pool.close().await;
    // Entry 2 came after the last passing audit: the next one reads it and finds it.
    let (ok, stdout, stderr) = fund_server(data_dir.path(), &["audit"]);
    assert!(!ok, "an edited journal must fail the audit");
    assert!(stdout.contains("audited 1 journal entries after entry 1"), "{stdout}");
    assert!(stdout.contains("PROBLEM: entry 2: its hash does not match its content"), "{stdout}");
    assert!(stderr.contains("audit failed"), "{stderr}");
    // Entry 1 was verified before the edit; the full audit reads it again.
    let (ok, stdout, stderr) = fund_server(data_dir.path(), &["audit", "--full"]);
    assert!(!ok);
    assert!(stdout.contains("PROBLEM: entry 1: its hash does not match its content"), "{stdout}");
    assert!(stderr.contains("audit failed"), "{stderr}");
}

fn fund_server_with_input(
    data_dir: &std::path::Path,
    arguments: &[&str],
    stdin: &str,
) -> (bool, String, String) {
    tillfund_e2e::demo::fund_server_cli_with_input(data_dir, &[], arguments, stdin)
}

#[test]
fn the_first_administrator_is_made_on_the_command_line_and_recorded() {
    let data_dir = tempfile::tempdir().unwrap();
    let add = ["operator", "add", "--name", "Li.Wei", "--role", "administrator"];
    let (ok, stdout, stderr) =
        fund_server_with_input(data_dir.path(), &add, "keep the ledger honest\n");
    assert!(ok, "{stderr}");
    assert!(stdout.contains("added operator li.wei (administrator)"), "{stdout}");
    assert!(stdout.contains("otpauth://totp/Tillfund:li.wei?secret="), "{stdout}");
    assert!(!stdout.contains("keep the ledger honest") && !stderr.contains("honest"));

    // No password on standard input, a weak one, a taken name, an unknown role: refused.
    let (ok, _, stderr) = fund_server(data_dir.path(), &add);
    assert!(!ok && stderr.contains("standard input"), "{stderr}");
    let weak = ["operator", "add", "--name", "zhao", "--role", "viewer"];
    let (ok, _, stderr) = fund_server_with_input(data_dir.path(), &weak, "short\n");
    assert!(!ok && stderr.contains("12 to 128 characters"), "{stderr}");
    let (ok, _, stderr) = fund_server_with_input(data_dir.path(), &add, "another long password\n");
    assert!(!ok && stderr.contains("already"), "{stderr}");
    let role = ["operator", "add", "--name", "zhao", "--role", "boss"];
    let (ok, _, stderr) = fund_server_with_input(data_dir.path(), &role, "another long password\n");
    assert!(
        !ok && stderr.contains("is not viewer, operator, approver or administrator"),
        "{stderr}"
    );

    let (ok, stdout, _) =
        fund_server(data_dir.path(), &["operator", "disable", "--name", "li.wei"]);
    assert!(ok, "{stdout}");
    let (_, list, _) = fund_server(data_dir.path(), &["operator", "list"]);
    assert!(list.contains("li.wei") && list.contains("disabled"), "{list}");
    let (ok, _, stderr) = fund_server(data_dir.path(), &["operator", "enable", "--name", "nobody"]);
    assert!(!ok && stderr.contains("no operator named 'nobody'"), "{stderr}");
    let (ok, stdout, _) =
        fund_server(data_dir.path(), &["operator", "reset-second-factor", "--name", "li.wei"]);
    assert!(ok && stdout.contains("secret: "), "{stdout}");

    let (ok, trail, stderr) = fund_server(data_dir.path(), &["operator", "trail"]);
    assert!(ok, "{stderr}");
    let actions: Vec<_> =
        trail.lines().map(|line| line.split_whitespace().nth(4).unwrap()).collect();
    // Newest first: the reset, the disable, two refused adds (the empty password and the
    // unknown role never reached the service), the add.
    assert_eq!(
        actions,
        [
            "second_factor_reset",
            "operator_disabled",
            "operator_added",
            "operator_added",
            "operator_added"
        ],
        "{trail}"
    );
    assert!(trail.lines().all(|line| line.contains(" cli ")), "{trail}");
    let (ok, stdout, stderr) = fund_server(data_dir.path(), &["audit"]);
    assert!(ok, "{stdout}{stderr}");
    assert!(stdout.contains("checked the chain of 5 records of the operators' trail"), "{stdout}");
}
