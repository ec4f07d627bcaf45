"""Importing answers collected elsewhere (e.g. the 2016 Mind the Gap wave) into a wave.

Rows are linked to participants by an identifier (e.g. a student number) through its keyed hash and
the pseudonym derived from it; the identifier itself is never stored. A file with any bad row is
rejected whole, listing every failing row.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from flask_babel import gettext as _
from sqlmodel import Session, col, select

from studyapp.core import audit
from studyapp.core.inputs import INT32_MAX, INT32_MIN, line_problem, text_problem
from studyapp.core.models import Answer, Cohort, Identity, Invitation, Item, Participant, Response, User, Wave
from studyapp.core.models import key as row_key
from studyapp.core.privacy import Privacy, normalise_external_id, person_key
from studyapp.core.tabular import (
    MAX_ROWS,
    ImportRejected,
    Row,
    RowProblem,
    Table,
    TableError,
    normalise_column,
    read_table,
)
from studyapp.core.types import utcnow


@dataclass
class ResponsePlan:
    """What an import would store; applied only without problems."""

    rows: list[tuple[int, str, dict[int, int | str]]] = field(default_factory=list)  # line, id, answers
    new_participants: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def parse_mapping(text: str) -> dict[str, str]:
    """Read ``column = item_code`` lines (``#`` starts a comment); raises ``ValueError`` naming the line."""
    mapping: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        column, sep, item = (part.strip() for part in line.replace(":", "=", 1).partition("="))
        if not sep or not column or not item:
            raise ValueError(_("mapping line %(number)d: write it as 'column = item_code'", number=number))
        if problem := line_problem(line, field=_("mapping line %(number)d", number=number), max_length=400):
            raise ValueError(problem)
        key = normalise_column(column)
        if key in mapping:
            raise ValueError(
                _("mapping line %(number)d: column %(column)s is mapped twice", number=number, column=repr(column))
            )
        mapping[key] = item
    if not mapping:
        raise ValueError(_("the mapping is empty"))
    return mapping


def read_response_file(filename: str, content: bytes) -> Table:
    """Read a CSV, XLSX or SPSS ``.sav`` file; .sav cases count as lines 2, 3, ... like a CSV's rows."""
    if PurePath(filename).suffix.lower() != ".sav":
        return read_table(filename, content)
    import pyreadstat

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload.sav"
        path.write_bytes(content)
        try:
            frame, _meta = pyreadstat.read_sav(str(path), row_limit=MAX_ROWS + 1)  # never more than needed
        except Exception as error:  # pyreadstat raises its own error types for damaged files
            raise TableError(f"cannot read the SPSS file: {error}") from None
    if len(frame) > MAX_ROWS:
        raise TableError(f"more than {MAX_ROWS} rows; split the file", MAX_ROWS + 2)
    columns = [normalise_column(str(c)) for c in frame.columns]
    rows = []
    for index, values in enumerate(frame.itertuples(index=False), start=2):
        rows.append(Row(line=index, cells={c: _sav_cell(v) for c, v in zip(columns, values, strict=True)}))
    return Table(columns=columns, rows=rows)


def _sav_cell(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _check_value(item: Item, raw: str) -> tuple[int | str | None, str]:
    """The stored value of one cell, or an error message."""
    if raw == "":
        return None, ""
    if item.type == "text":
        limit = item.max_length or 500
        if problem := text_problem(raw, field=_("the answer")):
            return None, problem
        return (raw, "") if len(raw) <= limit else (None, _("longer than %(length)d characters", length=limit))
    shown = repr(raw[:40])
    try:
        number = float(raw.replace(",", "."))
    except ValueError:
        return None, _("%(value)s is not a number", value=shown)
    if not number.is_integer():
        return None, _("%(value)s is not a whole number", value=shown)
    if not INT32_MIN <= number <= INT32_MAX:  # the answer column is a 32-bit integer
        return None, _("%(value)s is too large", value=shown)
    value = int(number)
    if item.type == "choice":
        allowed = sorted(int(o["value"]) for o in item.options)
        return (
            (value, "")
            if value in allowed
            else (None, _("%(value)d is not one of the answer codes %(codes)s", value=value, codes=allowed))
        )
    low, high = item.min_value, item.max_value
    if low is not None and high is not None and not low <= value <= high:
        return None, _("%(value)d is outside %(low)d..%(high)d", value=value, low=low, high=high)
    return value, ""


def plan_response_import(
    *,
    session: Session,
    privacy: Privacy,
    wave: Wave,
    table: Table,
    id_column: str,
    mapping: dict[str, str],
    create_missing: bool = True,
) -> ResponsePlan:
    """Check every row of an earlier wave's file against the mapping, the items and the study."""
    plan = ResponsePlan()
    id_column = normalise_column(id_column)
    items = {i.code: i for i in session.exec(select(Item).where(Item.instrument_id == wave.instrument_id))}
    if id_column not in table.columns:
        plan.problems.append(
            RowProblem(1, _("the identifier column %(column)s is not in the file", column=repr(id_column)))
        )
    for column, code in mapping.items():
        if column not in table.columns:
            plan.problems.append(RowProblem(1, _("mapped column %(column)s is not in the file", column=repr(column))))
        if code not in items:
            plan.problems.append(
                RowProblem(
                    1, _("column %(column)s is mapped to unknown item %(code)s", column=repr(column), code=repr(code))
                )
            )
    if plan.problems:
        return plan
    cohort = session.get(Cohort, wave.cohort_id)
    assert cohort is not None
    seen: dict[str, int] = {}
    for row in table.rows:
        identifier = row.cells.get(id_column, "").strip()
        if not identifier:
            plan.problems.append(RowProblem(row.line, _("no identifier in column %(column)s", column=repr(id_column))))
            continue
        if problem := line_problem(identifier, field=_("the identifier in column %(column)s", column=repr(id_column))):
            plan.problems.append(RowProblem(row.line, problem))
            continue
        key = normalise_external_id(identifier)
        if key in seen:
            plan.problems.append(RowProblem(row.line, _("the same identifier as line %(line)d", line=seen[key])))
            continue
        seen[key] = row.line
        answers: dict[int, int | str] = {}
        for column, code in mapping.items():
            value, problem = _check_value(items[code], row.cells.get(column, "").strip())
            if problem:
                plan.problems.append(RowProblem(row.line, f"{column} ({code}): {problem}"))
            elif value is not None:
                answers[row_key(items[code])] = value
        plan.rows.append((row.line, identifier, answers))
    if not table.rows:
        plan.problems.append(RowProblem(1, _("the file has no rows")))
    if not plan.problems:
        _link(session, privacy, wave, cohort, plan, create_missing)
    return plan


def _find_participant(session: Session, privacy: Privacy, cohort: Cohort, identifier: str) -> Participant | None:
    study_cohorts = select(Cohort.id).where(Cohort.study_id == cohort.study_id)
    by_identity = session.exec(
        select(Participant)
        .join(Identity, col(Identity.participant_id) == Participant.id)
        .where(
            Identity.external_id_hash == privacy.external_id_hash(identifier),
            col(Participant.cohort_id).in_(study_cohorts),
        )
    ).first()
    if by_identity is not None:
        return by_identity
    pseudonym = privacy.pseudonym(study_id=cohort.study_id, person_key=person_key(email="", external_id=identifier))
    return session.exec(select(Participant).where(Participant.pseudonym == pseudonym)).first()


def _link(
    session: Session, privacy: Privacy, wave: Wave, cohort: Cohort, plan: ResponsePlan, create_missing: bool
) -> None:
    for line, identifier, answers in plan.rows:
        participant = _find_participant(session, privacy, cohort, identifier)
        if participant is None:
            if not create_missing:
                plan.problems.append(RowProblem(line, _("no participant of this study has this identifier")))
            else:
                plan.new_participants += 1
            continue
        if participant.cohort_id != cohort.id:
            plan.problems.append(RowProblem(line, _("this participant belongs to another cohort than the wave")))
            continue
        if participant.status == "erased":
            plan.problems.append(RowProblem(line, _("this participant's data were erased at their request")))
            continue
        existing = session.exec(
            select(Response)
            .join(Invitation, col(Invitation.id) == Response.invitation_id)
            .where(Invitation.participant_id == participant.id, Invitation.wave_id == wave.id)
        ).first()
        if existing is None:
            continue
        stored = {
            a.item_id: (a.value_text if a.value_text is not None else a.value_number)
            for a in session.exec(select(Answer).where(Answer.response_id == existing.id))
        }
        if stored == answers:
            plan.unchanged += 1
        else:
            plan.problems.append(RowProblem(line, _("this participant already has other answers for this wave")))


def apply_response_import(
    *,
    session: Session,
    privacy: Privacy,
    wave: Wave,
    plan: ResponsePlan,
    user: User | None = None,
    source: str = "",
) -> int:
    """Store a checked plan; returns the number of responses stored. Raises if the plan has problems."""
    if plan.problems:
        raise ImportRejected(plan.problems)
    cohort = session.get(Cohort, wave.cohort_id)
    assert cohort is not None
    stored = 0
    now = utcnow()
    for _line, identifier, answers in plan.rows:
        participant = _find_participant(session, privacy, cohort, identifier)
        if participant is None:
            participant = Participant(
                pseudonym=privacy.pseudonym(
                    study_id=cohort.study_id, person_key=person_key(email="", external_id=identifier)
                ),
                cohort_id=row_key(cohort),
            )
            session.add(participant)
            session.flush()
        invitation = session.exec(
            select(Invitation).where(Invitation.participant_id == participant.id, Invitation.wave_id == wave.id)
        ).first()
        if (
            invitation is not None
            and session.exec(select(Response.id).where(Response.invitation_id == invitation.id)).first()
        ):
            continue  # the same answers were imported before
        if invitation is None:
            invitation = Invitation(participant_id=row_key(participant), wave_id=row_key(wave))
        invitation.state, invitation.completed_at = "completed", now
        session.add(invitation)
        session.flush()
        response = Response(
            invitation_id=row_key(invitation),
            source="import",
            started_at=now,
            updated_at=now,
            submitted_at=now,
            current_section="",
        )
        session.add(response)
        session.flush()
        for item_id, value in answers.items():
            session.add(
                Answer(
                    response_id=row_key(response),
                    item_id=item_id,
                    value_text=value if isinstance(value, str) else None,
                    value_number=value if isinstance(value, int) else None,
                )
            )
        stored += 1
    session.flush()
    audit.record(
        session=session,
        action="responses.imported",
        user=user,
        actor="cli" if user is None else "",
        target_type="wave",
        target_id=wave.id,
        detail={
            "responses": stored,
            "unchanged": plan.unchanged,
            "new_participants": plan.new_participants,
            "source": PurePath(source).name[-100:],
        },
    )
    return stored
