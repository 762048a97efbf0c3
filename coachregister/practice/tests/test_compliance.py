"""The compliance overview: each promise red when it is broken for real (through the
services, with the clock moved), green once it is kept again; its PDF; the auditor's
counts-only view; who may see it; a flat number of queries."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from coachregister.accounts.models import Role, User
from coachregister.audit.engagements import engagement_open
from coachregister.audit.models import Event
from coachregister.lib.deadlines import PRACTICE_TZ
from coachregister.practice import compliance
from coachregister.testing import factories
from coachregister.testing.factories import person

pytestmark = pytest.mark.django_db


def at(day: date, hour: int = 12) -> time_machine.travel:
    return time_machine.travel(datetime.combine(day, time(hour), tzinfo=PRACTICE_TZ),
                               tick=False)


def row(key: str) -> compliance.Row:
    return next(r for r in compliance.rows() if r.key == key)


def open_window(owner: User, auditor: User, *, days: int = 30) -> None:
    now = timezone.now()
    engagement_open(actor=owner, request=None, auditor=auditor,
                    window_from=now - timedelta(days=1), window_until=now + timedelta(days=days),
                    sample_size=1)


@pytest.mark.article("7.1")
def test_an_overdue_request_is_red_until_it_is_answered(owner: User, coach: User) -> None:
    from coachregister.rights import services as rights

    received = date(2026, 3, 2)
    with at(received):
        trajectory = factories.trajectory(owner, coach)
        data_request = rights.request_register(
            actor=owner, request=None, coachee=trajectory.coachee, kind="erasure",
            channel="letter", verification="identiteitsbewijs gezien")
        assert row("requests").status == "green"
    with at(data_request.due - timedelta(days=2)):
        assert row("requests").status == "amber"
    with at(data_request.due + timedelta(days=1)):
        overdue = row("requests")
        assert overdue.status == "red"
        assert overdue.counts == {"open": 1, "overdue": 1, "soon": 1}
        rights.request_decide(actor=owner, request=None, data_request=data_request,
                              decision="refused", justification="Gerechtvaardigd belang.")
        answered = row("requests")
    assert answered.status == "green" and answered.counts["open"] == 0


@pytest.mark.article("10.2")
def test_a_coachee_past_the_purge_day_is_red_until_purged(owner: User, coach: User) -> None:
    from coachregister.retention.services import hold_lift, hold_set, purge_run
    from coachregister.trajectories.services import trajectory_end

    with at(date(2018, 5, 7)):
        trajectory = factories.trajectory(owner, coach, contact=person(1))
        trajectory_end(actor=owner, request=None, trajectory=trajectory, broken_off=False)
    with at(date(2025, 5, 7)):  # the expiry date itself: still kept
        assert row("purge").status == "green"
    with at(date(2025, 5, 9)):
        past = row("purge")
        assert past.status == "red" and past.counts == {"count": 1}
        hold = hold_set(actor=owner, request=None, coachee=trajectory.coachee,
                        reason="Geschil over de facturatie", until=date(2025, 6, 1))
        assert row("purge").status == "green"  # a standing hold keeps the coachee
        hold_lift(actor=owner, request=None, hold=hold)
        assert row("purge").status == "red"
        assert purge_run().purged == 1
        assert row("purge").status == "green"


@pytest.mark.article("4.1c")
def test_a_breach_not_notified_in_72_hours_is_red_until_notified(owner: User) -> None:
    from coachregister.incidents import services as incidents

    aware = datetime(2026, 4, 6, 9, 0, tzinfo=PRACTICE_TZ)
    with time_machine.travel(aware + timedelta(hours=1), tick=False):
        incident = incidents.incident_register(
            actor=owner, request=None, summary="Laptop kwijt in de trein.", aware_at=aware,
            reported_by="staff")
        incidents.incident_assess(actor=owner, request=None, incident=incident, risk="risk",
                                  reasons="Onversleutelde export op de laptop.")
        assert row("incidents").status == "green"
    with time_machine.travel(aware + timedelta(hours=50), tick=False):
        soon = row("incidents")
        assert soon.status == "amber" and soon.counts["hours_left"] == 22
    with time_machine.travel(aware + timedelta(hours=75), tick=False):
        late = row("incidents")
        assert late.status == "red" and late.counts["running"] == 1
        incidents.authority_notification_record(
            actor=owner, request=None, incident=incident, submitted_at=timezone.now(),
            reference="AP-2026-1", delay_reasons="Het onderzoek duurde langer.")
        notified = row("incidents")
    assert notified.status == "green"
    assert notified.counts == {"open": 1, "running": 0}


@pytest.mark.article("11")
def test_a_complaint_past_its_date_is_red_until_decided(owner: User, coach: User) -> None:
    from coachregister.complaints import services as complaints

    with at(date(2026, 2, 2)):
        trajectory = factories.trajectory(owner, coach)
        complaint = complaints.complaint_file(
            actor=owner, request=None, coachee=trajectory.coachee, topic="regulation",
            channel="letter", text="Mijn verzoek bleef liggen.")
        assert row("complaints").status == "green"
    with at(complaint.acknowledge_due + timedelta(days=1)):
        assert row("complaints").counts["overdue"] == 1
        assert row("complaints").status == "red"
        complaints.complaint_acknowledge(actor=owner, request=None, complaint=complaint)
        complaint.refresh_from_db()
        assert row("complaints").status in ("green", "amber")  # now the decision's date
    with at(complaint.decide_due + timedelta(days=1)):
        assert row("complaints").status == "red"
        complaints.complaint_decide(actor=owner, request=None, complaint=complaint,
                                    outcome="upheld", reasons="Het verzoek is alsnog beantwoord.")
        assert row("complaints").counts == {"open": 0, "overdue": 0, "soon": 0}
        assert row("complaints").status == "green"


def pdf_text(content: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as pdf:
        pdf.write(content)
        pdf.flush()
        text = subprocess.run(["pdftotext", pdf.name, "-"], capture_output=True, text=True,
                              check=True).stdout
    return " ".join(text.split())


@pytest.mark.article("5.4")
def test_the_pdf_lists_every_row_with_its_status(
    owner: User, coach: User, client_for: Callable[[User], Client]
) -> None:
    from coachregister.rights import services as rights

    trajectory = factories.trajectory(owner, coach)
    with at(date(2026, 1, 5)):
        rights.request_register(actor=owner, request=None, coachee=trajectory.coachee,
                                kind="access", channel="letter", verification="gezien")
    response = client_for(owner).get(reverse("practice:compliance_pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    with override("nl"):
        expected = compliance.rows()
        labels = [r.label for r in expected]
        red = expected[0].status_text
    assert expected[0].key == "requests" and expected[0].status == "red"
    for label in labels:
        assert " ".join(label.split()) in text
    assert red in text
    assert Event.objects.filter(action="practice.compliance.downloaded", actor_id=owner.pk,
                                detail__red__gte=1).exists()


@pytest.mark.article("5.4")
def test_the_auditor_in_a_window_sees_the_counts_without_links(
    owner: User, coach: User, auditor: User, client_for: Callable[[User], Client]
) -> None:
    factories.trajectory(owner, coach)
    open_window(owner, auditor)
    owner_page = client_for(owner).get(reverse("practice:compliance")).content.decode()
    auditor_page = client_for(auditor).get(reverse("practice:compliance")).content.decode()
    records = [reverse(name) for name in ("rights:list", "incidents:list", "complaints:list",
                                          "retention:overview", "audit:event_list")]
    for url in records:
        assert f'href="{url}"' in owner_page
        assert f'href="{url}"' not in auditor_page
    assert auditor_page.count('data-testid="compliance-row"') == len(compliance.rows())
    assert "0 open, 0" in auditor_page  # the counts are there
    assert Event.objects.filter(action="practice.compliance.viewed", actor_id=auditor.pk,
                                object_type="compliance").exists()
    detail = Event.objects.filter(action="practice.compliance.viewed").last().detail
    assert set(detail) == {"red", "amber", "green"}  # counts only


@pytest.mark.article("5.4")
def test_who_may_see_the_overview(
    owner: User, administrator: User, coach: User, third_party: User, auditor: User,
    make_user: Callable[..., User], client_for: Callable[[User], Client],
) -> None:
    url = reverse("practice:compliance")
    late_auditor = make_user(Role.AUDITOR)
    now = timezone.now()
    factories.trajectory(owner, coach)
    engagement_open(actor=owner, request=None, auditor=late_auditor,
                    window_from=now - timedelta(days=40), window_until=now - timedelta(days=1),
                    sample_size=1)
    for user in (owner, administrator):
        assert client_for(user).get(url).status_code == 200
    for user in (coach, third_party, auditor, late_auditor):  # `auditor`: no engagement
        assert client_for(user).get(url).status_code == 403
        assert client_for(user).get(reverse("practice:compliance_pdf")).status_code == 403
    assert Client().get(url).status_code == 302
    denied = Event.objects.filter(action="accounts.access.denied", outcome="denied").count()
    assert denied == 8
    assert row("denied").counts == {"count": 8} and row("denied").status == "amber"


@pytest.mark.article("5.4")
def test_the_dashboard_links_the_overview_for_who_may_see_it(
    owner: User, coach: User, auditor: User, client_for: Callable[[User], Client]
) -> None:
    url = reverse("practice:compliance")

    def linked(user: User) -> bool:
        return f'href="{url}"' in client_for(user).get(reverse("accounts:dashboard")).content.decode()

    assert linked(owner) and not linked(coach)
    assert not linked(auditor)  # no engagement window: the link would be refused
    factories.trajectory(owner, coach)
    open_window(owner, auditor)
    assert linked(auditor)


@pytest.mark.article("5.4")
def test_the_page_takes_a_flat_number_of_queries(
    owner: User, coach: User, client_for: Callable[[User], Client],
    django_assert_max_num_queries: Callable[..., object],
) -> None:
    from coachregister.complaints.services import complaint_file
    from coachregister.incidents.services import incident_register
    from coachregister.rights import services as rights

    client = client_for(owner)
    url = reverse("practice:compliance")

    def more(n: int) -> None:
        for i in range(n):
            trajectory = factories.trajectory(owner, coach, contact=person(i))
            rights.request_register(actor=owner, request=None, coachee=trajectory.coachee,
                                    kind="access", channel="letter", verification="gezien")
            complaint_file(actor=owner, request=None, coachee=trajectory.coachee,
                           topic="regulation", channel="letter", text="Het duurde lang.")
            incident_register(actor=owner, request=None, summary="Een mail verkeerd verstuurd.",
                              aware_at=timezone.now() - timedelta(hours=3), reported_by="staff")

    more(1)
    bound = 36  # sign-in, session and audit included; 35 when measured
    with django_assert_max_num_queries(bound):
        assert client.get(url).status_code == 200
    more(4)
    with django_assert_max_num_queries(bound):
        response = client.get(url)
    assert response.status_code == 200
    incidents = next(r for r in response.context["rows"] if r.key == "incidents")
    assert incidents.counts["open"] == 5


@pytest.mark.article("5.1")
def test_the_denied_count_has_its_plural() -> None:
    from django.utils.translation import override

    from coachregister.audit.services import event_record

    def row() -> str:
        with override("en"):
            return next(r for r in compliance.rows() if r.key == "denied").value

    assert row() == "0 denied accesses in the last 30 days"
    event_record(action="accounts.access.denied", outcome="denied")
    assert row() == "1 denied access in the last 30 days"
    event_record(action="accounts.access.denied", outcome="denied")
    assert row() == "2 denied accesses in the last 30 days"
