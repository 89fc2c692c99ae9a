#!/usr/bin/env bash
# 53-san-spool-rotate.sh -- logrotate while files go through tiergate-spoold: spool.json reopened on SIGHUP, no line lost, the chain continued (issue 14.6).
# tier: e2e
# timeout: 180
#
# A loop drops small text files into the inbox while the real logrotate rotates the event
# file with the package's stanza (debian/tiergate.logrotate, pointed at the test's file,
# systemctl replaced by kill -HUP). Every file dropped has its spool event in OLD or NEW,
# those dropped after the daemon changed over in NEW, and tiergate-audit verify --after
# passes. (spoold's sanitizer.json gets no line per spooled file: it is reopened on the
# same SIGHUP, by the same ev_sink_reopen.)
. "$(dirname "$0")/../lib/harness.sh"
. "$ROOT/tests/lib/rotate.sh"
command -v logrotate >/dev/null || { fail spool-rotate "logrotate not installed"; exit 1; }
sp="$TG_TMP/spool"
mkdir -p "$sp/inbox"
cat >"$TG_TMP/spool.conf" <<CONF
sanitizer = { quarantine = { dir = "$sp/quarantine"; }; events = "$sp/sanitizer.json"; };
spool = { inbox = "$sp/inbox"; outbox = "$sp/outbox"; state_dir = "$sp/state"; workers = 2;
          stable_seconds = 1; events = "$sp/spool.json"; };
CONF
"$BIN/tiergate-spoold" --config "$TG_TMP/spool.conf" >>"$sp/daemon.log" 2>&1 &
pid=$!
on_exit "kill -9 $pid"
wait_for 10 grep -q "watching" "$sp/daemon.log" || { fail "spool-rotate: spoold started" "$(cat "$sp/daemon.log")"; exit 1; }

# the load: a file at a time, renamed in; each name with its phase
: >"$TG_TMP/dropped"
(
	i=0
	while [ ! -e "$TG_TMP/stop" ]; do
		i=$((i + 1)); phase=1; [ -e "$TG_TMP/phase2" ] && phase=2
		printf 'rotation test file %d\n' "$i" >"$sp/inbox/rot-$i.txt.part"
		mv "$sp/inbox/rot-$i.txt.part" "$sp/inbox/rot-$i.txt"
		echo "$phase rot-$i.txt" >>"$TG_TMP/dropped"
		sleep 0.05
	done
) &
loop=$!
on_exit "touch $TG_TMP/stop; kill $loop"
spooled() { [ "$(grep -c '"event":"spool"' "$@" 2>/dev/null | awk -F: '{ n += $NF } END { print n + 0 }')" -ge "$want" ]; }
want=10 wait_for 60 spooled "$sp/spool.json"

rotate_conf /var/log/tiergate/spool.json "$sp/spool.json" "kill -HUP $pid" >"$TG_TMP/lr.conf"
if logrotate -f -s "$TG_TMP/lr.state" "$TG_TMP/lr.conf" >"$TG_TMP/lr.out" 2>&1 && [ -s "$sp/spool.json.1" ]; then
	pass "logrotate -f with the package's spool.json stanza (rename, create, SIGHUP)"
else fail "logrotate -f" "$(cat "$TG_TMP/lr.out"; ls -l "$sp")"; fi
rotate_fd_checks spool-rotate "$sp/spool.json.1" "$sp/spool.json" "$pid"
touch "$TG_TMP/phase2"
n=$(wc -l <"$TG_TMP/dropped")
wait_for 60 sh -c "[ \$(wc -l <'$TG_TMP/dropped') -ge $((n + 10)) ]"
touch "$TG_TMP/stop"
wait "$loop"
total=$(wc -l <"$TG_TMP/dropped") after=$(grep -c '^2 ' "$TG_TMP/dropped")
want=$total wait_for 60 spooled "$sp/spool.json.1" "$sp/spool.json"
kill -0 "$pid" && grep -q "SIGHUP: event files reopened" "$sp/daemon.log" &&
	pass "spoold still running after SIGHUP, said it reopened its files" || fail "spoold after SIGHUP" "$(tail -n 5 "$sp/daemon.log")"

lost="" late=""
while read -r phase name; do
	re="\"event\":\"spool\".*\"name\":\"$name\""
	c=$(rotate_count "$sp/spool.json.1" "$sp/spool.json" "$re")
	[ "$c" = 1 ] || lost="$lost $name:$c"
	[ "$phase" = 2 ] && [ "$(rotate_count "$sp/spool.json" "$re")" != 1 ] && late="$late $name"
done <"$TG_TMP/dropped"
[ -z "$lost" ] && pass "no line lost: each of the $total files has one spool event in OLD or NEW" ||
	fail "no line lost" "$lost"
[ -z "$late" ] && [ "$after" -gt 0 ] && pass "the $after files dropped after the change have their events in the new file" ||
	fail "events after the change in the new file" "$late"
rotate_chain_checks spool.json "$sp/spool.json.1" "$sp/spool.json"
