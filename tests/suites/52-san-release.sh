#!/usr/bin/env bash
# 52-san-release.sh -- tiergate-quarantined: callers known by SO_PEERCRED, admin group only, two-person rule, --to confined, every act an event.
# tier: e2e
# timeout: 120
. "$(dirname "$0")/../lib/harness.sh"
need_root
need_reachable_by nobody "$BIN/tiergate-quarantine"
# two admins and a group made for this run (removed at the end); nobody is the outsider
tag="tgr$$"
grp="${tag}g" a1="${tag}a" a2="${tag}b"
check "test group and admins created" sh -c "groupadd '$grp' && useradd -M -N -g '$grp' -s /usr/sbin/nologin '$a1' && useradd -M -N -g '$grp' -s /usr/sbin/nologin '$a2'"
on_exit "userdel '$a1'; userdel '$a2'; groupdel '$grp'"
chmod 755 "$TG_TMP"
q="$TG_TMP/quarantine" rel="$TG_TMP/release" ev="$TG_TMP/events.json"
mkdir -p "$rel/sub" "$TG_TMP/outside"
ln -s "$TG_TMP/outside" "$rel/link"
cat >"$TG_TMP/sendmail" <<EOF2
#!/bin/sh
printf '%s\n' "\$@" >"$TG_TMP/sendmail.args"
cat >"$TG_TMP/sendmail.stdin"
EOF2
chmod +x "$TG_TMP/sendmail"
cat >"$TG_TMP/q.conf" <<CONF
sanitizer = { quarantine = { dir = "$q"; sendmail = "$TG_TMP/sendmail";
                             release_socket = "$TG_TMP/run/q.sock"; admin_group = "$grp";
                             release_approvals = 2; release_dir = "$rel";
                             requests_dir = "$TG_TMP/requests"; portal_user = "nobody";
                             approvers = "$TG_TMP/approvers"; token_key = "$TG_TMP/link.key";
                             lockout_threshold = 3; };
              events = "$ev"; };
CONF
chmod 644 "$TG_TMP/q.conf"
head -c 32 /dev/urandom >"$TG_TMP/link.key" && chmod 600 "$TG_TMP/link.key"
enrol() { printf '%s\n' "$2" | "$BIN/tiergate-quarantined" --config "$TG_TMP/q.conf" --add-approver "$1"; }
sec_h=$(enrol hanako hanako-pass-1) && sec_j=$(enrol jiro jiro-pass-22) && sec_s=$(enrol saburo saburo-pass-3) &&
	pass "approvers enrolled in the daemon's own file" || fail "approvers enrolled"
[ "$(stat -c '%u %a' "$TG_TMP/approvers")" = "0 600" ] && pass "the approvers file is root's, mode 0600" ||
	fail "approvers file mode" "$(stat -c '%u %a' "$TG_TMP/approvers")"
chmod 640 "$TG_TMP/approvers"
check_fails_grep() { local name=$1 pat=$2; shift 2; if "$@" >"$TG_TMP/cf.txt" 2>&1; then fail "$name" "exit 0"; else check_grep "$name" "$pat" "$TG_TMP/cf.txt"; fi; }
check_fails_grep "a group-readable approvers file is refused at start" "approvers .* must be a file of uid 0 with mode 0600 .*mode 640" \
	"$BIN/tiergate-quarantined" --config "$TG_TMP/q.conf" -n
chmod 600 "$TG_TMP/approvers" && chown nobody "$TG_TMP/approvers"
check_fails_grep "an approvers file of the portal's user is refused at start" "approvers .* must be a file of uid 0 .*it is uid 65534" \
	"$BIN/tiergate-quarantined" --config "$TG_TMP/q.conf" -n
chown root "$TG_TMP/approvers"

# a file item (the PPAP zip) and a mail item in the store
tests/sanitizer/make-corpus.py "$TG_TMP/corpus" >/dev/null 2>&1 || fail "corpus generated"
"$BIN/tiergate-sanitize" --config "$TG_TMP/q.conf" --quarantine --out "$TG_TMP/out" "$TG_TMP/corpus/ppap.zip" >/dev/null 2>&1
fid=$(sha256sum "$TG_TMP/corpus/ppap.zip" | cut -d' ' -f1)
printf 'From: a@internet.example\nTo: staff@lgwan.example\nSubject: t\n\nbody\n' >"$TG_TMP/mail.eml"
mid=$(sha256sum "$TG_TMP/mail.eml" | cut -d' ' -f1)
cp "$TG_TMP/mail.eml" "$q/$mid"
printf '{"id":"%s","kind":"mail","name":"t","reason":"macro","size":62,"time":%s,"count":1,"findings":[],"sender":"a@internet.example","recipients":["staff@lgwan.example"]}' \
	"$mid" "$(date +%s)" >"$q/$mid.json"
[ -f "$q/$fid.json" ] && pass "file item quarantined" || fail "file item quarantined" "$(ls "$q")"

check "configuration check" "$BIN/tiergate-quarantined" --config "$TG_TMP/q.conf" -n
"$BIN/tiergate-quarantined" --config "$TG_TMP/q.conf" 2>"$TG_TMP/qd.log" &
qd=$!
on_exit "kill $qd"
wait_for 10 test -S "$TG_TMP/run/q.sock" || fail "daemon listening" "$(cat "$TG_TMP/qd.log")"

# as USER [VAR=VALUE...] -- ARGS: the client as that user, with whatever environment they like
as() {
	local user=$1
	shift
	local envs=()
	while [ "$1" != "--" ]; do envs+=("$1"); shift; done
	shift
	setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups \
		env -i PATH=/usr/bin:/bin "${envs[@]}" "$BIN/tiergate-quarantine" --config "$TG_TMP/q.conf" "$@"
}
uid_a1=$(id -u "$a1") uid_a2=$(id -u "$a2")
last_event() { grep "\"event\":\"$1\"" "$ev" | tail -n 1; }

# -- an outsider, even one who claims to be an admin
as nobody SUDO_USER="$a1" USER="$a1" -- list >"$TG_TMP/o.txt" 2>&1 && fail "nobody cannot list" || {
	grep -q "refused: not a member of the release admin group" "$TG_TMP/o.txt" &&
		pass "nobody cannot list (the daemon refused, SUDO_USER ignored)" ||
		fail "nobody cannot list" "$(cat "$TG_TMP/o.txt")"
}
check_grep "the refusal is an event naming nobody's uid" \
	'"event":"quarantine_denied","operator_uid":65534,"operator":"nobody".*"request":"LIST".*"ok":false' "$ev"
as nobody SUDO_USER="$a1" -- release "$mid" >"$TG_TMP/o.txt" 2>&1
grep -q "refused: not a member" "$TG_TMP/o.txt" && [ ! -e "$TG_TMP/sendmail.args" ] &&
	pass "nobody cannot release" || fail "nobody cannot release" "$(cat "$TG_TMP/o.txt")"

# -- an admin lying about who they are is recorded as who they are
check "admin lists" as "$a1" SUDO_USER=root USER=root -- list
check_grep "list event: operator from the kernel, not SUDO_USER" \
	"\"event\":\"quarantine_list\",\"operator_uid\":$uid_a1,\"operator\":\"$a1\"" "$ev"
check "admin shows" as "$a1" -- show "${fid:0:12}"
check_grep "show event names item and operator" "\"event\":\"quarantine_show\",\"operator_uid\":$uid_a1.*\"id\":\"$fid\"" "$ev"

# -- two-person rule on a mail
as "$a1" SUDO_USER=root -- release "$mid" >"$TG_TMP/r1.txt" 2>&1
req=$(grep -o 'request [0-9a-f]\{16\}' "$TG_TMP/r1.txt" | head -n1 | cut -d' ' -f2)
[ -n "$req" ] && grep -q "^pending" "$TG_TMP/r1.txt" && [ ! -e "$TG_TMP/sendmail.args" ] &&
	pass "first admin's release waits for a second approval" || fail "first release is pending" "$(cat "$TG_TMP/r1.txt")"
check_grep "pending release event: asked by the real admin" \
	"\"event\":\"quarantine_release\",\"operator_uid\":$uid_a1,\"operator\":\"$a1\".*\"state\":\"pending\".*\"ok\":true" "$ev"
as "$a1" -- approve "$req" >"$TG_TMP/r2.txt" 2>&1 && fail "same admin cannot approve twice" ||
	{ grep -q "cannot approve twice" "$TG_TMP/r2.txt" && [ ! -e "$TG_TMP/sendmail.args" ] &&
		pass "same admin cannot approve twice" || fail "same admin cannot approve twice" "$(cat "$TG_TMP/r2.txt")"; }
check_grep "the refused second approval is an event" \
	"\"event\":\"quarantine_approve\",\"operator_uid\":$uid_a1.*\"ok\":false,\"error\":\"the same person cannot approve twice" "$ev"
check "a second, different admin approves" as "$a2" -- approve "$req" "checked with the sender"
[ "$(tr '\n' ' ' <"$TG_TMP/sendmail.args" 2>/dev/null)" = "-i -f a@internet.example -- staff@lgwan.example " ] &&
	pass "then the mail is re-injected to its recipients" || fail "mail re-injected" "$(cat "$TG_TMP/sendmail.args" 2>&1)"
check_grep "approval event: both admins, released" \
	"\"event\":\"quarantine_approve\",\"operator_uid\":$uid_a2.*\"approvers\":\[\"$a1 \(uid $uid_a1\)\",\"$a2 \(uid $uid_a2\)\"\].*\"state\":\"released\".*\"ok\":true" "$ev"
expect_fail "a released request cannot be approved again" as "$a2" -- approve "$req"

# -- --to confined to release_dir
for bad in "/tmp/tg-release-$$.zip" "$rel/../outside/x.zip" "$rel/link/x.zip" "${rel}X/x.zip" "$rel/sub"; do
	as "$a1" -- release "$fid" --to "$bad" >"$TG_TMP/t.txt" 2>&1 || true
	req=$(grep -o 'request [0-9a-f]\{16\}' "$TG_TMP/t.txt" | head -n1 | cut -d' ' -f2)
	if [ -n "$req" ]; then as "$a2" -- approve "$req" >>"$TG_TMP/t.txt" 2>&1 || true; fi
	if grep -q "refused" "$TG_TMP/t.txt" && [ -z "$(ls -A "$TG_TMP/outside")" ] && [ ! -e "/tmp/tg-release-$$.zip" ] &&
		[ ! -e "${rel}X/x.zip" ]; then
		pass "--to $bad refused, nothing written"
	else
		fail "--to $bad refused" "$(cat "$TG_TMP/t.txt")"
	fi
done
rm -f "/tmp/tg-release-$$.zip"
check_grep "--to outside is an event with the reason" \
	"\"event\":\"quarantine_release\",\"operator_uid\":$uid_a1.*\"to\":\"/tmp/tg-release-$$.zip\".*\"ok\":false,\"error\":\"--to must be inside the release directory\"" "$ev"
as "$a1" -- release "$fid" --to "$rel/sub/ppap.zip" >"$TG_TMP/t.txt" 2>&1
req=$(grep -o 'request [0-9a-f]\{16\}' "$TG_TMP/t.txt" | head -n1 | cut -d' ' -f2)
check "file release approved by the second admin" as "$a2" -- approve "$req"
cmp -s "$TG_TMP/corpus/ppap.zip" "$rel/sub/ppap.zip" && [ "$(stat -c %a "$rel/sub/ppap.zip")" = 600 ] &&
	pass "the original is written inside release_dir, mode 0600" || fail "released file" "$(ls -l "$rel/sub")"
as "$a1" -- release "$fid" --to "$rel/sub/ppap.zip" >"$TG_TMP/t.txt" 2>&1
req=$(grep -o 'request [0-9a-f]\{16\}' "$TG_TMP/t.txt" | head -n1 | cut -d' ' -f2)
as "$a2" -- approve "$req" >"$TG_TMP/t2.txt" 2>&1 && fail "an existing file is never overwritten" ||
	{ grep -q "exists already" "$TG_TMP/t2.txt" && pass "an existing file is never overwritten (O_EXCL)" ||
		fail "existing file" "$(cat "$TG_TMP/t2.txt")"; }

# -- refusal
as "$a1" -- release "$fid" --to "$rel/refused.zip" >"$TG_TMP/t.txt" 2>&1
req=$(grep -o 'request [0-9a-f]\{16\}' "$TG_TMP/t.txt" | head -n1 | cut -d' ' -f2)
check "the second admin refuses" as "$a2" -- refuse "$req" "not needed"
[ ! -e "$rel/refused.zip" ] && pass "a refused request writes nothing" || fail "refused request wrote a file"
check_grep "refusal event with the comment" \
	"\"event\":\"quarantine_refuse\",\"operator_uid\":$uid_a2.*\"state\":\"refused\",\"comment\":\"not needed\",\"ok\":true" "$ev"
check "requests lists them" as "$a2" -- requests
check_grep "requests listing is an event too" "\"event\":\"quarantine_requests\",\"operator_uid\":$uid_a2" "$ev"

# -- the protocol's bounds, from a raw client
printf 'RELEASE\t%s\t%s\n' "$mid" "$(head -c 5000 /dev/zero | tr '\0' a)" |
	timeout 10 socat - "UNIX-CONNECT:$TG_TMP/run/q.sock" >"$TG_TMP/raw.txt" 2>&1
check_grep "an over-long request line is refused" "^ERR request must be one line" "$TG_TMP/raw.txt"

# -- a client that connects and says nothing holds only its own slot, not the daemon
setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); print("connected", flush=True)
s.settimeout(30); out = b""
while chunk := s.recv(200):
    out += chunk
print(out.decode(), end="")' "$TG_TMP/run/q.sock" >"$TG_TMP/silent.out" 2>&1 &
silent=$!
wait_for 10 grep -q connected "$TG_TMP/silent.out"
check "an admin is answered while a silent client holds a connection" as "$a1" -- list
kill -0 "$silent" 2>/dev/null && pass "(the silent client was still waiting then)" || fail "silent client still waiting" "$(cat "$TG_TMP/silent.out")"
wait "$silent"
check_grep "the silent client is refused at its deadline" "^ERR no request line within the time limit" "$TG_TMP/silent.out"

# -- the portal's verbs: only from portal_user's uid, and never on an admin's own release
raw_as() {   # raw_as USER LINE: one request line over the socket as USER, the answer on stdout
	setpriv --reuid="$1" --regid="$(id -g "$1")" --init-groups /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode() + b"\n")
out = b""
while chunk := s.recv(4096):
    out += chunk
print(out.decode(), end="")' "$TG_TMP/run/q.sock" "$2"
}
as "$a1" -- release "$fid" --to "$rel/waiting.zip" >"$TG_TMP/t.txt" 2>&1
req=$(grep -o 'request [0-9a-f]\{16\}' "$TG_TMP/t.txt" | head -n1 | cut -d' ' -f2)
sess=$(head -c 32 /dev/urandom | sha256sum | cut -d' ' -f1) sess2=$(head -c 32 /dev/urandom | sha256sum | cut -d' ' -f1)
code_at() { oathtool --totp -b "$1" --now "$(date -u -d "@$(( $(date +%s) + $2 ))" '+%Y-%m-%d %H:%M:%S UTC')"; }
plogin() {   # plogin NAME PASSWORD CODE SESSION: the ticket on stdout, the answer in $TG_TMP/login.txt
	raw_as nobody "$(printf 'PLOGIN\t%s\t%s\t%s\t127.0.0.9\t%s' "$1" "$2" "$3" "$4")" >"$TG_TMP/login.txt"
	sed -n 's/^ticket\t//p' "$TG_TMP/login.txt"
}
t_h=$(plogin hanako hanako-pass-1 "$(code_at "$sec_h" 0)" "$sess")
[ -n "$t_h" ] && pass "the daemon checks an approver's password + TOTP and answers a ticket" || fail "approver login" "$(cat "$TG_TMP/login.txt")"
check_grep "the login is the daemon's event" '"event":"quarantine_login","operator_uid":65534.*"approver":"hanako","src_ip":"127.0.0.9","ok":true' "$ev"
raw_as "$a1" "$(printf 'PAPPROVE\t%s\t%s\t%s\tok' "$t_h" "$sess" "$req")" >"$TG_TMP/p.txt"
check_grep "an admin cannot speak as the portal" "^ERR only the portal may send this request" "$TG_TMP/p.txt"
raw_as nobody "$(printf 'PAPPROVE\t%s\t%s\t%s\tok' "$t_h" "$sess" "$req")" >"$TG_TMP/p.txt"
check_grep "the portal cannot approve an admin's release" "^ERR request $req: the portal decides only recipients' requests" "$TG_TMP/p.txt"
[ ! -e "$rel/waiting.zip" ] && pass "(and nothing was written)" || fail "portal approved an admin release"
check_grep "that attempt is an event" "\"event\":\"quarantine_approve\",\"operator_uid\":65534.*\"request\":\"$req\",\"ok\":false,\"error\":\"the portal decides only recipients' requests\"" "$ev"

# -- a compromised portal: approvals name the approver the daemon verified, never the one it says
raw_as nobody "$(printf 'PAPPROVE\thanako\t%s\tok' "$req")" >"$TG_TMP/p.txt"
check_grep "the old form (a bare approver name) is refused" "^ERR malformed field" "$TG_TMP/p.txt"
check_grep "(that is an event)" '"event":"quarantine_denied","operator_uid":65534.*"request":"PAPPROVE","ok":false' "$ev"
/usr/bin/python3 tests/portal/mint-token.py "$TG_TMP/link.key" "$mid" staff@lgwan.example $(( $(date +%s) + 3600 )) >"$TG_TMP/tok.txt"
raw_as nobody "$(printf 'ASK\t%s\tneeded for the budget' "$(cat "$TG_TMP/tok.txt")")" >"$TG_TMP/ask.txt"
preq=$(sed -n '1s/^OK \([0-9a-f]\{16\}\)$/\1/p' "$TG_TMP/ask.txt")
[ -n "$preq" ] && pass "a recipient's request through the portal" || fail "recipient request" "$(cat "$TG_TMP/ask.txt")"
forged="a1.$(( $(date +%s) + 3600 )).$(printf hanako | od -An -tx1 | tr -d ' \n').$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
raw_as nobody "$(printf 'PAPPROVE\t%s\t%s\t%s\tok' "$forged" "$sess" "$preq")" >"$TG_TMP/p.txt"
check_grep "a forged ticket naming an approver is refused" "^ERR forged approver ticket" "$TG_TMP/p.txt"
check_grep "(with an event naming whom it claimed)" '"event":"quarantine_approve","operator_uid":65534.*"claimed_approver":"hanako","ok":false,"error":"forged approver ticket' "$ev"
raw_as nobody "$(printf 'PAPPROVE\t%s\t%s\t%s\tok' "$t_h" "$sess2" "$preq")" >"$TG_TMP/p.txt"
check_grep "a real ticket with another portal session is refused" "^ERR forged approver ticket or not this session" "$TG_TMP/p.txt"
raw_as nobody "$(printf 'STATUS\t%s\t%s' "$forged" "$sess")" >"$TG_TMP/p.txt"
check_grep "the status page needs a valid ticket too" "^ERR forged approver ticket" "$TG_TMP/p.txt"
raw_as nobody "$(printf 'PAPPROVE\t%s\t%s\t%s\tok' "$t_h" "$sess" "$preq")" >"$TG_TMP/p.txt"
check_grep "hanako's ticket gives the first approval" "^OK pending" "$TG_TMP/p.txt"
t_h2=$(plogin hanako hanako-pass-1 "$(code_at "$sec_h" 30)" "$sess2")
[ -n "$t_h2" ] && [ "$t_h2" != "$t_h" ] && pass "hanako logs in a second time (next TOTP step): another ticket" ||
	fail "second login" "$(cat "$TG_TMP/login.txt")"
raw_as nobody "$(printf 'PAPPROVE\t%s\t%s\t%s\tok' "$t_h2" "$sess2" "$preq")" >"$TG_TMP/p.txt"
check_grep "a second approval with another ticket of the same approver is refused" "^ERR the same person cannot approve twice" "$TG_TMP/p.txt"
raw_as nobody "$(printf 'PLOGIN\thanako\thanako-pass-1\t%s\t127.0.0.9\t%s' "$(code_at "$sec_h" 30)" "$sess")" >"$TG_TMP/p.txt"
check_grep "a TOTP code is good once" "^ERR wrong or reused TOTP code" "$TG_TMP/p.txt"
t_j=$(plogin jiro jiro-pass-22 "$(code_at "$sec_j" 0)" "$sess2")
raw_as nobody "$(printf 'PAPPROVE\t%s\t%s\t%s' "$t_j" "$sess2" "$preq")" >"$TG_TMP/p.txt"
check_grep "a second, different approver releases" "^OK released $mid" "$TG_TMP/p.txt"
check_grep "the release event names both daemon-verified approvers" "\"event\":\"quarantine_approve\".*\"request\":\"$preq\".*\"approvers\":\[\"hanako \(portal\)\",\"jiro \(portal\)\"\].*\"state\":\"released\"" "$ev"

# -- logging out ends the ticket in the daemon (PLOGOUT from the portal, LOGOUT NAME from an admin)
status_as_portal() { raw_as nobody "$(printf 'STATUS\t%s\t%s' "$1" "$2")" >"$TG_TMP/p.txt"; }
raw_as nobody "$(printf 'PLOGOUT\t%s\t%s' "$forged" "$sess2")" >"$TG_TMP/p.txt"
check_grep "a logout with a forged ticket is refused" "^ERR forged approver ticket" "$TG_TMP/p.txt"
check_grep "(an event naming whom it claimed)" '"event":"quarantine_logout","operator_uid":65534.*"claimed_approver":"hanako","ok":false,"error":"forged approver ticket' "$ev"
raw_as nobody "$(printf 'PLOGOUT\t%s\t%s' "$t_j" "$sess")" >"$TG_TMP/p.txt"
check_grep "a logout with a real ticket but another session is refused" "^ERR forged approver ticket or not this session" "$TG_TMP/p.txt"
status_as_portal "$t_j" "$sess2"
check_grep "(neither revoked anything: jiro's ticket still works)" "^OK [0-9]* item" "$TG_TMP/p.txt"
status_as_portal "$t_h" "$sess"
check_grep "(nor hanako's)" "^OK [0-9]* item" "$TG_TMP/p.txt"
raw_as nobody "$(printf 'PLOGOUT\t%s\t%s' "$t_j" "$sess2")" >"$TG_TMP/p.txt"
check_grep "jiro logs out through the portal" "^OK approver jiro logged out" "$TG_TMP/p.txt"
check_grep "(the daemon's event)" '"event":"quarantine_logout","operator_uid":65534.*"approver":"jiro","by":"portal","tickets_ended":true,"ok":true' "$ev"
status_as_portal "$t_j" "$sess2"
check_grep "jiro's ticket is refused after the logout" "^ERR approver ticket ended by a logout" "$TG_TMP/p.txt"
check_grep "(with its event)" '"event":"quarantine_status","operator_uid":65534.*"claimed_approver":"jiro","ok":false,"error":"approver ticket ended by a logout' "$ev"
raw_as nobody "$(printf 'PREFUSE\t%s\t%s\t%s\tno' "$t_j" "$sess2" "$req")" >"$TG_TMP/p.txt"
check_grep "(for decisions too)" "^ERR approver ticket ended by a logout" "$TG_TMP/p.txt"
t_j2=$(plogin jiro jiro-pass-22 "$(code_at "$sec_j" 30)" "$sess")
status_as_portal "$t_j2" "$sess"
[ -n "$t_j2" ] && check_grep "jiro's next login gives a ticket the logout does not touch" "^OK [0-9]* item" "$TG_TMP/p.txt" ||
	fail "login after logout" "$(cat "$TG_TMP/login.txt")"
raw_as nobody "$(printf 'LOGOUT\thanako')" >"$TG_TMP/p.txt"
check_grep "the portal cannot end an approver's tickets by name" "^ERR not a member of the release admin group" "$TG_TMP/p.txt"
check_grep "(that is an event)" '"event":"quarantine_denied","operator_uid":65534.*"request":"LOGOUT","ok":false' "$ev"
status_as_portal "$t_h" "$sess"
check_grep "(hanako's ticket still works)" "^OK [0-9]* item" "$TG_TMP/p.txt"
as "$a1" -- logout hanako >"$TG_TMP/lo.txt" 2>&1
check_grep "an admin ends every ticket of hanako (a stolen laptop)" "approver hanako: every ticket ended" "$TG_TMP/lo.txt"
check_grep "(the event names the operator from the kernel)" "\"event\":\"quarantine_logout\",\"operator_uid\":$uid_a1,\"operator\":\"$a1\".*\"approver\":\"hanako\",\"by\":\"admin\",\"tickets_ended\":true,\"ok\":true" "$ev"
status_as_portal "$t_h" "$sess"
check_grep "hanako's first ticket is refused" "^ERR approver ticket ended by a logout" "$TG_TMP/p.txt"
status_as_portal "$t_h2" "$sess2"
check_grep "hanako's second ticket (another session) is refused" "^ERR approver ticket ended by a logout" "$TG_TMP/p.txt"
status_as_portal "$t_j2" "$sess"
check_grep "another approver's ticket still works" "^OK [0-9]* item" "$TG_TMP/p.txt"

# -- approver lockout: kept by the daemon, across restarts, lifted by an admin
for _ in 1 2 3; do plogin saburo saburo-pass-3 000000 "$sess" >/dev/null; done
check_grep "wrong TOTP codes lock the approver (an event)" '"event":"quarantine_lockout","operator_uid":65534.*"kind":"user","target":"saburo","seconds":60' "$ev"
good=$(code_at "$sec_s" 0)
[ -z "$(plogin saburo saburo-pass-3 "$good" "$sess")" ] && check_grep "the right code is then refused: locked out" "^ERR account locked out" "$TG_TMP/login.txt" ||
	fail "locked approver refused" "$(cat "$TG_TMP/login.txt")"
check_grep "(the refusal is an event)" '"event":"quarantine_login".*"approver":"saburo".*"ok":false,"error":"account locked out' "$ev"
kill "$qd"; wait "$qd" 2>/dev/null
"$BIN/tiergate-quarantined" --config "$TG_TMP/q.conf" 2>>"$TG_TMP/qd.log" &
qd=$!
on_exit "kill $qd"
wait_for 10 test -S "$TG_TMP/run/q.sock" || fail "daemon listening again" "$(cat "$TG_TMP/qd.log")"
[ -z "$(plogin saburo saburo-pass-3 "$(code_at "$sec_s" 30)" "$sess")" ] && check_grep "a restart does not lift the lockout" "^ERR account locked out" "$TG_TMP/login.txt" ||
	fail "lockout survives a restart" "$(cat "$TG_TMP/login.txt")"
check "an admin lifts it" as "$a1" -- unlock saburo
check_grep "(the unlock is an event)" "\"event\":\"quarantine_unlock\",\"operator_uid\":$uid_a1.*\"kind\":\"user\",\"target\":\"saburo\",\"was_counted\":true,\"ok\":true" "$ev"
[ -n "$(plogin saburo saburo-pass-3 "$(code_at "$sec_s" 30)" "$sess")" ] && pass "after the unlock the right code logs in" ||
	fail "login after unlock" "$(cat "$TG_TMP/login.txt")"
raw_as nobody "$(printf 'UNLOCK\tsaburo')" >"$TG_TMP/p.txt"
check_grep "the portal cannot unlock" "^ERR not a member of the release admin group" "$TG_TMP/p.txt"
