#!/usr/bin/env bash
# 60-mail-corpus.sh -- offline mail 無害化: every mail of tests/mail through `tiergate-sanitize --mail`, checked against its .expect.
# tier: unit
# timeout: 600
. "$(dirname "$0")/../lib/harness.sh"

run_unit test_mail
fuzz_replay mime
fuzz_replay milter_check

cat >"$TG_TMP/site.conf" <<CONF
sanitizer = { quarantine = { dir = "$TG_TMP/quarantine"; }; };
milter = { notice_language = "ja-en"; max_depth = 3; };
CONF

corpus_one() {   # corpus_one NAME: rebuild, then let check.py (Python's email package) judge it
	local name=$1 in="$ROOT/tests/mail/$1.eml" out="$TG_TMP/$1.out.eml" rep="$TG_TMP/$1.json" why
	if ! "$BIN/tiergate-sanitize" --mail "$in" --out "$out" --config "$TG_TMP/site.conf" \
	    >"$rep" 2>"$TG_TMP/$name.err"; then
		fail "mail-$name" "tiergate-sanitize exited $?"
		tail -n 5 "$TG_TMP/$name.err" | sed 's/^/  | /'
		return
	fi
	if why=$(python3 "$ROOT/tests/mail/check.py" "$in" "$out" "$rep" "$ROOT/tests/mail/$name.expect"); then
		pass "mail-$name"
	else
		fail "mail-$name" "$(printf '%s' "$why" | head -n 1)"
		printf '%s\n' "$why" | sed 's/^/  | /'
	fi
}

count=0
for eml in "$ROOT"/tests/mail/*.eml; do
	corpus_one "$(basename "$eml" .eml)"
	count=$((count + 1))
done
[ "$count" -ge 30 ] && pass "mail-corpus-size ($count mails)" || fail "mail-corpus-size" "only $count mails"

# A misspelt .expect key is an error naming file, line and key, not an expectation skipped.
one="$ROOT/tests/mail/01_outlook_iso2022jp_plain"
{ cat "$one.expect"; echo "no-txt: 文字化け"; } >"$TG_TMP/bad-key.expect"
bad_line=$(wc -l <"$TG_TMP/bad-key.expect")
python3 "$ROOT/tests/mail/check.py" "$one.eml" "$TG_TMP/01_outlook_iso2022jp_plain.out.eml" \
	"$TG_TMP/01_outlook_iso2022jp_plain.json" "$one.expect" >"$TG_TMP/good-key.out" 2>&1
good_status=$?
python3 "$ROOT/tests/mail/check.py" "$one.eml" "$TG_TMP/01_outlook_iso2022jp_plain.out.eml" \
	"$TG_TMP/01_outlook_iso2022jp_plain.json" "$TG_TMP/bad-key.expect" >"$TG_TMP/bad-key.out" 2>&1
bad_status=$?
if [ "$good_status" = 0 ] && [ "$bad_status" = 2 ] &&
	grep -qF "bad-key.expect:$bad_line: unknown key 'no-txt'" "$TG_TMP/bad-key.out"; then
	pass "mail-expect-unknown-key refused with file, line and key"
else
	fail "mail-expect-unknown-key refused with file, line and key" "status $good_status with the good file, $bad_status with the bad"
	sed 's/^/  | /' "$TG_TMP/bad-key.out" | head -n 5
fi

# The original of every rebuilt mail is in the quarantine, as kind "mail", under the ID the header names.
out="$TG_TMP/02_outlook_quoted_2047_pdf.out.eml"
qid=$(sed -n 's/^[[:space:]]*quarantine=\([0-9a-f]\{64\}\).*/\1/p' "$out" | head -n 1)
if [ -n "$qid" ] && cp "$TG_TMP/quarantine/$qid.json" "$TG_TMP/show.txt" 2>/dev/null &&
    grep -q '"kind" *: *"mail"' "$TG_TMP/show.txt" &&
    cmp -s "$TG_TMP/quarantine/$qid" "$ROOT/tests/mail/02_outlook_quoted_2047_pdf.eml"; then
	pass "mail-original-quarantined"
else
	fail "mail-original-quarantined" "no quarantined original for ID '$qid'"
	head -n 5 "$TG_TMP/show.txt" 2>/dev/null | sed 's/^/  | /'
fi

# The flattened PDF that is delivered is a valid PDF with no fonts left.
python3 - "$out" "$TG_TMP/delivered.pdf" <<'PY'
import email, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read())
for p in m.walk():
    if p.get_content_type() == "application/pdf":
        open(sys.argv[2], "wb").write(p.get_payload(decode=True))
PY
check "mail-delivered-pdf-valid" qpdf --check "$TG_TMP/delivered.pdf"
# (pdffonts must have read the file: a failure lists no fonts either)
if [ -s "$TG_TMP/delivered.pdf" ] && fonts=$(pdffonts "$TG_TMP/delivered.pdf" 2>&1) &&
	[ "$(printf '%s\n' "$fonts" | head -n 1 | awk '{ print $1 }')" = name ] &&
	[ "$(printf '%s\n' "$fonts" | tail -n +3 | wc -l)" -eq 0 ]; then
	pass "mail-delivered-pdf-no-fonts"
else
	fail "mail-delivered-pdf-no-fonts" "pdffonts failed or lists fonts (or no PDF delivered): $(printf '%s' "${fonts:-}" | head -n 3 | tr '\n' ' ')"
fi

# Usage errors are errors, not silent successes.
"$BIN/tiergate-sanitize" --mail "$ROOT/tests/mail/01_outlook_iso2022jp_plain.eml" >"$TG_TMP/usage.txt" 2>&1
rc=$?
[ $rc = 2 ] && grep -q '^usage: tiergate-sanitize --mail' "$TG_TMP/usage.txt" && pass "mail-cli-usage (exit 2, usage)" ||
	fail "mail-cli-usage" "exit $rc: $(head -n 1 "$TG_TMP/usage.txt")"
