#!/usr/bin/env bash
# Installs what building, running and testing Tillfund needs on a Debian machine, and
# skips whatever is already there, so it is cheap to run before every `make` target.
set -euo pipefail
cd "$(dirname "$0")/.."

# WebKitGTK and friends for the Tauri app; Xvfb and WebKitWebDriver for its tests.
apt_packages=(
  pkg-config
  libwebkit2gtk-4.1-dev
  libgtk-3-dev
  libayatana-appindicator3-dev
  librsvg2-dev
  xvfb
  xauth
  webkit2gtk-driver
  curl
  # A CJK font: receipts rendered as PNG (and the UI) show Chinese text with it.
  fonts-wqy-microhei
  # A real browser and its WebDriver for the wallet pages' tests.
  chromium
  chromium-driver
  # The PostgreSQL fault test runs `fund-server accrue` as if it were tomorrow, so that
  # the day its ledger was written is over and can be accrued.
  faketime
  # libFuzzer is C++: libfuzzer-sys compiles it for the fuzz targets (scripts/fuzz.sh).
  g++
  # Pay by sound: the Listen page's decoder is ggwave compiled to WebAssembly; a test
  # rebuilds it from the counter's sources and compares (crates/payment-sound/wasm/build.sh).
  clang-14
  lld-14
  wasi-libc
  libclang-rt-14-dev-wasm32
)
command -v node >/dev/null || apt_packages+=(nodejs)
command -v npm >/dev/null || apt_packages+=(npm)

missing=()
for package in "${apt_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The Tauri CLI and axe-core (the browser tests' accessibility audit), pinned in
# package-lock.json.
if [ ! -x node_modules/.bin/tauri ] || [ ! -f node_modules/axe-core/axe.min.js ] \
  || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "install-deps: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# tauri-driver, the WebDriver bridge for the end-to-end tests.
if ! command -v tauri-driver >/dev/null && [ ! -x "${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver" ]; then
  echo "install-deps: cargo install tauri-driver"
  cargo install tauri-driver --locked --version 2.1.0
fi
