#!/usr/bin/env bash
# 61-mail-rotate.sh -- logrotate while mail goes through Postfix and tiergate-milter: the milter follows mail.json to the new file itself (libmilter stops on SIGHUP), no line lost, the chain continued (issue 14.6).
# tier: e2e
# timeout: 240
#
# swaks -> a private Postfix instance whose smtpd calls tiergate-milter (delivery discarded).
# A loop sends mail, each from its own sender, while the real logrotate rotates mail.json
# with the package's stanza (debian/tiergate.logrotate, pointed at the test's file: rename
# and create, no signal). Every message accepted has its mail event in OLD or NEW, those
# sent after the change in NEW; the milter and its zygote let go of the old file.
. "$(dirname "$0")/../lib/harness.sh"
. "$ROOT/tests/lib/rotate.sh"
need_root
for tool in postfix swaks logrotate; do
	command -v $tool >/dev/null || { fail mail-rotate "$tool not installed"; exit 1; }
done
chmod 755 "$TG_TMP"
port_free() { ! ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }
for _ in $(seq 20); do
	p2=$((20000 + RANDOM % 20000)); mport=$((p2 + 1))
	port_free "$p2" && port_free "$mport" && break
done
san="$TG_TMP/san" events="$TG_TMP/mail.json"
cat >"$TG_TMP/site.conf" <<CONF
sanitizer = { quarantine = { dir = "$TG_TMP/quarantine"; }; };
milter = { listen = "inet:$mport@127.0.0.1"; spool_dir = "$TG_TMP/spool"; events = "$events"; };
CONF
"$BIN/tiergate-milter" --config "$TG_TMP/site.conf" >>"$TG_TMP/milter.log" 2>&1 &
milter_pid=$!
on_exit "kill $milter_pid; wait $milter_pid"
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$mport" || { fail mail-rotate "tiergate-milter did not listen"; cat "$TG_TMP/milter.log"; exit 1; }
"$ROOT/tests/mail/postfix-instance.sh" "$san" san "$p2" "mydestination = tiergate.test" \
	"local_transport = discard:" "local_recipient_maps =" "smtpd_milters = inet:127.0.0.1:$mport" "milter_default_action = tempfail" \
	"milter_protocol = 6" "milter_mail_macros = i {mail_addr} {daemon_name}" >>"$TG_TMP/postfix.log" 2>&1 ||
	{ fail mail-rotate "Postfix did not start"; tail -n 20 "$TG_TMP/postfix.log"; exit 1; }
on_exit "postfix -c $san/etc stop"

# the load: a message at a time, each from its own sender; accepted ones with their phase
: >"$TG_TMP/sent"
(
	i=0
	while [ ! -e "$TG_TMP/stop" ]; do
		i=$((i + 1)); phase=1; [ -e "$TG_TMP/phase2" ] && phase=2
		swaks --silent 2 --server 127.0.0.1 --port "$p2" --from "rot$i@example.co.jp" --to "x@tiergate.test" \
			--header "Subject: rotation $i" --body "message $i" >>"$TG_TMP/swaks.log" 2>&1 &&
			echo "$phase rot$i@example.co.jp" >>"$TG_TMP/sent"
	done
) &
loop=$!
on_exit "touch $TG_TMP/stop; kill $loop"
wait_for 90 sh -c "[ \$(wc -l <'$TG_TMP/sent') -ge 5 ]" || { fail mail-rotate "no mail accepted" "$(tail -n 5 "$TG_TMP/swaks.log" "$TG_TMP/milter.log")"; exit 1; }

rotate_conf /var/log/tiergate/mail.json "$events" "" >"$TG_TMP/lr.conf"
if logrotate -f -s "$TG_TMP/lr.state" "$TG_TMP/lr.conf" >"$TG_TMP/lr.out" 2>&1 && [ -s "$events.1" ] && [ -e "$events" ] &&
	! grep -q postrotate "$TG_TMP/lr.conf"; then
	pass "logrotate -f with the package's mail.json stanza (rename and create, no signal)"
else fail "logrotate -f" "$(cat "$TG_TMP/lr.out" "$TG_TMP/lr.conf"; ls -l "$TG_TMP")"; fi
n=$(wc -l <"$TG_TMP/sent")
wait_for 90 sh -c "[ \$(wc -l <'$TG_TMP/sent') -ge $((n + 3)) ]"
ZYGOTE=$(pgrep -P "$milter_pid" | head -n1)
rotate_fd_checks mail-rotate "$events.1" "$events" "$milter_pid" $ZYGOTE
touch "$TG_TMP/phase2"
n=$(wc -l <"$TG_TMP/sent")
wait_for 90 sh -c "[ \$(wc -l <'$TG_TMP/sent') -ge $((n + 5)) ]"
touch "$TG_TMP/stop"
wait "$loop"
total=$(wc -l <"$TG_TMP/sent") after=$(grep -c '^2 ' "$TG_TMP/sent")

lost="" late=""
while read -r phase sender; do
	re="\"event\":\"mail\".*\"sender\":\"$sender\""
	c=$(rotate_count "$events.1" "$events" "$re")
	[ "$c" = 1 ] || lost="$lost $sender:$c"
	[ "$phase" = 2 ] && [ "$(rotate_count "$events" "$re")" != 1 ] && late="$late $sender"
done <"$TG_TMP/sent"
[ -z "$lost" ] && pass "no line lost: each of the $total messages accepted has one mail event in OLD or NEW" ||
	fail "no line lost" "$lost"
[ -z "$late" ] && [ "$after" -gt 0 ] && pass "the $after messages sent after the change have their events in the new file" ||
	fail "events after the change in the new file" "$late"
rotate_chain_checks mail.json "$events.1" "$events"
