#!/usr/bin/env bash
# Postback Gateway benchmark, side by side with the lean reference (usage and method: loadtest/README.md).
#   bash loadtest/run.sh [--no-build | --build] [--help]
#   bash loadtest/run.sh --selftest        # the harness's own checks, against the node mock (no gateway)
set -euo pipefail
dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v python3 >/dev/null || { echo "loadtest/run.sh needs python3 (Debian: apt-get install python3)" >&2; exit 1; }
if [[ ${1:-} == --selftest ]]; then
  shift
  exec python3 "$dir/lib/selftest.py" "$@"
fi
exec python3 "$dir/lib/bench.py" "$@"
