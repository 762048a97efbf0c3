"""Further copies (art. 7.3; GDPR art. 15(3)): the first copy is free; an access request from
a coachee who already received an answered copy carries the practice's fee, if it set one.
Staff record the payment (audited); the letter and the portal mention the fee."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils.translation import override

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.coachees.models import Coachee
from coachregister.conftest import confirm_recently
from coachregister.practice.models import PracticeSettings
from coachregister.rights import services
from coachregister.rights.models import DataRequest
from coachregister.rights.tests.test_portal import ask, link_from_outbox
from coachregister.testing import factories

pytestmark = [pytest.mark.django_db, pytest.mark.article("7.3")]


@pytest.fixture
def coachee(owner: User, coach: User) -> Coachee:
    return factories.trajectory(owner, coach).coachee


def set_fee(fee: str) -> None:
    PracticeSettings.load()
    PracticeSettings.objects.update(further_copy_fee=Decimal(fee))


def access(owner: User, coachee: Coachee, kind: str = "access") -> DataRequest:
    return services.request_register(actor=owner, request=None, coachee=coachee, kind=kind,
                                     channel="letter", verification="x")


def answer(owner: User, data_request: DataRequest, decision: str = "granted") -> None:
    extra: dict[str, Any] = {}
    if decision != "granted":
        extra = {"justification": "Noodzakelijk.", "grounds": ["d"]}
    services.request_decide(actor=owner, request=None, data_request=data_request,
                            decision=decision, **extra)


def test_the_first_copy_is_free_and_a_further_one_carries_the_fee(
    owner: User, coachee: Coachee
) -> None:
    set_fee("7.50")
    first = access(owner, coachee)
    assert first.fee is None
    open_second = access(owner, coachee)  # the first is not answered yet: still free
    assert open_second.fee is None
    answer(owner, first)
    further = access(owner, coachee)
    assert further.fee == Decimal("7.50") and further.fee_paid_at is None
    event = Event.objects.filter(action="rights.request.received").latest("id")
    assert event.detail["fee"] == "7.50"
    assert access(owner, coachee, kind="portability").fee is None  # only access copies


def test_a_refused_access_gave_no_copy_and_a_nil_fee_is_no_fee(
    owner: User, coachee: Coachee
) -> None:
    set_fee("7.50")
    answer(owner, access(owner, coachee), decision="refused")
    assert access(owner, coachee).fee is None
    partly = access(owner, coachee)
    answer(owner, partly, decision="partly")
    assert access(owner, coachee).fee == Decimal("7.50")
    set_fee("0")
    assert access(owner, coachee).fee is None


def test_recording_the_payment_is_audited_and_once(
    owner: User, coach: User, coachee: Coachee
) -> None:
    set_fee("5.00")
    answer(owner, access(owner, coachee))
    further = access(owner, coachee)
    with pytest.raises(PermissionDenied):
        services.request_fee_paid(actor=coach, request=None, data_request=further)
    services.request_fee_paid(actor=owner, request=None, data_request=further)
    further.refresh_from_db()
    assert further.fee_paid_at is not None
    event = Event.objects.get(action="rights.request.fee_paid")
    assert event.actor == owner and event.detail == {"request": further.pk, "fee": "5.00"}
    with pytest.raises(ValidationError):  # once
        services.request_fee_paid(actor=owner, request=None, data_request=further)
    set_fee("0")
    no_fee = access(owner, coachee)
    with pytest.raises(ValidationError):
        services.request_fee_paid(actor=owner, request=None, data_request=no_fee)


def test_the_detail_page_shows_the_fee_and_staff_mark_it_paid(
    owner: User, coach: User, coachee: Coachee, client_for: Callable[[User], Client]
) -> None:
    set_fee("7.50")
    answer(owner, access(owner, coachee))
    further = access(owner, coachee)
    url = reverse("rights:detail", args=[further.pk])
    paid = reverse("rights:fee_paid", args=[further.pk])
    assert client_for(coach).post(paid).status_code == 403
    client = client_for(owner)
    html = client.get(url).content.decode()
    assert "7,50" in html.split('data-testid="fee"')[1] and 'data-testid="fee-paid"' in html
    assert client.post(paid).status_code == 302
    further.refresh_from_db()
    assert further.fee_paid_at is not None
    assert 'data-testid="fee-paid"' not in client.get(url).content.decode()


def test_the_letter_mentions_the_fee(
    owner: User, coachee: Coachee, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coachregister.lib import pdf

    rendered: list[str] = []
    real = pdf.render_pdf

    def capture(template: str, context: dict[str, Any], language: str = "nl") -> bytes:
        from django.template.loader import render_to_string

        with override("en"):
            rendered.append(render_to_string(template, context))
        return real(template, context, language)

    monkeypatch.setattr(pdf, "render_pdf", capture)
    set_fee("7.50")
    answer(owner, access(owner, coachee))
    assert 'data-testid="fee"' not in rendered[-1]  # the first copy: no fee
    further = access(owner, coachee)
    services.request_fee_paid(actor=owner, request=None, data_request=further)
    answer(owner, further)
    letter = rendered[-1].split('data-testid="fee"')[1].split("</p>")[0]
    assert "7.50" in letter and "further copy" in letter and "first copy was free" in letter


def test_the_portal_tells_the_fee(owner: User, coachee: Coachee) -> None:
    set_fee("7.50")
    answer(owner, access(owner, coachee))
    access(owner, coachee)
    ask(factories.ANNE.email)
    client = Client()
    client.get(link_from_outbox())
    html = client.get(reverse("rights:portal_home")).content.decode()
    assert html.count("&euro; 7,50") == 2  # with the request form, and on the request


def test_the_owner_sets_the_fee_on_the_settings_page(
    owner: User, administrator: User, client_for: Callable[[User], Client]
) -> None:
    url = reverse("practice:settings")
    data = {"name": "Testpraktijk", "office_networks": "127.0.0.0/8\n192.0.2.0/24",
            "further_copy_fee": "4.25"}
    client_for(administrator).post(url, data)
    assert PracticeSettings.load().further_copy_fee == Decimal("0.00")
    assert confirm_recently(client_for(owner)).post(url, data).status_code == 302
    assert PracticeSettings.load().further_copy_fee == Decimal("4.25")
    refused = confirm_recently(client_for(owner)).post(url, {**data, "further_copy_fee": "-1"})
    assert refused.status_code == 200 and "further_copy_fee" in refused.context["form"].errors
