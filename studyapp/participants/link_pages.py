"""What every page reached by a personal link shares: finding the participant behind the link, the page's
language, and the page a link that opens nothing gets."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue

from studyapp.core.links import invitation_for_token
from studyapp.core.models import Cohort, Invitation, Participant, Study
from studyapp.database import get_session
from studyapp.participants import identities
from studyapp.participants.texts import texts_for


def link_language(default: str | None) -> str:
    """The page's language: the ``lang`` the participant chose, else ``default``, else Dutch."""
    chosen = request.args.get("lang")
    return chosen if chosen in ("nl", "en") else (default or "nl")


def invalid_link(language: str) -> ResponseReturnValue:
    """The 404 page of a link that opens nothing (unknown, or its participant erased)."""
    t = texts_for(language)
    return render_template(
        "participant/message.html",
        t=t,
        lang=language,
        title=t["invalid_link_title"],
        message=t["invalid_link"],
    ), 404


def resolve_link(token: str) -> tuple[Invitation, Participant, Study, str] | None:
    """The invitation, participant and study behind a personal link and the page's language, or ``None``
    for a link that opens nothing (an erased participant's links open nothing either)."""
    session = get_session()
    invitation = invitation_for_token(session=session, token=token)
    if invitation is None:
        return None
    participant = session.get(Participant, invitation.participant_id)
    if participant is None or participant.status == "erased":
        return None
    cohort = session.get_one(Cohort, participant.cohort_id)
    study = session.get_one(Study, cohort.study_id)
    identity = identities.identity_of(session=session, participant=participant)
    return invitation, participant, study, link_language(identity.language if identity else None)
