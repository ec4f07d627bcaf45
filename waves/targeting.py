"""Adaptive design: one extra reminder to the categories whose response lags behind, within a budget.

A wave may name a day of fieldwork (counted from its first opening) and a budget of messages. On that
day the planner measures the wave's representativeness by the study's **frame variables** only (what
the enrolment list gave for everyone, never earlier answers: a reminder rule that singles people out by
what they answered would have to be stated in the consent text), and
:func:`analysis.representativeness.plan_targeted_reminders` chooses whole categories whose partial
R-indicator is significantly negative, most lagging first, as long as they fit in the budget. The rule is
the same for everyone in a category. The decision, with the figures it rests on, goes into the audit log
(``reminders.targeted``), once per wave: a wave is targeted at most once.

A category the fieldwork page does not show (too few people, or a size that could be worked out from
the others) is not targeted either. Nobody is targeted who has completed the wave, whose window has
closed, who withdrew, stopped mail or was erased, or who has no contact details; a paused wave is not
targeted (its round waits for it to resume).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from analysis.representativeness import TargetingDecision, plan_targeted_reminders, r_indicator
from studyapp.core import audit
from studyapp.core.lifecycle import OPEN_STATES
from studyapp.core.models import AuditEvent, Identity, Invitation, Participant, Wave, key
from waves.representativeness import BOOTSTRAP, hidden_categories, wave_frame

#: The audit action of a targeting decision (one per wave).
TARGETED = "reminders.targeted"


@dataclass(frozen=True)
class TargetedReminder:
    """One reminder a targeting decision sends: to whom, for which invitation, in which language."""

    participant_id: int
    invitation_id: int
    language: str


def targeted_key(participant_id: int, wave_id: int) -> str:
    """The outbox key of a participant's targeted reminder in a wave (one at most)."""
    return f"targeted:p{participant_id}:w{wave_id}"


def round_due(session: Session, wave: Wave, now: datetime) -> bool:
    """Whether ``wave``'s targeted reminder is due at ``now`` and has not been decided yet."""
    if wave.targeted_reminder_day is None or wave.targeted_reminder_budget is None or wave.paused:
        return False
    first_opening = session.exec(select(func.min(Invitation.opens_at)).where(Invitation.wave_id == key(wave))).one()
    if first_opening is None or now < first_opening + timedelta(days=wave.targeted_reminder_day):
        return False
    decided = session.exec(
        select(AuditEvent.id).where(
            AuditEvent.action == TARGETED, AuditEvent.target_type == "wave", AuditEvent.target_id == str(key(wave))
        )
    ).first()
    return decided is None


def decide_targeted_reminders(
    *, session: Session, wave: Wave, now: datetime, min_cell_size: int
) -> tuple[TargetingDecision, list[TargetedReminder]]:
    """Measure the wave by its frame variables, choose the lagging categories within the budget, and log
    the decision (in the caller's transaction). Returns the decision and the reminders it sends."""
    assert wave.targeted_reminder_budget is not None, "round_due checks that the wave is targeted"
    frame = wave_frame(session, wave)
    auxiliaries = frame.frame_variables
    reachable = _reachable(session, wave, now)
    if auxiliaries:
        result = r_indicator(
            frame.people,
            "responded",
            auxiliaries,
            bootstrap=BOOTSTRAP,
            random_state=key(wave),
            min_cell_size=min_cell_size,
        )
        # a category the fieldwork page hides is not targeted either: the messages sent would tell its size
        partials = result.partials
        hidden = hidden_categories(
            zip(partials["variable"], partials["category"], partials["n"], strict=True), min_cell_size=min_cell_size
        )
        partials = partials.assign(
            suppressed=[
                bool(row.suppressed) or (str(row.variable), str(row.category)) in hidden
                for row in partials.itertuples()
            ]
        )
        eligible = frame.people[frame.people["participant_id"].isin(reachable)].set_index("participant_id")
        decision = plan_targeted_reminders(
            replace(result, partials=partials), eligible[auxiliaries], wave.targeted_reminder_budget
        )
    else:  # no frame variable tells any group apart: nobody lags behind by one
        decision = TargetingDecision(
            categories=[],
            people=[],
            messages=0,
            budget=wave.targeted_reminder_budget,
            basis={"reason": "no frame variable with more than one value among those invited"},
        )
    reminders = [reachable[int(participant_id)] for participant_id in decision.people]  # type: ignore[call-overload]
    audit.record(
        session=session,
        action=TARGETED,
        actor="scheduler",
        target_type="wave",
        target_id=key(wave),
        detail=_logged(decision, auxiliaries, now),
    )
    return decision, reminders


@dataclass(frozen=True)
class LoggedDecision:
    """A wave's targeting decision as the audit log keeps it: when (the scheduler's time) and what."""

    decided_at: datetime
    categories: list[list[str]]
    messages: int
    budget: int


def targeting_decisions(session: Session, wave_ids: list[int]) -> dict[int, LoggedDecision]:
    """Each wave's targeting decision, where one was made."""
    if not wave_ids:
        return {}
    events = session.exec(
        select(AuditEvent).where(
            AuditEvent.action == TARGETED,
            AuditEvent.target_type == "wave",
            col(AuditEvent.target_id).in_([str(wave_id) for wave_id in wave_ids]),
        )
    ).all()
    return {
        int(event.target_id): LoggedDecision(
            decided_at=datetime.fromisoformat(event.detail["decided_at"]) if "decided_at" in event.detail else event.at,
            categories=[list(pair) for pair in event.detail.get("categories", [])],
            messages=int(event.detail.get("messages", 0)),
            budget=int(event.detail.get("budget", 0)),
        )
        for event in events
    }


def _reachable(session: Session, wave: Wave, now: datetime) -> dict[int, TargetedReminder]:
    """Those a reminder about ``wave`` may reach at ``now``: an open invitation whose window has not
    closed, an active participant (not withdrawn, unsubscribed or erased), contact details."""
    rows = session.execute(
        sa_select(col(Invitation.participant_id), col(Invitation.id), col(Identity.language))
        .join(Participant, col(Participant.id) == Invitation.participant_id)
        .join(Identity, col(Identity.participant_id) == Participant.id)
        .where(
            col(Invitation.wave_id) == key(wave),
            col(Invitation.state).in_([state.value for state in OPEN_STATES]),
            col(Invitation.state) != "planned",
            (col(Invitation.closes_at).is_(None)) | (col(Invitation.closes_at) > now),
            col(Participant.status) == "active",
        )
    ).all()
    return {
        int(participant_id): TargetedReminder(int(participant_id), int(invitation_id), str(language))
        for participant_id, invitation_id, language in rows
    }


def _logged(decision: TargetingDecision, auxiliaries: list[str], now: datetime) -> dict[str, Any]:
    """The decision as the audit log keeps it: the figures and the choice, not the list of people."""
    return {
        "decided_at": now.isoformat(),
        "auxiliaries": auxiliaries,
        "categories": [[variable, category] for variable, category in decision.categories],
        "messages": decision.messages,
        "budget": decision.budget,
        "basis": decision.basis,
    }


__all__ = [
    "TARGETED",
    "LoggedDecision",
    "TargetedReminder",
    "decide_targeted_reminders",
    "round_due",
    "targeted_key",
    "targeting_decisions",
]
