#!/usr/bin/env bash
# Set up a fresh machine and run the whole test suite (what CI runs through .ci/run).
# Installs: Debian packages for the browser test and Fashion-MNIST (when apt-get is usable),
# a virtual environment in .venv with naslab and every optional extra, then runs pytest with
# the benchmark data directory pointed at ../shared/data (override with NASLAB_DATA).
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  missing=()
  for pkg in chromium dataset-fashion-mnist; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check torch==2.13.0
.venv/bin/pip install -q --disable-pip-version-check -e '.[all,test]'

export NASLAB_DATA=${NASLAB_DATA:-$(cd .. && pwd)/shared/data}
export NASLAB_REQUIRE_DATA=1
exec .venv/bin/python -m pytest -q "$@"
