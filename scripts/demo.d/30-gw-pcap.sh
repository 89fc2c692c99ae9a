#!/usr/bin/env bash
# tiergate-gw --pcap: real captures replayed against the α site, the verdict of every flow as an admin reads it
set -u
cd "${TIERGATE_ROOT:-$(dirname "$0")/../..}" || exit 1
B="${TIERGATE_BUILD:-build}/bin"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tg-demo-gw.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

pcaps="tls-lgwan-asp tls-mynumber-intermediate tls-mynumber-internet dns-mynumber-lgwan
       http-dmz-internet ssh-on-443 smtp-internet-dmz smtp-internet-lgwan rdp-lgwan-dmz
       unknown-lgwan-dmz-3389 ftp-lgwan-dmz ping-internet-lgwan frag-ping-internet-dmz
       ping6-lgwan-internet"
args=()
for p in $pcaps; do args+=(--pcap "pcap/$p.pcap"); done
echo "\$ tiergate-gw --config conf/alpha.conf --pcap pcap/tls-lgwan-asp.pcap ... (14 captures) \\"
echo "      --events events.json --write-accepted (one file at a time) --stats"
"$B/tiergate-gw" --config conf/alpha.conf "${args[@]}" --events "$tmp/events.json" --stats || exit 1

# The table: one line per flow, from its last word (flow_end), marked when the app changed the verdict.
echo
echo "Flows (→ = the application, once nDPI named it, changed the verdict; see events.json):"
/usr/bin/python3 - "$tmp/events.json" <<'PY'
import json, sys
ends, changed, rejects = [], set(), {}
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == "flow" and "previous_verdict" in e:
        changed.add(e["flow_id"])
    elif e["event"] == "reject":
        rejects[e["flow_id"]] = e["sent"]
    elif e["event"] == "flow_end":
        ends.append(e)
fmt = "%-34s %-6s %-18s %-8s %-28s %-7s %s"
print(fmt % ("client → server", "proto", "zones", "app", "rule", "verdict", "note"))
for e in ends:
    host = lambda ip, port: ("[%s]" % ip if ":" in ip else ip) + ("" if e["proto"].startswith("ICMP") else ":%d" % port)
    who = "%s → %s" % (host(e["src_ip"], e["src_port"]).split(":")[0] if ":" not in e["src_ip"] else "[%s]" % e["src_ip"],
                       host(e["dst_ip"], e["dst_port"]))
    note = []
    if e["flow_id"] in changed:
        note.append("→ changed once app known")
    if e["flow_id"] in rejects:
        note.append("answered: " + rejects[e["flow_id"]])
    note.append("%d/%d pkts" % (e["pkts_toserver"], e["pkts_toclient"]))
    print(fmt % (who, e["proto"], "%s→%s" % (e["src_zone"], e["dst_zone"]), e["app"] or "-",
                 e["rule"], e["verdict"], ", ".join(note)))
PY
echo
echo "One event, as the site's log pipeline receives it:"
grep '"previous_verdict"' "$tmp/events.json" | head -n 1 | /usr/bin/jq . 2>/dev/null ||
	grep '"previous_verdict"' "$tmp/events.json" | head -n 1
