//! The counter app's start: time from launch to a usable first screen, and the memory
//! (PSS) of the app with its WebKit processes once started, beside a bare Tauri window
//! (`src-tauri/examples/bare_window.rs`) measured the same way in the same run.
//!
//! Aims (issue #5): under 1 s warm, under 300 MB PSS together. Run by `make bench-app`
//! under Xvfb, after `make app` and the example are built.

// A benchmark harness: a failed step should stop it loudly.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::cast_precision_loss)]

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tillfund_e2e::process::{FundServer, counter_cli_binary, terminate, wait_with_timeout};
use tillfund_e2e::{free_port, target_dir};

const RUNS: usize = 5;
/// Memory is read once the window has been up this long, so late allocations count.
const SETTLE: Duration = Duration::from_secs(2);

struct Sample {
    ready: Duration,
    pss_kib: u64,
}

/// Every process whose ancestry leads to `root`, `root` included.
fn process_tree(root: u32) -> Vec<u32> {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        // The command name may hold spaces; the parent pid is the second field after ')'.
        let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        if let Some(parent) = after_name.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
            parents.push((pid, parent));
        }
    }
    let mut tree: HashSet<u32> = HashSet::from([root]);
    loop {
        let before = tree.len();
        for (pid, parent) in &parents {
            if tree.contains(parent) {
                tree.insert(*pid);
            }
        }
        if tree.len() == before {
            return tree.into_iter().collect();
        }
    }
}

fn pss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("Pss:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

/// Launches `binary`, waits for its "ready after" line on stderr, measures, stops it.
fn measure(binary: &Path, environment: &[(&str, String)]) -> Sample {
    let launched = Instant::now();
    let mut child = Command::new(binary)
        .envs(environment.iter().map(|(key, value)| (*key, value)))
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("launch {}: {error}", binary.display()));
    let (sender, receiver) = mpsc::channel();
    let stderr = child.stderr.take().expect("stderr is piped");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("ready after") {
                let _ = sender.send(());
            }
        }
    });
    receiver
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{} never said it was ready", binary.display()));
    let ready = launched.elapsed();
    std::thread::sleep(SETTLE);
    let pss_kib = process_tree(child.id()).into_iter().map(pss_kib).sum();
    terminate(&child);
    if wait_with_timeout(&mut child, Duration::from_secs(10)).is_err() {
        let _ = child.kill();
        let _ = child.wait();
    }
    Sample { ready, pss_kib }
}

fn report(name: &str, samples: &mut [Sample]) -> (f64, f64) {
    samples.sort_by_key(|sample| sample.ready);
    let median_ms = samples[samples.len() / 2].ready.as_secs_f64() * 1000.0;
    let max_ms = samples.last().map_or(0.0, |sample| sample.ready.as_secs_f64() * 1000.0);
    let mut pss: Vec<u64> = samples.iter().map(|sample| sample.pss_kib).collect();
    pss.sort_unstable();
    let median_mib = pss[pss.len() / 2] as f64 / 1024.0;
    let max_mib = pss.last().copied().unwrap_or(0) as f64 / 1024.0;
    println!(
        "{name:<28} ready p50 {median_ms:>6.0} ms  max {max_ms:>6.0} ms   PSS p50 {median_mib:>6.1} MiB  max {max_mib:>6.1} MiB"
    );
    (median_ms, median_mib)
}

fn main() {
    // `TILLFUND_BENCH_APP=target/release/tillfund-counter` measures the packaged build.
    let app = std::env::var_os("TILLFUND_BENCH_APP")
        .map_or_else(|| target_dir().join("debug").join("tillfund-counter"), PathBuf::from);
    let bare = target_dir().join("debug").join("examples").join("bare_window");
    for binary in [&app, &bare] {
        assert!(binary.exists(), "{} is missing: run `make bench-app`", binary.display());
    }
    // The counter as a store has it: enrolled, with staff, its server running.
    let server_dir = tempfile::tempdir().expect("temporary directory");
    let server = FundServer::start(server_dir.path(), &format!("127.0.0.1:{}", free_port()))
        .expect("start the fund server");
    let counter_dir = tempfile::tempdir().expect("temporary directory");
    let database: PathBuf = counter_dir.path().join("counter.sqlite");
    let cli = |arguments: &[&str]| {
        let status = Command::new(counter_cli_binary())
            .arg("--db")
            .arg(&database)
            .args(arguments)
            .stdout(Stdio::null())
            .status()
            .expect("run counter-cli");
        assert!(status.success(), "counter-cli {arguments:?}");
    };
    let code = tillfund_e2e::demo::activation_code(server_dir.path());
    cli(&["enrol", "--server", &server.url, "--code", &code, "--label", "Bench counter"]);
    cli(&["add-staff", "--name", "Mia", "--role", "manager", "--pin", "2468"]);
    let app_environment = [
        ("TILLFUND_COUNTER_DB", database.display().to_string()),
        ("TILLFUND_SERVER_URL", server.url.clone()),
    ];

    // One start of each first: "warm" means the binaries and libraries are in the page cache.
    measure(&bare, &[]);
    measure(&app, &app_environment);
    let mut bare_samples = Vec::new();
    let mut app_samples = Vec::new();
    for _ in 0..RUNS {
        bare_samples.push(measure(&bare, &[]));
        app_samples.push(measure(&app, &app_environment));
    }
    println!("app start, warm, {RUNS} runs each, under Xvfb (aim: < 1000 ms, < 300 MiB PSS)");
    let (bare_ms, bare_mib) = report("baseline: bare Tauri window", &mut bare_samples);
    let (app_ms, app_mib) = report("counter app (sign-in screen)", &mut app_samples);
    println!(
        "counter app over baseline: {:+.0} ms, {:+.1} MiB",
        app_ms - bare_ms,
        app_mib - bare_mib
    );
    drop(server);
}
