"""Archive-ready deposits through the CLI and the export page: a valid BagIt bag, a Frictionless data
package that validates, a DDI-Codebook 2.5 file in the schema's order, data that read back as stored,
free text only when asked for, no identity anywhere, and clear refusals."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date, timedelta
from pathlib import Path

import bagit
import frictionless
import pandas as pd
import pyreadstat
import pytest
from flask.testing import FlaskClient
from lxml import etree
from sqlmodel import Session, col, select

from studyapp.core.links import issue_token
from studyapp.core.models import (
    Answer,
    AuditEvent,
    Identity,
    Invitation,
    InvitationToken,
    Item,
    Participant,
    Response,
    Wave,
)
from studyapp.demo import DEMO_PARTICIPANTS, DEMO_RESEARCHER_EMAIL, DEMO_STUDY_SLUG, seed_demo
from tests.conftest import csrf_token_from
from tests.factories import (
    PASSWORD,
    enrol,
    invite_with_token,
    load_carriere_kompas,
    login,
    make_cohort,
    make_flow_instrument,
    make_study,
    make_user,
    make_wave,
    privacy_for_tests,
    submit_response,
)

DDI = "{ddi:codebook:2_5}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
PEOPLE = [
    ("ana.jansen@student.ut.nl", "Ana Jansen"),
    ("bram.devries@saxion.nl", "Bram de Vries"),
    ("carla.smit@example.org", "Carla Smit"),
]
TEXT_ITEMS = ("prof_title_other", "bg_remarks")
EMAIL = re.compile(rb"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


@pytest.fixture
def world(session: Session) -> dict:
    """Three people in two waves of the flow questionnaire (every item type), free text included; a
    second cohort without any response."""
    study = make_study(session)
    cohort = make_cohort(session, study)
    empty_cohort = make_cohort(session, study, name="Nobody yet")
    instrument = make_flow_instrument(session)
    t1 = make_wave(session, cohort, instrument, label="T1")
    t2 = make_wave(session, cohort, instrument, label="T2")
    make_wave(session, empty_cohort, instrument, label="T1")
    tokens = []
    for n, (email, name) in enumerate(PEOPLE):
        participant = enrol(session, cohort, email, name=name, external_id=f"s20{n}")
        invitation, token = invite_with_token(session, participant, t1)
        tokens.append(token)
        answers: dict[str, object] = {"prof_title": 1 + n, "idn_proud": 7 - n, "idn_self": 2, "bg_age": 21 + n}
        answers["work_hours"] = 32 if n == 0 else 40
        if n == 1:
            answers |= {"prof_title": 4, "prof_title_other": f"Assistant to {name}", "bg_remarks": "Zeer leuk, ü"}
        submit_response(session, invitation, answers)
        if n < 2:
            invitation, token = invite_with_token(session, participant, t2)
            tokens.append(token)
            submit_response(session, invitation, {"idn_proud": 5, "cc_clear": 3 + n})
    return {"study": study, "cohort": cohort, "empty_cohort": empty_cohort, "t1": t1, "t2": t2, "tokens": tokens}


# ---------------------------------------------------------------------------------------------
# Checks shared by the tests


def _ddi_order_ok(parent: etree._Element, order: list[str]) -> None:
    """The element children of ``parent`` are among ``order`` and follow it."""
    names = [child.tag.removeprefix(DDI) for child in parent if isinstance(child.tag, str)]
    unknown = [n for n in names if n not in order]
    assert not unknown, f"{parent.tag}: unexpected {unknown}"
    positions = [order.index(n) for n in names]
    assert positions == sorted(positions), f"{parent.tag}: children out of order: {names}"


VAR_ORDER = [
    "location", "labl", "imputation", "security", "embargo", "respUnit", "anlysUnit", "qstn", "valrng",
    "invalrng", "undocCod", "universe", "TotlResp", "sumStat", "txt", "stdCatgry", "catgryGrp", "catgry",
    "codInstr", "verStmt", "concept", "derivation", "varFormat", "geoMap", "catLevel", "notes",
]  # fmt: skip


def check_ddi(path: Path) -> etree._ElementTree:
    """Well-formed, and the DDI-Codebook 2.5 structure: the required elements and their order."""
    tree = etree.parse(str(path))  # raises on a document that is not well-formed
    root = tree.getroot()
    assert root.tag == f"{DDI}codeBook" and root.get("version") == "2.5"
    _ddi_order_ok(root, ["docDscr", "stdyDscr", "fileDscr", "dataDscr", "otherMat"])
    assert [c.tag for c in root][:2] == [f"{DDI}docDscr", f"{DDI}stdyDscr"]
    study = root.find(f"{DDI}stdyDscr")
    _ddi_order_ok(
        study,
        [
            "citation",
            "studyAuthorization",
            "stdyInfo",
            "studyDevelopment",
            "method",
            "dataAccs",
            "othrStdyMat",
            "notes",
        ],
    )
    assert study.find(f"{DDI}citation/{DDI}titlStmt/{DDI}titl").text
    _ddi_order_ok(study.find(f"{DDI}citation"), ["titlStmt", "rspStmt", "prodStmt", "distStmt", "serStmt"])
    _ddi_order_ok(
        study.find(f"{DDI}stdyInfo"), ["studyBudget", "subject", "abstract", "sumDscr", "qualityStatement", "notes"]
    )
    _ddi_order_ok(
        study.find(f"{DDI}stdyInfo/{DDI}sumDscr"),
        ["timePrd", "collDate", "nation", "geogCover", "geogUnit", "anlyUnit", "universe", "dataKind"],
    )
    _ddi_order_ok(study.find(f"{DDI}method"), ["dataColl", "notes", "anlyInfo", "stdyClas", "dataProcessing"])
    files = root.findall(f"{DDI}fileDscr")
    assert files and all(f.find(f"{DDI}fileTxt/{DDI}fileName").text for f in files)
    for file in files:
        _ddi_order_ok(
            file.find(f"{DDI}fileTxt"),
            ["fileName", "fileCitation", "dataFingerprint", "fileCont", "fileStrc", "dimensns", "fileType", "format"],
        )
    data = root.find(f"{DDI}dataDscr")
    _ddi_order_ok(data, ["varGrp", "nCubeGrp", "var", "nCube", "notes"])
    file_ids = {f.get("ID") for f in files}
    ids = {v.get("ID") for v in data.findall(f"{DDI}var")}
    for group in data.findall(f"{DDI}varGrp"):
        _ddi_order_ok(group, ["labl", "txt", "concept", "defntn", "universe", "notes"])
        assert set(group.get("var").split()) <= ids
    for var in data.findall(f"{DDI}var"):
        assert var.get("name") and var.get("ID") and set(var.get("files").split()) == file_ids
        _ddi_order_ok(var, VAR_ORDER)
        for question in var.findall(f"{DDI}qstn"):
            _ddi_order_ok(question, ["preQTxt", "qstnLit", "postQTxt", "forward", "backward", "ivuInstr"])
        for category in var.findall(f"{DDI}catgry"):
            _ddi_order_ok(category, ["catValu", "labl", "txt", "catStat", "mrow"])
    return tree


def _ddi_vars(tree: etree._ElementTree) -> dict[str, etree._Element]:
    return {v.get("name"): v for v in tree.getroot().iter(f"{DDI}var")}


def _texts(element: etree._Element, tag: str) -> dict[str, str]:
    return {e.get(XML_LANG): e.text for e in element.findall(f"{DDI}{tag}")}


def check_bag(bag_dir: Path, prefix: str = "bridge-the-gap") -> dict[str, Path]:
    """A valid bag with SHA-256 and SHA-512 manifests; returns its payload files by name."""
    bag = bagit.Bag(str(bag_dir))
    bag.validate()  # raises BagValidationError on a missing, extra or altered file
    assert set(bag.algorithms) == {"sha256", "sha512"}
    assert bag.info["Source-Organization"].startswith("[")
    payload = {p.name: p for p in (bag_dir / "data").iterdir()}
    expected = {
        f"{prefix}_wide.csv",
        f"{prefix}.sav",
        f"{prefix}_codebook.json",
        "ddi-codebook.xml",
        "datapackage.json",
        "dataverse-citation.json",
        "README.md",
    }
    assert set(payload) == expected
    return payload


def check_package(payload: dict[str, Path]) -> pd.DataFrame:
    """Frictionless validates the package; every CSV column is in the Table Schema and the DDI, with
    matching types; returns the CSV read by pandas."""
    report = frictionless.validate(str(payload["datapackage.json"]))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    package = json.loads(payload["datapackage.json"].read_text(encoding="utf-8"))
    fields = {f["name"]: f for f in package["resources"][0]["schema"]["fields"]}
    frame = pd.read_csv(payload["bridge-the-gap_wide.csv"], encoding="utf-8")
    assert payload["bridge-the-gap_wide.csv"].read_bytes()[:3] != b"\xef\xbb\xbf"  # plain UTF-8
    assert list(frame.columns) == list(fields)
    variables = _ddi_vars(check_ddi(payload["ddi-codebook.xml"]))
    assert set(variables) == set(frame.columns)
    for name, column in frame.items():
        schema_type = fields[name]["type"]
        ddi_type = variables[name].find(f"{DDI}varFormat").get("type")
        if schema_type in ("integer", "number"):
            assert ddi_type == "numeric", name
            assert column.isna().all() or pd.api.types.is_numeric_dtype(column), name
            if schema_type == "integer":
                assert (column.dropna() % 1 == 0).all(), name
        else:
            assert ddi_type == "character", name
    return frame


def database_answers(session: Session, study_id: int, include_text: bool) -> dict[tuple[str, str, str], object]:
    """(pseudonym, wave, item) -> the stored value, straight from the tables."""
    rows = session.exec(
        select(Participant.pseudonym, Wave.label, Item.code, Item.type, Answer.value_number, Answer.value_text)
        .join(Response, col(Response.id) == Answer.response_id)
        .join(Invitation, col(Invitation.id) == Response.invitation_id)
        .join(Participant, col(Participant.id) == Invitation.participant_id)
        .join(Wave, col(Wave.id) == Invitation.wave_id)
        .join(Item, col(Item.id) == Answer.item_id)
    ).all()
    return {
        (pseudonym, wave, code): text if kind == "text" else number
        for pseudonym, wave, code, kind, number, text in rows
        if include_text or kind != "text"
    }


def check_values(session: Session, payload: dict[str, Path], frame: pd.DataFrame, include_text: bool) -> None:
    """The CSV and the SPSS file hold exactly the database's answers, and the SPSS labels are the items'."""
    stored = database_answers(session, 0, include_text)
    sav, meta = pyreadstat.read_sav(str(payload["bridge-the-gap.sav"]))
    assert list(sav.columns) == list(frame.columns)
    items = [c for c in frame.columns if c in {code for _, _, code in stored} or c in TEXT_ITEMS]
    for source in (frame, sav):
        found = {}
        for row in source.to_dict("records"):
            for item in items:
                value = row[item]
                if isinstance(value, str) and value == "":
                    continue
                if value is not None and not (isinstance(value, float) and pd.isna(value)):
                    found[(row["pseudonym"], row["wave"], item)] = value
        assert found == {k: v for k, v in stored.items() if v is not None}
    flow_items = {i.code: i for i in session.exec(select(Item))}
    for code, labels in meta.variable_value_labels.items():
        assert labels == {float(o["value"]): o["label"]["en"] for o in flow_items[code].options}
    assert meta.column_names_to_labels["idn_proud"] == flow_items["idn_proud"].text["en"]


def check_ddi_content(payload: dict[str, Path]) -> None:
    """Question texts in both languages, value labels, missing code, waves, scales and reverse keying."""
    variables = _ddi_vars(etree.parse(str(payload["ddi-codebook.xml"])))
    proud = variables["idn_proud"]
    assert set(_texts(proud.find(f"{DDI}qstn"), "qstnLit")) == {"nl", "en"}
    categories = proud.findall(f"{DDI}catgry")
    assert [c.findtext(f"{DDI}catValu") for c in categories] == [str(v) for v in range(1, 8)] + [""]
    assert set(_texts(categories[0], "labl")) == {"nl", "en"} and categories[-1].get("missing") == "Y"
    assert "T1" in proud.findtext(f"{DDI}qstn/{DDI}ivuInstr") and "T2" in proud.findtext(f"{DDI}qstn/{DDI}ivuInstr")
    notes = {n.get("type"): n.text for n in proud.findall(f"{DDI}notes")}
    assert notes["scale"] == "identification" and notes["reverse keyed"] in ("yes", "no")
    groups = etree.parse(str(payload["ddi-codebook.xml"])).getroot().iter(f"{DDI}varGrp")
    assert any(g.get("name") == "identification" and proud.get("ID") in g.get("var").split() for g in groups)


# ---------------------------------------------------------------------------------------------
# Through the CLI


def _cli_deposit(runner, tmp_path: Path, *extra: str, name: str = "bag"):
    return runner.invoke(
        args=["export", "--study", "bridge-the-gap", "--format", "deposit", "--out", str(tmp_path / name), *extra]
    )


def test_cli_deposit_is_a_valid_bag_package_and_codebook(runner, session: Session, world: dict, tmp_path: Path) -> None:
    result = _cli_deposit(runner, tmp_path)
    assert result.exit_code == 0, result.output
    payload = check_bag(tmp_path / "bag")
    frame = check_package(payload)
    assert not set(TEXT_ITEMS) & set(frame.columns)  # free text left out without --include-text
    assert len(frame) == 5 and set(frame["wave"]) == {"T1", "T2"}
    check_values(session, payload, frame, include_text=False)
    check_ddi_content(payload)
    readme = payload["README.md"].read_text(encoding="utf-8")
    assert "flow-test" in readme and "`prof_title_other`" in readme and "Licence" in readme
    citation = json.loads(payload["dataverse-citation.json"].read_text(encoding="utf-8"))
    fields = {f["typeName"]: f for f in citation["datasetVersion"]["metadataBlocks"]["citation"]["fields"]}
    assert fields["title"]["value"] == "Bridge the Gap" and {"author", "datasetContact", "subject"} <= set(fields)
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "data.exported")).one()
    assert event.actor == "cli" and event.detail["formats"] == ["deposit"] and event.detail["include_text"] is False

    # one byte changed in the payload: the bag no longer validates
    csv = payload["bridge-the-gap_wide.csv"]
    csv.write_bytes(csv.read_bytes().replace(b"T2", b"T3", 1))
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(tmp_path / "bag")).validate()


def test_cli_deposit_with_free_text_and_a_single_wave(runner, session: Session, world: dict, tmp_path: Path) -> None:
    result = _cli_deposit(runner, tmp_path, "--include-text")
    assert result.exit_code == 0, result.output
    payload = check_bag(tmp_path / "bag")
    frame = check_package(payload)
    assert set(TEXT_ITEMS) <= set(frame.columns)
    assert frame["prof_title_other"].dropna().tolist() == ["Assistant to Bram de Vries"]
    check_values(session, payload, frame, include_text=True)

    result = _cli_deposit(runner, tmp_path, "--wave", "T2", "--language", "nl", name="t2")
    assert result.exit_code == 0, result.output
    payload = check_bag(tmp_path / "t2")
    frame = check_package(payload)
    assert set(frame["wave"]) == {"T2"} and len(frame) == 2
    _, meta = pyreadstat.read_sav(str(payload["bridge-the-gap.sav"]), metadataonly=True)
    assert meta.variable_value_labels["idn_proud"][7.0] == "Helemaal mee eens"
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "data.exported").order_by(AuditEvent.id))
    assert [e.detail["include_text"] for e in events] == [True, False]


def test_cli_deposit_refusals(runner, session: Session, world: dict, tmp_path: Path) -> None:
    cases = [
        (["--study", "no-such-study"], "no-such-study"),
        (["--study", "bridge-the-gap", "--cohort", "Nobody"], "Unknown cohort"),
        (["--study", "bridge-the-gap", "--wave", "T9"], "No wave labelled T9"),
        (["--study", "bridge-the-gap", "--cohort", "Nobody yet"], "no responses to deposit"),
        (["--study", "bridge-the-gap", "--format", "sav"], "cannot be combined"),
    ]
    for n, (args, message) in enumerate(cases):
        result = runner.invoke(args=["export", "--format", "deposit", *args, "--out", str(tmp_path / f"r{n}")])
        assert result.exit_code != 0 and message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    result = runner.invoke(args=["export", "--study", "bridge-the-gap", "--include-text", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "--format deposit only" in result.output
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    result = _cli_deposit(runner, tmp_path, name="full")
    assert result.exit_code != 0 and "not empty" in result.output
    assert (tmp_path / "full" / "notes.txt").read_text() == "mine"
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "data.exported")).first() is None


# ---------------------------------------------------------------------------------------------
# Through the export page


def _post_deposit(client: FlaskClient, study_id: int, **form: object):
    return client.post(
        f"/studies/{study_id}/export/deposit", data={f"deposit-{k}": v for k, v in form.items()}, buffered=False
    )


def _unzipped(response, target: Path) -> Path:
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "application/zip" and response.is_streamed
    assert "bridge-the-gap-deposit.zip" in response.headers["Content-Disposition"]
    data = response.get_data()
    response.close()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert all(name.startswith("bridge-the-gap-deposit/") for name in archive.namelist())
        archive.extractall(target)
    return target / "bridge-the-gap-deposit"


def test_export_page_deposit(client: FlaskClient, session: Session, world: dict, tmp_path: Path) -> None:
    make_user(session)
    login(client)
    study = world["study"]
    page = client.get(f"/studies/{study.id}/export").get_data(as_text=True)
    assert "Archive-ready deposit" in page and 'name="deposit-include_text"' in page

    bag = _unzipped(_post_deposit(client, study.id, language="en"), tmp_path / "plain")
    payload = check_bag(bag)
    frame = check_package(payload)
    assert not set(TEXT_ITEMS) & set(frame.columns)
    check_values(session, payload, frame, include_text=False)
    check_ddi_content(payload)

    bag = _unzipped(_post_deposit(client, study.id, language="en", include_text="y"), tmp_path / "text")
    frame = check_package(check_bag(bag))
    assert frame["bg_remarks"].dropna().tolist() == ["Zeer leuk, ü"]
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "data.exported").order_by(AuditEvent.id))
    assert [(e.actor, e.detail["include_text"]) for e in events] == [
        ("researcher@example.org", False),
        ("researcher@example.org", True),
    ]


def test_export_page_deposit_refusals(client: FlaskClient, session: Session, world: dict) -> None:
    make_user(session)
    login(client)
    study = world["study"]
    response = _post_deposit(client, study.id, cohorts=[str(world["empty_cohort"].id)], language="en")
    assert response.status_code == 422
    assert "no responses to deposit" in response.get_data(as_text=True)
    response = _post_deposit(client, study.id, cohorts=["999999"], language="en")
    assert response.status_code == 400 and "not a valid choice" in response.get_data(as_text=True)
    assert _post_deposit(client, 999999, language="en").status_code == 404
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "data.exported")).first() is None


# ---------------------------------------------------------------------------------------------
# The demo study: no identity in any file


def test_demo_deposit_holds_no_identity(runner, session: Session, tmp_path: Path) -> None:
    load_carriere_kompas(session)
    seed_demo(session=session, today=date.today() - timedelta(days=1))
    session.commit()
    # personal links, as the fieldwork planner issues them, for every demo invitation
    invitations = session.exec(select(Invitation)).all()
    tokens = [issue_token(session=session, invitation=i) for i in invitations[:50]]
    session.commit()
    privacy = privacy_for_tests()
    identities = session.exec(select(Identity)).all()
    secrets = {privacy.decrypt(i.email_encrypted) for i in identities}
    secrets |= {privacy.decrypt(i.name_encrypted) for i in identities if i.name_encrypted}
    secrets |= {email for email, _, _ in DEMO_PARTICIPANTS} | {name for _, name, _ in DEMO_PARTICIPANTS}
    secrets |= {DEMO_RESEARCHER_EMAIL, "Demo Researcher"}
    secrets |= set(tokens) | {t.token_hash for t in session.exec(select(InvitationToken))}
    secrets |= {i.email_hash for i in identities}
    assert len(secrets) > 8
    for include in ((), ("--include-text",)):
        out = tmp_path / f"demo{len(include)}"
        result = runner.invoke(
            args=["export", "--study", DEMO_STUDY_SLUG, "--format", "deposit", "--out", str(out), *include]
        )
        assert result.exit_code == 0, result.output
        payload = check_bag(out, DEMO_STUDY_SLUG)
        files = [p for p in out.rglob("*") if p.is_file()]
        assert len(files) >= 12
        for path in files:
            content = path.read_bytes()
            if path.suffix == ".sav":  # binary: its numbers may hold the byte 0x40; its texts may not hold '@'
                assert not EMAIL.search(content), path
                sav, meta = pyreadstat.read_sav(str(path))
                texts = [*meta.column_labels, *meta.notes, meta.file_label or ""]
                texts += [label for labels in meta.variable_value_labels.values() for label in labels.values()]
                texts += [str(v) for name in sav.columns if sav[name].dtype == object for v in sav[name].dropna()]
                assert not [t for t in texts if "@" in t], path
            else:
                assert b"@" not in content, path
            text = content.decode("utf-8", "ignore")
            leaked = [s for s in secrets if s and s in text]
            assert not leaked, (path, leaked[:3])
        frame = pd.read_csv(payload[f"{DEMO_STUDY_SLUG}_wide.csv"])
        assert ("work_organisation" in frame.columns) == bool(include)
        assert frame["pseudonym"].nunique() > 100


def test_export_page_deposit_with_csrf_protection(app, client: FlaskClient, session: Session, world: dict) -> None:
    """The deposit form has its own (prefixed) CSRF token, which the app's CSRF protection accepts."""
    app.config["WTF_CSRF_ENABLED"] = True
    make_user(session)
    page = client.get("/login").get_data(as_text=True)
    client.post(
        "/login", data={"email": "researcher@example.org", "password": PASSWORD, "csrf_token": csrf_token_from(page)}
    )
    study = world["study"]
    page = client.get(f"/studies/{study.id}/export").get_data(as_text=True)
    match = re.search(r'name="deposit-csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, "no CSRF token in the deposit form"
    assert _post_deposit(client, study.id, language="en").status_code == 400  # no token: refused
    response = _post_deposit(client, study.id, language="en", csrf_token=match.group(1))
    assert response.status_code == 200 and response.mimetype == "application/zip"
    response.close()


def test_a_failed_deposit_leaves_nothing_behind(
    runner, session: Session, world: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(bagit, "make_bag", full_disk)
    (tmp_path / "empty").mkdir()
    for name in ("new", "empty"):
        result = _cli_deposit(runner, tmp_path, name=name)
        assert result.exit_code != 0 and isinstance(result.exception, OSError)
    assert not (tmp_path / "new").exists() and list((tmp_path / "empty").iterdir()) == []
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "data.exported")).first() is None
