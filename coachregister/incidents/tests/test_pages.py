"""The incident pages per role (art. 4.1c; art. 13.6 for a processor's report): owners and
the administrator register and handle incidents; only an owner records the notification to
the authority; coaches, third parties and the auditor have no access."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from coachregister.audit.models import Event
from coachregister.incidents import services
from coachregister.incidents.models import AuthorityNotification, Incident

pytestmark = [pytest.mark.django_db]


def moment(value: object) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def form(**extra: object) -> dict[str, object]:
    values: dict[str, object] = {
        "summary": "Phishingmail geopend door een coach.",
        "aware_at": moment(timezone.now() - timedelta(hours=5)),
        "reported_by": "staff", "data_categories": ["contact", "keywords"],
    }
    values.update(extra)
    return values


def incident(owner: object) -> Incident:
    return services.incident_register(
        actor=owner, request=None, summary="Laptop gestolen.", reported_by="staff",
        aware_at=timezone.now() - timedelta(hours=30))


@pytest.mark.article("4.1c")
def test_the_administrator_registers_an_incident_through_the_page(
    administrator, client_for
) -> None:
    response = client_for(administrator).post(reverse("incidents:new"), form())
    created = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("incidents:detail", args=[created.pk])
    assert created.registered_by == administrator
    assert created.data_categories == ["contact", "keywords"]
    assert services.text(created, "summary") == "Phishingmail geopend door een coach."


@pytest.mark.article("13.6")
def test_a_processors_report_is_registered_with_the_processor_named(owner, client_for) -> None:
    client = client_for(owner)
    missing = client.post(reverse("incidents:new"), form(reported_by="processor"))
    assert missing.status_code == 200 and not Incident.objects.exists()
    client.post(reverse("incidents:new"),
                form(reported_by="processor", processor_name="Microsoft"))
    created = Incident.objects.get()
    assert (created.reported_by, created.processor_name) == ("processor", "Microsoft")


@pytest.mark.article("4.1c")
def test_the_detail_page_shows_the_hours_left_and_is_audited(owner, client_for) -> None:
    registered = incident(owner)
    page = client_for(owner).get(reverse("incidents:detail", args=[registered.pk]))
    text = page.content.decode()
    assert "Laptop gestolen." in text
    assert 'data-testid="incident-clock"' in text
    assert "41 " in text  # 72 - 30 hours, rounded down
    assert Event.objects.filter(action="incidents.incident.viewed",
                                object_id=str(registered.pk)).count() == 1
    listing = client_for(owner).get(reverse("incidents:list")).content.decode()
    assert registered.code in listing


@pytest.mark.article("4.1c")
def test_coaches_third_parties_and_the_auditor_have_no_access(
    owner, coach, third_party, auditor, client_for
) -> None:
    registered = incident(owner)
    for user in (coach, third_party, auditor):
        client = client_for(user)
        for name, args in (("incidents:list", []), ("incidents:new", []),
                           ("incidents:detail", [registered.pk]),
                           ("incidents:edit", [registered.pk])):
            response = client.get(reverse(name, args=args))
            assert response.status_code == 403, (user.role, name)
            assert "Laptop" not in response.content.decode()
        client.post(reverse("incidents:assess", args=[registered.pk]),
                    {"assess-risk": "unlikely", "assess-reasons": "x"})
    registered.refresh_from_db()
    assert registered.risk == ""


@pytest.mark.article("4.1c")
def test_only_an_owner_records_the_notification_through_the_page(
    owner, administrator, client_for
) -> None:
    registered = incident(owner)
    admin = client_for(administrator)
    admin.post(reverse("incidents:assess", args=[registered.pk]),
               {"assess-risk": "risk", "assess-reasons": "Adressen van coachees."})
    registered.refresh_from_db()
    assert registered.risk == "risk"
    data = {"notify-submitted_at": moment(timezone.now() - timedelta(hours=1)),
            "notify-reference": "AP-2026-1"}
    assert admin.post(reverse("incidents:notify", args=[registered.pk]), data).status_code == 403
    assert not AuthorityNotification.objects.exists()
    client_for(owner).post(reverse("incidents:notify", args=[registered.pk]), data)
    assert AuthorityNotification.objects.get().reference == "AP-2026-1"


@pytest.mark.article("4.1c")
def test_a_changed_awareness_through_the_edit_page_is_audited(owner, client_for) -> None:
    registered = incident(owner)
    new_moment = timezone.now() - timedelta(hours=50)
    client_for(owner).post(reverse("incidents:edit", args=[registered.pk]),
                           form(summary="Laptop gestolen.", aware_at=moment(new_moment)))
    event = Event.objects.get(action="incidents.incident.aware_changed")
    assert event.detail["old"] == services.iso(registered.aware_at)
    assert event.detail["new"] == services.iso(new_moment.replace(second=0, microsecond=0))


@pytest.mark.article("4.1c")
def test_contact_details_open_inside_an_open_incident_that_affects_the_coachee(
    owner, coach, rf
) -> None:
    from django.core.exceptions import ValidationError

    from coachregister.coachees import access
    from coachregister.incidents.models import AffectedCoachee
    from coachregister.testing import factories

    coachee = factories.trajectory(owner, coach).coachee
    other = factories.trajectory(owner, coach, contact=factories.person(2)).coachee
    registered = incident(owner)
    AffectedCoachee.objects.create(incident=registered, coachee=coachee,
                                   pseudonym=coachee.pseudonym)
    request = rf.get("/")
    request.user = owner
    task = f"incident:{registered.pk}"
    assert (task, f"Incident {registered.code}") in [
        (t, str(label)) for t, label in access.open_tasks(coachee)]
    assert access.contact_details(request=request, coachee=coachee,
                                  purpose=access.Purpose(task=task)).first_name == "Anne"
    with pytest.raises(ValidationError):  # not affected by this incident
        access.contact_details(request=request, coachee=other, purpose=access.Purpose(task=task))
    Incident.objects.filter(pk=registered.pk).update(closed_at=timezone.now())
    with pytest.raises(ValidationError):  # the incident is closed
        access.contact_details(request=request, coachee=coachee,
                               purpose=access.Purpose(task=task))


@pytest.mark.article("4.1c")
def test_saving_the_edit_form_unchanged_does_not_move_the_clock(owner, client_for) -> None:
    registered = incident(owner)  # aware 30 hours ago, with seconds
    client = client_for(owner)
    page = client.get(reverse("incidents:edit", args=[registered.pk]))
    form_data = {field.html_name: field.value() for field in page.context["form"]}
    form_data = {k: v for k, v in form_data.items() if v not in (None, "")}
    form_data["aware_at"] = moment(registered.aware_at)
    client.post(reverse("incidents:edit", args=[registered.pk]), form_data)
    stored = registered.aware_at
    registered.refresh_from_db()
    assert registered.aware_at == stored
    assert not Event.objects.filter(action="incidents.incident.aware_changed").exists()
