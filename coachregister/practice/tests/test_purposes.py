"""The purposes the register allows (art. 2.1, 2.2): the built-in one and those the owner
adds with their basis; the owner adds and retires, the administrator reads."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.practice import services
from coachregister.practice.models import ProcessingPurpose

pytestmark = [pytest.mark.django_db]
SETTINGS = reverse("practice:settings")


@pytest.mark.article("2.1")
def test_the_builtin_purpose_is_listed_and_stays(owner: User) -> None:
    coaching = ProcessingPurpose.coaching()
    assert coaching.active and coaching.basis == "agreement"
    with pytest.raises(ValidationError):
        services.purpose_retire(actor=owner, request=None, purpose=coaching)
    assert ProcessingPurpose.coaching().active


@pytest.mark.article("2.2")
def test_the_owner_adds_a_purpose_with_its_basis_and_retires_it(owner: User) -> None:
    purpose = services.purpose_add(actor=owner, request=None, name="  Verzuim  begeleiding ",
                                   basis="consent")
    assert (purpose.name, purpose.basis, purpose.active) == ("Verzuim begeleiding", "consent",
                                                            True)
    with pytest.raises(ValidationError):  # the same purpose twice
        services.purpose_add(actor=owner, request=None, name="verzuim begeleiding",
                             basis="consent")
    with pytest.raises(ValidationError):
        services.purpose_add(actor=owner, request=None, name="Iets", basis="because")
    services.purpose_retire(actor=owner, request=None, purpose=purpose)
    purpose.refresh_from_db()
    assert not purpose.active  # retired, never deleted: earlier records keep naming it
    added = Event.objects.get(action="practice.purpose.added")
    assert (added.object_id, added.detail) == (str(purpose.pk), {"basis": "consent"})
    assert Event.objects.filter(action="practice.purpose.retired").count() == 1


@pytest.mark.article("2.1")
@pytest.mark.parametrize("role", ["administrator", "coach"])
def test_only_an_owner_changes_the_list(role: str, make_user: Callable[..., User],
                                        owner: User) -> None:
    purpose = services.purpose_add(actor=owner, request=None, name="Re-integratie",
                                   basis="consent")
    user = make_user(role)
    with pytest.raises(PermissionDenied):
        services.purpose_add(actor=user, request=None, name="Ander doel", basis="consent")
    with pytest.raises(PermissionDenied):
        services.purpose_retire(actor=user, request=None, purpose=purpose)
    assert ProcessingPurpose.objects.filter(active=True).count() == 2


@pytest.mark.article("2.1")
def test_the_settings_page_lists_them_owner_edits_administrator_reads(
    owner: User, administrator: User, client_for: Callable[[User], Client]
) -> None:
    as_owner = client_for(owner)
    response = as_owner.post(reverse("practice:purpose_add"),
                             {"purpose-name": "Re-integratie", "purpose-basis": "consent"})
    assert response.status_code == 302
    purpose = ProcessingPurpose.objects.get(name="Re-integratie")
    html = as_owner.get(SETTINGS).content.decode()
    assert "Re-integratie" in html and reverse("practice:purpose_retire",
                                               args=[purpose.pk]) in html
    as_admin = client_for(administrator)
    html = as_admin.get(SETTINGS).content.decode()
    assert "Re-integratie" in html and str(ProcessingPurpose.coaching().label) in html
    assert reverse("practice:purpose_add") not in html
    assert as_admin.post(reverse("practice:purpose_retire", args=[purpose.pk])).status_code == 403
    as_owner.post(reverse("practice:purpose_retire", args=[purpose.pk]))
    purpose.refresh_from_db()
    assert not purpose.active
