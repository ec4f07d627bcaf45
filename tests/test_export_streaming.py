"""Streamed exports equal the in-memory ones cell by cell, and no statement grows with the data.

The reference is the export builder as it was before exports were streamed (kept below as
``_reference_export_data``: every response and answer in memory, one bound parameter per response)
fed to :func:`studyapp.exports.writers.write_all`; the streamed export must give the same cells in
every format, on both databases.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeGuard, get_args

import pandas as pd
import pyarrow.parquet as pq
import pyreadstat
import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from studyapp.core.models import (
    Answer,
    Cohort,
    Facet,
    Instrument,
    InstrumentSection,
    Invitation,
    Item,
    Participant,
    Response,
    Wave,
    key,
)
from studyapp.exports import service
from studyapp.exports.service import FORMATS, ExportScope, export_to_folder
from studyapp.exports.writers import ExportData, Kind, Variable, write_all
from tests.factories import (
    login,
    make_cohort,
    make_flow_instrument,
    make_instrument,
    make_participant,
    make_study,
    make_user,
    make_wave,
)

EXPORTED_AT = datetime(2027, 4, 1, 12, 0, tzinfo=UTC)
ODD_TEXTS = [
    "She said \"yes\", then 'no'",
    "first line\nsecond line",
    "Zoë werkt in Düsseldorf · 日本語 ✓",
    '=HYPERLINK("http://evil.example/","x")',
    "-3",
    "+31 6 1234",
    "lone\rreturn and a,comma",
    "@SUM(1+1)",
]


def _reference_selected(session: Session, scope: ExportScope) -> tuple[list[Cohort], list[Wave]]:
    cohort_query = select(Cohort).where(Cohort.study_id == scope.study.id)
    if scope.cohort_ids:
        cohort_query = cohort_query.where(col(Cohort.id).in_(list(scope.cohort_ids)))
    cohorts = list(session.exec(cohort_query.order_by(Cohort.name)))
    wave_query = select(Wave).where(col(Wave.cohort_id).in_([c.id for c in cohorts]))
    if scope.wave_ids:
        wave_query = wave_query.where(col(Wave.id).in_(list(scope.wave_ids)))
    waves = list(session.exec(wave_query.order_by(col(Wave.cohort_id), col(Wave.position))))
    return cohorts, waves


def _reference_is_kind(value: str) -> TypeGuard[Kind]:
    return value in get_args(Kind)


def _reference_variables(
    session: Session, instrument_ids: list[int], language: str
) -> tuple[list[Variable], dict[int, str]]:
    """Item variables in questionnaire order (the union over instruments, by item code)."""
    rows = session.exec(
        select(Item, InstrumentSection.code, Facet.code)
        .join(InstrumentSection, col(InstrumentSection.id) == Item.section_id)
        .outerjoin(Facet, col(Facet.id) == Item.facet_id)
        .where(col(Item.instrument_id).in_(instrument_ids))
        .order_by(col(Item.instrument_id), col(InstrumentSection.position), col(Item.position))
    ).all()
    variables: dict[str, Variable] = {}
    names: dict[int, str] = {}
    for item, section, facet in rows:
        names[key(item)] = item.code
        if item.code in variables:
            continue
        if not _reference_is_kind(item.type):  # the items' type_known constraint allows only these
            raise ValueError(f"item {item.code!r} has an unknown type {item.type!r}")
        labels = {}
        if item.type in ("scale", "choice"):
            labels = {
                int(o["value"]): str(o["label"].get(language) or next(iter(o["label"].values()))) for o in item.options
            }
        variables[item.code] = Variable(
            name=item.code,
            label=item.text.get(language) or next(iter(item.text.values())),
            kind=item.type,
            value_labels=labels,
            section=section,
            facet=facet,
            reverse=item.reverse,
            min_value=item.min_value,
            max_value=item.max_value,
        )
    return list(variables.values()), names


def _reference_export_data(session: Session, scope: ExportScope) -> ExportData:
    """The export's frames as the builder made them before streaming (all in memory)."""
    cohorts, waves = _reference_selected(session, scope)
    cohort_names = {c.id: c.name for c in cohorts}
    wave_by_id = {w.id: w for w in waves}
    instrument_ids = sorted({w.instrument_id for w in waves})
    variables, item_names = _reference_variables(session, instrument_ids, scope.language)
    response_rows = session.exec(
        select(Response, Invitation.wave_id, Participant.pseudonym, Participant.cohort_id)
        .join(Invitation, col(Invitation.id) == Response.invitation_id)
        .join(Participant, col(Participant.id) == Invitation.participant_id)
        .where(col(Invitation.wave_id).in_(list(wave_by_id)))
    ).all()
    responses = pd.DataFrame(
        [
            {
                "pseudonym": pseudonym,
                "cohort": cohort_names[cohort_id],
                "wave": wave_by_id[wave_id].label,
                "wave_position": wave_by_id[wave_id].position,
                "started_at": r.started_at,
                "submitted_at": r.submitted_at,
                "source": r.source,
                "language": r.language,
            }
            for r, wave_id, pseudonym, cohort_id in response_rows
        ],
        columns=["pseudonym", "cohort", "wave", "wave_position", "started_at", "submitted_at", "source", "language"],
    )
    keys = {r.id: (p, cohort_names[c], wave_by_id[w]) for r, w, p, c in response_rows}
    answer_rows = (
        session.exec(
            select(Answer.response_id, Answer.item_id, Answer.value_number, Answer.value_text).where(
                col(Answer.response_id).in_(list(keys))
            )
        ).all()
        if keys
        else []
    )
    answers = pd.DataFrame(
        [
            {
                "pseudonym": keys[rid][0],
                "cohort": keys[rid][1],
                "wave": keys[rid][2].label,
                "wave_position": keys[rid][2].position,
                "item": item_names[item_id],
                "value_number": number,
                "value_text": value,
            }
            for rid, item_id, number, value in answer_rows
        ],
        columns=["pseudonym", "cohort", "wave", "wave_position", "item", "value_number", "value_text"],
    )
    instruments = [session.get(Instrument, i) for i in instrument_ids]
    meta = {
        "study": scope.study.name,
        "instrument": ", ".join(f"{i.code} {i.version}" for i in instruments if i is not None),
        "exported_at": EXPORTED_AT.isoformat(timespec="seconds"),
        "language": scope.language,
        "scope": scope.describe(cohorts, waves),
    }
    return ExportData(answers=answers, responses=responses, variables=variables, meta=meta)


def _respond(
    session: Session,
    participant: Participant,
    wave: Wave,
    answers: dict[str, object],
    *,
    submitted: bool = True,
    started: datetime,
    language: str = "nl",
) -> None:
    items = {i.code: i for i in session.exec(select(Item).where(Item.instrument_id == wave.instrument_id))}
    invitation = Invitation(participant_id=key(participant), wave_id=key(wave), state="started")
    session.add(invitation)
    session.flush()
    response = Response(
        invitation_id=key(invitation),
        started_at=started,
        updated_at=started,
        submitted_at=started + timedelta(minutes=17, seconds=3) if submitted else None,
        language=language,
        source="web" if submitted else "import",
    )
    session.add(response)
    session.flush()
    for code, value in answers.items():
        if isinstance(value, str):
            session.add(Answer(response_id=key(response), item_id=key(items[code]), value_text=value))
        else:
            session.add(Answer(response_id=key(response), item_id=key(items[code]), value_number=value))


def _flow_answers(n: int) -> dict[str, object]:
    """Answers to the flow questionnaire, some missing, some free text with odd characters."""
    answers: dict[str, object] = {"prof_title": (1, 2, 4)[n % 3], "idn_proud": n % 7 + 1, "cc_clear": (n * 3) % 7 + 1}
    if n % 3 == 2:
        answers["prof_title_other"] = ODD_TEXTS[n % len(ODD_TEXTS)]
    if n % 4 != 1:
        answers["idn_self"] = (n * 5) % 7 + 1
    if n % 2 == 0:
        answers["work_status"] = 1
        answers["work_hours"] = 12 + n
    if n % 5 != 3:
        answers["bg_age"] = 18 + n % 40
    if n % 3 == 0:
        answers["bg_remarks"] = ODD_TEXTS[(n + 3) % len(ODD_TEXTS)]
    return answers


@pytest.fixture
def panel(session: Session) -> dict[str, Any]:
    """A study with two cohorts on two questionnaires, three waves, and varied responses."""
    study = make_study(session)
    students = make_cohort(session, study)
    alumni = make_cohort(session, study, "Alumni")
    flow = make_flow_instrument(session)
    small = make_instrument(session)
    t1 = make_wave(session, students, flow, label="T1")
    t2 = make_wave(session, students, flow, label="T2")
    a1 = make_wave(session, alumni, small, label="Follow-up")
    start = datetime(2027, 2, 3, 9, 30, 15, tzinfo=UTC)
    # pseudonyms created out of order, with upper and lower case, so that sorting matters
    codes = [f"P-{(n * 37) % 101:04d}" for n in range(24)] + ["p-0001", "Q-0002", "P-0001b"]
    for n, code in enumerate(codes):
        participant = make_participant(session, students, code)
        when = start + timedelta(hours=n, seconds=n)
        if n % 6 != 5:
            _respond(session, participant, t1, _flow_answers(n), submitted=n % 4 != 3, started=when)
        if n % 2 == 0:
            answers = _flow_answers(n + 1) if n % 8 else {}  # some responses without any answer
            _respond(session, participant, t2, answers, started=when + timedelta(days=90), language="en")
        if n == 7:  # invited, never started
            session.add(Invitation(participant_id=key(participant), wave_id=key(t2), state="sent"))
    for n in range(9):
        participant = make_participant(session, alumni, f"A-{n:03d}")
        answers: dict[str, object] = {"cc_1": n % 3 + 1}
        if n % 3:
            answers["cc_2"] = (n + 1) % 3 + 1
        _respond(session, participant, a1, answers, submitted=n != 4, started=start + timedelta(days=n))
    session.commit()
    return {"study": study, "students": students, "alumni": alumni, "t1": t1, "t2": t2, "a1": a1}


@pytest.fixture(autouse=True)
def _fixed_export_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "utcnow", lambda: EXPORTED_AT)


def _reference_files(session: Session, scope: ExportScope, folder: Path, raw_text: bool = False) -> dict[str, Path]:
    data = _reference_export_data(session, scope)
    return write_all(data, folder, FORMATS, prefix=scope.study.slug, raw_text=raw_text)


def _assert_same_sav(expected: Path, actual: Path) -> None:
    old_frame, old_meta = pyreadstat.read_sav(str(expected), user_missing=True)
    new_frame, new_meta = pyreadstat.read_sav(str(actual), user_missing=True)
    pd.testing.assert_frame_equal(new_frame, old_frame, check_exact=True)
    for attribute in (
        "column_names",
        "column_labels",
        "column_names_to_labels",
        "variable_value_labels",
        "value_labels",
        "variable_to_label",
        "missing_ranges",
        "missing_user_values",
        "variable_measure",
        "variable_display_width",
        "original_variable_types",
        "readstat_variable_types",
        "variable_storage_width",
        "file_label",
        "notes",
        "number_rows",
        "file_encoding",
    ):
        assert getattr(new_meta, attribute) == getattr(old_meta, attribute), attribute


def _assert_same_parquet(expected: Path, actual: Path) -> None:
    old, new = pq.read_table(expected), pq.read_table(actual)
    assert new.schema.names == old.schema.names
    for old_field, new_field in zip(old.schema, new.schema, strict=True):
        assert (new_field.name, new_field.type, new_field.metadata) == (
            old_field.name,
            old_field.type,
            old_field.metadata,
        )
    assert json.loads(new.schema.metadata[b"codebook"]) == json.loads(old.schema.metadata[b"codebook"])
    pd.testing.assert_frame_equal(new.to_pandas(), old.to_pandas(), check_exact=True)
    assert new.to_pylist() == old.to_pylist()


def _assert_same_files(expected: dict[str, Path], actual: dict[str, Path]) -> None:
    assert sorted(actual) == sorted(expected)
    for fmt, path in expected.items():
        assert actual[fmt].name == path.name
        if fmt == "sav":
            _assert_same_sav(path, actual[fmt])
        elif fmt == "parquet":
            _assert_same_parquet(path, actual[fmt])
        elif fmt == "codebook_json":
            assert json.loads(actual[fmt].read_bytes()) == json.loads(path.read_bytes())
            assert actual[fmt].read_bytes() == path.read_bytes()
        else:  # CSV and HTML: byte for byte
            assert actual[fmt].read_bytes() == path.read_bytes(), fmt


SCOPES = {
    "everything": lambda panel: ExportScope(study=panel["study"]),
    "students in Dutch": lambda panel: ExportScope(
        study=panel["study"], cohort_ids=[key(panel["students"])], language="nl"
    ),
    "one wave": lambda panel: ExportScope(study=panel["study"], wave_ids=[key(panel["t2"])]),
    "alumni": lambda panel: ExportScope(study=panel["study"], cohort_ids=[key(panel["alumni"])]),
}


@pytest.mark.parametrize("scope_name", list(SCOPES))
@pytest.mark.parametrize("raw_text", [False, True])
def test_streamed_export_equals_the_in_memory_export(
    session: Session, panel: dict, tmp_path: Path, scope_name: str, raw_text: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    scope = SCOPES[scope_name](panel)
    expected = _reference_files(session, scope, tmp_path / "expected", raw_text)
    monkeypatch.setattr(service, "CHUNK_PARTICIPANTS", 4)  # many chunks, some straddling cohorts
    actual = export_to_folder(session=session, scope=scope, folder=tmp_path / "streamed", raw_text=raw_text)
    _assert_same_files(expected, actual)


def test_streamed_export_of_a_study_without_responses(session: Session, tmp_path: Path) -> None:
    study = make_study(session)
    cohort = make_cohort(session, study)
    make_wave(session, cohort, make_flow_instrument(session))
    scope = ExportScope(study=study)
    expected = _reference_files(session, scope, tmp_path / "expected")
    _assert_same_files(expected, export_to_folder(session=session, scope=scope, folder=tmp_path / "streamed"))


def _statement_parameters(engine: Engine) -> list[tuple[str, int]]:
    """(statement, number of bound parameters) of every statement ``engine`` runs from now on."""
    seen: list[tuple[str, int]] = []

    def count(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, executemany: bool) -> None:
        rows = parameters if executemany else [parameters]
        seen.append((statement, max((len(row) for row in rows if row is not None), default=0)))

    event.listen(engine, "before_cursor_execute", count)
    return seen


def test_no_statement_binds_a_parameter_per_response(session: Session, engine: Engine, tmp_path: Path) -> None:
    """300 responses: the old builder bound 300 response ids in one statement (and 100,000 failed)."""
    study = make_study(session)
    cohort = make_cohort(session, study)
    small = make_instrument(session)
    t1, t2, t3 = (make_wave(session, cohort, small, label=f"T{n}") for n in (1, 2, 3))
    items = {i.code: key(i) for i in session.exec(select(Item).where(Item.instrument_id == key(small)))}
    started = datetime(2027, 2, 3, 9, 30, tzinfo=UTC)
    for n in range(100):
        participant = make_participant(session, cohort, f"P-{n:05d}")
        for wave in (t1, t2, t3):
            invitation = Invitation(participant_id=key(participant), wave_id=key(wave), state="completed")
            session.add(invitation)
            session.flush()
            response = Response(invitation_id=key(invitation), started_at=started, submitted_at=started)
            session.add(response)
            session.flush()
            session.add(Answer(response_id=key(response), item_id=items["cc_1"], value_number=n % 3 + 1))
    session.commit()
    statements = _statement_parameters(engine)
    paths = export_to_folder(session=session, scope=ExportScope(study=study), folder=tmp_path)
    assert len(pd.read_csv(paths["wide_csv"], encoding="utf-8-sig")) == 300
    assert statements
    widest = max(statements, key=lambda s: s[1])
    assert widest[1] <= 20, widest


def test_export_page_lists_waves_without_a_parameter_per_cohort(
    client: FlaskClient, session: Session, engine: Engine, panel: dict
) -> None:
    make_user(session)
    login(client)
    for n in range(30):
        make_cohort(session, panel["study"], f"Cohort {n:02d}")
    statements = _statement_parameters(engine)
    page = client.get(f"/studies/{panel['study'].id}/export")
    assert page.status_code == 200 and "Alumni · Follow-up" in page.get_data(as_text=True)
    widest = max(statements, key=lambda s: s[1])
    assert widest[1] <= 20, widest


def test_download_route_gives_the_same_cells_as_the_in_memory_export(
    client: FlaskClient, session: Session, panel: dict, tmp_path: Path
) -> None:
    make_user(session)
    login(client)
    study = panel["study"]
    response = client.post(
        f"/studies/{study.id}/export",
        data={"formats": list(FORMATS), "language": "nl", "cohorts": [key(panel["students"]), key(panel["alumni"])]},
    )
    assert response.status_code == 200 and response.mimetype == "application/zip"
    data = response.get_data()
    response.close()  # the server closes the archive's temporary file once sent
    downloaded = tmp_path / "downloaded"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(downloaded)
    scope = ExportScope(study=study, cohort_ids=[key(panel["students"]), key(panel["alumni"])], language="nl")
    expected = _reference_files(session, scope, tmp_path / "expected")
    _assert_same_files(expected, {fmt: downloaded / path.name for fmt, path in expected.items()})


def test_cli_export_gives_the_same_cells_as_the_in_memory_export(
    runner: Any, session: Session, panel: dict, tmp_path: Path
) -> None:
    result = runner.invoke(
        args=["export", "--study", "bridge-the-gap", "--wave", "T2", "--raw-text", "--out", str(tmp_path / "cli")]
    )
    assert result.exit_code == 0, result.output
    scope = ExportScope(study=panel["study"], cohort_ids=[key(panel["students"]), key(panel["alumni"])])
    scope = ExportScope(study=panel["study"], cohort_ids=scope.cohort_ids, wave_ids=[key(panel["t2"])])
    expected = _reference_files(session, scope, tmp_path / "expected", raw_text=True)
    _assert_same_files(expected, {fmt: tmp_path / "cli" / path.name for fmt, path in expected.items()})


def test_a_failing_statement_does_not_print_its_parameters(engine: Engine) -> None:
    """With 100,000 participants the old error message printed every bound id (3.4 MB)."""
    secret = "P-SECRET-4711"
    with engine.connect() as connection, pytest.raises(DBAPIError) as failure:
        connection.execute(text("SELECT pseudonym FROM no_such_table WHERE pseudonym = :p"), {"p": secret})
    assert secret not in str(failure.value)
    assert "hidden due to hide_parameters" in str(failure.value)


def test_streamed_csv_only_export_equals_the_in_memory_export(
    session: Session, panel: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a format that needs the whole wide form, only the CSV files are written."""
    scope = ExportScope(study=panel["study"])
    data = _reference_export_data(session, scope)
    expected = write_all(data, tmp_path / "expected", ("long_csv", "wide_csv"), prefix=scope.study.slug)
    monkeypatch.setattr(service, "CHUNK_PARTICIPANTS", 5)
    actual = export_to_folder(
        session=session, scope=scope, folder=tmp_path / "streamed", formats=["wide_csv", "long_csv"]
    )
    _assert_same_files(expected, actual)
    assert sorted(p.name for p in (tmp_path / "streamed").iterdir()) == sorted(p.name for p in expected.values())
