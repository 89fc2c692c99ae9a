#!/usr/bin/env bash
# 63-mail-office.sh -- office attachments through Postfix + tiergate-milter: printed to image-only PDFs by the warm converter.
# tier: e2e
# timeout: 300
#
# One private Postfix instance under $TG_TMP whose smtpd calls tiergate-milter and delivers to a
# test user's ~/Maildir. The mail carries a docx and a ZIP holding an xlsx: the milter's zygote
# owns the converter service (sanitizer/lo_service.c); the docx arrives as report.docx.pdf with
# report.docx.txt beside it, the ZIP rebuilt with ledger.xlsx.pdf and ledger.xlsx.txt inside. The same
# mail through `tiergate-sanitize --mail` and through `tiergate-milter --worker` (the spawned message
# process of a milter without zygote), each with a converter service of its own.
. "$(dirname "$0")/../lib/harness.sh"
need_root
for tool in postfix swaks qpdf pdffonts pdfimages pdftotext python3 /usr/lib/libreoffice/program/soffice.bin bwrap; do
	command -v "$tool" >/dev/null || { fail "mail-office" "$tool not installed (scripts/deps.sh all)"; exit 1; }
done

chmod 755 "$TG_TMP"
port_free() { ! ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }
for _ in $(seq 20); do
	port=$((20000 + RANDOM % 20000)); mport=$((port + 1))
	port_free "$port" && port_free "$mport" && break
done
user="tgoff$$"
home="$TG_TMP/home"
maildir="$home/Maildir"
events="$TG_TMP/mail-events.json"
useradd -M -d "$home" -s /usr/sbin/nologin "$user" || { fail "mail-office" "useradd failed"; exit 1; }
on_exit "userdel $user"
mkdir -p "$home" && chown "$user" "$home"

c="$TG_TMP/corpus"
if ! python3 "$ROOT/tests/sanitizer/make-office-corpus.py" "$c" >"$TG_TMP/gen.log" 2>&1; then
	fail "mail-office corpus generated" "$(tail -n 3 "$TG_TMP/gen.log")"
	exit 1
fi
mkdir -p "$TG_TMP/zip" && cp "$c/ledger.xlsx" "$TG_TMP/zip/" && echo "see the ledger" >"$TG_TMP/zip/note.txt"
(cd "$TG_TMP/zip" && python3 -c 'import sys, zipfile
with zipfile.ZipFile("../bundle.zip", "w", zipfile.ZIP_DEFLATED) as z:
    for n in sys.argv[1:]: z.write(n)' ledger.xlsx note.txt) || { fail "mail-office" "zip not made"; exit 1; }
python3 - "$c/report.docx" "$TG_TMP/bundle.zip" "$TG_TMP/office.eml" <<'PY' || { fail "mail-office" "mail not made"; exit 1; }
import sys
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
m = MIMEMultipart()
m["From"], m["To"], m["Subject"] = "sender@example.co.jp", "staff@tiergate.test", "ledger and report"
m["Message-ID"] = "<office-attachments@example.co.jp>"
m.attach(MIMEText("please see the attachments\n", "plain", "utf-8"))
for path, name, sub in ((sys.argv[1], "report.docx", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
                        (sys.argv[2], "bundle.zip", "zip")):
    part = MIMEApplication(open(path, "rb").read(), sub)
    part.add_header("Content-Disposition", "attachment", filename=name)
    m.attach(part)
open(sys.argv[3], "wb").write(m.as_bytes())
PY

cat >"$TG_TMP/site.conf" <<CONF
sanitizer = { quarantine = { dir = "$TG_TMP/quarantine"; }; };
milter = {
  listen = "inet:$mport@127.0.0.1";
  spool_dir = "$TG_TMP/spool";
  events = "$events";
};
CONF
# the same mail without a milter: `tiergate-sanitize --mail` (60-mail-corpus, the demo) forks its own converter
# service (cold: LibreOffice starts at the first office part); the MIME parser never holds its socket
mkdir -p "$TG_TMP/cli"
if "$BIN/tiergate-sanitize" --mail "$TG_TMP/office.eml" --out "$TG_TMP/cli/out.eml" --config "$TG_TMP/site.conf" \
    >"$TG_TMP/cli/report.json" 2>"$TG_TMP/cli/err.log"; then
	pass "tiergate-sanitize --mail rebuilt the office mail (exit 0)"
	run_checker -p "--mail: " cli-office-mail python3 "$ROOT/tests/mail/check-office-mail.py" "$TG_TMP/cli/out.eml" "$TG_TMP/cli"
	check_grep "--mail: the report lists the docx as flattened" '"name":"report.docx"[^}]*"action":"flattened"' "$TG_TMP/cli/report.json"
else
	fail "tiergate-sanitize --mail rebuilt the office mail" "exit $?: $(tail -n 3 "$TG_TMP/cli/err.log")"
fi
# a milter without its zygote spawns `tiergate-milter --worker` per message (milter_worker.c's fallback):
# that process, run here exactly as the daemon runs it (mail on 0, message on 1, its line on 3), converts too
mkdir -p "$TG_TMP/worker"
if "$BIN/tiergate-milter" --worker --config "$TG_TMP/site.conf" --slot 0 --sender sender@example.co.jp \
    --rcpt staff@tiergate.test <"$TG_TMP/office.eml" >"$TG_TMP/worker/out.eml" 3>"$TG_TMP/worker/line" \
    2>"$TG_TMP/worker/err.log"; then
	pass "tiergate-milter --worker (the no-zygote path) rebuilt the office mail (exit 0)"
	run_checker -p "--worker: " worker-office-mail python3 "$ROOT/tests/mail/check-office-mail.py" "$TG_TMP/worker/out.eml" "$TG_TMP/worker"
else
	fail "tiergate-milter --worker (the no-zygote path) rebuilt the office mail" "exit $?: $(tail -n 3 "$TG_TMP/worker/err.log")"
fi

"$BIN/tiergate-milter" --config "$TG_TMP/site.conf" >>"$TG_TMP/milter.log" 2>&1 &
milter_pid=$!
on_exit 'kill $milter_pid; wait $milter_pid'
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$mport" || { fail "mail-office" "tiergate-milter did not listen"; exit 1; }
"$ROOT/tests/mail/postfix-instance.sh" "$TG_TMP/san" san "$port" "mydestination = tiergate.test" \
	"smtpd_milters = inet:127.0.0.1:$mport" "milter_default_action = tempfail" "milter_protocol = 6" \
	>>"$TG_TMP/postfix.log" 2>&1 || { fail "mail-office" "Postfix did not start"; tail -n 20 "$TG_TMP/postfix.log"; exit 1; }
on_exit "postfix -c $TG_TMP/san/etc stop"

# the converter service: a child of the milter's zygote, holding the warm soffice (not a message process);
# only this milter's descendants count (other suites may run LibreOffice at the same time)
descendants() {   # descendants PID: every process under PID
	ps -eo pid=,ppid= | awk -v root="$1" '{ parent[$1] = $2 } END {
		for (p in parent) { q = p; while (q in parent && q != root && q > 1) q = parent[q]; if (q == root && p != root) print p } }'
}
our_soffice() {
	local p
	for p in $(descendants "$milter_pid"); do
		grep -qa 'soffice.bin' "/proc/$p/cmdline" 2>/dev/null && grep -qa 'tgconv' "/proc/$p/cmdline" 2>/dev/null && echo "$p"
	done | sort -n | head -n 1
}
service_up() { [ -n "$(our_soffice)" ]; }
if wait_for 60 service_up; then
	warm_pid=$(our_soffice)
	pass "the milter's converter service starts a warm LibreOffice at start"
else
	warm_pid=""
	fail "the milter's converter service starts a warm LibreOffice at start" "no soffice.bin under the milter"
fi

if swaks --silent 2 --server 127.0.0.1 --port "$port" --from sender@example.co.jp --to "$user@tiergate.test" \
    --data @"$TG_TMP/office.eml" >>"$TG_TMP/swaks.log" 2>&1; then
	pass "swaks handed the mail to Postfix"
else
	fail "swaks handed the mail to Postfix" "$(tail -n 3 "$TG_TMP/swaks.log")"
fi
delivered() { grep -l -F "<office-attachments@" "$maildir"/new/* 2>/dev/null | head -n 1; }
is_delivered() { [ -n "$(delivered)" ]; }
if wait_for 120 is_delivered; then
	run_checker mail-office python3 "$ROOT/tests/mail/check-office-mail.py" "$(delivered)" "$TG_TMP"
	check_grep "the mail event lists the docx as flattened" \
		'"event":"mail".*"name":"report.docx"[^}]*"action":"flattened"' "$events"
	# the message process asked the service: the soffice started with the milter did the work, still warm
	[ -n "$warm_pid" ] && [ "$(our_soffice)" = "$warm_pid" ] && pass "converted by the warm soffice started with the milter" ||
		fail "converted by the warm soffice started with the milter" "soffice before '$warm_pid', after '$(our_soffice)'"
else
	fail "the office mail is delivered" "not delivered in 120 s"
	tail -n 8 "$TG_TMP/milter.log" "$TG_TMP/san/maillog" | sed 's/^/  | /'
fi

# the milter stopped: its converter goes with it (no soffice left behind)
kill "$milter_pid"; wait "$milter_pid" 2>/dev/null
gone() { [ -n "$warm_pid" ] && [ ! -d "/proc/$warm_pid" ]; }
wait_for 20 gone && pass "the converter service ends with the milter" ||
	fail "the converter service ends with the milter" "soffice.bin '$warm_pid' still running (or never seen)"
