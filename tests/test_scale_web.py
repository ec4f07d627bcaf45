"""Issue 17 for the researcher's pages: bulk enrolment, the dashboard from aggregates, the list by keyset."""

from __future__ import annotations

import io
import random
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from studyapp.app import create_app
from studyapp.core.models import (
    AuditEvent,
    Cohort,
    ConsentEvent,
    Identity,
    Invitation,
    OutboxMessage,
    Participant,
    Response,
    Study,
    Wave,
)
from studyapp.core.privacy import person_key
from studyapp.participants import enrolment
from studyapp.settings import load_settings
from tests.factories import (
    enrol,
    load_carriere_kompas,
    login,
    make_cohort,
    make_study,
    make_user,
    make_wave,
    privacy_for_tests,
)
from waves.stats import wave_stats


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


@contextmanager
def statements(engine: Engine, *, offsets: list[int] | None = None) -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block (executemany counts once).

    ``offsets`` collects every OFFSET the statements skip rows by (SQLite writes ``OFFSET ?`` with 0).
    """
    sent: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append(statement)
        if offsets is not None and (found := re.search(r"OFFSET (\?|%\((\w+)\)s)", statement)):
            offsets.append(parameters[-1] if found.group(1) == "?" else parameters[found.group(2)])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _people_csv(n: int, *, start: int = 0) -> str:
    lines = ["email,name,cohort,language,external_id"]
    for i in range(start, start + n):
        cohort = "Final-year students" if i % 2 else "Young professionals"
        external = f"s{i:06d}" if i % 3 == 0 else ""
        lines.append(f"person{i:06d}@example.org,Person {i},{cohort},{'nl' if i % 2 else 'en'},{external}")
    return "\n".join(lines) + "\n"


# --- enrolment ---------------------------------------------------------------------------------------


def test_importing_500_people_takes_a_bounded_number_of_statements(
    runner, engine: Engine, session: Session, study: Study, tmp_path: Path
) -> None:
    """One multi-row INSERT per table, not one flush per participant (the old import sent over 1,500)."""
    path = tmp_path / "500.csv"
    path.write_text(_people_csv(500))
    with statements(engine) as sent:
        result = runner.invoke(args=["participants", "import", str(path), "--study", study.slug])
    assert result.exit_code == 0, result.output
    assert "Enrolled 500." in result.output
    assert len(sent) <= 30, f"{len(sent)} statements"

    privacy = privacy_for_tests()
    participants = session.exec(select(Participant)).all()
    identities = {i.participant_id: i for i in session.exec(select(Identity))}
    assert len(participants) == 500 and len(identities) == 500
    by_pseudonym = {p.pseudonym: p for p in participants}
    for i in (0, 1, 3, 499):
        external = f"s{i:06d}" if i % 3 == 0 else None
        email = f"person{i:06d}@example.org"
        pseudonym = privacy.pseudonym(study_id=study.id, person_key=person_key(email=email, external_id=external))
        participant = by_pseudonym[pseudonym]
        identity = identities[participant.id]
        assert privacy.decrypt(identity.email_encrypted) == email
        assert privacy.decrypt(identity.name_encrypted) == f"Person {i}"
        assert identity.email_hash == privacy.email_hash(email)
        assert identity.external_id_hash == (privacy.external_id_hash(external) if external else None)
        assert identity.language == ("nl" if i % 2 else "en") and participant.status == "active"
        assert participant.enrolled_at is not None
    consents = session.exec(select(ConsentEvent)).all()
    assert sorted(c.participant_id for c in consents) == sorted(p.id for p in participants)
    assert {(c.kind, c.actor, c.keep_data) for c in consents} == {("consent_given", "researcher", True)}
    audit = session.exec(select(AuditEvent).where(AuditEvent.action == "participants.imported")).one()
    assert audit.detail["enrolled"] == 500

    with statements(engine) as sent:
        again = runner.invoke(args=["participants", "import", str(path), "--study", study.slug])
    assert "0 new, 500 already enrolled" in again.output and len(sent) <= 30, (again.output, len(sent))


def test_a_list_beyond_the_upload_limit_is_enrolled_by_the_command_line(
    runner, session: Session, study: Study, tmp_path: Path
) -> None:
    """The old import refused a 100,001-row file ("split the file"); the command line has no row limit."""
    path = tmp_path / "national-panel.csv"
    with path.open("w") as handle:
        handle.write("email,cohort\n")
        handle.writelines(f"p{i}@example.org,Young professionals\n" for i in range(100_001))
    result = runner.invoke(args=["participants", "import", str(path), "--study", study.slug, "--dry-run"])
    assert result.exit_code == 0, result.output[-500:]
    assert "100001 new, 0 already enrolled" in result.output
    assert session.exec(select(func.count()).select_from(Participant)).one() == 0


def test_the_upload_limit_is_a_setting_whose_message_names_the_command_line(
    engine: Engine, session: Session, study: Study
) -> None:
    settings = load_settings({"UPLOAD_MAX_ROWS": "2"}, scheduler_enabled=False)
    app: Flask = create_app({"TESTING": True, "ENGINE": engine, "WTF_CSRF_ENABLED": False}, settings=settings)
    client = app.test_client()
    make_user(session)
    login(client)
    page = client.post(
        f"/studies/{study.id}/participants/import",
        data={"file": (io.BytesIO(_people_csv(3).encode()), "three.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "more than 2 rows; split the file, or import it with `studyapp participants import`" in page
    assert session.exec(select(Participant)).all() == []


def test_chunked_matching_sorts_everyone_as_before(
    monkeypatch, runner, session: Session, study: Study, tmp_path: Path
) -> None:
    """Look-ups and inserts in chunks of two: new, already enrolled (by e-mail, by external id) and completed."""
    monkeypatch.setattr(enrolment, "LOOKUP_CHUNK", 2)
    monkeypatch.setattr(enrolment, "INSERT_CHUNK", 2)
    privacy = privacy_for_tests()
    young = session.exec(select(Cohort).where(Cohort.name == "Young professionals")).one()
    enrol(session, young, "person000001@example.org")  # same e-mail
    enrol(session, young, "old-address@example.org", external_id="s000003")  # same external id, other e-mail
    earlier = privacy.pseudonym(study_id=study.id, person_key=person_key(email="", external_id="s000006"))
    session.add(Participant(pseudonym=earlier, cohort_id=young.id))  # data imported before enrolment
    session.commit()
    path = tmp_path / "list.csv"
    path.write_text(_people_csv(8))
    result = runner.invoke(args=["participants", "import", str(path), "--study", study.slug])
    assert result.exit_code == 0, result.output
    assert "5 new, 2 already enrolled, 1 linked to earlier data." in result.output
    assert session.exec(select(func.count()).select_from(Participant)).one() == 3 + 5
    identity = session.exec(select(Identity).join(Participant).where(Participant.pseudonym == earlier)).one()
    assert privacy.decrypt(identity.email_encrypted) == "person000006@example.org"
    assert session.exec(select(func.count()).select_from(ConsentEvent)).one() == 2 + 6


def test_an_erased_person_in_a_later_chunk_rejects_the_whole_list(
    monkeypatch, runner, session: Session, study: Study, tmp_path: Path
) -> None:
    monkeypatch.setattr(enrolment, "LOOKUP_CHUNK", 2)
    privacy = privacy_for_tests()
    young = session.exec(select(Cohort).where(Cohort.name == "Young professionals")).one()
    erased = privacy.pseudonym(study_id=study.id, person_key=person_key(email="", external_id="s000006"))
    session.add(Participant(pseudonym=erased, cohort_id=young.id, status="erased"))
    session.commit()
    path = tmp_path / "list.csv"
    path.write_text(_people_csv(8))
    result = runner.invoke(args=["participants", "import", str(path), "--study", study.slug])
    assert result.exit_code != 0
    assert f"{path}:8: this person cannot be enrolled again (erased at their request)" in result.output
    assert session.exec(select(func.count()).select_from(Participant)).one() == 1


# --- fieldwork dashboard -----------------------------------------------------------------------------


def _old_wave_stats(session: Session, study: Study, now: datetime) -> list[dict]:
    """The dashboard's figures as waves/stats.py counted them before issue 17 (every row in Python)."""
    rows = session.exec(
        select(Wave, Cohort)
        .join(Cohort, col(Cohort.id) == Wave.cohort_id)
        .where(Cohort.study_id == study.id)
        .order_by(col(Cohort.name), col(Wave.position))
    ).all()
    result = []
    zone = ZoneInfo(study.timezone)
    for wave, _cohort in rows:
        figures: dict = {"wave": wave.id}
        invitations = session.exec(select(Invitation).where(Invitation.wave_id == wave.id)).all()
        figures["planned"] = len(invitations)
        figures["failed"] = Counter(i.state for i in invitations)["failed"]
        figures["opened"] = sum(1 for i in invitations if i.opened_at is not None)
        responses = session.exec(
            select(Response.submitted_at)
            .join(Invitation, col(Invitation.id) == Response.invitation_id)
            .where(Invitation.wave_id == wave.id)
        ).all()
        figures["started"] = len(responses)
        submitted = sorted(s for s in responses if s is not None)
        figures["completed"] = len(submitted)
        sent = Counter(
            session.exec(
                select(OutboxMessage.kind)
                .join(Invitation, col(Invitation.id) == OutboxMessage.invitation_id)
                .where(Invitation.wave_id == wave.id, OutboxMessage.status == "sent")
            ).all()
        )
        figures["sent"], figures["reminded"] = sent["invitation"], sent["reminder"]
        statuses = dict(
            session.exec(
                select(Participant.status, func.count(col(Participant.id)))
                .join(Invitation, col(Invitation.participant_id) == Participant.id)
                .where(Invitation.wave_id == wave.id)
                .group_by(Participant.status)
            ).all()
        )
        figures["unsubscribed"], figures["withdrawn"] = statuses.get("unsubscribed", 0), statuses.get("withdrawn", 0)
        figures["failures"] = sorted(
            session.exec(
                select(Participant.pseudonym, OutboxMessage.last_error)
                .join(OutboxMessage, col(OutboxMessage.participant_id) == Participant.id)
                .join(Invitation, col(Invitation.id) == OutboxMessage.invitation_id)
                .where(Invitation.wave_id == wave.id, OutboxMessage.status == "failed")
            ).all()
        )
        opened = [i.opens_at for i in invitations if i.opens_at is not None]
        figures["curve"] = []
        if opened and figures["planned"]:
            start: date = min(opened).astimezone(zone).date()
            last = now.astimezone(zone).date()
            if submitted:
                last = max(last, submitted[-1].astimezone(zone).date())
            per_day = Counter((s.astimezone(zone).date() - start).days for s in submitted)
            total = 0
            for day in range(min((last - start).days, 400) + 1):
                total += per_day.get(day, 0)
                figures["curve"].append((day, total / figures["planned"]))
        result.append(figures)
    return result


def _figures(stats) -> list[dict]:
    names = ("planned", "failed", "opened", "started", "completed", "sent", "reminded", "unsubscribed", "withdrawn")
    return [
        {"wave": s.wave.id, **{n: getattr(s, n) for n in names}, "failures": sorted(s.failures), "curve": s.curve}
        for s in stats
    ]


def _fieldwork(session: Session, n: int, *, seed: int = 7) -> Study:
    """A study with two waves whose invitations are in every state, with responses and mail of each kind."""
    rng = random.Random(seed)
    study = make_study(session, slug=f"s{n}", name=f"Study {n}")
    cohort = make_cohort(session, study, "Final-year students")
    instrument = load_carriere_kompas(session)
    waves = [make_wave(session, cohort, instrument, label=label) for label in ("T1", "T2")]
    make_wave(session, make_cohort(session, study, "Empty cohort"), instrument, label="T1")  # no invitations
    opens = datetime(2027, 2, 1, 8, tzinfo=UTC)
    statuses = ["active", "active", "active", "unsubscribed", "withdrawn"]
    people = [
        Participant(pseudonym=f"P{n}-{i:05d}", cohort_id=cohort.id, status=rng.choice(statuses)) for i in range(n)
    ]
    session.add_all(people)
    session.flush()
    states = ["planned", "sent", "opened", "started", "completed", "failed"]
    for wave in waves:
        for number, person in enumerate(people):
            state = "failed" if number == 0 else rng.choice(states)  # every wave has a failed address
            # submissions around local midnight (22:00-01:59 UTC) test the day boundary in Amsterdam
            submitted = opens + timedelta(days=rng.randint(0, 12), hours=rng.choice([14, 22, 23, 24, 25]))
            invitation = Invitation(
                participant_id=person.id,
                wave_id=wave.id,
                state=state,
                opens_at=opens + timedelta(hours=rng.randint(0, 30)) if rng.random() < 0.9 else None,
                opened_at=opens + timedelta(days=1) if state in ("opened", "started", "completed") else None,
                completed_at=submitted if state == "completed" else None,  # as core.lifecycle stamps it
            )
            session.add(invitation)
            session.flush()
            if state in ("started", "completed"):
                session.add(
                    Response(
                        invitation_id=invitation.id,
                        started_at=opens,
                        updated_at=opens,
                        submitted_at=submitted if state == "completed" else None,
                    )
                )
            for kind in ("invitation", "reminder"):
                if state != "planned" and (kind == "invitation" or rng.random() < 0.4):
                    failed = state == "failed" and kind == "invitation"
                    session.add(
                        OutboxMessage(
                            idempotency_key=f"{kind}-{invitation.id}",
                            kind=kind,
                            invitation_id=invitation.id,
                            wave_id=invitation.wave_id,
                            participant_id=person.id,
                            status="failed" if failed else rng.choice(["sent", "sent", "pending", "cancelled"]),
                            last_error="550 no such user" if failed else "",
                        )
                    )
    session.commit()
    return study


@pytest.mark.parametrize("now", [datetime(2027, 2, 3, 12, tzinfo=UTC), datetime(2027, 2, 20, 23, 30, tzinfo=UTC)])
def test_dashboard_figures_equal_the_old_counting(session: Session, now: datetime) -> None:
    study = _fieldwork(session, 60)
    old = _old_wave_stats(session, study, now)
    new = _figures(wave_stats(session=session, study=study, now=now))
    assert [w["planned"] for w in old] == [0, 60, 60]  # the empty cohort sorts first
    assert {w["failed"] for w in old[1:]} != {0} and {w["withdrawn"] for w in old[1:]} != {0}
    assert new == old


def test_a_dashboard_view_loads_no_invitation_and_sends_as_many_statements_at_any_size(
    researcher: FlaskClient, engine: Engine, session: Session
) -> None:
    """The old dashboard loaded every invitation as an object on every page view."""
    loaded: list[object] = []

    def count(target, context) -> None:
        loaded.append(target)

    counts = []
    for n in (3, 40):
        study = _fieldwork(session, n, seed=n)
        event.listen(Invitation, "load", count)
        try:
            with statements(engine) as sent:
                page = researcher.get(f"/studies/{study.id}/fieldwork")
        finally:
            event.remove(Invitation, "load", count)
        assert page.status_code == 200
        assert f"P{n}-" in page.get_data(as_text=True) or n == 3  # failed addresses are listed by pseudonym
        counts.append(len(sent))
    assert loaded == []
    assert counts[0] == counts[1], counts


def test_a_dashboard_view_counts_the_mail_from_the_outbox_alone(
    researcher: FlaskClient, engine: Engine, session: Session
) -> None:
    """The mail figures joined every sent message to its invitation (45 ms of a 100 ms page at 100,000
    people); the outbox row now carries its wave, so the count reads one table."""
    study = _fieldwork(session, 20, seed=5)
    with statements(engine) as sent:
        page = researcher.get(f"/studies/{study.id}/fieldwork")
    assert page.status_code == 200
    tallies = [s for s in sent if "FROM outbox_message" in s and "count(" in s.lower()]
    assert tallies, "the mail is counted in the database"
    assert not any("JOIN invitation" in s for s in tallies), tallies


# --- participant list --------------------------------------------------------------------------------


def _many_participants(session: Session, study: Study, n: int) -> list[str]:
    """``n`` participants over the study's two cohorts; their pseudonyms as the list sorts them."""
    cohorts = session.exec(select(Cohort).where(Cohort.study_id == study.id).order_by(col(Cohort.id))).all()
    rng = random.Random(3)
    rows = [
        {
            "pseudonym": "P" + "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", k=16)),
            "cohort_id": cohorts[i % 2].id,
            "status": "withdrawn" if i % 7 == 0 else "active",
            "enrolled_at": datetime(2027, 1, 1, tzinfo=UTC),
        }
        for i in range(n)
    ]
    session.execute(insert(Participant), rows)
    session.commit()
    return sorted(r["pseudonym"] for r in rows)


def _listed(html: str) -> list[str]:
    return re.findall(r'<a class="mono" href="/participants/\d+">(P[A-Z0-9]+)</a>', html)


def _link(html: str, name: str) -> str:
    found = re.search(rf'<a class="btn btn--ghost btn--small" href="([^"]+)"[^>]*>{name}</a>', html)
    assert found, f"no {name} link"
    return found.group(1).replace("&amp;", "&")


def test_the_last_page_by_keyset_holds_the_rows_of_the_old_last_page(
    researcher: FlaskClient, engine: Engine, session: Session, study: Study
) -> None:
    pseudonyms = _many_participants(session, study, 120)  # pages of 50: 50, 50, 20
    first = researcher.get(f"/studies/{study.id}/participants").get_data(as_text=True)
    assert _listed(first) == pseudonyms[:50] and "Page 1 of 3" in first
    offsets: list[int] = []
    with statements(engine, offsets=offsets):
        last = researcher.get(_link(first, "Last")).get_data(as_text=True)
    assert _listed(last) == pseudonyms[100:], "the old offset paging's page 3"
    assert "Page 3 of 3" in last and set(offsets) <= {0}, offsets
    middle = researcher.get(_link(last, "Previous")).get_data(as_text=True)
    assert _listed(middle) == pseudonyms[50:100] and "Page 2 of 3" in middle
    assert _listed(researcher.get(_link(middle, "Previous")).get_data(as_text=True)) == pseudonyms[:50]
    assert _listed(researcher.get(_link(first, "Next")).get_data(as_text=True)) == pseudonyms[50:100]
    assert _listed(researcher.get(_link(middle, "Next")).get_data(as_text=True)) == pseudonyms[100:]
    assert "Next" not in last.split('aria-label="Pages"')[1] and "Last" not in last.split('aria-label="Pages"')[1]


def test_paging_keeps_the_filters(researcher: FlaskClient, session: Session, study: Study) -> None:
    _many_participants(session, study, 240)
    cohort = session.exec(select(Cohort).where(Cohort.name == "Young professionals")).one()
    wanted = sorted(
        session.exec(
            select(Participant.pseudonym).where(Participant.cohort_id == cohort.id, Participant.status == "active")
        ).all()
    )
    url = f"/studies/{study.id}/participants?cohort={cohort.id}&status=active"
    pages = [researcher.get(url).get_data(as_text=True)]
    while 'aria-label="Pages"' in pages[-1] and ">Next</a>" in pages[-1]:
        pages.append(researcher.get(_link(pages[-1], "Next")).get_data(as_text=True))
    assert [p for page in pages for p in _listed(page)] == wanted
    assert len(pages) == -(-len(wanted) // 50)
    assert _listed(researcher.get(_link(pages[0], "Last")).get_data(as_text=True)) == _listed(pages[-1])
    prefix = wanted[0][:2]
    found = researcher.get(f"{url}&q={prefix.lower()}").get_data(as_text=True)
    assert _listed(found) == [p for p in wanted if p.startswith(prefix)][:50]


def test_a_cursor_that_is_no_pseudonym_shows_the_first_page(
    researcher: FlaskClient, session: Session, study: Study
) -> None:
    pseudonyms = _many_participants(session, study, 60)
    for query in ("before=" + "Z" * 500, "after=&before=", "page=99999999999999999999", "before=P", "last=yes"):
        page = researcher.get(f"/studies/{study.id}/participants?{query}")
        assert page.status_code == 200, query
        assert _listed(page.get_data(as_text=True)) == pseudonyms[:50], query
