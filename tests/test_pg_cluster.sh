#!/bin/sh
# test_pg_cluster.sh -- scripts/pg-cluster (issue 14): a cluster that
# listens only on its socket, with fsync on, run by a non-root user; a
# synchronous hot standby that has what the primary committed; stop
# removes only a folder the script made. Run by meson test pg_cluster.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
pgc="$root/scripts/pg-cluster"
PSQL=${PGBIN:-/usr/lib/postgresql/15/bin}/psql
p=$(mktemp -d /tmp/vaern-pg.XXXXXX)
s=$(mktemp -d /tmp/vaern-pg.XXXXXX)
other=$(mktemp -d /tmp/vaern-pg.XXXXXX)
cleanup() {
	"$pgc" stop "$s" >/dev/null 2>&1 || rm -rf "$s"
	"$pgc" stop "$p" >/dev/null 2>&1 || rm -rf "$p"
	rm -rf "$other"
}
trap cleanup EXIT
passed=0
failed=0
check() {
	if [ "$2" = "$3" ]; then
		passed=$((passed + 1))
	else
		echo "FAIL $1: got '$2', want '$3'" >&2
		failed=$((failed + 1))
	fi
}
q() {
	"$PSQL" -X -At -v ON_ERROR_STOP=1 "$@"
}

pci=$("$pgc" start "$p")
check "connection string" "$pci" "postgresql:///vaern?host=$p&user=vaern"
check "no TCP" "$(q "$pci" -c 'SHOW listen_addresses')" ""
check "fsync on" "$(q "$pci" -c 'SHOW fsync')" "on"
check "server user not root" \
	"$(stat -c %U "$p/data/PG_VERSION" | grep -vx root | wc -l)" "1"

sci=$("$pgc" standby "$p" "$s")
check "standby connection" "$sci" "postgresql:///vaern?host=$s&user=vaern"
check "standby is synchronous" "$(q "$pci" -c "SELECT sync_state FROM
	pg_stat_replication WHERE application_name = 'vaern_standby'")" "sync"
q "$pci" -c 'CREATE TABLE t(x BIGINT)' -c 'INSERT INTO t VALUES (42)' \
	>/dev/null
# A commit waits for the standby's flush; its replay follows at once.
got=""
for _ in 1 2 3 4 5 6 7 8 9 10; do
	got=$(q "$sci" -c 'SELECT x FROM t' 2>/dev/null || :)
	[ "$got" = 42 ] && break
	sleep 0.5
done
check "standby has the commit" "$got" "42"
check "standby is read-only" "$(q "$sci" -c 'SELECT pg_is_in_recovery()')" "t"

# Refusals: a folder not made by the script is never removed; a start
# in a folder with files refuses.
touch "$other/keep"
check "stop refuses a foreign folder" \
	"$("$pgc" stop "$other" >/dev/null 2>&1 && echo removed || echo kept)" \
	"kept"
check "foreign folder intact" "$(ls "$other")" "keep"
check "start refuses a non-empty folder" \
	"$("$pgc" start "$other" >/dev/null 2>&1 && echo started || echo refused)" \
	"refused"

"$pgc" stop "$s"
"$pgc" stop "$p"
check "stop removes the folder" "$([ -e "$p" ] && echo left || echo gone)" \
	"gone"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
