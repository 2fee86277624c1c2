#!/usr/bin/env bash
# Creates the git-ignored virtualenv .venv with the Python peers that the Iceberg tests read
# tables back with: pyiceberg (SqlCatalog on SQLite, PyArrow file IO incl. S3) and moto's server
# (S3 and S3 Tables on loopback); and kubernetes-validate, which checks deploy/kubernetes/ against
# the Kubernetes API's JSON schemas it bundles (no cluster, no network). Idempotent: a venv whose
# pinned versions are already installed is left alone.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYICEBERG_VERSION="0.10.0"
MOTO_VERSION="5.1.22"
PYARROW_VERSION="26.0.1"
KUBERNETES_VALIDATE_VERSION="1.37.0"
STAMP="$VENV/.streamberg-python-$PYICEBERG_VERSION-$MOTO_VERSION-$PYARROW_VERSION-$KUBERNETES_VALIDATE_VERSION"

if [[ -f "$STAMP" ]]; then
  exit 0
fi

PYTHON="${PYTHON:-}"
if [[ -z "$PYTHON" ]]; then
  for candidate in python3.12 python3.11 python3; do
    if "$candidate" -c "import sys; assert sys.version_info >= (3, 10)" >/dev/null 2>&1; then PYTHON="$candidate"; break; fi
  done
fi
if [[ -z "$PYTHON" ]]; then
  echo "setup-python: no python3 found" >&2
  exit 1
fi

# A lock so that parallel test files never build the venv twice at once.
exec 9>"${TMPDIR:-/tmp}/streamberg-setup-python.lock"
flock 9
if [[ -f "$STAMP" ]]; then
  exit 0
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet \
  "pyiceberg[sql-sqlite,pyarrow]==$PYICEBERG_VERSION" \
  "pyarrow==$PYARROW_VERSION" \
  "moto[server]==$MOTO_VERSION" \
  "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
"$VENV/bin/python" -c 'import pyiceberg, moto, pyarrow, sqlalchemy, kubernetes_validate; print("pyiceberg", pyiceberg.__version__, "moto", moto.__version__, "pyarrow", pyarrow.__version__)'
touch "$STAMP"
