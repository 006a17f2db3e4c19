//! The Listen page's decoder is the committed `listen-decoder.wasm`; this rebuilds it from
//! the sources the counter encodes with (wasm/build.sh) and checks the two are the same
//! bytes, so the phone never runs a modem other than the counter's. Needs clang-14 and the
//! WASI sysroot, which `make deps` installs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

#[test]
fn the_committed_decoder_is_what_the_sources_build() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let committed_path = crate_dir.join("../fund-server/assets/listen-decoder.wasm");
    let committed = std::fs::read(&committed_path).expect("the committed decoder");
    let output = tempfile_path();
    let status = Command::new(crate_dir.join("wasm/build.sh"))
        .arg(&output)
        .status()
        .expect("wasm/build.sh runs (clang-14, lld-14, wasi-libc: `make deps`)");
    assert!(
        status.success(),
        "wasm/build.sh failed: are clang-14 and wasi-libc installed (`make deps`)?"
    );
    let rebuilt = std::fs::read(&output).unwrap();
    let _ = std::fs::remove_file(&output);
    assert!(
        rebuilt == committed,
        "{} differs from a rebuild from the sources ({} and {} bytes): run crates/payment-sound/wasm/build.sh and commit it",
        committed_path.display(),
        committed.len(),
        rebuilt.len()
    );
}

fn tempfile_path() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("listen-decoder-{}.wasm", std::process::id()))
}
