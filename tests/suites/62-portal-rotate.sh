#!/usr/bin/env bash
# 62-portal-rotate.sh -- logrotate while the release portal answers: portal.json reopened on SIGHUP by the portal's own (unprivileged) user, no line lost, the chain continued (issue 14.6).
# tier: e2e
# timeout: 120
#
# The portal binds as root and runs as nobody. A loop of login POSTs with a wrong CSRF
# token (each a portal_login event, answered 403) runs while the real logrotate rotates
# the file with the package's portal.json stanza (debian/tiergate.logrotate, pointed at the
# test's file, created for the portal's user as the package does, systemctl replaced by
# kill -HUP). Every refusal is in OLD or NEW, those after the change in NEW.
. "$(dirname "$0")/../lib/harness.sh"
. "$ROOT/tests/lib/rotate.sh"
need_root
for tool in curl openssl logrotate; do
	command -v $tool >/dev/null || { fail portal-rotate "$tool not installed"; exit 1; }
done
chmod 755 "$TG_TMP"
port_free() { ! ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }
for _ in $(seq 20); do pport=$((20000 + RANDOM % 20000)); port_free "$pport" && break; done
pev="$TG_TMP/portal.json"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$TG_TMP/portal.key" -out "$TG_TMP/portal.crt" 2>/dev/null
cat >"$TG_TMP/site.conf" <<CONF
sanitizer = { quarantine = { dir = "$TG_TMP/quarantine"; release_socket = "$TG_TMP/run/q.sock"; }; };
portal = { listen = "127.0.0.1:$pport"; cert = "$TG_TMP/portal.crt"; key = "$TG_TMP/portal.key";
           socket = "$TG_TMP/run/q.sock"; user = "nobody"; events = "$pev"; posts_per_minute = 10000; };
CONF
"$BIN/tiergate-portal" --config "$TG_TMP/site.conf" 2>"$TG_TMP/portal.log" &
portal=$!
on_exit "kill $portal"
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$pport" || { fail "portal-rotate: portal listening" "$(cat "$TG_TMP/portal.log")"; exit 1; }

: >"$TG_TMP/asked"
(
	while [ ! -e "$TG_TMP/stop" ]; do
		phase=1; [ -e "$TG_TMP/phase2" ] && phase=2
		code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$TG_TMP/portal.crt" \
			-d 'user=rot&password=x&otp=123456&csrf=0000' "https://127.0.0.1:$pport/login" 2>/dev/null)
		[ "$code" = 403 ] && echo "$phase" >>"$TG_TMP/asked"
	done
) &
loop=$!
on_exit "touch $TG_TMP/stop; kill $loop"
wait_for 30 sh -c "[ \$(wc -l <'$TG_TMP/asked') -ge 10 ]" || { fail "portal-rotate: refused logins" "$(tail -n 3 "$TG_TMP/portal.log")"; exit 1; }

rotate_conf /var/log/tiergate/portal.json "$pev" "kill -HUP $portal" "nobody $(id -gn)" >"$TG_TMP/lr.conf"
if logrotate -f -s "$TG_TMP/lr.state" "$TG_TMP/lr.conf" >"$TG_TMP/lr.out" 2>&1 && [ -s "$pev.1" ] &&
	[ "$(stat -c %U "$pev")" = nobody ]; then
	pass "logrotate -f with the package's portal.json stanza (rename, create for the portal's user, SIGHUP)"
else fail "logrotate -f" "$(cat "$TG_TMP/lr.out"; ls -l "$TG_TMP")"; fi
rotate_fd_checks portal-rotate "$pev.1" "$pev" "$portal"
rotate_second_phase "$pev.1" "$pev" '"event":"portal_login","user":"rot".*"ok":false' "refused logins" "$loop"
kill -0 "$portal" && grep -q "SIGHUP: event file reopened" "$TG_TMP/portal.log" &&
	pass "the portal still runs after SIGHUP and said it reopened its file" || fail "portal after SIGHUP" "$(tail -n 3 "$TG_TMP/portal.log")"
rotate_chain_checks portal.json "$pev.1" "$pev"
