"""Who may open which route: every route of the app is classified, and each class is tried by every kind
of visitor (anonymous, company contact, researcher without the identity permission, participant link)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlmodel import Session

from studyapp.core.models import AnalysisRun, Briefing, MailboxMessage
from tests.factories import (
    enrol,
    invite_with_token,
    login,
    make_cohort,
    make_instrument,
    make_organisation,
    make_study,
    make_user,
    make_wave,
    submit_response,
)

PUBLIC = {
    "accounts.login",
    "accounts_admin.set_password",
    "health.healthz",
    "static",
    "participant.signup",
    "accessibility.statement",
}
COMPANY = {"briefings.portal", "briefings.company_download"}
ADMIN = {
    "auditlog.index",
    "auditlog.export_csv",
    "accounts_admin.index",
    "accounts_admin.detail",
    "accounts_admin.account_action",
}
ANY_LOGGED_IN = {"accounts.logout", "accounts.change_language", "studies.dashboard"}
LINK_PREFIXES = ("questionnaire.", "participant.", "own_data.")
EMAILS = ("ana@example.org", "bram@example.org")


def classify(endpoint: str) -> str:
    if endpoint in PUBLIC:
        return "public"
    if endpoint.startswith(LINK_PREFIXES):
        return "link"
    if endpoint in COMPANY:
        return "company"
    if endpoint in ADMIN:
        return "admin"
    if endpoint in ANY_LOGGED_IN:
        return "logged_in"
    return "staff"


@pytest.fixture
def world(session: Session) -> dict:
    instrument = make_instrument(session)
    study = make_study(session)
    cohort = make_cohort(session, study)
    wave = make_wave(session, cohort, instrument)
    ana = enrol(session, cohort, EMAILS[0], name="Ana Example")
    bram = enrol(session, cohort, EMAILS[1], name="Bram Example")
    invitation, token = invite_with_token(session, ana, wave)
    other_invitation, other_token = invite_with_token(session, bram, wave)
    submit_response(session, invitation, {"cc_1": 2, "cc_2": 3})
    own, other = make_organisation(session, "Acme"), make_organisation(session, "Other Co")
    briefings = {}
    for organisation in (own, other):
        briefing = Briefing(
            study_id=study.id, organisation_id=organisation.id, wave_id=wave.id, pdf=b"%PDF-1.4", checksum="x"
        )
        session.add(briefing)
        session.flush()
        briefings[organisation.name] = briefing.id
    run = AnalysisRun(study_id=study.id, cohort_id=cohort.id, status="failed", error="test")
    message = MailboxMessage(message_id="<m@x>", recipient=EMAILS[0], subject="s", raw="Subject: s\n\nbody")
    session.add_all([run, message])
    session.commit()
    make_user(session, email="admin@example.org", role="admin")
    researcher = make_user(session, email="researcher@example.org")
    make_user(session, email="hr@acme.example", role="company_contact", organisation_id=own.id)
    values = {
        "study_id": study.id,
        "cohort_id": cohort.id,
        "wave_id": wave.id,
        "participant_id": ana.id,
        "invitation_id": invitation.id,
        "message_id": message.id,
        "briefing_id": briefings["Other Co"],
        "run_id": run.id,
        "token": "no-such-upload",
        "code": "no-such-code",
        "kind": "invitation",
        "language": "nl",
        "action": None,
        "file_format": None,
        "section_code": "career",
        "filename": "css/app.css",
        "user_id": researcher.id,
    }
    return {
        "values": values,
        "token": token,
        "other_token": other_token,
        "own_briefing": briefings["Acme"],
        "other_briefing": briefings["Other Co"],
        "invitation": invitation,
        "other_invitation": other_invitation,
    }


def routes(app: Flask, world: dict):
    """(endpoint, method, path) for every route and method, with the world's ids filled in."""
    from flask import url_for

    for rule in app.url_map.iter_rules():
        arguments = {}
        for name in rule.arguments:
            value = world["values"][name]
            if value is None:  # an any(...) converter: its first option
                value = re.search(r"any\('([^']+)'", str(rule)).group(1)  # type: ignore[union-attr]
            arguments[name] = value
        with app.test_request_context():
            path = url_for(rule.endpoint, **arguments)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, path


def call(client, method: str, path: str):
    response = client.get(path, buffered=True) if method == "GET" else client.post(path, data={}, buffered=True)
    response.close()
    return response


def test_every_route_is_classified(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    known = PUBLIC | COMPANY | ADMIN | ANY_LOGGED_IN
    unknown = {e for e in endpoints if e not in known and not e.startswith(LINK_PREFIXES)}
    # every other route is staff-only; listing them makes a new route a conscious choice
    assert unknown == STAFF_ENDPOINTS, f"classify the new routes: {sorted(unknown ^ STAFF_ENDPOINTS)}"


def test_anonymous_visitors_reach_only_the_login_and_participant_pages(app, client, world) -> None:
    for endpoint, method, path in routes(app, world):
        kind = classify(endpoint)
        response = call(client, method, path)
        if kind in ("staff", "admin", "company", "logged_in"):
            assert response.status_code == 302 and "/login" in response.headers["Location"], (endpoint, method)
        elif kind == "link":  # a made-up token opens nothing
            assert response.status_code in (400, 404), (endpoint, method, response.status_code)
        else:
            assert response.status_code in (200, 302, 400, 404), (endpoint, method, response.status_code)


def test_a_company_contact_sees_only_their_own_organisation(app, client, world) -> None:
    login(client, "hr@acme.example")
    for endpoint, method, path in routes(app, world):
        kind = classify(endpoint)
        if kind in ("staff", "admin"):
            assert call(client, method, path).status_code == 403, (endpoint, method)
    assert client.get(f"/company/briefings/{world['own_briefing']}.pdf").status_code == 200
    assert client.get(f"/company/briefings/{world['other_briefing']}.pdf").status_code == 404
    portal = client.get("/company").get_data(as_text=True)
    assert f"/company/briefings/{world['own_briefing']}.pdf" in portal
    assert f"/company/briefings/{world['other_briefing']}.pdf" not in portal


def test_a_researcher_without_the_identity_permission_never_sees_an_email_address(app, client, world) -> None:
    login(client, "researcher@example.org")
    for endpoint, method, path in routes(app, world):
        kind = classify(endpoint)
        if method != "GET" or kind in ("link", "public"):
            continue
        response = call(client, "GET", path)
        if kind in ("admin", "company"):
            assert response.status_code == 403, endpoint
            continue
        if endpoint.startswith("fieldwork.mailbox"):  # it shows addresses: the permission is needed
            assert response.status_code == 403, endpoint
            continue
        body = response.get_data(as_text=True)
        assert not any(email in body for email in EMAILS), endpoint
    detail = client.get(f"/participants/{world['values']['participant_id']}?identity=1").get_data(as_text=True)
    assert EMAILS[0] not in detail and "permission" in detail


def test_a_participant_link_opens_one_invitation_only(app, client, world, session) -> None:
    token, other = world["token"], world["other_token"]
    assert client.get(f"/p/{token}/feedback?lang=en").status_code == 200  # Ana submitted
    assert client.get(f"/p/{other}/feedback").status_code == 302  # Bram did not: his link has no feedback
    client.post(f"/p/{other}/s/career/autosave", data={"cc_1": "3"})
    from tests.test_questionnaire import answers_in_db

    assert answers_in_db(session, world["invitation"].id) == {"cc_1": 2, "cc_2": 3}  # untouched
    assert answers_in_db(session, world["other_invitation"].id) == {"cc_1": 3}
    for path in (f"/p/{token}x", f"/p/{token[:-1]}", "/p/" + "A" * 200):
        assert client.get(path).status_code == 404


STAFF_ENDPOINTS = {
    "analyses.index",
    "analyses.report_pdf",
    "analyses.show",
    "briefings.code",
    "briefings.download",
    "briefings.generate",
    "briefings.index",
    "exports.deposit",
    "exports.index",
    "fieldwork.dashboard",
    "fieldwork.edit_template",
    "fieldwork.mailbox",
    "fieldwork.mailbox_message",
    "fieldwork.pause",
    "fieldwork.resend",
    "fieldwork.test_message",
    "questionnaire_admin.answers",
    "participants.change_email",
    "participants.consent_action",
    "participants.detail",
    "own_data_admin.researcher_copy",
    "participants.import_confirm",
    "participants.import_upload",
    "participants.index",
    "participants.linkage",
    "participants.responses_confirm",
    "participants.responses_upload",
    "participants.signup_toggle",
    "studies.cohort_delete",
    "studies.cohort_edit",
    "studies.cohort_new",
    "studies.study_delete",
    "studies.study_detail",
    "studies.study_edit",
    "studies.study_new",
    "studies.study_retention",
    "studies.wave_delete",
    "studies.wave_edit",
    "studies.wave_new",
}
