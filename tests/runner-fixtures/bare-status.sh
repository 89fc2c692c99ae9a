#!/usr/bin/env bash
# bare-status.sh -- runner fixture without the harness: a helper bracket ending with status 139 and no FAIL line.
# tier: unit
# timeout: 30
echo "# begin checker hand-made"
echo "ok fixture-bare-one"
echo "# end checker hand-made status 139"
