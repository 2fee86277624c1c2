#!/usr/bin/env bash
# Installs the PyFlink reference job of the benchmarks (npm run bench -- --with-flink) and of the
# Flink differential suite (test/differential/, run by `npm test`; scripts/setup.sh --test) into the
# git-ignored .cache/flink: a virtualenv with PyFlink 1.19, and the connector jars
# from Maven Central (scripts/flink/pom.xml), split into the jars Flink loads (pipeline.jars)
# and Hadoop's, which must be on the JVM's system classpath. Idempotent: a complete install is
# left alone.
#
# The pins below make pip resolve in about two minutes on Python 3.11; without them it
# backtracks over apache-beam's requirements for many minutes.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="$ROOT/.cache/flink"
VENV="$DIR/venv"
JARS="$DIR/jars"
HADOOP="$DIR/hadoop"
FLINK_VERSION="1.19.3"
# Bumped when the jars or pins change, so an older install is redone.
STAMP="$DIR/.complete-$FLINK_VERSION-2"

if [[ -f "$STAMP" ]]; then exit 0; fi

PYTHON="${PYTHON:-}"
if [[ -z "$PYTHON" ]]; then
  # PyFlink 1.19 publishes wheels for Python 3.8 to 3.11.
  for candidate in python3.11 python3.10 python3; do
    if "$candidate" -c "import sys; assert (3, 8) <= sys.version_info[:2] <= (3, 11)" >/dev/null 2>&1; then PYTHON="$candidate"; break; fi
  done
fi
if [[ -z "$PYTHON" ]]; then
  echo "flink setup: PyFlink $FLINK_VERSION needs Python 3.8-3.11; none found (set PYTHON)" >&2
  exit 1
fi
command -v java >/dev/null || { echo "flink setup: java not found (Java 11 or 17)" >&2; exit 1; }
command -v mvn >/dev/null || { echo "flink setup: mvn not found" >&2; exit 1; }

mkdir -p "$DIR"
exec 9>"$DIR/.lock"
flock 9
if [[ -f "$STAMP" ]]; then exit 0; fi

echo "flink setup: virtualenv with apache-flink $FLINK_VERSION in $VENV" >&2
if [[ ! -x "$VENV/bin/python" ]]; then "$PYTHON" -m venv "$VENV"; fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet \
  "setuptools<81" "apache-flink==$FLINK_VERSION" \
  "proto-plus<1.23" "pandas<1.6" "numpy<1.25" "pyarrow<12" "protobuf<4.24"

echo "flink setup: connector jars from Maven Central into $DIR" >&2
rm -rf "$JARS" "$HADOOP" "$DIR/all-jars"
mvn -q -B -f "$ROOT/scripts/flink/pom.xml" dependency:copy-dependencies \
  -DoutputDirectory="$DIR/all-jars" -DincludeScope=runtime -DexcludeTransitive=true
mkdir -p "$JARS" "$HADOOP"
mv "$DIR"/all-jars/hadoop-client-*.jar "$DIR"/all-jars/commons-logging-*.jar "$HADOOP/"
mv "$DIR"/all-jars/*.jar "$JARS/"
rmdir "$DIR/all-jars"
"$VENV/bin/python" -c 'import pyflink.version; print("pyflink", pyflink.version.__version__)'
touch "$STAMP"
