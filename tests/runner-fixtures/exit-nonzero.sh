#!/usr/bin/env bash
# exit-nonzero.sh -- runner fixture: one ok, then exit 3 without a FAIL line.
# tier: unit
# timeout: 30
echo "ok fixture-before-exit"
exit 3
