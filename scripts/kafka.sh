#!/usr/bin/env bash
# A local single-node Apache Kafka broker (KRaft: broker and controller in one process) on
# 127.0.0.1, run from Kafka's Maven Central jars with Java 17. Nothing else is expected on the
# machine: the jars are resolved with Maven into .cache/kafka/libs on first use.
#
#   scripts/kafka.sh start   # idempotent: returns at once if the broker already answers
#   scripts/kafka.sh stop    # idempotent: stops the process this script started, by pid
#   scripts/kafka.sh status
#
# KAFKA_PORT (default 9092) and KAFKA_CONTROLLER_PORT (default KAFKA_PORT+1) choose the ports;
# state, logs and the pid live in .run/kafka-<port>/ (git-ignored).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port="${KAFKA_PORT:-9092}"
cport="${KAFKA_CONTROLLER_PORT:-$((port + 1))}"
libs="$root/.cache/kafka/libs"
state="$root/.run/kafka-$port"
pidfile="$state/kafka.pid"
logfile="$state/broker.log"

say() { echo "kafka: $*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running_pid() {
  [[ -f "$pidfile" ]] || return 1
  local pid
  pid="$(cat "$pidfile")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

fetch_jars() {
  if [[ -f "$libs/.complete" ]]; then return 0; fi
  command -v java >/dev/null || { say "java not found: Java 17 is required"; exit 1; }
  command -v mvn >/dev/null || { say "mvn not found: Maven is required to fetch Kafka's jars"; exit 1; }
  say "fetching Apache Kafka jars from Maven Central into $libs"
  rm -rf "$libs"
  mvn -q -B -f "$root/scripts/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$libs" -DincludeScope=runtime
  touch "$libs/.complete"
}

write_properties() {
  mkdir -p "$state/data"
  cat >"$state/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$state/data
num.partitions=1
auto.create.topics.enable=false
# One node: every internal topic must have replication factor 1, or consumer groups never find
# their coordinator and transactions never start.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
EOF
}

java_cmd() {
  java -Xms128m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$root/scripts/kafka/log4j2.properties" \
    -cp "$libs/*" "$@"
}

start() {
  if pid="$(running_pid)"; then
    if port_open "$port"; then say "already running (pid $pid) on 127.0.0.1:$port"; return 0; fi
  elif port_open "$port"; then
    say "127.0.0.1:$port is taken by a process this script did not start; set KAFKA_PORT"
    exit 1
  fi
  fetch_jars
  mkdir -p "$state"
  if [[ ! -f "$state/data/meta.properties" ]]; then
    write_properties
    local cluster_id
    cluster_id="$(java_cmd kafka.tools.StorageTool random-uuid 2>>"$logfile" | tail -n 1)"
    java_cmd kafka.tools.StorageTool format -t "$cluster_id" -c "$state/server.properties" >>"$logfile" 2>&1 \
      || { say "formatting KRaft storage failed; see $logfile"; exit 1; }
  fi
  say "starting broker on 127.0.0.1:$port (logs: $logfile)"
  nohup java -Xms128m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$root/scripts/kafka/log4j2.properties" \
    -cp "$libs/*" kafka.Kafka "$state/server.properties" >>"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
  local waited=0
  until grep -q "Kafka Server started" "$logfile" 2>/dev/null && port_open "$port"; do
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      say "the broker exited during start; last lines of $logfile:"
      tail -n 20 "$logfile" >&2
      rm -f "$pidfile"
      exit 1
    fi
    if ((waited >= 120)); then say "the broker did not answer within 120 s; see $logfile"; exit 1; fi
    sleep 1
    waited=$((waited + 1))
  done
  say "ready on 127.0.0.1:$port (pid $(cat "$pidfile"), ${waited}s)"
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
  reset) stop; rm -rf "$state"; say "state removed" ;;
  *) echo "usage: $0 start|stop|status|reset" >&2; exit 2 ;;
esac
