"""One table of what every audit action means, in words a practice owner reads (art. 6).

The audit browser, "who saw my data" and the certification report show these labels; the raw
action code appears only in a details toggle and in exports. `tests/test_labels.py` fails
when the code records an action that has no entry here: add the label in the same change.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, Promise] = {
    "accounts.access.denied": _("Access refused"),
    "accounts.confidentiality.accepted": _("Confidentiality statement signed"),
    "accounts.confidentiality.published": _("Confidentiality statement published"),
    "accounts.login.failed": _("Sign-in failed"),
    "accounts.login.locked_out": _("Sign-in blocked after too many attempts"),
    "accounts.login.succeeded": _("Signed in"),
    "accounts.password.changed": _("Password changed"),
    "accounts.password.reset": _("Password reset"),
    "accounts.reauth.failed": _("Password confirmation failed"),
    "accounts.reauth.succeeded": _("Password confirmed for a sensitive step"),
    "accounts.role.changed": _("Role changed"),
    "accounts.scope.changed": _("Access scope changed"),
    "accounts.session.ended": _("Signed out of the register"),
    "accounts.sessions.revoked": _("Signed out everywhere"),
    "accounts.two_factor.backup_codes_renewed": _("Backup codes renewed"),
    "accounts.two_factor.enrolled": _("Two-step sign-in set up"),
    "accounts.two_factor.reset": _("Two-step sign-in reset"),
    "accounts.user.activated": _("Staff account activated"),
    "accounts.user.created": _("Staff account created"),
    "accounts.user.deactivated": _("Staff account deactivated"),
    "accounts.user.updated": _("Staff account changed"),
    "audit.engagement.opened": _("Certification audit opened"),
    "audit.trail.exported": _("Audit trail exported"),
    "audit.trail.pruned": _("Old audit events removed"),
    "audit.verify.daily": _("Daily check of the audit trail"),
    "coachees.contact.vcard_downloaded": _("Contact saved as a contact card"),
    "coachees.contact.viewed": _("Contact details opened"),
    "coachees.contact_moment.recorded": _("Contact moment recorded"),
    "coachees.intake.completed": _("Intake completed"),
    "coachees.name.listed": _("Name shown in a list"),
    "coachees.names.listed": _("Names shown in a list"),
    "coachees.list.searched": _("Coachee looked up by email address"),
    "complaints.complaint.acknowledged": _("Receipt of complaint confirmed"),
    "complaints.complaint.decided": _("Decision on complaint"),
    "complaints.complaint.received": _("Complaint received"),
    "complaints.complaint.viewed": _("Complaint opened"),
    "complaints.file.shredded": _("Complaint file destroyed"),
    "complaints.letter.downloaded": _("Complaint letter downloaded"),
    "complaints.portal.letter": _("Complaint letter opened in the portal"),
    "complaints.portal.viewed": _("Complaints viewed in the portal"),
    "complaints.procedure.saved": _("Complaints procedure saved"),
    "disclosures.consent.confirmed": _("Consent confirmed"),
    "disclosures.consent.given": _("Consent given"),
    "disclosures.consent.withdrawn": _("Consent withdrawn"),
    "disclosures.disclosure.recorded": _("Disclosure recorded"),
    "disclosures.proposal.asked_again": _("Coachee asked again about a disclosure"),
    "disclosures.proposal.consented": _("Coachee agreed to a disclosure"),
    "disclosures.proposal.exported": _("Data put in a file for a recipient"),
    "disclosures.proposal.paper_confirmed": _("Paper consent confirmed"),
    "disclosures.proposal.paper_recorded": _("Paper consent recorded"),
    "disclosures.proposal.prepared": _("Disclosure prepared"),
    "disclosures.proposal.previewed": _("Disclosure looked at in the portal"),
    "disclosures.proposal.refused": _("Coachee refused a disclosure"),
    "disclosures.proposal.sent": _("Disclosure sent"),
    "disclosures.recipient.saved": _("Recipient saved"),
    "incidents.affected.added": _("Affected person added to an incident"),
    "incidents.affected.removed": _("Affected person removed from an incident"),
    "incidents.authority.notified": _("Supervisory authority notified"),
    "incidents.authority_form.downloaded": _("Notification form for the authority downloaded"),
    "incidents.clock.warned": _("Warning: the 72-hour deadline is near"),
    "incidents.containment.blocked": _("Account blocked during an incident"),
    "incidents.containment.master_rotation_decided": _("Decision on renewing the master key"),
    "incidents.containment.signed_out": _("Account signed out during an incident"),
    "incidents.incident.assessed": _("Incident assessed"),
    "incidents.incident.aware_changed": _("Moment of discovery changed"),
    "incidents.incident.changed": _("Incident changed"),
    "incidents.incident.closed": _("Incident closed"),
    "incidents.incident.registered": _("Incident registered"),
    "incidents.incident.viewed": _("Incident opened"),
    "incidents.notice_exception.recorded": _("Reason not to notify recorded"),
    "incidents.notice_template.saved": _("Notice text saved"),
    "incidents.notices.prepared": _("Notices to affected people prepared"),
    "incidents.notices.sent": _("Notices to affected people sent"),
    "keys.epoch.destroyed": _("Old encryption key destroyed"),
    "keys.epoch.started": _("New encryption key taken into use"),
    "keys.master.rotated": _("Master key renewed"),
    "notes.dossier.viewed": _("Session keywords read"),
    "notes.keywords.amended": _("Session keywords amended"),
    "notes.keywords.changed_on_request": _("Session keywords changed at the coachee's request"),
    "notes.keywords.consent_withdrawn": _("Session keywords removed after consent was withdrawn"),
    "notes.keywords.edited": _("Session keywords edited"),
    "notes.keywords.kept_lapsed": _("Session keywords kept after consent lapsed"),
    "notes.session.recorded": _("Session recorded"),
    "notes.versions.viewed": _("Earlier versions of session keywords read"),
    "practice.compliance.downloaded": _("Compliance overview downloaded"),
    "practice.compliance.viewed": _("Compliance overview opened"),
    "practice.decision.recorded": _("Decision in an unforeseen case recorded"),
    "practice.decisions.purged": _("Old decisions removed"),
    "practice.decisions.viewed": _("Decisions in unforeseen cases read"),
    "practice.pending_change.proposed": _("Change proposed for a second person to approve"),
    "practice.pending_change.withdrawn": _("Proposed change withdrawn"),
    "practice.processor.added": _("Processor added"),
    "practice.processor.changed": _("Processor changed"),
    "practice.processor.retired": _("Processor retired"),
    "practice.purpose.activated": _("Purpose of processing activated"),
    "practice.purpose.added": _("Purpose of processing added"),
    "practice.purpose.retired": _("Purpose of processing retired"),
    "practice.record.downloaded": _("Record of processing downloaded"),
    "practice.record.snapshot_viewed": _("Earlier record of processing opened"),
    "practice.record.viewed": _("Record of processing opened"),
    "practice.regulation.coachee_told": _("Coachee told of a new regulation"),
    "practice.regulation.coachees_told": _("Coachees told of a new regulation"),
    "practice.regulation.published": _("Regulation published"),
    "practice.settings.changed": _("Practice settings changed"),
    "retention.backup.created": _("Backup made"),
    "retention.backup.restored": _("Backup restored"),
    "retention.client_contact.anonymised": _("Client contact anonymised"),
    "retention.erasure.carried_out": _("Data erased"),
    "retention.hold.lifted": _("Retention hold lifted"),
    "retention.hold.set": _("Retention hold set"),
    "retention.mailbox_task.confirmed": _("Mailbox clean-up confirmed"),
    "retention.mailbox_task.created": _("Mailbox clean-up task created"),
    "retention.mailbox_task.expired": _("Mailbox clean-up task overdue"),
    "retention.mailbox_task.viewed": _("Mailbox clean-up task opened"),
    "retention.paper_dossier.destroyed": _("Paper dossier destroyed"),
    "retention.policy.changed": _("Retention periods changed"),
    "retention.purge.carried_out": _("Data destroyed after the retention period"),
    "retention.records.exported": _("Destruction records exported"),
    "retention.staff.anonymised": _("Staff account anonymised"),
    "rights.erasure.carried_out": _("Data erased on request"),
    "rights.inquiry.answered": _("Question about data answered"),
    "rights.inquiry.details_destroyed": _("Details of a question destroyed"),
    "rights.inquiry.mailboxes_checked": _("Mailboxes checked for a question"),
    "rights.inquiry.matched": _("Question linked to a coachee"),
    "rights.inquiry.received": _("Question about data received"),
    "rights.inquiry.unknown": _("Question from someone not in the register"),
    "rights.inquiry.viewed": _("Question opened"),
    "rights.letter.downloaded": _("Letter opened"),
    "rights.portal.entered": _("Coachee entered the portal"),
    "rights.portal.exported": _("Data downloaded from the portal"),
    "rights.portal.letter": _("Letter opened in the portal"),
    "rights.portal.link_asked": _("Portal link asked for"),
    "rights.portal.link_refused": _("Portal link refused"),
    "rights.portal.link_sent": _("Portal link sent"),
    "rights.portal.link_unknown": _("Portal link asked for an unknown address"),
    "rights.portal.viewed": _("Portal opened"),
    "rights.request.decided": _("Decision on a request"),
    "rights.request.extended": _("Time for a request extended"),
    "rights.request.fee_paid": _("Fee for a request paid"),
    "rights.request.received": _("Request received"),
    "rights.request.viewed": _("Corrections asked for read"),
    "rights.restriction.lifted": _("Restriction lifted"),
    "trajectories.client.created": _("Client created"),
    "trajectories.client.regulation_downloaded": _("Regulation for a client downloaded"),
    "trajectories.client.regulation_sent": _("Regulation sent to a client"),
    "trajectories.client.updated": _("Client changed"),
    "trajectories.invitation.refused": _("Invitation code refused"),
    "trajectories.invitation.renewed": _("Invitation renewed"),
    "trajectories.invitation.throttled": _("Too many invitation attempts"),
    "trajectories.trajectory.ended": _("Trajectory ended"),
    "trajectories.trajectory.opened": _("Trajectory opened"),
    "trajectories.trajectory.reassigned": _("Trajectory moved to another coach"),
}

# The first part of an action code: the part of the register it belongs to.
AREA_LABELS: dict[str, Promise] = {
    "accounts": _("Accounts and sign-in"),
    "audit": _("Audit"),
    "coachees": _("Coachees"),
    "complaints": _("Complaints"),
    "disclosures": _("Disclosures and consent"),
    "incidents": _("Incidents"),
    "keys": _("Encryption keys"),
    "notes": _("Sessions and keywords"),
    "practice": _("Practice"),
    "retention": _("Retention and destruction"),
    "rights": _("Requests and portal"),
    "trajectories": _("Trajectories and clients"),
}

# An event's `object_type`: what kind of thing the event is about.
OBJECT_LABELS: dict[str, Promise] = {
    "coachee": _("coachee"),
    "listing": _("list of coachees"),
    "trajectory": _("trajectory"),
    "incident": _("incident"),
    "user": _("staff account"),
    "engagement": _("certification audit"),
    "request": _("request"),
    "decision": _("decision"),
    "processor": _("processor"),
    "purpose": _("purpose of processing"),
    "client": _("client"),
    "practice": _("practice"),
    "recipient": _("recipient"),
    "regulation": _("regulation"),
    "statement": _("confidentiality statement"),
    "procedure": _("complaints procedure"),
    "retention_policy": _("retention periods"),
    "pending_change": _("proposed change"),
    "backup": _("backup"),
    "epoch": _("encryption key"),
    "master_key": _("master key"),
    "destruction_record": _("destruction record"),
    "compliance": _("compliance overview"),
    "audit_event": _("audit event"),
    "audit_trail": _("audit trail"),
    "processing_record": _("record of processing"),
}


def action_label(action: str) -> str:
    """The words for `action`; an unknown code (an event of an older version) shows as
    itself rather than breaking the page."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def object_label(object_type: str) -> str:
    label = OBJECT_LABELS.get(object_type)
    return str(label) if label is not None else object_type


def role_label(role: str) -> str:
    """A staff role in words (Role's own labels); empty for a coachee or the system."""
    from coachregister.accounts.models import Role

    if not role:
        return ""
    return str(dict(Role.choices).get(role, role))


def action_choices() -> list[tuple[str, object]]:
    """The choices of the browser's action filter: per area "everything in it" (the code
    prefix, ending in a dot) and then each action, sorted by label within the area."""
    areas: dict[str, list[tuple[str, str]]] = {}
    for code in ACTION_LABELS:
        areas.setdefault(code.partition(".")[0], []).append((code, action_label(code)))
    choices: list[tuple[str, object]] = [("", _("all actions"))]
    for area, actions in sorted(areas.items()):
        name = str(AREA_LABELS.get(area, area))
        choices.append((name, [
            (f"{area}.", _("everything in %(area)s") % {"area": name}),
            *sorted(actions, key=lambda pair: pair[1]),
        ]))
    return choices
