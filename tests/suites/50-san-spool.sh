#!/usr/bin/env bash
# 50-san-spool.sh -- tiergate-spoold: inbox to outbox, quarantine, half-written files, restarts (TERM and KILL) without loss or duplicates.
# tier: e2e
# timeout: 300
. "$(dirname "$0")/../lib/harness.sh"
corpus="$TG_TMP/corpus" sp="$TG_TMP/spool"
tests/sanitizer/make-corpus.py "$corpus" >/dev/null 2>&1 || { fail "corpus generated"; exit 1; }
mkdir -p "$sp/inbox"
cat >"$TG_TMP/spool.conf" <<CONF
sanitizer = { quarantine = { dir = "$sp/quarantine"; }; events = "$sp/sanitizer.json"; };
spool = { inbox = "$sp/inbox"; outbox = "$sp/outbox"; state_dir = "$sp/state"; workers = 2;
          stable_seconds = 2; events = "$sp/spool.json"; };
CONF
check "configuration OK" "$BIN/tiergate-spoold" --config "$TG_TMP/spool.conf" --check

pid=""
start() {
	"$BIN/tiergate-spoold" --config "$TG_TMP/spool.conf" >>"$sp/daemon.log" 2>&1 &
	pid=$!
	on_exit "kill -9 $pid"
	wait_for 10 grep -q "watching" "$sp/daemon.log"
}
outbox_has() { [ -s "$sp/outbox/$1" ]; }
idle() { [ -z "$(ls -A "$sp/inbox" | grep -v '^\.' | grep -v '\.part$')" ] && [ -z "$(ls -A "$sp/state/work")" ]; }

# a file present before the daemon starts is taken by the start-up scan once quiet
cp "$corpus/report.docx" "$sp/inbox/"
touch -d '-1 minute' "$sp/inbox/report.docx"
start
if wait_for 20 outbox_has report.docx.txt; then pass "start-up scan takes a file left in the inbox"; else fail "start-up scan takes a file left in the inbox"; fi

# the usual drop: write under .part, rename in
cp "$corpus/js.pdf" "$sp/inbox/js.pdf.part" && mv "$sp/inbox/js.pdf.part" "$sp/inbox/js.pdf"
cp "$corpus/invoice.pdf" "$sp/inbox/invoice.pdf"
echo "ignored" >"$sp/inbox/.hidden"
echo "half" >"$sp/inbox/big.bin.part"
# a slow writer: one open, two writes 3 s apart -- must not be taken half-written
( printf 'first part, '; sleep 3; printf 'second part\n' ) >"$sp/inbox/slow.txt" &
writer=$!
if wait_for 20 outbox_has js.pdf; then pass "renamed-in PDF sanitized into the outbox"; else fail "renamed-in PDF sanitized into the outbox"; fi
wait $writer
if wait_for 20 outbox_has slow.txt && grep -q "first part, second part" "$sp/outbox/slow.txt"; then
	pass "slowly written file taken only when complete"
else
	fail "slowly written file taken only when complete" "$(cat "$sp/outbox/slow.txt" 2>&1)"
fi
check "flattened output is a valid PDF" qpdf --check "$sp/outbox/js.pdf"
if wait_for 20 sh -c "ls '$sp/quarantine' | grep -q '\.json$'"; then pass "blocked file (exe named .pdf) went to quarantine"; else fail "blocked file (exe named .pdf) went to quarantine"; fi
# (judged once the daemon has dealt with it: its spool event says blocked, and the outbox is being written)
wait_for 10 grep -q '"event":"spool".*"name":"invoice.pdf"' "$sp/spool.json"
grep -q '"event":"spool".*"name":"invoice.pdf".*"action":"blocked"' "$sp/spool.json" && [ -s "$sp/outbox/js.pdf" ] &&
	[ ! -e "$sp/outbox/invoice.pdf" ] && pass "blocked file not in the outbox" ||
	fail "blocked file not in the outbox" "$(ls "$sp/outbox" 2>&1 | tr '\n' ' ')"
# dropped by root here: no owner to give a request link to, so the notice says whom to ask, with the outbox's mode
qid=$(sed -n 's/.*"name":"invoice.pdf".*"quarantine_id":"\([0-9a-f]*\)".*/\1/p' "$sp/spool.json" | head -n 1)
n="$sp/outbox/invoice.pdf.blocked.txt"
[ -n "$qid" ] && grep -q "^隔離 ID / Quarantine ID: $qid\$" "$n" && grep -q "give your administrator the quarantine ID" "$n" &&
    grep -q "^理由 / Reason: ." "$n" && [ "$(stat -c %a "$n")" = 640 ] &&
	pass "a notice (invoice.pdf.blocked.txt, 0640) gives the reason and the quarantine id $qid instead of the file" ||
	fail "blocked-file notice" "qid '$qid': $(ls -l "$n" 2>&1; head -8 "$n" 2>&1)"
[ -e "$sp/inbox/.hidden" ] && [ -e "$sp/inbox/big.bin.part" ] && pass "dotfiles and .part files left alone" || fail "dotfiles and .part files left alone"
check_grep "a spool event per file" '"event":"spool".*"name":"invoice.pdf".*"action":"blocked"' "$sp/spool.json"

# a second, different file of the same name while the first waits in the outbox: kept apart
printf 'second version\n' >"$sp/inbox/slow.txt.part" && mv "$sp/inbox/slow.txt.part" "$sp/inbox/slow.txt"
if wait_for 20 outbox_has "slow (2).txt" && grep -q "first part" "$sp/outbox/slow.txt" && grep -q "second version" "$sp/outbox/slow (2).txt"; then
	pass "same name again: written beside the waiting file, not over it"
else
	fail "same name again: written beside the waiting file, not over it" "$(ls "$sp/outbox")"
fi

# restart mid-way with SIGTERM: files in flight finish, queued ones wait in state/work
for i in $(seq 1 8); do cp "$corpus/many-pages.pdf" "$sp/inbox/batch-$i.pdf.part"; mv "$sp/inbox/batch-$i.pdf.part" "$sp/inbox/batch-$i.pdf"; done
sleep 0.5
kill -TERM "$pid"
if wait_for 60 sh -c "! kill -0 $pid 2>/dev/null"; then pass "SIGTERM: daemon stops cleanly"; else fail "SIGTERM: daemon stops cleanly"; fi
left=$(ls "$sp/state/work" | wc -l)
start
# and a hard kill in the middle of the next round
for i in $(seq 9 12); do cp "$corpus/many-pages.pdf" "$sp/inbox/batch-$i.pdf.part"; mv "$sp/inbox/batch-$i.pdf.part" "$sp/inbox/batch-$i.pdf"; done
sleep 1
kill -9 "$pid"
sleep 0.2
start
if wait_for 120 idle; then pass "after TERM ($left left queued) and KILL restarts: inbox and work dir drained"; else fail "inbox and work dir drained" "$(ls "$sp/inbox" "$sp/state/work")"; fi
missing=""
for i in $(seq 1 12); do outbox_has "batch-$i.pdf" || missing="$missing batch-$i.pdf"; done
[ -z "$missing" ] && pass "no file lost across restarts (12 of 12 in the outbox)" || fail "no file lost across restarts" "missing:$missing"
extra=$(ls "$sp/outbox" | grep -c '^batch-')
[ "$extra" = 12 ] && pass "no file duplicated (12 outputs for 12 inputs)" || fail "no file duplicated" "$extra outputs"
bad=0
for i in $(seq 1 12); do qpdf --check "$sp/outbox/batch-$i.pdf" >/dev/null 2>&1 || bad=$((bad + 1)); done
[ $bad = 0 ] && pass "every output after restarts is a complete PDF" || fail "every output after restarts is a complete PDF" "$bad broken"
kill -TERM "$pid"
wait_for 30 sh -c "! kill -0 $pid 2>/dev/null"
