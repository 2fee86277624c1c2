#!/usr/bin/env bash
# `npm start`, `npm run produce`, `npm run inspect`: build, then run a compiled entry point with the
# project's Node.js (scripts/node-env.sh), which may not be the one npm itself runs on.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/node-env.sh
source "$root/scripts/node-env.sh"
(cd "$root" && npx tsc -p tsconfig.json)
exec node "$@"
