#!/usr/bin/env bash
# `npm test`: set up what the tests need, type-check, start the local broker (and stop it after,
# if this run started it), and run every test. Extra arguments go to vitest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# shellcheck source=scripts/node-env.sh
source scripts/node-env.sh
export STREAMBERG_NODE_READY=1
bash scripts/setup.sh --test
echo "test: type-checking and building" >&2
npx tsc -p tsconfig.json
# The tests are type-checked too (vitest only strips their types).
npx tsc -p tsconfig.test.json

started_kafka=0
if ! bash scripts/kafka.sh status >/dev/null 2>&1; then
  bash scripts/kafka.sh start
  started_kafka=1
fi
cleanup() { if [[ $started_kafka == 1 ]]; then bash scripts/kafka.sh stop || true; fi; }
trap cleanup EXIT

mkdir -p .run
status=0
STREAMBERG_PREBUILT=1 npx vitest run --reporter=default --reporter=json --outputFile.json=.run/vitest.json "$@" || status=$?
# One plain closing line for tools that read it: "N passed, N failed, N skipped".
node -e '
  const r = JSON.parse(require("fs").readFileSync(".run/vitest.json", "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' || true
exit $status
