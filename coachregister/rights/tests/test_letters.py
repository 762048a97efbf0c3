"""What the decision letters say (art. 7.2, 7.3, 8.2, 8.3; GDPR art. 12(4), 15, 20), read
back from the PDF with pdftotext: every remedy of a refusal, consents with their purpose,
Dutch local times, translated roles, repeated views grouped, a correction field by field;
and the portability export's documented keys."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from coachregister.accounts.models import User
from coachregister.audit.services import event_record
from coachregister.complaints.models import ComplaintProcedure
from coachregister.disclosures import services as disclosures
from coachregister.retention.others import ANONYMISED_NAME, anonymised_username
from coachregister.rights import portal, services
from coachregister.rights.models import DataRequest
from coachregister.testing import factories
from coachregister.trajectories.models import Trajectory

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[3] / "README.md"
# 27 November 2026, 07:51 UTC is 08:51 in Amsterdam (winter time).
VIEWED = datetime(2026, 11, 27, 7, 51, tzinfo=ZoneInfo("UTC"))


@pytest.fixture
def trajectory(owner: User, coach: User) -> Trajectory:
    return factories.trajectory(owner, coach)


def english(trajectory: Trajectory) -> None:
    trajectory.coachee.language = "en"
    trajectory.coachee.save(update_fields=["language"])


def decide(owner: User, trajectory: Trajectory, kind: str, decision: str = "granted",
           changes: dict[str, str] | None = None, **extra: object) -> DataRequest:
    data_request = services.request_register(
        actor=owner, request=None, coachee=trajectory.coachee, kind=kind, channel="email",
        verification="reply from the email on file", changes=changes,
    )
    services.request_decide(actor=owner, request=None, data_request=data_request,
                            decision=decision, **extra)  # type: ignore[arg-type]
    return data_request


def letter_text(data_request: DataRequest, tmp_path: Path) -> str:
    path = tmp_path / f"letter-{data_request.pk}.pdf"
    path.write_bytes(services.letter_pdf(data_request.letters.get()))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    return " ".join(text.split())


def views(coach: User, trajectory: Trajectory, times: int) -> None:
    with time_machine.travel(VIEWED, tick=False):
        for _ in range(times):
            event_record(action="coachees.contact.viewed", actor=coach, object_type="coachee",
                         object_id=trajectory.coachee.pseudonym)


@pytest.mark.article("8.2")
def test_a_refusal_letter_names_every_remedy(
    owner: User, trajectory: Trajectory, tmp_path: Path
) -> None:
    english(trajectory)
    procedure = ComplaintProcedure.load()
    procedure.external_body = "Geschillencommissie Coaching"
    procedure.save()
    data_request = decide(owner, trajectory, "access", "refused", grounds=["d"],
                          justification="The rights of others")
    text = letter_text(data_request, tmp_path)
    assert "If you disagree with this decision" in text
    assert "complaints procedure (article 11" in text  # the practice's own route
    assert "We confirm receipt within 5 days and decide within 6 weeks." in text
    assert "Geschillencommissie Coaching" in text
    assert "supervisory authority, the Autoriteit Persoonsgegevens" in text
    assert "autoriteitpersoonsgegevens.nl" in text
    assert "go to court" in text and "district court (rechtbank)" in text


@pytest.mark.article("7.3")
def test_the_access_letter_groups_views_in_local_time_with_translated_roles(
    owner: User, coach: User, trajectory: Trajectory, tmp_path: Path
) -> None:
    english(trajectory)
    views(coach, trajectory, 6)
    text = letter_text(decide(owner, trajectory, "access"), tmp_path)
    assert f"{coach.full_name} (Coach) — 6× on 27 November 2026, 08:51" in text
    assert "2026-11-27T07:51" not in text  # no raw UTC moment
    assert text.count("contact details opened") == 1


@pytest.mark.article("7.3")
def test_a_dutch_letter_writes_dutch_dates_and_roles(
    owner: User, coach: User, trajectory: Trajectory, tmp_path: Path
) -> None:
    trajectory.coachee.language = "nl"  # as at a Dutch intake
    trajectory.coachee.save(update_fields=["language"])
    with time_machine.travel(VIEWED, tick=False):
        event_record(action="coachees.contact.viewed", actor=owner, object_type="coachee",
                     object_id=trajectory.coachee.pseudonym)
    text = letter_text(decide(owner, trajectory, "access"), tmp_path)
    assert f"{owner.full_name} (Eigenaar (verantwoordelijke)) — 27 november 2026, 08:51" in text
    assert "(owner)" not in text and "Owner (controller)" not in text


@pytest.mark.article("7.3")
def test_after_a_staff_account_is_anonymised_only_its_role_is_named(
    owner: User, coach: User, trajectory: Trajectory, tmp_path: Path
) -> None:
    english(trajectory)
    views(coach, trajectory, 2)
    coach.username = anonymised_username(coach)
    coach.full_name = ANONYMISED_NAME
    coach.save(update_fields=["username", "full_name"])
    text = letter_text(decide(owner, trajectory, "access"), tmp_path)
    assert "Coach — 2× on 27 November 2026, 08:51" in text
    assert ANONYMISED_NAME not in text


@pytest.mark.article("7.3")
def test_a_consent_line_names_its_purpose(
    owner: User, trajectory: Trajectory, tmp_path: Path
) -> None:
    english(trajectory)
    recipient = disclosures.recipient_save(actor=owner, request=None, name="Bedrijfsarts Noord",
                                           kind="other", email="arts@noord.example")
    factories.disclosure_consent(trajectory.coachee, recipient, factories.purpose(owner))
    text = letter_text(decide(owner, trajectory, "access"), tmp_path)
    line = re.search(r"disclosure to a recipient[^·]*· purpose: ([^(]+)\(Bedrijfsarts Noord",
                     text)
    assert line is not None and line.group(1).strip() == "Afstemming re-integratie"


@pytest.mark.article("8.3")
def test_a_correction_letter_says_field_by_field_what_changed(
    owner: User, trajectory: Trajectory, tmp_path: Path
) -> None:
    english(trajectory)
    asked = {"phone": "+31687654321", "last_name": "Jansen"}
    data_request = services.request_register(
        actor=owner, request=None, coachee=trajectory.coachee, kind="rectification",
        channel="email", verification="reply from the email on file", changes=asked,
    )
    services.request_decide(actor=owner, request=None, data_request=data_request,
                            decision="partly", justification="The name is as on the contract",
                            granted_changes={"phone": "+31687654321"})
    text = letter_text(data_request, tmp_path)
    assert "Telephone number: changed; it now reads “+31687654321”." in text
    assert "Last name: not changed." in text
    assert factories.ANNE.phone not in text  # the old value is not repeated


@pytest.mark.article("7.3")
def test_the_portability_export_carries_the_documented_keys(
    owner: User, coach: User, trajectory: Trajectory
) -> None:
    views(coach, trajectory, 1)
    decide(owner, trajectory, "access")
    exported = json.loads(portal.overview_json(trajectory.coachee))
    assert exported["export"]["format"] == "coachregister-portability"
    assert exported["export"]["version"] == 1
    readme = README.read_text(encoding="utf-8")
    section = readme.split("## Portability export", 1)[1].split("\n## ", 1)[0]
    documented = {
        m.group(1): set(re.findall(r"`(\w+)`", m.group(2)))
        for m in re.finditer(r"^\| `(\w+)` \| (.*) \|$", section, re.MULTILINE)
    }
    assert set(documented) == set(exported)
    for key, value in exported.items():
        items = value if isinstance(value, list) else [value]
        for item in items:
            fields = set(item)
            for nested in ("versions", "holds"):
                for inner in item.get(nested) or []:
                    fields |= set(inner)
            assert fields <= documented[key], (key, fields - documented[key])


@pytest.mark.article("7.3")
def test_the_portal_labels_the_export_in_plain_words(trajectory: Trajectory) -> None:
    from coachregister.rights.models import PortalLink

    english(trajectory)
    from coachregister.lib import tokens

    token = tokens.new_token()
    from django.utils import timezone

    PortalLink.objects.create(coachee=trajectory.coachee, token_hash=tokens.token_hash(token),
                              expires_at=timezone.now() + portal.LINK_VALID)
    client = Client()
    client.get(reverse("rights:portal_enter", args=[token]))
    page = client.get(reverse("rights:portal_home"), HTTP_ACCEPT_LANGUAGE="en")
    assert b"as a file for another program" in page.content
    assert b"(JSON)</a>" not in page.content
