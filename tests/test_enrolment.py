"""Enrolment by import (preview, all-or-nothing, idempotent) and by self-registration."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from openpyxl import Workbook
from sqlmodel import Session, col, select

from studyapp.core.models import (
    AuditEvent,
    Cohort,
    ConsentEvent,
    Identity,
    Participant,
    PendingUpload,
    Study,
)
from studyapp.core.privacy import person_key
from tests.factories import enrol, login, make_cohort, make_study, make_user, privacy_for_tests

GOOD_CSV = (
    "email,name,language,cohort,external_id\n"
    "ana.jansen@student.ut.nl,Ana Jansen,nl,Final-year students,s1001\n"
    "Bram.deVries@student.ut.nl ,Bram de Vries,EN,final-year students,\n"
    "carla@saxion.nl,Carla Smit,nederlands,Young professionals,s1003\n"
)


@pytest.fixture
def study(session: Session) -> Study:
    study = make_study(session)
    make_cohort(session, study, "Final-year students")
    make_cohort(session, study, "Young professionals")
    return study


@pytest.fixture
def researcher(client: FlaskClient, session: Session) -> FlaskClient:
    make_user(session, can_view_identities=True)
    login(client)
    return client


def _upload(client: FlaskClient, study: Study, content: bytes, filename: str = "list.csv"):
    return client.post(
        f"/studies/{study.id}/participants/import",
        data={"file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def _confirm(client: FlaskClient, study: Study, preview_html: str):
    token = re.search(r"/participants/import/([A-Za-z0-9_-]+)", preview_html).group(1)
    return client.post(f"/studies/{study.id}/participants/import/{token}")


def test_preview_then_import(researcher: FlaskClient, session: Session, study: Study) -> None:
    preview = _upload(researcher, study, GOOD_CSV.encode())
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Import 3 participants" in page and "ana.jansen@student.ut.nl" in page
    assert session.exec(select(Participant)).all() == [], "nothing is stored before confirmation"
    upload = session.exec(select(PendingUpload)).one()
    import base64

    for clear in (b"ana.jansen@student.ut.nl", base64.b64encode(GOOD_CSV.encode())):
        assert clear.decode() not in upload.payload_encrypted, "the pending file is encrypted"

    response = _confirm(researcher, study, page)
    assert response.status_code == 302
    assert "Imported 3 new participants; 0 were already enrolled." in researcher.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    participants = session.exec(select(Participant)).all()
    assert len(participants) == 3 and all(p.pseudonym.startswith("P") for p in participants)
    languages = sorted(i.language for i in session.exec(select(Identity)))
    assert languages == ["en", "nl", "nl"]
    assert len(session.exec(select(ConsentEvent).where(ConsentEvent.kind == "consent_given")).all()) == 3
    assert session.exec(select(PendingUpload)).all() == []
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "participants.imported")).one()
    assert event.detail["enrolled"] == 3 and "ana" not in str(event.detail).lower()


def test_the_same_list_again_changes_nothing(researcher: FlaskClient, session: Session, study: Study) -> None:
    _confirm(researcher, study, _upload(researcher, study, GOOD_CSV.encode()).get_data(as_text=True))
    pseudonyms = sorted(p.pseudonym for p in session.exec(select(Participant)))
    again = _upload(researcher, study, GOOD_CSV.replace("ana.jansen", " ANA.Jansen").encode()).get_data(as_text=True)
    assert "Everyone in this file is already enrolled" in again
    assert "already enrolled as P" in again and "same external id" in again and "same e-mail" in again
    assert sorted(p.pseudonym for p in session.exec(select(Participant))) == pseudonyms


@pytest.mark.parametrize(
    ("csv_text", "line", "message"),
    [
        (GOOD_CSV.replace("carla@saxion.nl", "carla(at)saxion.nl"), 4, "malformed e-mail address"),
        (GOOD_CSV.replace("Young professionals", "Alumni 2016"), 4, "unknown cohort 'Alumni 2016'"),
        (GOOD_CSV.replace("EN,", "fr,"), 3, "unknown language 'fr'"),
        (
            GOOD_CSV + "ANA.JANSEN@student.ut.nl,Ana,nl,Final-year students,\n",
            5,
            "the same e-mail address as line 2",
        ),
        (GOOD_CSV + "dirk@ut.nl,Dirk,nl,Final-year students,S1001\n", 5, "the same external_id as line 2"),
        ("mail,cohort\nx@y.nl,Final-year students\n", 1, "missing column(s): email"),
        (GOOD_CSV.replace("external_id", "student_nr"), 1, "unknown column(s): student_nr"),
        ("email,cohort\n", 1, "no participants"),
    ],
)
def test_a_bad_line_rejects_the_whole_file(
    researcher: FlaskClient, session: Session, study: Study, csv_text: str, line: int, message: str
) -> None:
    page = _upload(researcher, study, csv_text.encode()).get_data(as_text=True)
    assert "The file was rejected" in page
    assert re.search(rf"<td>{line}</td><td>[^<]*{re.escape(message.replace(chr(39), '&#39;'))}", page), page
    assert "Import " not in page.split("Preview")[-1] or "participants</button>" not in page
    assert session.exec(select(Participant)).all() == []


def test_semicolon_csv_and_xlsx_are_read(researcher: FlaskClient, session: Session, study: Study) -> None:
    page = _upload(researcher, study, GOOD_CSV.replace(",", ";").encode("utf-8-sig")).get_data(as_text=True)
    assert "Import 3 participants" in page
    workbook = Workbook()
    sheet = workbook.active
    for row in GOOD_CSV.strip().split("\n"):
        sheet.append(row.split(","))
    sheet.append(["dirk@ut.nl", "Dirk", "en", "Young professionals", 1234])
    buffer = io.BytesIO()
    workbook.save(buffer)
    page = _upload(researcher, study, buffer.getvalue(), "list.xlsx").get_data(as_text=True)
    assert "Import 4 participants" in page
    _confirm(researcher, study, page)
    assert len(session.exec(select(Participant)).all()) == 4


def test_not_utf8_is_rejected_with_its_line(researcher: FlaskClient, session: Session, study: Study) -> None:
    content = GOOD_CSV.replace("Carla Smit", "Carla Smít").encode("latin-1")
    page = _upload(researcher, study, content).get_data(as_text=True)
    assert "<td>4</td><td>the file is not UTF-8 text" in page


def test_preview_hides_addresses_without_identity_permission(
    client: FlaskClient, session: Session, study: Study
) -> None:
    make_user(session, email="plain@example.org")
    login(client, email="plain@example.org")
    page = _upload(client, study, GOOD_CSV.encode()).get_data(as_text=True)
    assert "ana.jansen@student.ut.nl" not in page and "a•••@student.ut.nl" in page


def test_cli_import_with_dry_run(app, runner, session: Session, study: Study, tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(GOOD_CSV)
    result = runner.invoke(args=["participants", "import", str(path), "--study", study.slug, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "3 new, 0 already enrolled" in result.output and "Dry run" in result.output
    assert session.exec(select(Participant)).all() == []
    result = runner.invoke(args=["participants", "import", str(path), "--study", study.slug])
    assert "Enrolled 3." in result.output
    path.write_text(GOOD_CSV + "bad-address,X,nl,Final-year students,\n")
    result = runner.invoke(args=["participants", "import", str(path), "--study", study.slug])
    assert result.exit_code != 0
    assert f"{path}:5: malformed e-mail address 'bad-address'" in result.output
    assert len(session.exec(select(Participant)).all()) == 3


def test_self_registration_with_consent(
    researcher: FlaskClient, client: FlaskClient, session: Session, study: Study
) -> None:
    cohort = make_cohort(session, study, "Feedback users")
    researcher.post(f"/cohorts/{cohort.id}/signup")
    session.refresh(cohort)
    assert cohort.signup_open and cohort.signup_code
    researcher.post("/logout")
    page = client.get(f"/join/{cohort.signup_code}?lang=en").get_data(as_text=True)
    assert "Sign up for Bridge the Gap" in page
    response = client.post(
        f"/join/{cohort.signup_code}?lang=en",
        data={"email": "eva@example.org", "language": "en", "keep_data": "no"},
    )
    assert "Please give your consent to take part." in response.get_data(as_text=True)
    assert session.exec(select(Participant)).all() == []
    response = client.post(
        f"/join/{cohort.signup_code}?lang=en",
        data={"email": "eva@example.org", "name": "Eva", "language": "en", "keep_data": "no", "consent": "y"},
    )
    assert "You have signed up" in response.get_data(as_text=True)
    participant = session.exec(select(Participant)).one()
    consent = session.exec(select(ConsentEvent)).one()
    assert (consent.actor, consent.keep_data, participant.cohort_id) == ("participant", False, cohort.id)
    again = client.post(
        f"/join/{cohort.signup_code}",
        data={"email": "EVA@example.org", "language": "nl", "keep_data": "yes", "consent": "y"},
    )
    assert "Je bent aangemeld" in again.get_data(as_text=True)
    assert len(session.exec(select(Participant)).all()) == 1

    cohort.signup_open = False
    session.add(cohort)
    session.commit()
    assert client.get(f"/join/{cohort.signup_code}").status_code == 404


def test_earlier_data_imported_by_external_id_is_completed_by_enrolment(
    researcher: FlaskClient, session: Session, study: Study
) -> None:
    privacy = privacy_for_tests()
    pseudonym = privacy.pseudonym(study_id=study.id, person_key=person_key(email="", external_id="s1001"))
    students = make_cohort(session, study, "Alumni 2016")
    session.add(Participant(pseudonym=pseudonym, cohort_id=students.id))
    session.commit()
    page = _upload(researcher, study, GOOD_CSV.encode()).get_data(as_text=True)
    assert "linked to data imported earlier" in page
    _confirm(researcher, study, page)
    assert len(session.exec(select(Participant)).all()) == 3
    identity = session.exec(select(Identity).join(Participant).where(Participant.pseudonym == pseudonym)).one()
    assert privacy.decrypt(identity.email_encrypted) == "ana.jansen@student.ut.nl"


def test_person_already_in_another_cohort_of_the_study_is_caught(
    researcher: FlaskClient, session: Session, study: Study
) -> None:
    young = session.exec(select(Cohort).where(Cohort.name == "Young professionals")).one()
    enrol(session, young, "ana.jansen@student.ut.nl")
    page = _upload(researcher, study, GOOD_CSV.encode()).get_data(as_text=True)
    assert "Import 2 participants" in page and "same e-mail" in page


def test_opening_and_closing_self_registration_is_audit_logged_and_keeps_the_code(
    researcher: FlaskClient, session: Session, study: Study
) -> None:
    cohort = make_cohort(session, study, "Feedback users")
    researcher.post(f"/cohorts/{cohort.id}/signup")
    session.refresh(cohort)
    code = cohort.signup_code
    researcher.post(f"/cohorts/{cohort.id}/signup")
    researcher.post(f"/cohorts/{cohort.id}/signup")
    session.refresh(cohort)
    assert cohort.signup_open and cohort.signup_code == code, "a link handed out earlier works again"
    events = session.exec(select(AuditEvent).where(col(AuditEvent.action).startswith("signup."))).all()
    assert [(e.action, e.target_id) for e in events] == [
        ("signup.opened", str(cohort.id)),
        ("signup.closed", str(cohort.id)),
        ("signup.opened", str(cohort.id)),
    ]


def test_the_file_type_is_read_from_the_content_not_the_name(
    researcher: FlaskClient, session: Session, study: Study
) -> None:
    """An .xlsx renamed .csv got 'not UTF-8'; it is read as the Excel file it is (and the reverse)."""
    workbook = Workbook()
    sheet = workbook.active
    for row in GOOD_CSV.strip().split("\n"):
        sheet.append(row.split(","))
    buffer = io.BytesIO()
    workbook.save(buffer)
    page = _upload(researcher, study, buffer.getvalue(), "list.csv").get_data(as_text=True)
    assert "Import 3 participants" in page and "not UTF-8" not in page
    page = _upload(researcher, study, GOOD_CSV.encode(), "list.xlsx").get_data(as_text=True)
    assert "Import 3 participants" in page
    old_excel = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    page = _upload(researcher, study, old_excel, "list.csv").get_data(as_text=True)
    assert "this is an old Excel (.xls) file: save it as .xlsx" in page and "not UTF-8" not in page
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as ods:
        ods.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        ods.writestr("content.xml", "<office:document-content/>")
    page = _upload(researcher, study, archive.getvalue(), "list.csv").get_data(as_text=True)
    assert "this is an OpenDocument spreadsheet (.ods)" in page
    assert session.exec(select(Participant)).all() == []


def test_the_signup_form_shows_every_error_at_once(
    researcher: FlaskClient, client: FlaskClient, session: Session, study: Study
) -> None:
    """A missing consent, a name on two lines and a malformed address show together, each beside its field."""
    cohort = make_cohort(session, study, "Everything at once")
    researcher.post(f"/cohorts/{cohort.id}/signup")
    session.refresh(cohort)
    researcher.post("/logout")
    form = {"email": "eva@example", "name": "Eva\nJansen", "language": "en", "keep_data": "no"}
    page = client.post(f"/join/{cohort.signup_code}?lang=en", data=form).get_data(as_text=True)
    assert "Please give your consent to take part." in page
    assert "Enter your name on one line, without invisible characters" in page
    assert "Enter a valid e-mail address." in page
    assert session.exec(select(Participant)).all() == []


# --- frame variables (issue 19: the auxiliary variables of the representativeness figures) ---------------

FRAME_CSV = (
    "email,cohort,institution,gender\n"
    "ana.jansen@student.ut.nl,Final-year students,wo,woman\n"
    "bram@student.ut.nl,Final-year students,hbo,\n"
    "carla@saxion.nl,Young professionals, hbo ,man\n"
)


def _with_frame(session: Session, study: Study, *names: str) -> Study:
    study.frame_variables = list(names)
    session.add(study)
    session.commit()
    return study


def test_the_study_form_keeps_its_frame_variables(researcher: FlaskClient, session: Session, study: Study) -> None:
    form = {"name": study.name, "slug": study.slug, "description": "", "timezone": "Europe/Amsterdam"}
    saved = researcher.post(
        f"/studies/{study.id}/edit", data={**form, "frame_variables": "Institution, gender;programme"}
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    session.refresh(study)
    assert study.frame_variables == ["institution", "gender", "programme"]
    assert 'value="institution, gender, programme"' in researcher.get(f"/studies/{study.id}/edit").get_data(
        as_text=True
    )
    for typed, message in (
        ("e-mail", "use a column heading of lowercase letters"),
        ("email, gender", "the enrolment list has these columns already"),
        ("gender, gender", "Each frame variable once"),
        (", ".join(f"v{i}" for i in range(13)), "At most 12 frame variables"),
    ):
        page = researcher.post(f"/studies/{study.id}/edit", data={**form, "frame_variables": typed})
        assert page.status_code == 200 and message in page.get_data(as_text=True).replace("&#39;", "'"), typed
    session.refresh(study)
    assert study.frame_variables == ["institution", "gender", "programme"]


def test_frame_variables_are_read_from_the_list_and_kept_with_each_participant(
    researcher: FlaskClient, session: Session, study: Study
) -> None:
    _with_frame(session, study, "institution", "gender")
    page = _upload(researcher, study, FRAME_CSV.encode()).get_data(as_text=True)
    assert "Import 3 participants" in page, page
    _confirm(researcher, study, page)
    frames = sorted(
        (p.frame for p in session.exec(select(Participant))), key=lambda f: (f["institution"], f.get("gender", ""))
    )
    assert frames == [
        {"institution": "hbo"},  # an empty cell is unknown, not ""
        {"institution": "hbo", "gender": "man"},  # values are trimmed
        {"institution": "wo", "gender": "woman"},
    ]


@pytest.mark.parametrize(
    ("csv_text", "line", "message"),
    [
        (FRAME_CSV.replace("institution", "programme"), 1, "unknown column(s): programme"),
        (FRAME_CSV.replace(",hbo,\n", ",hbo,\x00\n"), 3, "the gender cell"),
        (FRAME_CSV.replace(",hbo,\n", f",{'x' * 101},\n"), 3, "the institution cell"),
    ],
)
def test_a_bad_frame_column_or_value_rejects_the_list(
    researcher: FlaskClient, session: Session, study: Study, csv_text: str, line: int, message: str
) -> None:
    _with_frame(session, study, "institution", "gender")
    page = _upload(researcher, study, csv_text.encode()).get_data(as_text=True)
    assert "The file was rejected" in page
    assert re.search(rf"<td>{line}</td><td>[^<]*{re.escape(message)}", page), page
    assert session.exec(select(Participant)).all() == []


def test_the_command_line_reads_frame_variables_too(
    app, runner, session: Session, study: Study, tmp_path: Path
) -> None:
    _with_frame(session, study, "institution", "gender")
    path = tmp_path / "list.csv"
    path.write_text(FRAME_CSV)
    result = runner.invoke(args=["participants", "import", str(path), "--study", study.slug])
    assert "Enrolled 3." in result.output, result.output
    assert sorted(p.frame.get("institution", "?") for p in session.exec(select(Participant))) == ["hbo", "hbo", "wo"]
