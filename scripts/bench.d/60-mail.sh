#!/usr/bin/env bash
# mail 無害化: messages/s in-process and through Postfix + tiergate-milter, memory per message in flight
#
# Never fails on speed. Needs root for the Postfix part (a private instance under a temp
# directory, as in tests/suites/61-mail-postfix.sh); without root that part is skipped.
set -u
cd "$(dirname "$0")/../.." || exit 2
ROOT=$(pwd)
BIN="${TIERGATE_BUILD:-$ROOT/build}/bin"
# Quick mode (make test): a tenth of the mails; the same lines.
TEXT_N=200 PDF_N=20
[ -n "${BENCH_QUICK:-}" ] && TEXT_N=20 PDF_N=4
tmp=$(mktemp -d /tmp/tg-bench-mail.XXXXXX)
chmod 755 "$tmp"
cleanup() {
	[ -n "${milter_pid:-}" ] && kill "$milter_pid" 2>/dev/null
	[ -d "$tmp/san/etc" ] && postfix -c "$tmp/san/etc" stop >/dev/null 2>&1
	[ -n "${user:-}" ] && userdel "$user" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# Two mails as an Outlook user in Japan sends them: text only, and with a 5-page PDF.
python3 - "$ROOT/tests/mail/make-corpus.py" "$tmp" <<'PY'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("corpus", sys.argv[1]); c = importlib.util.module_from_spec(spec); spec.loader.exec_module(c)
body = c.text_part("お世話になっております。\n資料をお送りします。\n" * 20)
text = c.head(c.w2047("会議のお知らせ")).replace("%MSGID%", "bench-text") + "MIME-Version: 1.0\n" + body
pdfm = c.head(c.w2047("資料送付")).replace("%MSGID%", "bench-pdf") + c.mixed([body, c.att(c.pdf("tiergate bench", 5), "application/pdf", "; filename=\"%s\"" % c.w2047("資料.pdf"))])
open(sys.argv[2] + "/text.eml", "wb").write(text.encode("latin-1"))
open(sys.argv[2] + "/pdf.eml", "wb").write(pdfm.encode("latin-1"))
PY
cat >"$tmp/site.conf" <<CONF
sanitizer = { quarantine = { dir = "$tmp/quarantine"; }; };
milter = { listen = "inet:$((30000 + RANDOM % 20000))@127.0.0.1"; spool_dir = "$tmp/spool"; events = "$tmp/events.json"; max_workers = 2; };
CONF

echo "== in-process (one tiergate-sanitize process, the same mail rebuilt N times, original quarantined each time)"
for kind in "text:$TEXT_N" "pdf:$PDF_N"; do
	name=${kind%%:*} n=${kind##*:}
	r=$("$BIN/tiergate-sanitize" --mail "$tmp/$name.eml" --out "$tmp/out.eml" --config "$tmp/site.conf" --repeat "$n" 2>/dev/null)
	printf '  %-28s %s\n' "$name mail ($(stat -c %s "$tmp/$name.eml") bytes):" \
		"$(printf '%s' "$r" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.1f messages/s (%d in %.2f s)" % (d["messages_per_s"], d["messages"], d["usec"]/1e6))')"
done

echo "== memory per message in flight (the per-message worker, peak RSS incl. its file-sanitizer child)"
for name in text pdf; do
	kb=$(python3 - "$BIN/tiergate-milter" "$tmp/site.conf" "$tmp/$name.eml" <<'PY'
import os, resource, subprocess, sys
with open(sys.argv[3], "rb") as f:   # fd 3 takes the worker's "BODY_AT N_ADDED" line
    subprocess.run([sys.argv[1], "--worker", "--config", sys.argv[2], "--sender", "a@b", "--rcpt", "c@d"],
                   stdin=f, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                   preexec_fn=lambda: os.dup2(os.open(os.devnull, os.O_WRONLY), 3))
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
)
	printf '  %-28s %s KB peak RSS (one-shot worker; zygote children share most of it copy-on-write); the daemon holds at most spill_kb of the message\n' "$name mail:" "$kb"
done

if [ "$(id -u)" != 0 ] || ! command -v postfix >/dev/null; then
	echo "== end to end: skipped (needs root and postfix)"
	exit 0
fi
echo "== end to end: SMTP (4 connections) -> Postfix smtpd -> tiergate-milter -> local Maildir"
user="tgbench$$"
useradd -M -d "$tmp/home" -s /usr/sbin/nologin "$user" && mkdir -p "$tmp/home" && chown "$user" "$tmp/home"
port=$((30000 + RANDOM % 20000))
mport=$(sed -n 's/.*inet:\([0-9]*\)@.*/\1/p' "$tmp/site.conf")
"$BIN/tiergate-milter" --config "$tmp/site.conf" >"$tmp/milter.log" 2>&1 &
milter_pid=$!
"$ROOT/tests/mail/postfix-instance.sh" "$tmp/san" san "$port" "mydestination = tiergate.test" \
	"smtpd_milters = inet:127.0.0.1:$mport" "milter_default_action = tempfail" "milter_protocol = 6" \
	"default_process_limit = 20" >"$tmp/postfix.log" 2>&1 || { echo "  postfix did not start"; exit 0; }
sleep 1
# send_batch LABEL NAME COUNT: COUNT copies of NAME.eml over 4 SMTP connections (Python smtplib,
# so the sender is not what is measured; swaks starts a Perl per mail), timed until delivered
send_batch() {
	local label=$1 name=$2 n=$3 before start got secs deadline
	before=$(ls "$tmp/home/Maildir/new" 2>/dev/null | wc -l)
	start=$(date +%s.%N)
	python3 - "$port" "$user@tiergate.test" "$tmp/$name.eml" "$n" <<'PY' &
import smtplib, sys, threading
port, rcpt, path, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
data = open(path, "rb").read()
def loop(count):
    with smtplib.SMTP("127.0.0.1", port) as s:
        for _ in range(count):
            s.sendmail("bench@example.co.jp", [rcpt], data)
threads = [threading.Thread(target=loop, args=(n // 4,)) for _ in range(4)]
[t.start() for t in threads]; [t.join() for t in threads]
PY
	local sender=$!
	deadline=$(( $(date +%s) + 240 ))
	while [ "$(ls "$tmp/home/Maildir/new" 2>/dev/null | wc -l)" -lt $((before + n)) ] && [ "$(date +%s)" -lt "$deadline" ]; do
		sleep 0.1
	done
	wait "$sender"
	got=$(( $(ls "$tmp/home/Maildir/new" | wc -l) - before ))
	secs=$(python3 -c "import time; print('%.2f' % (time.time() - $start))")
	LAST_RATE=$(awk -v g="$got" -v s="$secs" 'BEGIN { printf "%.1f", (s > 0 ? g / s : 0) }')
	printf '  %-36s %d of %d delivered in %s s: %s messages/s\n' "$label" "$got" "$n" "$secs" "$LAST_RATE"
}
send_batch "text mail, sanitized:" text "$TEXT_N"
san_rate=$LAST_RATE
send_batch "pdf mail (5 pages), sanitized:" pdf "$PDF_N"
postconf -c "$tmp/san/etc" -e "smtpd_milters =" && postfix -c "$tmp/san/etc" reload >/dev/null 2>&1
sleep 1
send_batch "text mail, Postfix alone (peer):" text "$TEXT_N"
printf '  %-36s %s\n' "ratio sanitized / Postfix alone:" \
	"$(awk -v a="$san_rate" -v b="$LAST_RATE" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "n/a" }') (text mail)"
