#!/usr/bin/env bash
# 62-portal.sh -- the 原本 release portal end to end: real Postfix + milter, tiergate-quarantined, tiergate-portal, headless Chromium.
# tier: e2e
# timeout: 300
#
# A mail with a macro workbook goes to two local users through a private Postfix with
# tiergate-milter; the recipient follows the link in the delivered notice and asks; two
# approvers (password + oathtool code) approve; the original reaches that recipient's
# Maildir and no other. Forged, expired and foreign tokens, CSRF without a token, the
# same approver twice, a refusal and a login lockout are tried too. Screenshots of every
# page go to $TIERGATE_BUILD/test-artifacts/portal/.
. "$(dirname "$0")/../lib/harness.sh"
need_root
for tool in postfix oathtool openssl chromium chromedriver; do
	command -v "$tool" >/dev/null || { fail "portal" "$tool not installed (make deps)"; exit 1; }
done
/usr/bin/python3 -c 'import selenium' 2>/dev/null || { fail "portal" "python3-selenium not installed (make deps)"; exit 1; }

chmod 755 "$TG_TMP"
art="$TIERGATE_BUILD/test-artifacts/portal"
rm -rf "$art" && mkdir -p "$art"
port_free() { ! ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }
for _ in $(seq 20); do
	smtp=$((20000 + RANDOM % 20000)); mport=$((smtp + 1)); pport=$((smtp + 2)); tport=$((smtp + 3))
	port_free "$smtp" && port_free "$mport" && port_free "$pport" && port_free "$tport" && break
done
tag="tgp$$"
ua="${tag}a" ub="${tag}b" pu="${tag}w"
for u in "$ua" "$ub"; do
	useradd -M -d "$TG_TMP/home-$u" -s /usr/sbin/nologin "$u" && mkdir -p "$TG_TMP/home-$u" && chown "$u" "$TG_TMP/home-$u"
done
useradd -M -r -s /usr/sbin/nologin "$pu"
on_exit "userdel $ua; userdel $ub; userdel $pu"
ra="$ua@tiergate.test" rb="$ub@tiergate.test"
san="$TG_TMP/san" ev="$TG_TMP/events.json" pev="$TG_TMP/portal-events.json"

# the key only the milter and the daemon read; the portal's certificate
head -c 32 /dev/urandom >"$TG_TMP/link.key" && chmod 600 "$TG_TMP/link.key"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$TG_TMP/portal.key" -out "$TG_TMP/portal.crt" 2>/dev/null
cat >"$TG_TMP/sendmail" <<SH
#!/bin/sh
exec /usr/sbin/sendmail -C "$san/etc" "\$@"
SH
chmod 755 "$TG_TMP/sendmail"
cat >"$TG_TMP/site.conf" <<CONF
sanitizer = { quarantine = { dir = "$TG_TMP/quarantine"; sendmail = "$TG_TMP/sendmail";
                             release_socket = "$TG_TMP/run/q.sock"; admin_group = "root";
                             release_approvals = 2; requests_dir = "$TG_TMP/requests";
                             portal_user = "$pu"; token_key = "$TG_TMP/link.key";
                             portal_url = "https://127.0.0.1:$pport"; approvers = "$TG_TMP/approvers";
                             lockout_base = 3600; user_release_root = "$TG_TMP/users"; };
              events = "$ev"; };
milter = { listen = "inet:$mport@127.0.0.1"; spool_dir = "$TG_TMP/spool"; events = "$TG_TMP/mail-events.json"; };
spool = { inbox = "$TG_TMP/inbox"; outbox = "$TG_TMP/outbox"; state_dir = "$TG_TMP/spool-state"; workers = 1;
          stable_seconds = 1; events = "$TG_TMP/spool-events.json"; };
portal = { listen = "127.0.0.1:$pport"; cert = "$TG_TMP/portal.crt"; key = "$TG_TMP/portal.key";
           socket = "$TG_TMP/run/q.sock"; user = "$pu"; events = "$pev"; posts_per_minute = 60; };
CONF
secret_of() { printf '%s\n' "$2" | "$BIN/tiergate-quarantined" --config "$TG_TMP/site.conf" --add-approver "$1"; }
s1=$(secret_of hanako 'hanako-pass-1') && s2=$(secret_of jiro 'jiro-pass-22') && s3=$(secret_of saburo 'saburo-pass-3') &&
	s4=$(secret_of shiro 'shiro-pass-44') &&
	pass "approvers enrolled in the daemon's file (scrypt + TOTP secret)" || fail "approvers enrolled"
! setpriv --reuid="$pu" --regid="$(id -g "$pu")" --clear-groups cat "$TG_TMP/approvers" >/dev/null 2>&1 &&
	pass "the portal's user cannot read the approvers file" || fail "approvers file readable by the portal"
check "portal configuration check" "$BIN/tiergate-portal" --config "$TG_TMP/site.conf" -n

"$BIN/tiergate-quarantined" --config "$TG_TMP/site.conf" 2>"$TG_TMP/qd.log" &
qd_pid=$!
on_exit "kill \$qd_pid"
"$BIN/tiergate-milter" --config "$TG_TMP/site.conf" >>"$TG_TMP/milter.log" 2>&1 &
on_exit "kill $!"
"$BIN/tiergate-portal" --config "$TG_TMP/site.conf" 2>"$TG_TMP/portal.log" &
portal_pid=$!
on_exit "kill \$portal_pid"
wait_for 10 test -S "$TG_TMP/run/q.sock" || fail "quarantined listening" "$(cat "$TG_TMP/qd.log")"
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$mport" || fail "milter listening" "$(tail -5 "$TG_TMP/milter.log")"
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$pport" || fail "portal listening" "$(cat "$TG_TMP/portal.log")"
[ "$(stat -c %U /proc/$portal_pid)" = "$pu" ] && pass "the portal runs as its own unprivileged user" ||
	fail "portal unprivileged" "runs as $(stat -c %U /proc/$portal_pid)"

"$ROOT/tests/mail/postfix-instance.sh" "$san" san "$smtp" "mydestination = tiergate.test" \
	"smtpd_milters = inet:127.0.0.1:$mport" "milter_default_action = tempfail" "milter_protocol = 6" \
	"milter_mail_macros = i {mail_addr} {daemon_name}" >>"$TG_TMP/postfix.log" 2>&1 ||
	{ fail "portal" "Postfix did not start"; tail -n 20 "$TG_TMP/postfix.log"; exit 1; }
on_exit "postfix -c $san/etc stop"

# --- the mail arrives, sanitized, with a link per recipient
tests/portal/make-mail.py "$TG_TMP/macro.eml" sender@example.co.jp "$ra" "$rb"
check "mail with a macro workbook sent" swaks --silent 2 --server 127.0.0.1 --port "$smtp" \
	--from sender@example.co.jp --to "$ra,$rb" --data @"$TG_TMP/macro.eml"
in_box() { grep -l -F "portal-macro-xlsx@" "$TG_TMP/home-$1"/Maildir/new/* 2>/dev/null; }
originals_in() { for f in $(in_box "$1"); do grep -q '^X-Tiergate-Sanitized' "$f" || echo "$f"; done | wc -l; }
wait_for 60 bash -c "[ -n \"\$(grep -l -F portal-macro-xlsx@ $TG_TMP/home-$ua/Maildir/new/* 2>/dev/null)\" ]" ||
	{ fail "sanitized mail delivered" "$(tail -5 "$san/maillog")"; exit 1; }
delivered=$(in_box "$ua" | head -n 1)
grep -q '^X-Tiergate-Sanitized' "$delivered" && pass "the mail was delivered sanitized" || fail "delivered sanitized"
link_a=$(/usr/bin/python3 tests/portal/find-link.py "$delivered" "$ra")
link_b=$(/usr/bin/python3 tests/portal/find-link.py "$(in_box "$ub" | head -n 1)" "$rb")
[ -n "$link_a" ] && [ -n "$link_b" ] && [ "$link_a" != "$link_b" ] &&
	pass "each recipient's notice carries its own request link" || fail "request links in the notices" "'$link_a' '$link_b'"
qid=$(printf '%s' "${link_a#*t=}" | cut -d. -f1)
tok_a=${link_a#*t=}
mint() { /usr/bin/python3 tests/portal/mint-token.py "$TG_TMP/link.key" "$qid" "$1" "$2"; }
b64b=$(printf '%s' "$rb" | base64 -w0 | tr '+/' '-_' | tr -d '=')
mac=${tok_a##*.}   # a different first MAC character (all of its 6 bits count)
forged="${tok_a%.*}.$( [ "${mac:0:1}" = A ] && echo B || echo A)${mac:1}"
swapped="$(echo "$tok_a" | cut -d. -f1-2).$b64b.$(echo "$tok_a" | cut -d. -f4)"

export BASE="https://127.0.0.1:$pport" ART="$art" LINK_A="$link_a" LINK_B="$link_b" RCPT_A="$ra" RCPT_B="$rb" \
	LINK_FORGED="https://127.0.0.1:$pport/r?t=$forged" \
	LINK_EXPIRED="https://127.0.0.1:$pport/r?t=$(mint "$ra" $(( $(date +%s) - 60 )))" \
	LINK_OTHER="https://127.0.0.1:$pport/r?t=$(mint "outsider@tiergate.test" $(( $(date +%s) + 3600 )))" \
	LINK_SWAPPED="https://127.0.0.1:$pport/r?t=$swapped" \
	APPR1=hanako APPR1_PASS=hanako-pass-1 APPR1_SECRET="$s1" APPR2=jiro APPR2_PASS=jiro-pass-22 APPR2_SECRET="$s2" \
	LOCK_USER=saburo LOCK_PASS=saburo-pass-3 LOCK_SECRET="$s3"
run_checker browser timeout 180 /usr/bin/python3 tests/portal/browser.py

# --- what reached whom
wait_for 30 bash -c "[ \$(for f in \$(grep -l -F portal-macro-xlsx@ $TG_TMP/home-$ua/Maildir/new/*); do grep -q '^X-Tiergate-Sanitized' \$f || echo \$f; done | wc -l) -ge 1 ]"
[ "$(originals_in "$ua")" = 1 ] && pass "the original arrived in the asking recipient's mailbox" ||
	fail "original delivered to $ra" "$(originals_in "$ua") originals; $(tail -3 "$san/maillog")"
orig=$(for f in $(in_box "$ua"); do grep -q '^X-Tiergate-Sanitized' "$f" || echo "$f"; done | head -n 1)
grep -q 'filename="budget.xlsx"' "$orig" 2>/dev/null && pass "it is the original, workbook and all" || fail "original content"
wait_for 30 bash -c "grep -l 'Your request for the original (request [0-9a-f]*) was refused' $TG_TMP/home-$ub/Maildir/new/* >/dev/null 2>&1" &&
	pass "the refused recipient was told by mail" || fail "refusal mail" "$(ls "$TG_TMP/home-$ub/Maildir/new")"
[ "$(originals_in "$ub")" = 0 ] && pass "the original reached no other mailbox" || fail "original leaked to $rb"

# --- the audit trail: the approvers' names, the portal's uid, the refusals
uid_pu=$(id -u "$pu")
check_grep "approval events name the approver and the portal's uid" \
	"\"event\":\"quarantine_approve\",\"operator_uid\":$uid_pu,\"operator\":\"$pu\".*\"rcpt\":\"$ra\".*\"approvers\":\[\"hanako \(portal\)\",\"jiro \(portal\)\"\].*\"state\":\"released\"" "$ev"
check_grep "the same approver's second approval is an event" '"event":"quarantine_approve".*"ok":false,"error":"the same person cannot approve twice' "$ev"
check_grep "refusal event with the approver" "\"event\":\"quarantine_refuse\".*\"rcpt\":\"$rb\".*\"state\":\"refused\",\"comment\":\"業務上不要のため却下します\"" "$ev"
check_grep "forged token is an event" '"event":"quarantine_view".*"ok":false,"error":"forged token \(bad MAC\)"' "$ev"
check_grep "expired token is an event" '"event":"quarantine_view".*"error":"expired token"' "$ev"
check_grep "foreign recipient is an event" '"event":"quarantine_view".*"recipient":"outsider@tiergate.test".*"error":"not a recipient of this mail"' "$ev"
check_grep "lockout is the portal's event" '"event":"portal_login","user":"saburo".*"ok":false,"error":"account locked out' "$pev"
check_grep "and the daemon's, which locked the approver" '"event":"quarantine_lockout".*"kind":"user","target":"saburo"' "$ev"
check_grep "CSRF refusals are events" '"event":"portal_decision","user":"hanako".*"error":"CSRF token missing or wrong"' "$pev"
check_grep "logins are events" '"event":"portal_login","user":"jiro".*"ok":true' "$pev"
cp "$ev" "$art/quarantined-events.json"; cp "$pev" "$art/portal-events.json"
n=$(ls "$art"/*.png 2>/dev/null | wc -l)
[ "$n" -ge 12 ] && pass "screenshots of every page saved ($n in $art)" || fail "screenshots" "only $n"

# --- the lockout is the daemon's: restarting the portal and the daemon keeps it; an admin's unlock lifts it
curl_login() {   # curl_login USER PASSWORD CODE: the HTTP code of the login POST, the page in $TG_TMP/lp.html
	local jar="$TG_TMP/lock.jar" csrf
	rm -f "$jar"
	curl -sk -c "$jar" -o "$TG_TMP/lp.html" "https://127.0.0.1:$pport/login"
	csrf=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$TG_TMP/lp.html")
	curl -sk -b "$jar" -c "$jar" -o "$TG_TMP/lp.html" -w '%{http_code}' --data-urlencode "user=$1" \
		--data-urlencode "password=$2" --data-urlencode "otp=$3" --data-urlencode "csrf=$csrf" "https://127.0.0.1:$pport/login"
}
kill "$qd_pid" "$portal_pid"; wait "$qd_pid" "$portal_pid" 2>/dev/null
"$BIN/tiergate-quarantined" --config "$TG_TMP/site.conf" 2>>"$TG_TMP/qd.log" &
qd_pid=$!
wait_for 10 test -S "$TG_TMP/run/q.sock" || fail "quarantined listening again" "$(cat "$TG_TMP/qd.log")"
"$BIN/tiergate-portal" --config "$TG_TMP/site.conf" 2>>"$TG_TMP/portal.log" &
portal_pid=$!
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$pport" || fail "portal listening again" "$(cat "$TG_TMP/portal.log")"
code=$(curl_login saburo saburo-pass-3 "$(oathtool --totp -b "$s3")")
[ "$code" = 403 ] && grep -q 'ロックされています' "$TG_TMP/lp.html" && pass "after restarting the portal and the daemon the approver is still locked out" ||
	fail "lockout across restarts" "HTTP $code"
check_grep "(that refusal is the lockout event)" '"event":"quarantine_login".*"approver":"saburo".*"ok":false,"error":"account locked out' "$ev"
check "the admin unlock command" "$BIN/tiergate-quarantine" --config "$TG_TMP/site.conf" unlock saburo
check_grep "(the unlock is an event with the admin)" '"event":"quarantine_unlock","operator_uid":0,"operator":"root".*"target":"saburo","was_counted":true' "$ev"
code=$(curl_login saburo saburo-pass-3 "$(oathtool --totp -b "$s3")")
[ "$code" = 303 ] && pass "after the unlock the approver logs in" || fail "login after unlock" "HTTP $code $(tail -2 "$pev")"

# --- a file original through the portal: blocked by tiergate-spoold, asked for by its owner, approved,
# written to that user's own release directory (a symlink planted there is not followed)
mkdir -p "$TG_TMP/users" "$TG_TMP/inbox" "$TG_TMP/elsewhere" && chmod 1777 "$TG_TMP/inbox"
install -d -m 755 "$TG_TMP/outbox"   # staff may look in the outbox (its files have their own modes)
tests/sanitizer/make-corpus.py "$TG_TMP/corpus" >/dev/null 2>&1 || fail "corpus generated"
"$BIN/tiergate-spoold" --config "$TG_TMP/site.conf" >>"$TG_TMP/spoold.log" 2>&1 &
on_exit "kill $!"
wait_for 10 grep -q "watching" "$TG_TMP/spoold.log" || fail "spoold watching" "$(tail -3 "$TG_TMP/spoold.log")"
as_ua() { setpriv --reuid="$ua" --regid="$(id -g "$ua")" --clear-groups "$@"; }
install -d -o "$ua" -m 700 "$TG_TMP/users/$ua"
as_ua ln -s "$TG_TMP/elsewhere/planted" "$TG_TMP/users/$ua/見積.pdf"
as_ua cp "$TG_TMP/corpus/invoice.pdf" "$TG_TMP/inbox/見積.pdf.part" && as_ua mv "$TG_TMP/inbox/見積.pdf.part" "$TG_TMP/inbox/見積.pdf"
wait_for 30 grep -q '"event":"spool".*"action":"blocked".*"request_link"' "$TG_TMP/spool-events.json" ||
	fail "spool quarantined the file" "$(tail -3 "$TG_TMP/spool-events.json" "$TG_TMP/spoold.log")"
check_grep "the spool's event names the file's owner and their request link" \
	"\"event\":\"spool\",.*\"action\":\"blocked\".*\"owner\":\"$ua\",\"request_link\":\"https://127.0.0.1:$pport/r\?t=" "$TG_TMP/spool-events.json"
elink=$(sed -n 's/.*"request_link":"\([^"]*\)".*/\1/p' "$TG_TMP/spool-events.json" | tail -n 1)
# the owner learns it where they look: a notice in the outbox instead of the file, theirs alone
notice="$TG_TMP/outbox/見積.pdf.blocked.txt"
wait_for 10 test -f "$notice"
[ "$(stat -c '%U %a' "$notice" 2>&1)" = "$ua 600" ] && pass "the outbox holds a notice for the blocked file, the owner's alone (0600)" ||
	fail "blocked-file notice" "$(ls -la "$TG_TMP/outbox" 2>&1 | head -5)"
flink=$(as_ua cat "$notice" | grep -o 'https://[^[:space:]]*' | head -n 1)
as_ua cat "$notice" | grep -q '^理由 / Reason: ' && [ -n "$flink" ] && [ "$flink" = "$elink" ] &&
	pass "the owner reads the reason and their request link in it (the link the spool's event carries)" ||
	fail "notice content" "link '$flink' vs event '$elink': $(as_ua cat "$notice" 2>&1 | head -8)"
out=$(runuser -u nobody -- cat "$notice" 2>&1)
[ $? != 0 ] && grep -qi "permission denied" <<<"$out" && pass "another user cannot read the notice ($out)" ||
	fail "notice private" "nobody read it: $out"
curl -sk -o "$TG_TMP/f.html" "$flink"
grep -q '届いたファイル' "$TG_TMP/f.html" && grep -q '見積.pdf' "$TG_TMP/f.html" && pass "the owner's link shows the file (Japanese first)" ||
	fail "file request page" "$(head -c 300 "$TG_TMP/f.html")"
fcsrf=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$TG_TMP/f.html")
code=$(curl -sk -o "$TG_TMP/f2.html" -w '%{http_code}' --data-urlencode "t=${flink#*t=}" --data-urlencode "csrf=$fcsrf" \
	--data-urlencode "reason=取引先の見積書の原本が必要です" "https://127.0.0.1:$pport/r")
"$BIN/tiergate-quarantine" --config "$TG_TMP/site.conf" requests >"$TG_TMP/requests.json" 2>"$TG_TMP/requests.err"
freq=$(/usr/bin/python3 -c '
import json, sys
print(" ".join(r["request"] for r in json.load(sys.stdin) if r.get("user") == sys.argv[1] and r["state"] == "pending"))' "$ua" <"$TG_TMP/requests.json")
[ -n "$freq" ] && [ "$(echo "$freq" | wc -w)" = 1 ] && pass "the owner asked through the portal (HTTP $code)" ||
	fail "file request" "HTTP $code '$freq' $(cat "$TG_TMP/requests.json" "$TG_TMP/requests.err")"
approve_as() {   # approve_as USER PASSWORD SECRET: logs in (next TOTP step) and approves $freq
	local jar="$TG_TMP/ap.jar" c
	c=$(oathtool --totp -b "$3" --now "$(date -u -d "@$(( $(date +%s) + 30 ))" '+%Y-%m-%d %H:%M:%S UTC')")
	[ "$(curl_login "$1" "$2" "$c")" = 303 ] || return 1
	cp "$TG_TMP/lock.jar" "$jar"
	curl -sk -b "$jar" -o "$TG_TMP/q.html" "https://127.0.0.1:$pport/queue"
	c=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$TG_TMP/q.html" | head -n 1)
	curl -sk -b "$jar" -o "$TG_TMP/d.html" -w '%{http_code}' --data "req=$freq&csrf=$c&action=approve" "https://127.0.0.1:$pport/decide"
}
[ "$(approve_as hanako hanako-pass-1 "$s1")" = 200 ] && grep -q "needs 1 more approval" "$TG_TMP/d.html" &&
	pass "first approval of the file" || fail "first file approval" "$(sed -n 's/.*id="result">\([^<]*\).*/\1/p' "$TG_TMP/d.html")"
[ "$(approve_as jiro jiro-pass-22 "$s2")" = 200 ] && grep -q "released" "$TG_TMP/d.html" &&
	pass "second approval releases the file" || fail "second file approval" "$(grep -o 'class="en">[^<]*' "$TG_TMP/d.html" | tail -1)"
got="$TG_TMP/users/$ua/見積 (2).pdf"
cmp -s "$got" "$TG_TMP/corpus/invoice.pdf" && pass "the original bytes are in the owner's release directory" || fail "released file" "$(ls -la "$TG_TMP/users/$ua")"
[ "$(stat -c '%U %a' "$got" 2>/dev/null)" = "$ua 600" ] && pass "owned by the user, mode 0600" || fail "released file owner/mode" "$(stat -c '%U %a' "$got")"
[ -L "$TG_TMP/users/$ua/見積.pdf" ] && [ ! -e "$TG_TMP/elsewhere/planted" ] && pass "the planted symlink was not followed (its name taken: name (2).ext)" ||
	fail "planted symlink" "$(ls -la "$TG_TMP/elsewhere")"
n=$(find "$TG_TMP" -path "$TG_TMP/corpus" -prune -o -type f -newer "$TG_TMP/corpus/invoice.pdf" -print0 | xargs -0 cmp -s "$TG_TMP/corpus/invoice.pdf" 2>/dev/null; \
	find "$TG_TMP" -path "$TG_TMP/corpus" -prune -o -path "$TG_TMP/quarantine" -prune -o -type f -print0 | while IFS= read -r -d '' f; do cmp -s "$f" "$TG_TMP/corpus/invoice.pdf" && echo "$f"; done | wc -l)
[ "$n" = 1 ] && pass "the original is nowhere else (outside the quarantine)" || fail "original elsewhere" "$n copies"
got_re=$(printf '%s' "$got" | sed 's/[()]/\\&/g')
check_grep "the release event names the approvers and the path" \
	"\"event\":\"quarantine_approve\".*\"kind\":\"file\".*\"user\":\"$ua\",\"to\":\"$got_re\".*\"approvers\":\[\"hanako \(portal\)\",\"jiro \(portal\)\"\].*\"state\":\"released\"" "$ev"

# --- HTTP hygiene an auditor checks, from a plain client
curl -sk -D "$TG_TMP/h.txt" -o /dev/null "https://127.0.0.1:$pport/login"
for h in "Content-Security-Policy: default-src 'none'" "X-Frame-Options: DENY" "Referrer-Policy: no-referrer" \
	"Set-Cookie: tgp_pre=[0-9a-f]{64}; Path=/; Max-Age=600; Secure; HttpOnly; SameSite=Strict"; do
	check_grep "header: ${h%%:*}" "^$h" "$TG_TMP/h.txt"
done
grep -qi '<script' <(curl -sk "https://127.0.0.1:$pport/login") && fail "no script on any page" || pass "no script on the pages"
code=$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$pport/queue")
[ "$code" = 303 ] && pass "the queue needs a login" || fail "queue without login" "HTTP $code"
code=$(curl -sk -o /dev/null -w '%{http_code}' --data-binary "t=$(head -c 9000 /dev/zero | tr '\0' a)" "https://127.0.0.1:$pport/r")
[ "$code" = 413 ] || [ "$code" = 400 ] && pass "an over-long form is refused (HTTP $code)" || fail "over-long form" "HTTP $code"

# --- POSTs per source address are limited (the login form here), and that is an event
limited=0
for _ in $(seq 130); do
	code=$(curl -sk -o /dev/null -w '%{http_code}' --data 'user=x&password=y&otp=1&csrf=0' "https://127.0.0.1:$pport/login")
	[ "$code" = 429 ] && { limited=1; break; }
done
[ "$limited" = 1 ] && pass "POSTs beyond posts_per_minute get HTTP 429" || fail "rate limit" "no 429 after 130 POSTs (limit 60 a minute)"
check_grep "the rate limit is an event" '"event":"portal_rate_limited","src_ip":"127.0.0.1","what":"/login","ok":false' "$pev"

# --- session timeouts: a second portal with an idle limit of 3 s and an absolute one of 6 s (clock in whole seconds:
# each wait is at least a second past the limit, each check within a limit at least a second short of it)
sed -e "s/listen = \"127.0.0.1:$pport\"/listen = \"127.0.0.1:$tport\"/" \
	-e "s/posts_per_minute = 60;/posts_per_minute = 60; session_idle_seconds = 3; session_max_seconds = 6;/" \
	-e "s|events = \"$pev\"|events = \"$TG_TMP/portal2.json\"|" "$TG_TMP/site.conf" >"$TG_TMP/short.conf"
"$BIN/tiergate-portal" --config "$TG_TMP/short.conf" 2>"$TG_TMP/portal2.log" &
on_exit "kill $!"
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$tport" || fail "second portal listening" "$(cat "$TG_TMP/portal2.log")"
jar="$TG_TMP/shiro.jar" tb="https://127.0.0.1:$tport"
queue_code() { curl -sk -b "$jar" -o /dev/null -w '%{http_code}' "$tb/queue"; }
curl -sk -c "$jar" -o "$TG_TMP/l.html" "$tb/login"
csrf=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$TG_TMP/l.html")
curl -sk -b "$jar" -c "$jar" -o /dev/null --data "user=shiro&password=shiro-pass-44&otp=$(oathtool --totp -b "$s4")&csrf=$csrf" "$tb/login"
c1=$(queue_code); sleep 5; c2=$(queue_code)
[ "$c1" = 200 ] && [ "$c2" = 303 ] && pass "a session ends after the idle timeout" || fail "idle timeout" "queue gave $c1 then, after 5 s idle, $c2"
# ... and so does its ticket in the daemon (shiro has no other session open): as a logout, without the click
check_grep "the timed-out session's ticket is ended in the daemon (portal_session_end, what=timeout)" \
	'"event":"portal_session_end","user":"shiro","what":"timeout","ok":true' "$TG_TMP/portal2.json"
check_grep "(the daemon's logout event for shiro, by the portal)" \
	"\"event\":\"quarantine_logout\",\"operator_uid\":$(id -u "$pu").*\"approver\":\"shiro\",\"by\":\"portal\",\"tickets_ended\":true,\"ok\":true" "$ev"

curl -sk -c "$jar" -o "$TG_TMP/l.html" "$tb/login"
csrf=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$TG_TMP/l.html")
wait_for 35 bash -c "[ \"\$(oathtool --totp -b $s4)\" != \"$(oathtool --totp -b "$s4")\" ]"   # the next code: a code is good once
curl -sk -b "$jar" -c "$jar" -o /dev/null --data "user=shiro&password=shiro-pass-44&otp=$(oathtool --totp -b "$s4")&csrf=$csrf" "$tb/login"
codes=()
for _ in 1 2 3 4 5; do codes+=("$(queue_code)"); sleep 2; done
[ "${codes[*]:0:3}" = "200 200 200" ] && [ "${codes[4]}" = 303 ] &&
	pass "a busy session still ends at the absolute timeout" || fail "absolute timeout" "queue every 2 s gave: ${codes[*]}"

# --- logging out ends the ticket in the daemon, not only the portal's session. A recording relay between
# a third portal and the daemon (run as the portal's user, so the daemon sees the portal's uid) plays a
# portal compromised after the logout: it kept the approver's ticket and session binding.
for _ in $(seq 20); do lport=$((20000 + RANDOM % 20000)); port_free "$lport" && break; done
sed -e "s/listen = \"127.0.0.1:$pport\"/listen = \"127.0.0.1:$lport\"/" -e "s|socket = \"$TG_TMP/run/q.sock\"|socket = \"$TG_TMP/relay/q.sock\"|" \
	-e "s|events = \"$pev\"|events = \"$TG_TMP/portal3.json\"|" "$TG_TMP/site.conf" >"$TG_TMP/relay.conf"
install -d -o "$pu" -m 700 "$TG_TMP/relay"
as_pu() { setpriv --reuid="$pu" --regid="$(id -g "$pu")" --clear-groups "$@"; }
as_pu /usr/bin/python3 -c '
import os, socket, sys
lst = socket.socket(socket.AF_UNIX); lst.bind(sys.argv[1]); lst.listen(8)
while True:
    c, _ = lst.accept(); line = b""
    while not line.endswith(b"\n") and (chunk := c.recv(4096)):
        line += chunk
    with open(sys.argv[3], "ab") as log:
        log.write(line)
    d = socket.socket(socket.AF_UNIX); d.connect(sys.argv[2]); d.sendall(line)
    while chunk := d.recv(65536):
        c.sendall(chunk)
    d.close(); c.close()' "$TG_TMP/relay/q.sock" "$TG_TMP/run/q.sock" "$TG_TMP/relay/lines" 2>"$TG_TMP/relay.log" &
on_exit "kill $!"
wait_for 10 test -S "$TG_TMP/relay/q.sock" || fail "recording relay listening" "$(cat "$TG_TMP/relay.log")"
"$BIN/tiergate-portal" --config "$TG_TMP/relay.conf" 2>"$TG_TMP/portal3.log" &
on_exit "kill $!"
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$lport" || fail "third portal listening" "$(cat "$TG_TMP/portal3.log")"
s5=$(secret_of goro 'goro-pass-555') || fail "approver goro enrolled"
jar="$TG_TMP/goro.jar" lb="https://127.0.0.1:$lport"
curl -sk -c "$jar" -o "$TG_TMP/l.html" "$lb/login"
csrf=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$TG_TMP/l.html")
code=$(curl -sk -b "$jar" -c "$jar" -o /dev/null -w '%{http_code}' --data "user=goro&password=goro-pass-555&otp=$(oathtool --totp -b "$s5")&csrf=$csrf" "$lb/login")
qcode=$(curl -sk -b "$jar" -o "$TG_TMP/gq.html" -w '%{http_code}' "$lb/queue")
[ "$code" = 303 ] && [ "$qcode" = 200 ] && pass "goro logs in (through the recording relay)" || fail "goro login" "HTTP $code, queue $qcode $(tail -2 "$TG_TMP/portal3.json")"
kept=$(grep -a '^STATUS' "$TG_TMP/relay/lines" | tail -n 1)
replay() { as_pu /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode() + b"\n")
out = b""
while chunk := s.recv(4096):
    out += chunk
print(out.decode(), end="")' "$TG_TMP/run/q.sock" "$kept"; }
replay >"$TG_TMP/rp.txt"
[ -n "$kept" ] && check_grep "(the kept ticket works before the logout)" "^OK [0-9]* item" "$TG_TMP/rp.txt" ||
	fail "ticket recorded by the relay" "$(cat "$TG_TMP/relay/lines" "$TG_TMP/relay.log")"
lcsrf=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$TG_TMP/gq.html" | head -n 1)
code=$(curl -sk -b "$jar" -o /dev/null -w '%{http_code}' --data "csrf=$lcsrf" "$lb/logout")
[ "$code" = 303 ] && pass "goro logs out (HTTP $code)" || fail "logout" "HTTP $code"
check_grep "the portal's logout event says the daemon ended the ticket" '"event":"portal_logout","user":"goro".*"ok":true' "$TG_TMP/portal3.json"
check_grep "(the daemon's own logout event)" "\"event\":\"quarantine_logout\",\"operator_uid\":$(id -u "$pu").*\"approver\":\"goro\",\"by\":\"portal\",\"tickets_ended\":true,\"ok\":true" "$ev"
code=$(curl -sk -b "$jar" -o /dev/null -w '%{http_code}' "$lb/queue")
[ "$code" = 303 ] && pass "the old session cookie is refused by the portal (HTTP $code to the login)" || fail "old cookie" "HTTP $code"
replay >"$TG_TMP/rp.txt"
check_grep "the kept ticket and session binding are refused by the daemon after the logout" "^ERR approver ticket ended by a logout" "$TG_TMP/rp.txt"
check_grep "(with its event naming the approver)" '"event":"quarantine_status",.*"claimed_approver":"goro","ok":false,"error":"approver ticket ended by a logout' "$ev"
