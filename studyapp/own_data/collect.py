"""Everything the study keeps about one participant, gathered for their own copy (GDPR Art. 15 and 20).

One function, :func:`own_data_of`, reads it all: who they are (their decrypted contact details, the
enrolment list's columns, their employer), every stored answer of every wave with its question in their
language, the profile the latest analysis gave each wave, their consent history, the e-mails the study
made for them, and when researchers looked at their contact details. Nothing of any other participant is
read: every query is by this participant's id or pseudonym.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import String, and_, cast
from sqlmodel import Session, col, or_, select

from studyapp.core.latest_analysis import attrition_weights, latest_finished, modal_profiles
from studyapp.core.models import (
    AuditEvent,
    Cohort,
    ConsentEvent,
    Invitation,
    Organisation,
    OutboxMessage,
    Participant,
    Study,
    Wave,
    key,
)
from studyapp.core.privacy import Privacy
from studyapp.participants import consent, identities
from studyapp.questionnaire.page_view import answer_text
from studyapp.questionnaire.responses import answers_of_invitation
from studyapp.questionnaire.structure import Questionnaire, text_in

#: The audit actions that show a researcher saw this participant's contact details.
IDENTITY_ACTIONS = ("identity.viewed",)


@dataclass(frozen=True)
class AnswerRecord:
    """One stored answer: the question as the participant read it and the value as stored."""

    section: str
    code: str
    question: str
    value: int | str
    label: str  # the answer option's words ("" for free text and numbers)
    text: str  # the answer as the questionnaire's review shows it ("6 · Agree", "I study", "27")
    shown: bool  # False: an answer kept although a later answer skipped its question


@dataclass(frozen=True)
class WaveRecord:
    """The participant's place in one wave and what they answered."""

    label: str
    state: str
    invited_at: datetime | None
    opened_at: datetime | None
    started_at: datetime | None
    submitted_at: datetime | None
    language: str | None
    source: str | None  # "web", or "import" for answers collected outside the app
    answers: list[AnswerRecord]
    profile: str | None  # most likely profile in the latest analysis
    weight: float | None  # the dropout weight the latest analysis gave these answers


@dataclass(frozen=True)
class ConsentRecord:
    """One step of the consent history."""

    kind: str
    at: datetime
    actor: str
    keep_data: bool | None
    note: str


@dataclass(frozen=True)
class MessageRecord:
    """One e-mail the study made for the participant (its text is made when it is sent, not stored)."""

    kind: str
    wave: str | None
    status: str
    planned_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class IdentityView:
    """A researcher looked at the participant's contact details (recorded in the audit log)."""

    at: datetime
    purpose: str


@dataclass(frozen=True)
class OwnData:
    """A participant's own data as the study keeps it, at ``made_at``."""

    made_at: datetime
    language: str
    study: str
    timezone: str
    cohort: str
    pseudonym: str
    status: str
    enrolled_at: datetime
    email: str | None
    name: str | None
    contact_language: str | None
    external_id_kept: bool  # a student number, kept only as a keyed hash
    frame: dict[str, str]
    organisation: str | None
    keeps_data: bool
    identity_retention_until: date | None
    identities_erased_at: datetime | None
    analysis_finished_at: datetime | None
    waves: list[WaveRecord]
    consent: list[ConsentRecord]
    messages: list[MessageRecord]
    identity_views: list[IdentityView]

    @property
    def answer_count(self) -> int:
        """How many answers are stored, over all waves."""
        return sum(len(wave.answers) for wave in self.waves)


def own_data_of(
    *, session: Session, privacy: Privacy, participant: Participant, language: str, now: datetime
) -> OwnData:
    """Everything the study keeps about ``participant``, with questions and answer options in ``language``.

    Contact details are decrypted here (the participant's own, for their own copy): callers check who
    may see them and audit-log the copy (:func:`studyapp.own_data.service.make_copy`).
    """
    cohort = session.get_one(Cohort, participant.cohort_id)
    study = session.get_one(Study, cohort.study_id)
    identity = identities.identity_of(session=session, participant=participant)
    contact = (
        identities.contact_for_mail(session=session, privacy=privacy, participant=participant)
        if identity is not None
        else None
    )
    organisation = session.get(Organisation, participant.organisation_id) if participant.organisation_id else None
    run = latest_finished(session, cohort.id or 0)
    return OwnData(
        made_at=now,
        language=language,
        study=study.name,
        timezone=study.timezone,
        cohort=cohort.name,
        pseudonym=participant.pseudonym,
        status=participant.status,
        enrolled_at=participant.enrolled_at,
        email=contact.email if contact else None,
        name=(contact.name or None) if contact else None,
        contact_language=identity.language if identity else None,
        external_id_kept=bool(identity and identity.external_id_hash),
        frame=dict(participant.frame or {}),
        organisation=organisation.name if organisation else None,
        keeps_data=consent.keeps_data(session=session, participant=participant),
        identity_retention_until=study.identity_retention_until,
        identities_erased_at=study.identities_erased_at,
        analysis_finished_at=run.finished_at if run is not None else None,
        waves=_waves(session, participant, language, run.result if run is not None else None),
        consent=_consent(session, participant),
        messages=_messages(session, participant),
        identity_views=_identity_views(session, participant),
    )


def _waves(session: Session, participant: Participant, language: str, result: dict | None) -> list[WaveRecord]:
    profiles = modal_profiles(result)
    weights = {(pseudonym, wave): weight for pseudonym, wave, weight in attrition_weights(result)}
    rows = session.exec(
        select(Invitation, Wave)
        .join(Wave, col(Wave.id) == Invitation.wave_id)
        .where(Invitation.participant_id == participant.id)
        .order_by(col(Wave.position), col(Wave.id))
    ).all()
    waves = []
    for invitation, wave in rows:
        found = answers_of_invitation(session=session, invitation=invitation)
        response = found[1] if found else None
        answers = _answers(found[0], found[2], language) if found else []
        place = (participant.pseudonym, wave.label)
        waves.append(
            WaveRecord(
                label=wave.label,
                state=invitation.state,
                invited_at=invitation.sent_at,
                opened_at=invitation.opened_at,
                started_at=response.started_at if response else None,
                submitted_at=response.submitted_at if response else None,
                language=response.language if response else None,
                source=response.source if response else None,
                answers=answers,
                profile=profiles.get(place),
                weight=weights.get(place),
            )
        )
    return waves


def _answers(questionnaire: Questionnaire, given: dict[str, int | str], language: str) -> list[AnswerRecord]:
    """Every stored answer in the questionnaire's order, each with its question and option words."""
    shown = {
        item.code
        for section in questionnaire.visible_sections(given)
        for item in questionnaire.visible_items(section, given)
    }
    records = []
    for section in questionnaire.sections:
        for item in section.items:
            if item.code not in given:
                continue
            value = given[item.code]
            label = next((c.label for c in questionnaire.choices(item, language) if c.value == value), "")
            records.append(
                AnswerRecord(
                    section=text_in(section.title, language),
                    code=item.code,
                    question=questionnaire.text_of(item, given, language),
                    value=value,
                    label=label,
                    text=answer_text(questionnaire, item, value, language),
                    shown=item.code in shown,
                )
            )
    known = {record.code for record in records}
    # an answer to an item the instrument no longer lists still belongs to the participant
    records += [
        AnswerRecord("", code, code, value, "", str(value), False) for code, value in given.items() if code not in known
    ]
    return records


def _consent(session: Session, participant: Participant) -> list[ConsentRecord]:
    events = session.exec(
        select(ConsentEvent)
        .where(ConsentEvent.participant_id == participant.id)
        .order_by(col(ConsentEvent.created_at), col(ConsentEvent.id))
    ).all()
    return [ConsentRecord(e.kind, e.created_at, e.actor, e.keep_data, e.note) for e in events]


def _messages(session: Session, participant: Participant) -> list[MessageRecord]:
    invitation_ids = select(Invitation.id).where(Invitation.participant_id == participant.id)
    rows = session.exec(
        select(OutboxMessage, Wave.label)
        .outerjoin(Wave, col(Wave.id) == OutboxMessage.wave_id)
        .where(
            or_(
                col(OutboxMessage.participant_id) == participant.id,
                col(OutboxMessage.invitation_id).in_(invitation_ids),
            )
        )
        .order_by(col(OutboxMessage.created_at), col(OutboxMessage.id))
    ).all()
    return [MessageRecord(m.kind, label, m.status, m.created_at, m.sent_at) for m, label in rows]


def _identity_views(session: Session, participant: Participant) -> list[IdentityView]:
    """Audit entries where a researcher was shown this participant's contact details.

    One participant's page names them as the target; a list names them among the entry's pseudonyms.
    """
    named_here = and_(col(AuditEvent.target_type) == "participant", col(AuditEvent.target_id) == str(key(participant)))
    # a pseudonym is letters and digits only: no LIKE wildcard in it; the match is confirmed below
    listed_here = cast(AuditEvent.detail, String).contains(participant.pseudonym)
    events = session.exec(
        select(AuditEvent)
        .where(col(AuditEvent.action).in_(IDENTITY_ACTIONS), or_(named_here, listed_here))
        .order_by(col(AuditEvent.at), col(AuditEvent.id))
    ).all()
    views = []
    for event in events:
        named = event.target_type == "participant" and event.target_id == str(key(participant))
        listed = participant.pseudonym in (event.detail or {}).get("pseudonyms", [])
        if named or listed:
            views.append(IdentityView(event.at, str((event.detail or {}).get("purpose", ""))))
    return views
