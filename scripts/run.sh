#!/usr/bin/env bash
# `make run`: the fund server on its embedded SQLite file with the demo store, and the
# counter app connected to it. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

check_display() {
  if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
    cat >&2 <<'TXT'
make run: there is no display (DISPLAY and WAYLAND_DISPLAY are unset), so the counter
window cannot open. Run it from a desktop session, or on a headless machine under a
virtual display:

    xvfb-run -a make run

The fund server alone runs without a display: make serve
TXT
    exit 2
  fi
}

if [ "${1:-}" = "--check-display" ]; then
  check_display
  exit 0
fi
check_display

data_dir=${TILLFUND_DATA_DIR:-data}
listen=${TILLFUND_LISTEN:-127.0.0.1:8700}
target=${CARGO_TARGET_DIR:-target}

server_pid=""
app_pid=""
stop_all() {
  trap - INT TERM EXIT
  for pid in $app_pid $server_pid; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap stop_all INT TERM EXIT

"$target/debug/fund-server" --data-dir "$data_dir" serve --listen "$listen" --seed-demo &
server_pid=$!

for _ in $(seq 1 150); do
  curl -fsS "http://$listen/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { echo "make run: the fund server did not start" >&2; exit 1; }
  sleep 0.2
done
# The demo counter enrols once with an activation code, as a real one would; its local
# database lives beside the server's.
counter_db="$data_dir/counter.sqlite"
if ! "$target/debug/counter-cli" --db "$counter_db" sync >/dev/null 2>&1; then
  code=$("$target/debug/fund-server" --data-dir "$data_dir" terminal activation-code \
    --merchant 0192f000-0000-7000-8000-00000000d001 | awk '{print $3}')
  "$target/debug/counter-cli" --db "$counter_db" enrol --server "http://$listen" --code "$code" --label "Demo counter"
fi
# The demo staff (README): manager Mia, PIN 1234; cashier Ben, PIN 0000. The first member
# can be added only while the counter has no staff, so later runs keep what the manager did.
if "$target/debug/counter-cli" --db "$counter_db" add-staff --name Mia --role manager --pin 1234 >/dev/null 2>&1; then
  "$target/debug/counter-cli" --db "$counter_db" add-staff --name Ben --role cashier --pin 0000 \
    --manager Mia --manager-pin 1234
fi
echo "make run: fund server at http://$listen (wallet page: http://$listen/); starting the counter app"

TILLFUND_SERVER_URL="http://$listen" TILLFUND_COUNTER_DB="$counter_db" "$target/debug/tillfund-counter" &
app_pid=$!

# When either stops (window closed, server failed, Ctrl-C), stop the other.
wait -n "$server_pid" "$app_pid" || true
