#!/usr/bin/env bash
# log rotation of an audit trail: logrotate renames spool.json while tiergate-spoold works, SIGHUP, and the hash chain goes on in the new file
set -u
cd "${TIERGATE_ROOT:-$(dirname "$0")/../..}" || exit 1
B="${TIERGATE_BUILD:-build}/bin"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tg-demo-rot.XXXXXX")
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
command -v logrotate >/dev/null || { echo "logrotate not installed"; exit 1; }
mkdir -p "$tmp/inbox"
cat >"$tmp/site.conf" <<CONF
sanitizer = { quarantine = { dir = "$tmp/quarantine"; }; events = "$tmp/sanitizer.json"; };
spool = { inbox = "$tmp/inbox"; outbox = "$tmp/outbox"; state_dir = "$tmp/state"; workers = 1;
          stable_seconds = 1; events = "$tmp/spool.json"; };
CONF
"$B/tiergate-spoold" --config "$tmp/site.conf" >"$tmp/spoold.log" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q watching "$tmp/spoold.log" && break; sleep 0.1; done
drop() { printf 'memo %s\n' "$1" >"$tmp/inbox/$1.part" && mv "$tmp/inbox/$1.part" "$tmp/inbox/$1"; }
lines() { cat "$@" 2>/dev/null | grep -c '"event":"spool"'; }
wait_lines() { for _ in $(seq 100); do [ "$(lines "${@:2}")" -ge "$1" ] && return 0; sleep 0.1; done; return 1; }
for i in 1 2 3; do drop "before-$i.txt"; done
wait_lines 3 "$tmp/spool.json" || { echo "spoold did not take the files"; cat "$tmp/spoold.log"; exit 1; }

# the package's stanza (debian/tiergate.logrotate), pointed here, with kill -HUP for systemctl
awk -v f="$tmp/spool.json" -v pid="$pid" '
	/^\/var\/log/ && index($0, "spool.json") { on = 1; print f " {"; next }
	on && /^\tcreate / { print "\tcreate 0640 root root"; next }
	on && /systemctl|^\t\tif |^\t\tfi/ { if (!done++) print "\t\tkill -HUP " pid; next }
	on { print } on && /^}/ { exit }' debian/tiergate.logrotate >"$tmp/logrotate.conf"
echo "\$ logrotate -f logrotate.conf      # rename spool.json, create it again, SIGHUP tiergate-spoold"
logrotate -f -s "$tmp/logrotate.state" "$tmp/logrotate.conf" || exit 1
for i in 1 2; do drop "after-$i.txt"; done
wait_lines 5 "$tmp/spool.json.1" "$tmp/spool.json" || { echo "spoold did not take the files after SIGHUP"; exit 1; }
echo
echo "spool.json.1 ends (the old file is sealed, nothing is written behind it):"
tail -n 2 "$tmp/spool.json.1" | cut -c1-150 | sed 's/^/  /'
echo "spool.json begins (its first prev is the hash of that last line):"
head -n 1 "$tmp/spool.json" | sed 's/.*\("name":"[^"]*"\).*\("prev":"[0-9a-f]\{16\}\).*/  ... \1 ... \2.../'
echo
echo "\$ tiergate-audit verify --after spool.json.1 spool.json"
"$B/tiergate-audit" verify --after "$tmp/spool.json.1" "$tmp/spool.json" 2>&1 | sed "s|$tmp/||" || exit 1
echo "files spooled: $(lines "$tmp/spool.json.1" "$tmp/spool.json") of 5, none lost across the rotation"
