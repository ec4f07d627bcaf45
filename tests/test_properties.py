"""Property-based tests (hypothesis): whatever a participant, a researcher or a file sends gets a clear
error or is stored exactly, and never a server error."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from studyapp.core.tabular import TableError, read_table
from studyapp.instruments.loader import InstrumentDefinitionError, parse_definition
from tests.factories import (
    FLOW_INSTRUMENT,
    enrol,
    invite_with_token,
    login,
    make_cohort,
    make_flow_instrument,
    make_study,
    make_user,
    make_wave,
)

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], database=None
)
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)


@pytest.fixture
def link(session: Session) -> str:
    instrument = make_flow_instrument(session)
    cohort = make_cohort(session, make_study(session))
    wave = make_wave(session, cohort, instrument)
    return invite_with_token(session, enrol(session, cohort, "p@example.org"), wave)[1]


@SETTINGS
@given(age=TEXT, remarks=TEXT)
def test_any_typed_answer_is_stored_exactly_or_refused_clearly(client, session, link, age, remarks) -> None:
    from tests.test_questionnaire import answers_in_db

    response = client.post(f"/p/{link}/s/background/autosave", data={"bg_age": age, "bg_remarks": remarks})
    assert response.status_code in (200, 400), response.status_code
    if response.status_code == 400:
        assert response.json["error"] == "rejected"  # NUL characters or text longer than allowed
        return
    stored = answers_in_db(session, _invitation_id(session, link))
    if remarks.strip():
        assert stored["bg_remarks"] == remarks.strip()
    else:
        assert "bg_remarks" not in stored
    if response.json["problems"]:
        assert response.json["problems"] == ["bg_age"]  # not a whole number in 15..80: not stored, said so
    elif age.strip():
        assert stored["bg_age"] == int(age.strip())


def _invitation_id(session: Session, token: str) -> int:
    from studyapp.core.links import invitation_for_token

    return invitation_for_token(session=session, token=token).id


@SETTINGS
@given(fields=st.dictionaries(st.sampled_from(["prof_title", "prof_title_other", "action", "x"]), TEXT, max_size=4))
def test_any_page_post_is_a_page_an_error_or_a_400(client, link, fields) -> None:
    response = client.post(f"/p/{link}/s/profession", data=fields)
    assert response.status_code in (200, 302, 400), response.status_code


@SETTINGS
@given(email=TEXT, name=TEXT, consent=st.booleans())
def test_any_sign_up_is_stored_or_refused_with_a_message(client, session, email, name, consent) -> None:
    from studyapp.core.models import Cohort

    cohort = session.exec(select(Cohort)).first() or make_cohort(session, make_study(session))
    cohort.signup_open, cohort.signup_code = True, "open"
    session.add(cohort)
    session.commit()
    form = {"email": email, "name": name, "language": "en", "keep_data": "yes"}
    if consent:
        form["consent"] = "y"
    response = client.post("/join/open", data=form)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "You have signed up" in page or "field__error" in page or "Please give your consent" in page


@SETTINGS
@given(title=TEXT, budget=TEXT)
def test_any_study_form_input_is_saved_or_explained(client, session, title, budget) -> None:
    from studyapp.core.models import User

    if session.exec(select(User)).first() is None:
        make_user(session)
        login(client)
    response = client.post("/studies/new", data={"slug": budget[:60], "name": title, "timezone": "Europe/Amsterdam"})
    assert response.status_code in (200, 302, 400, 429), response.status_code


@SETTINGS
@given(rows=st.lists(st.lists(TEXT, min_size=1, max_size=4), max_size=6))
def test_any_enrolment_file_is_read_or_rejected_with_its_line(runner, session, tmp_path_factory, rows) -> None:
    import csv
    import io

    from studyapp.core.models import Study

    if session.exec(select(Study).where(Study.slug == "s")).first() is None:
        make_cohort(session, make_study(session, slug="s"))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["email", "cohort", "name"])
    writer.writerows(rows)
    path = tmp_path_factory.mktemp("csv") / "people.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    result = runner.invoke(args=["participants", "import", str(path), "--study", "s", "--dry-run"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if result.exit_code != 0:
        assert "nothing was imported" in result.output or "people.csv" in result.output


@settings(max_examples=80, deadline=None, database=None)
@given(change=st.tuples(st.integers(0, len(FLOW_INSTRUMENT) - 1), TEXT))
def test_any_instrument_file_loads_or_is_refused_with_file_and_line(change) -> None:
    position, inserted = change
    text = FLOW_INSTRUMENT[:position] + inserted + FLOW_INSTRUMENT[position:]
    try:
        parse_definition(text, "flow.yaml")
    except InstrumentDefinitionError as error:
        assert "flow.yaml:" in str(error)


@settings(max_examples=60, deadline=None, database=None)
@given(content=st.binary(max_size=400))
def test_any_uploaded_bytes_are_a_table_or_a_clear_error(content) -> None:
    for name in ("people.csv", "people.xlsx"):
        try:
            read_table(name, content)
        except TableError as error:
            assert str(error)


@pytest.mark.parametrize("value", ["{!nl: Neutraal, en: Neutral}", "!!int zero", "!custom x"])
def test_a_yaml_tag_plain_yaml_does_not_know_is_refused_with_file_and_line(value: str) -> None:
    """Found by the property test above: a tag such as ``!nl:`` raised yaml's ConstructorError (a 500 on
    the instrument upload) instead of a problem naming the file and line."""
    lines = FLOW_INSTRUMENT.splitlines()
    target = next(i for i, line in enumerate(lines) if line.strip().startswith("code:"))
    indent = lines[target][: len(lines[target]) - len(lines[target].lstrip())]
    lines.insert(target + 1, f"{indent}note: {value}")
    with pytest.raises(InstrumentDefinitionError) as caught:
        parse_definition("\n".join(lines), "flow.yaml")
    assert f"flow.yaml:{target + 2}" in str(caught.value) and "cannot read this value" in str(caught.value)
