"""A real gunicorn server for end-to-end tests, on its own SQLite database in a temp folder."""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from coachregister.lib.crypto import new_master_key

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    env: dict[str, str]
    log: Path
    extra: dict[str, object] = field(default_factory=dict)

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "coachregister", *args],
            env=self.env,
            check=check,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def shell(self, code: str) -> str:
        """Run Python inside the server's Django (to prepare data through the services)."""
        return self.manage("shell", "-c", code).stdout


def server_env(var_dir: Path, extra_env: dict[str, str] | None = None) -> dict[str, str]:
    var_dir.mkdir(parents=True, exist_ok=True)
    (var_dir / "secret_key").write_text(secrets.token_urlsafe(50))
    (var_dir / "master_key").write_text(new_master_key("e2e1"))
    # The test process's own database, key and evidence directories (testing/plugin.py) are
    # not the server's: each server keeps everything under its var_dir, with its own master key.
    private = {
        "DATABASE_URL", "DJANGO_SETTINGS_MODULE", "COACHREGISTER_KEY_DIR",
        "COACHREGISTER_EVIDENCE_DIR",
    }
    env = {k: v for k, v in os.environ.items() if k not in private}
    env.update(
        {
            "COACHREGISTER_ENV": "production",
            "COACHREGISTER_HTTPS": "false",
            "COACHREGISTER_VAR_DIR": str(var_dir),
            "SECRET_KEY_FILE": str(var_dir / "secret_key"),
            "COACHREGISTER_MASTER_KEY_FILE": str(var_dir / "master_key"),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
        }
    )
    env.update(extra_env or {})
    return env


def wait_until_answering(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until the server answers any HTTP response (a redirect to https counts too)."""
    parts = urllib.parse.urlsplit(url)
    deadline = time.monotonic() + 30
    while True:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=2)
        try:
            connection.request("GET", "/login/")
            connection.getresponse().read()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(log.read_text()) from None
            time.sleep(0.2)
        finally:
            connection.close()


@contextlib.contextmanager
def running_server(
    var_dir: Path,
    *,
    extra_env: dict[str, str] | None = None,
    gunicorn_args: Sequence[str] = (),
) -> Iterator[Server]:
    """gunicorn with the production config (coachregister/gunicorn_conf.py); `gunicorn_args`
    are added on the command line, where they override that config."""
    port = free_port()
    env = server_env(
        var_dir,
        {
            "COACHREGISTER_BASE_URL": f"http://127.0.0.1:{port}",
            "COACHREGISTER_BIND": f"127.0.0.1:{port}",
            "TRUSTED_PROXIES": "",
            **(extra_env or {}),
        },
    )
    server = Server(url=f"http://127.0.0.1:{port}", env=env, log=var_dir / "gunicorn.log")
    server.manage("migrate", "--no-input", "-v", "0")
    server.manage("collectstatic", "--no-input", "-v", "0")
    with server.log.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "python:coachregister.gunicorn_conf",
                *gunicorn_args,
                "coachregister.wsgi:application",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_answering(server.url, process, server.log)
            yield server
        finally:
            process.terminate()
            process.wait(timeout=10)
