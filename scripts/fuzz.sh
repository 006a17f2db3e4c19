#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of outside input (crates/fuzz-targets), with
# libFuzzer on the stable toolchain: libfuzzer-sys compiles libFuzzer itself, and the
# coverage instrumentation is rustc's sancov pass, switched on with stable -C flags (only
# the sanitizers need nightly, and the code forbids `unsafe`: what a finding can be is a
# panic, an overflow, a hang or a runaway allocation, which need none).
#
#   scripts/fuzz.sh run [SECONDS]    each target for SECONDS (default 60); findings in
#                                    target/fuzz/artifacts/<target>/
#   scripts/fuzz.sh smoke            each target for 3 seconds: they build and run
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-run}
case "$mode" in
  run) seconds=${2:-60} ;;
  smoke) seconds=3 ;;
  *) echo "usage: scripts/fuzz.sh run [SECONDS] | smoke" >&2; exit 2 ;;
esac

targets=(payment_token amount customer_fields signed_request sync_push_body counter_answers)
host=$(rustc -vV | sed -n 's/^host: //p')
export CARGO_TARGET_DIR="$PWD/target/fuzz"
# The explicit --target keeps the instrumentation off build scripts and proc macros.
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing"
cargo build --release --locked --manifest-path fuzz/Cargo.toml --bins --target "$host"

failed=()
for target in "${targets[@]}"; do
  corpus="$CARGO_TARGET_DIR/corpus/$target"
  artifacts="$CARGO_TARGET_DIR/artifacts/$target/"
  mkdir -p "$corpus" "$artifacts"
  echo "== $target: ${seconds}s"
  # New inputs go to the first directory (kept between runs, not committed); the
  # committed seeds in fuzz/corpus are read only.
  log="$CARGO_TARGET_DIR/$target.log"
  status=0
  "$CARGO_TARGET_DIR/$host/release/$target" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 -artifact_prefix="$artifacts" \
    "$corpus" "fuzz/corpus/$target" >"$log" 2>&1 || status=$?
  grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+== ERROR|SUMMARY|Test unit written)|panicked" "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -30 "$log"
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found a crash in: ${failed[*]} (inputs in target/fuzz/artifacts/); minimise with -minimize_crash=1, add it to fuzz/regressions/<target>/, fix, and test" >&2
  exit 1
fi
echo "fuzzing: ${#targets[@]} targets, ${seconds}s each, no crash"
