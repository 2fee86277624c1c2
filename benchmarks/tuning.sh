#!/usr/bin/env bash
# Short tuning sweeps through `npm run bench`: one setting changed at a time on W1 uncompressed at
# --parallelism 2 (or a parallelism sweep), the runtime alone, medians of RUNS rounds on RECORDS
# records. Each value is one harness run (its JSON in benchmarks/results/); the summary line of
# each is printed as it finishes. Needs the broker (KAFKA_PORT) as `npm run bench` does.
#
#   bash benchmarks/tuning.sh [parallelism|batch|memory|file-size|checkpoint|all]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
RECORDS="${RECORDS:-500000}"
RUNS="${RUNS:-3}"
what="${1:-all}"
# shellcheck source=scripts/node-env.sh
source "$root/scripts/node-env.sh" 2>/dev/null
npx tsc -p tsconfig.json   # once, not once per value

one() {
  local label="$1"; shift
  local out
  out="$(node dist/benchmarks/run.js --records "$RECORDS" --runs "$RUNS" --codecs none --references none \
    --freshness-seconds 0 --no-charts "$@" 2>/dev/null)"
  echo "$out" | awk -v l="$label" '/^streamberg /{print l "  " $0}'
}

if [[ "$what" == parallelism || "$what" == all ]]; then
  one "parallelism" --parallelism 1,2,3
fi
if [[ "$what" == batch || "$what" == all ]]; then
  for b in 1024 4096 16384; do one "runtime.batch_size=$b" --parallelism 2 --set "runtime.batch_size=$b"; done
fi
if [[ "$what" == memory || "$what" == all ]]; then
  for m in 128MB 512MB 1GB; do one "runtime.memory_budget=$m" --parallelism 2 --set "runtime.memory_budget=$m"; done
fi
if [[ "$what" == file-size || "$what" == all ]]; then
  for f in 4194304 536870912; do one "write.target-file-size-bytes=$f" --parallelism 2 --set "sink.properties.write.target-file-size-bytes=$f"; done
fi
if [[ "$what" == checkpoint || "$what" == all ]]; then
  for c in 1s 10s 60s; do one "checkpoint-interval=$c" --parallelism 2 --checkpoint-interval "$c"; done
fi
