"""Saving and submitting a participant's questionnaire answers (the operations behind the pages)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import Insert, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from studyapp.core.lifecycle import InvitationEvent, move
from studyapp.core.models import Answer, Invitation, Item, Response, Wave, key
from studyapp.core.types import utcnow
from studyapp.questionnaire.page_input import missing_required
from studyapp.questionnaire.structure import Answers, AnswerValue, Questionnaire, item_ids, questionnaire_of


class AlreadySubmitted(RuntimeError):
    """The response was submitted; its answers no longer change."""


@dataclass(frozen=True)
class Incomplete(Exception):
    """Required answers are missing: the first page that needs them, and all of them by page."""

    first_section: str
    missing: Mapping[str, list[str]]


def response_of(*, session: Session, invitation: Invitation) -> Response | None:
    """The invitation's response, if the participant has begun."""
    return session.exec(select(Response).where(Response.invitation_id == invitation.id)).first()


def start_response(
    *, session: Session, invitation: Invitation, language: str, existing: Response | None = None
) -> Response:
    """The invitation's response, created on first use; the invitation becomes 'started'.

    ``existing`` is the response the caller already looked up (saves a query on every page save).
    """
    response = existing or response_of(session=session, invitation=invitation)
    if response is not None:
        return response
    now = utcnow()
    # A page post and an autosave of a fresh link can both get here: the one that inserts second keeps
    # the first one's response instead of failing on the unique invitation_id.
    created = session.execute(
        _dialect_insert(session)(Response)
        .values(invitation_id=key(invitation), language=language, started_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["invitation_id"])
        .returning(col(Response.id))
    ).scalar_one_or_none()
    if created is not None and move(invitation, InvitationEvent.STARTED):
        session.add(invitation)
        session.flush()
    response = response_of(session=session, invitation=invitation)
    assert response is not None  # inserted by this request or by the one it raced
    return response


def stored_answers(*, session: Session, response: Response) -> dict[str, AnswerValue]:
    """A response's answers by item code."""
    rows = session.exec(
        select(Item.code, Answer.value_number, Answer.value_text)
        .join(Item, col(Item.id) == col(Answer.item_id))
        .where(Answer.response_id == response.id)
    ).all()
    answers: dict[str, AnswerValue] = {}
    for code, number, text in rows:
        value = number if number is not None else text
        if value is not None:  # always (the has_value constraint)
            answers[code] = value
    return answers


def save_answers(
    *,
    session: Session,
    response: Response,
    instrument_id: int,
    values: Mapping[str, AnswerValue | None],
    section_code: str | None = None,
    checksum: str | None = None,
) -> int:
    """Store a page's answers (insert or overwrite; None deletes) and remember where the participant is.

    Each answer is one upsert, so a page post and an autosave arriving together cannot collide.
    Returns how many answers were written or removed.
    """
    if response.submitted_at is not None:
        raise AlreadySubmitted
    ids = item_ids(session=session, instrument_id=instrument_id, checksum=checksum)
    now = utcnow()
    rows: list[dict[str, object]] = []
    cleared = []
    for code, value in values.items():
        if value is None:
            cleared.append(ids[code])
        elif isinstance(value, str):
            rows.append({"response_id": response.id, "item_id": ids[code], "value_text": value, "value_number": None})
        else:
            rows.append({"response_id": response.id, "item_id": ids[code], "value_number": value, "value_text": None})
    if rows:
        for row in rows:
            row["updated_at"] = now
        session.execute(_upsert(session), rows)  # executemany of one cached statement
    if cleared:
        session.execute(delete(Answer).where(col(Answer.response_id) == response.id, col(Answer.item_id).in_(cleared)))
    response.updated_at = now
    if section_code is not None:
        response.current_section = section_code
    session.add(response)
    return len(rows) + len(cleared)


def _dialect_insert(session: Session) -> Callable[..., postgresql.Insert | sqlite.Insert]:
    """The INSERT with ON CONFLICT of the session's database (PostgreSQL or SQLite)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def _upsert(session: Session) -> Insert:
    statement = _dialect_insert(session)(Answer)
    return statement.on_conflict_do_update(
        index_elements=["response_id", "item_id"],
        set_={
            "value_number": statement.excluded.value_number,
            "value_text": statement.excluded.value_text,
            "updated_at": statement.excluded.updated_at,
        },
    )


def answers_of_invitation(
    *, session: Session, invitation: Invitation
) -> tuple[Questionnaire, Response, dict[str, AnswerValue]] | None:
    """The questionnaire, response and answers of an invitation, or None before the participant began."""
    response = response_of(session=session, invitation=invitation)
    if response is None:
        return None
    wave = session.get_one(Wave, invitation.wave_id)
    questionnaire = questionnaire_of(session=session, instrument_id=wave.instrument_id)
    return questionnaire, response, stored_answers(session=session, response=response)


def missing_by_section(questionnaire: Questionnaire, answers: Answers) -> dict[str, list[str]]:
    """Unanswered required questions on every page the participant sees."""
    missing = {}
    for section in questionnaire.visible_sections(answers):
        codes = missing_required(questionnaire, section, answers)
        if codes:
            missing[section.code] = codes
    return missing


def hidden_answers(questionnaire: Questionnaire, answers: Answers) -> list[str]:
    """Answers to questions that skip logic no longer shows (e.g. work questions after 'I am studying')."""
    shown = {
        item.code
        for section in questionnaire.visible_sections(answers)
        for item in questionnaire.visible_items(section, answers)
    }
    return [code for code in answers if code not in shown]


def submit(*, session: Session, response: Response, questionnaire: Questionnaire, invitation: Invitation) -> None:
    """Submit a response: every required answer present, answers to skipped questions dropped.

    Raises :class:`Incomplete` naming the missing answers; submitting twice changes nothing.
    """
    if response.submitted_at is not None:
        return
    answers = stored_answers(session=session, response=response)
    missing = missing_by_section(questionnaire, answers)
    if missing:
        raise Incomplete(next(iter(missing)), missing)
    wave = session.get_one(Wave, invitation.wave_id)
    hidden = hidden_answers(questionnaire, answers)
    if hidden:
        save_answers(
            session=session,
            response=response,
            instrument_id=wave.instrument_id,
            values=dict.fromkeys(hidden),
        )
    now = utcnow()
    response.submitted_at = now
    response.updated_at = now
    response.current_section = ""
    move(invitation, InvitationEvent.COMPLETED)
    session.add(response)
    session.add(invitation)
    session.flush()


def record_opened(*, session: Session, invitation: Invitation) -> None:
    """Note that the participant opened their personal link (the first time only); the caller commits."""
    if invitation.opened_at is None:
        move(invitation, InvitationEvent.OPENED)
        session.add(invitation)
