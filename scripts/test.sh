#!/usr/bin/env bash
# The test command (README, CI): set up whatever is missing, then check and test everything.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
echo "== type check"; tsc --noEmit -p .
echo "== lint"; eslint --max-warnings 0 .
echo "== generated files"; node scripts/generate.ts --check
echo "== tests"; node scripts/run-tests.ts "${1:-all}"
