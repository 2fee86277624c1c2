#!/usr/bin/env bash
# A local single-node Apache Kafka broker (KRaft: broker and controller in one process) on
# 127.0.0.1, run from Kafka's Maven Central jars with Java 17. Nothing else is expected on the
# machine: the jars are resolved with Maven into .cache/kafka/libs on first use.
#
#   scripts/kafka.sh start   # idempotent: returns at once if the broker already answers
#   scripts/kafka.sh stop    # idempotent: stops the process this script started, by pid
#   scripts/kafka.sh status
#
# Listeners, all on 127.0.0.1:
#   KAFKA_PORT (default 9092)                       PLAINTEXT
#   KAFKA_CONTROLLER_PORT (default KAFKA_PORT+1)    the KRaft controller
#   KAFKA_SASL_SSL_PORT (default KAFKA_PORT+2)      SASL_SSL, SCRAM-SHA-512 (user below)
#   KAFKA_SSL_PORT (default KAFKA_PORT+3)           SSL, a client certificate required
#   KAFKA_OAUTH_PORT (default KAFKA_PORT+4)         SASL_SSL, OAUTHBEARER with Kafka's own
#                                                   unsecured-JWT validator (token lifetimes and
#                                                   re-authentication, not identity, are tested there)
# The TLS material (a self-signed CA, the broker's certificate for 127.0.0.1/localhost, a client
# certificate) is made once with openssl into .cache/kafka/tls/; the SCRAM user
# (KAFKA_SCRAM_USER / KAFKA_SCRAM_PASSWORD, test credentials) is written into the KRaft metadata
# when the storage is formatted. State, logs and the pid live in .run/kafka-<port>/ (git-ignored).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
port="${KAFKA_PORT:-9092}"
cport="${KAFKA_CONTROLLER_PORT:-$((port + 1))}"
sasl_ssl_port="${KAFKA_SASL_SSL_PORT:-$((port + 2))}"
ssl_port="${KAFKA_SSL_PORT:-$((port + 3))}"
oauth_port="${KAFKA_OAUTH_PORT:-$((port + 4))}"
scram_user="${KAFKA_SCRAM_USER:-streamberg}"
scram_password="${KAFKA_SCRAM_PASSWORD:-streamberg-test-scram}"
libs="$root/.cache/kafka/libs"
tls="$root/.cache/kafka/tls"
# Changes whenever the listeners or the users written at format time change: storage formatted
# for another layout is test data, and is formatted again.
layout="listeners-v3 scram=$scram_user"
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

# A self-signed CA, the broker's certificate (SAN 127.0.0.1 and localhost) as a PKCS#12 keystore,
# and a client certificate for the SSL listener, all signed by that CA. Test material: the
# keystore password is fixed. Made in a temporary folder and moved in whole, so an interrupted
# run never leaves half a set.
tls_material() {
  if [[ -f "$tls/.complete" ]]; then return 0; fi
  command -v openssl >/dev/null || { say "openssl not found: it makes the test CA and certificates"; exit 1; }
  say "making a test CA and certificates in $tls"
  local tmp
  tmp="$(mktemp -d "$root/.cache/kafka/tls.XXXXXX")"
  (
    cd "$tmp"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=streamberg test CA" \
      -keyout ca.key -out ca.pem -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    for who in broker client; do
      openssl req -newkey rsa:2048 -nodes -subj "/CN=streamberg-$who" -keyout "$who.key" -out "$who.csr"
      if [[ $who == broker ]]; then
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >"$who.ext"
      else
        printf 'extendedKeyUsage=clientAuth\n' >"$who.ext"
      fi
      openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -sha256 \
        -extfile "$who.ext" -out "$who.pem"
    done
    openssl pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem -name broker \
      -passout pass:streamberg-test -out broker.p12
    rm -f ./*.csr ./*.ext ca.srl
  ) >/dev/null 2>>"$tmp/openssl.log" || { say "openssl failed; see $tmp/openssl.log"; exit 1; }
  rm -f "$tmp/openssl.log"
  touch "$tmp/.complete"
  rm -rf "$tls"
  mv "$tmp" "$tls"
}

write_properties() {
  mkdir -p "$state/data"
  cat >"$state/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport,SASL_SSL://127.0.0.1:$sasl_ssl_port,SSL://127.0.0.1:$ssl_port,OAUTH://127.0.0.1:$oauth_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port,SASL_SSL://127.0.0.1:$sasl_ssl_port,SSL://127.0.0.1:$ssl_port,OAUTH://127.0.0.1:$oauth_port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL,OAUTH:SASL_SSL
# TLS for SASL_SSL and SSL; only the SSL listener asks for a client certificate.
ssl.keystore.type=PKCS12
ssl.keystore.location=$tls/broker.p12
ssl.keystore.password=streamberg-test
ssl.truststore.type=PEM
ssl.truststore.location=$tls/ca.pem
ssl.client.auth=none
listener.name.ssl.ssl.client.auth=required
listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
# OAUTHBEARER with Kafka's default (unsecured JWT) validator: the session lasts as long as the
# token, and a client must re-authenticate before it ends (KIP-368), as on AWS MSK with IAM.
listener.name.oauth.sasl.enabled.mechanisms=OAUTHBEARER
listener.name.oauth.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="broker";
listener.name.oauth.oauthbearer.connections.max.reauth.ms=3600000
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
# KIP-848 consumer groups (served by default from Kafka 4.0): the membership tests fence a member
# that stops heartbeating, so the session may be as short as 6 s (Kafka's default floor is 45 s)
# and heartbeats come every second; the classic protocol takes the session its client asks for.
group.consumer.min.session.timeout.ms=6000
group.consumer.session.timeout.ms=10000
group.consumer.min.heartbeat.interval.ms=500
group.consumer.heartbeat.interval.ms=1000
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
  tls_material
  mkdir -p "$state"
  if [[ -f "$state/data/meta.properties" && "$(cat "$state/layout" 2>/dev/null)" != "$layout" ]]; then
    say "storage in $state/data was formatted for other listeners or users; formatting it again (test data)"
    rm -rf "$state/data"
  fi
  # Written on every start, so that a changed port takes effect.
  write_properties
  if [[ ! -f "$state/data/meta.properties" ]]; then
    local cluster_id
    cluster_id="$(java_cmd kafka.tools.StorageTool random-uuid 2>>"$logfile" | tail -n 1)"
    java_cmd kafka.tools.StorageTool format -t "$cluster_id" -c "$state/server.properties" \
      --add-scram "SCRAM-SHA-512=[name=$scram_user,password=$scram_password]" >>"$logfile" 2>&1 \
      || { say "formatting KRaft storage failed; see $logfile"; exit 1; }
    echo "$layout" >"$state/layout"
  fi
  say "starting broker on 127.0.0.1:$port (logs: $logfile)"
  nohup java -Xms128m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$root/scripts/kafka/log4j2.properties" \
    -cp "$libs/*" kafka.Kafka "$state/server.properties" >>"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
  local waited=0
  until grep -q "Kafka Server started" "$logfile" 2>/dev/null && port_open "$port" && port_open "$sasl_ssl_port" \
    && port_open "$ssl_port" && port_open "$oauth_port"; do
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
  say "ready on 127.0.0.1:$port, SASL_SSL :$sasl_ssl_port, SSL :$ssl_port, OAUTHBEARER :$oauth_port (pid $(cat "$pidfile"), ${waited}s)"
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
