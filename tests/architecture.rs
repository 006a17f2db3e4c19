//! The architecture invariants of ARCHITECTURE.md, checked against the source tree: a rule
//! nobody checks decays. Each test reads the files as text; none builds or runs anything.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use tillfund_e2e::workspace_root;

/// The longest a source file may grow before it holds more than one idea.
const SOURCE_FILE_LINES_MAX: usize = 600;

fn rust_files(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Code lines of a file: comments and the text of doc comments do not count as naming a
/// crate, so "`sqlx`" in a sentence is allowed.
fn code_of(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn relative(path: &Path) -> String {
    path.strip_prefix(workspace_root()).unwrap_or(path).display().to_string()
}

/// Every file under `folder`, outside `allowed` (relative to `folder`), that names `word`.
fn files_naming(folder: &str, allowed: &[&str], word: &str) -> Vec<String> {
    let root = workspace_root().join(folder);
    rust_files(&root)
        .into_iter()
        .filter(|path| {
            let inside = path.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
            !allowed.iter().any(|allowed| inside.starts_with(allowed))
        })
        .filter(|path| code_of(path).contains(word))
        .map(|path| relative(&path))
        .collect()
}

#[test]
fn in_the_fund_server_only_the_storage_backends_know_sql_and_only_http_knows_axum() {
    let source = "crates/fund-server/src";
    // Paths, not words: a log filter such as "sqlx=warn" names no crate.
    // The copy from SQLite to PostgreSQL reads one backend and writes the other.
    let backends = ["store/sqlite/", "store/postgres/", "store/sqlx_error.rs", "store/copy.rs"];
    assert_eq!(files_naming(source, &backends, "sqlx::"), Vec::<String>::new());
    assert_eq!(files_naming(source, &["http/"], "axum::"), Vec::<String>::new());
    assert_eq!(files_naming(source, &["http/"], "tower_http::"), Vec::<String>::new());
}

#[test]
fn the_ledger_decides_and_knows_no_storage_web_or_runtime() {
    for word in ["sqlx::", "axum::", "tokio::", "crate::store", "crate::http", "crate::service"] {
        assert_eq!(
            files_naming("crates/fund-server/src/ledger", &[], word),
            Vec::<String>::new(),
            "{word}"
        );
    }
}

#[test]
fn the_store_loads_and_writes_but_never_decides() {
    // The ledger writer runs load → decide → write; the store never drives the engine.
    for word in ["Batch::new", ".apply(", "crate::ledger_writer", "crate::service"] {
        assert_eq!(
            files_naming("crates/fund-server/src/store", &[], word),
            Vec::<String>::new(),
            "{word}"
        );
    }
}

#[test]
fn the_service_and_the_ledger_writer_know_the_storage_traits_not_a_backend() {
    // Only the composition (main.rs, the `ServerStore` choice) names a backend.
    for folder in ["crates/fund-server/src/service", "crates/fund-server/src/ledger_writer.rs"] {
        for word in ["SqliteStore", "store::sqlite", "PgStore", "store::postgres", "ServerStore"] {
            let root = workspace_root().join(folder);
            let files = if root.is_dir() { rust_files(&root) } else { vec![root] };
            let naming: Vec<String> = files
                .iter()
                .filter(|path| code_of(path).contains(word))
                .map(|path| relative(path))
                .collect();
            // The service's one default type parameter names the server's backend.
            let allowed: &[&str] = if word == "ServerStore" { &["service/mod.rs"] } else { &[] };
            let naming: Vec<String> = naming
                .into_iter()
                .filter(|path| !allowed.iter().any(|allowed| path.ends_with(allowed)))
                .collect();
            assert_eq!(naming, Vec::<String>::new(), "{word}");
        }
    }
}

#[test]
fn handlers_reach_the_store_only_through_the_service() {
    for word in ["crate::store", ".store()"] {
        assert_eq!(
            files_naming("crates/fund-server/src/http", &[], word),
            Vec::<String>::new(),
            "{word}"
        );
    }
}

#[test]
fn only_the_app_knows_tauri() {
    assert_eq!(files_naming("crates", &[], "tauri::"), Vec::<String>::new());
    assert_eq!(files_naming("crates", &[], "use tauri"), Vec::<String>::new());
}

#[test]
fn the_core_depends_on_no_io_web_database_or_ui_crate() {
    let manifest =
        std::fs::read_to_string(workspace_root().join("crates/tillfund-core/Cargo.toml")).unwrap();
    let dependencies =
        manifest.split("[dependencies]").nth(1).unwrap().split("\n[").next().unwrap().to_owned();
    for forbidden in ["sqlx", "axum", "tokio", "reqwest", "hyper", "tauri", "tower"] {
        assert!(
            !dependencies.lines().any(|line| line.trim_start().starts_with(forbidden)),
            "tillfund-core depends on {forbidden}"
        );
    }
    for word in ["std::fs", "std::net", "std::process", "std::env"] {
        assert_eq!(files_naming("crates/tillfund-core/src", &[], word), Vec::<String>::new());
    }
}

/// The deliberately broken versions the simulator must catch (#12) are read only where
/// they act and set only by the simulator: no other code path can turn one on.
#[test]
fn the_simulator_s_broken_switches_act_in_known_places_and_are_set_only_by_it() {
    let server = [
        "ledger/engine/sim_bugs.rs",
        "ledger/engine/mod.rs",
        "ledger/engine/command.rs",
        "ledger/engine/refund.rs",
        "ledger/engine/settlement.rs",
        "ledger/mod.rs",
        "service/outbox.rs",
        "service/mod.rs",
        // Where the command line builds the policy: always the default, all off.
        "main.rs",
    ];
    let counter = ["sim_bugs.rs", "lib.rs", "transport.rs", "sync.rs"];
    for word in ["sim_bugs", "SimBugs"] {
        assert_eq!(files_naming("crates/fund-server/src", &server, word), Vec::<String>::new());
        assert_eq!(files_naming("crates/counter-core/src", &counter, word), Vec::<String>::new());
        assert_eq!(files_naming("src-tauri/src", &[], word), Vec::<String>::new());
        assert_eq!(files_naming("crates/tillfund-core/src", &[], word), Vec::<String>::new());
    }
    let main = code_of(&workspace_root().join("crates/fund-server/src/main.rs"));
    assert!(main.contains("sim_bugs: fund_server::ledger::ServerSimBugs::default()"));
    for manifest in [
        "crates/fund-server/Cargo.toml",
        "crates/counter-core/Cargo.toml",
        "src-tauri/Cargo.toml",
        "tests/Cargo.toml",
    ] {
        let text = std::fs::read_to_string(workspace_root().join(manifest)).unwrap();
        let enabling = text
            .lines()
            .filter(|line| {
                line.contains("\"sim-bugs\"") && !line.trim_start().starts_with("sim-bugs =")
            })
            .count();
        assert_eq!(enabling, 0, "{manifest} turns the sim-bugs feature on");
    }
}

#[test]
fn no_source_file_holds_more_than_one_idea_by_length() {
    let mut long = Vec::new();
    for folder in [
        "crates/tillfund-core/src",
        "crates/fund-server/src",
        "crates/counter-core/src",
        "crates/sim/src",
        "crates/fuzz-targets/src",
        "src-tauri/src",
    ] {
        for path in rust_files(&workspace_root().join(folder)) {
            let lines = std::fs::read_to_string(&path).unwrap().lines().count();
            if lines > SOURCE_FILE_LINES_MAX {
                long.push(format!("{} ({lines} lines)", relative(&path)));
            }
        }
    }
    assert_eq!(long, Vec::<String>::new(), "split these into files of one idea");
}

#[test]
fn the_counter_ui_branches_only_on_codes_a_table_has() {
    // The UI compares `error.code` with literals; each must be a code of the counter's,
    // the server's or the core's table, or the branch silently never runs.
    let known = |code: &str| {
        counter_core::error_code::CounterCode::ALL.iter().any(|known| known.as_str() == code)
            || tillfund_core::protocol::ErrorCode::parse(code).is_some()
    };
    let mut unknown = Vec::new();
    let mut compared = 0;
    for entry in std::fs::read_dir(workspace_root().join("ui")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|extension| extension != "js") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for piece in text.split("code === \"").skip(1).chain(text.split("code !== \"").skip(1)) {
            let code = piece.split('"').next().unwrap();
            compared += 1;
            if !known(code) {
                unknown.push(format!("{}: {code}", relative(&path)));
            }
        }
    }
    assert!(compared > 0, "the UI compares no codes any more: is this test still needed?");
    assert_eq!(unknown, Vec::<String>::new());
}
