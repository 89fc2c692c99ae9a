#!/usr/bin/env bash
# 52-san-release.sh -- tiergate-quarantined: callers known by SO_PEERCRED, admin group only, two-person rule, --to confined, every act an event.
# tier: e2e
# timeout: 120
. "$(dirname "$0")/../lib/harness.sh"
need_root
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
                             requests_dir = "$TG_TMP/requests"; portal_user = "nobody"; };
              events = "$ev"; };
CONF
chmod 644 "$TG_TMP/q.conf"

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
raw_as "$a1" "$(printf 'PAPPROVE\thanako\t%s\tok' "$req")" >"$TG_TMP/p.txt"
check_grep "an admin cannot speak as the portal" "^ERR only the portal may send this request" "$TG_TMP/p.txt"
raw_as nobody "$(printf 'PAPPROVE\thanako\t%s\tok' "$req")" >"$TG_TMP/p.txt"
check_grep "the portal cannot approve an admin's release" "^ERR request $req: the portal decides only recipients' requests" "$TG_TMP/p.txt"
[ ! -e "$rel/waiting.zip" ] && pass "(and nothing was written)" || fail "portal approved an admin release"
check_grep "that attempt is an event" "\"event\":\"quarantine_approve\",\"operator_uid\":65534.*\"request\":\"$req\",\"ok\":false,\"error\":\"the portal decides only recipients' requests\"" "$ev"
