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

# Development, not production: only there does the register write its mail into files
# (COACHREGISTER_MAIL_DIR, refused in production by check coachregister.E006), so that the
# invitation, the portal links and the decision notices can be read without an SMTP server.
export COACHREGISTER_ENV=development
export COACHREGISTER_HTTPS=false   # the demo listens on http://127.0.0.1 only
export COACHREGISTER_MAIL_DIR="$PWD/var/mail"
export SECRET_KEY_FILE="$PWD/var/secret_key"
export COACHREGISTER_MASTER_KEY_FILE="$PWD/var/master_key"
export COACHREGISTER_VAR_DIR="$PWD/var"
export ALLOWED_HOSTS="127.0.0.1,localhost"
export COACHREGISTER_BASE_URL="http://127.0.0.1:${PORT}"
unset DATABASE_URL

.venv/bin/coachregister migrate --no-input -v 0
.venv/bin/coachregister collectstatic --no-input -v 0
.venv/bin/coachregister demo

mkdir -p var/mail

# The outbox worker sends the queued mail (into var/mail/) and runs the daily jobs; it runs
# in the background and stops with the server.
.venv/bin/coachregister worker --interval 2 &
WORKER_PID=$!
.venv/bin/gunicorn -c python:coachregister.gunicorn_conf \
  --bind "127.0.0.1:${PORT}" coachregister.wsgi:application &
SERVER_PID=$!
stop() {
  trap - INT TERM EXIT
  kill -TERM "$SERVER_PID" "$WORKER_PID" 2>/dev/null || true
  wait "$SERVER_PID" "$WORKER_PID" 2>/dev/null || true
}
trap stop INT TERM EXIT

echo
echo "coachregister is running at http://127.0.0.1:${PORT}/  (Ctrl+C stops it)"
echo "Mail is not sent: each message is written as a file into $PWD/var/mail/"
echo
# Whichever of the two stops first ends the demo, and the other is stopped with it.
wait -n "$SERVER_PID" "$WORKER_PID" || true
