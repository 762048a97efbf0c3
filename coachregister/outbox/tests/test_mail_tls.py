"""Mail leaves over TLS (art. 6): production refuses plain SMTP to another host
(coachregister.E004), and the outbox really delivers over implicit TLS (port 465 style) to a
server whose certificate it verifies."""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiosmtpd.controller import Controller
from django.core import checks

from coachregister.checks import SMTP_BACKEND, mail_encrypted
from coachregister.lib.crypto import new_master_key
from coachregister.outbox import services
from coachregister.outbox.models import MessageStatus, OutboxMessage
from coachregister.outbox.tests.conftest import Inbox, body_of
from coachregister.testing.server import server_env

if TYPE_CHECKING:
    from pytest_django.fixtures import Settings

pytestmark = pytest.mark.article("6")

TO = "coachee.tls@voorbeeld.example"
BODY = "Uw link naar uw gegevens, alleen over een versleutelde verbinding."


@pytest.fixture
def production_mail(settings: Settings) -> Settings:
    settings.PRODUCTION = True
    settings.EMAIL_BACKEND = SMTP_BACKEND
    settings.EMAIL_HOST = "smtp.provider.example"
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    return settings


def e004(messages: list[checks.CheckMessage]) -> list[checks.CheckMessage]:
    return [m for m in messages if m.id == "coachregister.E004"]


def test_plain_smtp_to_a_remote_host_is_an_error_in_production(production_mail: Settings) -> None:
    errors = e004(checks.run_checks(tags=[checks.Tags.security]))  # registered, and serious
    assert len(errors) == 1 and errors[0].is_serious()
    assert "EMAIL_USE_SSL" in (errors[0].hint or "") and "EMAIL_USE_TLS" in (errors[0].hint or "")
    production_mail.PRODUCTION = False  # development and test may use a plain local catcher
    assert e004(mail_encrypted()) == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.53"])
def test_plain_smtp_to_a_relay_on_this_machine_is_allowed(
    production_mail: Settings, host: str
) -> None:
    production_mail.EMAIL_HOST = host
    assert e004(mail_encrypted()) == []


@pytest.mark.parametrize("flag", ["EMAIL_USE_TLS", "EMAIL_USE_SSL"])
def test_starttls_or_implicit_tls_satisfies_the_check(production_mail: Settings, flag: str) -> None:
    setattr(production_mail, flag, True)
    assert e004(mail_encrypted()) == []
    setattr(production_mail, flag, False)
    production_mail.EMAIL_HOST = "localhost.evil.example"  # not fooled by a name that starts so
    assert len(e004(mail_encrypted())) == 1


def _run_settings(tmp_path: Path, extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = server_env(tmp_path, {"ALLOWED_HOSTS": "register.example.nl", **extra})
    for name in ("SECRET_KEY_FILE", "COACHREGISTER_MASTER_KEY_FILE", "COACHREGISTER_HTTPS"):
        env.pop(name)
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    env["COACHREGISTER_MASTER_KEY"] = new_master_key("k1")
    return subprocess.run(
        [sys.executable, "-m", "coachregister", "check", "--deploy"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def test_check_deploy_refuses_plain_smtp_and_both_tls_modes(tmp_path: Path) -> None:
    plain = _run_settings(tmp_path, {"EMAIL_HOST": "smtp.provider.example"})
    assert plain.returncode != 0 and "coachregister.E004" in plain.stdout + plain.stderr
    ssl_on = _run_settings(
        tmp_path, {"EMAIL_HOST": "smtp.provider.example", "EMAIL_USE_SSL": "true"}
    )
    assert ssl_on.returncode == 0, ssl_on.stdout + ssl_on.stderr
    both = _run_settings(
        tmp_path,
        {"EMAIL_HOST": "smtp.provider.example", "EMAIL_USE_SSL": "1", "EMAIL_USE_TLS": "1"},
    )
    assert both.returncode != 0 and "not both" in both.stderr


# --- a real SMTP server over implicit TLS ---------------------------------------------------


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and localhost), made here: nothing is downloaded."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "coachregister test smtp")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class TlsInbox(Inbox):
    """Also records the TLS version each message arrived over (None: plain)."""

    def __init__(self) -> None:
        super().__init__()
        self.tls_versions: list[str | None] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        tls = server.transport.get_extra_info("ssl_object")
        self.tls_versions.append(tls.version() if tls is not None else None)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def tls_inbox(
    smtp_port: int, settings: Settings, tmp_path: Path
) -> Iterator[tuple[TlsInbox, Path]]:
    cert_path, key_path = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    box = TlsInbox()
    controller = Controller(
        box, hostname="127.0.0.1", port=smtp_port, ssl_context=context,
        server_hostname="localhost",
    )
    controller.start()
    settings.EMAIL_USE_SSL = True
    settings.EMAIL_USE_TLS = False
    yield box, cert_path
    controller.stop()


@pytest.mark.django_db
def test_the_outbox_delivers_over_implicit_tls_to_a_verified_server(
    tls_inbox: tuple[TlsInbox, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    box, cert_path = tls_inbox
    # Django's SMTP backend verifies against the system's trust store; trust our test CA the
    # way an operator would for a private relay (OpenSSL reads SSL_CERT_FILE).
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_path))
    message = services.message_enqueue(kind="test", to=TO, subject="TLS", body=BODY)

    assert services.send_due(worker="w-tls") == 1

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    [(recipients, received)] = box.parsed()
    assert recipients == [TO] and body_of(received) == BODY
    assert box.tls_versions in (["TLSv1.2"], ["TLSv1.3"])


@pytest.mark.django_db
def test_an_unverifiable_certificate_keeps_the_mail_in_the_outbox(
    tls_inbox: tuple[TlsInbox, Path],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    box, _ = tls_inbox
    other, _key = _self_signed(tmp_path_factory.mktemp("other"))  # another certificate trusted
    monkeypatch.setenv("SSL_CERT_FILE", str(other))
    message = services.message_enqueue(kind="test", to=TO, subject="TLS", body=BODY)

    assert services.send_due(worker="w-tls") == 0

    message = OutboxMessage.objects.get(pk=message.pk)
    assert message.status == MessageStatus.PENDING and message.attempts == 1
    assert "SSL" in message.last_error or "Certificate" in message.last_error
    assert box.messages == []
