#!/usr/bin/env bash
# `npm test`: set up what the tests need, type-check, start the local broker (and stop it after,
# if this run started it), and run every test. Extra arguments go to vitest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/setup.sh --test
echo "test: type-checking and building" >&2
npx tsc -p tsconfig.json

started_kafka=0
if ! bash scripts/kafka.sh status >/dev/null 2>&1; then
  bash scripts/kafka.sh start
  started_kafka=1
fi
cleanup() { if [[ $started_kafka == 1 ]]; then bash scripts/kafka.sh stop || true; fi; }
trap cleanup EXIT

STREAMBERG_PREBUILT=1 npx vitest run "$@"
