"""The privacy regulation generated from the settings, previewed, published and shown
(art. 2, Werkwijze): every promise value appears in the text, today's law replaces the
repealed Wbp's, a publication keeps both languages with its promises, a material change is
mailed to each coachee still in the register once and shown in the portal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from coachregister.accounts.models import User
from coachregister.audit.models import Event
from coachregister.coachees.models import Coachee
from coachregister.coachees.vault import Contact
from coachregister.complaints.models import ComplaintProcedure
from coachregister.conftest import confirm_recently
from coachregister.outbox.models import OutboxMessage
from coachregister.outbox.services import open_message
from coachregister.practice import promises
from coachregister.practice.models import Processor, RegulationVersion
from coachregister.practice.services import (
    practice_update,
    purpose_add,
    regulation_publish,
    regulation_text,
)
from coachregister.retention.services import policy_set
from coachregister.testing import factories

pytestmark = pytest.mark.django_db


def flat(text: str) -> str:
    return " ".join(text.split())


def configure(owner: User) -> None:
    """Every promise set to a recognisable value, before any publication (so all act)."""
    practice_update(
        actor=owner, request=None, name="Praktijk Zonnig", address="Dorpsstraat 1\n1234 AB Ergens",
        email="info@zonnig.example", phone="0341 000000", chamber_of_commerce="12345678",
        office_networks="198.51.100.0/24", two_factor_everywhere=False,
        extension_allowed=True, further_copy_fee=Decimal("4.50"), unknown_requester_days=21,
        coach_mail_includes_contact_details=False,
    )
    policy_set(actor=owner, request=None, years=6, client_contact_years=1, staff_years=2,
               audit_years=8)
    Processor.objects.create(
        name="Microsoft Ierland", service="mail_storage", agreement_name="DPA",
        storage_location="Nederland en Ierland", third_country="Verenigde Staten",
        transfer_basis="dpf", data_categories="contactgegevens", breach_contact="security@ms",
        next_review=date(2027, 1, 1))
    Processor.objects.create(
        name="Oud Hosting", service="hosting", agreement_name="DPA", storage_location="Duitsland",
        data_categories="alles", breach_contact="x", next_review=date(2027, 1, 1), active=False)
    procedure = ComplaintProcedure.load()
    procedure.acknowledge_days = 3
    procedure.decide_weeks = 5
    procedure.external_body = "Geschillencommissie Coaching"
    procedure.save()
    purpose_add(actor=owner, request=None, name="Afstemming met de bedrijfsarts", basis="consent")


@pytest.mark.article("2")
def test_the_text_states_every_promise_and_todays_law(owner: User) -> None:
    configure(owner)
    text = flat(regulation_text(language="nl"))
    for value in (
        "Praktijk Zonnig", "Dorpsstraat 1, 1234 AB Ergens", "12345678", "info@zonnig.example",
        # art. 12.2: the office network, a password there and two steps elsewhere
        "kantoornetwerk van de praktijk (aantal vastgelegde netwerkadressen: 1; de adressen "
        "zelf maken wij niet openbaar) volstaat een wachtwoord",
        # art. 7: no written form, four weeks, the extension on, the fee, unknown requesters
        "Een verzoek hoeft niet schriftelijk", "artikel 12 lid 2",
        "uiterlijk binnen vier weken na ontvangst", "ten hoogste drie maanden na ontvangst",
        "€ 4,50", "Er geldt geen wettelijk maximumbedrag", "21 dagen na ons antwoord",
        "artikel 23 AVG", "artikel 41 UAVG", "de inning van civielrechtelijke vorderingen",
        # art. 10: six years, the one-year window, paper at the end, the other periods,
        # backups and key epochs
        "zes jaar na het laatste contact", "belofte van de praktijk zelf",
        "binnen één jaar verwijderd en vernietigd",
        "Papieren dossiers worden aan het einde van het traject vernietigd",
        "opdrachtgever bewaren wij één jaar", "medewerkersaccount twee jaar",
        "wie wat deed en zag acht jaar",
        f"na {promises.current()['backup_age_days']} dagen vernietigd",
        f"na ten hoogste {promises.current()['erasure_bound_days']} dagen",
        # art. 13: the processor in use, its storage and transfer basis
        "Microsoft Ierland", "Nederland en Ierland", "doorgifte naar Verenigde Staten",
        "Data Privacy Framework",
        # art. 11: the complaints procedure
        "binnen 3 dagen", "binnen 5 weken", "Geschillencommissie Coaching",
        "Autoriteit Persoonsgegevens",
        # art. 2: the purposes with their bases
        "Afstemming met de bedrijfsarts",
        # art. 5: who sees the contact details
        "Uw contactgegevens ziet alleen uw eigen coach",
        "uw contactgegevens alleen als de audit dat uitdrukkelijk omvat",
        "Uw opdrachtgever ziet uw gegevens nooit",
        "ontvangt uw coach een e-mail zonder uw gegevens",
    ):
        assert value in text, value
    assert "Oud Hosting" not in text  # a retired processor is not promised
    # The repealed Wbp's words are gone: no written request, no statutory maximum fee.
    assert "schriftelijk verzoek" not in text and "wettelijk vastgestelde maximale" not in text
    assert "niet verlengd" not in text


@pytest.mark.article("2")
def test_each_setting_changes_the_text(owner: User) -> None:
    before = flat(regulation_text(language="nl"))
    assert "Die termijn wordt niet verlengd." in before and "drie maanden" not in before
    assert "Ook een volgend afschrift is kosteloos." in before
    practice_update(actor=owner, request=None, two_factor_everywhere=True,
                    coach_mail_includes_contact_details=True)
    after = flat(regulation_text(language="nl"))
    assert "altijd aan met een wachtwoord en een tweede stap" in after and "ook op kantoor" in after
    assert "ontvangt uw coach een e-mail met uw naam" in after
    practice_update(actor=owner, request=None, office_networks="")
    assert "waar zij ook zijn" in flat(regulation_text(language="nl"))


@pytest.mark.article("2")
def test_the_english_text(owner: User) -> None:
    configure(owner)
    text = flat(regulation_text(language="en"))
    for value in (
        "Privacy regulation of Praktijk Zonnig", "the Dutch text of this regulation is binding",
        "A request need not be in writing", "within four weeks of receipt",
        "at most three months from receipt", "€ 4.50", "There is no statutory maximum fee",
        "six years after the last contact", "within one year", "network addresses on record: 1",
        "Microsoft Ierland", "Geschillencommissie Coaching", "article 23 GDPR",
        "the enforcement of civil law claims",
    ):
        assert value in text, value
    assert "wettelijk" not in text


@pytest.mark.article("2")
def test_publish_keeps_both_languages_the_promises_and_a_diff(
    owner: User, administrator: User, client_for: Callable[[User], Client]
) -> None:
    first = regulation_publish(actor=owner, request=None)
    assert first.version == f"{first.published_at.year}.1" and not first.material
    assert first.text.startswith("Privacyreglement van ")
    assert first.text_en.startswith("Privacy regulation of ")
    assert first.promises["retention_years"] == 7 and first.published_by == owner
    assert not promises.regulation_unpublished()
    # A shorter period acts at once; the page previews the next text against the current one.
    policy_set(actor=owner, request=None, years=5)
    assert promises.regulation_unpublished()
    page = client_for(administrator).get(reverse("practice:regulation"))
    assert page.status_code == 200
    removed = [r["line"] for r in page.context["diff"] if r["kind"] == "removed"]
    added = [r["line"] for r in page.context["diff"] if r["kind"] == "added"]
    assert any("zeven jaar na het laatste contact" in line for line in removed)
    assert any("vijf jaar na het laatste contact" in line for line in added)
    assert "retention_years" in page.context["material"]
    assert b"Publish this version" not in page.content  # the administrator does not publish
    owner_client = confirm_recently(client_for(owner))
    response = owner_client.post(reverse("practice:regulation_publish"),
                                 {"version": "2027-b", "material": ""})
    assert response.status_code == 302
    second = RegulationVersion.current()
    assert second.version == "2027-b" and second.material  # a material key changed
    assert "vijf jaar" in second.text and first.text != second.text
    assert Event.objects.filter(action="practice.regulation.published").count() == 2
    versions = owner_client.get(reverse("practice:regulation_versions"))
    assert b"2027-b" in versions.content and first.version.encode() in versions.content
    assert "zeven jaar na het laatste contact" in versions.content.decode()  # kept verbatim
    # The same label twice is refused, and nothing is published.
    owner_client.post(reverse("practice:regulation_publish"), {"version": "2027-b"})
    assert RegulationVersion.objects.count() == 2


@pytest.mark.article("2")
def test_a_material_change_is_mailed_once_to_each_coachee_not_to_an_erased_one(
    owner: User, coach: User
) -> None:
    from coachregister.rights import services as rights

    anne = factories.trajectory(owner, coach).coachee  # publishes the first version
    bram = factories.trajectory(owner, coach, contact=Contact(
        "Bram", "Bakker", "bram@voorbeeld.example", "+31611111111")).coachee
    Coachee.objects.filter(pk=bram.pk).update(language="en")
    gone = factories.trajectory(owner, coach, contact=Contact(
        "Cora", "Cornelis", "cora@voorbeeld.example", "+31622222222")).coachee
    data_request = rights.request_register(actor=owner, request=None, coachee=gone,
                                           kind="erasure", channel="email", verification="mail")
    rights.request_decide(actor=owner, request=None, data_request=data_request,
                          decision="granted")
    assert not Coachee.objects.filter(pk=gone.pk).exists()
    # Not material (only the phone number of the practice): nobody is mailed.
    practice_update(actor=owner, request=None, phone="0341 111111")
    regulation_publish(actor=owner, request=None, version="v2")
    assert not OutboxMessage.objects.filter(kind="regulation_changed").exists()
    # Material: the answer term may now be extended (a weakening: it waits, then acts).
    practice_update(actor=owner, request=None, extension_allowed=True)
    regulation = regulation_publish(actor=owner, request=None, version="v3")
    assert regulation.material
    mails = OutboxMessage.objects.filter(kind="regulation_changed")
    assert sorted(m.coachee_pseudonym for m in mails) == sorted([anne.pseudonym, bram.pseudonym])
    bodies = {m.coachee_pseudonym: open_message(m) for m in mails}
    assert bodies[anne.pseudonym][0] == "anne.devries@voorbeeld.example"
    # Each in the coachee's own language, pointing to the portal and the public text.
    assert "Beste Anne" in bodies[anne.pseudonym][1] and "lang=nl" in bodies[anne.pseudonym][1]
    assert "/portal/" in bodies[anne.pseudonym][1]
    assert "Dear Bram" in bodies[bram.pseudonym][1] and "lang=en" in bodies[bram.pseudonym][1]
    assert "how quickly we answer your requests" in bodies[bram.pseudonym][1]
    event = Event.objects.get(action="practice.regulation.coachees_told")
    assert event.detail == {"count": 2, "failed": 0} and "Anne" not in str(event.detail)
    # Each use of a coachee's email is on that coachee's trail, by pseudonym only.
    told = Event.objects.filter(action="practice.regulation.coachee_told")
    assert sorted(told.values_list("object_id", flat=True)) == sorted(
        [anne.pseudonym, bram.pseudonym])
    # The owner may call a change material; each coachee is mailed once per publication.
    regulation_publish(actor=owner, request=None, version="v4", material=True)
    assert OutboxMessage.objects.filter(kind="regulation_changed").count() == 4


@pytest.mark.article("2")
def test_the_portal_and_the_public_page_show_the_current_version_and_its_change(
    owner: User, coach: User
) -> None:
    from coachregister.rights import portal

    coachee = factories.trajectory(owner, coach).coachee
    practice_update(actor=owner, request=None, further_copy_fee=Decimal("2.00"))
    regulation = regulation_publish(actor=owner, request=None, version="v2")
    assert regulation.material
    client = Client()
    session = client.session
    session[portal.SESSION_COACHEE] = coachee.pk
    session.save()
    home = client.get(reverse("rights:portal_home")).content.decode()
    assert "v2" in home and "data-testid=\"regulation-changed\"" in home
    assert "€ 2,00" in home  # the text itself, in the coachee's language
    public = Client().get(reverse("practice:regulation_public"))
    assert public.status_code == 200 and "€ 2,00" in public.content.decode()
    english = Client().get(reverse("practice:regulation_public") + "?lang=en")
    assert "€ 2.00" in english.content.decode() and "Changed on" in english.content.decode()


@pytest.mark.article("2")
def test_who_may_see_and_publish(
    owner: User, administrator: User, coach: User, auditor: User,
    client_for: Callable[[User], Client],
) -> None:
    url = reverse("practice:regulation")
    assert client_for(coach).get(url).status_code == 403
    assert client_for(auditor).get(reverse("practice:regulation_versions")).status_code == 403
    assert Client().get(url).status_code == 302  # to sign in
    admin = confirm_recently(client_for(administrator))
    assert admin.post(reverse("practice:regulation_publish"), {"version": "x"}).status_code == 403
    assert not RegulationVersion.objects.exists()
    # The owner's dashboard says there is something to publish, and links to the page.
    dashboard = client_for(owner).get(reverse("accounts:dashboard")).content.decode()
    assert 'data-testid="regulation-unpublished"' in dashboard and url in dashboard
    regulation_publish(actor=owner, request=None)
    dashboard = client_for(owner).get(reverse("accounts:dashboard")).content.decode()
    assert 'data-testid="regulation-unpublished"' not in dashboard


@pytest.mark.article("8.1")
def test_a_restricted_coachee_is_not_mailed_of_a_change(owner: User, coach: User) -> None:
    """Art. 8 (afscherming), GDPR 18(2): a restricted coachee's data is only stored, so their
    email is not used for the notice; the portal still shows the change."""
    anne = factories.trajectory(owner, coach).coachee  # publishes the first version
    kept = factories.trajectory(owner, coach, contact=Contact(
        "Bram", "Bakker", "bram@voorbeeld.example", "+31611111111")).coachee
    Coachee.objects.filter(pk=kept.pk).update(restricted=True, restricted_at=timezone.now())
    practice_update(actor=owner, request=None, extension_allowed=True)
    regulation_publish(actor=owner, request=None, version="v2")
    mails = OutboxMessage.objects.filter(kind="regulation_changed")
    assert [m.coachee_pseudonym for m in mails] == [anne.pseudonym]
    assert not Event.objects.filter(action="practice.regulation.coachee_told",
                                    object_id=kept.pseudonym).exists()
