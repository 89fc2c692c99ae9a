#!/usr/bin/env bash
# tiergate-verify: the α example suite, then a candidate policy change caught before it goes live
set -u
cd "${TIERGATE_ROOT:-$(dirname "$0")/../..}" || exit 1
B="${TIERGATE_BUILD:-build}/bin"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tg-demo-verify.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "\$ tiergate-verify --junit report.xml conf/verify/alpha"
"$B/tiergate-verify" --junit "$tmp/report.xml" conf/verify/alpha || exit 1
echo "(report.xml: $(grep -c '<testcase ' "$tmp/report.xml") testcases for the CI to display)"

# The candidate: the screen-transfer server "moved" to 3390, and someone edited the rule in place.
cp -r conf/parts "$tmp/"
sed '/name = "lgwan-screen-transfer"/{n;s/dport = \[ 3389 \]/dport = [ 3390 ]/}' conf/alpha.conf >"$tmp/alpha-candidate.conf"
echo
echo "\$ diff conf/alpha.conf alpha-candidate.conf"
diff conf/alpha.conf "$tmp/alpha-candidate.conf"
if [ -x "$B/tiergate-policy" ]; then
	echo
	echo "\$ tiergate-policy diff conf/alpha.conf alpha-candidate.conf    # the rule-level effect"
	"$B/tiergate-policy" diff conf/alpha.conf "$tmp/alpha-candidate.conf" | head -n 8
fi
echo
echo "\$ tiergate-verify --policy alpha-candidate.conf conf/verify/alpha    # the traffic-level effect"
"$B/tiergate-verify" --policy "$tmp/alpha-candidate.conf" conf/verify/alpha >"$tmp/out"
status=$?
grep -v '^PASS ' "$tmp/out"
echo "(exit status $status: the CI job fails, and the change does not go live)"
[ "$status" -eq 1 ]
