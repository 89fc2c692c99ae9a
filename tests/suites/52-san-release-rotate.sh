#!/usr/bin/env bash
# 52-san-release-rotate.sh -- logrotate while tiergate-quarantined answers requests: the event file reopened on SIGHUP, no line lost, the chain continued (issue 14.6).
# tier: e2e
# timeout: 120
#
# A loop of refused requests (tiergate-quarantine list as nobody: each a quarantine_denied
# event) runs while the real logrotate rotates the file with the package's stanza for
# sanitizer.json (debian/tiergate.logrotate, pointed at the test's file, systemctl replaced
# by kill -HUP). Every refusal is in OLD or NEW, those after the change in NEW.
. "$(dirname "$0")/../lib/harness.sh"
. "$ROOT/tests/lib/rotate.sh"
need_root
need_reachable_by nobody "$BIN/tiergate-quarantine"
command -v logrotate >/dev/null || { fail release-rotate "logrotate not installed"; exit 1; }
chmod 755 "$TG_TMP"
ev="$TG_TMP/sanitizer.json"
cat >"$TG_TMP/q.conf" <<CONF
sanitizer = { quarantine = { dir = "$TG_TMP/quarantine"; release_socket = "$TG_TMP/run/q.sock";
                             admin_group = "$(id -gn)"; requests_dir = "$TG_TMP/requests"; };
              events = "$ev"; };
CONF
chmod 644 "$TG_TMP/q.conf"
"$BIN/tiergate-quarantined" --config "$TG_TMP/q.conf" 2>"$TG_TMP/qd.log" &
qd=$!
on_exit "kill $qd"
wait_for 10 test -S "$TG_TMP/run/q.sock" || { fail "release-rotate: daemon listening" "$(cat "$TG_TMP/qd.log")"; exit 1; }

# the load: refused requests, each answered (the client exits non-zero and says so)
: >"$TG_TMP/asked"
(
	while [ ! -e "$TG_TMP/stop" ]; do
		phase=1; [ -e "$TG_TMP/phase2" ] && phase=2
		setpriv --reuid=nobody --regid=nogroup --clear-groups env -i PATH=/usr/bin:/bin \
			"$BIN/tiergate-quarantine" --config "$TG_TMP/q.conf" list >"$TG_TMP/o.txt" 2>&1
		grep -q "refused: not a member" "$TG_TMP/o.txt" && echo "$phase" >>"$TG_TMP/asked"
	done
) &
loop=$!
on_exit "touch $TG_TMP/stop; kill $loop"
wait_for 30 sh -c "[ \$(wc -l <'$TG_TMP/asked') -ge 10 ]" || { fail "release-rotate: refusals" "$(cat "$TG_TMP/o.txt")"; exit 1; }

rotate_conf /var/log/tiergate/sanitizer.json "$ev" "kill -HUP $qd" >"$TG_TMP/lr.conf"
if logrotate -f -s "$TG_TMP/lr.state" "$TG_TMP/lr.conf" >"$TG_TMP/lr.out" 2>&1 && [ -s "$ev.1" ]; then
	pass "logrotate -f with the package's sanitizer.json stanza (rename, create, SIGHUP)"
else fail "logrotate -f" "$(cat "$TG_TMP/lr.out"; ls -l "$TG_TMP")"; fi
rotate_fd_checks release-rotate "$ev.1" "$ev" "$qd"
rotate_second_phase "$ev.1" "$ev" '"event":"quarantine_denied","operator_uid":65534' "refusals" "$loop"
kill -0 "$qd" && grep -q "SIGHUP: event file reopened" "$TG_TMP/qd.log" &&
	pass "the daemon still runs after SIGHUP and said it reopened its file" || fail "daemon after SIGHUP" "$(tail -n 3 "$TG_TMP/qd.log")"
rotate_chain_checks sanitizer.json "$ev.1" "$ev"
