#!/usr/bin/env bash
# Apache Iceberg's reference REST catalog server on 127.0.0.1, for the tests: Iceberg's
# RESTCatalogAdapter and RESTCatalogServlet (Maven Central jars, resolved by
# scripts/iceberg-rest/pom.xml into .cache/iceberg-rest/libs) served by our small launcher
# (scripts/iceberg-rest/Launcher.java, compiled into .cache/iceberg-rest/classes), over a
# JdbcCatalog on a SQLite file and a file:// warehouse.
#
#   scripts/iceberg-rest.sh fetch   # jars and launcher only (setup.sh --test runs this)
#   scripts/iceberg-rest.sh start   # idempotent: returns at once if the server already answers
#   scripts/iceberg-rest.sh stop    # stops the process this script started, by pid
#   scripts/iceberg-rest.sh status
#
# ICEBERG_REST_PORT (default 8181) chooses the port; the catalog file, the warehouse, the log and
# the pid live in .run/iceberg-rest-<port>/ (git-ignored), or in ICEBERG_REST_STATE.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port="${ICEBERG_REST_PORT:-8181}"
libs="$root/.cache/iceberg-rest/libs"
classes="$root/.cache/iceberg-rest/classes"
state="${ICEBERG_REST_STATE:-$root/.run/iceberg-rest-$port}"
pidfile="$state/server.pid"
logfile="$state/server.log"

say() { echo "iceberg-rest: $*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running_pid() {
  [[ -f "$pidfile" ]] || return 1
  local pid
  pid="$(cat "$pidfile")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

fetch() {
  if [[ ! -f "$libs/.complete" ]]; then
    command -v mvn >/dev/null || { say "mvn not found: Maven is required to fetch Iceberg's jars"; exit 1; }
    say "fetching Apache Iceberg REST catalog jars from Maven Central into $libs"
    rm -rf "$libs"
    mvn -q -B -f "$root/scripts/iceberg-rest/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$libs" -DincludeScope=runtime
    touch "$libs/.complete"
  fi
  local src="$root/scripts/iceberg-rest/Launcher.java"
  if [[ ! -f "$classes/Launcher.class" || "$src" -nt "$classes/Launcher.class" ]]; then
    command -v javac >/dev/null || { say "javac not found: a Java 17 JDK is required"; exit 1; }
    mkdir -p "$classes"
    javac -cp "$libs/*" -d "$classes" "$src"
  fi
}

start() {
  if pid="$(running_pid)"; then
    if port_open "$port"; then say "already running (pid $pid) on 127.0.0.1:$port"; return 0; fi
  elif port_open "$port"; then
    say "127.0.0.1:$port is taken by a process this script did not start; set ICEBERG_REST_PORT"
    exit 1
  fi
  fetch
  mkdir -p "$state/warehouse"
  say "starting on 127.0.0.1:$port (logs: $logfile)"
  nohup java -Xms64m -Xmx512m -Djava.awt.headless=true -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "$libs/*:$classes" Launcher "$port" "$state/catalog.db" "file://$state/warehouse" \
    >>"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
  local waited=0
  until curl -sf "http://127.0.0.1:$port/v1/config" >/dev/null 2>&1; do
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      say "the server exited during start; last lines of $logfile:"
      tail -n 20 "$logfile" >&2
      rm -f "$pidfile"
      exit 1
    fi
    if ((waited >= 120)); then say "the server did not answer within 60 s; see $logfile"; kill "$(cat "$pidfile")" 2>/dev/null || true; rm -f "$pidfile"; exit 1; fi
    sleep 0.5
    waited=$((waited + 1))
  done
  say "ready on 127.0.0.1:$port (pid $(cat "$pidfile")); warehouse file://$state/warehouse"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$pidfile"
    say "not running"
    return 0
  fi
  kill -TERM "$pid"
  local waited=0
  while kill -0 "$pid" 2>/dev/null; do
    if ((waited >= 20)); then kill -KILL "$pid" 2>/dev/null || true; break; fi
    sleep 0.5
    waited=$((waited + 1))
  done
  rm -f "$pidfile"
  say "stopped (pid $pid)"
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status)
    if pid="$(running_pid)"; then say "running (pid $pid) on 127.0.0.1:$port"; else say "not running"; exit 3; fi
    ;;
  *) echo "usage: $0 fetch|start|stop|status" >&2; exit 2 ;;
esac
