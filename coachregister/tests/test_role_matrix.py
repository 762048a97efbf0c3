"""The authorization matrix (art. 5.1-5.4): every URL pattern, every role, own and foreign
object, GET and POST, against ONE declared table.

The world is built once per module through the services (the same road the practice takes):
a coach with a trajectory ("own"), another coach with another coachee, a trajectory of a
third coach ("foreign"), third parties in and out of scope and one past its contract end,
auditors in and out of the sample and one whose window is over, and a coachee signed in to
the portal. Each request runs in a savepoint that is rolled back, so a POST that carries
something out cannot change what the next role sees. Allowed POSTs send an invalid form
(nothing is carried out; the row counts below are compared), except the few views without a
form, which say so with `carries_out=True`.

Outcomes are symbolic: OK = 2xx/3xx not to the sign-in page, DENY = 403 or 404, LOGIN = a
redirect to sign in, PORTAL = a redirect to the portal's start page, or an exact status.
A foreign object never answers OK to anyone but the register's runners.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from coachregister.accounts.models import ConfidentialityAcceptance, Role, User
from coachregister.conftest import PASSWORD, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.article("5.1")]

# --- roles ---------------------------------------------------------------------------------

OWNER = "owner"
ADMIN = "administrator"
COACH = "coach"  # the coach of the own trajectory
OTHER_COACH = "other_coach"  # coach of another coachee
TP_IN = "third_party_in_scope"
TP_OUT = "third_party_out_of_scope"
TP_EXPIRED = "third_party_after_contract_end"
AUD_IN = "auditor_in_sample_and_window"
AUD_OUT = "auditor_out_of_sample"
AUD_PAST = "auditor_outside_window"
ANON = "anonymous"
COACHEE = "coachee_in_portal"  # no staff account: a portal session for the own coachee

ROLES = (OWNER, ADMIN, COACH, OTHER_COACH, TP_IN, TP_OUT, TP_EXPIRED, AUD_IN, AUD_OUT,
         AUD_PAST, ANON, COACHEE)
MANAGERS = {OWNER, ADMIN}
AUDITORS = {AUD_IN, AUD_OUT, AUD_PAST}
SIGNED_OUT = {ANON, COACHEE, TP_EXPIRED}  # the expired contract's session no longer counts
STAFF = set(ROLES) - SIGNED_OUT
SEES_OWN = {COACH, TP_IN, AUD_IN}  # those who see the own trajectory besides the managers

# --- outcomes ------------------------------------------------------------------------------

OK, DENY, LOGIN, PORTAL = "ok", "deny", "login", "portal"
Outcome = str | int
Expect = dict[str, tuple[Outcome, Outcome]]  # role -> (own object, foreign object)


def page(ok: set[str] = frozenset(), own: set[str] = frozenset(), *,  # type: ignore[assignment]
         signed_out: Outcome = LOGIN, others: Outcome = DENY, **exact: Outcome | tuple) -> Expect:
    """`ok` may open own and foreign objects, `own` only the own one; the rest are refused,
    the signed-out sent to sign in. `exact` overrides one role (role name as keyword)."""
    table: Expect = {}
    for role in ROLES:
        if role in SIGNED_OUT:
            table[role] = (signed_out, signed_out)
        elif role in ok:
            table[role] = (OK, OK)
        elif role in own:
            table[role] = (OK, DENY)
        else:
            table[role] = (others, others)
    for key, value in exact.items():
        role = globals()[key]
        table[role] = value if isinstance(value, tuple) else (value, value)
    return table


def everyone(outcome: Outcome) -> Expect:
    return {role: (outcome, outcome) for role in ROLES}


def post_only(post: Expect) -> Expect:
    """The GET answer of a POST-only view: 405 where the view is reached, else as for POST."""
    return {
        role: tuple(405 if o not in (DENY, LOGIN, PORTAL) else o for o in both)  # type: ignore[misc]
        for role, both in post.items()
    }


def roles_then_post_only(post: Expect) -> Expect:
    """`@roles_required` outside `@require_POST`: the role is refused before the method."""
    return {
        role: (405, 405) if OK in both else (DENY if role not in SIGNED_OUT else LOGIN,) * 2
        for role, both in post.items()
    }


# --- the world -----------------------------------------------------------------------------


@dataclass
class World:
    users: dict[str, User] = field(default_factory=dict)
    own: dict[str, Any] = field(default_factory=dict)
    foreign: dict[str, Any] = field(default_factory=dict)


def _user(role: str, name: str, statement: object, **fields: Any) -> User:
    user = User(username=name, full_name=name.title(), email=f"{name}@staff.example", role=role,
                **fields)
    user.set_password(PASSWORD)
    user.save()
    ConfidentialityAcceptance.objects.create(user=user, statement=statement)
    return user


def build_world() -> World:
    from coachregister.accounts import services as accounts
    from coachregister.accounts.models import ThirdPartyScope
    from coachregister.audit.engagements import engagement_open
    from coachregister.coachees.models import Coachee
    from coachregister.coachees.vault import Contact
    from coachregister.disclosures import services as disclosures
    from coachregister.notes.services import session_record
    from coachregister.practice.models import PracticeSettings, ProcessingPurpose
    from coachregister.rights import services as rights
    from coachregister.testing import factories
    from coachregister.trajectories.services import trajectory_end

    practice = PracticeSettings.load()
    practice.name = "Testpraktijk"
    practice.office_networks = "127.0.0.0/8\n192.0.2.0/24"
    practice.save()
    statement = accounts.statement_publish(actor=None, request=None)
    today = timezone.localdate()
    w = World()
    u = w.users
    u[OWNER] = _user(Role.OWNER, "owner", statement)
    u[ADMIN] = _user(Role.ADMINISTRATOR, "admin", statement)
    u[COACH] = _user(Role.COACH, "coach", statement)
    u[OTHER_COACH] = _user(Role.COACH, "othercoach", statement)
    foreign_coach = _user(Role.COACH, "foreigncoach", statement)
    contract = {"contract_reference": "C-1", "contract_end": today + timedelta(days=30)}
    u[TP_IN] = _user(Role.THIRD_PARTY, "tpin", statement, **contract)
    u[TP_OUT] = _user(Role.THIRD_PARTY, "tpout", statement, **contract)
    u[TP_EXPIRED] = _user(Role.THIRD_PARTY, "tpexpired", statement, contract_reference="C-2",
                          contract_end=today - timedelta(days=1))
    for role, name in ((AUD_IN, "audin"), (AUD_OUT, "audout"), (AUD_PAST, "audpast")):
        u[role] = _user(Role.AUDITOR, name, statement)
    owner = u[OWNER]

    def person(n: int) -> Contact:
        first = ["Anne", "Bram", "Cora", "Daan", "Eva"][n]
        return Contact(first, "de Vries", f"{first.lower()}@voorbeeld.example",
                       f"+3161234567{n}")

    now = timezone.now()
    # The other coach's coachee: the only dossier in the out-of-sample auditor's sample.
    aux = factories.trajectory(owner, u[OTHER_COACH], contact=person(0))
    engagement_open(actor=owner, request=None, auditor=u[AUD_OUT], window_from=now - timedelta(
        days=1), window_until=now + timedelta(days=30), sample_size=1)
    own = factories.trajectory(owner, u[COACH], contact=person(1))
    own_ended = factories.trajectory(owner, u[COACH], contact=person(2))
    # Everything so far is in these two samples; the foreign dossiers come after.
    w.own["engagement"] = engagement_open(
        actor=owner, request=None, auditor=u[AUD_IN], window_from=now - timedelta(days=1),
        window_until=now + timedelta(days=30), sample_size=500).pk
    engagement_open(actor=owner, request=None, auditor=u[AUD_PAST],
                    window_from=now - timedelta(days=60), window_until=now - timedelta(days=30),
                    sample_size=500)
    w.foreign["engagement"] = u[AUD_OUT].engagements.get().pk
    foreign = factories.trajectory(owner, foreign_coach, contact=person(3))
    foreign_ended = factories.trajectory(owner, foreign_coach, contact=person(4))
    for user, trajectories in ((u[TP_IN], [own, own_ended]), (u[TP_OUT], [aux]),
                               (u[TP_EXPIRED], [own, own_ended])):
        ThirdPartyScope.objects.bulk_create(
            ThirdPartyScope(user=user, trajectory=t) for t in trajectories)
    doctor = disclosures.recipient_save(actor=owner, request=None, name="Bedrijfsarts",
                                        kind="doctor")
    purpose = factories.purpose(owner, "Afstemming re-integratie")
    for side, trajectory, ended, coach in ((w.own, own, own_ended, u[COACH]),
                                           (w.foreign, foreign, foreign_ended, foreign_coach)):
        coachee = trajectory.coachee
        side["trajectory"] = trajectory.pseudonym
        side["coachee"] = coachee.pseudonym
        side["coachee_pk"] = coachee.pk
        side["client"] = trajectory.client_id
        side["session"] = session_record(
            actor=coach, request=None, trajectory=trajectory, held_on=today, kind="in_person",
            duration_minutes=60, keywords="werkdruk, grenzen stellen").pk
        side["paper_task"] = trajectory_end(
            actor=owner, request=None, trajectory=ended, broken_off=False).pk
        side["consent"] = disclosures.consent_record(
            actor=owner, request=None, coachee=coachee, recipient=doctor,
            processing_purpose=purpose, text="Ik geef toestemming.", text_version="1",
            method="paper").pk
        side["proposal"] = disclosures.proposal_prepare(
            actor=owner, request=None, coachee=coachee, recipient=doctor,
            processing_purpose=purpose, categories=["contact"], basis="consent").pk
        side["purpose"] = ProcessingPurpose.coaching().pk  # the built-in one: not retired
        data_request = rights.request_register(
            actor=owner, request=None, coachee=coachee, kind="erasure", channel="letter",
            verification="identiteitsbewijs gezien")
        rights.request_decide(actor=owner, request=None, data_request=data_request,
                              decision="refused", justification="Gerechtvaardigd belang.")
        side["request"] = data_request.pk
        side["letter"] = data_request.letters.get().pk
    from coachregister.retention import mailbox
    from coachregister.retention.services import hold_set

    for side in (w.own, w.foreign):  # a hold and a mailbox task (its coach's) per side
        coachee = Coachee.objects.get(pk=side["coachee_pk"])
        side["hold"] = hold_set(actor=owner, request=None, coachee=coachee,
                                reason="Geschil over de facturatie",
                                until=today + timedelta(days=30)).pk
        side["mailbox_task"] = mailbox.mailbox_tasks_create(coachee=coachee)[0].pk
    from coachregister.complaints import services as complaints

    for side in (w.own, w.foreign):  # art. 11: an acknowledged complaint with its letter
        complaint = complaints.complaint_file(
            actor=owner, request=None, coachee=Coachee.objects.get(pk=side["coachee_pk"]),
            topic="regulation", channel="letter", text="Mijn verzoek bleef liggen.")
        complaints.complaint_acknowledge(actor=owner, request=None, complaint=complaint)
        side["complaint"] = complaint.pk
        side["complaint_letter"] = complaint.letters.get().pk
    from coachregister.incidents.services import incident_register

    for side in (w.own, w.foreign):  # art. 4.1c: incidents are the practice's, not a coachee's
        side["incident"] = incident_register(
            actor=owner, request=None, summary="Laptop kwijt in de trein.",
            aware_at=now - timedelta(hours=2), reported_by="staff").pk
    w.own["user"] = u[TP_IN].pk  # a user both managers may manage
    w.foreign["user"] = owner.pk  # an owner: only owners manage owners (art. 4.1b)
    return w


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """Built once for the module inside a transaction that is rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


def clients_for(w: World) -> dict[str, Client]:
    """One client per role, each from its own office address (the public pages throttle per
    address)."""
    from coachregister.rights import portal

    clients = {}
    for n, role in enumerate(ROLES, start=10):
        client = Client(REMOTE_ADDR=f"127.0.0.{n}")
        if role in w.users:
            sign_in(client, w.users[role])
        elif role == COACHEE:
            session = client.session
            session[portal.SESSION_COACHEE] = w.own["coachee_pk"]
            session.save()
        clients[role] = client
    return clients


# --- the table -----------------------------------------------------------------------------


def by(key: str, name: str = "") -> Callable[[World, dict[str, Any]], dict[str, Any]]:
    """URL kwargs from the own or foreign side of the world."""
    return lambda w, side: {name or key: side[key]}


@dataclass
class Row:
    get: Expect
    post: Expect
    kwargs: Callable[[World, dict[str, Any]], dict[str, Any]] | None = None
    data: dict[str, Any] = field(default_factory=dict)  # the (invalid) POST body
    carries_out: bool = False  # no form to make invalid: the allowed POST does its work


TRAJECTORY = by("trajectory", "pseudonym")
COACHEE_PS = by("coachee", "pseudonym")
VISIBLE = page(MANAGERS, SEES_OWN)  # trajectories/access.py: own, scope, sample
STAFF_OK = page(STAFF)

TABLE: dict[str, Row] = {
    # public pages
    "set_language": Row(everyone(OK), everyone(OK)),
    "coachees:intake_start": Row(everyone(OK), everyone(OK)),
    "coachees:intake_form": Row(everyone(OK), everyone(OK)),  # no invitation: to the start
    "coachees:intake_done": Row(everyone(OK), everyone(OK)),
    "coachees:intake_link": Row(everyone(404), everyone(404), lambda w, s: {"token": "x"}),
    "rights:portal_start": Row(everyone(OK), everyone(OK)),
    "rights:portal_enter": Row(everyone(410), everyone(410), lambda w, s: {"token": "x"}),
    "rights:portal_home": Row(page(signed_out=PORTAL, others=PORTAL, COACHEE=OK),
                              page(signed_out=PORTAL, others=PORTAL, COACHEE=OK)),
    "rights:portal_json": Row(page(signed_out=PORTAL, others=PORTAL, COACHEE=OK),
                              page(signed_out=PORTAL, others=PORTAL, COACHEE=OK)),
    "rights:portal_letter": Row(page(signed_out=PORTAL, others=PORTAL, COACHEE=(OK, DENY)),
                                page(signed_out=PORTAL, others=PORTAL, COACHEE=(OK, DENY)),
                                by("letter", "pk")),
    "rights:portal_withdraw": Row(everyone(405),
                                  page(signed_out=PORTAL, others=PORTAL, COACHEE=(OK, DENY)),
                                  by("consent", "pk"), carries_out=True),
    "rights:portal_leave": Row(everyone(405), everyone(OK)),
    # GDPR art. 7(3): the choice after withdrawing the consent for keywords.
    "rights:portal_keywords_withdraw": Row(page(signed_out=PORTAL, others=PORTAL, COACHEE=OK),
                                           page(signed_out=PORTAL, others=PORTAL, COACHEE=OK)),
    # Art. 7.1: anyone's question; the matrix's POST is an invalid form (nothing stored).
    "rights:portal_inquiry": Row(everyone(405), everyone(OK)),
    # signing in and one's own account
    "accounts:login": Row(everyone(OK), everyone(OK)),
    "accounts:login_verify": Row(everyone(LOGIN), everyone(LOGIN)),  # no pending first step
    "accounts:logout": Row(post_only(STAFF_OK), everyone(LOGIN), carries_out=True),
    "accounts:dashboard": Row(STAFF_OK, STAFF_OK),
    "accounts:account": Row(STAFF_OK, STAFF_OK),
    "accounts:password_change": Row(STAFF_OK, STAFF_OK),
    "accounts:two_factor_enrol": Row(STAFF_OK, STAFF_OK),
    "accounts:backup_codes": Row(post_only(STAFF_OK), STAFF_OK),  # none yet: back to account
    "accounts:sign_out_everywhere": Row(post_only(STAFF_OK), everyone(LOGIN), carries_out=True),
    "accounts:confidentiality": Row(STAFF_OK, STAFF_OK),
    "accounts:reauth": Row(STAFF_OK, STAFF_OK),  # "confirm it is you"; empty: asked again
    "accounts:statement_publish": Row(roles_then_post_only(page({OWNER})), page({OWNER}),
                                      carries_out=True),
    # user management (art. 4.1b, 5.3)
    "accounts:user_list": Row(page(MANAGERS), page(MANAGERS)),
    "accounts:user_new": Row(page(MANAGERS), page(MANAGERS)),
    "accounts:user_edit": Row(page({OWNER}, {ADMIN}), page({OWNER}, {ADMIN}), by("user", "pk")),
    "accounts:user_action": Row(
        roles_then_post_only(page({OWNER}, {ADMIN})), page({OWNER}, {ADMIN}),
        lambda w, s: {"pk": s["user"], "action": "scope"}, data={"trajectories": "x"}),
    # practice and audit
    "practice:settings": Row(page(MANAGERS), page(MANAGERS)),
    # art. 2.1, 2.2: only an owner adds or retires a purpose (empty form; the built-in one
    # is never retired)
    "practice:purpose_add": Row(roles_then_post_only(page({OWNER})), page({OWNER})),
    "practice:purpose_retire": Row(roles_then_post_only(page({OWNER})), page({OWNER}),
                                   by("purpose", "pk")),
    "audit:event_list": Row(page(MANAGERS), page(MANAGERS)),
    "audit:engagements": Row(page(MANAGERS | AUDITORS), page(MANAGERS | AUDITORS)),
    "audit:engagement": Row(page(MANAGERS, {AUD_IN}, AUD_OUT=(DENY, OK)),
                            page(MANAGERS, {AUD_IN}, AUD_OUT=(DENY, OK)), by("engagement", "pk")),
    # trajectories and clients
    "trajectories:list": Row(STAFF_OK, STAFF_OK),
    "trajectories:new": Row(page(MANAGERS), page(MANAGERS)),
    "trajectories:report": Row(page(MANAGERS | AUDITORS), page(MANAGERS | AUDITORS)),
    "trajectories:client_list": Row(page(MANAGERS), page(MANAGERS)),
    "trajectories:client_new": Row(page(MANAGERS), page(MANAGERS)),
    "trajectories:client_edit": Row(page(MANAGERS), page(MANAGERS), by("client", "pk")),
    "trajectories:detail": Row(VISIBLE, VISIBLE, TRAJECTORY),
    # `end` without an outcome: "choose how it ended", nothing ends. The form is checked
    # before the service refuses the read-only roles, so they get the same redirect here.
    "trajectories:action": Row(post_only(STAFF_OK), VISIBLE,
                               lambda w, s: {"pseudonym": s["trajectory"], "action": "end"}),
    # the dossier and its sessions (art. 3.1)
    "notes:dossier": Row(VISIBLE, VISIBLE, TRAJECTORY),
    # The form is shown to whoever sees the trajectory; only its coach may save
    # (notes/services.py refuses the rest on a valid form).
    "notes:session_new": Row(VISIBLE, VISIBLE, TRAJECTORY),
    "notes:session_edit": Row(page(own={COACH}), page(own={COACH}), by("session", "pk")),
    "notes:session_versions": Row(page(MANAGERS, {COACH}), page(MANAGERS, {COACH}),
                                  by("session", "pk")),
    # coachees and their contact details (art. 5.1)
    "coachees:list": Row(STAFF_OK, STAFF_OK),
    "coachees:contact": Row(VISIBLE, VISIBLE, COACHEE_PS),
    # disclosures (art. 1.10, 8.4)
    "disclosures:recipients": Row(page(MANAGERS), page(MANAGERS)),
    "disclosures:coachee": Row(page(MANAGERS), page(MANAGERS), COACHEE_PS),
    "disclosures:who_saw": Row(page(MANAGERS), page(MANAGERS), COACHEE_PS),
    "disclosures:consent_withdraw": Row(roles_then_post_only(page(MANAGERS)), page(MANAGERS),
                                        by("consent", "pk"), carries_out=True),
    # art. 9.1: a proposal still waiting for the coachee is not sent (refused with a message)
    "disclosures:proposal_action": Row(
        roles_then_post_only(page(MANAGERS)), page(MANAGERS),
        lambda w, s: {"pk": s["proposal"], "action": "send"}),
    # art. 9.2: the coachee's preview; an empty correction is refused on the page
    "disclosures:portal_proposal": Row(
        page(signed_out=PORTAL, others=PORTAL, COACHEE=(OK, DENY)),
        page(signed_out=PORTAL, others=PORTAL, COACHEE=(OK, DENY)), by("proposal", "pk")),
    # rights (art. 7, 8)
    "rights:list": Row(page(MANAGERS), page(MANAGERS)),
    "rights:new": Row(page(MANAGERS), page(MANAGERS), COACHEE_PS),
    "rights:detail": Row(page(MANAGERS), page(MANAGERS), by("request", "pk")),
    "rights:letter": Row(page(MANAGERS), page(MANAGERS), by("letter", "pk")),
    # art. 7.3: the world's request carries no fee: "no fee applies", nothing changes.
    "rights:fee_paid": Row(roles_then_post_only(page(MANAGERS)), page(MANAGERS),
                           by("request", "pk")),
    # Art. 7.1: the world's request has a coachee, so the step is refused with a message.
    "rights:inquiry_checked": Row(roles_then_post_only(page(MANAGERS)), page(MANAGERS),
                                  by("request", "pk")),
    "rights:inquiry_answer": Row(roles_then_post_only(page(MANAGERS)), page(MANAGERS),
                                 by("request", "pk")),
    # Not restricted: "nothing to lift", nothing changes.
    "rights:restriction_lift": Row(roles_then_post_only(page(MANAGERS)), page(MANAGERS),
                                   COACHEE_PS),
    # complaints (art. 4.1d, 11): the register's runners; the owner sets the procedure (an
    # empty form: nothing saved); an empty POST on a complaint neither acknowledges nor decides.
    "complaints:list": Row(page(MANAGERS), page(MANAGERS)),
    "complaints:procedure": Row(page(MANAGERS), page({OWNER})),
    "complaints:new": Row(page(MANAGERS), page(MANAGERS), COACHEE_PS),
    "complaints:detail": Row(page(MANAGERS), page(MANAGERS), by("complaint", "pk")),
    "complaints:letter": Row(page(MANAGERS), page(MANAGERS), by("complaint_letter", "pk")),
    "complaints:portal": Row(page(signed_out=PORTAL, others=PORTAL, COACHEE=OK),
                             page(signed_out=PORTAL, others=PORTAL, COACHEE=OK)),
    "complaints:portal_letter": Row(
        page(signed_out=PORTAL, others=PORTAL, COACHEE=(OK, DENY)),
        page(signed_out=PORTAL, others=PORTAL, COACHEE=(OK, DENY)), by("complaint_letter", "pk")),
    # art. 4.1e: the owners record decisions; the administrator and an auditor in the window
    # of an engagement read them (an empty form: nothing recorded).
    "practice:decisions": Row(page(MANAGERS | {AUD_IN, AUD_OUT}), page({OWNER})),
    # incidents (art. 4.1c, 13.6): the register's runners; only an owner records the
    # notification to the authority. Empty forms: nothing registered, assessed or recorded;
    # closing an unassessed incident is refused.
    "incidents:list": Row(page(MANAGERS), page(MANAGERS)),
    "incidents:new": Row(page(MANAGERS), page(MANAGERS)),
    "incidents:detail": Row(page(MANAGERS), page(MANAGERS), by("incident", "pk")),
    "incidents:edit": Row(page(MANAGERS), page(MANAGERS), by("incident", "pk")),
    "incidents:assess": Row(roles_then_post_only(page(MANAGERS)), page(MANAGERS),
                            by("incident", "pk")),
    "incidents:notify": Row(roles_then_post_only(page({OWNER})), page({OWNER}),
                            by("incident", "pk")),
    "incidents:close": Row(roles_then_post_only(page(MANAGERS)), page(MANAGERS),
                           by("incident", "pk")),
    # Affected coachees, the authority's form, the coachee notices, containment (issue 12):
    # the register's runners; empty forms select, save and send nothing; preparing the
    # notices of an unassessed incident is refused with a message.
    "incidents:affected": Row(page(MANAGERS), page(MANAGERS), by("incident", "pk")),
    "incidents:authority_form": Row(page(MANAGERS), roles_then_post_only(page(MANAGERS)),
                                    by("incident", "pk")),
    "incidents:authority_pdf": Row(page(MANAGERS), roles_then_post_only(page(MANAGERS)),
                                   by("incident", "pk")),
    "incidents:notice": Row(page(MANAGERS), page(MANAGERS), by("incident", "pk")),
    "incidents:notice_exception": Row(roles_then_post_only(page(MANAGERS)), page(MANAGERS),
                                      by("incident", "pk")),
    "incidents:notice_prepare": Row(roles_then_post_only(page(MANAGERS)), page(MANAGERS),
                                    by("incident", "pk")),
    "incidents:notice_confirm": Row(roles_then_post_only(page(MANAGERS)), page(MANAGERS),
                                    by("incident", "pk")),
    "incidents:containment": Row(roles_then_post_only(page(MANAGERS)), page(MANAGERS),
                                 lambda w, s: {"pk": s["incident"], "action": "block"}),
    # --- issue 13: processors and the record of processing activities (art. 13, GDPR 30) ---
    # Owners change the processors (art. 1.4), the administrator reads; the register is the
    # practice's, so own and foreign are the same processor. The record (GDPR 30) is also read
    # by an auditor inside an engagement window (art. 5.4); its versions by the managers.
    "practice:processors": Row(page(MANAGERS), page(MANAGERS)),
    "practice:processor_add": Row(page({OWNER}), page({OWNER})),
    "practice:processor_edit": Row(page({OWNER}), page({OWNER}), lambda w, s: {
        "pk": __import__("coachregister.practice.tests.processors_world",
                         fromlist=["processor_pk"]).processor_pk()}),
    "practice:processor_retire": Row(roles_then_post_only(page({OWNER})), page({OWNER}),
                                     lambda w, s: {"pk": __import__(
                                         "coachregister.practice.tests.processors_world",
                                         fromlist=["processor_pk"]).processor_pk()},
                                     carries_out=True),
    "practice:record": Row(page(MANAGERS | {AUD_IN, AUD_OUT}),
                           page(MANAGERS | {AUD_IN, AUD_OUT})),
    "practice:record_pdf": Row(page(MANAGERS | {AUD_IN, AUD_OUT}),
                               page(MANAGERS | {AUD_IN, AUD_OUT})),
    "practice:record_snapshots": Row(page(MANAGERS), page(MANAGERS)),
    "practice:record_snapshot": Row(page(MANAGERS), page(MANAGERS), lambda w, s: {
        "pk": __import__("coachregister.practice.tests.processors_world",
                         fromlist=["snapshot_pk"]).snapshot_pk()}),
    # --- issue 13: the regulation generated, previewed and published (Werkwijze, 2) ---
    # art. 2: the managers preview; only an owner publishes or withdraws (empty form: nothing
    # happens); anyone reads the version in force.
    "practice:regulation": Row(page(MANAGERS), page(MANAGERS)),
    "practice:regulation_publish": Row(roles_then_post_only(page({OWNER})), page({OWNER})),
    "practice:regulation_withdraw": Row(roles_then_post_only(page({OWNER})), page({OWNER})),
    "practice:regulation_versions": Row(page(MANAGERS), page(MANAGERS)),
    "practice:regulation_public": Row(everyone(OK), everyone(OK)),
    # The client's regulation PDF and the day it was sent with the quote (Werkwijze): the
    # register's runners; an empty date is a form error, nothing recorded.
    "trajectories:client_regulation_pdf": Row(page(MANAGERS), roles_then_post_only(page(MANAGERS)),
                                              by("client", "pk")),
    "trajectories:client_regulation_sent": Row(roles_then_post_only(page(MANAGERS)),
                                               page(MANAGERS), by("client", "pk")),
    # --- issue 13: the compliance overview ---
    # art. 5.4: the register's runners, and an auditor only inside an engagement's window
    # (counts only); the window is checked before the method, so any POST is refused or 405.
    "practice:compliance": Row(page(MANAGERS | {AUD_IN, AUD_OUT}),
                               roles_then_post_only(page(MANAGERS | {AUD_IN, AUD_OUT}))),
    "practice:compliance_pdf": Row(page(MANAGERS | {AUD_IN, AUD_OUT}),
                                   roles_then_post_only(page(MANAGERS | {AUD_IN, AUD_OUT}))),
    # --- issue 13: the production road ---
    # retention (art. 10): only who may work on the trajectory confirms; no method: an error.
    "retention:paper_confirm": Row(post_only(STAFF_OK), page(MANAGERS, {COACH}),
                                   by("paper_task", "pk")),
    # retention pages (art. 10.1, 10.2): the register's runners; the owner sets the policy.
    "retention:overview": Row(page(MANAGERS), page(MANAGERS)),
    "retention:policy": Row(page(MANAGERS), page({OWNER})),  # empty form: nothing saved
    "retention:hold_new": Row(page(MANAGERS), page(MANAGERS)),
    "retention:hold_lift": Row(page(MANAGERS), page(MANAGERS), by("hold", "pk"),
                               carries_out=True),  # GET asks to confirm; POST lifts
    "retention:records": Row(page(MANAGERS), page(MANAGERS)),
    "retention:records_csv": Row(page(MANAGERS), page(MANAGERS)),
    # art. 12.1: only the task's assignee confirms (the managers too are refused).
    "retention:mailbox_confirm": Row(post_only(STAFF_OK), page(own={COACH}),
                                     by("mailbox_task", "pk"), carries_out=True),
    # art. 12.1: the vCard is for the coachee's own coach only.
    "coachees:vcard": Row(page(own={COACH}), page(own={COACH}), COACHEE_PS),
    # --- issue 14: the audit trail as a spreadsheet (art. 6): the browser's readers only ---
    "audit:event_csv": Row(page(MANAGERS), page(MANAGERS)),
}


# --- the tests -----------------------------------------------------------------------------


def _walk(patterns: list, namespace: str = "") -> Iterator[str]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, ns)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}"


def url_names() -> set[str]:
    return set(_walk(get_resolver().url_patterns))


def test_every_url_pattern_has_a_row() -> None:
    """A new view must say who may use it: a pattern without a row fails here."""
    names = url_names()
    assert names - set(TABLE) == set(), "URL patterns without a row in TABLE"
    assert set(TABLE) - names == set(), "rows in TABLE without a URL pattern"


def _counts() -> dict[str, int]:
    """Cheap fingerprint of what an invalid form must leave alone."""
    from django.apps import apps

    models = ["accounts.User", "accounts.ThirdPartyScope", "accounts.ConfidentialityStatement",
              "trajectories.Trajectory", "trajectories.ClientOrganisation",
              "coachees.ContactMoment", "notes.CoachingSession", "notes.KeywordVersion",
              "disclosures.Consent", "disclosures.Disclosure", "disclosures.Recipient",
              "rights.DataRequest", "rights.Letter", "audit.Engagement", "retention.PaperDossierTask"]
    counts = {name: apps.get_model(name).objects.count() for name in models}
    counts["open paper tasks"] = apps.get_model("retention.PaperDossierTask").objects.filter(
        confirmed_at__isnull=True).count()
    counts["active users"] = User.objects.filter(is_active=True).count()
    counts["ended"] = apps.get_model("trajectories.Trajectory").objects.filter(
        status__in=["ended", "broken_off"]).count()
    counts["withdrawn"] = apps.get_model("disclosures.Consent").objects.filter(
        withdrawn_at__isnull=False).count()
    return counts


def verdict(response: Any) -> str:
    """The symbol a response answers to, or its status."""
    status = response.status_code
    location = response.get("Location", "").split("?")[0]
    if status == 302 and location == reverse("accounts:login"):
        return LOGIN
    if status == 302 and location == reverse("rights:portal_start"):
        return PORTAL
    if status in (403, 404):
        return DENY
    if status < 400:
        return OK
    return str(status)


def matches(expected: Outcome, response: Any) -> bool:
    if isinstance(expected, int):
        return response.status_code == expected
    return verdict(response) == expected


@pytest.mark.parametrize("name", sorted(TABLE))
def test_role_matrix(name: str, world: World) -> None:
    row = TABLE[name]
    clients = clients_for(world)
    sides = [("own", world.own), ("foreign", world.foreign)] if row.kwargs else [("own", {})]
    wrong = []
    for role in ROLES:
        client = clients[role]
        for method in ("get", "post"):
            expect = row.get if method == "get" else row.post
            for index, (side_name, side) in enumerate(sides):
                url = reverse(name, kwargs=row.kwargs(world, side) if row.kwargs else None)
                expected = expect[role][index]
                with transaction.atomic():
                    before = _counts() if method == "post" else None
                    response = client.get(url) if method == "get" else client.post(url, row.data)
                    if (method == "post" and not row.carries_out
                            and before != _counts()):
                        wrong.append(f"{role} POST {side_name}: changed the register")
                    transaction.set_rollback(True)
                if not matches(expected, response):
                    wrong.append(f"{role} {method.upper()} {side_name}: expected {expected}, "
                                 f"got {response.status_code} {response.get('Location', '')}")
    assert not wrong, "\n".join(wrong)


def test_no_foreign_object_is_open_to_a_non_manager() -> None:
    """The table itself: only the register's runners open another coach's object (and the
    out-of-sample auditor its own engagement, the owner the owner's own account)."""
    allowed = {("audit:engagement", AUD_OUT)}
    for name, row in TABLE.items():
        if row.kwargs is None:
            continue
        for expect in (row.get, row.post):
            for role, (_own, foreign) in expect.items():
                if role not in MANAGERS and (name, role) not in allowed:
                    assert foreign != OK, (name, role)
