#!/usr/bin/env bash
# bare-unclosed.sh -- runner fixture without the harness: a helper bracket that never ends, exit 0.
# tier: unit
# timeout: 30
echo "# begin checker never-ends"
echo "ok fixture-unclosed-one"
