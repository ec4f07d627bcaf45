"""Answers collected elsewhere are imported by identifier, checked, and rejected whole on any bad row."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from flask.testing import FlaskClient
from sqlmodel import Session, select

from studyapp.core.models import Answer, Cohort, Identity, Invitation, Participant, Response, Wave
from tests.factories import enrol, login, make_cohort, make_instrument, make_study, make_user, make_wave

CSV = "studentnr,q1,q2\ns1001,3,1\ns1002,2,\nS1003,1,3\n"
MAPPING = "q1 = cc_1\nq2 = cc_2  # reverse-keyed\n"


@pytest.fixture
def wave(session: Session) -> Wave:
    study = make_study(session)
    wave = make_wave(session, make_cohort(session, study, "Alumni 2016"), make_instrument(session), label="2016")
    object.__setattr__(wave, "study_id_for_test", study.id)
    return wave


@pytest.fixture
def researcher(client: FlaskClient, session: Session) -> FlaskClient:
    make_user(session)
    login(client)
    return client


def _preview(
    client: FlaskClient,
    wave: Wave,
    content: bytes,
    filename: str = "mtg2016.csv",
    mapping: str = MAPPING,
    id_column: str = "studentnr",
):
    study_id = wave.study_id_for_test  # type: ignore[attr-defined]
    return client.post(
        f"/studies/{study_id}/responses/import",
        content_type="multipart/form-data",
        data={
            "wave_id": wave.id,
            "file": (io.BytesIO(content), filename),
            "id_column": id_column,
            "mapping": mapping,
            "create_missing": "y",
        },
    )


def _confirm(client: FlaskClient, page: str):
    path = re.search(r'action="(/studies/\d+/responses/import/[A-Za-z0-9_-]+)"', page).group(1)
    return client.post(path)


def test_import_creates_linked_pseudonymous_responses(researcher: FlaskClient, session: Session, wave: Wave) -> None:
    cohort = session.get(Cohort, wave.cohort_id)
    ana = enrol(session, cohort, "ana@ut.nl", external_id="s1001")
    page = _preview(researcher, wave, CSV.encode()).get_data(as_text=True)
    assert "Import 3 responses" in page, page
    assert session.exec(select(Response)).all() == []
    _confirm(researcher, page)
    responses = session.exec(select(Response)).all()
    assert len(responses) == 3 and {r.source for r in responses} == {"import"}
    assert len(session.exec(select(Participant)).all()) == 3
    mine = session.exec(select(Answer).join(Response).join(Invitation).where(Invitation.participant_id == ana.id)).all()
    assert sorted(a.value_number for a in mine) == [1, 3]
    assert len(session.exec(select(Answer)).all()) == 5, "an empty cell stores no answer"
    for participant in session.exec(select(Participant)):
        assert "1002" not in participant.pseudonym and "1003" not in participant.pseudonym
    assert len(session.exec(select(Identity)).all()) == 1, "no identity is made for imported rows"

    again = _preview(researcher, wave, CSV.encode()).get_data(as_text=True)
    assert "Import 0 responses" in again and "<dd>3</dd>" in again


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (CSV.replace("s1002,2,", "s1002,9,"), 3, "q1 (cc_1): 9 is outside 1..3"),
        (CSV.replace("S1003,1,3", "S1003,one,3"), 4, "q1 (cc_1): &#39;one&#39; is not a number"),
        (CSV.replace("S1003", "s1001"), 4, "the same identifier as line 2"),
        (CSV.replace("s1002,2,", ",2,"), 3, "no identifier in column"),
        (CSV.replace("q2", "question2"), 1, "mapped column &#39;q2&#39; is not in the file"),
    ],
)
def test_bad_rows_reject_the_file(
    researcher: FlaskClient, session: Session, wave: Wave, content: str, line: int, message: str
) -> None:
    page = _preview(researcher, wave, content.encode()).get_data(as_text=True)
    assert "The file was rejected" in page
    assert f"<td>{line}</td><td>{message}" in page, page
    assert session.exec(select(Response)).all() == []


def test_unknown_item_in_mapping(researcher: FlaskClient, wave: Wave) -> None:
    page = _preview(researcher, wave, CSV.encode(), mapping="q1 = no_such_item").get_data(as_text=True)
    assert "mapped to unknown item &#39;no_such_item&#39;" in page


def test_spss_file_is_read(researcher: FlaskClient, session: Session, wave: Wave, tmp_path: Path) -> None:
    frame = pd.DataFrame({"studentnr": ["s1001", "s1002"], "q1": [3.0, float("nan")], "q2": [1.0, 2.0]})
    path = tmp_path / "mtg2016.sav"
    pyreadstat.write_sav(frame, str(path))
    page = _preview(researcher, wave, path.read_bytes(), filename="mtg2016.sav").get_data(as_text=True)
    assert "Import 2 responses" in page
    _confirm(researcher, page)
    assert len(session.exec(select(Answer)).all()) == 3
    bad = frame.assign(q2=[1.0, 7.0])
    pyreadstat.write_sav(bad, str(path))
    page = _preview(researcher, wave, path.read_bytes(), filename="mtg2016.sav").get_data(as_text=True)
    assert "<td>3</td><td>q2 (cc_2): 7 is outside 1..3" in page


def test_cli_import(app, runner, session: Session, wave: Wave, tmp_path: Path) -> None:
    data, mapping = tmp_path / "mtg.csv", tmp_path / "mapping.txt"
    data.write_text(CSV)
    mapping.write_text(MAPPING)
    args = [
        "responses",
        "import",
        str(data),
        "--study",
        "bridge-the-gap",
        "--cohort",
        "Alumni 2016",
        "--wave",
        "2016",
        "--id-column",
        "studentnr",
        "--mapping",
        str(mapping),
    ]
    result = runner.invoke(args=[*args, "--no-create"])
    assert result.exit_code != 0 and f"{data}:2: no participant of this study has this identifier" in result.output
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "Imported 3 responses." in result.output
    assert len(session.exec(select(Response)).all()) == 3
