#!/usr/bin/env bash
# 53-san-spool-race.sh -- spool claim race: a symlink to a secret swapped with a file (RENAME_EXCHANGE) while tiergate-spoold claims; outbox mode and group.
# tier: e2e
# timeout: 900
. "$(dirname "$0")/../lib/harness.sh"
sp="$TG_TMP/spool" claims=${RACE_CLAIMS:-10000}
mkdir -p "$sp/inbox"
secret="$TG_TMP/secret.txt"
token="SECRET-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
printf 'top secret: %s\n' "$token" >"$secret"
chmod 0644 "$secret"
group=$(getent group nogroup >/dev/null && echo nogroup || echo daemon)
cat >"$TG_TMP/spool.conf" <<CONF
sanitizer = { quarantine = { dir = "$sp/quarantine"; }; };
spool = { inbox = "$sp/inbox"; outbox = "$sp/outbox"; state_dir = "$sp/state"; workers = 2;
          stable_seconds = 3600; outbox_mode = "0640"; outbox_group = "$group"; };
CONF
check "configuration OK" "$BIN/tiergate-spoold" --config "$TG_TMP/spool.conf" --check
printf 'spool = { inbox = "/x"; outbox = "/y"; state_dir = "/z"; outbox_mode = "0666"; };\n' >"$TG_TMP/bad.conf"
if out=$("$BIN/tiergate-spoold" --config "$TG_TMP/bad.conf" --check 2>&1); then
	fail "world-writable outbox_mode refused" "accepted"
else
	echo "$out" | grep -q "bad.conf:1.*outbox_mode" && pass "world-writable outbox_mode refused with file, line and reason" ||
		fail "world-writable outbox_mode refused with file, line and reason" "$out"
fi

"$BIN/tiergate-spoold" --config "$TG_TMP/spool.conf" >>"$sp/daemon.log" 2>&1 &
pid=$!
on_exit "kill -9 $pid"
wait_for 10 grep -q "watching" "$sp/daemon.log" || fail "daemon started" "$(tail -5 "$sp/daemon.log")"

# the loop: every round ends with the daemon having claimed race-K.txt (the file or the symlink)
if counts=$("$TIERGATE_BUILD/t/swaprace" "$sp/inbox" "$secret" "$claims" 600); then
	pass "swap loop ran to $claims claims ($counts)"
else
	fail "swap loop ran to $claims claims" "exit $? ($counts)"
fi
read -r _ rounds _ swaps _ regular _ symlinks <<<"$counts"
[ "${swaps:-0}" -ge "$claims" ] && pass "the file and the symlink really were swapped ($swaps swaps)" ||
	fail "the file and the symlink really were swapped" "$swaps swaps"
drained() { [ -z "$(ls -A "$sp/state/work")" ] && [ "$(ls "$sp/outbox" | grep -c '^race-')" -ge "${regular:-1}" ]; }
if wait_for 600 drained; then pass "daemon went through every claimed file"; else fail "daemon went through every claimed file" "$(ls "$sp/state/work" | wc -l) left in work"; fi
outputs=$(ls "$sp/outbox" | grep -c '^race-')
rejected=$(ls "$sp/state/rejected" | grep -c 'race-')
[ $((outputs + rejected)) -ge "$rounds" ] && pass "every claim accounted for: $outputs sanitized, $rejected symlinks set aside (of $rounds)" ||
	fail "every claim accounted for" "$outputs outputs + $rejected rejected < $rounds rounds"
# the point of it all: not one byte of the secret crossed
if grep -rqF "$token" "$sp/outbox" "$sp/state/reports" "$sp/quarantine" 2>/dev/null; then
	fail "the secret never reaches the outbox" "$(grep -rlF "$token" "$sp/outbox" | head -3)"
else
	[ "$outputs" -gt 0 ] && grep -qF "harmless round" "$sp/outbox/$(ls "$sp/outbox" | grep -m1 '^race-')" &&
		pass "the secret never reaches the outbox ($outputs outputs read, all harmless)" ||
		fail "the secret never reaches the outbox" "no output to look at"
fi
grep -q "is not one regular file" "$sp/daemon.log" && pass "a claimed symlink is refused with a reason in the log" ||
	{ [ "$symlinks" = 0 ] && pass "no symlink got past the claim check ($symlinks taken)" || fail "a claimed symlink is refused with a reason in the log"; }

# outbox files: the configured mode and group, never world-readable
f="$sp/outbox/$(ls "$sp/outbox" | grep -m1 '^race-')"
perm=$(stat -c '%a %G' "$f")
[ "$perm" = "640 $group" ] && pass "outbox file mode and group as configured ($perm)" || fail "outbox file mode and group as configured" "$perm"
world=$(find "$sp/outbox" -type f -perm -o=r | wc -l)
[ "$world" = 0 ] && pass "no outbox file is world-readable" || fail "no outbox file is world-readable" "$world are"

# a FIFO dropped in the inbox must not hang the daemon: a file after it still comes through
mkfifo "$sp/inbox/pipe.txt"
printf 'after the fifo\n' >"$sp/inbox/after.txt"
if wait_for 20 test -s "$sp/outbox/after.txt"; then pass "a FIFO in the inbox does not hang the daemon"; else fail "a FIFO in the inbox does not hang the daemon"; fi
kill -TERM "$pid"
wait_for 30 sh -c "! kill -0 $pid 2>/dev/null" && pass "daemon stops cleanly" || fail "daemon stops cleanly"
