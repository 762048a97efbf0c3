#!/usr/bin/env bash
# The README's second command: install everything and run every test.
# On SQLite by default; with DATABASE_URL=postgres://... against PostgreSQL.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"

need=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
command -v msgfmt >/dev/null 2>&1 || need+=(gettext)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing Debian packages: ${need[*]} ..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "Missing Debian packages: ${need[*]}. Install them (as root: apt-get install ${need[*]}) and run again." >&2
    exit 1
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'

.venv/bin/ruff check .
# Types over lib/, every services.py and the audit app ([tool.mypy] in pyproject.toml). The
# django-stubs plugin imports the settings: the test environment needs no secrets.
COACHREGISTER_ENV=test .venv/bin/mypy

if [ -n "${DATABASE_URL:-}" ]; then echo "Running the tests on PostgreSQL ..."; else echo "Running the tests on SQLite ..."; fi
set +e
.venv/bin/pytest "$@"
status=$?
set -e
if [ "$status" = 5 ]; then
  echo "pytest collected no tests: that is a failure." >&2
  exit 1
fi
exit "$status"
