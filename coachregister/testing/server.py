"""A real gunicorn server for end-to-end tests, on its own SQLite database in a temp folder."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
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
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
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


@contextlib.contextmanager
def running_server(var_dir: Path, *, extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    port = free_port()
    env = server_env(
        var_dir, {"COACHREGISTER_BASE_URL": f"http://127.0.0.1:{port}", **(extra_env or {})}
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
                "coachregister.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(f"{server.url}/login/", timeout=2)  # noqa: S310
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(server.log.read_text()) from None
                    time.sleep(0.2)
            yield server
        finally:
            process.terminate()
            process.wait(timeout=10)
