#!/usr/bin/env bash
# 37-names.sh -- server names: unit tests, fuzz corpora, no payload of a refused name forwarded (--write-accepted), explain --name, show, stats.
# tier: unit
# timeout: 120
. "$(dirname "$0")/../lib/harness.sh"

GW="$BIN/tiergate-gw"
TP="$BIN/tiergate-policy"
run_unit test_names
fuzz_replay names
fuzz_replay dnsans

# --- not one byte of a refused flow's payload is forwarded ----------------------
# Replays the α′ fixture; the flows the events call dropped must have no packet with
# payload in the accepted output, the accepted ones must (so the check can fail).
ev="$TG_TMP/names.json" acc="$TG_TMP/names-accepted.pcap"
if "$GW" --pcap pcap/names-tls-lgwan-internet.pcap --config conf/alpha-prime.conf --events "$ev" \
    --write-accepted "$acc" >"$TG_TMP/replay.out" 2>&1; then
	pass "names replay runs"
else
	fail "names replay runs" "$(tail -n 3 "$TG_TMP/replay.out")"
fi
cat >"$TG_TMP/payload.py" <<'PY'
import json, struct, sys
sys.path.insert(0, "pcap")
from synth import read_pcap
flows = {}
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == "flow" and e["final"] and e["dst_port"] == 443:
        flows[e["src_port"]] = (e["verdict"], e.get("server_name"))
payload = {}
lt, recs = read_pcap(sys.argv[2])
for _, d, _ in recs:
    ip = d[14:] if lt == 1 else d
    if ip[0] >> 4 != 4 or ip[9] != 6:
        continue
    ihl = (ip[0] & 15) * 4
    tl = struct.unpack("!H", ip[2:4])[0]
    sport, dport = struct.unpack("!HH", ip[ihl:ihl + 4])
    doff = (ip[ihl + 12] >> 4) * 4
    port = sport if dport == 443 else dport
    if tl - ihl - doff > 0:
        payload[port] = payload.get(port, 0) + 1
refused = [p for p, (v, _) in flows.items() if v != "accept"]
accepted = [p for p, (v, _) in flows.items() if v == "accept"]
bad = [(p, flows[p][1], payload[p]) for p in refused if payload.get(p)]
if len(refused) < 6 or len(accepted) < 2:
    print("FAIL the fixture's flows are all there: %d refused, %d accepted TLS flows (want 6, 2)"
          % (len(refused), len(accepted)))
else:
    print("ok the fixture's flows are all there (%d refused, %d accepted)" % (len(refused), len(accepted)))
if bad:
    print("FAIL no payload of a refused name is forwarded: %s" % bad)
else:
    print("ok no payload of a refused name is forwarded (%d refused flows)" % len(refused))
if not accepted or any(not payload.get(p) for p in accepted):
    print("FAIL accepted flows have payload in the output (else the check above could not see a leak)")
else:
    print("ok accepted flows have payload in the output (%s packets)" % [payload[p] for p in accepted])
PY
run_checker payload python3 "$TG_TMP/payload.py" "$ev" "$acc"

# --- every flow event carries server_name when nDPI read one (also the DNS question) ---
if grep '"event":"flow"' "$ev" | grep '"app":"DNS"' | grep -q '"server_name":"teams.microsoft.com"'; then
	pass "DNS flows carry their question as server_name"
else
	fail "DNS flows carry their question as server_name" "$(grep -m2 DNS "$ev")"
fi
check "α replay runs" "$GW" --pcap pcap/tls-mynumber-intermediate.pcap --config conf/alpha.conf \
    --events "$TG_TMP/alpha.json"
check_grep "server_name in α events too (no name rules)" '"server_name":"intermediate.lgwan.example"' \
    "$TG_TMP/alpha.json"

# --- stats: per-list hits and the binding table ------------------------------------
"$GW" --pcap pcap/names-tls-lgwan-internet.pcap --config conf/alpha-prime.conf --stats \
    >"$TG_TMP/stats.out" 2>&1 && pass "--stats runs" || fail "--stats runs" "exit $?"
check_grep "--stats counts flows per name list" '^name list +groupware: 2 flows$' "$TG_TMP/stats.out"
check_grep "--stats shows DNS answers read" '4 DNS answers read, 4 addresses learnt' "$TG_TMP/stats.out"

# --- explain --name, show ---------------------------------------------------------------
"$TP" explain conf/alpha-prime.conf --src 10.20.1.5 --dst 198.51.100.10 --proto tcp --dport 443 \
    --name files.sharepoint.com >"$TG_TMP/explain-ok.out" 2>&1 && pass "explain --name runs (listed)" ||
	fail "explain --name runs (listed)" "exit $?"
check_grep "explain --name: a listed name is accepted" '^verdict +accept' "$TG_TMP/explain-ok.out"
check_grep "explain --name: says which list" '^list +groupware \(conf/names/groupware.list\)' \
    "$TG_TMP/explain-ok.out"
"$TP" explain conf/alpha-prime.conf --src 10.20.1.5 --dst 198.51.100.10 --proto tcp --dport 443 \
    --name evil-sharepoint.com >"$TG_TMP/explain-no.out" 2>&1 && pass "explain --name runs (unlisted)" ||
	fail "explain --name runs (unlisted)" "exit $?"
check_grep "explain --name: an unlisted name is dropped, and why" \
    "^why +no rule matched: rule 'breakout-groupware' .* the server name is not among its names" \
    "$TG_TMP/explain-no.out"
"$TP" show conf/alpha-prime.conf >"$TG_TMP/show.out" 2>&1 && pass "show runs" || fail "show runs" "exit $?"
check_grep "show lists the name lists per rule" \
    'breakout-groupware .*names \[@list:groupware \([0-9]+ names\)\], bound to DNS answers' "$TG_TMP/show.out"
