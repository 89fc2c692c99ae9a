#!/usr/bin/env bash
# policy: ns per lookup at 10 / 100 / 1,000 / 10,000 rules (IPv4, IPv6; app pending and known) against a plain rule scan
set -u
TP="$TIERGATE_BUILD/bin/tiergate-policy"
[ -x "$TP" ] || { echo "not built: $TP (run make)"; exit 1; }
SIZES="10 100 1000 10000"
[ -n "${BENCH_QUICK:-}" ] && SIZES="10 100"   # quick mode (make test): a few seconds, same lines
# After each run: how many times faster the index is than the plain scan (app TLS), per family.
ratios() {
	awk '{ print } /index: pending/ { for (i = 1; i <= NF; i++) if ($i == "TLS") t[++n] = $(i + 1);
		printf "  %s  ratio plain scan / index (app TLS) = %.2fx\n", $1, (t[1] > 0 ? t[2] / t[1] : 0); n = 0 }'
}
echo "Each figure: the mean over >= 1M lookups of flows aimed at the policy's own rules"
echo "(addresses inside their networks, ports inside their ranges). 'index' is policy_lookup"
echo "(what gw calls); 'plain scan' walks every rule in order, the naive peer. Synthetic"
echo "policies: tiergate-policy bench --rules N (β model, address plan of conf/README.md)."
echo "'check with 40 relay hosts' is what tiergate-policy check costs on the same rules with"
echo "relay hosts under them (path analysis with work to do), phase by phase; the per-rule"
echo "invariants alone are the peer (what check did before the path analysis). Goal: a"
echo "1,000-rule site checks in well under 1 s."
echo
for n in $SIZES; do
	"$TP" bench --rules "$n" | ratios
	[ "${PIPESTATUS[0]}" -eq 0 ] || exit 1
	echo
done
for conf in alpha beta beta-prime; do
	"$TP" bench "$TIERGATE_ROOT/conf/$conf.conf" | ratios
	[ "${PIPESTATUS[0]}" -eq 0 ] || exit 1
	echo
done
