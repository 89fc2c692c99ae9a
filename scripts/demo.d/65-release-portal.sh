#!/usr/bin/env bash
# the 原本 release portal: a recipient asks for an original, two approvers (password + TOTP) release it, all audited
set -u
cd "${TIERGATE_ROOT:-$(dirname "$0")/../..}" || exit 1
B="${TIERGATE_BUILD:-build}/bin"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tg-demo-portal.XXXXXX")
chmod 755 "$tmp"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
[ "$(id -u)" = 0 ] || { echo "(needs root: the release daemon runs as root, the portal drops to nobody)"; exit 0; }
port=$((30000 + RANDOM % 20000))
q="$tmp/quarantine" base="https://127.0.0.1:$port"

# the quarantined original of a mail with a macro workbook (as the milter stores it)
mkdir -p "$q"
printf 'From: sender@example.co.jp\nTo: taro@city.example\nSubject: budget\n\n(the original, with budget.xlsm)\n' >"$tmp/m.eml"
qid=$(sha256sum "$tmp/m.eml" | cut -d' ' -f1)
cp "$tmp/m.eml" "$q/$qid"
printf '{"id":"%s","kind":"mail","name":"予算集計表（マクロ付き）","reason":"original of a sanitized mail","size":80,"time":%s,"count":1,"findings":["budget.xlsm (application/vnd.ms-excel.sheet.macroEnabled.12, 20480 bytes): text -> budget.xlsm.txt"],"sender":"sender@example.co.jp","recipients":["taro@city.example","hanako@city.example"]}' \
	"$qid" "$(date +%s)" >"$q/$qid.json"
printf '#!/bin/sh\necho "sendmail $*" >>%s/sent.txt\ncat >/dev/null\n' "$tmp" >"$tmp/sendmail" && chmod 755 "$tmp/sendmail"
head -c 32 /dev/urandom >"$tmp/link.key"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
	-keyout "$tmp/portal.key" -out "$tmp/portal.crt" 2>/dev/null
cat >"$tmp/site.conf" <<CONF
sanitizer = { quarantine = { dir = "$q"; sendmail = "$tmp/sendmail"; release_socket = "$tmp/run/q.sock";
                             admin_group = "root"; release_approvals = 2; requests_dir = "$tmp/requests";
                             portal_user = "nobody"; token_key = "$tmp/link.key"; portal_url = "$base";
                             approvers = "$tmp/approvers"; };
              events = "$tmp/events.json"; };
portal = { listen = "127.0.0.1:$port"; cert = "$tmp/portal.crt"; key = "$tmp/portal.key";
           socket = "$tmp/run/q.sock"; user = "nobody"; events = "$tmp/portal.json"; };
CONF
echo "\$ tiergate-quarantined --config site.conf --add-approver kacho    (password on stdin; prints the TOTP secret for the phone)"
echo "  (the approvers file is the release daemon's, root 0600: the portal never sees a hash or a secret)"
s1=$(echo 'kacho-password' | "$B/tiergate-quarantined" --config "$tmp/site.conf" --add-approver kacho)
s2=$(echo 'kakaricho-password' | "$B/tiergate-quarantined" --config "$tmp/site.conf" --add-approver kakaricho)
echo "  kacho: TOTP secret ${s1:0:6}...   kakaricho: TOTP secret ${s2:0:6}..."
"$B/tiergate-quarantined" --config "$tmp/site.conf" 2>/dev/null & pids+=($!)
"$B/tiergate-portal" --config "$tmp/site.conf" 2>/dev/null & pids+=($!)
for _ in $(seq 50); do [ -S "$tmp/run/q.sock" ] && curl -sk -o /dev/null "$base/" && break; sleep 0.1; done

link="$base/r?t=$(tests/portal/mint-token.py "$tmp/link.key" "$qid" taro@city.example $(( $(date +%s) + 14 * 86400 )))"
echo
echo "The notice in taro's sanitized mail carries his own link: ${link:0:60}..."
text() { sed -e 's/<[^>]*>/ /g' -e 's/&gt;/>/g' -e 's/&lt;/</g' -e 's/&amp;/\&/g' -e 's/  */ /g' | grep -v '^ *$'; }
page=$(curl -sk "$link")
echo "What taro sees (Japanese first, English beside; never the original's content):"
printf '%s\n' "$page" | text | sed -n '2,11p' | sed 's/^/  | /'
csrf=$(printf '%s' "$page" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p')
curl -sk -o /dev/null --data-urlencode "t=${link#*t=}" --data "csrf=$csrf" --data-urlencode "reason=予算の集計にマクロが必要です" "$base/r"
tok=${link#*t=} mac=${link##*.}
echo "taro asks, with a reason.  His link with one character of the MAC changed:"
curl -sk "$base/r?t=${tok%.*}.$( [ "${mac:0:1}" = A ] && echo B || echo A)${mac:1}" | text | grep -A1 '無効' | sed 's/^/  | /'

approve() {   # approve USER PASSWORD SECRET: log in with password + TOTP, approve the first pending request
	local jar="$tmp/$1.jar" pre csrf req
	curl -sk -c "$jar" -o "$tmp/login.html" "$base/login"
	csrf=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$tmp/login.html")
	curl -sk -b "$jar" -c "$jar" -o /dev/null --data "user=$1&password=$2&otp=$(oathtool --totp -b "$3")&csrf=$csrf" "$base/login"
	curl -sk -b "$jar" -o "$tmp/queue.html" "$base/queue"
	req=$(sed -n 's/.*name="req" value="\([0-9a-f]*\)".*/\1/p' "$tmp/queue.html" | head -n1)
	csrf=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$tmp/queue.html" | head -n1)
	curl -sk -b "$jar" --data "req=$req&csrf=$csrf&action=approve&comment=ok" "$base/decide" | text | grep -A1 '承認しました\|できませんでした' | sed 's/^/  | /'
}
echo
echo "kacho logs in (password + TOTP) and approves; with release_approvals = 2 it waits:"
approve kacho kacho-password "$s1"
echo "kakaricho, a second approver, approves:"
approve kakaricho kakaricho-password "$s2"
echo "re-injected to taro only: $(cat "$tmp/sent.txt" 2>/dev/null)"
echo
echo "\$ tiergate-quarantine --config site.conf requests     (root is in admin_group here)"
"$B/tiergate-quarantine" --config "$tmp/site.conf" requests 2>/dev/null | /usr/bin/python3 -c '
import json, sys
for r in json.load(sys.stdin):
    print("  %s  %-9s %-18s asked by %s: %s; approved by %s" % (r["request"], r["state"], r.get("rcpt", "-"),
          r["asked_by"], r.get("reason", "-"), ", ".join(r["approvers"])))'
echo "The audit trail (tiergate-quarantined's events; operator = the portal's uid, approvers as the daemon verified them):"
grep -o '"event":"quarantine_[a-z]*".\{0,60\}\|"approver":"[a-z]*"\|"approvers":\[[^]]*\],"approvals_needed":[0-9],"state":"[a-z]*"' "$tmp/events.json" |
	sed 's/^/  /' | head -n 16
echo
echo "A portal that would claim an approver without the daemon's ticket is refused (as the portal's uid):"
setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(("PAPPROVE\ta1.9999999999.6b6163686f.%s\t%s\t0123456789abcdef\n" % ("0" * 64, "0" * 64)).encode())
print("  | " + s.recv(4096).decode().splitlines()[0])' "$tmp/run/q.sock"
for _ in 1 2 3 4 5; do
	curl -sk -c "$tmp/x.jar" -o "$tmp/l.html" "$base/login"
	c=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$tmp/l.html")
	curl -sk -b "$tmp/x.jar" -o /dev/null --data "user=kacho&password=kacho-password&otp=000000&csrf=$c" "$base/login"
done
echo "Five wrong TOTP codes for kacho: the daemon locks the account (kept across restarts):"
grep -o '"event":"quarantine_lockout".*"target":"kacho","seconds":[0-9]*' "$tmp/events.json" | sed 's/"operator_pid":[0-9]*,//; s/^/  | /'
echo "\$ tiergate-quarantine --config site.conf unlock kacho"
"$B/tiergate-quarantine" --config "$tmp/site.conf" unlock kacho 2>&1 | sed 's/^/  | /' 
echo
echo "kakaricho logs out: the portal hands the ticket back and the daemon ends it (a portal taken over later cannot use it):"
csrf=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$tmp/queue.html" | head -n1)
curl -sk -b "$tmp/kakaricho.jar" -o /dev/null --data "csrf=$csrf" "$base/logout"
grep -o '"event":"quarantine_logout".*"approver":"kakaricho".*' "$tmp/events.json" | sed 's/"operator_pid":[0-9]*,//; s/,"prev".*//; s/^/  | /'
echo "\$ tiergate-quarantine --config site.conf logout kacho     (a stolen laptop: every ticket of kacho ends at once)"
"$B/tiergate-quarantine" --config "$tmp/site.conf" logout kacho 2>&1 | sed 's/^/  | /'
grep -o '"event":"quarantine_logout".*"approver":"kacho".*' "$tmp/events.json" | sed 's/"operator_pid":[0-9]*,//; s/,"prev".*//; s/^/  | /'
