#!/usr/bin/env bash
# policy: the zone matrix of each model, one flow explained, refused files, whole paths, what β′ changes over β
set -u
cd "$TIERGATE_ROOT" || exit 1
TP="$TIERGATE_BUILD/bin/tiergate-policy"

# step TP ARGS...: shows the command as an admin types it, then runs it.
step() { local bin=$1; shift; printf '\n$ tiergate-policy %s\n' "$*"; "$bin" "$@"; }
# The matrix part of "show": up to the per-pair details.
matrix() { printf '\n$ tiergate-policy show %s   (matrix only)\n' "$1"; "$TP" show "$1" | awk 'NF == 0 { n++ } n < 2'; }

echo "三層分離: every site file is checked against the guideline when it is loaded."
step "$TP" check conf/alpha.conf
step "$TP" show conf/alpha.conf
matrix conf/beta.conf
matrix conf/beta-prime.conf

echo
echo "A mynumber client opens TLS to the intermediate server; the gateway lets the first"
echo "packets through while nDPI names the application, then decides:"
step "$TP" explain conf/alpha.conf --src 10.10.1.5 --dst 10.20.5.10 --proto tcp --dport 443
echo
echo "Whatever the rules say, mynumber never reaches the internet:"
step "$TP" explain conf/alpha.conf --src 10.10.1.5 --dst 198.51.100.10 --proto tcp --dport 443 --app TLS

echo
echo "A file that would open mynumber to the internet is refused, with file and line:"
step "$TP" check conf/bad/mynumber-internet-any.conf
echo "(exit status $?: the daemon keeps its old policy)"

echo
echo "An auditor traces paths end to end: every chain of accept rules from LGWAN to the"
echo "internet, through the hosts that pass traffic on (each only what its role is for):"
step "$TP" paths conf/alpha.conf --from lgwan --to internet
echo
echo "A rule from mynumber to the screen-transfer server looks harmless alone; the server"
echo "browses the internet, so the chain is refused:"
step "$TP" check conf/bad/path-mynumber-screen-transfer.conf
echo "(exit status $?)"
echo
echo "With the prefecture's security cloud, the internet zone talks only to the cloud:"
step "$TP" check conf/bad/cloud-egress.conf
echo "(exit status $?)"

echo
echo "Moving from β to β′: which flows change verdict, by zone pair and rule:"
step "$TP" diff conf/beta.conf conf/beta-prime.conf
echo "(exit status $?: 1 = flows change, as with diff(1))"
exit 0
