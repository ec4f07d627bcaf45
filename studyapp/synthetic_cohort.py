"""Storing a simulated cohort (:func:`analysis.synthetic.simulate_cohort`) through the real tables.

The demo study gets one, so that fieldwork numbers, exports, feedback and the analysis pages show real
output on a fresh installation. Participants have pseudonyms and answers but no identity (no e-mail).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import insert
from sqlmodel import Session, col, select

from analysis.synthetic import simulate_cohort
from studyapp.core.models import Answer, Cohort, Invitation, Item, Participant, Response, Wave, key
from studyapp.core.types import utcnow


def store_synthetic_cohort(
    *,
    session: Session,
    cohort: Cohort,
    waves: list[Wave],
    n: int,
    random_state: int = 2026,
    attrition: float = 0.15,
    separation: float = 0.4,
    invite_dropouts: bool = False,
    attrition_bias: float = 0.0,
) -> int:
    """Simulate ``n`` participants answering ``waves`` and store them as submitted responses.

    Each participant keeps their simulated gender and institution as frame variables. With
    ``invite_dropouts``, those who answered a wave and dropped out before the next are invited to it
    without answering (as a panel invites last wave's respondents), so the later waves have non-response;
    ``attrition_bias`` makes those who want to leave the technical sector drop out more often (see
    :func:`analysis.synthetic.simulate_cohort`).

    ``separation`` scales how far apart the profiles lie (see :func:`analysis.synthetic.simulate_cohort`);
    0.4 gives a classification about as clear as in real surveys (relative entropy near 0.9 with 400
    people). Each wave's responses are dated inside its window (or, for relative waves, half a year apart
    ending a month ago). Returns the number of responses stored.
    """
    cohort_truth = simulate_cohort(
        n,
        len(waves),
        attrition=attrition,
        separation=separation,
        random_state=random_state,
        attrition_bias=attrition_bias,
    )
    instrument_ids = {w.instrument_id for w in waves}
    items = {
        code: item_id
        for code, item_id in session.exec(select(Item.code, Item.id).where(col(Item.instrument_id).in_(instrument_ids)))
    }
    now = utcnow()
    people = {}
    for index, pseudonym in enumerate(cohort_truth.participants["pseudonym"]):
        simulated = cohort_truth.participants.iloc[index]
        participant = Participant(
            pseudonym=f"SYN{cohort.id}-{index + 1:05d}",
            cohort_id=key(cohort),
            frame={"gender": str(simulated["gender"]), "institution": str(simulated["institution"])},
        )
        session.add(participant)
        people[pseudonym] = participant
    session.flush()
    answers = cohort_truth.answers.dropna(subset=["value"])
    answers = answers[answers["item"].isin(items)]
    stored = 0
    for position, wave in enumerate(waves, start=1):
        submitted_at = _moment(wave, position, len(waves), now)
        by_person = list(answers[answers["wave"] == position].groupby("pseudonym", sort=False))
        invitations = [
            _invitation(people[pseudonym], wave, submitted_at, completed=True) for pseudonym, _rows in by_person
        ]
        answered = {pseudonym for pseudonym, _rows in by_person}
        dropped = (
            [p for p in answers.loc[answers["wave"] == position - 1, "pseudonym"].unique() if p not in answered]
            if invite_dropouts and position > 1
            else []
        )
        session.add_all(_invitation(people[pseudonym], wave, submitted_at, completed=False) for pseudonym in dropped)
        session.add_all(invitations)
        session.flush()  # one batched INSERT per wave, not one per person
        responses = [
            Response(
                invitation_id=key(invitation),
                language="nl",
                started_at=submitted_at - timedelta(minutes=22),
                updated_at=submitted_at,
                submitted_at=submitted_at,
            )
            for invitation in invitations
        ]
        session.add_all(responses)
        session.flush()
        rows_of_wave = [
            {
                "response_id": response.id,
                "item_id": items[code],
                "value_number": int(np.rint(value)),
                "value_text": None,
                "updated_at": submitted_at,
            }
            for response, (_pseudonym, rows) in zip(responses, by_person, strict=True)
            for code, value in zip(rows["item"].to_numpy(), rows["value"].to_numpy(), strict=True)
        ]
        if rows_of_wave:
            session.execute(insert(Answer), rows_of_wave)
        stored += len(responses)
    return stored


def _invitation(participant: Participant, wave: Wave, submitted_at: datetime, *, completed: bool) -> Invitation:
    """A simulated invitation to ``wave``: completed at ``submitted_at``, or sent and left unanswered."""
    sent_at = submitted_at - timedelta(days=3)
    return Invitation(
        participant_id=key(participant),
        wave_id=key(wave),
        state="completed" if completed else "sent",
        opens_at=sent_at,
        closes_at=submitted_at + timedelta(days=25),
        sent_at=sent_at,
        opened_at=submitted_at - timedelta(minutes=25) if completed else None,
        completed_at=submitted_at if completed else None,
    )


def _moment(wave: Wave, position: int, n_waves: int, now: datetime) -> datetime:
    if wave.opens_at is not None and wave.opens_at < now:
        return wave.opens_at + timedelta(days=4)
    return now - timedelta(days=30 + 182 * (n_waves - position))
