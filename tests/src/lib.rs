//! Harness for the end-to-end tests: start and stop real processes (the fund-server binary,
//! tauri-driver with the built counter app) and talk WebDriver to the app.
//!
//! These are test helpers, so failures panic or return `anyhow` errors with enough context
//! to tell what was running and what it printed.

// Test support: a failed precondition should stop the test loudly, which is what expect does.
#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod process;
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
