#!/usr/bin/env bash
# Starts the machine's PostgreSQL (Debian package, installed by setup.sh) and prints the JDBC
# settings for the registry's PostgreSQL test as shell exports. Prints nothing when PostgreSQL
# cannot be started: that test then skips itself and says why.
set -uo pipefail
command -v pg_lsclusters >/dev/null 2>&1 || exit 0
cluster=$(pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $1" "$2}')
[ -n "$cluster" ] || exit 0
if ! pg_lsclusters -h | awk 'NR==1 {print $4}' | grep -q online; then
  # The server outlives this script: it must not inherit open descriptors beyond stdio (a caller's
  # `flock LOCKFILE ./fedseal test` would otherwise stay locked for as long as PostgreSQL runs).
  (for fd in /proc/self/fd/*; do n="${fd##*/}"; [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-"; done
   exec pg_ctlcluster $cluster start) >/dev/null 2>&1 </dev/null || exit 0
fi
port=$(pg_lsclusters -h | awk 'NR==1 {print $3}')
as_postgres() { if [ "$(id -u)" -eq 0 ]; then su postgres -c "$1"; else sudo -u postgres sh -c "$1"; fi; }
as_postgres "psql -qtAc \"DO \\\$\\\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'fedseal_test') THEN CREATE ROLE fedseal_test LOGIN PASSWORD 'fedseal_test'; END IF; END \\\$\\\$;\"" >/dev/null 2>&1 || exit 0
as_postgres "psql -qtAc \"DROP DATABASE IF EXISTS fedseal_test\"" >/dev/null 2>&1 || exit 0
as_postgres "psql -qtAc \"CREATE DATABASE fedseal_test OWNER fedseal_test\"" >/dev/null 2>&1 || exit 0
echo "export FEDSEAL_TEST_POSTGRES_URL=jdbc:postgresql://127.0.0.1:${port}/fedseal_test"
echo "export FEDSEAL_TEST_POSTGRES_USER=fedseal_test"
echo "export FEDSEAL_TEST_POSTGRES_PASSWORD=fedseal_test"
