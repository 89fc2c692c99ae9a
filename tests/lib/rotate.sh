# rotate.sh -- sourced by the rotation suites: a logrotate config made from debian/tiergate.logrotate, and the checks after it.
#
#   rotate_conf /var/log/tiergate/bridge.json "$TG_TMP/events.json" "kill -HUP $PID" >"$TG_TMP/lr.conf"
#   logrotate -f -s "$TG_TMP/lr.state" "$TG_TMP/lr.conf"
#   rotate_fd_checks NAME OLD NEW PID...     # each PID holds NEW and no longer OLD
#   rotate_chain_checks NAME OLD NEW         # tiergate-audit verify OLD, and --after OLD NEW

# rotate_conf PACKAGED-PATH TEST-FILE POSTROTATE-COMMAND [OWNER GROUP]: the package's stanza
# for PACKAGED-PATH (alone), pointed at TEST-FILE, made for OWNER (the test's user), its postrotate
# (systemctl) replaced by the command ("" for a stanza without one). TG_LOGROTATE names
# another file to take the stanza from (an older package's, to see what it did).
rotate_conf() {
	local stanza
	stanza=$(awk -v p="$1" '
		$0 ~ /^\/var\/log/ && index($0, p) { on = 1; print p " {"; next }
		on { print } on && /^}/ { exit }' "${TG_LOGROTATE:-$ROOT/debian/tiergate.logrotate}")
	[ -n "$stanza" ] || { echo "no stanza for $1 in debian/tiergate.logrotate" >&2; return 1; }
	printf '%s\n' "$stanza" | awk -v f="$2" -v cmd="$3" -v owner="${4:-$(id -un) $(id -gn)}" '
		NR == 1 { print f " {"; next }
		/^\tcreate / { print "\tcreate " $2 " " owner; next }
		/^\tpostrotate/ { print; print "\t\t" cmd; skip = 1; next }
		/^\tendscript/ { skip = 0 }
		!skip { print }'
}

# rotate_holds PID FILE: PID has FILE open (a descriptor that names it).
rotate_holds() {
	local fd
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" = "$2" ] && return 0
	done
	return 1
}

rotate_lets_go() { ! rotate_holds "$@"; }

# rotate_fd_checks NAME OLD NEW PID...: every PID writes to NEW and has let go of OLD.
rotate_fd_checks() {
	local name=$1 old=$2 new=$3 pid bad=""
	shift 3
	for pid in "$@"; do
		wait_for 10 rotate_holds "$pid" "$new" || bad="$bad $pid:not-on-new"
		# the old file is kept until the new one has its first line (written by the load going on)
		wait_for 10 rotate_lets_go "$pid" "$old" || bad="$bad $pid:still-on-old"
	done
	if [ -z "$bad" ]; then pass "$name: processes $* hold the new file, none the old one"
	else fail "$name: descriptors after the rotation" "$bad"; ls -l /proc/"$1"/fd 2>&1 | sed 's/^/  | /'; fi
}

# rotate_chain_checks NAME OLD NEW: the old file intact and ended by log_rotated; the new one continues it.
rotate_chain_checks() {
	local out
	if out=$("$BIN/tiergate-audit" verify "$2" 2>&1) && tail -n1 "$2" | grep -q '"event":"log_rotated"'; then
		pass "$1: old file intact, its last line log_rotated"
	else fail "$1: old file" "$out; last line: $(tail -n1 "$2" | cut -c1-200)"; fi
	if out=$("$BIN/tiergate-audit" verify --after "$2" "$3" 2>&1) && [ -s "$3" ]; then
		pass "$1: tiergate-audit verify --after OLD NEW: $(echo "$out" | tail -n1)"
	else fail "$1: tiergate-audit verify --after OLD NEW (new file not empty)" "$out"; fi
}

# rotate_count FILE... ERE: lines matching ERE across the files.
rotate_count() {
	local re=${*: -1}
	cat "${@:1:$#-1}" 2>/dev/null | grep -Ec -- "$re"
}

# rotate_second_phase OLD NEW ERE WHAT LOOP_PID: for a client loop that appends one line per
# answer to $TG_TMP/asked ("2" once $TG_TMP/phase2 exists) and stops at $TG_TMP/stop: ten more
# answers after the rotation, then every answer's event (ERE) is in OLD or NEW, and those of
# the second phase are in NEW.
rotate_second_phase() {
	local old=$1 new=$2 re=$3 what=$4 loop=$5 n total after c c2
	touch "$TG_TMP/phase2"
	n=$(wc -l <"$TG_TMP/asked")
	wait_for 30 sh -c "[ \$(wc -l <'$TG_TMP/asked') -ge $((n + 10)) ]"
	touch "$TG_TMP/stop"
	wait "$loop"
	total=$(wc -l <"$TG_TMP/asked") after=$(grep -c '^2$' "$TG_TMP/asked")
	c=$(rotate_count "$old" "$new" "$re") c2=$(rotate_count "$new" "$re")
	[ "$c" = "$total" ] && pass "no line lost: $c $what logged in OLD and NEW for $total answered" ||
		fail "no line lost" "$total $what answered, $c logged"
	[ "$after" -gt 0 ] && [ "$c2" -ge "$after" ] && pass "the $after $what after the change are in the new file ($c2 there)" ||
		fail "$what after the change in the new file" "$after after, $c2 in the new file"
}
