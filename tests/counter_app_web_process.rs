//! The real counter app survives its web process: WebKit runs the page in a separate
//! process, and when that dies (a crash inside WebKit, the OOM killer on a store PC short of
//! memory) the app loads the page again (`src-tauri/src/webview.rs`), at most three times a
//! minute, rather than leaving the counter blank.
//!
//! Without WebDriver: WebKitWebDriver ends its session when the page's process dies, so the
//! app is started directly under the display and read through its log, where the page's
//! start-up ends with `ready after … ms`. Ignored by a plain `cargo test` (it needs the app
//! built by `make app` and a display); `make test` runs it under Xvfb.

// Test code: helpers outside #[test] fns unwrap too, and a failure should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use tillfund_e2e::process::{terminate, wait_with_timeout};
use tillfund_e2e::{free_port, target_dir};

const READY: &str = "ready after";
const RELOADING: &str = "web process died; loading the page again";
const GIVEN_UP: &str = "the window stays blank until the app is restarted";

#[test]
#[ignore = "needs the app built by `tauri build --debug --no-bundle` and a display; run by `make test`"]
fn a_dead_web_process_is_replaced_three_times_a_minute() {
    let application = target_dir().join("debug").join("tillfund-counter");
    assert!(application.exists(), "{} is missing: build it with `make app`", application.display());
    let counter_dir = tempfile::tempdir().unwrap();
    let app = Command::new(&application)
        .env("TILLFUND_COUNTER_DB", counter_dir.path().join("counter.sqlite"))
        // Nothing listens there: the counter starts offline, on its enrolment screen.
        .env("TILLFUND_SERVER_URL", format!("http://127.0.0.1:{}", free_port()))
        .env("RUST_LOG", "info")
        .env("LANG", "en_US.UTF-8")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut app = StoppedOnDrop(app);
    let log = lines_of(app.0.stderr.take().unwrap());
    wait_for(&log, READY, Duration::from_secs(60));

    for reload in 1..=3 {
        let killed = kill_web_processes_under(app.0.id());
        wait_for(&log, RELOADING, Duration::from_secs(20));
        let started = Instant::now();
        wait_for(&log, READY, Duration::from_secs(30));
        eprintln!(
            "reload {reload}: web process {killed:?} killed, page ready {:?} later",
            started.elapsed()
        );
    }
    // A fourth death within the minute: the app stops reloading (a page that kills its
    // process as it loads would reload for ever) and says so.
    kill_web_processes_under(app.0.id());
    wait_for(&log, GIVEN_UP, Duration::from_secs(20));
    let after = drain(&log, Duration::from_secs(3));
    assert!(!after.iter().any(|line| line.contains(READY)), "reloaded a fourth time: {after:?}");
    assert!(app.0.try_wait().unwrap().is_none(), "the app itself stays up");
}

/// The app, stopped however the test ends (a failed assertion included): SIGTERM, then
/// SIGKILL after ten seconds.
struct StoppedOnDrop(std::process::Child);

impl Drop for StoppedOnDrop {
    fn drop(&mut self) {
        terminate(&self.0);
        if wait_with_timeout(&mut self.0, Duration::from_secs(10)).is_err() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// The lines a child writes to `stream`, as they come.
fn lines_of(stream: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (sender, receiver) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            eprintln!("app: {line}");
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

fn wait_for(log: &Receiver<String>, wanted: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match log.recv_timeout(left) {
            Ok(line) if line.contains(wanted) => return,
            Ok(_) => {}
            Err(RecvTimeoutError::Timeout) => {
                panic!("no '{wanted}' in the app's log within {timeout:?}")
            }
            Err(RecvTimeoutError::Disconnected) => panic!("the app exited before '{wanted}'"),
        }
    }
}

fn drain(log: &Receiver<String>, for_how_long: Duration) -> Vec<String> {
    let deadline = Instant::now() + for_how_long;
    let mut lines = Vec::new();
    while let Ok(line) = log.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        lines.push(line);
    }
    lines
}

/// Kills (SIGKILL) every WebKitWebProcess descending from `root`; at least one must be.
fn kill_web_processes_under(root: u32) -> Vec<u32> {
    let processes = processes();
    let mut tree = vec![root];
    let mut index = 0;
    while index < tree.len() {
        let parent = tree[index];
        tree.extend(processes.iter().filter(|(_, ppid, _)| *ppid == parent).map(|(pid, ..)| *pid));
        index += 1;
    }
    let web: Vec<u32> = processes
        .iter()
        .filter(|(pid, _, name)| tree.contains(pid) && name.starts_with("WebKitWebProces"))
        .map(|(pid, ..)| *pid)
        .collect();
    assert!(!web.is_empty(), "no WebKitWebProcess under the app ({root})");
    for pid in &web {
        let status = Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap();
        assert!(status.success(), "kill -KILL {pid}");
    }
    web
}

/// Every process: its id, its parent's and its name, from /proc.
fn processes() -> Vec<(u32, u32, String)> {
    let mut processes = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else {
            continue;
        };
        // "pid (name) state ppid …": the name may hold spaces and parentheses.
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        let Some((head, rest)) = stat.rsplit_once(") ") else { continue };
        let name = head.split_once(" (").map(|(_, name)| name).unwrap_or_default().to_owned();
        let Some(ppid) = rest.split_whitespace().nth(1).and_then(|ppid| ppid.parse::<u32>().ok())
        else {
            continue;
        };
        processes.push((pid, ppid, name));
    }
    processes
}
