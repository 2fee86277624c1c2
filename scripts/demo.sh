#!/usr/bin/env bash
# `npm run demo`: the main job on the embedded defaults. Sets up the project, starts the local
# Kafka broker, fills both example topics with sample events (re-running adds none), runs both example
# pipelines into the local Iceberg warehouse (./warehouse) until they have consumed everything,
# and shows what landed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# shellcheck source=scripts/node-env.sh
source scripts/node-env.sh
export STREAMBERG_NODE_READY=1
bash scripts/setup.sh
npx tsc -p tsconfig.json
bash scripts/kafka.sh start
node dist/src/tools/produce.js --topic bid-events --count "${DEMO_BID_EVENTS:-100000}" --partitions 3 --malformed-ratio 0.01 --fill
node dist/src/tools/produce.js --topic user-events --count "${DEMO_USER_EVENTS:-50000}" --partitions 3 --malformed-ratio 0.01 --fill
node dist/src/cli.js --check
# Both pipelines, to the end offsets seen at start, committed exactly once; then what landed.
node dist/src/cli.js --bounded --parallelism "${PARALLELISM:-2}" --checkpoint-interval "${CHECKPOINT_INTERVAL:-10s}"
node dist/src/tools/inspect.js
echo "demo: done; the broker keeps running (npm run kafka:stop stops it). npm start runs the pipelines until Ctrl-C." >&2
