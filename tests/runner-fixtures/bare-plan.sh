#!/usr/bin/env bash
# bare-plan.sh -- runner fixture without the harness: a unit bracket announcing 1..4 with two results, status 0.
# tier: unit
# timeout: 30
echo "# begin unit hand-made"
echo "ok fixture-plan-one"
echo "ok fixture-plan-two"
echo "1..4"
echo "# end unit hand-made status 0"
