"""Briefings as immutable versions (issue 16, finding 2).

Before: re-making a wave's briefings deleted the earlier ones, so SQLite handed out their ids again (Delta's
``/briefings/8`` became Acme's, and an audit entry "briefing.downloaded briefing 8" changed meaning); the
audit entries carried no organisation, wave or language; every contact got two e-mails per briefing (Dutch
and English), and re-notification was uneven.

One test walks three versions of a wave's briefings (making them takes most of its time).
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from studyapp.briefings.notify import briefing_message
from studyapp.core.models import AuditEvent, Briefing, Organisation, OutboxMessage, User
from tests.factories import login, make_user
from tests.test_briefings import code_all, make_briefings, setting  # noqa: F401 (the fixture)


def _make(client, setting: dict, **form: str) -> None:  # noqa: F811
    make_briefings(client, setting, **form)


def _notices(session: Session) -> list[OutboxMessage]:
    return list(session.exec(select(OutboxMessage).where(OutboxMessage.kind == "notification")).all())


def _check_notices(session: Session, notices: list[OutboxMessage], version: int) -> None:
    """Each notice names the briefing of this version in its contact's language, and is worded in it."""
    for notice in notices:
        user = session.get(User, notice.user_id)
        assert user is not None and notice.language == user.language
        reference = notice.idempotency_key.split(":", 1)[1]
        message = briefing_message(
            session=session, reference=reference, language=notice.language, base_url="https://x.example", user=user
        )
        assert message is not None
        assert message.subject.startswith("Nieuwe briefing" if user.language == "nl" else "New briefing")
        briefing = session.get(Briefing, int(reference.split(":")[0]))
        assert briefing is not None and (briefing.language, briefing.version) == (user.language, version)


def test_briefings_are_versions_with_their_own_ids_audit_and_one_notice_each(client, session, setting) -> None:  # noqa: F811
    make_user(session)
    login(client)
    study_id = setting["study"].id
    code_all(client, study_id)
    acme = session.exec(select(Organisation).where(Organisation.name == "Acme Engineering")).one()
    dutch = make_user(session, email="hr@acme.example", role="company_contact", organisation_id=acme.id, language="nl")
    english = make_user(session, email="cto@acme.example", role="company_contact", organisation_id=acme.id)
    english.language = "en"
    session.add(english)
    session.commit()

    # version 1: one notice per contact, in the contact's language (was: one per briefing, both languages)
    _make(client, setting)
    first = {b.id: (b.organisation_id, b.language) for b in session.exec(select(Briefing)).all()}
    assert len(first) == 6  # the sample, Acme and Tiny Tech, in Dutch and English
    notices = _notices(session)
    assert sorted((n.user_id, n.language) for n in notices) == sorted([(dutch.id, "nl"), (english.id, "en")])
    _check_notices(session, notices, 1)

    # version 2: new ids; version 1 kept, each id still naming the same organisation and language
    _make(client, setting)
    session.expire_all()
    rows = session.exec(select(Briefing).order_by(Briefing.id)).all()
    old = [b for b in rows if b.id in first]
    new = [b for b in rows if b.id not in first]
    assert {b.id: (b.organisation_id, b.language) for b in old} == first
    assert len(new) == 6 and min(b.id for b in new) > max(first)  # type: ignore[operator]
    assert {b.version for b in old} == {1} and {b.version for b in new} == {2}
    assert all(b.superseded_at is not None for b in old) and all(b.superseded_at is None for b in new)
    assert all(b.withdrawn_at is None for b in rows)
    assert "Superseded by version 2" in client.get(f"/studies/{study_id}/briefings").get_data(as_text=True)
    notices = _notices(session)
    assert len(notices) == 4
    _check_notices(session, [n for n in notices if n.id not in {m.id for m in notices[:2]}], 2)

    # the company sees both versions; downloads are audited with organisation, wave, language and version
    company = client.application.test_client()
    login(company, "hr@acme.example")
    versions = {b.version: b for b in rows if b.organisation_id == acme.id and b.language == "nl"}
    portal = company.get("/company").get_data(as_text=True)
    assert "vervangen door een nieuwere versie" in portal  # the portal speaks its Dutch contact's language
    for briefing in versions.values():
        assert f"/company/briefings/{briefing.id}.pdf" in portal
        assert company.get(f"/company/briefings/{briefing.id}.pdf").data.startswith(b"%PDF")
    client.get(f"/briefings/{versions[1].id}.pdf")
    events = session.exec(
        select(AuditEvent).where(AuditEvent.action == "briefing.downloaded").order_by(AuditEvent.id)
    ).all()
    assert [(int(e.target_id), e.detail["version"]) for e in events] == [  # type: ignore[index, arg-type]
        (versions[1].id, 1),
        (versions[2].id, 2),
        (versions[1].id, 1),
    ]
    assert events[0].detail == {
        "organisation": "Acme Engineering",
        "organisation_id": acme.id,
        "wave": "T2",
        "wave_id": setting["waves"][1].id,
        "language": "nl",
        "version": 1,
        "superseded": True,
        "withdrawn": False,
    }

    # version 3, the earlier one withdrawn: version 2 is gone from the portal, version 1 stays superseded
    _make(client, setting, earlier="withdraw")
    session.expire_all()
    assert company.get(f"/company/briefings/{versions[2].id}.pdf").status_code == 404
    assert company.get(f"/company/briefings/{versions[1].id}.pdf").status_code == 200
    assert f"/company/briefings/{versions[2].id}.pdf" not in company.get("/company").get_data(as_text=True)
    withdrawn = session.get(Briefing, versions[2].id)
    assert withdrawn is not None and withdrawn.withdrawn_at is not None
    assert client.get(f"/briefings/{versions[2].id}.pdf").status_code == 200  # researchers keep every version
    assert "Withdrawn" in client.get(f"/studies/{study_id}/briefings").get_data(as_text=True)
    made = session.exec(select(AuditEvent).where(AuditEvent.action == "briefings.generated").order_by(AuditEvent.id))
    assert [(e.detail["version"], e.detail["superseded"], e.detail["withdrawn"]) for e in made] == [  # type: ignore[index]
        (1, 0, 0),
        (2, 6, 0),
        (3, 6, 6),
    ]


def test_making_briefings_is_a_background_job_and_a_second_click_adds_nothing(client, session, setting) -> None:  # noqa: F811
    """Before: "Make briefings" rendered every PDF inside the request (10 s) and a double click made and
    notified everything twice."""
    from studyapp.briefings.jobs import run_pending_briefings
    from studyapp.core.models import BriefingRun
    from studyapp.database import engine_of

    make_user(session)
    login(client)
    study_id = setting["study"].id
    code_all(client, study_id)
    url = f"/studies/{study_id}/briefings/generate"
    for _ in range(2):  # a double click
        assert client.post(url, data={"wave_id": setting["waves"][1].id}).status_code == 302
    runs = session.exec(select(BriefingRun)).all()
    assert [(r.status, r.made, r.total) for r in runs] == [("queued", 0, 0)]
    assert session.exec(select(Briefing)).all() == []  # nothing made inside the request
    page = client.get(f"/studies/{study_id}/briefings").get_data(as_text=True)
    assert "Queued" in page and 'http-equiv="refresh"' in page and "already being made" in page
    done = run_pending_briefings(engine_of(client.application), min_cell=10)
    assert [(r.status, r.made, r.total, r.version) for r in done] == [("done", 6, 6, 1)]
    assert len(session.exec(select(Briefing)).all()) == 6
    page = client.get(f"/studies/{study_id}/briefings").get_data(as_text=True)
    assert "Done: version 1" in page and "6 of 6 PDFs" in page and 'http-equiv="refresh"' not in page
    # the job can be asked for again once the first is done: a new version
    assert client.post(url, data={"wave_id": setting["waves"][1].id}).status_code == 302
    assert len(session.exec(select(BriefingRun)).all()) == 2
    # a job whose process died while running is queued again and made by a later pass (it wrote nothing)
    from studyapp.core.types import utcnow
    from studyapp.scheduler import run_analyses
    from studyapp.settings import load_settings

    stalled = session.exec(select(BriefingRun).where(BriefingRun.status == "queued")).one()
    stalled.status, stalled.started_at, stalled.made, stalled.total = "running", utcnow() - timedelta(hours=1), 3, 6
    session.add(stalled)
    session.commit()
    assert client.post(url, data={"wave_id": setting["waves"][1].id}).status_code == 302  # still one pending
    assert len(session.exec(select(BriefingRun)).all()) == 2
    run_analyses(engine_of(client.application), load_settings({}, scheduler_enabled=False))
    session.expire_all()
    assert (session.get(BriefingRun, stalled.id).status, session.get(BriefingRun, stalled.id).version) == ("done", 2)  # type: ignore[union-attr]
    assert len(session.exec(select(Briefing)).all()) == 12
