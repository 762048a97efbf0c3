"""Production settings: `check --deploy` is clean, and missing secrets stop the start (art. 6)."""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from coachregister.lib.crypto import new_master_key
from coachregister.testing.server import server_env

pytestmark = pytest.mark.article("6")


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.fixture
def production(tmp_path: Path) -> dict[str, str]:
    env = server_env(tmp_path, {"ALLOWED_HOSTS": "register.example.nl"})
    for name in ("SECRET_KEY_FILE", "COACHREGISTER_MASTER_KEY_FILE", "COACHREGISTER_HTTPS"):
        env.pop(name)
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    env["COACHREGISTER_MASTER_KEY"] = new_master_key("k1")
    return env


def test_check_deploy_is_clean(production: dict[str, str]) -> None:
    result = run(["-m", "coachregister", "check", "--deploy", "--fail-level", "WARNING"],
                 production)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(("change", "check_id"), [
    ({"SECRET_KEY": ""}, "coachregister.E001"),
    ({"COACHREGISTER_MASTER_KEY": ""}, "coachregister.E002"),
    ({"COACHREGISTER_MASTER_KEY": "k1:tooshort"}, "coachregister.E003"),
])
def test_missing_or_bad_secrets_refuse_to_start(
    production: dict[str, str], change: dict[str, str], check_id: str
) -> None:
    env = {**production, **change}
    check = run(["-m", "coachregister", "check"], env)
    assert check.returncode != 0 and check_id in check.stderr + check.stdout
    wsgi = run(["-c", "import coachregister.wsgi"], env)
    assert wsgi.returncode != 0 and check_id in wsgi.stderr
    assert production["COACHREGISTER_MASTER_KEY"].split(":")[1] not in check.stderr + wsgi.stderr
