"""gunicorn settings for coachregister (art. 6, security of the processing).

    gunicorn -c python:coachregister.gunicorn_conf coachregister.wsgi:application

Environment:

- `COACHREGISTER_BIND` — where to listen, default `127.0.0.1:8000` (loopback: production
  belongs behind a buffering reverse proxy such as nginx, which also terminates TLS);
- `COACHREGISTER_WORKERS` (default 2) processes of `COACHREGISTER_THREADS` (default 4)
  threads each;
- `TRUSTED_PROXIES` — the reverse proxies' addresses or networks, comma separated, the same
  variable that Django reads (settings.py). Only these may set `X-Forwarded-Proto`. Empty (the
  default) trusts nobody: gunicorn's own default would trust 127.0.0.1 and ::1, so anything
  on the host could make a plain-http request look like https.

Why each choice:

- Threaded workers (`gthread`): a sync worker is held by one connection until that
  connection sends its request, so as many idle TCP connections as there are workers stop
  the service. A gthread worker parks a connection that has sent nothing in its poller
  after a few seconds and keeps serving the others. (A client that sends a request slowly
  still holds a thread; that is the reverse proxy's job, which buffers whole requests.)
- No access log: paths carry single-use tokens (intake invitations, portal links) and
  addresses are personal data; the project keeps personal data out of logs (settings.py,
  LOGGING). Errors still go to stderr.
- No product name in the `Server` header: gunicorn writes `Server: <gunicorn.http.wsgi.SERVER>`
  on every HTTP/1 response and has no setting for it, so each worker sets that value to an
  empty string once it starts (`post_worker_init`). Nothing of Django is patched.
- No control socket (gunicorn ≥ 25 opens one in $HOME by default): nothing here uses
  `gunicornc`, and two instances on one host would share its path.
- Only `X-Forwarded-Proto` counts as a scheme header, the one Django reads too
  (`SECURE_PROXY_SSL_HEADER`), and no header may rewrite `SCRIPT_NAME`/`PATH_INFO`: a header
  the proxy does not set itself must not change how a request is understood.
"""

from __future__ import annotations

import os
from typing import Any

from coachregister.lib import net as _net

# gunicorn reads every module-level name that is one of its settings; helpers start with an
# underscore so that none of them can collide with one.


def _env(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def _env_int(name: str, default: int) -> int:
    value = int(_env(name, str(default)))
    if value < 1:
        raise ValueError(f"{name} must be at least 1")
    return value


bind = [_env("COACHREGISTER_BIND", "127.0.0.1:8000")]
worker_class = "gthread"
workers = _env_int("COACHREGISTER_WORKERS", 2)
threads = _env_int("COACHREGISTER_THREADS", 4)

# Networks are normalised the way Django reads them (lib/net.py, host bits allowed), so both
# trust exactly the same peers; gunicorn itself would refuse "10.0.0.1/8". An empty string
# is an empty list for gunicorn (validate_string_to_list): nobody is trusted.
_proxies = _net.parse_networks(os.environ.get("TRUSTED_PROXIES", "").split(","))
forwarded_allow_ips = ",".join(str(network) for network in _proxies)
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
forwarder_headers = ""

accesslog = None
errorlog = "-"
proc_name = "coachregister"
control_socket_disable = True


def post_worker_init(worker: Any) -> None:
    """Leave the product name out of the `Server` header (see the module docstring)."""
    import gunicorn.http.wsgi

    gunicorn.http.wsgi.SERVER = ""
