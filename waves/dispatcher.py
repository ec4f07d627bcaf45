"""The dispatcher: sends outbox rows and marks them sent, one commit per message.

A row is claimed (status ``sending``) before it is sent, so two dispatchers never send the same row; the
claim is a lease kept alive by a heartbeat, and a dead dispatcher's rows are taken over within seconds
(``waves.claims``). A dispatcher killed between handing a message to the server and recording it repeats
that one message, with the same Message-ID (derived from the outbox key) and a fresh, also working,
personal link. (On PostgreSQL outcomes are committed asynchronously: a crash of the database server
itself, not of the dispatcher, may repeat the messages recorded in its last 0.6 s; see ``_Recorder``.)

Claims read only the rows they claim (partial indexes on claimable and on claimed rows), so the cost
per message does not grow with the outbox; a paused wave's pending rows are set aside
(``held_for_wave_id``) the first time a claim meets them and put back when the wave resumes.

One bad message never holds up the others: whatever belongs to one message (an address the server or
the encoding refuses, a text that cannot be composed, a 5xx, anything unforeseen) fails that message
with its reason, shown on the fieldwork dashboard; only a server that cannot be reached stops a run.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import ColumnElement, Update, and_, bindparam, literal_column, or_, update
from sqlalchemy import select as select_columns
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from studyapp.core.bulk import add_rows
from studyapp.core.lifecycle import OPEN_STATES, InvitationEvent, from_states, target
from studyapp.core.links import new_tokens
from studyapp.core.models import (
    Answer,
    Cohort,
    Identity,
    Invitation,
    InvitationToken,
    Item,
    OutboxMessage,
    Participant,
    Response,
    Study,
    User,
    Wave,
)
from studyapp.core.models._common import key, table_of
from studyapp.core.privacy import Privacy
from studyapp.core.types import utcnow
from waves.claims import LEASE, Heartbeat, holder_name, is_dead
from waves.i18n import translated
from waves.messages import (
    OutgoingMessage,
    build_email,
    greeting,
    local_date,
    message_id_for,
    render,
    template_for,
)
from waves.notifications import compose_notification
from waves.transport import PermanentFailure, TemporaryFailure, Transport

MAX_ATTEMPTS = 8
# The invitation's moves the dispatcher records in plain SQL, read once from the lifecycle's table.
_SENT_FROM, _SENT_TO = from_states(InvitationEvent.SENT), target(InvitationEvent.SENT).value
_FAILED_FROM, _FAILED_TO = from_states(InvitationEvent.SEND_FAILED), target(InvitationEvent.SEND_FAILED).value
BATCH = 50
STUDY_DATA_TTL = 30.0  # seconds a run keeps the waves, studies and templates it looked up
LOOKUP_CHUNK = 1000  # ids per query where a run's rows are looked up again
OUTBOX = table_of(OutboxMessage)
INVITATIONS = table_of(Invitation)
WAVES = table_of(Wave)
TOKENS = table_of(InvitationToken)


@dataclass(frozen=True)
class DispatchConfig:
    """Where links point and who sends."""

    base_url: str
    sender: str
    claim_timeout: timedelta = LEASE
    batch: int = BATCH


@dataclass
class DispatchReport:
    """What one dispatch run did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    stopped_early: str = ""
    message_ids: list[str] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)  # (outbox row, reason) of failed messages
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, outcome: str, row_id: int, detail: str) -> None:
        """Count one message's outcome (``sent`` with its Message-ID, ``failed`` with its reason, ...); the
        connections of a run report at once."""
        with self._lock:
            setattr(self, outcome, getattr(self, outcome) + 1)
            if outcome == "sent":
                self.message_ids.append(detail)
            elif outcome == "failed":
                self.failures.append((row_id, detail))


def backoff(attempts: int) -> timedelta:
    """How long to wait before retrying after ``attempts`` temporary failures (1, 2, 4 ... minutes, max 6 h)."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


# The partial indexes' conditions (see OutboxMessage), with literal values: bound parameters would keep
# SQLite (and PostgreSQL's generic plans) from using those indexes.
_CLAIMABLE = and_(OUTBOX.c.status == literal_column("'pending'"), OUTBOX.c.held_for_wave_id.is_(None))
_CLAIMED = OUTBOX.c.status == literal_column("'sending'")


def _taken_over(lease_now: datetime, config: DispatchConfig, dead: list[str]) -> ColumnElement[bool]:
    """Claimed rows whose claim ran out (lease times are wall-clock) or whose holder died."""
    expired = OUTBOX.c.claimed_at < lease_now - config.claim_timeout
    return and_(_CLAIMED, or_(expired, OUTBOX.c.claimed_by.in_(dead)) if dead else expired)


def due_condition(now: datetime) -> ColumnElement[bool]:
    """Pending rows due at ``now`` and not set aside for a paused wave."""
    return and_(_CLAIMABLE, OUTBOX.c.not_before <= now)


def _dead_holders(connection: Connection) -> list[str]:
    """Holders of claimed rows whose process is gone (see :func:`waves.claims.is_dead`); reads the claimed
    rows only (a partial index), never the backlog."""
    holders = connection.execute(select(OUTBOX.c.claimed_by).where(_CLAIMED).distinct()).scalars()
    return [holder for holder in holders if holder and is_dead(holder)]


class _Claimed(NamedTuple):
    """What composing a claimed outbox row needs of it."""

    id: int
    invitation_id: int | None
    kind: str
    attempts: int
    idempotency_key: str
    user_id: int | None
    language: str


_CLAIMED_COLUMNS = tuple(OUTBOX.c[name] for name in _Claimed._fields)


def _candidates(connection: Connection, condition: ColumnElement[bool], limit: int, *, ordered: bool) -> list[_Claimed]:
    """Up to ``limit`` rows meeting ``condition``, skipping rows another dispatcher has locked."""
    if limit <= 0:
        return []
    query = select_columns(*_CLAIMED_COLUMNS).where(condition)
    query = query.order_by(OUTBOX.c.not_before, OUTBOX.c.id) if ordered else query.order_by(OUTBOX.c.id)
    return [_Claimed(*row) for row in connection.execute(query.limit(limit).with_for_update(skip_locked=True))]


def _paused_waves(connection: Connection, rows: list[_Claimed]) -> dict[int, list[int]]:
    """Of ``rows`` (one batch), those whose wave is paused, by wave; reads their invitations and waves by
    key, and no other outbox row."""
    invitation_ids = {row.invitation_id for row in rows if row.invitation_id is not None}
    if not invitation_ids:
        return {}
    paused: dict[int | None, int] = {
        invitation_id: wave_id
        for invitation_id, wave_id in connection.execute(
            select(INVITATIONS.c.id, INVITATIONS.c.wave_id)
            .join(WAVES, WAVES.c.id == INVITATIONS.c.wave_id)
            .where(INVITATIONS.c.id.in_(invitation_ids), WAVES.c.paused.is_(True))
        )
    }
    found: dict[int, list[int]] = {}
    for row in rows:
        if row.invitation_id in paused:
            found.setdefault(paused[row.invitation_id], []).append(row.id)
    return found


def _hold(connection: Connection, wave_id: int, row_ids: list[int]) -> None:
    """Set a paused wave's pending rows aside (out of the claim index) until it resumes.

    ``row_ids`` (claimed rows of the wave whose claim ran out) go back to pending first. Rows another
    dispatcher has locked are left to it: it finds them paused as well, so no dispatcher waits for another.
    """
    connection.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(row_ids), OUTBOX.c.status == "sending")
        .values(status="pending", claimed_by="", claimed_at=None)
    )
    waiting = (
        select(OUTBOX.c.id)
        .where(
            _CLAIMABLE,
            OUTBOX.c.invitation_id.in_(select(INVITATIONS.c.id).where(INVITATIONS.c.wave_id == wave_id)),
        )
        .with_for_update(skip_locked=True)
    )
    connection.execute(update(OUTBOX).where(OUTBOX.c.id.in_(waiting)).values(held_for_wave_id=wave_id))


def release_resumed_waves(engine: Engine) -> int:
    """Put the set-aside rows of waves that are no longer paused back in line; how many.

    One statement per wave that is not paused, each reading only that wave's set-aside rows (a partial
    index), so it costs nothing when nothing is held. The waves are read whole first: on SQLite a write
    while a read statement is still stepping upgrades that statement's snapshot, which fails at once
    ("database is locked", no busy wait) when another connection has committed since.
    """
    released = 0
    with engine.begin() as connection:
        resumed = connection.execute(select(WAVES.c.id).where(WAVES.c.paused.is_(False))).scalars().all()
        for wave_id in resumed:
            released += connection.execute(
                update(OUTBOX).where(OUTBOX.c.held_for_wave_id == wave_id).values(held_for_wave_id=None)
            ).rowcount
    return released


def _claim_rechecked(
    connection: Connection,
    claim: Update,
    expired: list[_Claimed],
    due: list[_Claimed],
    held: set[int],
    taken_over: ColumnElement[bool],
    due_now: ColumnElement[bool],
) -> None:
    """SQLite (no row locks): claim each candidate by its key only if it is still claimable, so a row another
    dispatcher claimed meanwhile is not claimed twice. Row by row, so that SQLite takes each by its key
    rather than reading an index range."""
    for row in expired:  # rare (after a crash), and the condition names the dead holders
        if row.id not in held:
            connection.execute(claim.where(OUTBOX.c.id == row.id, taken_over))
    wanted = [{"row_id": row.id} for row in due if row.id not in held]
    if wanted:
        connection.execute(claim.where(OUTBOX.c.id == bindparam("row_id"), due_now), wanted)


def _claim(session: Session, worker: str, now: datetime, config: DispatchConfig, limit: int) -> list[_Claimed]:
    """Claim up to ``limit`` (at most a batch) of due rows for ``worker``: first claims that ran out, then
    pending rows in ``(not_before, id)`` order.

    Each query reads the rows it returns and no others: the claimed rows and the due pending rows have
    partial indexes of their own, and a paused wave's rows are set aside (:func:`_hold`) the first time a
    claim meets them, so its backlog is never read again while it stays paused. PostgreSQL skips rows
    another dispatcher has locked; on SQLite the conditional update runs after any other writer has
    committed, so a row claimed meanwhile is not claimed twice (the rows it did claim are read again).
    """
    connection = session.connection()
    lease_now = utcnow()
    dead = _dead_holders(connection)
    taken_over = _taken_over(lease_now, config, dead)
    while True:
        expired = _candidates(connection, taken_over, limit, ordered=False)
        due = _candidates(connection, due_condition(now), limit - len(expired), ordered=True)
        if not expired and not due:
            return []
        paused = _paused_waves(connection, expired + due)
        for wave_id, row_ids in paused.items():
            _hold(connection, wave_id, row_ids)
        held = {row_id for row_ids in paused.values() for row_id in row_ids}
        candidates = [row for row in expired + due if row.id not in held]
        if candidates:
            break
    claim = update(OUTBOX).values(status="sending", claimed_by=worker, claimed_at=lease_now)
    if connection.dialect.name == "postgresql":
        # The candidates are locked by this transaction (FOR UPDATE re-evaluated the condition on the
        # newest version of each), so they are claimed by key alone; row by row, so that the plan is the
        # primary key whatever the table's statistics say (an IN list over a small, never analysed table
        # was read in full).
        connection.execute(claim.where(OUTBOX.c.id == bindparam("row_id")), [{"row_id": row.id} for row in candidates])
        return sorted(candidates)
    _claim_rechecked(connection, claim, expired, due, held, _taken_over(lease_now, config, dead), due_condition(now))
    mine = select_columns(*_CLAIMED_COLUMNS).where(
        OUTBOX.c.id.in_([row.id for row in candidates]), OUTBOX.c.claimed_by == worker, _CLAIMED
    )
    return [_Claimed(*row) for row in connection.execute(mine.order_by(OUTBOX.c.id))]


class _Recipient(NamedTuple):
    """What composing an invitation or reminder needs of the invitation, its participant and identity."""

    invitation_id: int
    state: str
    closes_at: datetime | None
    wave_id: int
    participant_id: int
    participant_status: str
    language: str
    name_encrypted: str
    email_encrypted: str | None  # None: no identity (row) for this participant


IDENTITIES = table_of(Identity)
PARTICIPANTS = table_of(Participant)
_RECIPIENT_COLUMNS = (
    INVITATIONS.c.id,
    INVITATIONS.c.state,
    INVITATIONS.c.closes_at,
    INVITATIONS.c.wave_id,
    PARTICIPANTS.c.id,
    PARTICIPANTS.c.status,
    IDENTITIES.c.language,
    IDENTITIES.c.name_encrypted,
    IDENTITIES.c.email_encrypted,
)
_RECIPIENTS = INVITATIONS.join(PARTICIPANTS, PARTICIPANTS.c.id == INVITATIONS.c.participant_id).outerjoin(
    IDENTITIES, IDENTITIES.c.participant_id == PARTICIPANTS.c.id
)


def _aware(moment: datetime | None) -> datetime | None:
    """A stored moment as an aware UTC datetime (SQLite hands back naive ones)."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


@dataclass
class _Prepared:
    row_id: int
    email: OutgoingMessage | None
    cancel_reason: str = ""
    attempts: int = 0
    invitation_id: int | None = None
    failure: str = ""  # why this message could not be composed: it fails, the others go on


class _Composer:
    """Builds the e-mails of batches of outbox rows, a handful of queries per batch.

    One composer serves a whole run; the waves, studies and templates it looks up are kept for
    :data:`STUDY_DATA_TTL` (a text a researcher changes during a long run is used from then on).
    """

    def __init__(self, privacy: Privacy, config: DispatchConfig) -> None:
        self.privacy, self.config = privacy, config
        self._waves: dict[int, tuple[Wave, Study]] = {}
        self._templates: dict[tuple[int, str, str], tuple[str, str]] = {}
        self._loaded = time.monotonic()

    def batch(self, session: Session, rows: list[_Claimed], now: datetime) -> list[_Prepared]:
        """The e-mails of ``rows`` as of ``now``; their new link tokens are added to ``session``."""
        if time.monotonic() - self._loaded > STUDY_DATA_TTL:
            self._waves.clear()
            self._templates.clear()
            self._loaded = time.monotonic()
        self.session, self.now = session, now
        self._tokens: list[tuple[int, str, datetime]] = []  # the batch's new link tokens, added together
        self._fresh = iter(new_tokens(len(rows)))  # at most one per row
        return self.compose_all(rows)

    def _wave(self, wave_id: int) -> tuple[Wave, Study]:
        if wave_id not in self._waves:
            wave, study = self.session.exec(
                select(Wave, Study)
                .join(Cohort, col(Cohort.id) == Wave.cohort_id)
                .join(Study, col(Study.id) == Cohort.study_id)
                .where(Wave.id == wave_id)
            ).one()
            self._waves[wave_id] = (wave, study)
        return self._waves[wave_id]

    def _template(self, study_id: int, kind: str, language: str) -> tuple[str, str]:
        key = (study_id, kind, language)
        if key not in self._templates:
            self._templates[key] = template_for(session=self.session, study_id=study_id, kind=kind, language=language)
        return self._templates[key]

    def compose_all(self, rows: list[_Claimed]) -> list[_Prepared]:
        invitation_ids = [r.invitation_id for r in rows if r.invitation_id]
        recipients = (
            select_columns(*_RECIPIENT_COLUMNS).select_from(_RECIPIENTS).where(INVITATIONS.c.id.in_(invitation_ids))
        )
        found = self.session.execute(recipients).all() if invitation_ids else []
        by_invitation: dict[int | None, _Recipient] = {r.invitation_id: r for r in map(_Recipient._make, found)}
        prepared = []
        for row in rows:
            try:
                item = self.compose(row, by_invitation.get(row.invitation_id))
            except DBAPIError:
                raise  # the database itself failed: nothing of this batch is claimed
            except Exception as error:  # this message only: e.g. an address, a key or a text that is broken
                item = _Prepared(row.id, None, failure=f"could not compose: {_reason(error)}")
            item.attempts, item.invitation_id = row.attempts, row.invitation_id
            prepared.append(item)
        add_rows(self.session, TOKENS, ("invitation_id", "token_hash", "created_at"), self._tokens)
        return prepared

    def compose(self, row: _Claimed, recipient: _Recipient | None) -> _Prepared:
        if row.kind == "test":
            return _Prepared(row.id, self._test_message(row))
        if row.kind == "notification":
            return _Prepared(row.id, self._notification(row))
        if recipient is None:
            return _Prepared(row.id, None, "the invitation no longer exists")
        if recipient.participant_status != "active":
            return _Prepared(row.id, None, f"participant {recipient.participant_status}")
        if row.kind == "reminder" and recipient.state not in OPEN_STATES:
            return _Prepared(row.id, None, f"invitation {recipient.state}")
        closes_at = _aware(recipient.closes_at)
        if closes_at is not None and self.now >= closes_at:
            return _Prepared(row.id, None, "the wave closed")
        if recipient.email_encrypted is None:
            return _Prepared(row.id, None, "no contact details")
        wave, study = self._wave(recipient.wave_id)
        language = recipient.language
        subject, body = self._template(key(study), row.kind, language)
        token = self._issue_token(recipient.invitation_id)
        base = self.config.base_url.rstrip("/")
        name = self.privacy.decrypt(recipient.name_encrypted)
        context = {
            "name": name or greeting(language),
            "title": participant_title(self.session, recipient.participant_id, language)
            if "{title}" in subject + body
            else "",
            "study": study.name,
            "wave": wave.label,
            "closes_on": local_date(closes_at or self.now, study.timezone, language),
            "link": f"{base}/p/{token}",
            "stop_link": f"{base}/p/{token}/privacy",
        }
        email = build_email(
            rendered=render(subject, body, context, language=language),
            sender=self.config.sender,
            recipient=self.privacy.decrypt(recipient.email_encrypted),
            recipient_name=name,
            message_id=message_id_for(row.idempotency_key, self.config.sender),
            unsubscribe_url=f"{base}/p/{token}/unsubscribe",
            date=self.now,
        )
        return _Prepared(row.id, email)

    def _issue_token(self, invitation_id: int) -> str:
        """One more personal-link token for the invitation (earlier ones keep working), stored with the batch."""
        token, digest = next(self._fresh)
        self._tokens.append((invitation_id, digest, utcnow()))
        return token

    def _test_message(self, row: _Claimed) -> OutgoingMessage:
        """A researcher's test message to themselves, filled with example values."""
        user = self.session.get(User, row.user_id)
        study_id, kind = row.idempotency_key.split(":")[1:3]
        study = self.session.get(Study, int(study_id))
        if user is None or study is None or study.id is None:
            raise LookupError("the account or the study of this test message no longer exists")
        language = row.language
        subject, body = template_for(session=self.session, study_id=study.id, kind=kind, language=language)
        base = self.config.base_url.rstrip("/")
        context = {
            "name": user.name,
            "title": translated(language, "an engineer"),
            "study": study.name,
            "wave": "T1",
            "closes_on": local_date(self.now + timedelta(days=28), study.timezone, language),
            "link": f"{base}/p/example-link",
            "stop_link": f"{base}/p/example-link/privacy",
        }
        rendered = render(subject, body, context, language=language)
        rendered = type(rendered)(subject=f"[TEST] {rendered.subject}", text=rendered.text, html=rendered.html)
        return build_email(
            rendered=rendered,
            sender=self.config.sender,
            recipient=user.email,
            recipient_name=user.name,
            message_id=message_id_for(row.idempotency_key, self.config.sender),
            unsubscribe_url=None,
            date=self.now,
        )

    def _notification(self, row: _Claimed) -> OutgoingMessage | None:
        """A message to a staff or company account, composed by the feature that queued it."""
        user = self.session.get(User, row.user_id)
        if user is None or not user.is_active:
            return None
        rendered = compose_notification(
            session=self.session,
            key=row.idempotency_key,
            language=row.language,
            base_url=self.config.base_url.rstrip("/"),
            user=user,
        )
        if rendered is None:
            return None
        return build_email(
            rendered=rendered,
            sender=self.config.sender,
            recipient=user.email,
            recipient_name=user.name,
            message_id=message_id_for(row.idempotency_key, self.config.sender),
            unsubscribe_url=None,
            date=self.now,
        )


def participant_title(session: Session, participant_id: int, language: str) -> str:
    """The professional title a participant chose most recently (for ``{title}``)."""
    rows = session.exec(
        select(Item, Answer)
        .join(Answer, col(Answer.item_id) == Item.id)
        .join(Response, col(Response.id) == Answer.response_id)
        .join(Invitation, col(Invitation.id) == Response.invitation_id)
        .where(Invitation.participant_id == participant_id, col(Item.code).in_(["prof_title", "prof_title_other"]))
        .order_by(col(Response.started_at).desc())
    ).all()
    chosen = {item.code: (item, answer) for item, answer in reversed(rows)}
    if "prof_title" in chosen:
        item, answer = chosen["prof_title"]
        option = next((o for o in item.options if o.get("value") == answer.value_number), None)
        if option and option.get("title"):
            return str(option["title"].get(language, ""))
        if option and option.get("free_text_item") and "prof_title_other" in chosen:
            return str(chosen["prof_title_other"][1].value_text or "")
    return translated(language, "a professional")


def dispatch(
    *,
    engine: Engine,
    privacy: Privacy,
    transport: Transport,
    config: DispatchConfig,
    worker: str,
    now: datetime | Callable[[], datetime],
    max_messages: int | None = None,
    extra_transports: Sequence[Transport] = (),
) -> DispatchReport:
    """Send due outbox rows until none are left (or ``max_messages``); see the module docstring.

    The next batch is claimed and composed while the current one is being sent, so the connections do
    not wait for it; each connection takes the batch's next message as soon as it is free. With
    ``extra_transports`` (more SMTP connections) messages go out over several connections at once; a
    crash then repeats at most one message per connection.
    """
    clock = now if callable(now) else (lambda: now)
    report = DispatchReport()
    holder = holder_name(worker)
    composer = _Composer(privacy, config)
    senders = [_Sender(engine, each, clock, report) for each in (transport, *extra_transports)]
    claimed = 0

    def claim_next() -> list[_Prepared]:
        room = config.batch if max_messages is None else min(config.batch, max_messages - claimed)
        batch, stamped = _next_batch(engine, composer, holder, clock(), config, room)
        if batch:
            heartbeat.claimed(at=stamped)
        return batch

    release_resumed_waves(engine)
    with Heartbeat(engine, holder, config.claim_timeout) as heartbeat, ThreadPoolExecutor(len(senders)) as pool:
        try:
            batch = claim_next()
            while batch:
                claimed += len(batch)
                line = _Line(batch, heartbeat)
                sending = [pool.submit(sender.send_from, line) for sender in senders]
                try:
                    upcoming = claim_next()
                except BaseException:
                    line.abandon()  # its rows not yet taken stay claimed until the lease runs out
                    _finish(sending)
                    raise
                _finish(sending)
                if line.stopped:
                    report.stopped_early = line.stopped
                    if line.stopped == SERVER_DOWN:
                        _release(engine, line.untaken() + [item.row_id for item in upcoming])
                    return report
                batch = upcoming
        finally:
            for sender in senders:
                sender.close()
    return report


def _next_batch(
    engine: Engine, composer: _Composer, holder: str, moment: datetime, config: DispatchConfig, limit: int
) -> tuple[list[_Prepared], float]:
    """Claim up to ``limit`` due rows and compose their e-mails; the claims and the new link tokens are
    committed together, before any of them is sent. Also returns when (``time.monotonic()``, taken no
    later) the claims' lease began.

    Other dispatchers see the claims only at the commit. When composing took a good part of the lease (a
    busy machine, a short lease), the claims are stamped again just before it: else they would appear
    already expired, and another dispatcher would take them over and send the same messages.
    """
    stamped = time.monotonic()
    if limit <= 0:
        return [], stamped
    with Session(engine, expire_on_commit=False) as session:
        rows = _claim(session, holder, moment, config, limit)
        prepared = composer.batch(session, rows, moment) if rows else []
        if rows and time.monotonic() - stamped > config.claim_timeout.total_seconds() / 4:
            stamped = time.monotonic()
            session.connection().execute(
                update(OUTBOX).where(OUTBOX.c.id == bindparam("row_id")).values(claimed_at=utcnow()),
                [{"row_id": row.id} for row in rows],
            )
        session.commit()  # the claims and tokens (or, with no rows, the rows of paused waves set aside)
    return prepared, stamped


def _finish(sending: list[Future[None]]) -> None:
    """Wait for every connection to finish its part of a batch; then raise the first error, if any."""
    wait(sending)
    for future in sending:
        future.result()


SERVER_DOWN = "the mail server cannot be reached; the rest waits for the next run"
LEASE_LOST = "the claim on the outbox could not be renewed (database unreachable?); another run takes over"


class _Line:
    """One batch's messages, handed out one at a time to the connections as each becomes free."""

    def __init__(self, items: list[_Prepared], heartbeat: Heartbeat) -> None:
        self._items = deque(items)
        self._lock = threading.Lock()
        self.heartbeat = heartbeat
        self.stopped = ""  # why the batch stopped early: no connection takes another message

    def take(self) -> _Prepared | None:
        """The next message to send, or ``None`` when the batch is done or stopped (a lost lease stops it:
        the rows stay claimed, and another dispatcher takes them over when the lease ends)."""
        with self._lock:
            if not self.stopped and self._items and not self.heartbeat.holds():
                self.stopped = LEASE_LOST
            return None if self.stopped or not self._items else self._items.popleft()

    def stop(self, reason: str) -> None:
        """No connection takes another message of this batch."""
        with self._lock:
            self.stopped = self.stopped or reason

    def abandon(self) -> None:
        """No connection takes another message of this batch, and its rows are not released (an error)."""
        with self._lock:
            self._items.clear()

    def untaken(self) -> list[int]:
        """The outbox rows of the messages no connection took."""
        with self._lock:
            return [item.row_id for item in self._items]


class _Sender:
    """One SMTP connection and the database connection that records its outcomes, kept for the run."""

    def __init__(
        self, engine: Engine, transport: Transport, clock: Callable[[], datetime], report: DispatchReport
    ) -> None:
        self.engine, self.transport, self.clock, self.report = engine, transport, clock, report
        self._connection: Connection | None = None
        self._recorder: _Recorder | None = None

    def send_from(self, line: _Line) -> None:
        """Send the line's messages one by one until it is empty or stopped; a server that cannot be
        reached stops it for every connection."""
        if self._recorder is None:
            self._connection = self.engine.connect()
            self._recorder = _Recorder(self._connection)
        while (item := line.take()) is not None:
            if _deliver(self._recorder, self.transport, item, self.clock(), self.report) == "server_down":
                line.stop(SERVER_DOWN)

    def close(self) -> None:
        """Give the database connection back."""
        if self._recorder is not None and self._connection is not None:
            try:
                self._recorder.close()
            finally:
                self._connection.close()
        self._recorder = self._connection = None


class _Recorder:
    """Records the outcome of each message with plain driver SQL, committed on its own.

    This runs once per message, on the hot path of the dispatcher: SQLAlchemy's statement machinery
    cost more than the database itself here. Timestamps go through the column type's own bind
    processing, so they are stored exactly as everywhere else.

    On PostgreSQL an outcome is one statement (the invitation's move in a ``WITH`` clause beside the
    outbox row's) run in autocommit mode: one round trip per message. Its commit is asynchronous
    (``synchronous_commit`` off for this connection only): the server has the record when the statement
    returns, so a killed dispatcher still repeats at most the message in flight, but the server does not
    wait for its disk. Only a crash of the database server itself can lose the records of its last
    moments (at most three times ``wal_writer_delay``, 0.6 s by default); those messages are then sent
    again, with the same Message-ID.
    """

    def __init__(self, connection: Connection) -> None:
        dialect = connection.dialect
        self.connection = connection
        self.raw = connection.connection
        self.postgresql = dialect.name == "postgresql"
        if self.postgresql:
            self._run_alone("SET synchronous_commit TO OFF")
            self.raw.dbapi_connection.autocommit = True  # type: ignore[union-attr]
        self.placeholder = "?" if dialect.paramstyle == "qmark" else "%s"
        self.convert = {
            name: OUTBOX.c[name].type._cached_bind_processor(dialect)
            for name in ("sent_at", "not_before", "claimed_at")
        }
        self.convert_invitation = INVITATIONS.c.sent_at.type._cached_bind_processor(dialect)

    def _run_alone(self, statement: str) -> None:
        cursor = self.raw.cursor()
        try:
            cursor.execute(statement)
            self.raw.commit()
        finally:
            cursor.close()

    def close(self) -> None:
        """Give the connection back as it was (or have the pool drop it when that fails)."""
        if not self.postgresql:
            return
        try:
            self._run_alone("RESET synchronous_commit")
            self.raw.dbapi_connection.autocommit = False  # type: ignore[union-attr]
        except Exception:  # the database is away: this connection is not used again
            self.connection.invalidate()

    def record(
        self,
        row_id: int,
        values: dict[str, object],
        invitation_id: int | None,
        invitation_state: tuple[tuple[str, ...], dict[str, object]] | None,
    ) -> None:
        """Store one message's outcome, and its invitation's move if any, in one commit."""
        p = self.placeholder
        names = sorted(values)
        outbox = f"UPDATE outbox_message SET {', '.join(f'{n} = {p}' for n in names)} WHERE id = {p}"
        statements = [
            (outbox, [*[convert(values[n]) if (convert := self.convert.get(n)) else values[n] for n in names], row_id])
        ]
        if invitation_state is not None and invitation_id is not None:
            states, changes = invitation_state
            keys = sorted(changes)
            statements.append(
                (
                    f"UPDATE invitation SET {', '.join(f'{k} = {p}' for k in keys)} "
                    f"WHERE id = {p} AND state IN ({', '.join(p for _ in states)})",
                    [
                        *[
                            self.convert_invitation(changes[k])
                            if k == "sent_at" and self.convert_invitation
                            else changes[k]
                            for k in keys
                        ],
                        invitation_id,
                        *states,
                    ],
                )
            )
        if self.postgresql and len(statements) == 2:  # one statement, one round trip, committed on its own
            (first, first_params), (second, second_params) = statements
            statements = [(f"WITH outcome AS ({first}) {second}", [*first_params, *second_params])]
        cursor = self.raw.cursor()
        try:
            for statement, params in statements:
                cursor.execute(statement, params)
            if not self.postgresql:
                self.raw.commit()  # one commit per message: a crash repeats at most the message in flight
        except BaseException:
            self.raw.rollback()
            raise
        finally:
            cursor.close()


def _deliver(
    recorder: _Recorder,
    transport: Transport,
    item: _Prepared,
    moment: datetime,
    report: DispatchReport,
) -> str:
    """Send one prepared message and record the outcome in its own commit."""
    error: Exception | None = None
    if item.email is not None:
        try:
            transport.send(item.email)
        except (TemporaryFailure, PermanentFailure) as caught:
            error = caught
        except Exception as caught:  # unforeseen, and about this message: it fails, the batch goes on
            error = PermanentFailure(f"could not send: {_reason(caught)}")
    elif item.failure:
        error = PermanentFailure(item.failure)
    attempts, invitation_id = item.attempts, item.invitation_id
    values: dict[str, object] = {"claimed_by": "", "claimed_at": None}
    invitation_state: tuple[tuple[str, ...], dict[str, object]] | None = None
    if item.email is None and not item.failure:
        values.update(status="cancelled", last_error=item.cancel_reason)
        outcome = "cancelled"
    elif error is None and item.email is not None:
        values.update(status="sent", sent_at=moment, message_id=item.email.message_id, attempts=attempts + 1)
        outcome = "sent"
        invitation_state = (
            _SENT_FROM,
            {"state": _SENT_TO, "sent_at": moment},
        )
    elif isinstance(error, PermanentFailure) or attempts + 1 >= MAX_ATTEMPTS:
        values.update(status="failed", last_error=str(error)[:1000], attempts=attempts + 1)
        outcome = "failed"
        invitation_state = (_FAILED_FROM, {"state": _FAILED_TO})
    else:
        values.update(
            status="pending",
            last_error=str(error)[:1000],
            attempts=attempts + 1,
            not_before=moment + backoff(attempts + 1),
        )
        outcome = "retried"
    recorder.record(item.row_id, values, invitation_id, invitation_state)
    report.count(outcome, item.row_id, str(values.get("message_id") or values.get("last_error") or ""))
    if isinstance(error, TemporaryFailure) and str(error).startswith(("cannot reach", "server disconnected")):
        return "server_down"
    return "done"


def failure_lines(session: Session, report: DispatchReport) -> list[str]:
    """One line per message that failed in ``report``: whose (pseudonym, or the outbox row) and why."""
    if not report.failures:
        return []
    ids = [row_id for row_id, _ in report.failures]
    pseudonyms: dict[int | None, str] = {}
    for start in range(0, len(ids), LOOKUP_CHUNK):  # a bounded number of parameters per query
        pseudonyms.update(
            session.exec(
                select(OutboxMessage.id, Participant.pseudonym)
                .join(Participant, col(Participant.id) == OutboxMessage.participant_id)
                .where(col(OutboxMessage.id).in_(ids[start : start + LOOKUP_CHUNK]))
            ).all()
        )
    return [f"{pseudonyms.get(row_id, f'outbox message {row_id}')}: {reason}" for row_id, reason in report.failures]


def _reason(error: BaseException) -> str:
    """An exception as one short line for ``last_error``: its type and first line."""
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}"[:500]


def _release(engine: Engine, row_ids: list[int]) -> None:
    """Put claimed rows that were not sent back in line."""
    for start in range(0, len(row_ids), LOOKUP_CHUNK):
        with engine.begin() as connection:
            connection.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_(row_ids[start : start + LOOKUP_CHUNK]), OUTBOX.c.status == "sending")
                .values(status="pending", claimed_by="", claimed_at=None)
            )
