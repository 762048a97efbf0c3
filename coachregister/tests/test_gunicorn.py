"""Issue 9, point 5, through a real gunicorn with the production config
(coachregister/gunicorn_conf.py): forwarding headers count only from TRUSTED_PROXIES, the
`Server` header names no product, and idle connections do not stall the service (art. 6)."""

from __future__ import annotations

import contextlib
import http.client
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from coachregister.testing.server import Server, running_server, server_env

pytestmark = pytest.mark.article("6")

WORKERS = 2
IDLE_CONNECTIONS = WORKERS + 1
ANSWER_WITHIN = 10.0  # seconds: a functional bound, not a benchmark
FORGED = {"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on"}


def address(server: Server) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def get(
    server: Server, path: str, *, headers: dict[str, str] | None = None, timeout: float = 10
) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection(*address(server), timeout=timeout)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response
    finally:
        connection.close()


@contextlib.contextmanager
def idle_connections(server: Server, count: int) -> Iterator[None]:
    """TCP connections that never send a byte, held open (the slow-client stall)."""
    sockets = [socket.create_connection(address(server), timeout=5) for _ in range(count)]
    try:
        time.sleep(0.5)  # let the workers accept them
        yield
    finally:
        for sock in sockets:
            sock.close()


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Production settings with HTTPS on (the redirect to https is active), nobody trusted."""
    var_dir = tmp_path_factory.mktemp("gunicorn")
    env = {"COACHREGISTER_HTTPS": "true", "COACHREGISTER_WORKERS": str(WORKERS)}
    with running_server(var_dir, extra_env=env) as server:
        yield server


def test_forwarded_proto_from_loopback_is_not_trusted(production: Server) -> None:
    """gunicorn's default trusts X-Forwarded-Proto from 127.0.0.1; with the config it is
    ignored, so a plain-http request is still sent to https."""
    response = get(production, "/login/", headers=FORGED)
    assert response.status in (301, 302)
    assert response.getheader("Location", "").startswith("https://")


def test_server_header_names_no_product(production: Server) -> None:
    response = get(production, "/login/")
    assert response.getheader("Server") is not None  # gunicorn still writes the header
    headers = " ".join(f"{name}: {value}" for name, value in response.getheaders()).lower()
    assert "gunicorn" not in headers


def test_idle_connections_do_not_stall_requests(production: Server) -> None:
    with idle_connections(production, IDLE_CONNECTIONS):
        started = time.monotonic()
        response = get(production, "/login/", timeout=ANSWER_WITHIN)
        assert time.monotonic() - started < ANSWER_WITHIN
    assert response.status in (301, 302)  # answered (with the redirect to https)


def test_forwarded_proto_from_a_trusted_proxy_counts(tmp_path: Path) -> None:
    """The other side of the first test, so that it cannot pass vacuously: a peer listed in
    TRUSTED_PROXIES may say the request came in over https (no redirect then)."""
    env = {"COACHREGISTER_HTTPS": "true", "TRUSTED_PROXIES": "127.0.0.1"}
    with running_server(tmp_path, extra_env=env) as server:
        assert get(server, "/login/", headers={"X-Forwarded-Proto": "https"}).status == 200
        assert get(server, "/login/").status in (301, 302)
        # Only X-Forwarded-Proto is a scheme header, as for Django.
        assert get(server, "/login/", headers={"X-Forwarded-Ssl": "on"}).status in (301, 302)


def test_sync_workers_stall_on_idle_connections(tmp_path: Path) -> None:
    """Control for the idle-connection test: with the old sync workers the same check fails
    (each worker waits for its idle connection's request, so nothing answers)."""
    # gunicorn runs gthread instead of sync whenever threads > 1, hence --threads 1.
    args = ["--worker-class", "sync", "--threads", "1", "--workers", str(WORKERS)]
    with running_server(tmp_path, gunicorn_args=args) as server:
        with idle_connections(server, IDLE_CONNECTIONS), pytest.raises(TimeoutError):
            get(server, "/login/", timeout=3)
        # Once the idle connections are gone, the server answers again.
        assert get(server, "/login/").status == 200


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [
        ("", "[]"),
        ("10.0.0.1/8, 2001:db8::/32", "['10.0.0.0/8', '2001:db8::/32']"),
    ],
)
def test_config_reads_the_environment(tmp_path: Path, trusted: str, expected: str) -> None:
    """The settings gunicorn really ends up with (`--print-config`)."""
    env = server_env(tmp_path, {"TRUSTED_PROXIES": trusted, "COACHREGISTER_BIND": ""})
    env.pop("PORT", None)
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "python:coachregister.gunicorn_conf",
         "--print-config", "coachregister.wsgi:application"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    settings = {
        name.strip(): value.strip()
        for name, _, value in (line.partition("=") for line in result.stdout.splitlines())
    }
    assert settings["forwarded_allow_ips"] == expected
    assert settings["bind"] == "['127.0.0.1:8000']"
    assert settings["worker_class"] == "gthread"
    assert int(settings["threads"]) > 1
    assert settings["accesslog"] == "None"
    assert settings["secure_scheme_headers"] == "{'X-FORWARDED-PROTO': 'https'}"
    assert settings["control_socket_disable"] == "True"
