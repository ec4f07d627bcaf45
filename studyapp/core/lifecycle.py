"""An invitation's life: its states, the events that move it, and the one function that moves it.

```
planned ──sent──▶ sent ──opened──▶ opened ──started──▶ started ──completed──▶ completed
   ▲  └─────────────┴─send_failed─▶ failed                ▲
   └──────resent───────────────────┘ └───────started──────┘   (a participant may begin from any
                                                              state before started, e.g. a link
                                                              from an earlier message)
```

Every change of ``Invitation.state`` goes through :func:`move` (ORM) or, on the dispatcher's hot path,
through SQL whose allowed states come from :func:`from_states` — the same table.
"""

from __future__ import annotations

from enum import StrEnum

from studyapp.core.models import Invitation
from studyapp.core.types import utcnow


class InvitationState(StrEnum):
    """Where an invitation stands (the values stored in ``invitation.state``)."""

    PLANNED = "planned"
    SENT = "sent"
    OPENED = "opened"
    STARTED = "started"
    COMPLETED = "completed"
    FAILED = "failed"


class InvitationEvent(StrEnum):
    """What happens to an invitation."""

    SENT = "sent"  # the dispatcher handed the message to the mail server
    SEND_FAILED = "send_failed"  # the mail server refused it for good, or it could not be composed
    OPENED = "opened"  # the participant opened the personal link
    STARTED = "started"  # the participant saved a first page
    COMPLETED = "completed"  # the participant submitted
    RESENT = "resent"  # a researcher sends a failed invitation again


_BEFORE_STARTING = frozenset(
    {InvitationState.PLANNED, InvitationState.SENT, InvitationState.OPENED, InvitationState.FAILED}
)

#: event -> (the states it applies to, the state it leads to). An event in any other state changes nothing.
TRANSITIONS: dict[InvitationEvent, tuple[frozenset[InvitationState], InvitationState]] = {
    InvitationEvent.SENT: (frozenset({InvitationState.PLANNED}), InvitationState.SENT),
    InvitationEvent.SEND_FAILED: (frozenset({InvitationState.PLANNED, InvitationState.SENT}), InvitationState.FAILED),
    InvitationEvent.OPENED: (frozenset({InvitationState.SENT}), InvitationState.OPENED),
    InvitationEvent.STARTED: (_BEFORE_STARTING, InvitationState.STARTED),
    InvitationEvent.COMPLETED: (_BEFORE_STARTING | {InvitationState.STARTED}, InvitationState.COMPLETED),
    InvitationEvent.RESENT: (frozenset({InvitationState.FAILED}), InvitationState.PLANNED),
}

#: States in which the participant can still answer or be reminded.
OPEN_STATES = frozenset(InvitationState) - {InvitationState.COMPLETED, InvitationState.FAILED}


def from_states(event: InvitationEvent) -> tuple[str, ...]:
    """The states ``event`` applies to, sorted (for SQL ``state IN (...)``)."""
    return tuple(sorted(TRANSITIONS[event][0]))


def target(event: InvitationEvent) -> InvitationState:
    """The state ``event`` leads to."""
    return TRANSITIONS[event][1]


def move(invitation: Invitation, event: InvitationEvent) -> bool:
    """Apply ``event`` to ``invitation`` (stamping ``opened_at`` / ``completed_at``); ``True`` if it changed.

    The caller adds the invitation to its session; operations flush, entry points commit.
    """
    allowed, new_state = TRANSITIONS[event]
    now = utcnow()
    if event is InvitationEvent.OPENED and invitation.opened_at is None:
        invitation.opened_at = now  # a link opened is recorded whatever the state
    if invitation.state not in allowed:
        return False
    invitation.state = new_state.value
    if event is InvitationEvent.STARTED:
        invitation.opened_at = invitation.opened_at or now
    elif event is InvitationEvent.COMPLETED:
        invitation.completed_at = now
    return True
