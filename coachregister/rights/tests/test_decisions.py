"""Deciding and carrying out (art. 7.5, 8.2-8.4): refusal grounds in the letter, corrections
told to exactly the recipients in the register, restriction, erasure by crypto-shredding."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils.translation import override

from coachregister.accounts.models import User
from coachregister.audit import chain
from coachregister.audit.models import Event
from coachregister.coachees import vault
from coachregister.coachees.models import Coachee
from coachregister.disclosures import services as disclosures
from coachregister.disclosures.models import Disclosure
from coachregister.lib.crypto import DecryptionError
from coachregister.notes.models import CoachingSession, KeywordVersion
from coachregister.notes.services import session_record
from coachregister.outbox.models import OutboxMessage
from coachregister.outbox.services import open_message
from coachregister.rights import services
from coachregister.rights.models import DataRequest, RefusalGround
from coachregister.testing import factories
from coachregister.trajectories.models import Trajectory

pytestmark = pytest.mark.django_db


@pytest.fixture
def trajectory(owner: User, coach: User) -> Trajectory:
    return factories.trajectory(owner, coach)


def register(
    owner: User, trajectory: Trajectory, kind: str, changes: dict[str, str] | None = None,
    restriction_ground: str = "",
) -> DataRequest:
    return services.request_register(
        actor=owner,
        request=None,
        coachee=trajectory.coachee,
        kind=kind,
        channel="email",
        changes=changes,
        verification="reply from the email on file",
        restriction_ground=restriction_ground,
    )


def letter_text(data_request: DataRequest, tmp_path: Path) -> str:
    pdf = services.letter_pdf(data_request.letters.get())
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return " ".join(text.split())


def disclose(owner: User, trajectory: Trajectory, name: str, email: str) -> object:
    recipient = disclosures.recipient_save(
        actor=owner, request=None, name=name, kind="other", email=email
    )
    disclosures.disclosure_record(
        actor=owner,
        request=None,
        coachee=trajectory.coachee,
        recipient=recipient,
        categories=["contact"],
        processing_purpose=factories.purpose(owner),
        basis="legal_duty",
        legal_ground="Wet X",
    )
    return recipient


@pytest.mark.article("7.5")
@pytest.mark.parametrize("ground", RefusalGround.values)
def test_each_refusal_ground_appears_in_the_letter(
    owner: User, trajectory: Trajectory, ground: str, tmp_path: Path
) -> None:
    data_request = register(owner, trajectory, "access")
    with pytest.raises(ValidationError):  # access is refused only on a ground a-e
        services.request_decide(
            actor=owner,
            request=None,
            data_request=data_request,
            decision="refused",
            justification="Noodzakelijk.",
        )
    services.request_decide(
        actor=owner,
        request=None,
        data_request=data_request,
        decision="refused",
        grounds=[ground],
        justification="Noodzakelijk en evenredig omdat ...",
    )
    text = letter_text(data_request, tmp_path)
    with override("nl"):
        label = str(dict(RefusalGround.choices)[ground])
    assert label in text  # the ground, in the letter's language (Dutch)
    assert "Autoriteit Persoonsgegevens" in text and "Noodzakelijk en evenredig" in text
    others = [g for g in RefusalGround.values if g != ground]
    with override("nl"):
        assert not any(str(dict(RefusalGround.choices)[g]) in text for g in others)


@pytest.mark.article("8.4")
def test_a_correction_is_carried_out_and_told_to_exactly_the_recipients(
    owner: User, trajectory: Trajectory, tmp_path: Path
) -> None:
    arts = disclose(owner, trajectory, "Bedrijfsarts Oost", "arts@oost.example")
    uwv = disclose(owner, trajectory, "UWV Kantoor", "post@uwv.example")
    other = factories.trajectory(
        owner,
        trajectory.coach,
        contact=factories.Contact("Bram", "Bakker", "bram@voorbeeld.example", "+31612345679"),
    )
    disclosures.disclosure_record(
        actor=owner,
        request=None,
        coachee=other.coachee,
        recipient=disclosures.recipient_save(
            actor=owner, request=None, name="Niet Deze", kind="other", email="niet@deze.example"
        ),
        categories=["contact"],
        processing_purpose=factories.purpose(owner),
        basis="legal_duty",
        legal_ground="Wet X",
    )
    OutboxMessage.objects.all().delete()
    data_request = register(owner, trajectory, "rectification", changes={"phone": "+31687654321"})
    services.request_decide(
        actor=owner, request=None, data_request=data_request, decision="granted"
    )
    coachee = Coachee.objects.get(pk=trajectory.coachee_id)
    assert vault.open_contact(coachee).phone == "+31687654321"
    notices = [
        open_message(m)[0] for m in OutboxMessage.objects.filter(kind="rights_recipient_notice")
    ]
    assert sorted(notices) == ["arts@oost.example", "post@uwv.example"]
    text = letter_text(data_request, tmp_path)
    assert arts.name in text and uwv.name in text and "Niet Deze" not in text
    event = Event.objects.get(action="rights.request.decided")
    assert event.detail["recipients_told"] == 2


@pytest.mark.article("8.1")
def test_restriction_blocks_sessions_and_disclosures(
    owner: User, coach: User, trajectory: Trajectory
) -> None:
    data_request = register(owner, trajectory, "restriction", restriction_ground="a")
    services.request_decide(
        actor=owner, request=None, data_request=data_request, decision="granted"
    )
    coachee = Coachee.objects.get(pk=trajectory.coachee_id)
    assert coachee.restricted
    trajectory.refresh_from_db()
    with pytest.raises(ValidationError):
        session_record(
            actor=coach,
            request=None,
            trajectory=trajectory,
            held_on=trajectory.started_on,
            kind="video",
            duration_minutes=30,
            keywords="x",
        )
    recipient = disclosures.recipient_save(actor=owner, request=None, name="R", kind="other")
    with pytest.raises(ValidationError):
        disclosures.disclosure_record(
            actor=owner,
            request=None,
            coachee=coachee,
            recipient=recipient,
            categories=["contact"],
            processing_purpose=factories.purpose(owner),
            basis="legal_duty",
            legal_ground="Wet X",
        )


@pytest.mark.article("8.3")
def test_erasure_leaves_no_way_to_read_the_data(
    owner: User, coach: User, trajectory: Trajectory
) -> None:
    session_record(
        actor=coach,
        request=None,
        trajectory=trajectory,
        held_on=trajectory.started_on,
        kind="video",
        duration_minutes=30,
        keywords="werkdruk",
    )
    disclose(owner, trajectory, "Arts", "arts@example.org")
    coachee = Coachee.objects.get(pk=trajectory.coachee_id)
    old_key_holder = Coachee.objects.get(pk=coachee.pk)  # as an attacker's old copy
    pseudonym = coachee.pseudonym
    data_request = register(owner, trajectory, "erasure")
    services.request_decide(
        actor=owner, request=None, data_request=data_request, decision="granted"
    )
    assert not Coachee.objects.filter(pseudonym=pseudonym).exists()
    assert not CoachingSession.objects.exists() and not KeywordVersion.objects.exists()
    data_request.refresh_from_db()
    assert data_request.coachee is None and data_request.coachee_pseudonym == pseudonym
    assert Disclosure.objects.get().coachee is None  # the register keeps the pseudonym only
    old_key_holder.wrapped_key = b""
    with pytest.raises(DecryptionError):
        vault.open_contact(old_key_holder)
    assert chain.verify(chain.iter_rows()).ok
    assert Event.objects.filter(action="rights.erasure.carried_out", object_id=pseudonym).exists()
    to, body = open_message(OutboxMessage.objects.get(kind="rights_erasure_done"))
    assert to == factories.ANNE.email and "Arts" in body


@pytest.mark.article("8.2")
def test_partly_and_refused_need_reasons(owner: User, trajectory: Trajectory) -> None:
    data_request = register(owner, trajectory, "erasure")
    with pytest.raises(ValidationError):
        services.request_decide(
            actor=owner, request=None, data_request=data_request, decision="refused"
        )
    services.request_decide(
        actor=owner,
        request=None,
        data_request=data_request,
        decision="refused",
        justification="Geen grond voor bezwaar.",
    )
    with pytest.raises(ValidationError):  # once
        services.request_decide(
            actor=owner, request=None, data_request=data_request, decision="granted"
        )


@pytest.mark.article("8.1")
def test_the_coachee_is_told_before_a_restriction_is_lifted(
    owner: User, coach: User, trajectory: Trajectory
) -> None:
    from django.test import Client
    from django.urls import reverse

    from coachregister.conftest import sign_in

    data_request = register(owner, trajectory, "restriction", restriction_ground="a")
    services.request_decide(
        actor=owner, request=None, data_request=data_request, decision="granted"
    )
    url = reverse("rights:restriction_lift", args=[trajectory.coachee.pseudonym])
    assert sign_in(Client(), coach).post(url).status_code == 403
    assert Coachee.objects.get(pk=trajectory.coachee_id).restricted
    sign_in(Client(), owner).post(url)
    assert not Coachee.objects.get(pk=trajectory.coachee_id).restricted
    to, body = open_message(OutboxMessage.objects.get(kind="rights_restriction_lifted"))
    assert to == factories.ANNE.email and "Anne" in body and "afscherming" in body
    assert Event.objects.filter(action="rights.restriction.lifted", actor=owner).exists()


@pytest.mark.article("8.3")
def test_erasure_is_all_or_nothing(owner: User, trajectory: Trajectory) -> None:
    data_request = register(owner, trajectory, "erasure")
    with pytest.raises(ValidationError):
        services.request_decide(
            actor=owner,
            request=None,
            data_request=data_request,
            decision="partly",
            justification="deels",
        )
    services.request_decide(
        actor=owner,
        request=None,
        data_request=data_request,
        decision="refused",
        justification="Bewaarplicht op grond van een rechterlijk bevel.",
    )
    assert Coachee.objects.filter(pk=trajectory.coachee_id).exists()


@pytest.mark.parametrize(
    "role", ["owner", "administrator", "coach", "other_coach", "third_party", "auditor"]
)
@pytest.mark.article("5.1")
def test_letter_download_per_role(
    role: str, request: pytest.FixtureRequest, owner: User, trajectory: Trajectory
) -> None:
    from django.test import Client
    from django.urls import reverse

    from coachregister.conftest import sign_in

    data_request = register(owner, trajectory, "erasure")
    services.request_decide(
        actor=owner,
        request=None,
        data_request=data_request,
        decision="refused",
        justification="Geen grond.",
    )
    user = request.getfixturevalue(role)
    response = sign_in(Client(), user).get(
        reverse("rights:letter", args=[data_request.letters.get().pk])
    )
    if role in ("owner", "administrator"):
        assert response.status_code == 200 and response.content.startswith(b"%PDF")
        assert Event.objects.filter(action="rights.letter.downloaded", actor=user).exists()
    else:
        assert response.status_code == 403


@pytest.mark.article("8.1")
def test_a_correction_to_another_coachees_email_is_refused_cleanly(
    owner: User, coach: User, trajectory: Trajectory
) -> None:
    factories.trajectory(owner, coach, contact=factories.Contact(
        "Bram", "Bakker", "bram@voorbeeld.example", "+31612345679"))
    data_request = register(owner, trajectory, "rectification",
                            changes={"email": "BRAM@voorbeeld.example"})
    with pytest.raises(ValidationError):
        services.request_decide(actor=owner, request=None, data_request=data_request,
                                decision="granted")
    data_request.refresh_from_db()
    assert data_request.decided_at is None
    assert vault.open_contact(Coachee.objects.get(pk=trajectory.coachee_id)).email == \
        factories.ANNE.email


@pytest.mark.article("8.1")
def test_corrections_are_cleaned_like_the_intake(owner: User, trajectory: Trajectory) -> None:
    with pytest.raises(ValidationError):
        register(owner, trajectory, "rectification", changes={"phone": "12"})
    request = register(owner, trajectory, "rectification", changes={"phone": "06 8765 4321"})
    assert services.requested_changes(request) == {"phone": "+31687654321"}
