#!/usr/bin/env bash
# Apache Iceberg's Java library as a reader of our tables, for the tests: jars from Maven Central
# (resolved by scripts/iceberg-java/pom.xml into .cache/iceberg-java/libs) and our small reader
# (scripts/iceberg-java/ReadTable.java, compiled into .cache/iceberg-java/classes).
#
#   scripts/iceberg-java.sh fetch                                   # setup.sh --test runs this
#   scripts/iceberg-java.sh read CATALOG SQLITE WAREHOUSE NS.TABLE  # prints the table as JSON
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
libs="$root/.cache/iceberg-java/libs"
classes="$root/.cache/iceberg-java/classes"

say() { echo "iceberg-java: $*" >&2; }

fetch() {
  if [[ ! -f "$libs/.complete" ]]; then
    command -v mvn >/dev/null || { say "mvn not found: Maven is required to fetch Iceberg's jars"; exit 1; }
    say "fetching Apache Iceberg's Java library from Maven Central into $libs"
    rm -rf "$libs"
    mvn -q -B -f "$root/scripts/iceberg-java/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$libs" -DincludeScope=runtime
    touch "$libs/.complete"
  fi
  local src="$root/scripts/iceberg-java/ReadTable.java"
  if [[ ! -f "$classes/ReadTable.class" || "$src" -nt "$classes/ReadTable.class" ]]; then
    command -v javac >/dev/null || { say "javac not found: a Java 17 JDK is required"; exit 1; }
    mkdir -p "$classes"
    javac -cp "$libs/*" -d "$classes" "$src"
  fi
}

case "${1:-}" in
  fetch) fetch ;;
  read)
    shift
    fetch
    exec java -Xmx512m -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$libs/*:$classes" ReadTable "$@"
    ;;
  *) echo "usage: $0 fetch | read CATALOG SQLITE WAREHOUSE NS.TABLE" >&2; exit 2 ;;
esac
