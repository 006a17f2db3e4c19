# The two commands: `make run` starts the product, `make test` runs every test.
# Both install what they need first (scripts/install-deps.sh skips what is there).

SHELL := /bin/bash
CARGO ?= cargo
TAURI := npx --no-install tauri
# The end-to-end run is bounded so that a hung window can never hold CI.
E2E_TIMEOUT_SECONDS ?= 600

.PHONY: run serve test deps app server lint unit e2e sim fuzz bench bench-growth bench-app icons package

run:
	@scripts/run.sh --check-display
	@$(MAKE) --no-print-directory deps app server
	scripts/run.sh

# The fund server alone, with the demo store: needs no display.
serve: server
	target/debug/fund-server serve --seed-demo

test: deps lint unit e2e

deps:
	@scripts/install-deps.sh

# The counter app with its UI embedded, as the Tauri CLI builds it (plain cargo does not embed it).
app: deps
	$(TAURI) build --debug --no-bundle

# The fund server, and the headless counter that `make run` enrols the demo counter with.
server:
	$(CARGO) build -p fund-server -p counter-core --bins

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Every unit and integration test of the workspace except those that need a window; the
# app's own unit tests (ui/types.d.ts regenerated and compared) need no window either.
# PostgreSQL must answer on 127.0.0.1:5432 (scripts/ensure-postgres.sh sees to it): the
# storage conformance suite runs on both backends, and the fund server's API and ledger
# tests run a second time on PostgreSQL, each test in a throwaway database.
unit:
	@scripts/ensure-postgres.sh
	$(CARGO) test --workspace --exclude tillfund-counter --exclude tillfund-sim
	$(CARGO) test -p tillfund-sim
	TILLFUND_TEST_DATABASE=postgres $(CARGO) test -p fund-server \
	  --test api --test ledger_properties --test operators --test proposals --test redemptions --test store_staff --test wallet_pages --test yield
	$(CARGO) test -p tillfund-counter --lib
	node --test tests/ui/
	scripts/fuzz.sh smoke

# The counter's WebDriver day runs a second time only when the first died with WebKit
# (WebKitGTK under Xvfb has aborted with heap corruption in a step where none of our native
# code runs, and WebKitWebDriver then ends the session: "invalid session id"), saying so;
# any other failure fails at once. The app itself reloads a dead page
# (counter_app_web_process tests that), but the WebDriver session does not survive it.
e2e: app
	timeout --signal=TERM --kill-after=30 $(E2E_TIMEOUT_SECONDS) \
	  xvfb-run -a --server-args="-screen 0 1280x900x24" \
	  $(CARGO) test -p tillfund-e2e --test counter_app_web_process -- --ignored --nocapture
	@set -o pipefail; mkdir -p target; log=target/e2e-counter-app.log; \
	for attempt in 1 2; do \
	  timeout --signal=TERM --kill-after=30 $(E2E_TIMEOUT_SECONDS) \
	    xvfb-run -a --server-args="-screen 0 1280x900x24" \
	    $(CARGO) test -p tillfund-e2e --test counter_app_webdriver -- --ignored --nocapture 2>&1 \
	    | tee $$log && exit 0; \
	  grep -qE 'invalid session id|free\(\)|corrupted|Segmentation fault|web process died' $$log || exit 1; \
	  echo "e2e: WEBKIT DIED IN THE COUNTER'S WEBDRIVER DAY (attempt $$attempt of 2): its output is above"; \
	done; exit 1
	timeout --signal=TERM --kill-after=30 $(E2E_TIMEOUT_SECONDS) \
	  $(CARGO) test -p tillfund-e2e --test wallet_browser --test console_browser --test pay_by_sound_browser \
	  -- --ignored --nocapture

# The simulator (crates/sim, DEVELOPMENT.md "The simulator"): SIM_SEEDS seeds of SIM_STEPS
# steps on two threads, a failing seed's trace in target/sim/; SEED=n runs one seed and
# prints its trace; BUG=name runs a deliberately broken version; POSTGRES=1 puts the server on
# a throwaway PostgreSQL database per seed. `make test` runs 200 seeds (and 20 on PostgreSQL).
SIM_SEEDS ?= 10000
SIM_STEPS ?= 150
sim:
	$(CARGO) build --release -p tillfund-sim
	target/release/tillfund-sim --steps $(SIM_STEPS) $(if $(BUG),--bug $(BUG)) $(if $(POSTGRES),--postgres) \
	  $(if $(SEED),--seed $(SEED),--seeds $(SIM_SEEDS) --first-seed $${SIM_FIRST_SEED:-1})

# Coverage-guided fuzzing of every parser of outside input (DEVELOPMENT.md, "Fuzzing").
FUZZ_SECONDS ?= 60
fuzz:
	scripts/fuzz.sh run $(FUZZ_SECONDS)

# FW-1 on SQLite and on PostgreSQL (there also over 1 and 3 real server processes): ops/s,
# p50/p99 and bytes per operation beside same-run baselines; one day of yield over a million
# wallets on each backend beside a tenth as many; then the memory of 1,000 PIN checks and
# /healthz with the most long polls held, on the real binary; pay by sound's bytes, decoding
# in noise and time to the pay page in Chromium.
bench:
	@scripts/ensure-postgres.sh
	$(CARGO) bench -p fund-server --bench fw1
	TILLFUND_TEST_DATABASE=postgres $(CARGO) bench -p fund-server --bench fw1
	$(CARGO) bench -p fund-server --bench yield_day
	TILLFUND_TEST_DATABASE=postgres $(CARGO) bench -p fund-server --bench yield_day
	$(CARGO) bench -p counter-core --bench counter
	$(CARGO) bench --profile dev -p tillfund-e2e --bench security
	$(CARGO) bench --profile dev -p tillfund-e2e --bench pay_by_sound

# FW-1's storage throughput as the journal grows to 1 and 5 million entries, on both
# backends, then the audit of the whole journal (long: about half an hour).
bench-growth:
	@scripts/ensure-postgres.sh
	FW1_OPERATIONS=10000 FW1_HTTP_OPERATIONS=2000 FW1_GROWTH=0,1000000,5000000 \
	  $(CARGO) bench -p fund-server --bench fw1
	TILLFUND_TEST_DATABASE=postgres FW1_OPERATIONS=10000 FW1_HTTP_OPERATIONS=2000 \
	  FW1_GROWTH=0,1000000,5000000 $(CARGO) bench -p fund-server --bench fw1

# The app's start time and memory beside a bare Tauri window (needs a display: Xvfb here).
bench-app: app
	$(CARGO) build -p tillfund-counter --example bare_window
	$(CARGO) build -p fund-server -p counter-core --bins
	timeout --signal=TERM --kill-after=30 600 xvfb-run -a --server-args="-screen 0 1280x900x24" \
	  $(CARGO) bench --profile dev -p tillfund-e2e --bench app_start

# Regenerates every icon size from the one source.
icons: deps
	$(TAURI) icon icons/icon-source.svg -o icons
	rm -rf icons/android icons/ios

package: deps
	$(TAURI) build --bundles deb
