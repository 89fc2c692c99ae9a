#!/usr/bin/env bash
# mail 無害化: messages/s in-process and through Postfix + tiergate-milter, memory per message in flight
#
# Never fails on speed. Needs root for the Postfix part (a private instance under a temp
# directory, as in tests/suites/61-mail-postfix.sh); without root that part is skipped.
set -u
cd "$(dirname "$0")/../.." || exit 2
ROOT=$(pwd)
BIN="${TIERGATE_BUILD:-$ROOT/build}/bin"
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
for kind in text:200 pdf:20; do
	name=${kind%%:*} n=${kind##*:}
	r=$("$BIN/tiergate-sanitize" --mail "$tmp/$name.eml" --out "$tmp/out.eml" --config "$tmp/site.conf" --repeat "$n" 2>/dev/null)
	printf '  %-28s %s\n' "$name mail ($(stat -c %s "$tmp/$name.eml") bytes):" \
		"$(printf '%s' "$r" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.1f messages/s (%d in %.2f s)" % (d["messages_per_s"], d["messages"], d["usec"]/1e6))')"
done

echo "== memory per message in flight (the per-message worker, peak RSS incl. its file-sanitizer child)"
for name in text pdf; do
	kb=$( { /usr/bin/time -f '%M' "$BIN/tiergate-milter" --worker --config "$tmp/site.conf" --sender a@b \
		--rcpt c@d <"$tmp/$name.eml" >/dev/null 3>/dev/null; } 2>&1 | tail -n 1)
	printf '  %-28s %s KB peak RSS; the daemon holds at most spill_kb (1024 KB) of it in memory\n' "$name mail:" "$kb"
done

if [ "$(id -u)" != 0 ] || ! command -v postfix >/dev/null || ! command -v swaks >/dev/null; then
	echo "== end to end: skipped (needs root, postfix, swaks)"
	exit 0
fi
echo "== end to end: swaks -> Postfix smtpd -> tiergate-milter -> local Maildir (4 senders in parallel)"
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
for kind in text:80 pdf:12; do
	name=${kind%%:*} n=${kind##*:}
	before=$(ls "$tmp/home/Maildir/new" 2>/dev/null | wc -l)
	start=$(date +%s.%N)
	senders=()
	for ((s = 0; s < 4; s++)); do
		( for ((i = 0; i < n / 4; i++)); do
			swaks --silent 2 --server 127.0.0.1 --port "$port" --from bench@example.co.jp \
				--to "$user@tiergate.test" --data @"$tmp/$name.eml" >/dev/null 2>&1
		done ) &
		senders+=($!)
	done
	wait_deadline=$(( $(date +%s) + 240 ))
	while [ "$(ls "$tmp/home/Maildir/new" 2>/dev/null | wc -l)" -lt $((before + n)) ] && [ "$(date +%s)" -lt "$wait_deadline" ]; do
		sleep 0.2
	done
	wait "${senders[@]}"
	got=$(( $(ls "$tmp/home/Maildir/new" | wc -l) - before ))
	secs=$(python3 -c "import time; print(time.time() - $start)")
	python3 -c "print('  %-28s %d delivered sanitized in %.2f s: %.1f messages/s' % ('$name mail:', $got, $secs, $got / $secs))"
done
