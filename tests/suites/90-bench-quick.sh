#!/usr/bin/env bash
# 90-bench-quick.sh -- every make bench step (scripts/bench.d/*.sh) in its quick mode: it runs to the end and prints its figures (not judged).
# tier: e2e
# timeout: 500
#
# A bench that nobody runs rots: a helper stops being built, a peer's output changes, a
# step dies half-way. Here each step runs with BENCH_QUICK=1 (small inputs, a few seconds)
# and must exit 0, skip nothing, and print each of its figure lines with a number where
# the figure goes ("n/a" or an empty figure is a failure). Speed is never judged.
. "$(dirname "$0")/../lib/harness.sh"
need_root
export TIERGATE_ROOT="$ROOT" TIERGATE_BUILD BENCH_QUICK=1

N='[0-9]+(\.[0-9]+)?'   # a figure
NZ='(0\.[0-9]*[1-9][0-9]*|[1-9][0-9]*(\.[0-9]+)?)'   # a figure that is not zero (a rate that was measured)
# figures STEP: one ERE per line, each a line the step must print ("COUNT*ERE": at least COUNT such lines).
figures() {
	case "$1" in
	20-policy) cat <<EOF
10*^  IPv[46]  ratio plain scan / index \(app TLS\) = ${N}x$
^/.*/conf/beta-prime.conf: [0-9]+ rules
EOF
	;;
	25-names) cat <<EOF
2*^ *[0-9]+ patterns: hashed +${N} ns/lookup \([0-9]+% matched\) \| plain scan +${N} ns/lookup \| [0-9]+x$
EOF
	;;
	30-gw-pcap) cat <<EOF
2*tiergate-gw / ndpiReader = ${N}x \(target .*tiergate-gw / raw read = ${N}; [1-9][0-9]* events written
^flows/s, short flows .*: [1-9][0-9]* flows/s$
2*flows at once: engine +${N} B/flow, peak RSS +${N} B/flow
^peer: ndpiReader keeps every flow .* [0-9]+ MB \([0-9]+ B/flow\)$
EOF
	;;
	40-gw-live) cat <<EOF
no gateway \(plain forwarding\) +${NZ} Gbit/s
tiergate-gw, connmark offload +${NZ} Gbit/s +[0-9]+% of no gateway
tiergate-gw, every packet in user +${NZ} Gbit/s +[0-9]+% of no gateway
tiergate-gw \(engine \+ policy\) +[0-9]+ packets/s +[0-9]+% of the peer
tiergate-gw +[1-9][0-9]* flows/s +\([1-9][0-9]* of [0-9]+ flows decided
EOF
	;;
	45-gw-ha) cat <<EOF
4* +[0-9]+ ms gap +\(VIPs moved after [0-9]+ ms
ratio sync on / off: ${N}$
ratio pair / single: ${N}$
EOF
	;;
	50-sanitizer) cat <<EOF
^japanese.pdf +[0-9]+ \|( +${N}){4} \|( +${N}x){3} \|( +[1-9][0-9]*){3}
^brochure.pdf +[0-9]+ \|( +${N}){4} \|( +${N}x){3} \|( +[1-9][0-9]*){3}
^scan.pdf +[0-9]+ \|( +${N}){2} \| +${N}x \|( +[1-9][0-9]*){2} \|
6*\.pdf: [0-9]+ runs, ${N} ms per file, [0-9]+ pages, ${N} pages/s
^tiny.txt: [0-9]+ runs, ${N} ms per file
EOF
	;;
	55-office) cat <<EOF
^bench-10p.docx +10 \| +${NZ} +${NZ} \| +${N}x$
^first-document latency: ${NZ} s$
^warm slot PSS \(max seen\): [1-9][0-9]* MB$
EOF
	;;
	60-mail) cat <<EOF
2*mail \([0-9]+ bytes\): +${N} messages/s
2*mail: +[1-9][0-9]* KB peak RSS
3*delivered in ${N} s: ${N} messages/s
ratio sanitized / Postfix alone: +${N} \(text mail\)
EOF
	;;
	70-bridge) cat <<EOF
^handshakes/s +bridge +[0-9]+ +haproxy +[0-9]+ +ratio ${N} \(target
^  per CPU-second +bridge +[0-9]+ +haproxy +[0-9]+ +ratio ${N}$
^  keys in relay +bridge +[0-9]+/s
^bulk MB/s +bridge +${N} +haproxy +${N} +ratio ${N} \(target
^KB/idle session +bridge +${N} +haproxy +${N} +\([1-9][0-9]* / [1-9][0-9]* sessions
^  client cert req\. haproxy +${N} KB/idle session \([1-9][0-9]* sessions\)
^per idle session \(test build, [1-9][0-9]* sessions\): OpenSSL ${N} KB, libevent ${N} KB, relay and malloc headers -?${N} KB, heap slack -?${N} KB; RSS ${N} KB$
^auth process RSS: [0-9]+ KB
^OpenSSL alone per session \(in-process, tls_floor\): ${N} KB with a device certificate, ${N} KB without$
^  own part \(figure less its floor\): bridge -?${N} KB \(of ${N}\), haproxy -?${N} KB \(of ${N}\)$
EOF
	;;
	esac
}

for step in "$ROOT"/scripts/bench.d/*.sh; do
	name=$(basename "$step" .sh)
	out="$TG_TMP/$name.out"
	if [ -z "$(figures "$name")" ]; then
		fail "bench $name: figures known" "no figure lines listed for this step in $0"
		continue
	fi
	start=$(date +%s)
	bash "$step" </dev/null >"$out" 2>&1
	status=$?
	sed 's/^/  | /' "$out"
	if [ "$status" -ne 0 ]; then
		fail "bench $name runs to the end in quick mode" "exit $status ($(( $(date +%s) - start )) s)"
	elif grep -Eiq 'skipped|not built|build failed|FAILED:|missing|could not' "$out"; then
		fail "bench $name runs to the end in quick mode" \
		    "it skipped or lacked something: $(grep -Eim1 'skipped|not built|build failed|FAILED:|missing|could not' "$out")"
	else
		pass "bench $name runs to the end in quick mode ($(( $(date +%s) - start )) s)"
	fi
	while IFS= read -r want; do
		count=1
		case "$want" in [0-9]*\**) count=${want%%\**} want=${want#*\*} ;; esac
		got=$(grep -Ec -- "$want" "$out")
		if [ "$got" -ge "$count" ]; then
			pass "bench $name prints /$want/ ($got)"
		else
			fail "bench $name prints /$want/" "$got of $count lines"
		fi
	done < <(figures "$name")
done
