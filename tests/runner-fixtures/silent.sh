#!/usr/bin/env bash
# silent.sh -- runner fixture: prints nothing and exits 0 (it checked nothing).
# tier: unit
# timeout: 30
exit 0
