#!/usr/bin/env bash
# Everything the project needs on a fresh machine of this kind (npm, Java 17 + Maven, Python 3.11,
# Debian): Node.js 22 where the machine's node is older (scripts/node-env.sh), npm packages built
# for that node, Kafka's jars, and with --test the peers the tests read our output with (kcat;
# pyiceberg and moto in .venv; PyFlink in .cache/flink). Idempotent and quick when done.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
say() { echo "setup: $*" >&2; }

# shellcheck source=scripts/node-env.sh
[[ -n "${STREAMBERG_NODE_READY:-}" ]] || source scripts/node-env.sh

# Native addons (better-sqlite3) are built for one Node ABI: reinstall when the node changed.
abi="$(node -p 'process.versions.modules + "-" + process.arch')"
if [[ ! -f node_modules/.package-lock.json ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]] \
  || [[ "$(cat node_modules/.streamberg-abi 2>/dev/null)" != "$abi" ]]; then
  say "installing npm packages (npm ci) for node $(node -v)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$abi" >node_modules/.streamberg-abi
fi

# Kafka's jars, resolved by Maven into .cache/kafka/libs.
if [[ ! -f .cache/kafka/libs/.complete ]]; then
  say "fetching Apache Kafka jars with Maven"
  rm -rf .cache/kafka/libs
  mvn -q -B -f scripts/kafka/pom.xml dependency:copy-dependencies -DoutputDirectory="$root/.cache/kafka/libs" -DincludeScope=runtime
  touch .cache/kafka/libs/.complete
fi

if [[ "${1:-}" == "--test" ]]; then
  # A Confluent-compatible schema registry for the Avro tests, built from Maven Central.
  bash scripts/schema-registry.sh build
  # Debian packages the tests check our output with: kcat, an independent Kafka client, and
  # promtool (in the prometheus package), Prometheus' own lint for the /metrics exposition.
  missing=()
  command -v kcat >/dev/null || missing+=(kcat)
  command -v promtool >/dev/null || missing+=(prometheus)
  if ((${#missing[@]} > 0)); then
    say "installing ${missing[*]} (Debian packages)"
    if [[ $(id -u) -ne 0 ]]; then sudo_cmd=sudo; else sudo_cmd=; fi
    $sudo_cmd apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if [[ -f scripts/setup-python.sh ]]; then bash scripts/setup-python.sh; fi
  # Apache Iceberg's reference REST catalog (jars by Maven, our launcher by javac), which the
  # REST catalog's tests run against.
  bash scripts/iceberg-rest.sh fetch
  # Apache Iceberg's Java library (jars by Maven, our reader by javac), the strictest reader the
  # maintenance tests read compacted and rewritten tables back with.
  bash scripts/iceberg-java.sh fetch
  # PyFlink 1.19.3 and its connector jars in .cache/flink, which the Flink differential suite
  # (test/differential/) runs every query of its corpus through (a few minutes the first time).
  bash scripts/flink/setup.sh
fi
say "ready"
