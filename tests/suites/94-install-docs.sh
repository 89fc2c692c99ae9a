#!/usr/bin/env bash
# 94-install-docs.sh -- what the package is made from cannot drift: a man page per program, every setting in
# tiergate.conf(5), Build-Depends = deps.sh's BUILD_PKGS, units that start installed programs, a default site file that loads.
# tier: unit
# timeout: 120
. "$(dirname "$0")/../lib/harness.sh"

DOC="$ROOT/tests/deb/doccheck.py"
MAN5="$ROOT/man/tiergate.conf.5"
SITEFILES=("$ROOT"/conf/*.conf "$ROOT"/conf/parts/*.conf "$ROOT"/conf/bridge/*.conf)

# out NAME CMD...: CMD's output in $TG_TMP/NAME.out, its status in $status.
out() {
	local name=$1
	shift
	"$@" >"$TG_TMP/$name.out" 2>&1
	status=$?
}
show() { sed 's/^/  | /' "$TG_TMP/$1.out" | head -n 20; }

# --- Build-Depends is BUILD_PKGS ---------------------------------------------
out builddeps python3 "$DOC" builddeps "$ROOT/debian/control" "$ROOT/scripts/deps.sh"
if [ "$status" -eq 0 ]; then pass "debian/control Build-Depends = scripts/deps.sh BUILD_PKGS"
else fail "debian/control Build-Depends = scripts/deps.sh BUILD_PKGS" "exit $status"; show builddeps; fi

# ... and the comparison sees a package added on one side only
sed 's/^BUILD_PKGS="/BUILD_PKGS="libfoo-dev /' "$ROOT/scripts/deps.sh" >"$TG_TMP/deps.sh"
out builddeps-drift python3 "$DOC" builddeps "$ROOT/debian/control" "$TG_TMP/deps.sh"
if [ "$status" -eq 1 ] && grep -q 'lacks libfoo-dev' "$TG_TMP/builddeps-drift.out"; then
	pass "a package only in BUILD_PKGS is reported"
else fail "a package only in BUILD_PKGS is reported" "exit $status"; show builddeps-drift; fi

# --- every setting documented ------------------------------------------------
out settings python3 "$DOC" settings "$MAN5" "${SITEFILES[@]}"
if [ "$status" -eq 0 ]; then pass "tiergate.conf(5) documents every setting of conf/ and every key the parsers know"
else fail "tiergate.conf(5) documents every setting of conf/ and every key the parsers know" "exit $status"; show settings; fi

out known python3 "$DOC" known gw sanitizer vpn-bridge policy lib
n=$(wc -l <"$TG_TMP/known.out")
if [ "$status" -eq 0 ] && [ "$n" -ge 100 ] && grep -qx max_page_megapixels "$TG_TMP/known.out" &&
	grep -qx fail_open "$TG_TMP/known.out"; then
	pass "the parsers' known keys are found ($n)"
else fail "the parsers' known keys are found" "exit $status, $n keys"; show known; fi

# ... and a page missing one entry fails, for the right setting
sed '/^\.It Cm max_page_megapixels$/d' "$MAN5" >"$TG_TMP/short.5"
out settings-drift python3 "$DOC" settings "$TG_TMP/short.5" "$ROOT/conf/parts/sanitizer.conf"
if [ "$status" -eq 1 ] && grep -q 'sanitizer.pdf.max_page_megapixels is not documented' "$TG_TMP/settings-drift.out" &&
	grep -q "parsers know 'max_page_megapixels'" "$TG_TMP/settings-drift.out"; then
	pass "a setting missing from the page is reported"
else fail "a setting missing from the page is reported" "exit $status"; show settings-drift; fi

# --- a page per program, in its section, clean -------------------------------
# (its own make, not the caller's jobserver: "make -j2 check-asan" made the inner make warn, and the warning read as a file name)
out list env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory -C "$ROOT" BUILD="$TIERGATE_BUILD" install-list
[ "$status" -eq 0 ] || { fail "make install-list" "exit $status"; show list; }
missing=""
for bin in "$BIN"/*; do
	name=$(basename "$bin")
	grep -q " $name\$" "$TG_TMP/list.out" || missing="$missing $name"
done
if [ -z "$missing" ] && [ -s "$TG_TMP/list.out" ]; then pass "every program built is in make install-list"
else fail "every program built is in make install-list" "missing:$missing"; fi
while read -r dir name; do
	sect=1
	[ "$dir" = sbin ] && sect=8
	page="$TIERGATE_BUILD/man/$name.$sect"
	if [ ! -f "$ROOT/man/$name.$sect" ]; then
		fail "man page $name($sect)" "no man/$name.$sect"
		continue
	fi
	w=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
	if [ -s "$page" ] && [ -z "$w" ] && MANWIDTH=80 man -l "$page" 2>/dev/null | grep -q "^NAME"; then
		pass "man page $name($sect) builds and reads without warnings"
	else
		fail "man page $name($sect) builds and reads without warnings" "${w:-not built: $page}"
	fi
done <"$TG_TMP/list.out"

# --- units start installed programs and name existing pages --------------------
for unit in "$ROOT"/conf/*.service; do
	u=$(basename "$unit")
	bad=""
	for prog in $(sed -n 's/^Exec[A-Za-z]*=[-+!@:]*\([^ ]*\).*/\1/p' "$unit"); do
		case "$prog" in
		/usr/sbin/*) grep -qx "sbin ${prog#/usr/sbin/}" "$TG_TMP/list.out" || bad="$bad $prog(not installed there)" ;;
		/bin/kill) ;;
		*) bad="$bad $prog" ;;
		esac
	done
	for doc in $(sed -n 's/^Documentation=//p' "$unit"); do
		case "$doc" in
		man:*) p=${doc#man:}; [ -f "$ROOT/man/${p%(*}.$(echo "$p" | tr -dc 0-9)" ] || bad="$bad $doc" ;;
		esac
	done
	if [ -z "$bad" ]; then pass "$u starts installed programs and names pages that exist"
	else fail "$u starts installed programs and names pages that exist" "$bad"; fi
done

# --- the default site file loads, without warnings ---------------------------
out default "$BIN/tiergate-policy" check "$ROOT/conf/tiergate.conf"
if [ "$status" -eq 0 ] && [ "$(cat "$TG_TMP/default.out")" = "configuration OK" ]; then
	pass "conf/tiergate.conf (the installed default) loads without warnings"
else fail "conf/tiergate.conf (the installed default) loads without warnings" "exit $status"; show default; fi

# --- make install with another PREFIX, twice ------------------------------------
dest="$TG_TMP/root"
out install env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory -C "$ROOT" BUILD="$TIERGATE_BUILD" PREFIX=/usr/local DESTDIR="$dest" install
bad=""
while read -r dir name; do
	[ -x "$dest/usr/local/$dir/$name" ] || bad="$bad $dir/$name"
done <"$TG_TMP/list.out"
for f in etc/tiergate/tiergate.conf etc/tiergate/bridge/devices.conf share/man/man5/tiergate.conf.5 \
	share/doc/tiergate/examples/alpha.conf share/doc/tiergate/examples/parts/gateway.conf lib/systemd/system/tiergate-gw.service; do
	[ -s "$dest/usr/local/$f" ] || bad="$bad $f"
done
if [ "$status" -eq 0 ] && [ -z "$bad" ]; then pass "make install PREFIX=/usr/local DESTDIR=...: programs, pages, units, examples, site file"
else fail "make install PREFIX=/usr/local DESTDIR=..." "exit $status, missing:$bad"; show install; fi
# the installed paths are written into the units, the pages and the site file
if grep -q '^ExecStart=/usr/local/sbin/tiergate-gw --config /usr/local/etc/tiergate/tiergate.conf' \
	"$dest/usr/local/lib/systemd/system/tiergate-gw.service" &&
	! grep -hE '(^|[= +])(/usr/sbin|/etc/tiergate)/' "$dest"/usr/local/lib/systemd/system/*.service | grep -v '^#' | grep -q . &&
	grep -q '/usr/local/etc/tiergate/tiergate.conf' "$dest/usr/local/share/man/man8/tiergate-gw.8" &&
	grep -q '"/usr/local/etc/tiergate/bridge/bridge.pem"' "$dest/usr/local/etc/tiergate/tiergate.conf"; then
	pass "the units, pages and site file name /usr/local's paths"
else fail "the units, pages and site file name /usr/local's paths"
	grep -h 'Exec\|/etc/tiergate' "$dest"/usr/local/lib/systemd/system/*.service | head -n 5 | sed 's/^/  | /'; fi
# an admin's site file survives a second make install
echo '# edited by the admin' >>"$dest/usr/local/etc/tiergate/tiergate.conf"
out install2 env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory -C "$ROOT" BUILD="$TIERGATE_BUILD" PREFIX=/usr/local DESTDIR="$dest" install
if [ "$status" -eq 0 ] && tail -n 1 "$dest/usr/local/etc/tiergate/tiergate.conf" | grep -q 'edited by the admin'; then
	pass "make install again keeps the admin's site file"
else fail "make install again keeps the admin's site file" "exit $status"; show install2; fi
# and the build tree's pages are the default PREFIX's again
make -s --no-print-directory -C "$ROOT" BUILD="$TIERGATE_BUILD" man >/dev/null 2>&1
grep -q '/etc/tiergate/tiergate.conf' "$TIERGATE_BUILD/man/tiergate-gw.8" && ! grep -q /usr/local "$TIERGATE_BUILD/man/tiergate-gw.8" &&
	pass "pages are made again for the default PREFIX" || fail "pages are made again for the default PREFIX"

# --- each page knows its program's options and commands (from the program's own usage) ------
while read -r dir name; do
	sect=1
	[ "$dir" = sbin ] && sect=8
	src="$ROOT/man/$name.$sect"
	[ -f "$src" ] || continue
	"$BIN/$name" --help >"$TG_TMP/help-$name.out" 2>&1
	missing=""
	for o in $(grep -oE -- '--[a-z][a-z0-9-]*' "$TG_TMP/help-$name.out" | sort -u); do
		[ "$o" = --help ] && continue
		grep -qE -- "(Fl -${o#--}|${o})([^a-z0-9-]|\$)" "$src" || missing="$missing $o"
	done
	# "usage: NAME WORD ..." and "       NAME WORD ...": WORD a command the page must name
	for c in $(sed -nE "s/^(usage:)? +$name ([a-z][a-z-]+)( .*)?\$/\\2/p" "$TG_TMP/help-$name.out" | sort -u); do
		grep -qE "Cm $c( |\$)" "$src" || missing="$missing $c"
	done
	if [ -s "$TG_TMP/help-$name.out" ] && [ -z "$missing" ]; then
		pass "$name($sect) names every option and command of its usage"
	else fail "$name($sect) names every option and command of its usage" "missing:${missing:- (no usage printed)}"; fi
done <"$TG_TMP/list.out"
