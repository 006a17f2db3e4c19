#!/usr/bin/env bash
# Makes sure the test PostgreSQL answers on 127.0.0.1:5432 with trust auth for `postgres`:
# as it does on CI (a service) and on the development machines. Started if it is installed
# but stopped; installed from Debian's packages (trust auth on 127.0.0.1 only) if it is not
# there at all. Tests make throwaway databases on it and drop them; they never touch the
# contents of `postgres` or `test`.
set -euo pipefail

answers() {
  pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null || (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
}

wait_until_it_answers() {
  for _ in $(seq 1 60); do
    answers && return 0
    sleep 0.5
  done
  echo "ensure-postgres: PostgreSQL does not answer on 127.0.0.1:5432" >&2
  return 1
}

answers && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo=sudo

if ! command -v pg_ctlcluster >/dev/null; then
  echo "ensure-postgres: installing postgresql"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql
  for hba in /etc/postgresql/*/main/pg_hba.conf; do
    # Tests connect as postgres without a password, from this machine only.
    $sudo sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
  done
fi

echo "ensure-postgres: starting PostgreSQL"
for cluster in /etc/postgresql/*/main; do
  version=$(basename "$(dirname "$cluster")")
  $sudo pg_ctlcluster "$version" main start || true
done
wait_until_it_answers
