#!/usr/bin/env bash
# 20-policy.sh -- policy/ and tiergate-policy: unit tests, the presets, conf/bad/, explain, show, diff, fuzz corpus.
# tier: unit
# timeout: 300
. "$(dirname "$0")/../lib/harness.sh"

TP="$BIN/tiergate-policy"
run_unit test_policy
run_unit test_paths
fuzz_replay config
fuzz_replay asp_state

# out NAME CMD...: runs CMD, its output in $TG_TMP/NAME.out and its status in $status.
out() {
	local name=$1
	shift
	"$@" >"$TG_TMP/$name.out" 2>&1
	status=$?
}

# expect_status NAME WANT: passes when the last out's status was WANT.
expect_status() {
	if [ "$status" -eq "$2" ]; then
		pass "$1"
	else
		fail "$1" "exit $status, want $2"
		tail -n 15 "$TG_TMP/${3:-$1}.out" 2>/dev/null | sed 's/^/  | /'
	fi
}

# has NAME FILE TEXT...: passes when FILE holds every TEXT (fixed strings).
has() {
	local name=$1 file=$2 t
	shift 2
	for t in "$@"; do
		if ! grep -qF -- "$t" "$file"; then
			fail "$name" "no '$t' in output"
			sed 's/^/  | /' "$file" | head -n 30
			return
		fi
	done
	pass "$name"
}

# --- the presets pass check, without a single warning -----------------------
for conf in alpha beta beta-prime beta-cloud alpha-prime; do
	out "check-$conf" "$TP" check "conf/$conf.conf"
	if [ "$status" -eq 0 ] && [ "$(cat "$TG_TMP/check-$conf.out")" = "configuration OK" ]; then
		pass "check-$conf"
	else
		fail "check-$conf" "exit $status"
		sed 's/^/  | /' "$TG_TMP/check-$conf.out"
	fi
done

# --- conf/bad: refused with the expected error; warn-*: loaded with the warning ---
nbad=0
for conf in conf/bad/*.conf; do
	name=$(basename "$conf" .conf)
	expect="conf/bad/$name.expect"
	if [ ! -s "$expect" ]; then
		fail "bad-$name" "no $expect"
		continue
	fi
	out "bad-$name" "$TP" check "$conf"
	case $name in
	warn-*) want=0 ;;
	*) want=1; nbad=$((nbad + 1)) ;;
	esac
	if [ "$status" -ne "$want" ]; then
		fail "bad-$name" "exit $status, want $want"
		sed 's/^/  | /' "$TG_TMP/bad-$name.out"
		continue
	fi
	missing=$(grep -vxF -f "$TG_TMP/bad-$name.out" "$expect")
	if [ -n "$missing" ]; then
		fail "bad-$name" "expected line missing: $missing"
		sed 's/^/  | /' "$TG_TMP/bad-$name.out"
	elif [ "$want" = 0 ] && ! grep -qx 'configuration OK' "$TG_TMP/bad-$name.out"; then
		fail "bad-$name" "warnings only, yet no 'configuration OK'"
	else
		pass "bad-$name"
	fi
done
if [ "$nbad" -ge 10 ]; then pass "bad-count ($nbad refused files)"; else fail "bad-count" "only $nbad"; fi

# --- explain ---------------------------------------------------------------------
out explain-pending "$TP" explain conf/alpha.conf --src 10.10.1.5 --dst 10.20.5.10 --proto tcp --dport 443
expect_status explain-pending-status 0 explain-pending
has explain-pending "$TG_TMP/explain-pending.out" "zone mynumber (network 10.10.0.0/16)" \
	"zone lgwan (network 10.20.0.0/16), host intermediate" \
	"rule     mynumber-to-intermediate at conf/alpha.conf:53" "would wait for the application" \
	"with app TLS" "→ accept  mynumber-to-intermediate" "with app Unknown" "→ drop    unknown-app"

out explain-app "$TP" explain conf/alpha.conf --src 10.10.1.5 --dst 10.20.5.10 --proto tcp --dport 443 --app TLS
has explain-app "$TG_TMP/explain-app.out" "verdict  accept" "rule 'mynumber-to-intermediate' (conf/alpha.conf:53)"

out explain-invariant "$TP" explain conf/alpha.conf --src fd00:10::5 --dst 2001:db8:100::10 --proto tcp --dport 443 --app TLS
has explain-invariant "$TG_TMP/explain-invariant.out" "rule     invariant:mynumber-internet" "verdict  drop" "三層分離"

out explain-reject "$TP" explain conf/alpha.conf --src 203.0.113.5 --dst 10.20.1.5 --proto udp --dport 53
has explain-reject "$TG_TMP/explain-reject.out" "internet-to-lgwan-refused at conf/alpha.conf:102" "verdict  reject" \
	"α: nothing from the internet enters LGWAN unsanitized"

out explain-beta "$TP" explain conf/beta.conf --src 172.16.1.5 --dst 10.20.3.2 --proto tcp --dport 3389 --app RDP
has explain-beta "$TG_TMP/explain-beta.out" "staff-screen-transfer" "verdict  accept" "host lgwan-vdi"

out explain-json "$TP" explain conf/alpha.conf --src 10.20.1.5 --dst 10.30.0.30 --proto tcp --dport 3389 --json
has explain-json "$TG_TMP/explain-json.out" '"src_zone":"lgwan"' '"dest_zone":"dmz"' '"rule":"lgwan-screen-transfer"' \
	'"final":false' '"with_app":[{"app":"RDP","action":"accept"'
if command -v python3 >/dev/null; then
	check explain-json-parses python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TG_TMP/explain-json.out"
fi

# --- show ------------------------------------------------------------------------------
out show-alpha "$TP" show conf/alpha.conf
expect_status show-alpha-status 0 show-alpha
has show-alpha "$TG_TMP/show-alpha.out" "model alpha, 5 zones, 13 hosts, 17 rules" "from \\ to" "✗ invariant" \
	"TLS/443 → intermediate" "mynumber → lgwan" "mynumber-to-intermediate (line 53)" \
	"staff-pcs: RDP/3389 → screen-transfer" "internet-to-lgwan-refused"
# the mynumber row: nothing to dmz or asp, the invariant toward the internet
if grep -E '^mynumber +— +TLS/443' "$TG_TMP/show-alpha.out" | grep -q '✗ invariant'; then
	pass show-alpha-matrix-row
else
	fail show-alpha-matrix-row "mynumber row not as expected"
	sed 's/^/  | /' "$TG_TMP/show-alpha.out" | head -n 12
fi
out show-beta-prime "$TP" show conf/beta-prime.conf
has show-beta-prime "$TG_TMP/show-beta-prime.out" "model beta-prime" "staff-pcs: RDP/3389 → lgwan-vdi" \
	"staff-pcs,staff-pcs-v6: TLS/443 → payroll,accounting"

# --- diff ------------------------------------------------------------------------------
mkdir -p "$TG_TMP/site"
cp -r conf/parts "$TG_TMP/site/"
cp conf/alpha.conf "$TG_TMP/site/old.conf"
# new.conf: alpha without the lgwan-screen-transfer rule (from its name to its closing "},")
awk '/name = "lgwan-screen-transfer"/ { skip = 1 } skip { if ($0 ~ /},[ \t]*$/) skip = 0; next } { print }' \
	conf/alpha.conf >"$TG_TMP/site/new.conf"
out diff-removed "$TP" diff "$TG_TMP/site/old.conf" "$TG_TMP/site/new.conf"
expect_status diff-removed-status 1 diff-removed
has diff-removed "$TG_TMP/diff-removed.out" "rule removed: lgwan-screen-transfer" "lgwan → dmz" \
	"rule lgwan-screen-transfer → default: accept → drop" "10.30.0.30 port 3389, app RDP"
# (on a diff that ran and reported the removed pair: an empty output has no other pairs either)
if [ "$status" != 1 ] || ! grep -q '^lgwan → dmz' "$TG_TMP/diff-removed.out"; then
	fail diff-removed-only-that-pair "no diff output to judge (exit $status)"
elif grep -q '^internet → \|^mynumber → ' "$TG_TMP/diff-removed.out"; then
	fail diff-removed-only-that-pair "other zone pairs reported"
	sed 's/^/  | /' "$TG_TMP/diff-removed.out"
else
	pass diff-removed-only-that-pair
fi
out diff-same "$TP" diff conf/alpha.conf "$TG_TMP/site/old.conf"
expect_status diff-same-status 0 diff-same
has diff-same "$TG_TMP/diff-same.out" "no flow changes verdict"
out diff-beta "$TP" diff conf/beta.conf conf/beta-prime.conf
expect_status diff-beta-status 1 diff-beta
has diff-beta "$TG_TMP/diff-beta.out" "rule added: business-files-to-lgwan" "internet → dmz" \
	"rule default → business-files-to-lgwan: drop → accept"
out diff-bad "$TP" diff conf/alpha.conf conf/bad/mynumber-internet.conf
expect_status diff-bad-file 2 diff-bad

# --- paths: the chains an auditor asks for ---------------------------------------------
out paths-alpha "$TP" paths conf/alpha.conf --from lgwan --to internet
expect_status paths-alpha-status 0 paths-alpha
has paths-alpha "$TG_TMP/paths-alpha.out" "paths lgwan ⇝ internet in conf/alpha.conf" \
	"clean: through or onto a sanitizer or screen-transfer host" \
	"└ rule 'lgwan-screen-transfer' (conf/alpha.conf:66)" "→ host 'screen-transfer' 10.30.0.30/32, passes it on as screen-transfer" \
	"→ host 'mail-sanitizer' 10.30.0.10/32, passes it on as sanitizer" ", 0 refused"
out paths-telework "$TP" paths conf/beta.conf --from internet --to lgwan
has paths-telework "$TG_TMP/paths-telework.out" "→ host 'bridge' 10.30.0.20/32, passes it on as bridge" \
	"└ rule 'telework-vdi' (conf/beta.conf:104)  dmz → lgwan  bridge: RDP/3389 → lgwan-vdi"
out paths-refused "$TP" paths conf/bad/path-mynumber-screen-transfer.conf --from mynumber --to internet
expect_status paths-refused-status 1 paths-refused
has paths-refused "$TG_TMP/paths-refused.out" "REFUSED: the two never connect" \
	"└ rule 'mynumber-web' (conf/bad/path-mynumber-screen-transfer.conf:5)" \
	"└ rule 'screen-transfer-web' (conf/bad/path-mynumber-screen-transfer.conf:7)" "1 path, 1 refused"
out paths-cloud "$TP" paths conf/beta-cloud.conf --from dmz --to internet
has paths-cloud "$TG_TMP/paths-cloud.out" "→ cloud-mail" "→ cloud-dns"
out paths-usage "$TP" paths conf/alpha.conf --from lgwan
expect_status paths-usage-missing 2 paths-usage
out paths-zone "$TP" paths conf/alpha.conf --from lgwan --to nowhere
expect_status paths-usage-zone 2 paths-zone
has paths-usage-zone-text "$TG_TMP/paths-zone.out" "no zone 'nowhere'"

# --- exceptions: listed with days left by check and show --------------------------------
mkdir -p "$TG_TMP/exc"
cp -r conf/parts "$TG_TMP/exc/"
until=$(date -d "+30 days" +%F)
sed "/name = \"mynumber-ntp\"/,/action/ s/action = \"accept\"; },/action = \"accept\";\n    exception = { reason = \"legacy NTP client\"; approved_by = \"CISO Tanaka\"; until = \"$until\"; }; },/" \
	conf/alpha.conf >"$TG_TMP/exc/alpha.conf"
out check-exception "$TP" check "$TG_TMP/exc/alpha.conf"
expect_status check-exception-status 0 check-exception
has check-exception "$TG_TMP/check-exception.out" \
	"exception: rule 'mynumber-ntp' ($TG_TMP/exc/alpha.conf:59): legacy NTP client; approved by CISO Tanaka; until $until (30 days left)" \
	"configuration OK"
out show-exception "$TP" show "$TG_TMP/exc/alpha.conf"
has show-exception "$TG_TMP/show-exception.out" "exceptions (1)" "until $until (30 days left)" "[exception]"

# --- usage ------------------------------------------------------------------------------
out usage-none "$TP"
expect_status usage-none 2
out usage-unknown "$TP" frobnicate
expect_status usage-unknown 2
has usage-unknown-text "$TG_TMP/usage-unknown.out" "unknown command 'frobnicate'"
out usage-explain "$TP" explain conf/alpha.conf --src 10.0.0.1 --proto tcp
expect_status usage-explain-missing 2 usage-explain
out usage-proto "$TP" explain conf/alpha.conf --src 10.0.0.1 --dst 10.0.0.2 --proto sctpx
expect_status usage-explain-proto 2 usage-proto
out usage-mixed "$TP" explain conf/alpha.conf --src 10.0.0.1 --dst fd00::1 --proto tcp
expect_status usage-explain-families 2 usage-mixed
out usage-check "$TP" check
expect_status usage-check 2
out check-missing "$TP" check "$TG_TMP/no-such.conf"
expect_status check-missing-file 1 check-missing
has check-missing-text "$TG_TMP/check-missing.out" "no-such.conf:0: error: cannot read file"
