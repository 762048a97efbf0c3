"""The production road of the README, from a fresh install to a coachee's intake (art. 12.2).

The README's "## Production" code block is the single source: this test parses it and runs
its commands one by one, as an operator would, with the venv on PATH, in an empty var
directory on a fresh database (SQLite; on a PostgreSQL run a database of its own on that
server, dropped afterwards), and with the environment the README lists. `createowner` gets the
code an authenticator app computes from the printed otpauth address; gunicorn and the worker
run in the background. Then, in Debian's Chromium, the owner signs in with password and code
(there are no office networks for 127.0.0.1: the second step is asked), accepts the
confidentiality statement, publishes the regulation, adds a coach, records a client and opens
a trajectory; the employee completes the intake with the invitation code in a fresh browser;
the worker sends the coach's mail to the SMTP server. `backup` is a cron job and is skipped.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import secrets
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.urls import reverse
from django_otp.oath import TOTP
from playwright.sync_api import Page, expect, sync_playwright

from coachregister.testing.e2e import smtp
from coachregister.testing.server import CHROMIUM, CHROMIUM_ARGS, free_port, wait_until_answering

pytestmark = [pytest.mark.browser, pytest.mark.article("12.2")]

README = Path(__file__).resolve().parents[2] / "README.md"
VENV_BIN = Path(sys.executable).parent
URI = re.compile(r"otpauth://totp/\S+")
PASSWORD = re.compile(r"\b([A-Za-z0-9]{4}(?:-[A-Za-z0-9]{4}){3})\b")
# The test process's own settings, database, key and evidence directories are not the
# installation's: it starts from nothing but what the README documents.
PRIVATE = {
    "DATABASE_URL", "DJANGO_SETTINGS_MODULE", "COACHREGISTER_ENV", "COACHREGISTER_KEY_DIR",
    "COACHREGISTER_EVIDENCE_DIR", "COACHREGISTER_VAR_DIR", "SECRET_KEY", "SECRET_KEY_FILE",
    "COACHREGISTER_MASTER_KEY", "COACHREGISTER_MASTER_KEY_FILE",
}


def production_commands() -> list[list[str]]:
    """The commands of the first code block under "## Production", comments removed."""
    section = README.read_text(encoding="utf-8").split("\n## Production\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    block: list[str] = []
    for line in section.splitlines():
        if line.startswith("    ") and line.strip():
            block.append(line.strip())
        elif block and line.strip():  # the first text after the block ends it
            break
    return [shlex.split(line, comments=True) for line in block]


def test_the_readme_block_is_the_road_in_order() -> None:
    commands = [" ".join(argv[:2]) for argv in production_commands()]
    assert commands == [
        "coachregister keys", "coachregister migrate", "coachregister collectstatic",
        "coachregister createowner", "gunicorn -c", "coachregister worker",
        "coachregister backup",
    ]


@contextlib.contextmanager
def fresh_database() -> Iterator[dict[str, str]]:
    """Nothing (SQLite in the var directory), or a new PostgreSQL database on the server the
    suite runs on, dropped afterwards."""
    if connection.vendor != "postgresql":
        yield {}
        return
    import psycopg

    db = connection.settings_dict
    name = f"{db['NAME']}_road_{secrets.token_hex(3)}"
    params = {"host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432,
              "user": db["USER"], "password": db["PASSWORD"] or None, "dbname": "postgres",
              "autocommit": True}
    with psycopg.connect(**params) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {"DATABASE_URL": f"postgres://{db['USER']}@{params['host']}:{params['port']}/{name}"}
    finally:
        with psycopg.connect(**params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Phone:
    """The authenticator app, set up from the address `createowner` printed."""

    def __init__(self, uri: str) -> None:
        secret = parse_qs(urlsplit(uri).query)["secret"][0]
        self.key = base64.b32decode(secret + "=" * (-len(secret) % 8))
        self.used = -1

    def code(self) -> str:
        """A code the register has not seen: a step after the last one used (the server takes
        one step of tolerance, never a step it accepted before)."""
        step = max(int(time.time()) // 30, self.used) + (1 if self.used >= 0 else 0)
        totp = TOTP(self.key)
        totp.time = step * 30 + 1
        self.used = step
        return f"{totp.token():06d}"


def create_owner(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[str, Phone, str]:
    """Run `createowner` as the operator: scan the printed address, type the code."""
    process = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(120, process.kill)
    watchdog.start()
    try:
        screen = ""
        while not (found := URI.search(screen)):
            line = process.stdout.readline()  # type: ignore[union-attr]
            assert line, screen + process.stderr.read()  # type: ignore[union-attr]
            screen += line
        phone = Phone(found.group(0))
        out, err = process.communicate(phone.code() + "\n", timeout=60)
    finally:
        watchdog.cancel()
    assert process.returncode == 0, screen + out + err
    assert "█" in screen or "▄" in screen  # the QR code for the phone
    return PASSWORD.search(out).group(1), phone, out


OWN_PASSWORD = "de-eigen-zin-van-de-eigenaar-2026"


def sign_in_first_time(page: Page, url: str, username: str, password: str, phone: Phone) -> None:
    """Art. 12.2, 4.1f: password, then the code (outside the office networks), then an own
    password in place of the printed one, then the statement."""
    page.goto(f"{url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button.primary")
    expect(page).to_have_url(f"{url}/login/verify/")
    page.fill("#id_token", phone.code())
    page.click("button.primary")
    expect(page).to_have_url(f"{url}{reverse('accounts:password_change')}")
    page.fill("#id_old_password", password)
    page.fill("#id_new_password1", OWN_PASSWORD)
    page.fill("#id_new_password2", OWN_PASSWORD)
    page.click("button.primary")
    expect(page).to_have_url(f"{url}/confidentiality/")
    expect(page.locator(".statement")).to_contain_text("Geheimhoudingsverklaring")
    page.check("#id_accept")
    page.click("button.primary")


def publish_regulation(page: Page, url: str) -> None:
    """After the statement, an owner of a practice without a regulation lands on the publish
    screen and publishes the first version (the sign-in just now counts as the confirmation
    that publishing asks for)."""
    expect(page).to_have_url(f"{url}{reverse('practice:regulation')}")
    form = page.locator(f"form[action='{reverse('practice:regulation_publish')}']")
    version = form.locator("input[name='version']")
    if not version.input_value():
        version.fill("2026.1")
    label = version.input_value()
    form.locator("button[type='submit']").click()
    expect(page.get_by_test_id("current")).to_contain_text(label)


def test_from_a_fresh_install_to_a_coachee_intake(tmp_path: Path) -> None:
    commands = production_commands()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    background: list[subprocess.Popen[bytes]] = []
    with smtp() as (inbox, mail_env), fresh_database() as database_env, \
            contextlib.ExitStack() as stop:
        env = {k: v for k, v in os.environ.items() if k not in PRIVATE}
        env.update({
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
            "COACHREGISTER_VAR_DIR": str(tmp_path / "var"),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "COACHREGISTER_HTTPS": "false",
            "COACHREGISTER_BIND": f"127.0.0.1:{port}",
            "COACHREGISTER_BASE_URL": url,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "TRUSTED_PROXIES": "",
            **mail_env,
            **database_env,
        })

        @stop.callback
        def _stop_background() -> None:
            for process in background:
                process.terminate()
            for process in background:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()

        owner: tuple[str, str, Phone] | None = None
        for argv in commands:
            if argv[:2] == ["coachregister", "backup"]:
                continue  # daily, from cron
            if argv[:3] == ["coachregister", "keys", "new"]:
                made = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True,
                                      text=True, timeout=120, check=True)
                env["COACHREGISTER_MASTER_KEY"] = made.stdout.strip()
            elif argv[:2] == ["coachregister", "createowner"]:
                password, phone, out = create_owner(argv, env, tmp_path)
                owner = (argv[argv.index("--username") + 1], password, phone)
                assert len(re.findall(r"^ {4}\S+$", out, re.MULTILINE)) == 10  # backup codes
            elif argv[0] == "gunicorn" or argv[:2] == ["coachregister", "worker"]:
                log = (tmp_path / f"{argv[0]}-{len(background)}.log").open("w")
                stop.callback(log.close)
                background.append(subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=log,
                                                   stderr=subprocess.STDOUT))
                if argv[0] == "gunicorn":
                    wait_until_answering(url, background[-1], Path(log.name))
            else:
                result = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True,
                                        text=True, timeout=300, check=False)
                assert result.returncode == 0, result.stdout + result.stderr
        assert owner is not None and len(background) == 2
        # The installation uses the database it was given: SQLite in its var directory only
        # when there is no DATABASE_URL.
        sqlite = tmp_path / "var" / "coachregister.sqlite3"
        assert sqlite.exists() != bool(database_env)
        username, password, phone = owner

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            expect.set_options(timeout=15_000)  # two CPUs shared with other test runs
            stop.callback(expect.set_options, timeout=5_000)  # Playwright's default again
            page = browser.new_context(locale="nl-NL").new_page()
            page.set_default_timeout(15_000)
            sign_in_first_time(page, url, username, password, phone)
            publish_regulation(page, url)

            # A coach, a client with the regulation, a trajectory and its invitation.
            page.goto(f"{url}/users/new/")
            page.fill("#id_username", "anna")
            page.fill("#id_full_name", "Anna Coach")
            page.fill("#id_email", "anna@praktijk.example")
            page.select_option("#id_role", "coach")
            page.click("button.primary")
            expect(page.locator("body")).to_contain_text("anna")
            page.goto(f"{url}/trajectories/clients/new/")
            page.fill("#id_name", "Zorggroep Oost")
            page.fill("#id_quote_reference", "OFF-7")
            page.fill("#id_quote_date", "2026-11-01")
            page.select_option("#id_regulation_version", index=1)
            page.click("button.primary")
            page.goto(f"{url}/trajectories/new/")
            page.select_option("#id_client", label="Zorggroep Oost")
            page.select_option("#id_coach", label="Anna Coach")
            page.click("button.primary")
            code = page.get_by_test_id("invitation-code").inner_text().strip()
            pseudonym = re.search(r"T-[0-9A-Z-]+", page.locator("h1").inner_text()).group(0)

            # The employee, in a fresh browser, with the code from the invitation.
            coachee = browser.new_context(locale="nl-NL").new_page()
            coachee.set_default_timeout(15_000)
            coachee.goto(f"{url}/intake/")
            coachee.fill("#id_code", code)
            coachee.click("button.primary")
            expect(coachee).to_have_url(f"{url}/intake/form/")
            coachee.fill("#id_first_name", "Zoë")
            coachee.fill("#id_last_name", "van der Berg")
            coachee.fill("#id_email", "zoe.vdberg@voorbeeld.example")
            coachee.fill("#id_phone", "06 12345678")
            coachee.check("#id_regulation_read")
            coachee.check("#id_keyword_consent")
            coachee.click("button.primary")
            expect(coachee).to_have_url(f"{url}/intake/done/")
            browser.close()

        # The running worker sends the coach's mail: a link into the register, no name.
        deadline = time.monotonic() + 60
        while not (mails := [b for b in inbox.bodies if f"/trajectories/{pseudonym}/" in b]):
            assert time.monotonic() < deadline, inbox.bodies
            time.sleep(0.5)
        assert url in mails[0] and "Zoë" not in mails[0] and "zoe.vdberg" not in mails[0]
        verify = subprocess.run(["coachregister", "audit", "verify"], env=env, cwd=tmp_path,
                                capture_output=True, text=True, timeout=120, check=False)
        assert verify.stdout.startswith("OK"), verify.stdout + verify.stderr
