#!/usr/bin/env bash
# demo.sh -- make demo: each part shows its main job on the bundled defaults (scripts/demo.d/*.sh).
set -u
cd "$(dirname "$0")/.." || exit 2
export TIERGATE_ROOT=$(pwd)
export TIERGATE_BUILD="$TIERGATE_ROOT/${TIERGATE_BUILD:-build}"
status=0
for step in scripts/demo.d/*.sh; do
	[ -e "$step" ] || continue
	echo
	echo "################ $(sed -n '2s/^# *//p' "$step")"
	echo
	bash "$step" </dev/null || { echo "demo step $step failed"; status=1; }
done
exit $status
