//! Harness for the end-to-end tests: start and stop real processes (the fund-server binary,
//! tauri-driver with the built counter app) and talk WebDriver to the app.
//!
//! These are test helpers, so failures panic or return `anyhow` errors with enough context
//! to tell what was running and what it printed.

// Test support: a failed precondition should stop the test loudly, which is what expect does.
#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod accessibility;
pub mod chromedriver;
pub mod operators;
pub mod phone;
pub mod postgres;
pub mod process;
pub mod raw_counter;
pub mod webdriver;

use std::path::PathBuf;

/// The repository root (this crate lives in `tests/`).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The shared cargo target directory, honouring `CARGO_TARGET_DIR`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// A TCP port that was free a moment ago. Used where a process must come back on the same
/// port after a restart, so port 0 will not do.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

/// The demo store that `fund-server serve --seed-demo` creates, as the tests use it.
pub mod demo {
    use std::path::Path;

    use serde_json::{Value, json};

    use crate::process::fund_server_binary;

    pub const MERCHANT_ID: &str = "0192f000-0000-7000-8000-00000000d001";
    pub const MEMBER_CODE: &str = "800000000011";
    pub const PHONE: &str = "13800138000";
    pub const PIN: &str = "123456";

    /// Runs the operator CLI on the server's data directory; returns (success, stdout, stderr).
    pub fn fund_server_cli(data_dir: &Path, arguments: &[&str]) -> (bool, String, String) {
        fund_server_cli_with_env(data_dir, &[], arguments)
    }

    /// As `fund_server_cli`, with extra environment (`DATABASE_URL` for PostgreSQL).
    pub fn fund_server_cli_with_env(
        data_dir: &Path,
        environment: &[(&str, &str)],
        arguments: &[&str],
    ) -> (bool, String, String) {
        let output = std::process::Command::new(fund_server_binary())
            .args(arguments)
            .env_remove("DATABASE_URL")
            .envs(environment.iter().copied())
            .env("TILLFUND_DATA_DIR", data_dir)
            .output()
            .expect("run fund-server");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// As `fund_server_cli_with_env`, with `stdin` written to its standard input (an
    /// operator's password).
    pub fn fund_server_cli_with_input(
        data_dir: &Path,
        environment: &[(&str, &str)],
        arguments: &[&str],
        stdin: &str,
    ) -> (bool, String, String) {
        use std::io::Write;
        use std::process::Stdio;
        let mut child = std::process::Command::new(fund_server_binary())
            .args(arguments)
            .env_remove("DATABASE_URL")
            .envs(environment.iter().copied())
            .env("TILLFUND_DATA_DIR", data_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run fund-server");
        child.stdin.take().expect("piped").write_all(stdin.as_bytes()).expect("write stdin");
        let output = child.wait_with_output().expect("run fund-server");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// A fresh activation code for the demo store, as the operator would issue it.
    pub fn activation_code(data_dir: &Path) -> String {
        activation_code_with_env(data_dir, &[])
    }

    /// As `activation_code`, with extra environment (`DATABASE_URL` for PostgreSQL).
    pub fn activation_code_with_env(data_dir: &Path, environment: &[(&str, &str)]) -> String {
        let arguments = ["terminal", "activation-code", "--merchant", MERCHANT_ID];
        let (ok, stdout, stderr) = fund_server_cli_with_env(data_dir, environment, &arguments);
        assert!(ok, "{stderr}");
        stdout.split_whitespace().nth(2).expect("a code in the output").to_owned()
    }

    /// The audit of the server's data passes (run it after the server stopped).
    pub fn assert_audit_passes(data_dir: &Path) {
        let (ok, stdout, stderr) = fund_server_cli(data_dir, &["audit"]);
        assert!(ok, "{stdout}{stderr}");
    }

    /// The demo customer, signed in through the customer API: what a phone does.
    pub struct DemoCustomer {
        http: reqwest::Client,
        server_url: String,
        token: String,
    }

    impl DemoCustomer {
        pub async fn sign_in(server_url: &str) -> DemoCustomer {
            let http = reqwest::Client::new();
            let session: Value = http
                .post(format!("{server_url}/v1/sessions"))
                .json(&json!({"phone": PHONE, "pin": PIN}))
                .send()
                .await
                .expect("sign in")
                .json()
                .await
                .expect("session");
            let token = session["token"].as_str().expect("token").to_owned();
            DemoCustomer { http, server_url: server_url.to_owned(), token }
        }

        /// Pays a counter's payment token with the PIN; the answer as it came.
        pub async fn pay(&self, token: &str, idempotency_key: &str) -> reqwest::Response {
            self.try_pay(token, idempotency_key).await.expect("pay")
        }

        /// As `pay`, but a lost connection (the server died) is an answer, not a panic.
        pub async fn try_pay(
            &self,
            token: &str,
            idempotency_key: &str,
        ) -> reqwest::Result<reqwest::Response> {
            self.http
                .post(format!("{}/v1/payments", self.server_url))
                .bearer_auth(&self.token)
                .header("idempotency-key", idempotency_key)
                .json(&json!({"token": token, "pin": PIN}))
                .send()
                .await
        }

        /// Asks the wallet for a code to take `amount` (minor units) out as cash at the
        /// demo store; the answer as it came (status, body).
        pub async fn redemption_code(&self, amount: i64) -> (u16, Value) {
            let response = self
                .http
                .post(format!("{}/v1/wallet/redemption-codes", self.server_url))
                .bearer_auth(&self.token)
                .json(&json!({"merchant_id": MERCHANT_ID, "amount": amount, "pin": PIN}))
                .send()
                .await
                .expect("redemption code");
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(Value::Null))
        }

        pub async fn wallet(&self) -> Value {
            self.http
                .get(format!("{}/v1/wallet", self.server_url))
                .bearer_auth(&self.token)
                .send()
                .await
                .expect("wallet")
                .json()
                .await
                .expect("wallet body")
        }
    }

    /// The demo customer's wallet, through the customer API.
    pub async fn wallet(server_url: &str) -> Value {
        DemoCustomer::sign_in(server_url).await.wallet().await
    }
}

/// Saves a screenshot for the README under `docs/screenshots/`.
pub fn save_screenshot(png: &[u8], name: &str) {
    let directory = workspace_root().join("docs").join("screenshots");
    std::fs::create_dir_all(&directory)
        .unwrap_or_else(|error| panic!("{}: {error}", directory.display()));
    std::fs::write(directory.join(name), png).unwrap_or_else(|error| panic!("{name}: {error}"));
}
