"""Enrolment: import lists of participants (preview first, all-or-nothing) and create participants."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import insert, text
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from studyapp.core import audit
from studyapp.core.bulk import add_rows
from studyapp.core.errors import NotAllowed, ValidationFailed
from studyapp.core.inputs import PERSON_NAME_MAX, line_problem
from studyapp.core.models import Cohort, ConsentEvent, Identity, Participant, Study, User, key
from studyapp.core.models._common import table_of
from studyapp.core.privacy import Privacy, normalise_email, normalise_external_id, person_key
from studyapp.core.tabular import ImportRejected, RowProblem, Table
from studyapp.core.types import utcnow
from studyapp.inputs import email_problem
from studyapp.participants.identities import refuse_new_identities

EXTERNAL_ID_MAX = 100
REQUIRED_COLUMNS = ("email", "cohort")
OPTIONAL_COLUMNS = ("name", "language", "external_id", "keep_data")
LANGUAGE_WORDS = {
    "nl": "nl",
    "dutch": "nl",
    "nederlands": "nl",
    "ned": "nl",
    "en": "en",
    "english": "en",
    "engels": "en",
    "eng": "en",
}
YES_WORDS = {"", "yes", "y", "ja", "j", "true", "1"}
NO_WORDS = {"no", "n", "nee", "false", "0"}


@dataclass(frozen=True)
class Person:
    """A checked row of an enrolment list."""

    line: int
    email: str
    name: str
    language: str
    cohort_id: int
    cohort_name: str
    external_id: str | None
    keep_data: bool
    # The study's frame variables given on this row (name -> value; an empty cell is left out: unknown).
    frame: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AlreadyEnrolled:
    """A row whose person is in the study already; importing it changes nothing."""

    person: Person
    pseudonym: str
    matched_by: str
    note: str = ""
    participant_id: int | None = None  # set where the import adds to this participant


@dataclass
class EnrolmentPlan:
    """What an import would do; it may be applied only when ``problems`` is empty."""

    new: list[Person] = field(default_factory=list)
    existing: list[AlreadyEnrolled] = field(default_factory=list)
    completed_identities: list[AlreadyEnrolled] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class EnrolmentSummary:
    """What an applied import did."""

    enrolled: int
    unchanged: int
    identities_added: int


#: The longest value of a frame variable (a category such as a programme's name, not free text).
FRAME_VALUE_MAX = 100


def _check_row(
    cells: dict[str, str], line: int, cohorts: dict[str, Cohort], frame_variables: tuple[str, ...] = ()
) -> tuple[Person | None, list[str]]:
    # every cell is one line of visible text: a CR or LF in a (quoted) name would end up in a mail header
    problems = [
        problem
        for column in REQUIRED_COLUMNS + OPTIONAL_COLUMNS
        if (problem := line_problem(cells.get(column, ""), field=_("the %(column)s cell", column=column)))
    ]
    problems += [
        problem
        for column in frame_variables
        if (
            problem := line_problem(
                cells.get(column, "").strip(),
                field=_("the %(column)s cell", column=column),
                max_length=FRAME_VALUE_MAX,
            )
        )
    ]
    if problems:
        return None, problems
    raw_email = cells.get("email", "")
    email = ""
    try:
        email = validate_email(raw_email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as error:
        problems.append(
            _(
                "malformed e-mail address %(address)s: %(error)s",
                address=repr(raw_email[:100]),
                error=email_problem(error),
            )
        )
    cohort = cohorts.get(cells.get("cohort", "").strip().casefold())
    if cohort is None:
        known = ", ".join(sorted(c.name for c in cohorts.values())) or _("none")
        problems.append(
            _(
                "unknown cohort %(cohort)s (this study has: %(known)s)",
                cohort=repr(cells.get("cohort", "")[:100]),
                known=known,
            )
        )
    language = LANGUAGE_WORDS.get(cells.get("language", "").strip().casefold() or "nl")
    if language is None:
        problems.append(
            _("unknown language %(language)s (use nl or en)", language=repr(cells.get("language", "")[:40]))
        )
    keep = cells.get("keep_data", "").strip().casefold()
    if keep not in YES_WORDS | NO_WORDS:
        problems.append(_("keep_data must be yes or no, not %(value)s", value=repr(cells.get("keep_data", "")[:40])))
    name = cells.get("name", "").strip()
    if len(name) > PERSON_NAME_MAX:
        problems.append(_("name is longer than %(length)d characters", length=PERSON_NAME_MAX))
    external_id = cells.get("external_id", "").strip() or None
    if external_id is not None and len(external_id) > EXTERNAL_ID_MAX:
        problems.append(_("external_id is longer than %(length)d characters", length=EXTERNAL_ID_MAX))
    if problems:
        return None, problems
    assert cohort is not None and language is not None
    return Person(
        line=line,
        email=email,
        name=name,
        language=language,
        cohort_id=key(cohort),
        cohort_name=cohort.name,
        external_id=external_id,
        keep_data=keep not in NO_WORDS,
        frame={column: value for column in frame_variables if (value := cells.get(column, "").strip())},
    ), []


def plan_enrolment(*, session: Session, privacy: Privacy, study: Study, table: Table) -> EnrolmentPlan:
    """Check every row of an enrolment list against the rules and the study's participants."""
    plan = EnrolmentPlan()
    try:
        refuse_new_identities(study)
    except NotAllowed as refusal:
        plan.problems.append(RowProblem(1, str(refusal)))
        return plan
    frame_variables = tuple(study.frame_variables)
    known_columns = REQUIRED_COLUMNS + OPTIONAL_COLUMNS + frame_variables
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    unknown = [c for c in table.columns if c not in known_columns]
    if missing:
        plan.problems.append(RowProblem(1, _("missing column(s): %(columns)s", columns=", ".join(missing))))
    if unknown:
        allowed = ", ".join(known_columns)
        plan.problems.append(
            RowProblem(
                1,
                _("unknown column(s): %(columns)s (allowed: %(allowed)s)", columns=", ".join(unknown), allowed=allowed),
            )
        )
    if plan.problems:
        return plan
    if not table.rows:
        plan.problems.append(RowProblem(1, _("the file has a header but no participants")))
        return plan
    cohorts = {c.name.casefold(): c for c in session.exec(select(Cohort).where(Cohort.study_id == study.id))}
    seen_email: dict[str, int] = {}
    seen_external: dict[str, int] = {}
    people: list[Person] = []
    for row in table.rows:
        person, problems = _check_row(row.cells, row.line, cohorts, frame_variables)
        plan.problems.extend(RowProblem(row.line, message) for message in problems)
        if person is None:
            continue
        email_key = normalise_email(person.email)
        if email_key in seen_email:
            plan.problems.append(
                RowProblem(row.line, _("the same e-mail address as line %(line)d", line=seen_email[email_key]))
            )
            continue
        seen_email[email_key] = row.line
        if person.external_id:
            external_key = normalise_external_id(person.external_id)
            if external_key in seen_external:
                line = seen_external[external_key]
                plan.problems.append(RowProblem(row.line, _("the same external_id as line %(line)d", line=line)))
                continue
            seen_external[external_key] = row.line
        people.append(person)
    if plan.problems:
        return plan
    _match_existing(session, privacy, study, people, plan)
    return plan


#: People looked up in the database per query: bounded, so no statement carries one parameter per row
#: of a 100,000-row list, and the lookups cost the same per person at any list size.
LOOKUP_CHUNK = 2_000
#: Rows per multi-row INSERT when a plan is applied.
INSERT_CHUNK = 5_000


@dataclass(frozen=True)
class _Known:
    """A participant of the study as the matching needs it."""

    id: int
    pseudonym: str
    status: str
    has_identity: bool


@dataclass(frozen=True)
class _Keys:
    """A person's look-up hashes and pseudonym, computed once per row."""

    email_hash: str
    external_hash: str | None
    pseudonym: str


def _keys_of(privacy: Privacy, study: Study, person: Person) -> _Keys:
    return _Keys(
        email_hash=privacy.email_hash(person.email),
        external_hash=privacy.external_id_hash(person.external_id) if person.external_id else None,
        pseudonym=privacy.pseudonym(
            study_id=key(study), person_key=person_key(email=person.email, external_id=person.external_id)
        ),
    )


def _known_by(session: Session, study: Study, column: Any, values: list[str]) -> dict[str, _Known]:
    """The study's participants whose ``column`` (a hash or the pseudonym) is one of ``values``."""
    if not values:
        return {}
    rows = session.execute(
        sa_select(column, col(Participant.id), col(Participant.pseudonym), col(Participant.status), col(Identity.id))
        .select_from(Participant)
        .join(Cohort, col(Cohort.id) == Participant.cohort_id)
        .outerjoin(Identity, col(Identity.participant_id) == Participant.id)
        .where(col(Cohort.study_id) == study.id, column.in_(values))
    ).all()
    return {
        value: _Known(pid, pseudonym, status, identity_id is not None)
        for value, pid, pseudonym, status, identity_id in rows
    }


def _match_existing(
    session: Session, privacy: Privacy, study: Study, people: list[Person], plan: EnrolmentPlan
) -> None:
    """Sort ``people`` into new, already enrolled and completed identities (bounded look-ups per chunk)."""
    for start in range(0, len(people), LOOKUP_CHUNK):
        chunk = people[start : start + LOOKUP_CHUNK]
        keys = [_keys_of(privacy, study, person) for person in chunk]
        by_email = _known_by(session, study, col(Identity.email_hash), [k.email_hash for k in keys])
        by_external = _known_by(
            session, study, col(Identity.external_id_hash), [k.external_hash for k in keys if k.external_hash]
        )
        by_pseudonym = _known_by(session, study, col(Participant.pseudonym), [k.pseudonym for k in keys])
        for person, keys_ in zip(chunk, keys, strict=True):
            _sort_person(plan, person, keys_, by_email, by_external, by_pseudonym)


def _sort_person(
    plan: EnrolmentPlan,
    person: Person,
    keys: _Keys,
    by_email: dict[str, _Known],
    by_external: dict[str, _Known],
    by_pseudonym: dict[str, _Known],
) -> None:
    if keys.external_hash and keys.external_hash in by_external:
        participant = by_external[keys.external_hash]
        same = by_email.get(keys.email_hash)
        note = (
            ""
            if same is not None and same.id == participant.id
            else "the e-mail address on file differs and was not changed"
        )
        plan.existing.append(AlreadyEnrolled(person, participant.pseudonym, "external id", note))
    elif keys.email_hash in by_email:
        plan.existing.append(AlreadyEnrolled(person, by_email[keys.email_hash].pseudonym, "e-mail"))
    elif keys.pseudonym in by_pseudonym:
        known = by_pseudonym[keys.pseudonym]
        if not known.has_identity and known.status != "erased":
            plan.completed_identities.append(
                AlreadyEnrolled(
                    person, keys.pseudonym, "external id", "linked to data imported earlier", participant_id=known.id
                )
            )
        else:
            reason = _("erased at their request") if known.status == "erased" else _("already enrolled")
            plan.problems.append(
                RowProblem(person.line, _("this person cannot be enrolled again (%(reason)s)", reason=reason))
            )
    else:
        plan.new.append(person)


def add_identity(*, session: Session, privacy: Privacy, participant: Participant, person: Person) -> Identity:
    """Store a participant's contact details, encrypted, with keyed look-up hashes."""
    identity = Identity(
        participant_id=key(participant),
        email_encrypted=privacy.encrypt(person.email),
        name_encrypted=privacy.encrypt(person.name) if person.name else "",
        email_hash=privacy.email_hash(person.email),
        external_id_hash=privacy.external_id_hash(person.external_id) if person.external_id else None,
        language=person.language,
    )
    session.add(identity)
    return identity


def enrol_person(
    *, session: Session, privacy: Privacy, study: Study, person: Person, actor: str, user: User | None = None
) -> Participant:
    """Create one participant with identity and consent (used by imports and self-registration)."""
    refuse_new_identities(study)
    participant = Participant(
        pseudonym=privacy.pseudonym(
            study_id=key(study),
            person_key=person_key(email=person.email, external_id=person.external_id),
        ),
        cohort_id=person.cohort_id,
        frame=dict(person.frame),
    )
    session.add(participant)
    session.flush()
    add_identity(session=session, privacy=privacy, participant=participant, person=person)
    session.add(
        ConsentEvent(
            participant_id=key(participant),
            kind="consent_given",
            keep_data=person.keep_data,
            actor=actor,
            user_id=user.id if user else None,
        )
    )
    return participant


def apply_enrolment(
    *,
    session: Session,
    privacy: Privacy,
    study: Study,
    plan: EnrolmentPlan,
    user: User | None = None,
    source: str = "",
) -> EnrolmentSummary:
    """Store a checked plan; raises :class:`ImportRejected` (storing nothing) if it has problems."""
    if plan.problems:
        raise ImportRejected(plan.problems)
    now = utcnow()
    user_id = user.id if user else None
    for start in range(0, len(plan.new), INSERT_CHUNK):
        chunk = plan.new[start : start + INSERT_CHUNK]
        ids = _insert_participants(session, privacy, study, chunk, now)
        _insert_identities_and_consent(session, privacy, list(zip(ids, chunk, strict=True)), user_id, now)
    for start in range(0, len(plan.completed_identities), INSERT_CHUNK):
        matches = plan.completed_identities[start : start + INSERT_CHUNK]
        pairs = [(m.participant_id, m.person) for m in matches if m.participant_id is not None]
        assert len(pairs) == len(matches), "a completed identity names its participant"
        _insert_identities_and_consent(session, privacy, pairs, user_id, now)
    summary = EnrolmentSummary(
        enrolled=len(plan.new), unchanged=len(plan.existing), identities_added=len(plan.completed_identities)
    )
    audit.record(
        session=session,
        action="participants.imported",
        user=user,
        actor="cli" if user is None else "",
        target_type="study",
        target_id=study.id,
        detail={
            "enrolled": summary.enrolled,
            "unchanged": summary.unchanged,
            "identities_added": summary.identities_added,
            "source": source[-100:],
        },
    )
    return summary


def _insert_participants(
    session: Session, privacy: Privacy, study: Study, people: list[Person], now: datetime
) -> list[int]:
    """Insert ``people`` as participants; their ids in the same order."""
    pseudonyms = [
        privacy.pseudonym(study_id=key(study), person_key=person_key(email=p.email, external_id=p.external_id))
        for p in people
    ]
    table = table_of(Participant)
    if session.get_bind().dialect.name == "postgresql":  # ids from the sequence first: the rows are copied in
        ids = list(
            session.execute(
                text("SELECT nextval(pg_get_serial_sequence('participant', 'id')) FROM generate_series(1, :n)"),
                {"n": len(people)},
            ).scalars()
        )
    else:  # one multi-row INSERT ... RETURNING per batch; rows come back matched by their unique pseudonym
        statement = insert(table).returning(table.c.id, table.c.pseudonym)
        rows = [
            {"pseudonym": pseudonym, "cohort_id": p.cohort_id, "frame": p.frame}
            for pseudonym, p in zip(pseudonyms, people, strict=True)
        ]
        known = {
            pseudonym: participant_id
            for participant_id, pseudonym in session.execute(
                statement, [{**row, "status": "active", "organisation_id": None, "enrolled_at": now} for row in rows]
            )
        }
        return [known[pseudonym] for pseudonym in pseudonyms]
    add_rows(
        session,
        table,
        ("id", "pseudonym", "cohort_id", "status", "frame", "enrolled_at"),
        [
            (i, pseudonym, p.cohort_id, "active", p.frame, now)
            for i, pseudonym, p in zip(ids, pseudonyms, people, strict=True)
        ],
    )
    return ids


def _insert_identities_and_consent(
    session: Session, privacy: Privacy, pairs: list[tuple[int, Person]], user_id: int | None, now: datetime
) -> None:
    """Each participant's encrypted identity and consent event."""
    if not pairs:
        return
    add_rows(
        session,
        table_of(Identity),
        (
            "participant_id",
            "email_encrypted",
            "name_encrypted",
            "email_hash",
            "external_id_hash",
            "language",
            "created_at",
        ),
        [
            (
                participant_id,
                privacy.encrypt(person.email),
                privacy.encrypt(person.name) if person.name else "",
                privacy.email_hash(person.email),
                privacy.external_id_hash(person.external_id) if person.external_id else None,
                person.language,
                now,
            )
            for participant_id, person in pairs
        ],
    )
    add_rows(
        session,
        table_of(ConsentEvent),
        ("participant_id", "kind", "keep_data", "actor", "user_id", "note", "created_at"),
        [
            (participant_id, "consent_given", person.keep_data, "researcher", user_id, "", now)
            for participant_id, person in pairs
        ],
    )


def self_register(
    *,
    session: Session,
    privacy: Privacy,
    cohort: Cohort,
    email: str,
    name: str,
    language: str,
    keep_data: bool,
) -> tuple[Participant | None, bool]:
    """Enrol someone through a cohort's sign-up link; returns (participant, created).

    Someone already in the study is left unchanged (``created`` is False), so the page can answer the
    same either way and reveals nobody's membership.
    """
    if not cohort.signup_open:
        raise NotAllowed(_("Self-registration for this cohort is closed."))
    study = session.get(Study, cohort.study_id)
    assert study is not None
    refuse_new_identities(study)
    problems = {}
    if problem := line_problem(name.strip(), field=_("The name"), max_length=PERSON_NAME_MAX):
        problems["name"] = problem
    try:
        email = validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as error:
        problems["email"] = email_problem(error)
    if problems:
        raise ValidationFailed(problems)
    person = Person(
        line=0,
        email=email,
        name=name.strip(),
        language=language if language in ("nl", "en") else "nl",
        cohort_id=key(cohort),
        cohort_name=cohort.name,
        external_id=None,
        keep_data=keep_data,
    )
    plan = EnrolmentPlan()
    _match_existing(session, privacy, study, [person], plan)
    if not plan.new:
        return None, False
    try:
        with session.begin_nested():  # the same form sent twice at once: the other post enrolled them
            participant = enrol_person(
                session=session, privacy=privacy, study=study, person=person, actor="participant"
            )
    except IntegrityError:
        return None, False
    audit.record(
        session=session,
        action="participant.self_registered",
        actor="participant",
        target_type="participant",
        target_id=participant.id,
        detail={"cohort_id": cohort.id, "pseudonym": participant.pseudonym},
    )
    return participant, True


def toggle_signup(*, session: Session, cohort: Cohort, user: User | None) -> bool:
    """Open or close a cohort's self-registration link (audit-logged); returns whether it is now open.

    The link's code (96 random bits) is made when the link first opens and kept afterwards, so a link
    handed out earlier works again when it reopens. Flushes; the caller commits.
    """
    cohort.signup_open = not cohort.signup_open
    if cohort.signup_open and not cohort.signup_code:
        cohort.signup_code = secrets.token_urlsafe(12)
    session.add(cohort)
    audit.record(
        session=session,
        action="signup.opened" if cohort.signup_open else "signup.closed",
        user=user,
        target_type="cohort",
        target_id=cohort.id,
        detail={"cohort": cohort.name},
    )
    session.flush()
    return cohort.signup_open
