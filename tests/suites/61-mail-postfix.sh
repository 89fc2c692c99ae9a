#!/usr/bin/env bash
# 61-mail-postfix.sh -- mail 無害化 end to end: swaks -> Postfix "mx" -> Postfix "sanitizer" + tiergate-milter -> Maildir.
# tier: e2e
# timeout: 300
#
# Two private Postfix instances under $TG_TMP (/etc/postfix and the system instance are
# never touched): "mx" (port P1) relays everything to "sanitizer" (port P2), whose smtpd
# calls tiergate-milter and delivers to a test user's ~/Maildir. With the milter down
# the sanitizer answers 451, so the mail waits in mx's queue, as it would at a real MX.
. "$(dirname "$0")/../lib/harness.sh"
need_root
for tool in postfix swaks qpdf pdffonts python3; do
	command -v "$tool" >/dev/null || { fail "mail-postfix" "$tool not installed (make deps)"; exit 1; }
done

chmod 755 "$TG_TMP"
port_free() { ! ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }
for _ in $(seq 20); do   # three free loopback ports in a row (other suites run too)
	p1=$((20000 + RANDOM % 20000)); p2=$((p1 + 1)); mport=$((p1 + 2))
	port_free "$p1" && port_free "$p2" && port_free "$mport" && break
done
user="tgmail$$"
home="$TG_TMP/home"
maildir="$home/Maildir"
mx="$TG_TMP/mx" san="$TG_TMP/san"
events="$TG_TMP/mail-events.json"

useradd -M -d "$home" -s /usr/sbin/nologin "$user" || { fail "mail-postfix" "useradd failed"; exit 1; }
on_exit "userdel $user"
mkdir -p "$home" && chown "$user" "$home"

# sendmail into the sanitizer instance, for `tiergate-quarantine release`
cat >"$TG_TMP/sendmail" <<SH
#!/bin/sh
exec /usr/sbin/sendmail -C "$san/etc" "\$@"
SH
chmod 755 "$TG_TMP/sendmail"
cat >"$TG_TMP/site.conf" <<CONF
sanitizer = { quarantine = { dir = "$TG_TMP/quarantine"; sendmail = "$TG_TMP/sendmail";
                             release_socket = "$TG_TMP/q.sock"; admin_group = "$(id -gn)";
                             requests_dir = "$TG_TMP/requests"; }; };
milter = {
  listen = "inet:$mport@127.0.0.1";
  spool_dir = "$TG_TMP/spool";
  events = "$events";
  spill_kb = 4;              # small, so the PDF mail goes through the temp-file path
};
CONF

milter_bin="$BIN/tiergate-milter"
test_bin="$TIERGATE_BUILD/t/tiergate-milter-test"   # the same milter, its parser obeys X-Tiergate-Test-Hook
start_milter() {   # start_milter [CONF]
	"$milter_bin" --config "${1:-$TG_TMP/site.conf}" >>"$TG_TMP/milter.log" 2>&1 &
	milter_pid=$!
	wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$mport"
}
check "milter-config-check" "$BIN/tiergate-milter" --config "$TG_TMP/site.conf" --check
# the parser's uids must belong to nobody: an account's uid there is refused, with file and line
sed "s|^milter = {|milter = { parser_uid_base = $(id -u "$user");|" "$TG_TMP/site.conf" >"$TG_TMP/uid.conf"
if ! "$BIN/tiergate-milter" --config "$TG_TMP/uid.conf" --check >"$TG_TMP/uid.out" 2>&1 &&
    grep -q "uid.conf:[0-9]*: error: milter.parser_uid_base: uid $(id -u "$user") belongs to $user" "$TG_TMP/uid.out"; then
	pass "milter-config-parser-uid-taken-refused"
else
	fail "milter-config-parser-uid-taken-refused" "$(head -n 2 "$TG_TMP/uid.out")"
fi
# ... nor the file workers': worker.user is the built-in tiergate-worker here, uid 60999 when the
# system has no such user (it was 61000 before: the file workers shared a uid with parser slot 0)
wuid=$(getent passwd tiergate-worker | cut -d: -f3)
wuid=${wuid:-60999}
sed "s|^milter = {|milter = { parser_uid_base = $wuid;|" "$TG_TMP/site.conf" >"$TG_TMP/wuid.conf"
if ! "$BIN/tiergate-milter" --config "$TG_TMP/wuid.conf" --check >"$TG_TMP/wuid.out" 2>&1 &&
    grep -q "wuid.conf:[0-9]*: error: milter.parser_uid_base: uid $wuid is the file worker's (tiergate-worker)" "$TG_TMP/wuid.out"; then
	pass "milter-config-parser-uid-worker-refused (uid $wuid; the default parser uids start at 61000)"
else
	fail "milter-config-parser-uid-worker-refused" "$(head -n 2 "$TG_TMP/wuid.out")"
fi
start_milter || { fail "mail-postfix" "tiergate-milter did not listen"; cat "$TG_TMP/milter.log"; exit 1; }
on_exit 'kill $milter_pid; wait $milter_pid'

pf() { "$ROOT/tests/mail/postfix-instance.sh" "$@" >>"$TG_TMP/postfix.log" 2>&1; }
pf "$san" san "$p2" "mydestination = tiergate.test" "smtpd_milters = inet:127.0.0.1:$mport" \
	"milter_default_action = tempfail" "milter_protocol = 6" \
	"milter_mail_macros = i {mail_addr} {daemon_name}" || { fail "mail-postfix" "sanitizer Postfix did not start"; tail -n 20 "$TG_TMP/postfix.log" "$san/maillog"; exit 1; }
on_exit "postfix -c $san/etc stop"
pf "$mx" mx "$p1" "mydestination =" "relay_domains = tiergate.test" \
	"relayhost = [127.0.0.1]:$p2" "smtp_connect_timeout = 5s" "minimal_backoff_time = 300s" ||
	{ fail "mail-postfix" "mx Postfix did not start"; cat "$TG_TMP/postfix.log"; exit 1; }
on_exit "postfix -c $mx/etc stop"

send() {   # send FILE: swaks into the mx instance
	swaks --silent 2 --server 127.0.0.1 --port "$p1" --from sender@example.co.jp \
		--to "$user@tiergate.test" --data @"$1" >>"$TG_TMP/swaks.log" 2>&1
}
delivered() {   # delivered MESSAGE-ID-PART: the Maildir file holding it
	grep -l -F "$1" "$maildir"/new/* 2>/dev/null | head -n 1
}
is_delivered() { [ -n "$(delivered "$1")" ]; }
more_than() { [ "$(ls "$maildir/new" | wc -l)" -gt "$1" ]; }
report_of() {   # report_of MESSAGE-ID-PART: the milter's JSON event for it
	grep -F "$1" "$events" | grep -F '"verdict"' | tail -n 1
}

# --- corpus mails through the real path, judged like the offline suite -------------
for name in 02_outlook_quoted_2047_pdf 04_thunderbird_2231_split_iso2022jp 05_becky_sjis_cp932 \
    06_webmail_html_only 24_smime_signed 34_long_japanese_filename 37_utf7_alias_labels; do
	send "$ROOT/tests/mail/$name.eml" || { fail "postfix-$name" "swaks failed"; continue; }
done
for name in 02_outlook_quoted_2047_pdf 04_thunderbird_2231_split_iso2022jp 05_becky_sjis_cp932 \
    06_webmail_html_only 24_smime_signed 34_long_japanese_filename 37_utf7_alias_labels; do
	id="<${name//_/-}@"
	if ! wait_for 60 is_delivered "$id"; then
		fail "postfix-$name" "not delivered"
		tail -n 5 "$san/maillog" | sed 's/^/  | /'
		continue
	fi
	file=$(delivered "$id")
	report_of "$id" >"$TG_TMP/$name.json"
	if why=$(python3 "$ROOT/tests/mail/check.py" --delivered "$ROOT/tests/mail/$name.eml" "$file" \
	    "$TG_TMP/$name.json" "$ROOT/tests/mail/$name.expect"); then
		pass "postfix-$name"
	else
		fail "postfix-$name" "$(printf '%s' "$why" | head -n 1)"
	fi
done

# --- the delivered PDF is flattened: valid, no fonts ---------------------------------
file=$(delivered "<02-outlook-quoted-2047-pdf@")
python3 - "$file" "$TG_TMP/delivered.pdf" <<'PY'
import email, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read())
for p in m.walk():
    if p.get_content_type() == "application/pdf":
        open(sys.argv[2], "wb").write(p.get_payload(decode=True))
PY
check "postfix-pdf-qpdf-check" qpdf --check "$TG_TMP/delivered.pdf"
# (pdffonts must have read the file: a failure lists no fonts either)
if [ -s "$TG_TMP/delivered.pdf" ] && fonts=$(pdffonts "$TG_TMP/delivered.pdf" 2>&1) &&
	[ "$(printf '%s\n' "$fonts" | head -n 1 | awk '{ print $1 }')" = name ] &&
	[ "$(printf '%s\n' "$fonts" | tail -n +3 | wc -l)" -eq 0 ]; then
	pass "postfix-pdf-no-fonts"
else
	fail "postfix-pdf-no-fonts" "pdffonts failed or lists fonts: $(printf '%s' "${fonts:-}" | head -n 3 | tr '\n' ' ')"
fi
check_grep "postfix-event-per-message" '"event":"mail".*"sender":"sender@example.co.jp".*"quarantine_id":"[0-9a-f]{64}"' "$events"

# --- milter killed: mail held in the queue, never delivered raw; sanitized after restart
kill -9 "$milter_pid"
wait "$milter_pid" 2>/dev/null
send "$ROOT/tests/mail/25_exe_attachment.eml"
# Held means: still in mx's queue AND mx was told 451 (the queue entry shows up
# before the first delivery attempt is logged, so wait for both together).
held() { postqueue -c "$mx/etc" -p | grep -q "$user@tiergate.test" && grep -q "451" "$mx/maillog"; }
if wait_for 30 held; then
	pass "postfix-milter-down-mail-held"
else
	fail "postfix-milter-down-mail-held" "not in mx's queue with a 451 in its log (postqueue -p)"
	postqueue -c "$mx/etc" -p | sed 's/^/  | /'
fi
sleep 1
# (not delivered because it is still held at mx, told 451: not because nothing was sent)
held && [ -d "$maildir/new" ] && [ -z "$(delivered "<25-exe-attachment@")" ] && pass "postfix-milter-down-nothing-raw" ||
	fail "postfix-milter-down-nothing-raw" "delivered while the milter was down, or not held at mx"
start_milter || fail "postfix-milter-restart" "did not listen again"
postqueue -c "$mx/etc" -f
if wait_for 60 is_delivered "<25-exe-attachment@"; then
	file=$(delivered "<25-exe-attachment@")
	if grep -q '^X-Tiergate-Sanitized: ' "$file" && ! grep -q 'filename="tool.exe"' "$file"; then
		pass "postfix-delivered-sanitized-after-restart"
	else
		fail "postfix-delivered-sanitized-after-restart" "delivered but not sanitized"
	fi
else
	fail "postfix-delivered-sanitized-after-restart" "not delivered after restart + postqueue -f"
	tail -n 8 "$TG_TMP/milter.log" "$mx/maillog" "$san/maillog" | sed 's/^/  | /'
fi

# --- release: the original comes back to its recipient, as sent -------------------
qid=$(report_of "<25-exe-attachment@" | sed -n 's/.*"quarantine_id":"\([0-9a-f]\{64\}\)".*/\1/p')
before=$(ls "$maildir/new" | wc -l)
"$BIN/tiergate-quarantined" --config "$TG_TMP/site.conf" >>"$TG_TMP/release.log" 2>&1 &
qd_pid=$!
on_exit "kill $qd_pid"
wait_for 10 test -S "$TG_TMP/q.sock"
if [ -n "$qid" ] && "$BIN/tiergate-quarantine" --config "$TG_TMP/site.conf" release "$qid" >>"$TG_TMP/release.log" 2>&1 &&
    wait_for 30 more_than "$before"; then
	newest=$(ls -t "$maildir"/new/* | head -n 1)
	if grep -q 'filename="tool.exe"' "$newest" && ! grep -q '^X-Tiergate-Sanitized' "$newest"; then
		pass "postfix-quarantine-release"
	else
		fail "postfix-quarantine-release" "the released mail is not the original"
	fi
else
	fail "postfix-quarantine-release" "release of '$qid' did not arrive"
	tail -n 5 "$TG_TMP/release.log" "$san/maillog" | sed 's/^/  | /'
fi

# --- the test hooks exist only in the test build -------------------------------------
if nm "$BIN/tiergate-milter" >"$TG_TMP/nm-prod" && nm "$test_bin" >"$TG_TMP/nm-test" &&
    grep -q ' T milter_test_hook_enter' "$TG_TMP/nm-test" && ! grep -q 'milter_test_hook' "$TG_TMP/nm-prod" &&
    ! grep -aq 'X-Tiergate-Test-Hook' "$BIN/tiergate-milter"; then
	pass "postfix-test-hooks-only-in-test-build"
else
	fail "postfix-test-hooks-only-in-test-build" "nm failed, or the production milter holds the test hooks"
fi

restart_with() {   # restart_with "milter members": the test build, the test config with other selection/limits
	kill "$milter_pid" 2>/dev/null
	wait "$milter_pid" 2>/dev/null
	sed "s|^milter = {|milter = { $1|" "$TG_TMP/site.conf" >"$TG_TMP/site2.conf"
	milter_bin="$test_bin" start_milter "$TG_TMP/site2.conf"
}
hook_mail() {   # hook_mail HOOK MSGID FILE: a text mail whose parser does HOOK (test build)
	python3 - "$ROOT/tests/mail/make-corpus.py" "$1" "$2" "$3" <<'PY'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("corpus", sys.argv[1]); c = importlib.util.module_from_spec(spec); spec.loader.exec_module(c)
msg = c.head("hook", extra="X-Tiergate-Test-Hook: %s\n" % sys.argv[2]).replace("%MSGID%", sys.argv[3]) + \
    c.mixed([c.text_part("hook body"), c.att(b"plain words\n", "text/plain", "; filename=\"a.txt\"")])
open(sys.argv[4], "wb").write(msg.encode("latin-1"))
PY
}
tempfails() { [ "$(grep -c '"verdict":"tempfail"' "$events")" -ge "$1" ]; }
n_tempfail() { grep -c '"verdict":"tempfail"' "$events"; }

# --- a rebuild that runs past timeout_seconds: tempfail, the mail waits at mx -------
# (the parser hangs on request: the timeout is certain, whatever the machine's speed)
hook_mail hang slow-pdf "$TG_TMP/slow.eml"
restart_with 'timeout_seconds = 1;' || fail "postfix-timeout" "milter did not restart"
before=$(n_tempfail)
send "$TG_TMP/slow.eml"
timed_out() { tempfails $((before + 1)) && grep -q 'slow-pdf' "$mx/maillog" &&
	grep -q '451 4.3.0' "$mx/maillog" && grep -q 'timed out after 1 s' "$TG_TMP/milter.log"; }
if wait_for 30 timed_out && ! is_delivered "<slow-pdf@"; then
	pass "postfix-timeout-tempfail-held"
else
	fail "postfix-timeout-tempfail-held" "no 451 tempfail for a rebuild past the timeout"
	tail -n 4 "$TG_TMP/milter.log" "$mx/maillog" | sed 's/^/  | /'
fi
# the same message failing three times is never sanitizable: quarantined, the notice delivered
for n in 2 3; do
	postqueue -c "$mx/etc" -f
	wait_for 30 tempfails $((before + n)) || break
done
postqueue -c "$mx/etc" -f
if wait_for 30 is_delivered "<slow-pdf@" &&
    grep -q '^X-Tiergate-Sanitized: quarantined' "$(delivered "<slow-pdf@")"; then
	pass "postfix-repeated-failure-quarantined-notice"
else
	fail "postfix-repeated-failure-quarantined-notice" "no notice-only delivery after 3 failed rebuilds"
	tail -n 4 "$TG_TMP/milter.log" | sed 's/^/  | /'
	postsuper -c "$mx/etc" -d ALL >/dev/null 2>&1
fi

# --- the parser: its own uid, seccomp on; a worker that crashes mid-message: tempfail ---
restart_with 'timeout_seconds = 120;' || fail "postfix-worker-crash" "milter did not restart"
hook_mail hang hang-crash "$TG_TMP/hang.eml"
before=$(n_tempfail)
send "$TG_TMP/hang.eml"
worker_pid() {   # a per-message worker: a child of the milter's zygote (not its converter service, tg-office)
	local z p
	z=$(pgrep -P "$milter_pid" | head -n 1)
	[ -n "$z" ] && for p in $(pgrep -P "$z"); do [ "$(cat "/proc/$p/comm" 2>/dev/null)" != tg-office ] && echo "$p"; done | head -n 1
}
parser_of() { pgrep -P "$1" | head -n 1; }   # the worker's sandboxed parser
w="" p=""
for _ in $(seq 100); do
	w=$(worker_pid)
	[ -n "$w" ] && p=$(parser_of "$w") && [ -n "$p" ] && break
	sleep 0.1
done
if [ -n "$p" ] && st=$(cat "/proc/$p/status") && mst=$(cat "/proc/$milter_pid/status"); then
	puid=$(printf '%s\n' "$st" | awk '/^Uid:/ { print $2, $3, $4, $5 }')
	muid=$(printf '%s\n' "$mst" | awk '/^Uid:/ { print $2 }')
	wuid=$(awk '/^Uid:/ { print $2 }' "/proc/$w/status")
	if [ "$puid" = "61000 61000 61000 61000" ] && [ "$muid" != 61000 ] && [ "$wuid" != 61000 ] &&
	    printf '%s\n' "$st" | grep -q '^Seccomp:[[:space:]]*2$' &&
	    printf '%s\n' "$st" | grep -q '^NoNewPrivs:[[:space:]]*1$'; then
		pass "postfix-parser-own-uid-seccomp"
	else
		fail "postfix-parser-own-uid-seccomp" "parser uid '$puid' (daemon $muid, worker $wuid) or no seccomp filter"
	fi
else
	fail "postfix-parser-own-uid-seccomp" "no parser process found under the zygote (worker '$w')"
fi
crashed=0
[ -n "$w" ] && kill -SEGV "$w" && crashed=1
if [ "$crashed" = 1 ] && wait_for 30 tempfails $((before + 1)) && ! is_delivered "<hang-crash@"; then
	pass "postfix-worker-crash-tempfail"
else
	fail "postfix-worker-crash-tempfail" "no tempfail after a worker crash (crashed=$crashed)"
	tail -n 12 "$TG_TMP/milter.log" | sed 's/^/  | /'
fi

# --- as the package's unit starts it: its user (a test user stands in for tiergate) with
# exactly the unit's capabilities, read from conf/tiergate-milter.service. The parser must
# still get its own uid and no capability; with the old unit (no capabilities) it kept the
# daemon's uid.
unit="$ROOT/conf/tiergate-milter.service"
unit_val() { sed -n "s/^$1=//p" "$unit" | tail -n 1; }
caps_arg() { local out="" c; for c in $1; do c=${c#CAP_}; out="$out,+${c,,}"; done; echo "${out#,}"; }
daemon_user="tgmd$$"
if [ "$(unit_val User)" = tiergate ] && useradd -M -s /usr/sbin/nologin "$daemon_user"; then
	on_exit "userdel $daemon_user"
	ambient=$(caps_arg "$(unit_val AmbientCapabilities)")
	bounding=$(caps_arg "$(unit_val CapabilityBoundingSet)")
	unit_args=(--reuid="$daemon_user" --regid="$daemon_user" --init-groups --bounding-set="-all${bounding:+,$bounding}")
	[ -n "$ambient" ] && unit_args+=(--inh-caps="$ambient" --ambient-caps="$ambient")
	[ "$(unit_val NoNewPrivileges)" = yes ] && unit_args+=(--no-new-privs)
	mkdir -p "$TG_TMP/unit-spool" "$TG_TMP/unit-q"
	: >"$TG_TMP/unit-events.json"
	chown "$daemon_user:" "$TG_TMP/unit-spool" "$TG_TMP/unit-q" "$TG_TMP/unit-events.json"
	sed -e "s|^milter = {|milter = { timeout_seconds = 120;|" -e "s|$TG_TMP/quarantine\"|$TG_TMP/unit-q\"|" \
		-e "s|$TG_TMP/spool\"|$TG_TMP/unit-spool\"|" -e "s|$events\"|$TG_TMP/unit-events.json\"|" \
		"$TG_TMP/site.conf" >"$TG_TMP/unit.conf"
	kill "$milter_pid" 2>/dev/null
	wait "$milter_pid" 2>/dev/null
	setpriv "${unit_args[@]}" "$test_bin" --config "$TG_TMP/unit.conf" >>"$TG_TMP/milter.log" 2>&1 &
	milter_pid=$!
	wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$mport" || fail "postfix-unit-parser-own-uid" "milter did not listen"
	hook_mail hang hang-unit "$TG_TMP/hang-unit.eml"
	send "$TG_TMP/hang-unit.eml"
	w="" p=""
	for _ in $(seq 100); do
		w=$(worker_pid)
		[ -n "$w" ] && p=$(parser_of "$w") && [ -n "$p" ] && break
		sleep 0.1
	done
	if [ -n "$p" ] && st=$(cat "/proc/$p/status") && mst=$(cat "/proc/$milter_pid/status") &&
	    wst=$(cat "/proc/$w/status"); then
		puid=$(printf '%s\n' "$st" | awk '/^Uid:/ { print $2, $3, $4, $5 }')
		pcap=$(printf '%s\n' "$st" | awk '/^Cap(Prm|Eff|Amb):/ { printf "%s ", $2 }')
		mcap=$(printf '%s\n' "$mst" | awk '/^Cap(Prm|Eff|Amb):/ { printf "%s ", $2 }')
		wcap=$(printf '%s\n' "$wst" | awk '/^CapEff:/ { print $2 }')
		muid=$(printf '%s\n' "$mst" | awk '/^Uid:/ { print $2 }')
		if [ "$muid" = "$(id -u "$daemon_user")" ] && [ "$puid" = "61000 61000 61000 61000" ] &&
		    [ "$pcap" = "0000000000000000 0000000000000000 0000000000000000 " ] &&
		    [ "$mcap" = "0000000000000000 0000000000000000 0000000000000000 " ] && [ "$wcap" = 00000000000000c0 ] &&
		    printf '%s\n' "$st" | grep -q '^Seccomp:[[:space:]]*2$'; then
			pass "postfix-unit-parser-own-uid (daemon $daemon_user with the unit's capabilities: parser uid 61000, no capability; daemon none left; message process CAP_SETUID+CAP_SETGID only)"
		else
			fail "postfix-unit-parser-own-uid" "daemon uid $muid caps '$mcap', parser uid '$puid' caps '$pcap', message process CapEff $wcap (setpriv ${unit_args[*]})"
		fi
	else
		fail "postfix-unit-parser-own-uid" "no parser process found under the zygote (worker '$w')"
		tail -n 6 "$TG_TMP/milter.log" | sed 's/^/  | /'
	fi
	[ -n "$w" ] && kill -SEGV "$w"
	restart_with 'timeout_seconds = 120;' || fail "postfix-unit-parser-own-uid" "the root-started milter did not come back"
else
	fail "postfix-unit-parser-own-uid" "the unit's User= is not tiergate, or useradd failed"
fi

# --- the parser opens a file, a socket: the filter kills it, the mail is tempfailed ---
for hook in open-file socket; do
	hook_mail "$hook" "hook-$hook" "$TG_TMP/$hook.eml"
	before=$(n_tempfail)
	kills=$(grep -c 'mail parser was killed by signal 31' "$TG_TMP/milter.log")
	send "$TG_TMP/$hook.eml"
	killed() { tempfails $((before + 1)) &&
		[ "$(grep -c 'mail parser was killed by signal 31' "$TG_TMP/milter.log")" -gt "$kills" ]; }
	if wait_for 30 killed && sleep 1 && ! is_delivered "<hook-$hook@" &&
	    postqueue -c "$mx/etc" -p | grep -q "$user@tiergate.test"; then
		pass "postfix-parser-$hook-killed-tempfail"
	else
		fail "postfix-parser-$hook-killed-tempfail" "no SIGSYS kill + tempfail, or the mail went through"
		tail -n 6 "$TG_TMP/milter.log" | sed 's/^/  | /'
	fi
done

# --- a forged rebuild: the daemon's check refuses it with a reason, nothing delivered --
for forge in html:'Content-Type text/html is not one the rebuild emits' \
    long-header:'a line of 1199 bytes' boundary:'closing boundary'; do
	hook="forge-${forge%%:*}" why="${forge#*:}"
	hook_mail "$hook" "hook-$hook" "$TG_TMP/$hook.eml"
	before=$(n_tempfail)
	send "$TG_TMP/$hook.eml"
	refused() { tempfails $((before + 1)) && grep '"verdict":"tempfail"' "$events" | tail -n 1 |
		grep -qF "$why"; }
	if wait_for 30 refused && sleep 1 && ! is_delivered "<hook-$hook@"; then
		pass "postfix-$hook-refused"
	else
		fail "postfix-$hook-refused" "no tempfail with reason '$why', or the forged mail was delivered"
		grep '"verdict":"tempfail"' "$events" | tail -n 1 | sed 's/^/  | /'
	fi
done
postsuper -c "$mx/etc" -d ALL >/dev/null 2>&1

# --- selection: only some recipients' domains, or only one Postfix listener ---------
restart_with 'sanitize_all = false; recipient_domains = [ "elsewhere.test" ];' ||
	fail "postfix-selection" "milter did not restart"
send "$ROOT/tests/mail/32_forged_stamp_removed.eml"
if wait_for 30 is_delivered "<32-forged-stamp-removed@" &&
    grep -q '^X-Tiergate-Sanitized: sanitized; forged=yes' "$(delivered "<32-forged-stamp-removed@")"; then
	pass "postfix-not-selected-passes-unchanged"
else
	fail "postfix-not-selected-passes-unchanged" "mail for an unselected domain was changed or lost"
fi
restart_with 'sanitize_all = false; daemon_names = [ "san.tiergate.test" ];' ||
	fail "postfix-selection" "milter did not restart"
send "$ROOT/tests/mail/01_outlook_iso2022jp_plain.eml"
if wait_for 30 is_delivered "<01-outlook-iso2022jp-plain@" &&
    grep -q '^X-Tiergate-Sanitized: sanitized' "$(delivered "<01-outlook-iso2022jp-plain@")"; then
	pass "postfix-selected-by-listener"
else
	fail "postfix-selected-by-listener" "mail on the selected listener was not sanitized"
fi
