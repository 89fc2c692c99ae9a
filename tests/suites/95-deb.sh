#!/usr/bin/env bash
# 95-deb.sh -- make deb, lintian, dpkg -i, every installed program against the installed site file, units,
# man pages, users and directories, a real spool transfer, then dpkg --purge leaving nothing behind.
# tier: e2e
# timeout: 900
. "$(dirname "$0")/../lib/harness.sh"
need_root

PKG=tiergate
SITE=/etc/tiergate/tiergate.conf
STATE_DIRS=(/etc/tiergate /var/lib/tiergate /var/spool/tiergate /var/log/tiergate)

# out NAME CMD...: CMD's output in $TG_TMP/NAME.out, its status in $status.
out() {
	local name=$1
	shift
	"$@" >"$TG_TMP/$name.out" 2>&1
	status=$?
}
show() { sed 's/^/  | /' "$TG_TMP/$1.out" | head -n "${2:-20}"; }

if dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q 'ok installed'; then
	fail "$TG_SUITE" "package $PKG is installed already: this suite installs and purges it, remove it first"
	exit 1
fi

# The file list of /etc /usr /var (and /lib when it is not /usr/lib): path, type, owner, mode.
# Not compared: dpkg's own database and logs (tiergate's entries there are checked with
# dpkg-query), caches man-db and debconf refresh, the backups adduser/deluser leave of
# the user database, and the directories other suites' servers write in meanwhile.
VOLATILE='^/var/lib/dpkg/|^/var/log/(dpkg\.log|apt/|alternatives\.log|journal/|lastlog|faillog|wtmp|btmp)|^/var/cache/(man|debconf|apt|ldconfig)(/|$)|^/var/lib/(apt|ucf)/|^/etc/(passwd|group|shadow|gshadow|subuid|subgid)-$|^/var/tmp/|^/var/(spool|lib)/postfix/|^/var/mail/|^/etc/netns/|^/var/lib/logrotate/'
ROOTS=(/etc /usr /var)
[ -L /lib ] || ROOTS+=(/lib)
snapshot() {
	find "${ROOTS[@]}" -xdev -path '*.95-deb-saved.*' -prune -o -printf '%p %y %u:%g %m\n' 2>/dev/null |
		grep -Ev "$VOLATILE" | sort >"$1"
}
# dpkg -L names /lib/...; on a merged /usr the files are in /usr/lib/...
canon() { if [ -L /lib ]; then sed -e 's|^/lib/|/usr/lib/|' -e 's|^/bin/|/usr/bin/|' -e 's|^/sbin/|/usr/sbin/|'; else cat; fi; }

# dpkg ARGS... waiting (up to 5 minutes) while another dpkg or apt holds its lock.
dpkg_wait() {
	local i rc
	for ((i = 0; i < 150; i++)); do
		env DEBIAN_FRONTEND=noninteractive dpkg "$@" >"$TG_TMP/dpkg-wait.out" 2>&1
		rc=$?
		grep -q 'lock' "$TG_TMP/dpkg-wait.out" && [ "$rc" -ne 0 ] || break
		sleep 2
	done
	cat "$TG_TMP/dpkg-wait.out"
	return "$rc"
}

installed=0
bridge_files=()
cleanup_install() {
	local f
	for f in "${bridge_files[@]}"; do rm -f "$f"; done
	[ "$installed" = 1 ] && dpkg_wait --purge "$PKG" >/dev/null 2>&1
	return 0
}
on_exit cleanup_install

# --- build ------------------------------------------------------------------
t0=$(date +%s)
out make-deb make -s --no-print-directory -C "$ROOT" BUILD="$TIERGATE_BUILD" deb
deb=$(ls "$TIERGATE_BUILD"/${PKG}_*_"$(dpkg --print-architecture)".deb 2>/dev/null | head -n 1)
if [ "$status" -eq 0 ] && [ -n "$deb" ]; then
	pass "make deb builds $(basename "$deb") in $TIERGATE_BUILD/ ($(($(date +%s) - t0)) s)"
else
	fail "make deb builds the package in $TIERGATE_BUILD/" "exit $status"
	show make-deb 30
	exit 1
fi
stray=$(ls "$ROOT"/.. 2>/dev/null | grep -E "^${PKG}_.*\.(deb|changes|buildinfo)$" || true)
[ -z "$stray" ] && pass "nothing written beside the source tree" || fail "nothing written beside the source tree" "$stray"

# --- lintian ----------------------------------------------------------------
out lintian lintian --fail-on error,warning "$deb"
grep -v 'running with root privileges' "$TG_TMP/lintian.out" >"$TG_TMP/lintian.tags"
if [ "$status" -eq 0 ] && ! grep -Eq '^[EW]: ' "$TG_TMP/lintian.tags"; then
	pass "lintian: no errors, no warnings"
else
	fail "lintian: no errors, no warnings" "exit $status"
	show lintian.tags
fi

# --- install ----------------------------------------------------------------
# Leftovers of earlier runs (or of tests that used the default paths) would be purged with
# the package: they are kept aside and put back afterwards.
for d in "${STATE_DIRS[@]}"; do
	if [ -e "$d" ]; then
		mv "$d" "$d.95-deb-saved.$$"
		on_exit "rm -rf '$d' && mv '$d.95-deb-saved.$$' '$d'"
		echo "# $d existed before the install: kept aside as $d.95-deb-saved.$$"
	fi
done
snapshot "$TG_TMP/before.list"
for d in "${STATE_DIRS[@]}"; do
	# another process writing tiergate's default paths meanwhile would make purge look wrong
	[ -e "$d" ] && fail "$d stays away until the install" "it came back: a process writes tiergate's default paths"
done
getent passwd | cut -d: -f1 | sort >"$TG_TMP/users.before"
getent group | cut -d: -f1 | sort >"$TG_TMP/groups.before"
dpkg-statoverride --list | sort >"$TG_TMP/overrides.before"

out dpkg-i dpkg_wait -i "$deb"
if [ "$status" -eq 0 ]; then
	installed=1
	pass "dpkg -i installs the package"
else
	fail "dpkg -i installs the package" "exit $status"
	show dpkg-i 30
	dpkg_wait --purge "$PKG" >/dev/null 2>&1
	exit 1
fi
snapshot "$TG_TMP/installed.list"
getent passwd | cut -d: -f1 | sort >"$TG_TMP/users.installed"
getent group | cut -d: -f1 | sort >"$TG_TMP/groups.installed"

# Everything the install added is the package's (dpkg -L) or made on purpose by its
# maintainer scripts: the state, spool and log directories and the enabled units.
dpkg -L "$PKG" | canon | sort -u >"$TG_TMP/dpkg-L"
comm -13 <(cut -d' ' -f1 "$TG_TMP/before.list") <(cut -d' ' -f1 "$TG_TMP/installed.list") >"$TG_TMP/added"
grep -vxF -f "$TG_TMP/dpkg-L" "$TG_TMP/added" |
	grep -Ev '^/var/(lib|spool|log)/tiergate(/|$)|^/etc/systemd/system/[a-z.-]+\.wants(/tiergate-[a-z]+\.service)?$|^/var/lib/systemd/deb-systemd-helper-enabled(/.*)?$|^/etc/systemd(/system)?$|^/var/lib/systemd$' \
	>"$TG_TMP/unexplained" || true
nfiles=$(grep -c . "$TG_TMP/added")
if [ "$nfiles" -gt 20 ] && [ ! -s "$TG_TMP/unexplained" ]; then
	pass "dpkg -L covers everything installed ($nfiles new paths; the rest: postinst's directories, enabled units)"
else
	fail "dpkg -L covers everything installed" "$nfiles new paths, these unexplained:"
	sed 's/^/  | /' "$TG_TMP/unexplained" | head -n 20
fi
missing=$(while read -r p; do [ -e "$p" ] || [ -L "$p" ] || echo "$p"; done <"$TG_TMP/dpkg-L")
[ -z "$missing" ] && pass "every path of dpkg -L exists" || fail "every path of dpkg -L exists" "$missing"

# --- users, owners and modes --------------------------------------------------
for u in tiergate tiergate-bridge tiergate-sandbox tiergate-portal; do
	ent=$(getent passwd "$u")
	uid=$(echo "$ent" | cut -d: -f3)
	shell=$(echo "$ent" | cut -d: -f7)
	if [ -n "$ent" ] && [ "$uid" -gt 0 ] && [ "$uid" -lt 1000 ] && [ "$shell" = /usr/sbin/nologin ]; then
		pass "system user $u (uid $uid, no login)"
	else
		fail "system user $u (uid < 1000, no login)" "${ent:-no such user}"
	fi
done
while read -r path owner mode; do
	have=$(stat -c '%U:%G %a' "$path" 2>&1)
	[ "$have" = "$owner $mode" ] && pass "$path is $owner $mode" || fail "$path is $owner $mode" "it is $have"
done <<'EOF'
/etc/tiergate/tiergate.conf root:tiergate 640
/var/lib/tiergate root:root 755
/var/lib/tiergate/quarantine tiergate:tiergate 700
/var/lib/tiergate/release-requests root:root 700
/var/lib/tiergate/bridge tiergate-bridge:tiergate-bridge 755
/var/spool/tiergate/inbox root:root 750
/var/spool/tiergate/outbox root:root 750
/var/spool/tiergate/state root:root 700
/var/spool/tiergate/milter tiergate:tiergate 700
/var/log/tiergate root:adm 2751
/var/log/tiergate/gw.json tiergate:adm 640
/var/log/tiergate/mail.json tiergate:adm 640
/var/log/tiergate/portal.json tiergate-portal:adm 640
EOF

# --- units: enabled, not started, verified ------------------------------------
units=$(grep -E '^/usr/lib/systemd/system/.*\.service$|^/lib/systemd/system/.*\.service$' "$TG_TMP/dpkg-L")
[ "$(echo "$units" | grep -c .)" -ge 6 ] && pass "units installed: $(echo "$units" | xargs -n1 basename | tr '\n' ' ')" ||
	fail "units installed" "$units"
for u in $units; do
	name=$(basename "$u")
	link=$(ls /etc/systemd/system/*.wants/"$name" 2>/dev/null | head -n 1)
	if [ -n "$link" ] && [ "$(readlink -f "$link")" = "$(readlink -f "$u")" ]; then
		pass "$name is enabled ($link)"
	else
		fail "$name is enabled" "no link in /etc/systemd/system/*.wants"
	fi
	out "verify-$name" systemd-analyze verify "$u"
	# exit 0 and nothing said about the unit (verify exits 0 after warnings too)
	if [ "$status" -eq 0 ] && ! grep -q "$name" "$TG_TMP/verify-$name.out"; then
		pass "systemd-analyze verify $name: no complaint"
	else fail "systemd-analyze verify $name: no complaint" "exit $status"; show "verify-$name"; fi
done
running=""
for exe in /proc/[0-9]*/exe; do
	case "$(readlink "$exe" 2>/dev/null)" in /usr/sbin/tiergate-* | /usr/bin/tiergate-*) running="$running ${exe%/exe}" ;; esac
done
[ -z "$running" ] && pass "installing started no installed program" || fail "installing started no installed program" "$running"

# --- man pages ----------------------------------------------------------------
for p in $(grep -E '^/usr/share/man/man[0-9]/' "$TG_TMP/dpkg-L" | grep -E '\.[0-9](\.gz)?$'); do
	w=$(MANWIDTH=80 man --warnings -l "$p" 2>&1 >/dev/null)
	lines=$(MANWIDTH=80 man -l "$p" 2>/dev/null | wc -l)
	if [ -z "$w" ] && [ "$lines" -gt 10 ]; then pass "man -l $(basename "$p"): $lines lines, no warnings"
	else fail "man -l $(basename "$p") without warnings" "${w:-only $lines lines}"; fi
done
for prog in $(grep -E '^/usr/s?bin/tiergate-' "$TG_TMP/dpkg-L"); do
	name=$(basename "$prog")
	sect=1
	case "$prog" in /usr/sbin/*) sect=8 ;; esac
	page=$(man -w "$sect" "$name" 2>/dev/null)
	[ -n "$page" ] && pass "man $sect $name finds $page" || fail "man $sect $name finds the installed page"
done
page=$(man -w 5 tiergate.conf 2>/dev/null)
[ -n "$page" ] && pass "man 5 tiergate.conf finds $page" || fail "man 5 tiergate.conf finds the installed page"

# --- every installed program against the installed site file -----------------------
checkok() {   # NAME CMD...: exit 0 and "configuration OK"
	local name=$1 file
	shift
	file=check-$(echo "$name" | tr -c 'A-Za-z0-9\n-' _)
	out "$file" "$@"
	if [ "$status" -eq 0 ] && grep -qx 'configuration OK' "$TG_TMP/$file.out"; then pass "$name: configuration OK"
	else fail "$name: configuration OK" "exit $status"; show "$file"; fi
}
checkok "tiergate-policy check $SITE" /usr/bin/tiergate-policy check "$SITE"
checkok "tiergate-gw --check" /usr/sbin/tiergate-gw --config "$SITE" --check
checkok "tiergate-spoold --check" /usr/sbin/tiergate-spoold --config "$SITE" --check
checkok "tiergate-milter --check" /usr/sbin/tiergate-milter --config "$SITE" --check
checkok "tiergate-quarantined -n" /usr/sbin/tiergate-quarantined --config "$SITE" -n
# the portal refuses to start until the site's certificate is there
out portal-n /usr/sbin/tiergate-portal --config "$SITE" -n
if [ "$status" -ne 0 ] && grep -q '/etc/tiergate/portal/portal.pem' "$TG_TMP/portal-n.out"; then
	pass "tiergate-portal -n refuses the fresh install, naming the missing certificate"
else fail "tiergate-portal -n refuses the fresh install, naming the missing certificate" "exit $status"; show portal-n; fi
# the daemons that run as tiergate can read the site file; a user outside its group cannot
checkok "tiergate-milter --check as user tiergate" runuser -u tiergate -- /usr/sbin/tiergate-milter --config "$SITE" --check
checkok "tiergate-gw --check as user tiergate" runuser -u tiergate -- /usr/sbin/tiergate-gw --config "$SITE" --check
out sandbox-read runuser -u tiergate-sandbox -- /usr/bin/tiergate-policy check "$SITE"
if [ "$status" -ne 0 ] && grep -qi 'permission denied' "$TG_TMP/sandbox-read.out"; then
	pass "user tiergate-sandbox cannot read the site file"
else fail "user tiergate-sandbox cannot read the site file" "exit $status"; show sandbox-read; fi

out gw-rules /usr/sbin/tiergate-gw --config "$SITE" --print-rules
if [ "$status" -eq 0 ] && grep -q -- '-j NFQUEUE --queue-num 0' "$TG_TMP/gw-rules.out"; then pass "tiergate-gw --print-rules"
else fail "tiergate-gw --print-rules" "exit $status"; show gw-rules; fi

# the bridge refuses to start until the site's certificate, key and device CA are there
out bridge-n1 /usr/sbin/tiergate-bridge --config "$SITE" -n
if [ "$status" -ne 0 ] && grep -q '/etc/tiergate/bridge/bridge.pem' "$TG_TMP/bridge-n1.out"; then
	pass "tiergate-bridge -n refuses the fresh install, naming the missing certificate"
else fail "tiergate-bridge -n refuses the fresh install, naming the missing certificate" "exit $status"; show bridge-n1; fi
if tests/bridge/pki.sh "$TG_TMP/pki" >"$TG_TMP/pki.out" 2>&1; then
	bridge_files=(/etc/tiergate/bridge/bridge.pem /etc/tiergate/bridge/bridge.key /etc/tiergate/bridge/device-ca.pem)
	install -m 0644 "$TG_TMP/pki/bridge-ec.pem" /etc/tiergate/bridge/bridge.pem
	install -m 0600 "$TG_TMP/pki/bridge-ec.key" /etc/tiergate/bridge/bridge.key
	install -m 0644 "$TG_TMP/pki/device-ca.pem" /etc/tiergate/bridge/device-ca.pem
	checkok "tiergate-bridge -n with the site's certificate and device CA" \
		/usr/sbin/tiergate-bridge --config "$SITE" -n
	out bridge-fp /usr/sbin/tiergate-bridge fingerprint "$TG_TMP/pki/dev-good.pem"
	[ "$status" -eq 0 ] && grep -Eq '[0-9a-f]{64}' "$TG_TMP/bridge-fp.out" && pass "tiergate-bridge fingerprint" ||
		{ fail "tiergate-bridge fingerprint" "exit $status"; show bridge-fp; }
else
	fail "test PKI made" "$(tail -n 3 "$TG_TMP/pki.out")"
fi

# tiergate-quarantine asks tiergate-quarantined (root, its unit's runtime directory) for
# everything but remove/expire; it allows only group tiergate-admin, which starts empty
[ -e /run/tiergate ] || on_exit "rm -rf /run/tiergate"
install -d -m 0755 /run/tiergate /run/tiergate/quarantined
/usr/sbin/tiergate-quarantined --config "$SITE" >"$TG_TMP/quarantined.out" 2>&1 &
qpid=$!
on_exit "kill $qpid"
wait_for 10 test -S /run/tiergate/quarantined/release.sock
out quarantine-refused /usr/sbin/tiergate-quarantine --config "$SITE" list
if [ "$status" -ne 0 ] && grep -q 'not a member of the release admin group' "$TG_TMP/quarantine-refused.out"; then
	pass "tiergate-quarantine list: root outside tiergate-admin is refused by the installed daemon"
else fail "tiergate-quarantine list: root outside tiergate-admin is refused" "exit $status"; show quarantine-refused; sed "s|^|  \| |" "$TG_TMP/quarantined.out"; fi
adduser --quiet root tiergate-admin
out quarantine /usr/sbin/tiergate-quarantine --config "$SITE" list
if [ "$status" -eq 0 ] && grep -q '^ID ' "$TG_TMP/quarantine.out"; then pass "after adduser root tiergate-admin, tiergate-quarantine list answers"
else fail "after adduser root tiergate-admin, tiergate-quarantine list answers" "exit $status"; show quarantine; fi
kill "$qpid" 2>/dev/null; wait "$qpid" 2>/dev/null

printf '住民票の写し\r\n' | iconv -f UTF-8 -t CP932 >"$TG_TMP/note.txt"
out sanitize /usr/bin/tiergate-sanitize --config "$SITE" --out "$TG_TMP/san" "$TG_TMP/note.txt"
if [ "$status" -eq 0 ] && grep -q '住民票の写し' "$TG_TMP/san/note.txt" 2>/dev/null; then
	pass "tiergate-sanitize with the installed site file (CP932 text to UTF-8)"
else fail "tiergate-sanitize with the installed site file" "exit $status"; show sanitize; fi

# tools in /usr/bin find their daemons in /usr/sbin
mail="$ROOT/tests/mail/01_outlook_iso2022jp_plain.eml"
out sanitize-mail /usr/bin/tiergate-sanitize --config "$SITE" --mail "$mail" --out "$TG_TMP/mail.eml"
if [ "$status" -eq 0 ] && grep -q '^MIME-Version: 1.0' "$TG_TMP/mail.eml" 2>/dev/null; then
	pass "tiergate-sanitize --mail runs /usr/sbin/tiergate-milter"
else fail "tiergate-sanitize --mail runs /usr/sbin/tiergate-milter" "exit $status"; show sanitize-mail; fi
out verify /usr/bin/tiergate-verify -j 2 "$ROOT/conf/verify/alpha"
if [ "$status" -eq 0 ] && grep -qi 'pass' "$TG_TMP/verify.out"; then
	pass "tiergate-verify runs /usr/sbin/tiergate-gw on the alpha suite"
else fail "tiergate-verify runs /usr/sbin/tiergate-gw on the alpha suite" "exit $status"; show verify; fi
out connect /usr/bin/tiergate-connect
if [ "$status" -eq 2 ] && grep -q '^usage: tiergate-connect' "$TG_TMP/connect.out"; then
	pass "tiergate-connect runs (no check mode: its usage, exit 2)"
else fail "tiergate-connect runs (usage, exit 2)" "exit $status"; show connect; fi

# --- the spool daemon with the installed directories and users --------------------
/usr/sbin/tiergate-spoold --config "$SITE" >"$TG_TMP/spoold.out" 2>&1 &
spoold=$!
on_exit "kill $spoold"
cp "$TG_TMP/note.txt" /var/spool/tiergate/inbox/memo.txt
if wait_for 30 test -s /var/spool/tiergate/outbox/memo.txt; then
	pass "tiergate-spoold moves a file from the installed inbox to the outbox, sanitized"
else fail "tiergate-spoold moves a file from the installed inbox to the outbox" "$(ls -la /var/spool/tiergate/*/ 2>&1 | head)"; show spoold; fi
if wait_for 10 grep -q '"event":"spool"' /var/log/tiergate/spool.json; then pass "its event is in /var/log/tiergate/spool.json"
else fail "its event is in /var/log/tiergate/spool.json"; fi
kill "$spoold" 2>/dev/null
wait "$spoold" 2>/dev/null

# --- the daemons as their units start them: users, capabilities, directories ------------
# In a network namespace of the test's own (its own loopback and queues); /run/tiergate/*
# made as systemd's RuntimeDirectory= makes them.
ns="tgdeb$$"
if ip netns add "$ns" && ip netns exec "$ns" ip link set lo up; then
	on_exit "ip netns del $ns"
	[ -e /run/tiergate ] || on_exit "rm -rf /run/tiergate"
	install -d -m 0755 /run/tiergate
	install -d -o tiergate -g tiergate -m 0750 /run/tiergate/gw
	install -d -m 0700 /run/tiergate/bridge

	# tiergate-gw.service: User=tiergate with CAP_NET_ADMIN and CAP_NET_RAW
	ip netns exec "$ns" setpriv --reuid=tiergate --regid=tiergate --init-groups \
		--inh-caps=+net_admin,+net_raw --ambient-caps=+net_admin,+net_raw \
		/usr/sbin/tiergate-gw --config "$SITE" >"$TG_TMP/gw-live.out" 2>&1 &
	gwpid=$!
	on_exit "kill $gwpid"
	if wait_for 15 test -S /run/tiergate/gw/gw.sock && grep -q 'ready: queues 0-0 bound' "$TG_TMP/gw-live.out" &&
		[ "$(ps -o user= -p "$gwpid")" = tiergate ]; then
		pass "tiergate-gw as its unit starts it: user tiergate, queue bound, socket in /run/tiergate/gw"
	else fail "tiergate-gw as its unit starts it" "user $(ps -o user= -p "$gwpid" 2>&1)"; show gw-live; fi
	out gw-ctl ip netns exec "$ns" /usr/sbin/tiergate-gw --config "$SITE" ctl stats
	[ "$status" -eq 0 ] && grep -q . "$TG_TMP/gw-ctl.out" && pass "tiergate-gw ctl stats through the installed socket path" ||
		{ fail "tiergate-gw ctl stats through the installed socket path" "exit $status"; show gw-ctl; }
	if ip netns exec "$ns" curl -sf --max-time 5 http://127.0.0.1:9750/metrics >"$TG_TMP/metrics.out" &&
		grep -q '^tiergate_' "$TG_TMP/metrics.out"; then pass "its metrics answer on 127.0.0.1:9750"
	else fail "its metrics answer on 127.0.0.1:9750"; show gw-live; fi
	# a rotation while it runs: logrotate renames gw.json and makes it again for tiergate,
	# its postrotate sends SIGHUP (done here: no systemd), the gateway reopens the file
	# and the chain goes on across the two files; the other files are renamed and made again too
	out logrotate-f logrotate -f -s "$TG_TMP/logrotate.state" /etc/logrotate.d/tiergate
	lr=$status
	kill -HUP "$gwpid"
	# the SIGHUP's own reload event still goes to the old file; a ctl reload after it, to the new
	wait_for 10 grep -q 'reloaded policy' "$TG_TMP/gw-live.out"
	ip netns exec "$ns" /usr/sbin/tiergate-gw --config "$SITE" ctl reload >"$TG_TMP/ctl-reload.out" 2>&1
	if [ "$lr" -eq 0 ] && wait_for 10 test -s /var/log/tiergate/gw.json &&
		[ "$(stat -c '%U:%G %a' /var/log/tiergate/gw.json)" = "tiergate:adm 640" ] &&
		grep -q '"event":"admin"' /var/log/tiergate/gw.json.1; then
		pass "logrotate with the gateway running: gw.json renamed, made again for tiergate, written after SIGHUP"
	else fail "logrotate with the gateway running" "exit $lr, $(ls -la /var/log/tiergate | tr '\n' ';')"; show logrotate-f; show gw-live; fi
	out audit /usr/bin/tiergate-audit verify --after /var/log/tiergate/gw.json.1 /var/log/tiergate/gw.json
	[ "$status" -eq 0 ] && pass "tiergate-audit: the chain of gw.json goes on across the rotation" ||
		{ fail "tiergate-audit: the chain of gw.json goes on across the rotation" "exit $status"; show audit; }
	out audit-old /usr/bin/tiergate-audit verify /var/log/tiergate/gw.json.1
	[ "$status" -eq 0 ] && pass "tiergate-audit: the rotated file's chain is intact" ||
		{ fail "tiergate-audit: the rotated file's chain is intact" "exit $status"; show audit-old; }
	if [ -s /var/log/tiergate/spool.json.1 ] && [ ! -s /var/log/tiergate/spool.json ] &&
		[ "$(stat -c '%U:%G %a' /var/log/tiergate/spool.json)" = "root:adm 640" ] &&
		! grep -q copytruncate /etc/logrotate.d/tiergate; then
		pass "spool.json renamed and made again (root:adm 0640), nothing copied and truncated"
	else fail "spool.json renamed and made again" "$(ls -la /var/log/tiergate | tr '\n' ';')"; fi
	kill "$gwpid" 2>/dev/null; wait "$gwpid" 2>/dev/null

	# tiergate-milter.service: User=tiergate with the installed unit's capabilities (CAP_SETUID and
	# CAP_SETGID, for the parsers' own uids): the zygote holds them, the daemon drops them
	munit=$(echo "$units" | grep '/tiergate-milter.service$')
	mcaps=$(sed -n 's/^AmbientCapabilities=//p' "$munit" | sed 's/CAP_/+/g; s/ /,/g' | tr 'A-Z' 'a-z')
	ip netns exec "$ns" setpriv --reuid=tiergate --regid=tiergate --init-groups \
		${mcaps:+--inh-caps=$mcaps --ambient-caps=$mcaps} --bounding-set="-all${mcaps:+,$mcaps}" --no-new-privs \
		/usr/sbin/tiergate-milter --config "$SITE" >"$TG_TMP/milter-live.out" 2>&1 &
	mpid=$!
	on_exit "kill $mpid"
	if wait_for 15 sh -c "ip netns exec $ns ss -ltn | grep -q '127.0.0.1:10025 '" &&
		[ "$(ps -o user= -p "$mpid")" = tiergate ]; then
		pass "tiergate-milter as its unit starts it: user tiergate, listening on 127.0.0.1:10025"
	else fail "tiergate-milter as its unit starts it" "user $(ps -o user= -p "$mpid" 2>&1)"; show milter-live; fi
	zpid=$(pgrep -P "$mpid" | head -n 1)
	dcap=$(awk '/^CapEff:/ { print $2 }' "/proc/$mpid/status" 2>/dev/null)
	zcap=$(awk '/^CapEff:/ { print $2 }' "/proc/$zpid/status" 2>/dev/null)
	if [ "$mcaps" = "+setuid,+setgid" ] && [ "$zcap" = 00000000000000c0 ] && [ "$dcap" = 0000000000000000 ]; then
		pass "tiergate-milter's unit: the zygote holds CAP_SETUID+CAP_SETGID (to give parsers their own uid), the daemon none"
	else fail "tiergate-milter's unit gives the zygote CAP_SETUID+CAP_SETGID" "unit '$mcaps', zygote '$zcap', daemon '$dcap'"; show milter-live; fi
	kill "$mpid" 2>/dev/null; wait "$mpid" 2>/dev/null

	# tiergate-bridge.service: root, relays and key processes as tiergate-bridge
	if [ -f /etc/tiergate/bridge/bridge.pem ]; then
		ip netns exec "$ns" /usr/sbin/tiergate-bridge --config "$SITE" >"$TG_TMP/bridge-live.out" 2>&1 &
		bpid=$!
		on_exit "kill $bpid"
		if wait_for 15 test -S /run/tiergate/bridge/control.sock &&
			wait_for 10 sh -c "ip netns exec $ns ss -ltn | grep -q ':8443 '"; then
			users=$(ps -o user= --ppid "$bpid" | sort -u | tr '\n' ' ')
			[ "$users" = "tiergate-bridge " ] && pass "tiergate-bridge: the relay and key processes run as tiergate-bridge" ||
				fail "tiergate-bridge: the relay and key processes run as tiergate-bridge" "children run as: $users"
			if ip netns exec "$ns" openssl s_client -connect 127.0.0.1:8443 -CAfile "$TG_TMP/pki/device-ca.pem" \
				-cert "$TG_TMP/pki/dev-good.pem" -key "$TG_TMP/pki/dev-good.key" </dev/null >"$TG_TMP/s_client.out" 2>&1 &&
				grep -q 'Cipher is' "$TG_TMP/s_client.out"; then
				pass "a device completes a TLS handshake with the bridge's installed certificate"
			else fail "a device completes a TLS handshake with the bridge"; show s_client; fi
		else fail "tiergate-bridge starts with the installed site file"; show bridge-live; fi
		kill "$bpid" 2>/dev/null; wait "$bpid" 2>/dev/null
	fi
else
	fail "network namespace $ns for the daemons"
fi

# --- log rotation -------------------------------------------------------------
out logrotate logrotate -d -s "$TG_TMP/logrotate.state" /etc/logrotate.d/tiergate
if [ "$status" -eq 0 ] && grep -q 'gw.json' "$TG_TMP/logrotate.out" && ! grep -Eqi 'error|insecure|skipping' "$TG_TMP/logrotate.out"; then
	pass "logrotate reads /etc/logrotate.d/tiergate and would rotate the event files"
else fail "logrotate reads /etc/logrotate.d/tiergate" "exit $status"; show logrotate; fi

# --- installing again (an upgrade to the same version) keeps the admin's site file ---------
echo '# edited by the admin' >>"$SITE"
out dpkg-i-again dpkg_wait -i "$deb"
if [ "$status" -eq 0 ] && tail -n 1 "$SITE" | grep -q 'edited by the admin' &&
	[ "$(stat -c '%U:%G %a' "$SITE")" = "root:tiergate 640" ] && [ "$(stat -c '%U' /var/lib/tiergate/quarantine)" = tiergate ]; then
	pass "dpkg -i again: the admin's site file, its owner and mode and the directories stay"
else fail "dpkg -i again keeps the admin's site file, owners and modes" "exit $status, $(stat -c '%U:%G %a' "$SITE")"; show dpkg-i-again; fi

# --- purge ----------------------------------------------------------------------
for f in "${bridge_files[@]}"; do rm -f "$f"; done   # the admin's files; purge leaves them
bridge_files=()
getent passwd | cut -d: -f1 | sort >"$TG_TMP/users.prepurge"
getent group | cut -d: -f1 | sort >"$TG_TMP/groups.prepurge"
out purge dpkg_wait --purge "$PKG"
if [ "$status" -eq 0 ]; then installed=0; pass "dpkg --purge"; else fail "dpkg --purge" "exit $status"; show purge; fi
purge_end=$(date +%s)
gone=""
for d in "${STATE_DIRS[@]}"; do [ -e "$d" ] && gone="$gone $d"; done
[ -z "$gone" ] && pass "purge removed ${STATE_DIRS[*]}" || fail "purge removed ${STATE_DIRS[*]}" "still there:$gone"
dpkg-query -W -f='${Status}\n' "$PKG" >"$TG_TMP/status.out" 2>&1
if ! grep -q installed "$TG_TMP/status.out" || grep -q 'not-installed' "$TG_TMP/status.out"; then
	pass "dpkg knows the package no more"
else fail "dpkg knows the package no more" "$(cat "$TG_TMP/status.out")"; fi
left=$(ls /var/lib/dpkg/info/"$PKG".* 2>/dev/null)
[ -z "$left" ] && pass "no $PKG files left in /var/lib/dpkg/info" || fail "no $PKG files left in /var/lib/dpkg/info" "$left"

snapshot "$TG_TMP/after.list"
# Strict for what was there before (purge removed none of it, changed no owner or mode)
# and for what the install added or what names tiergate; other new paths are another
# process's doing meanwhile (suites of other runs on a shared machine) and are listed only.
comm -23 "$TG_TMP/before.list" "$TG_TMP/after.list" >"$TG_TMP/purge.lost"
comm -13 "$TG_TMP/before.list" "$TG_TMP/after.list" >"$TG_TMP/purge.new"
cut -d' ' -f1 "$TG_TMP/added" | sed 's/$/ /' >"$TG_TMP/added.prefixes"
grep -F -f "$TG_TMP/added.prefixes" "$TG_TMP/purge.new" >"$TG_TMP/purge.left" || true
grep 'tiergate' "$TG_TMP/purge.new" >>"$TG_TMP/purge.left" || true
# A path made after the purge (another process writing tiergate's default paths on a
# shared machine) is not the purge's doing: the check just above saw the directories gone.
sort -u "$TG_TMP/purge.left" | while read -r path rest; do
	if [ "$(stat -c %Z "$path" 2>/dev/null || echo 0)" -gt "$purge_end" ]; then
		echo "# made after the purge by another process: $path $rest" >&2
	else
		echo "$path $rest"
	fi
done >"$TG_TMP/purge.left.ours"
mv "$TG_TMP/purge.left.ours" "$TG_TMP/purge.left"
if [ ! -s "$TG_TMP/purge.lost" ] && [ ! -s "$TG_TMP/purge.left" ] && [ "$(wc -l <"$TG_TMP/before.list")" -gt 1000 ]; then
	pass "after purge /etc /usr /var hold the files, owners and modes of before ($(wc -l <"$TG_TMP/before.list") paths)"
else
	fail "after purge /etc /usr /var hold the files, owners and modes of before" \
		"$(grep -c . "$TG_TMP/purge.lost") lost or changed, $(sort -u "$TG_TMP/purge.left" | grep -c .) left behind"
	sed 's/^/  | lost: /' "$TG_TMP/purge.lost" | head -n 15
	sort -u "$TG_TMP/purge.left" | sed 's/^/  | left: /' | head -n 15
fi
grep -v 'tiergate' "$TG_TMP/purge.new" | sed 's/^/# meanwhile, not ours: /' | head -n 10

# users and groups: the package's three were added, and purge took exactly those away
getent passwd | cut -d: -f1 | sort >"$TG_TMP/users.after"
getent group | cut -d: -f1 | sort >"$TG_TMP/groups.after"
for what in users groups; do
	added=$(comm -13 "$TG_TMP/$what.before" "$TG_TMP/$what.installed" | grep '^tiergate' | tr '\n' ' ')
	# gone in the purge: there before the install and just before the purge, not after. Only
	# tiergate* names could be the postrm's doing (other suites add and remove their own users
	# meanwhile on a shared machine).
	lost=$(comm -12 "$TG_TMP/$what.before" "$TG_TMP/$what.prepurge" | comm -23 - "$TG_TMP/$what.after" |
		grep '^tiergate' | tr '\n' ' ')
	left=$(comm -12 <(echo "$added" | tr ' ' '\n' | grep . | sort) "$TG_TMP/$what.after" | tr '\n' ' ')
	want="tiergate tiergate-bridge tiergate-portal tiergate-sandbox "
	[ "$what" = groups ] && want="tiergate tiergate-admin tiergate-bridge tiergate-portal tiergate-sandbox "
	if [ "$added" = "$want" ] && [ -z "$lost" ] && [ -z "$left" ]; then
		pass "the install added the $what $added and purge removed them (and no other)"
	else
		fail "the install added the $what $want; purge removed exactly those" \
			"added: $added; left: $left; lost: $lost"
	fi
done
dpkg-statoverride --list | sort >"$TG_TMP/overrides.after"
if diff "$TG_TMP/overrides.before" "$TG_TMP/overrides.after" >"$TG_TMP/overrides.diff"; then
	pass "after purge the statoverrides are those of before"
else fail "after purge the statoverrides are those of before"; sed 's/^/  | /' "$TG_TMP/overrides.diff"; fi
