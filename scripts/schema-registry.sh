#!/usr/bin/env bash
# A local Confluent-compatible schema registry on 127.0.0.1: Apicurio Registry 2.4.2.Final, built
# from its Maven Central artifacts by scripts/schema-registry/pom.xml (Central has no runnable
# jar of it, so the Quarkus Maven plugin builds one into .cache/schema-registry), in-memory
# storage (H2), Confluent's API under /apis/ccompat/v7. Every start is an empty registry.
#
#   scripts/schema-registry.sh start   # idempotent: returns at once if the registry answers
#   scripts/schema-registry.sh stop    # idempotent: stops the process this script started, by pid
#   scripts/schema-registry.sh status
#   scripts/schema-registry.sh build   # only resolve and build (scripts/setup.sh --test runs it)
#
# SCHEMA_REGISTRY_PORT chooses the port (default KAFKA_PORT + 18, so that each broker port has a
# registry port of its own); the log and the pid live in .run/schema-registry-<port>/ (git-ignored).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port="${SCHEMA_REGISTRY_PORT:-$((${KAFKA_PORT:-9092} + 18))}"
build="$root/.cache/schema-registry"
runner="$build/schema-registry-app-2.4.2.Final-runner.jar"
state="$root/.run/schema-registry-$port"
pidfile="$state/registry.pid"
logfile="$state/registry.log"

say() { echo "schema-registry: $*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running_pid() {
  [[ -f "$pidfile" ]] || return 1
  local pid
  pid="$(cat "$pidfile")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

build() {
  if [[ -f "$build/.complete" && -f "$runner" ]]; then return 0; fi
  command -v java >/dev/null || { say "java not found: Java 17 is required"; exit 1; }
  command -v mvn >/dev/null || { say "mvn not found: Maven is required to build the registry"; exit 1; }
  say "resolving Apicurio Registry from Maven Central and building it into $build (a few minutes)"
  rm -rf "$build"
  mvn -q -B -s "$root/scripts/schema-registry/settings.xml" -f "$root/scripts/schema-registry/pom.xml" -DskipTests package
  touch "$build/.complete"
}

start() {
  if pid="$(running_pid)"; then
    if port_open "$port"; then say "already running (pid $pid) on 127.0.0.1:$port"; return 0; fi
  elif port_open "$port"; then
    say "127.0.0.1:$port is taken by a process this script did not start; set SCHEMA_REGISTRY_PORT"
    exit 1
  fi
  build
  mkdir -p "$state"
  : >"$logfile"
  say "starting on 127.0.0.1:$port (logs: $logfile)"
  nohup java -Xms64m -Xmx384m -Djava.awt.headless=true \
    -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$port" \
    -jar "$runner" >>"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
  local waited=0
  until grep -q "Listening on" "$logfile" 2>/dev/null && port_open "$port"; do
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      say "the registry exited during start; last lines of $logfile:"
      tail -n 20 "$logfile" >&2
      rm -f "$pidfile"
      exit 1
    fi
    if ((waited >= 240)); then say "the registry did not answer within 240 s; see $logfile"; exit 1; fi
    sleep 1
    waited=$((waited + 1))
  done
  say "ready on http://127.0.0.1:$port/apis/ccompat/v7 (pid $(cat "$pidfile"), ${waited}s)"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$pidfile"
    say "not running"
    return 0
  fi
  kill -TERM "$pid"
  for _ in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "still running after 30 s; killing"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  say "stopped (pid $pid)"
}

status() {
  if pid="$(running_pid)" && port_open "$port"; then
    say "running (pid $pid) on 127.0.0.1:$port"
  else
    say "not running"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  build) build ;;
  *) echo "usage: $0 start|stop|status|build" >&2; exit 2 ;;
esac
