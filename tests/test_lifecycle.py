"""One invitation lifecycle: the states as an enum, a table of transitions, one function that moves them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from studyapp.core import migrate
from studyapp.core.lifecycle import (
    OPEN_STATES,
    TRANSITIONS,
    InvitationEvent,
    InvitationState,
    from_states,
    move,
    target,
)
from studyapp.core.models import Invitation
from studyapp.core.models.fieldwork import INVITATION_STATES
from tests.conftest import Database

ROOT = Path(__file__).resolve().parents[1]


def test_the_enum_is_what_the_database_allows() -> None:
    assert {state.value for state in InvitationState} == set(INVITATION_STATES)
    assert all(new in InvitationState for _, new in TRANSITIONS.values())
    assert {"planned", "sent", "opened", "started"} == OPEN_STATES


@pytest.mark.parametrize(
    ("start", "event", "end", "changed"),
    [
        ("planned", InvitationEvent.SENT, "sent", True),
        ("sent", InvitationEvent.SENT, "sent", False),
        ("planned", InvitationEvent.SEND_FAILED, "failed", True),
        ("completed", InvitationEvent.SEND_FAILED, "completed", False),
        ("sent", InvitationEvent.OPENED, "opened", True),
        ("started", InvitationEvent.OPENED, "started", False),
        ("failed", InvitationEvent.STARTED, "started", True),
        ("completed", InvitationEvent.STARTED, "completed", False),
        ("started", InvitationEvent.COMPLETED, "completed", True),
        ("failed", InvitationEvent.RESENT, "planned", True),
        ("sent", InvitationEvent.RESENT, "sent", False),
    ],
)
def test_each_event_moves_only_from_the_states_the_table_allows(
    start: str, event: InvitationEvent, end: str, changed: bool
) -> None:
    invitation = Invitation(participant_id=1, wave_id=1, state=start)
    assert move(invitation, event) is changed
    assert invitation.state == end
    assert (start in from_states(event)) is changed and (not changed or target(event) == end)


def test_opening_a_link_is_recorded_in_any_state_and_completing_stamps_the_time() -> None:
    invitation = Invitation(participant_id=1, wave_id=1, state="started")
    move(invitation, InvitationEvent.OPENED)
    assert invitation.state == "started" and invitation.opened_at is not None
    move(invitation, InvitationEvent.COMPLETED)
    assert invitation.completed_at is not None


def test_nothing_but_the_lifecycle_writes_an_invitation_state() -> None:
    """The dispatcher's SQL and every service go through core.lifecycle (a new direct write fails here)."""
    offenders = []
    for path in [*ROOT.glob("studyapp/**/*.py"), *ROOT.glob("waves/**/*.py")]:
        if path.name == "lifecycle.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"invitation\w*\.state\s*=[^=]|\"state\":\s*\"", line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_migrated_database_refuses_a_state_outside_the_lifecycle(database: Database) -> None:
    migrate.upgrade(database.engine)
    with pytest.raises(IntegrityError), database.engine.begin() as connection:
        connection.execute(text("INSERT INTO invitation (participant_id, wave_id, state) VALUES (1, 1, 'expired')"))
