"""The first step of the README's production road runs before any key exists (issue 9, 11);
`keys status` inspects without showing key material (art. 6)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from coachregister.lib.crypto import parse_master_keys

pytestmark = pytest.mark.article("6")


def clean_production(tmp_path: Path) -> dict[str, str]:
    """A fresh production machine: no secret key, no master key, no database yet."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("COACHREGISTER_", "SECRET_KEY", "DATABASE_URL", "DJANGO_"))}
    env.update(COACHREGISTER_ENV="production", COACHREGISTER_VAR_DIR=str(tmp_path / "var"))
    return env


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "coachregister", *args],
                          env=clean_production(tmp_path), cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)


def test_keys_new_runs_on_a_clean_production_machine(tmp_path: Path) -> None:
    result = run(tmp_path, "keys", "new", "2026-11")
    assert result.returncode == 0, result.stderr
    [key] = parse_master_keys(result.stdout.strip())
    assert key.kid == "2026-11"


def test_help_status_and_check_run_without_keys(tmp_path: Path) -> None:
    assert run(tmp_path, "--help").returncode == 0
    assert run(tmp_path, "keys", "--help").returncode == 0
    status = run(tmp_path, "keys", "status")
    assert status.returncode == 0, status.stderr
    assert "none usable" in status.stdout and "days" in status.stdout
    check = run(tmp_path, "check")
    assert check.returncode != 0 and "Traceback" not in check.stderr
    assert "coachregister.E002" in check.stderr and "keys new KID" in check.stderr


def test_keys_that_need_the_master_key_refuse_clearly_without_it(tmp_path: Path) -> None:
    result = run(tmp_path, "keys", "rotate")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "coachregister.E002" in result.stderr


@pytest.mark.django_db
def test_status_names_epochs_and_the_bound_but_no_key_material(settings: object) -> None:
    import io

    from django.core.management import call_command

    from coachregister.keys import keyring

    epoch = keyring.current_epoch()
    out = io.StringIO()
    call_command("keys", "status", stdout=out)
    text = out.getvalue()
    assert epoch.id in text and f"after {keyring.erasure_bound_days()} days" in text
    secret = settings.COACHREGISTER_MASTER_KEY.split(":", 1)[1]  # type: ignore[attr-defined]
    assert secret not in text
