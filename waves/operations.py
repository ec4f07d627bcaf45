"""What researchers do during fieldwork: pause, test messages, re-send, edit message templates."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from studyapp.core import audit
from studyapp.core.errors import NotAllowed, ValidationFailed
from studyapp.core.lifecycle import InvitationEvent, InvitationState, move
from studyapp.core.models import Identity, Invitation, MessageTemplate, OutboxMessage, Participant, Study, User, Wave
from studyapp.core.models._common import key
from studyapp.core.types import utcnow
from studyapp.core.wave_status import WaveStatus, wave_status
from waves.i18n import N_, Text, translated
from waves.messages import RenderedMessage, TemplateError, check_template, local_date, render, template_for
from waves.planner import invitation_key


def set_paused(*, session: Session, wave: Wave, paused: bool, user: User | None = None) -> None:
    """Pause a wave (nothing of it is planned or sent) or resume it (what is due goes out).

    Raises :class:`NotAllowed` for a closed wave: it sends nothing either way.
    """
    if wave_status(wave) is WaveStatus.CLOSED:
        raise NotAllowed(Text(N_("Wave %(wave)s is closed; there is nothing to pause or resume."), wave=wave.label))
    wave.paused = paused
    session.add(wave)
    audit.record(
        session=session,
        action="wave.paused" if paused else "wave.resumed",
        user=user,
        target_type="wave",
        target_id=wave.id,
    )


def send_test_message(*, session: Session, study: Study, user: User, kind: str, language: str) -> OutboxMessage:
    """Queue the study's invitation or reminder, with example values, to the researcher's own address."""
    if kind not in ("invitation", "reminder") or language not in ("nl", "en"):
        raise ValidationFailed({"kind": Text(N_("Choose invitation or reminder, in nl or en."))})
    row = OutboxMessage(
        idempotency_key=f"test:{study.id}:{kind}:{secrets.token_hex(8)}",
        kind="test",
        user_id=user.id,
        language=language,
    )
    session.add(row)
    audit.record(
        session=session,
        action="message.test_queued",
        user=user,
        target_type="study",
        target_id=study.id,
        detail={"kind": kind, "language": language},
    )
    return row


# a participant's status as a word inside a sentence (the same msgids as the admin's status badges)
_PARTICIPANT_STATUS = {"unsubscribed": N_("unsubscribed"), "withdrawn": N_("withdrawn"), "erased": N_("erased")}


def resend_invitation(*, session: Session, invitation: Invitation, user: User | None = None) -> OutboxMessage:
    """Queue the invitation once more for one participant (a new message with a fresh link)."""
    participant = session.get(Participant, invitation.participant_id)
    assert participant is not None
    if participant.status != "active":
        raise NotAllowed(
            Text(
                N_("This participant is %(status)s: no mail is sent to them."),
                status=Text(_PARTICIPANT_STATUS.get(participant.status, participant.status)),
            )
        )
    if invitation.state == InvitationState.COMPLETED:
        raise NotAllowed(Text(N_("This participant has completed the wave.")))
    if invitation.closes_at is not None and invitation.closes_at <= utcnow():
        raise NotAllowed(Text(N_("This participant's window of the wave has closed.")))
    language = session.exec(select(Identity.language).where(Identity.participant_id == participant.id)).first()
    if language is None:
        raise NotAllowed(Text(N_("This participant has no contact details.")))
    count = session.exec(
        select(func.count(col(OutboxMessage.id))).where(OutboxMessage.invitation_id == invitation.id)
    ).one()
    row = OutboxMessage(
        idempotency_key=f"{invitation_key(key(participant), invitation.wave_id)}:resend{count}",
        kind="invitation",
        invitation_id=invitation.id,
        wave_id=invitation.wave_id,
        participant_id=participant.id,
        language=language,
    )
    if move(invitation, InvitationEvent.RESENT):
        session.add(invitation)
    session.add(row)
    audit.record(
        session=session,
        action="invitation.resent",
        user=user,
        target_type="participant",
        target_id=participant.id,
        detail={"pseudonym": participant.pseudonym, "wave_id": invitation.wave_id},
    )
    return row


def save_template(
    *, session: Session, study: Study, kind: str, language: str, subject: str, body: str, user: User | None = None
) -> MessageTemplate:
    """Store a study's own wording; messages not yet sent use it. Placeholders are checked."""
    problems = {}
    for name, value in (("subject", subject), ("body", body)):
        try:
            check_template(value)
        except TemplateError as error:
            problems[name] = error.args[0]  # a Text: the page translates it
    if not subject.strip():
        problems["subject"] = Text(N_("A subject is required."))
    if "{link}" not in body:
        problems["body"] = Text(N_("The text must contain {link}, the participant's personal link."))
    if problems:
        raise ValidationFailed(problems)
    row = session.exec(
        select(MessageTemplate).where(
            MessageTemplate.study_id == study.id, MessageTemplate.kind == kind, MessageTemplate.language == language
        )
    ).first() or MessageTemplate(study_id=key(study), kind=kind, language=language, subject="", body="")
    row.subject, row.body, row.updated_at = subject.strip(), body.replace("\r\n", "\n"), utcnow()
    session.add(row)
    audit.record(
        session=session,
        action="message.template_saved",
        user=user,
        target_type="study",
        target_id=study.id,
        detail={"kind": kind, "language": language},
    )
    return row


def preview(
    *,
    session: Session,
    study: Study,
    kind: str,
    language: str,
    subject: str | None = None,
    body: str | None = None,
    base_url: str = "",
) -> RenderedMessage:
    """The message as a participant would get it, with example values."""
    stored_subject, stored_body = template_for(session=session, study_id=key(study), kind=kind, language=language)

    context = {
        "name": "Ana",
        "title": translated(language, "an engineer"),
        "study": study.name,
        "wave": "T2",
        "closes_on": local_date(utcnow() + timedelta(days=28), study.timezone, language),
        "link": f"{base_url.rstrip('/')}/p/example-link",
        "stop_link": f"{base_url.rstrip('/')}/p/example-link/privacy",
    }
    return render(
        subject if subject is not None else stored_subject,
        body if body is not None else stored_body,
        context,
        language=language,
    )
