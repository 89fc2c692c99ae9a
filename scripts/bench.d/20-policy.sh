#!/usr/bin/env bash
# policy: ns per lookup at 10 / 100 / 1,000 / 10,000 rules (IPv4, IPv6; app pending and known) against a plain rule scan
set -u
TP="$TIERGATE_BUILD/bin/tiergate-policy"
[ -x "$TP" ] || { echo "not built: $TP"; exit 1; }
echo "Each figure: the mean over >= 1M lookups of flows aimed at the policy's own rules"
echo "(addresses inside their networks, ports inside their ranges). 'index' is policy_lookup"
echo "(what gw calls); 'plain scan' walks every rule in order, the naive peer. Synthetic"
echo "policies: tiergate-policy bench --rules N (β model, address plan of conf/README.md)."
echo "'check with 40 relay hosts' is what tiergate-policy check costs on the same rules with"
echo "relay hosts under them (path analysis with work to do), phase by phase; the per-rule"
echo "invariants alone are the peer (what check did before the path analysis). Goal: a"
echo "1,000-rule site checks in well under 1 s."
echo
for n in 10 100 1000 10000; do
	"$TP" bench --rules "$n" || exit 1
	echo
done
for conf in alpha beta beta-prime; do
	"$TP" bench "$TIERGATE_ROOT/conf/$conf.conf" || exit 1
	echo
done
