"""Identities kept no longer than needed (GDPR Art. 5(1)(e)): each study names the day its participants'
e-mail addresses and names are erased; researchers with the identity permission are told 30 days before;
on the day the scheduler erases them once, and research data and pseudonyms stay.

The date is set and moved on the study page (a move needs a reason; both are audit-logged). It cannot lie
before the last wave closes, since invitations and reminders need the addresses until then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import Select, delete, func, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from studyapp.core import audit
from studyapp.core.errors import NotAllowed, ValidationFailed
from studyapp.core.inputs import text_problem
from studyapp.core.models import (
    Cohort,
    Identity,
    Invitation,
    MailboxMessage,
    OutboxMessage,
    Participant,
    Study,
    User,
    Wave,
    key,
)
from studyapp.core.privacy import Privacy
from waves.i18n import LANGUAGES, N_, long_date, translated
from waves.messages import RenderedMessage, html_document
from waves.notifications import register_notification

#: Researchers with the identity permission are told this many days before the identities are erased.
NOTICE_DAYS = 30
#: The date the study page suggests: this many years after the last wave closes.
SUGGESTED_YEARS = 2
#: The longest reason kept for moving the date.
REASON_MAX = 1000
NOTICE_KIND = "identity-retention"


@dataclass(frozen=True)
class RetentionState:
    """What the study page shows about a study's identities."""

    until: date | None
    erased_at: datetime | None
    notice_from: date | None  # the day the notice goes out
    last_close: date | None  # the day the study's last wave (or invitation) closes, in the study's time zone
    suggested: date | None  # SUGGESTED_YEARS after ``last_close``
    with_identity: int  # participants whose e-mail address and name are stored


def today_in(study: Study, now: datetime) -> date:
    """``now`` as a day in the study's time zone (the day a date on its page means)."""
    return now.astimezone(ZoneInfo(study.timezone)).date()


def _participants_of(study: Study) -> Select[int | None]:
    """The ids of the study's participants, as a subquery."""
    return (
        sa_select(col(Participant.id))
        .join(Cohort, col(Cohort.id) == Participant.cohort_id)
        .where(col(Cohort.study_id) == key(study))
    )


def last_close(session: Session, study: Study) -> date | None:
    """The day the study's last wave closes (dated waves, and each invitation's own window for waves that
    open relative to enrolment), in the study's time zone; ``None`` without any."""
    waves = session.execute(
        sa_select(func.max(col(Wave.closes_at)))
        .join(Cohort, col(Cohort.id) == Wave.cohort_id)
        .where(col(Cohort.study_id) == key(study))
    ).scalar()
    invitations = session.execute(
        sa_select(func.max(col(Invitation.closes_at))).where(
            col(Invitation.participant_id).in_(_participants_of(study))
        )
    ).scalar()
    moments = [m for m in (waves, invitations) if m is not None]
    if not moments:
        return None
    return (
        max(m if m.tzinfo else m.replace(tzinfo=ZoneInfo("UTC")) for m in moments)
        .astimezone(ZoneInfo(study.timezone))
        .date()
    )


def retention_state(session: Session, study: Study) -> RetentionState:
    """The study's retention date, whether its identities are gone, and what the page suggests."""
    closes = last_close(session, study)
    until = study.identity_retention_until
    with_identity = session.execute(
        sa_select(func.count()).select_from(Identity).where(col(Identity.participant_id).in_(_participants_of(study)))
    ).scalar_one()
    return RetentionState(
        until=until,
        erased_at=study.identities_erased_at,
        notice_from=until - timedelta(days=NOTICE_DAYS) if until is not None else None,
        last_close=closes,
        suggested=_years_after(closes, SUGGESTED_YEARS) if closes is not None else None,
        with_identity=int(with_identity),
    )


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def retention_problems(
    session: Session, study: Study, *, until: date | None, reason: str, now: datetime
) -> dict[str, str]:
    """What is wrong with setting the study's identity retention date to ``until`` (field -> message)."""
    problems: dict[str, str] = {}
    if study.identities_erased_at is not None:
        problems["until"] = _("The identities of this study were erased already; there is nothing left to keep.")
        return problems
    if until is None:
        problems["until"] = _("Give the day the identities are erased.")
    elif until <= today_in(study, now):
        problems["until"] = _("Choose a day after today.")
    else:
        closes = last_close(session, study)
        if closes is not None and until <= closes:
            problems["until"] = _(
                "Choose a day after the last wave closes (%(day)s): invitations and reminders need the addresses "
                "until then.",
                day=closes.isoformat(),
            )
    moved = study.identity_retention_until is not None and until != study.identity_retention_until
    if moved and not reason.strip():
        problems["reason"] = _("Say why the date moves: the reason is kept in the audit log.")
    elif problem := text_problem(reason, field=_("Reason"), max_length=REASON_MAX):
        problems["reason"] = problem
    return problems


def set_retention(
    *, session: Session, study: Study, until: date | None, reason: str, user: User, now: datetime
) -> None:
    """Set or move the day ``study``'s identities are erased (audit-logged with the reason). Only those who
    may see identities decide how long they are kept.

    Raises :class:`ValidationFailed` with every problem at once, :class:`NotAllowed` without the permission.
    """
    if not (user.active and user.can_view_identities):
        raise NotAllowed(_("Only a researcher with the identity permission can change how long identities are kept."))
    problems = retention_problems(session, study, until=until, reason=reason, now=now)
    if problems:
        raise ValidationFailed(problems)
    assert until is not None
    before = study.identity_retention_until
    if before == until:
        return
    study.identity_retention_until = until
    session.add(study)
    audit.record(
        session=session,
        action="study.identity_retention_set" if before is None else "study.identity_retention_moved",
        user=user,
        target_type="study",
        target_id=study.id,
        detail={"from": before.isoformat() if before else None, "to": until.isoformat(), "reason": reason.strip()},
    )


# ---------------------------------------------------------------------------------------------- notices

_SUBJECT = N_("Identities of {study} are erased on {day}")
_BODY = N_(
    "Dear {name},\n\nOn {day} the scheduler erases the e-mail addresses and names of the {count} participants "
    "of {study} whose identities are still stored. Their answers and pseudonyms stay; nobody can be invited "
    "or reminded afterwards.\n\nTo keep the identities longer, move the date with a reason on the study "
    "page: {base_url}/studies/{study_id}\n\nBridge the Gap"
)


def retention_message(
    *, session: Session, reference: str, language: str, base_url: str, user: User
) -> RenderedMessage | None:
    """The notice an outbox key names (``<study id>:<day>:<user id>`` after the kind); ``None`` when it
    no longer holds: the study is gone, its identities are erased, or the date moved (the new date gets its
    own notice)."""
    study_id, _, rest = reference.partition(":")
    day = rest.partition(":")[0]
    study = session.get(Study, int(study_id)) if study_id.isdigit() else None
    if (
        study is None
        or study.identities_erased_at is not None
        or study.identity_retention_until is None
        or study.identity_retention_until.isoformat() != day
        or not user.can_view_identities
    ):
        return None
    language = language if language in LANGUAGES else "en"
    values = {
        "name": user.name,
        "study": study.name,
        "study_id": study.id,
        "day": long_date(study.identity_retention_until, language),
        "count": retention_state(session, study).with_identity,
        "base_url": base_url,
    }
    subject = translated(language, _SUBJECT).format(**values)
    body = translated(language, _BODY).format(**values)
    html = "".join(f"<p>{part.replace(chr(10), '<br>')}</p>" for part in escape(body).split("\n\n"))
    return RenderedMessage(
        subject=subject, text=body, html=html_document(html, language=language, title=subject), language=language
    )


def _keepers(session: Session) -> list[User]:
    """The active accounts that may see identities: they decide how long identities are kept."""
    users = session.exec(select(User).where(col(User.can_view_identities).is_(True))).all()
    return [u for u in users if u.active and u.role in ("researcher", "admin")]


def queue_notices(session: Session, now: datetime) -> int:
    """Queue the notice for every study whose identities are erased within :data:`NOTICE_DAYS`, once per
    researcher and date (a moved date is announced again). Returns how many were queued."""
    queued = 0
    studies = session.exec(
        select(Study).where(col(Study.identity_retention_until).is_not(None), col(Study.identities_erased_at).is_(None))
    ).all()
    keepers = None
    for study in studies:
        until = study.identity_retention_until
        assert until is not None
        if today_in(study, now) < until - timedelta(days=NOTICE_DAYS):
            continue
        keepers = _keepers(session) if keepers is None else keepers
        for user in keepers:
            idempotency = f"{NOTICE_KIND}:{study.id}:{until.isoformat()}:{user.id}"
            if session.exec(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == idempotency)).first():
                continue
            session.add(
                OutboxMessage(idempotency_key=idempotency, kind="notification", user_id=user.id, language=user.language)
            )
            queued += 1
            audit.record(
                session=session,
                action="study.identity_retention_notice",
                actor="scheduler",
                target_type="study",
                target_id=study.id,
                detail={"day": until.isoformat(), "user": user.id},
            )
    return queued


# --------------------------------------------------------------------------------------------- erasure


@dataclass(frozen=True)
class Erased:
    """What the scheduler erased of one study."""

    study_id: int
    identities: int
    pending_messages: int
    mailbox_messages: int


def erase_due(session: Session, now: datetime, privacy: Privacy) -> list[Erased]:
    """Erase the identities of every study whose day has come, each exactly once.

    A study is claimed by setting ``identities_erased_at`` where it is still empty, in the same transaction
    as the erasure (the caller commits): a second scheduler, or this one after a restart, finds it taken,
    and a crash before the commit leaves it to the next tick whole. Deleted: the identity rows (e-mail,
    name and the keyed hashes that could find a person again), the participants' messages still waiting in
    the outbox, and the built-in mailbox's copies of what was sent to them. Research data, consent events
    and pseudonyms stay.
    """
    done = []
    studies = session.exec(
        select(Study).where(col(Study.identity_retention_until).is_not(None), col(Study.identities_erased_at).is_(None))
    ).all()
    for study in studies:
        until = study.identity_retention_until
        assert until is not None
        if today_in(study, now) < until:
            continue
        claimed = session.exec(
            update(Study)
            .where(col(Study.id) == key(study), col(Study.identities_erased_at).is_(None))
            .values(identities_erased_at=now)
        )
        if claimed.rowcount != 1:
            continue
        people = _participants_of(study)
        addresses = [
            privacy.decrypt(token)
            for token in session.execute(
                sa_select(col(Identity.email_encrypted)).where(col(Identity.participant_id).in_(people))
            ).scalars()
        ]
        mailbox = 0
        for start in range(0, len(addresses), 500):
            mailbox += session.exec(
                delete(MailboxMessage).where(col(MailboxMessage.recipient).in_(addresses[start : start + 500]))
            ).rowcount
        pending = session.exec(
            delete(OutboxMessage).where(
                col(OutboxMessage.participant_id).in_(people), col(OutboxMessage.status) == "pending"
            )
        ).rowcount
        identities = session.exec(delete(Identity).where(col(Identity.participant_id).in_(people))).rowcount
        audit.record(
            session=session,
            action="study.identities_erased",
            actor="scheduler",
            target_type="study",
            target_id=study.id,
            detail={
                "day": until.isoformat(),
                "identities": identities,
                "pending_messages": pending,
                "mailbox_messages": mailbox,
            },
        )
        done.append(Erased(key(study), identities, pending, mailbox))
    return done


def register() -> None:
    """Let the dispatcher compose the retention notices (called at start-up by the app and the scheduler)."""
    register_notification(NOTICE_KIND, retention_message)


__all__ = [
    "NOTICE_DAYS",
    "Erased",
    "RetentionState",
    "erase_due",
    "last_close",
    "queue_notices",
    "register",
    "retention_problems",
    "retention_state",
    "set_retention",
    "today_in",
]
