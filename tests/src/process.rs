//! Real processes under test, stopped the way an operator stops them (SIGTERM) and killed
//! if a test panics before it stops them.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::{target_dir, workspace_root};

/// Builds the fund-server binary once per test process, so tests never run a stale one.
/// A no-op when it is already up to date.
pub fn fund_server_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
            let status = Command::new(cargo)
                .args(["build", "--quiet", "-p", "fund-server", "--bin", "fund-server"])
                .current_dir(workspace_root())
                .status()
                .expect("run cargo build for fund-server");
            assert!(status.success(), "cargo build -p fund-server failed");
            target_dir().join("debug").join("fund-server")
        })
        .clone()
}

/// Builds the headless counter (`counter-cli`) once per test process.
pub fn counter_cli_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
            let status = Command::new(cargo)
                .args(["build", "--quiet", "-p", "counter-core", "--bin", "counter-cli"])
                .current_dir(workspace_root())
                .status()
                .expect("run cargo build for counter-cli");
            assert!(status.success(), "cargo build -p counter-core --bin counter-cli failed");
            target_dir().join("debug").join("counter-cli")
        })
        .clone()
}

/// Sends SIGTERM, the signal a service manager uses to stop a process.
pub fn terminate(child: &Child) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
}

/// Waits for a child to exit, up to `timeout`.
pub fn wait_with_timeout(child: &mut Child, timeout: Duration) -> anyhow::Result<ExitStatus> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if std::time::Instant::now() > deadline {
            bail!("process {} did not exit within {timeout:?}", child.id());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A running `fund-server serve`.
pub struct FundServer {
    child: Child,
    pub url: String,
    /// Everything the server printed to stdout before it said where it listens.
    pub startup_output: Vec<String>,
}

impl FundServer {
    /// Starts `fund-server serve --seed-demo` on `listen` (use port 0 for any free port)
    /// with its SQLite file in `data_dir`, and waits until it says where it listens.
    pub fn start(data_dir: &Path, listen: &str) -> anyhow::Result<FundServer> {
        FundServer::start_with_env(data_dir, listen, &[])
    }

    /// As `start`, with extra environment (e.g. `TILLFUND_RATE_LIMIT_FACTOR` for a test that
    /// plays a whole store's day from one address).
    pub fn start_with_env(
        data_dir: &Path,
        listen: &str,
        environment: &[(&str, &str)],
    ) -> anyhow::Result<FundServer> {
        let mut child = Command::new(fund_server_binary())
            .args(["serve", "--seed-demo", "--listen", listen])
            // The data directory's SQLite file unless the test names a database.
            .env_remove("DATABASE_URL")
            .envs(environment.iter().copied())
            .env("TILLFUND_DATA_DIR", data_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("spawn fund-server")?;
        let stdout = child.stdout.take().context("fund-server stdout")?;
        let (line_sender, line_receiver) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line_sender.send(line).is_err() {
                    return;
                }
            }
        });
        let mut startup_output = Vec::new();
        loop {
            let line = match line_receiver.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => line,
                Err(_) => {
                    let _ = child.kill();
                    bail!("fund-server did not report its address; it printed {startup_output:?}");
                }
            };
            if let Some(url) = line.strip_prefix("fund-server listening on ") {
                let url = url.trim().to_owned();
                return Ok(FundServer { child, url, startup_output });
            }
            startup_output.push(line);
        }
    }

    /// Kills the process with SIGKILL, as a crash or the OOM killer would: no shutdown.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The server's process id, for reading its memory from `/proc`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then waits for a clean exit.
    pub fn stop(mut self) -> anyhow::Result<ExitStatus> {
        terminate(&self.child);
        wait_with_timeout(&mut self.child, Duration::from_secs(10))
    }
}

impl Drop for FundServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
