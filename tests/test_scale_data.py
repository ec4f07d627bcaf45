"""The analysis input at scale: the answers are read as small integers in chunks, never one object per answer,
and the frames are exactly those the long pivot of every answer gave (kept here as the reference)."""

from __future__ import annotations

import tracemalloc

import pandas as pd
import pytest
from sqlmodel import Session, col, select

from analysis.scoring import score
from studyapp.analyses import data as analysis_data
from studyapp.analyses.data import cohort_data, submitted_answers
from studyapp.core.models import Answer, Cohort, Invitation, Item, Participant, Response, Wave
from studyapp.synthetic_cohort import store_synthetic_cohort
from tests.factories import (
    enrol,
    invite_with_token,
    load_carriere_kompas,
    make_cohort,
    make_instrument,
    make_study,
    make_wave,
    submit_response,
)


def long_pivot_items(session: Session, cohort: Cohort) -> pd.DataFrame:
    """The items frame as cohort_data built it before issue 17: every answer fetched as a row, then pivoted."""
    waves = session.exec(select(Wave).where(Wave.cohort_id == cohort.id).order_by(col(Wave.position))).all()
    rows = session.exec(
        select(Participant.pseudonym, Wave.label, Item.code, Answer.value_number)
        .join(Response, col(Response.id) == Answer.response_id)
        .join(Invitation, col(Invitation.id) == Response.invitation_id)
        .join(Wave, col(Wave.id) == Invitation.wave_id)
        .join(Participant, col(Participant.id) == Invitation.participant_id)
        .join(Item, col(Item.id) == Answer.item_id)
        .where(
            Wave.cohort_id == cohort.id,
            col(Response.submitted_at).is_not(None),
            col(Answer.value_number).is_not(None),
        )
    ).all()
    long = pd.DataFrame(rows, columns=["pseudonym", "wave", "item", "value"])
    labels = [w.label for w in waves]
    if long.empty:
        items = pd.DataFrame(columns=["pseudonym", "wave"])
    else:
        items = long.pivot_table(index=["pseudonym", "wave"], columns="item", values="value", aggfunc="first")
        items = items.reset_index()
        items.columns.name = None
    items["wave"] = pd.Categorical(items["wave"], categories=labels, ordered=True)
    return items.sort_values(["wave", "pseudonym"]).reset_index(drop=True)


@pytest.fixture
def three_waves(session: Session) -> Cohort:
    """60 simulated people over three waves of the Carrière Kompas (reverse-keyed and categorical items,
    attrition, unanswered items), plus a response still being filled in and one with only a text answer."""
    instrument = load_carriere_kompas(session)
    study = make_study(session)
    cohort = make_cohort(session, study, "Alumni")
    waves = [make_wave(session, cohort, instrument, label=f"T{n}") for n in (1, 2, 3)]
    store_synthetic_cohort(session=session, cohort=cohort, waves=waves, n=60, attrition=0.2, random_state=3)
    busy = enrol(session, cohort, "busy@example.org")
    response = submit_response(session, invite_with_token(session, busy, waves[0])[0], {"pers_shy": 4})
    response.submitted_at = None
    session.add(response)
    text_only = enrol(session, cohort, "text@example.org")
    invitation = invite_with_token(session, text_only, waves[1])[0]
    submit_response(session, invitation, {"prof_title_other": "a data scientist"})
    # an answer to another instrument's item (the app stores none, but the frame must hold what is there)
    small = make_instrument(session)
    other = session.exec(select(Item).where(Item.instrument_id == small.id, Item.code == "cc_1")).one()
    first = session.exec(select(Response).where(col(Response.submitted_at).is_not(None))).first()
    session.add(Answer(response_id=first.id, item_id=other.id, value_number=2))
    session.commit()
    return cohort


def test_the_items_frame_equals_the_long_pivot_over_waves_with_missing_answers(session, three_waves, monkeypatch):
    expected = long_pivot_items(session, three_waves)
    assert expected["wave"].value_counts().sort_index().tolist()[0] == 60  # the fixture holds what it says
    assert expected.isna().any().any() and len(expected.columns) > 100 and "cc_1" in expected
    monkeypatch.setattr(analysis_data, "ANSWER_CHUNK", 997)  # many chunks, their borders inside responses
    data = cohort_data(session=session, cohort=three_waves)
    pd.testing.assert_frame_equal(data.items, expected, check_exact=True)
    assert data.items.columns.tolist() == expected.columns.tolist()
    pd.testing.assert_frame_equal(data.scores, score(expected, data.scales, id_columns=["pseudonym", "wave"]))


def test_the_items_frame_equals_the_long_pivot_when_nothing_is_missing_or_nothing_answered(session) -> None:
    instrument = make_instrument(session)
    cohort = make_cohort(session, make_study(session))
    waves = [make_wave(session, cohort, instrument, label=label) for label in ("T1", "T2")]
    empty = submitted_answers(session=session, waves=waves)
    pd.testing.assert_frame_equal(empty, long_pivot_items(session, cohort), check_exact=True)
    for n in range(3):
        person = enrol(session, cohort, f"p{n}@example.org")
        submit_response(session, invite_with_token(session, person, waves[n % 2])[0], {"cc_1": 1 + n, "cc_2": 7 - n})
    complete = submitted_answers(session=session, waves=waves)
    pd.testing.assert_frame_equal(complete, long_pivot_items(session, cohort), check_exact=True)
    assert complete["cc_1"].dtype == "int64"  # as the pivot gives them when no cell is missing


def test_loading_the_answers_does_not_hold_an_object_per_answer(session, three_waves, monkeypatch) -> None:
    """Peak Python memory while loading is a few bytes per answer (the old rows and frame took hundreds)."""
    monkeypatch.setattr(analysis_data, "ANSWER_CHUNK", 1000, raising=False)
    answers = session.exec(select(Answer.id).where(col(Answer.value_number).is_not(None))).all()
    session.expire_all()
    tracemalloc.start()
    try:
        cohort_data(session=session, cohort=three_waves)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak / len(answers) < 80, f"{peak / len(answers):.0f} bytes per answer"
