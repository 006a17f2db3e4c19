#!/usr/bin/env bash
# Rebuilds the Listen page's decoder (crates/fund-server/assets/listen-decoder.wasm) from
# ggwave's C++ sources as vendored by the `ggwave-rs` crate the counter encodes with, so
# both ends run the same modem. Needs Debian's clang-14, lld-14, wasi-libc and
# libclang-rt-14-dev-wasm32 (scripts/install-deps.sh installs them). The output is
# byte-identical on every rebuild; `cargo test -p payment-sound --test wasm_decoder`
# rebuilds it and compares.
#
# Usage: crates/payment-sound/wasm/build.sh [OUTPUT]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
output="${1:-$root/crates/fund-server/assets/listen-decoder.wasm}"

manifest="$(cargo metadata --locked --format-version 1 --manifest-path "$root/Cargo.toml" \
  | python3 -c 'import json,sys; print(next(p["manifest_path"] for p in json.load(sys.stdin)["packages"] if p["name"]=="ggwave-rs"))')"
ggwave="$(dirname "$manifest")/vendor/ggwave"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# -DNDEBUG and GGWAVE_DISABLE_LOG leave out assert's and the log's printing (the module's
# three WASI imports are never called); -nostdlib++ because ggwave needs no C++ library (the
# shim's new/delete). The native build keeps the asserts: the tests exercise the same paths.
clang-14 --target=wasm32-wasi --sysroot=/usr \
  -O2 -std=c++11 -fno-exceptions -fno-rtti -nostdlib++ \
  -DNDEBUG -DGGWAVE_DISABLE_LOG -ffile-prefix-map="$ggwave"=ggwave -ffile-prefix-map="$here"=wasm \
  -I"$ggwave/include" -I"$ggwave/src" \
  -mexec-model=reactor -Wl,--strip-all -Wl,--no-entry \
  "$here/listen_decoder.cpp" "$ggwave/src/ggwave.cpp" \
  -o "$work/listen-decoder.wasm"
mkdir -p "$(dirname "$output")"
cp "$work/listen-decoder.wasm" "$output"
echo "wasm/build.sh: $(wc -c < "$output") bytes to $output"
