"""Participants get their own data (GDPR Art. 15 and 20): every stored answer of every wave, consent history,
messages and contact details, as a page, PDF, JSON and CSV; nothing of anyone else; audit-logged and
rate-limited; a researcher makes a copy only with the identity permission; the command line too."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session, col, select

from studyapp.core.models import (
    Answer,
    AuditEvent,
    Identity,
    Invitation,
    Item,
    OutboxMessage,
    Participant,
    Response,
    Wave,
)
from studyapp.participants import consent
from studyapp.participants.rate_limits import OWN_DATA_FILES_PER_LINK
from tests.conftest import artifact_dir
from tests.factories import (
    enrol,
    invite_with_token,
    login,
    make_cohort,
    make_flow_instrument,
    make_study,
    make_user,
    make_wave,
    submit_response,
)

# Without libharfbuzz-subset WeasyPrint warns on every PDF; that says nothing about the copy.
pytestmark = pytest.mark.filterwarnings("ignore:HarfBuzz-Subset will be required:DeprecationWarning")

ANA = {
    "prof_title": 4,
    "prof_title_other": "dijkbouwer",
    "idn_proud": 6,
    "idn_self": 5,
    "cc_clear": 7,
    "work_status": 3,
    "work_hours": 32,  # kept from before she said she studies: skip logic now hides the question
    "bg_age": 27,
    "bg_remarks": '=HYPERLINK("http://evil.example")',
}
BRAM = {
    "prof_title": 1,
    "idn_proud": 2,
    "idn_self": 3,
    "cc_clear": 1,
    "work_status": 1,
    "work_hours": 40,
    "bg_age": 44,
    "bg_remarks": "Bram's own remark",
}


@pytest.fixture
def world(session: Session) -> dict:
    instrument = make_flow_instrument(session)
    study = make_study(session)
    cohort = make_cohort(session, study)
    t1 = make_wave(session, cohort, instrument, label="T1")
    t2 = make_wave(session, cohort, instrument, label="T2")
    ana = enrol(session, cohort, "ana@student.ut.nl", name="Ana Jansen", language="en", keep_data=True)
    bram = enrol(session, cohort, "bram@example.org", name="Bram de Vries", language="nl")
    ana_t1, token = invite_with_token(session, ana, t1)
    bram_t1, bram_token = invite_with_token(session, bram, t1)
    ana_t2, _ = invite_with_token(session, ana, t2)
    submit_response(session, ana_t1, ANA)
    submit_response(session, bram_t1, BRAM)
    session.add(
        OutboxMessage(
            idempotency_key="invitation:ana:t1",
            kind="invitation",
            invitation_id=ana_t1.id,
            wave_id=t1.id,
            participant_id=ana.id,
            status="sent",
        )
    )
    session.add(
        OutboxMessage(
            idempotency_key="invitation:bram:t1",
            kind="invitation",
            invitation_id=bram_t1.id,
            wave_id=t1.id,
            participant_id=bram.id,
            status="sent",
        )
    )
    session.commit()
    consent.stop_mail(session=session, participant=ana, actor="participant")
    session.commit()
    return {
        "ana": ana,
        "bram": bram,
        "token": token,
        "bram_token": bram_token,
        "study": study,
        "cohort": cohort,
        "waves": (t1, t2),
        "ana_t2": ana_t2,
    }


def stored(session: Session, participant: Participant) -> dict[tuple[str, str], object]:
    """(wave label, item code) -> value of every answer in the database, read without the copy's code."""
    rows = session.exec(
        select(Wave.label, Item.code, Answer.value_number, Answer.value_text)
        .join(Response, col(Response.id) == Answer.response_id)
        .join(Item, col(Item.id) == Answer.item_id)
        .join(Invitation, col(Invitation.id) == Response.invitation_id)
        .join(Wave, col(Wave.id) == Invitation.wave_id)
        .where(Invitation.participant_id == participant.id)
    ).all()
    return {(wave, code): number if number is not None else text for wave, code, number, text in rows}


def own_events(session: Session) -> list[AuditEvent]:
    session.expire_all()
    return list(
        session.exec(select(AuditEvent).where(col(AuditEvent.action).startswith("own_data.")).order_by(AuditEvent.id))
    )


def test_the_json_copy_holds_every_stored_answer_and_nothing_of_anyone_else(
    client: FlaskClient, session: Session, world: dict
) -> None:
    ana, bram = world["ana"], world["bram"]
    response = client.get(f"/p/{world['token']}/my-data.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    copy = json.loads(response.get_data())
    given = {(w["wave"], a["item"]): a["value"] for w in copy["waves"] for a in w["answers"]}
    assert given == stored(session, ana)
    assert len(given) == len(ANA)  # every stored answer, the one skip logic now hides too
    hidden = [a for w in copy["waves"] for a in w["answers"] if not a["shown"]]
    assert [a["item"] for a in hidden] == ["work_hours"]
    assert copy["participant"]["email"] == "ana@student.ut.nl" and copy["participant"]["name"] == "Ana Jansen"
    assert copy["participant"]["pseudonym"] == ana.pseudonym
    assert (copy["study"], copy["cohort"]) == ("Bridge the Gap", world["cohort"].name)
    assert [w["wave"] for w in copy["waves"]] == ["T1", "T2"]
    assert copy["waves"][1]["answers"] == [] and copy["waves"][1]["state"] == "sent"
    assert [e["kind"] for e in copy["consent_history"]] == ["consent_given", "mail_stopped"]
    assert copy["answers_kept_on_leaving"] is True
    assert [(m["kind"], m["wave"], m["status"]) for m in copy["messages"]] == [("invitation", "T1", "sent")]
    # the question in the participant's language, with the professional title filled in
    proud = next(a for a in copy["waves"][0]["answers"] if a["item"] == "idn_proud")
    assert proud["question"] == "I am proud to be dijkbouwer." and proud["label"] == "Agree"
    remarks = next(a for a in copy["waves"][0]["answers"] if a["item"] == "bg_remarks")
    assert remarks["value"] == ANA["bg_remarks"]  # JSON holds the text as given
    text = response.get_data(as_text=True)
    for trace in ("bram", "Bram", bram.pseudonym, "Vries"):
        assert trace not in text, trace


def test_the_page_pdf_and_csv_show_the_same_and_nothing_of_anyone_else(
    client: FlaskClient, session: Session, world: dict, tmp_path: Path
) -> None:
    ana, bram = world["ana"], world["bram"]
    page = client.get(f"/p/{world['token']}/my-data?lang=en")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    for shown in (
        ana.pseudonym,
        "ana@student.ut.nl",
        "Ana Jansen",
        "I am proud to be dijkbouwer.",
        "6 · Agree",
        "Wave T2",
        "No answers stored for this wave.",
        "mail stopped",
        "dijkbouwer",
        "kept, although a later answer skipped this question",
    ):
        assert shown in html, shown
    assert f"/p/{world['token']}/my-data.pdf?lang=en" in html
    for trace in ("bram", bram.pseudonym, "Vries", "Bram&#39;s own remark"):
        assert trace not in html, trace

    raw = client.get(f"/p/{world['token']}/my-data.csv").get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    answers = {(r["wave"], r["field"]): r["value"] for r in rows if r["record"] == "answer"}
    expected = {k: str(v) for k, v in stored(session, ana).items()}
    expected[("T1", "bg_remarks")] = "'" + ANA["bg_remarks"]  # a formula is neutralised for spreadsheets
    assert answers == expected
    assert {r["value"] for r in rows if r["field"] == "email"} == {"ana@student.ut.nl"}
    assert b"bram" not in raw.lower() and bram.pseudonym.encode() not in raw

    pdf = client.get(f"/p/{world['token']}/my-data.pdf?lang=en")
    assert pdf.mimetype == "application/pdf"
    (tmp_path / "copy.pdf").write_bytes(pdf.get_data())
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "copy.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    for shown in (ana.pseudonym, "ana@student.ut.nl", "I am proud to be dijkbouwer.", "Wave T2", "Your consent"):
        assert shown in " ".join(text.split()), shown
    assert "Bram" not in text and bram.pseudonym not in text
    pages = artifact_dir("own-data") / "copy"  # to look at
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(tmp_path / "copy.pdf"), str(pages)], check=True)


def test_every_look_is_audit_logged_without_the_contact_details(
    client: FlaskClient, session: Session, world: dict
) -> None:
    client.get(f"/p/{world['token']}/my-data")
    client.get(f"/p/{world['token']}/my-data.csv")
    events = own_events(session)
    assert [(e.action, e.detail["format"], e.detail["requested_by"]) for e in events] == [
        ("own_data.viewed", "page", "participant"),
        ("own_data.copied", "csv", "participant"),
    ]
    assert all(e.target_id == str(world["ana"].id) and e.actor == "participant" for e in events)
    assert events[0].detail["answers"] == len(ANA)
    assert "ana@" not in str([e.detail for e in events])


def test_the_files_are_rate_limited_per_link(client: FlaskClient, world: dict) -> None:
    allowed = int(OWN_DATA_FILES_PER_LINK.split()[0])
    codes = [client.get(f"/p/{world['token']}/my-data.json").status_code for _ in range(allowed)]
    assert codes == [200] * allowed
    refused = client.get(f"/p/{world['token']}/my-data.csv")
    assert refused.status_code == 429
    # another participant's link has its own count; the page itself stays open
    assert client.get(f"/p/{world['bram_token']}/my-data.json").status_code == 200
    assert client.get(f"/p/{world['token']}/my-data").status_code == 200


def test_a_link_that_opens_nothing_gives_no_data(client: FlaskClient, session: Session, world: dict) -> None:
    for path in ("/p/no-such-link/my-data", "/p/no-such-link/my-data.json", "/p/x/my-data.pdf"):
        assert client.get(path).status_code == 404, path
    consent.erase(session=session, participant=world["ana"], actor="participant")
    session.commit()
    assert client.get(f"/p/{world['token']}/my-data.json").status_code == 404
    assert own_events(session) == []


def test_contact_details_never_kept_are_not_called_deleted(client: FlaskClient, session: Session, world: dict) -> None:
    """Someone enrolled without contact details (as the demo's simulated people) read 'deleted' beside their
    name and address, which the study had never had; 'deleted' is for erasure, on request or on schedule."""
    bram = world["bram"]
    session.delete(session.exec(select(Identity).where(Identity.participant_id == bram.id)).one())
    session.commit()
    page = client.get(f"/p/{world['bram_token']}/my-data?lang=en").get_data(as_text=True)
    assert "<dd>not kept</dd>" in page and "deleted" not in page
    world["study"].identities_erased_at = world["study"].created_at
    session.add(world["study"])
    session.commit()
    page = client.get(f"/p/{world['bram_token']}/my-data?lang=en").get_data(as_text=True)
    assert "<dd>deleted</dd>" in page and "<dd>not kept</dd>" not in page


def test_after_leaving_with_answers_deleted_a_researcher_copy_says_so(client: FlaskClient, session: Session) -> None:
    instrument = make_flow_instrument(session)
    cohort = make_cohort(session, make_study(session))
    wave = make_wave(session, cohort, instrument)
    cara = enrol(session, cohort, "cara@example.org", language="en", keep_data=False)
    invitation, token = invite_with_token(session, cara, wave)
    submit_response(session, invitation, {"bg_age": 30})
    consent.withdraw(session=session, participant=cara, actor="participant")
    session.commit()
    assert client.get(f"/p/{token}/my-data.json").status_code == 404  # her invitations went with her answers
    make_user(session, email="trusted@example.org", can_view_identities=True)
    login(client, "trusted@example.org")
    form = {"file_format": "json", "language": "en", "note": "e-mail of 5 March"}
    copy = client.post(f"/participants/{cara.id}/own-data", data=form).get_json()
    assert copy["waves"] == [] and copy["participant"]["status"] == "withdrawn"
    assert copy["participant"]["email"] == "cara@example.org" and copy["answers_kept_on_leaving"] is False
    assert [e["kind"] for e in copy["consent_history"]] == ["consent_given", "withdrawn"]
    assert copy["consent_history"][1]["note"] == "1 responses deleted"


def test_the_copy_lists_when_researchers_saw_the_contact_details(
    client: FlaskClient, session: Session, world: dict
) -> None:
    make_user(session, email="trusted@example.org", can_view_identities=True)
    login(client, "trusted@example.org")
    client.get(f"/participants/{world['bram'].id}?identity=1")  # Bram's page: not Ana's
    client.get(f"/studies/{world['study'].id}/participants?identities=1")  # the list: both
    client.post("/logout")
    copy = client.get(f"/p/{world['token']}/my-data.json").get_json()
    assert [v["purpose"] for v in copy["contact_details_viewed"]] == ["participant list"]
    bram_copy = client.get(f"/p/{world['bram_token']}/my-data.json").get_json()
    assert sorted(v["purpose"] for v in bram_copy["contact_details_viewed"]) == [
        "participant detail",
        "participant list",
    ]
    page = client.get(f"/p/{world['token']}/my-data?lang=en").get_data(as_text=True)
    assert "in the list of participants" in page


def test_a_researcher_makes_a_copy_only_with_the_identity_permission(
    client: FlaskClient, session: Session, world: dict
) -> None:
    ana = world["ana"]
    make_user(session, email="plain@example.org")
    make_user(session, email="trusted@example.org", can_view_identities=True)
    form = {"file_format": "json", "language": "en", "note": "letter of 3 March, ref 2027-014"}

    login(client, "plain@example.org")
    detail = client.get(f"/participants/{ana.id}").get_data(as_text=True)
    assert "Making a copy needs the identity permission" in detail and "Make the copy" not in detail
    refused = client.post(f"/participants/{ana.id}/own-data", data=form)
    assert refused.status_code == 302 and "Content-Disposition" not in refused.headers
    assert b"ana@student.ut.nl" not in refused.get_data()
    assert own_events(session) == []
    client.post("/logout")

    login(client, "trusted@example.org")
    assert "Make the copy" in client.get(f"/participants/{ana.id}").get_data(as_text=True)
    no_note = client.post(f"/participants/{ana.id}/own-data", data={**form, "note": ""})
    assert no_note.status_code == 302 and own_events(session) == []
    assert "Say who asked and how" in client.get(no_note.headers["Location"]).get_data(as_text=True)
    made = client.post(f"/participants/{ana.id}/own-data", data=form)
    assert made.status_code == 200 and made.headers["Content-Disposition"].startswith("attachment;")
    copy = made.get_json()
    assert copy["participant"]["email"] == "ana@student.ut.nl"
    assert {(w["wave"], a["item"]): a["value"] for w in copy["waves"] for a in w["answers"]} == stored(session, ana)
    [event] = own_events(session)
    assert event.actor == "trusted@example.org" and event.detail["note"] == form["note"]
    assert event.detail["requested_by"] == "researcher" and event.detail["format"] == "json"
    for bad in ({**form, "file_format": "exe"}, {**form, "language": "de"}, {**form, "note": "a\x00b"}):
        assert client.post(f"/participants/{ana.id}/own-data", data=bad).status_code == 302
    assert len(own_events(session)) == 1


def test_the_command_line_writes_a_copy_on_request(runner, session: Session, world: dict, tmp_path: Path) -> None:
    ana = world["ana"]
    result = runner.invoke(
        args=[
            "participants",
            "own-data",
            ana.pseudonym,
            "--out",
            str(tmp_path),
            "--format",
            "csv",
            "--note",
            "phone call of 4 March",
        ]
    )
    assert result.exit_code == 0, result.output
    written = Path(result.output.strip())
    assert written.parent == tmp_path and written.name.endswith(".csv") and ana.pseudonym in written.name
    rows = list(csv.DictReader(io.StringIO(written.read_text("utf-8-sig"))))
    assert len([r for r in rows if r["record"] == "answer"]) == len(ANA)
    [event] = own_events(session)
    assert event.actor == "cli" and event.detail["note"] == "phone call of 4 March"

    pdf = tmp_path / "ana.pdf"
    result = runner.invoke(
        args=["participants", "own-data", ana.pseudonym, "--out", str(pdf), "--note", "letter", "--language", "nl"]
    )
    assert result.exit_code == 0, result.output
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Ik ben er trots op dat ik dijkbouwer ben." in " ".join(text.split())

    for args, message in (
        (["NO-SUCH", "--out", str(tmp_path), "--note", "x"], "No participant"),
        ([ana.pseudonym, "--out", str(tmp_path), "--note", " "], "Say who asked"),
        ([ana.pseudonym, "--out", str(tmp_path), "--note", "a\x00b"], "--note"),
        ([ana.pseudonym, "--out", str(tmp_path / "missing" / "x.json"), "--note", "x"], "No such file"),
    ):
        result = runner.invoke(args=["participants", "own-data", *args])
        assert result.exit_code != 0 and message in result.output, (args, result.output)
    assert len(own_events(session)) == 2  # the refused ones left no audit entry


def test_the_privacy_page_leads_to_the_copy(client: FlaskClient, world: dict) -> None:
    page = client.get(f"/p/{world['token']}/privacy?lang=en").get_data(as_text=True)
    assert f"/p/{world['token']}/my-data?lang=en" in page and "See your data" in page


def test_the_copy_reads_in_dutch(client: FlaskClient, world: dict) -> None:
    page = client.get(f"/p/{world['token']}/my-data?lang=nl").get_data(as_text=True)
    assert '<html lang="nl">' in page
    assert "Ik ben er trots op dat ik dijkbouwer ben." in page
    assert "Your answers" not in page and "Wave T1" not in page
