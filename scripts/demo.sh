#!/usr/bin/env bash
# The README's first command: install everything, prepare a demo practice, start the server.
# Safe to run again: the keys, the database and the demo are kept.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${PORT:-8000}"
PYTHON="${PYTHON:-python3}"

if [ ! -x .venv/bin/python ]; then
  echo "Creating the virtual environment in .venv ..."
  "$PYTHON" -m venv .venv
fi
echo "Installing coachregister and its dependencies ..."
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check .

mkdir -p var
chmod 700 var
umask 077
if [ ! -s var/secret_key ]; then
  .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))' > var/secret_key
fi
if [ ! -s var/master_key ]; then
  .venv/bin/python -c 'from coachregister.lib.crypto import new_master_key; print(new_master_key("demo1"))' > var/master_key
fi

export COACHREGISTER_ENV=production
export COACHREGISTER_HTTPS=false   # the demo listens on http://127.0.0.1 only
export SECRET_KEY_FILE="$PWD/var/secret_key"
export COACHREGISTER_MASTER_KEY_FILE="$PWD/var/master_key"
export COACHREGISTER_VAR_DIR="$PWD/var"
export ALLOWED_HOSTS="127.0.0.1,localhost"
export COACHREGISTER_BASE_URL="http://127.0.0.1:${PORT}"
unset DATABASE_URL

.venv/bin/coachregister migrate --no-input -v 0
.venv/bin/coachregister collectstatic --no-input -v 0
.venv/bin/coachregister demo

echo
echo "coachregister is running at http://127.0.0.1:${PORT}/  (Ctrl+C stops it)"
echo
exec .venv/bin/gunicorn -c python:coachregister.gunicorn_conf \
  --bind "127.0.0.1:${PORT}" coachregister.wsgi:application
