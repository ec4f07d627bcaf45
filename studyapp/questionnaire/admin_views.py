"""Staff pages of the questionnaire: a participant's answers to one wave, page by page."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue

from studyapp.auth import staff_required
from studyapp.core.models import Invitation, Wave
from studyapp.database import get_session, participant_or_404
from studyapp.questionnaire.page_view import review_pages
from studyapp.questionnaire.responses import answers_of_invitation

bp = Blueprint("questionnaire_admin", __name__)


@bp.route("/participants/<int:participant_id>/invitations/<int:invitation_id>/answers")
@staff_required
def answers(participant_id: int, invitation_id: int) -> ResponseReturnValue:
    """A participant's answers to one wave, page by page (pseudonymous research data; free text escaped)."""
    participant, cohort, study = participant_or_404(participant_id)
    session = get_session()
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.participant_id != participant.id:
        abort(404)
    found = answers_of_invitation(session=session, invitation=invitation)
    if found is None:
        abort(404)
    questionnaire, response, given = found
    wave = session.get(Wave, invitation.wave_id)
    return render_template(
        "participants/answers.html",
        participant=participant,
        cohort=cohort,
        study=study,
        wave=wave,
        response=response,
        pages=review_pages(questionnaire, given, "en"),
    )
