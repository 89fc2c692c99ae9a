#!/usr/bin/env bash
# α′ local breakout: which cloud names LGWAN reached, which were refused and why (real dig + curl captures)
set -u
cd "${TIERGATE_ROOT:-$(dirname "$0")/../..}" || exit 1
B="${TIERGATE_BUILD:-build}/bin"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tg-demo-names.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "\$ tiergate-policy show conf/alpha-prime.conf | grep names"
"$B/tiergate-policy" show conf/alpha-prime.conf | grep 'names \[' | sed -n '3,4p'
echo
echo "\$ tiergate-policy explain conf/alpha-prime.conf --src 10.20.1.5 --dst 198.51.100.10 --proto tcp --dport 443 --name city.sharepoint.com"
"$B/tiergate-policy" explain conf/alpha-prime.conf --src 10.20.1.5 --dst 198.51.100.10 --proto tcp --dport 443 \
    --name city.sharepoint.com | grep -E '^(rule|verdict|name|list)'
echo
echo "\$ tiergate-gw --config conf/alpha-prime.conf --pcap pcap/names-tls-lgwan-internet.pcap --events events.json --stats"
"$B/tiergate-gw" --config conf/alpha-prime.conf --pcap pcap/names-tls-lgwan-internet.pcap \
    --events "$tmp/events.json" --stats | grep -E '^(names|name list)' || exit 1
echo
echo "TLS flows from LGWAN to the internet (server_name as the staff PC sent it):"
/usr/bin/python3 - "$tmp/events.json" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] != "flow" or not e["final"] or e.get("app") != "TLS":
        continue
    name = e.get("server_name") or "(no SNI)"
    why = "list " + e["name_list"] if e["verdict"] == "accept" else e["reason"].split("because ")[-1]
    print("  %-15s %-40s %-7s %s" % (e["dst_ip"], name[:40], e["verdict"], why))
PY
