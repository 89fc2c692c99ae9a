#!/usr/bin/env bash
# 50-san-quarantine.sh -- blocked originals kept by SHA-256; tiergate-quarantine list, show, release (file and mail, through tiergate-quarantined), expire.
# tier: e2e
# timeout: 120
. "$(dirname "$0")/../lib/harness.sh"
corpus="$TG_TMP/corpus" q="$TG_TMP/quarantine"
tests/sanitizer/make-corpus.py "$corpus" >/dev/null 2>&1 || { fail "corpus generated"; exit 1; }
cat >"$TG_TMP/sendmail" <<EOF2
#!/bin/sh
printf '%s\n' "\$@" >"$TG_TMP/sendmail.args"
cat >"$TG_TMP/sendmail.stdin"
EOF2
chmod +x "$TG_TMP/sendmail"
# release goes through the daemon; root's own group is the admin group here (52-san-release tests who may)
cat >"$TG_TMP/q.conf" <<CONF
sanitizer = { quarantine = { dir = "$q"; retention_days = 30; sendmail = "$TG_TMP/sendmail";
                             release_socket = "$TG_TMP/q.sock"; admin_group = "$(id -gn)";
                             release_dir = "$TG_TMP"; requests_dir = "$TG_TMP/requests"; };
              events = "$TG_TMP/events.json"; };
CONF
qt() { "$BIN/tiergate-quarantine" --config "$TG_TMP/q.conf" "$@"; }
"$BIN/tiergate-quarantined" --config "$TG_TMP/q.conf" 2>"$TG_TMP/quarantined.log" &
qd_pid=$!
on_exit "kill $qd_pid"
wait_for 10 test -S "$TG_TMP/q.sock" || fail "tiergate-quarantined started" "$(cat "$TG_TMP/quarantined.log")"

check "blocked files sanitized with --quarantine" "$BIN/tiergate-sanitize" --config "$TG_TMP/q.conf" \
	--quarantine --out "$TG_TMP/out" "$corpus/encrypted-user.pdf" "$corpus/ppap.zip" "$corpus/invoice.pdf" "$corpus/plain.pdf"
qt list >"$TG_TMP/list.txt" 2>&1
list_rc=$?
n=$(grep -c -E 'encrypted-user.pdf|ppap.zip|invoice.pdf' "$TG_TMP/list.txt")
[ "$list_rc" = 0 ] && [ "$n" = 3 ] && pass "list shows the 3 blocked originals" || fail "list shows the 3 blocked originals" "exit $list_rc: $(cat "$TG_TMP/list.txt")"
# (only meaningful on a list that worked and shows the others; plain.pdf was sanitized into out/)
if [ "$list_rc" != 0 ] || [ "$n" != 3 ] || [ ! -s "$TG_TMP/out/plain.pdf" ]; then
	fail "a sanitized file is not quarantined" "no usable list (exit $list_rc, $n items) or no sanitized plain.pdf"
elif grep -q plain.pdf "$TG_TMP/list.txt"; then
	fail "a sanitized file is not quarantined"
else
	pass "a sanitized file is not quarantined"
fi
id=$(sha256sum "$corpus/ppap.zip" | cut -d' ' -f1)
[ -f "$q/$id" ] && [ -f "$q/$id.json" ] && pass "content-addressed: ID is the SHA-256 of the original" || fail "content-addressed store" "$(ls "$q")"
qt show "${id:0:12}" >"$TG_TMP/show.txt" 2>&1
check_grep "show (by ID prefix) gives reason and report" '"reason":"encrypted"' "$TG_TMP/show.txt"
check "release writes the original where the admin says" qt release "$id" --to "$TG_TMP/released.zip"
check "released bytes are the original's" cmp "$corpus/ppap.zip" "$TG_TMP/released.zip"
check_grep "release logged as a JSON event" '"event":"quarantine_release".*"id":"'"$id"'".*"ok":true' "$TG_TMP/events.json"
# refused_with NAME STATUS PATTERN CMD...: CMD exits STATUS (1 refused, 2 usage) and says PATTERN
refused_with() {
	local name=$1 want=$2 pattern=$3 rc
	shift 3
	"$@" >"$TG_TMP/refused.txt" 2>&1
	rc=$?
	[ $rc = "$want" ] && grep -q -- "$pattern" "$TG_TMP/refused.txt" && pass "$name" ||
		fail "$name" "exit $rc: $(head -n 2 "$TG_TMP/refused.txt")"
}
refused_with "unknown ID refused" 1 "0123456789abcdef: no such item" qt show 0123456789abcdef
refused_with "path-like ID refused" 1 "\.\./\.\./etc/passwd: no such item" qt release ../../etc/passwd --to "$TG_TMP/x"
[ ! -e "$TG_TMP/x" ] && pass "... and nothing written for it" || fail "path-like ID: nothing written" "$TG_TMP/x exists"
refused_with "file release without --to refused (by tiergate-quarantined)" 1 "refused: release of a file needs --to PATH" qt release "$id"

# a mail item (as the milter stores them): release re-injects through sendmail
printf 'From: a@internet.example\nTo: staff@lgwan.example\nSubject: test\n\nbody\n' >"$TG_TMP/mail.eml"
mid=$(sha256sum "$TG_TMP/mail.eml" | cut -d' ' -f1)
cp "$TG_TMP/mail.eml" "$q/$mid"
printf '{"id":"%s","kind":"mail","name":"test","reason":"encrypted attachment","size":62,"time":%s,"count":1,"findings":[],"sender":"a@internet.example","recipients":["staff@lgwan.example","boss@lgwan.example"]}' \
	"$mid" "$(date +%s)" >"$q/$mid.json"
check "mail release runs sendmail" qt release "$mid"
if [ "$(tr '\n' ' ' <"$TG_TMP/sendmail.args")" = "-i -f a@internet.example -- staff@lgwan.example boss@lgwan.example " ]; then
	pass "sendmail -i -f SENDER -- RECIPIENTS"
else
	fail "sendmail -i -f SENDER -- RECIPIENTS" "$(cat "$TG_TMP/sendmail.args")"
fi
check "sendmail got the original message" cmp "$TG_TMP/mail.eml" "$TG_TMP/sendmail.stdin"
check_grep "mail release event names the recipients" '"event":"quarantine_release".*"kind":"mail".*"recipients":\["staff@lgwan.example","boss@lgwan.example"\]' "$TG_TMP/events.json"

# retention: an item 40 days old goes, the fresh ones stay
old=$(( $(date +%s) - 40 * 86400 ))
sed -i "s/\"time\":[0-9]*/\"time\":$old/" "$q/$mid.json"
qt expire >"$TG_TMP/expire.txt" 2>&1
check_grep "expire removes items past the retention" "expired 1 item" "$TG_TMP/expire.txt"
[ ! -e "$q/$mid" ] && [ -e "$q/$id" ] && pass "only the old item went" || fail "only the old item went" "$(ls "$q")"
