#!/usr/bin/env bash
# 56-san-photo.sh -- HEIC/HEIF and WebP photos decoded to pixels in the sandboxed worker, re-encoded by the parent.
# tier: e2e
# timeout: 180
. "$(dirname "$0")/../lib/harness.sh"
for t in heif-enc cwebp webpmux cjpeg djpeg python3 pdfimages; do
	command -v "$t" >/dev/null || { fail "photo suite prerequisites" "missing $t (scripts/deps.sh all)"; exit 1; }
done
c="$TG_TMP/corpus"
if ! python3 tests/sanitizer/make-photo-corpus.py "$c" >"$TG_TMP/gen.log" 2>&1; then
	fail "photo corpus generated" "$(tail -n 5 "$TG_TMP/gen.log")"
	exit 1
fi
files="photo.heic photo.webp drawing.webp alpha.webp alpha.heic truncated-photo.heic truncated-photo.webp
 damaged.heic bomb.heic bomb.webp"
# shellcheck disable=SC2086
(cd "$c" && "$BIN/tiergate-sanitize" --out "$TG_TMP/out" $files) >"$TG_TMP/run.log" 2>&1
rc=$?
[ $rc = 0 ] && pass "tiergate-sanitize gives every photo a verdict (exit 0)" ||
	fail "tiergate-sanitize gives every photo a verdict" "exit $rc: $(tail -n 3 "$TG_TMP/run.log")"
run_checker photo/check-photo.py python3 tests/sanitizer/check-photo.py "$c" "$TG_TMP/out"

# the decoders ran in the worker, under its filter: no SIGSYS (libheif's own HEVC plugin starts a thread)
if grep -q "SIGSYS" "$TG_TMP/run.log"; then
	fail "HEIF decoding needs no thread or file in the sandbox" "$(grep SIGSYS "$TG_TMP/run.log" | head -n 2)"
else
	grep -q "photo.heic: reencoded" "$TG_TMP/run.log" && pass "HEIF decoding needs no thread or file in the sandbox" ||
		fail "HEIF decoding needs no thread or file in the sandbox" "photo.heic not re-encoded"
fi

# images.mode = "pdf": the photo becomes a one-page image-only PDF; a lower pixel limit refuses it before decoding
printf 'sanitizer = { images = { mode = "pdf"; }; };\n' >"$TG_TMP/pdf.conf"
if "$BIN/tiergate-sanitize" --config "$TG_TMP/pdf.conf" --out "$TG_TMP/pdf" "$c/photo.heic" >"$TG_TMP/pdf.log" 2>&1 &&
    n=$(pdfimages -list "$TG_TMP/pdf/photo.pdf" 2>/dev/null | tail -n +3 | wc -l) && [ "$n" = 1 ]; then
	pass "images.mode = pdf: a HEIC becomes a PDF holding one image"
else
	fail "images.mode = pdf: a HEIC becomes a PDF holding one image" "$(cat "$TG_TMP/pdf.log") $(ls "$TG_TMP/pdf" 2>&1)"
fi
printf 'sanitizer = { images = { max_megapixels = 1; }; };\n' >"$TG_TMP/small.conf"
"$BIN/tiergate-sanitize" --config "$TG_TMP/small.conf" --out "$TG_TMP/small" "$c/large.heic" "$c/large.webp" "$c/photo.heic" \
	>"$TG_TMP/small.log" 2>&1
check_grep "a HEIC over images.max_megapixels is refused by its header" \
	'"action":"blocked","reason":"image of 1100x1000 pixels exceeds the pixel limit' "$TG_TMP/small/large.heic.report.json"
check_grep "a WebP over images.max_megapixels is refused by its header" \
	'"action":"blocked","reason":"image of 1100x1000 pixels exceeds the pixel limit' "$TG_TMP/small/large.webp.report.json"
check_grep "control: a photo under the limit still passes" '"action":"reencoded"' "$TG_TMP/small/photo.heic.report.json"

# inside an archive: the same decoders for a member
(cd "$c" && python3 -c 'import zipfile
with zipfile.ZipFile("photos.zip", "w") as z:
    z.write("photo.heic"); z.write("drawing.webp")')
if "$BIN/tiergate-sanitize" --out "$TG_TMP/zip" "$c/photos.zip" >"$TG_TMP/zip.log" 2>&1 &&
    members=$(unzip -Z1 "$TG_TMP/zip/photos.zip" | sort | tr '\n' ' ') && [ "$members" = "drawing.png photo.jpg " ]; then
	pass "HEIC and WebP members of a ZIP come back as JPEG and PNG"
else
	fail "HEIC and WebP members of a ZIP come back as JPEG and PNG" "members '${members:-}' $(tail -n 2 "$TG_TMP/zip.log")"
fi

# libheif is opened only for an input that may hold a HEIF image (heifload.c), by the parent before
# the fork: a PDF never loads it (linked, it and libx265/libaom/libdav1d cost every start ~3 ms)
pdf="$TG_TMP/pdf/photo.pdf"   # the images.mode = pdf output above: a PDF holding one photo
if LD_DEBUG=libs "$BIN/tiergate-sanitize" --out "$TG_TMP/lazy-pdf" "$pdf" >"$TG_TMP/lazy-pdf.out" 2>"$TG_TMP/lazy-pdf.ld" &&
    grep -q "photo.pdf: flattened" "$TG_TMP/lazy-pdf.out" && grep -q "calling init: .*libqpdf" "$TG_TMP/lazy-pdf.ld"; then
	if grep -q "libheif" "$TG_TMP/lazy-pdf.ld"; then
		fail "a PDF is flattened without loading libheif" "$(grep -m 2 libheif "$TG_TMP/lazy-pdf.ld")"
	else
		pass "a PDF is flattened without loading libheif"
	fi
else
	fail "a PDF is flattened without loading libheif" "run failed or no loader trace: $(cat "$TG_TMP/lazy-pdf.out") $(tail -n 2 "$TG_TMP/lazy-pdf.ld")"
fi
if LD_DEBUG=libs "$BIN/tiergate-sanitize" --out "$TG_TMP/lazy-heic" "$c/photo.heic" >"$TG_TMP/lazy-heic.out" 2>"$TG_TMP/lazy-heic.ld" &&
    grep -q "photo.heic: reencoded" "$TG_TMP/lazy-heic.out" && grep -q "calling init: .*libheif.so" "$TG_TMP/lazy-heic.ld"; then
	pass "a HEIC input loads libheif and is decoded"
else
	fail "a HEIC input loads libheif and is decoded" "$(cat "$TG_TMP/lazy-heic.out") $(grep -c libheif "$TG_TMP/lazy-heic.ld") libheif lines"
fi

# libheif missing (hidden in a mount namespace): the program still starts, a PDF still flattens, a HEIC
# photo (alone or in a ZIP) is blocked with the reason -- never a crash
lib=$(readlink -f "$(ldconfig -p | awk '/libheif\.so\.1 .*x86-64/ { print $NF; exit }')")
if [ "$(id -u)" != 0 ] || [ ! -f "$lib" ]; then
	fail "without libheif a HEIC is blocked with the reason" "needs root and libheif.so.1 (found '$lib')"
else
	unshare -m sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' sh "$lib" \
		"$BIN/tiergate-sanitize" --out "$TG_TMP/noheif" "$pdf" "$c/photo.heic" "$c/photos.zip" \
		>"$TG_TMP/noheif.log" 2>&1
	rc=$?
	[ $rc = 0 ] && grep -q "photo.pdf: flattened" "$TG_TMP/noheif.log" &&
		pass "without libheif the program starts and a PDF is flattened" ||
		fail "without libheif the program starts and a PDF is flattened" "exit $rc: $(tail -n 3 "$TG_TMP/noheif.log")"
	check_grep "without libheif a HEIC is blocked with the reason" \
		'"action":"blocked","reason":"HEIF image cannot be decoded: the HEIF decoder is not loaded \([^"]*libheif' \
		"$TG_TMP/noheif/photo.heic.report.json"
	check_grep "without libheif a HEIC member of a ZIP is blocked with the reason" \
		'"name":"photo.heic","action":"blocked","reason":"HEIF image cannot be decoded: the HEIF decoder is not loaded' \
		"$TG_TMP/noheif/photos.zip.report.json"
fi
