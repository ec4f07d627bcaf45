"""The questionnaire through its HTTP routes: pages, saving, validation, skip logic, submit, refusals."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from studyapp.core.models import Answer, AuditEvent, Cohort, Invitation, Item, Response
from studyapp.core.types import utcnow
from tests.factories import enrol, invite_with_token, make_cohort, make_flow_instrument, make_study, make_wave


@pytest.fixture
def link(session: Session) -> dict:
    """One participant (English) invited to a wave of the flow questionnaire, open for a month."""
    instrument = make_flow_instrument(session)
    study = make_study(session)
    cohort = make_cohort(session, study)
    wave = make_wave(session, cohort, instrument)
    participant = enrol(session, cohort, "ada@example.org", language="en")
    invitation, token = invite_with_token(session, participant, wave)
    invitation.closes_at = utcnow() + timedelta(days=30)
    session.add(invitation)
    session.commit()
    return {"token": token, "invitation_id": invitation.id, "participant": participant, "wave": wave}


def answers_in_db(session: Session, invitation_id: int) -> dict[str, object]:
    session.expire_all()
    response = session.exec(select(Response).where(Response.invitation_id == invitation_id)).first()
    if response is None:
        return {}
    rows = session.exec(
        select(Item.code, Answer.value_number, Answer.value_text)
        .join(Item, Item.id == Answer.item_id)
        .where(Answer.response_id == response.id)
    ).all()
    return {code: number if number is not None else text for code, number, text in rows}


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def walk_to_review(client, token: str, *, status: int = 1) -> None:
    """Answer every page validly (working or studying)."""
    base = f"/p/{token}/s"
    assert client.post(f"{base}/profession", data={"prof_title": "1", "action": "next"}).status_code == 302
    page = {"idn_proud": "6", "idn_self": "5", "cc_clear": "3", "action": "next"}
    assert client.post(f"{base}/identification", data=page).status_code == 302
    assert client.post(f"{base}/situation", data={"work_status": str(status), "action": "next"}).status_code == 302
    if status == 1:
        assert client.post(f"{base}/work", data={"work_hours": "36", "action": "next"}).status_code == 302
    assert client.post(f"{base}/background", data={"bg_age": "27", "action": "next"}).status_code == 302


def test_welcome_page_says_how_long_and_marks_the_link_opened(client, session, link) -> None:
    page = client.get(f"/p/{link['token']}")
    text = text_of(page.get_data(as_text=True))
    assert page.status_code == 200
    assert "Welcome to wave T1" in text and "takes about 4 minutes" in text and "5–6 short pages" in text
    assert "Start the questionnaire" in text
    assert session.get(Invitation, link["invitation_id"]).state == "opened"


def test_pages_follow_the_definition_with_progress_and_title_inserted(client, link) -> None:
    token = link["token"]
    first = client.get(f"/p/{token}/s/profession").get_data(as_text=True)
    assert "Page 1 of 5" in first and '<progress class="progress" max="5" value="1"' in first
    assert 'name="prof_title" value="4"' in first
    client.post(f"/p/{token}/s/profession", data={"prof_title": "2", "action": "next"})
    second = client.get(f"/p/{token}/s/identification").get_data(as_text=True)
    assert "I am proud to be a researcher." in second and "Page 2 of 5" in second
    assert second.count('type="radio"') == 21 and second.count("<fieldset") == 3


def test_a_full_walk_stores_every_answer_and_submits(client, session, link) -> None:
    token = link["token"]
    walk_to_review(client, token)
    review = client.get(f"/p/{token}/review")
    assert review.status_code == 200 and "Submit my answers" in review.get_data(as_text=True)
    done = client.post(f"/p/{token}/submit")
    assert done.status_code == 302 and done.headers["Location"].startswith(f"/p/{token}/feedback")
    assert answers_in_db(session, link["invitation_id"]) == {
        "prof_title": 1,
        "idn_proud": 6,
        "idn_self": 5,
        "cc_clear": 3,
        "work_status": 1,
        "work_hours": 36,
        "bg_age": 27,
    }
    invitation = session.get(Invitation, link["invitation_id"])
    assert invitation.state == "completed" and invitation.completed_at is not None
    response = session.exec(select(Response).where(Response.invitation_id == invitation.id)).one()
    assert response.submitted_at is not None and response.source == "web" and response.language == "en"
    welcome = text_of(client.get(f"/p/{token}").get_data(as_text=True))
    assert "Thank you!" in welcome and "See your personal feedback" in welcome
    # after submitting, a page post changes nothing
    again = client.post(f"/p/{token}/s/background", data={"bg_age": "60", "action": "next"})
    assert again.status_code == 302
    assert answers_in_db(session, link["invitation_id"])["bg_age"] == 27


def test_missing_required_answer_is_shown_beside_the_question_and_nothing_typed_is_lost(client, session, link) -> None:
    token = link["token"]
    walk_to_review(client, token)
    page = client.post(f"/p/{token}/s/background", data={"bg_age": "", "bg_remarks": "Fine <b>so far</b>"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="err-bg_age"' in html and "Please answer this question." in html
    assert 'aria-describedby="hint-bg_age err-bg_age"' in html and 'aria-invalid="true"' in html
    assert "Fine &lt;b&gt;so far&lt;/b&gt;</textarea>" in html  # kept, and escaped
    assert 'href="#q-bg_age"' in html  # the error summary links to the question
    assert answers_in_db(session, link["invitation_id"])["bg_remarks"] == "Fine <b>so far</b>"


def test_a_mistyped_number_is_kept_on_the_page_and_not_stored(client, session, link) -> None:
    token = link["token"]
    for typed, message in (("twenty", "Enter a whole number"), ("200", "Enter a number from 15 to 80")):
        page = client.post(f"/p/{token}/s/background", data={"bg_age": typed, "action": "next"})
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and message in html and f'value="{typed}"' in html
    assert "bg_age" not in answers_in_db(session, link["invitation_id"])


@pytest.mark.parametrize(
    ("section", "form", "reason"),
    [
        ("identification", {"idn_proud": "8"}, "not an answer option"),
        ("identification", {"idn_proud": "0"}, "not an answer option"),
        ("identification", {"idn_proud": "4.5"}, "not an answer option"),
        ("identification", {"idn_proud": ["4", "5"]}, "more than once"),
        ("identification", {"is_admin": "1"}, "not a question of page"),
        ("identification", {"bg_age": "30"}, "not a question of page"),
        ("profession", {"prof_title": "3"}, "not an answer option"),
        ("background", {"bg_remarks": "x" * 501}, "longer than 500"),
    ],
)
def test_tampered_values_are_rejected_logged_and_never_stored(client, session, link, section, form, reason) -> None:
    token = link["token"]
    client.post(f"/p/{token}/s/profession", data={"prof_title": "1", "action": "next"})
    before = answers_in_db(session, link["invitation_id"])
    page = client.post(
        f"/p/{token}/s/{section}",
        data={**form, "idn_self": "4"} if section == "identification" and "idn_self" not in form else form,
    )
    assert page.status_code == 400
    assert "We cannot process these data" in page.get_data(as_text=True)
    autosave = client.post(f"/p/{token}/s/{section}/autosave", data=form)
    assert autosave.status_code == 400 and reason in autosave.json["reason"]
    assert answers_in_db(session, link["invitation_id"]) == before
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "questionnaire.input_rejected")).all()
    assert len(events) == 2 and all(reason in e.detail["reason"] for e in events)
    assert all(token not in e.detail["path"] for e in events)


def test_autosave_keeps_answers_and_the_link_resumes_on_that_page(client, session, link, app) -> None:
    token = link["token"]
    client.post(f"/p/{token}/s/profession", data={"prof_title": "1", "action": "next"})
    saved = client.post(f"/p/{token}/s/identification/autosave", data={"idn_proud": "7"})
    assert saved.status_code == 200 and saved.json["saved"] == 1
    # another device: a new client without cookies
    other = app.test_client()
    welcome = text_of(other.get(f"/p/{token}").get_data(as_text=True))
    assert "Continue where you were" in welcome and "answered 2 of" in welcome
    resumed = other.get(f"/p/{token}").get_data(as_text=True)
    assert f'href="/p/{token}/s/identification' in resumed
    page = other.get(f"/p/{token}/s/identification").get_data(as_text=True)
    assert re.search(r'name="idn_proud" value="7"\s+checked', page)


def test_back_saves_without_checking_required_answers(client, session, link) -> None:
    token = link["token"]
    client.post(f"/p/{token}/s/profession", data={"prof_title": "1", "action": "next"})
    back = client.post(f"/p/{token}/s/identification", data={"idn_proud": "2", "action": "back"})
    assert back.status_code == 302 and back.headers["Location"].startswith(f"/p/{token}/s/profession")
    assert answers_in_db(session, link["invitation_id"])["idn_proud"] == 2


def test_skip_logic_hides_the_work_page_and_drops_its_answers_at_submit(client, session, link) -> None:
    token = link["token"]
    walk_to_review(client, token, status=1)
    assert answers_in_db(session, link["invitation_id"])["work_hours"] == 36
    changed = client.post(f"/p/{token}/s/situation", data={"work_status": "3", "action": "next"})
    assert changed.headers["Location"].startswith(f"/p/{token}/s/background")
    assert client.get(f"/p/{token}/s/work").status_code == 302  # skipped page redirects onwards
    review = text_of(client.get(f"/p/{token}/review").get_data(as_text=True))
    assert "Your work" not in review and "Page 5 of 5" in review
    client.post(f"/p/{token}/submit")
    assert "work_hours" not in answers_in_db(session, link["invitation_id"])


def test_own_title_is_required_only_for_other_and_is_escaped(client, session, link) -> None:
    token = link["token"]
    page = client.post(f"/p/{token}/s/profession", data={"prof_title": "4", "prof_title_other": ""})
    assert page.status_code == 200 and 'id="err-prof_title_other"' in page.get_data(as_text=True)
    title = '<script>alert("x")</script> builder'
    ok = client.post(f"/p/{token}/s/profession", data={"prof_title": "4", "prof_title_other": title, "action": "next"})
    assert ok.status_code == 302
    html = client.get(f"/p/{token}/s/identification").get_data(as_text=True)
    assert "<script>alert" not in html
    assert "I am proud to be &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; builder." in html


def test_submit_with_a_missing_answer_goes_to_the_page_that_needs_it(client, session, link) -> None:
    token = link["token"]
    walk_to_review(client, token)
    client.post(f"/p/{token}/s/identification/autosave", data={"idn_self": ""})  # the participant cleared it
    result = client.post(f"/p/{token}/submit")
    assert result.status_code == 302 and "/s/identification" in result.headers["Location"]
    assert "check=1" in result.headers["Location"]
    page = client.get(result.headers["Location"]).get_data(as_text=True)
    assert 'id="err-idn_self"' in page and 'id="err-idn_proud"' not in page
    assert session.get(Invitation, link["invitation_id"]).state == "started"


def test_unknown_closed_and_withdrawn_links_get_clear_pages(client, session, link) -> None:
    unknown = client.get("/p/not-a-real-token-at-all?lang=en")
    assert unknown.status_code == 404 and "This link does not work" in unknown.get_data(as_text=True)
    assert "Deze link werkt niet" in client.get("/p/not-a-real-token-at-all").get_data(as_text=True)
    invitation = session.get(Invitation, link["invitation_id"])
    invitation.closes_at = utcnow() - timedelta(hours=1)
    session.add(invitation)
    session.commit()
    for path in ("", "/s/profession", "/review"):
        closed = client.get(f"/p/{link['token']}{path}")
        assert closed.status_code == 410 and "This wave has closed" in closed.get_data(as_text=True)
    posted = client.post(f"/p/{link['token']}/s/profession/autosave", data={"prof_title": "1"})
    assert posted.status_code == 410 and answers_in_db(session, link["invitation_id"]) == {}
    invitation.closes_at = utcnow() + timedelta(days=1)
    participant = link["participant"]
    participant.status = "withdrawn"
    session.add_all([invitation, participant])
    session.commit()
    left = client.get(f"/p/{link['token']}/s/profession")
    assert left.status_code == 410 and "You have left the study" in left.get_data(as_text=True)


def test_language_switch_sticks_to_the_response(client, session, link) -> None:
    token = link["token"]
    client.post(f"/p/{token}/s/profession", data={"prof_title": "1", "action": "next"})
    dutch = client.get(f"/p/{token}/s/identification?lang=nl").get_data(as_text=True)
    assert "Ik ben er trots op dat ik engineer ben." in dutch and 'lang="nl"' in dutch
    later = client.get(f"/p/{token}/s/identification").get_data(as_text=True)
    assert "Pagina 2 van 5" in later


def test_security_headers_on_personal_pages(client, link) -> None:
    page = client.get(f"/p/{link['token']}/s/profession")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert page.headers["Referrer-Policy"] == "same-origin"  # the link's secret goes to no other site
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"
    assert "<script>" not in page.get_data(as_text=True)  # scripts only from files


def test_posts_from_another_site_are_refused(client, session, link) -> None:
    page = client.post(
        f"/p/{link['token']}/s/profession",
        data={"prof_title": "1"},
        headers={"Origin": "https://evil.example.com"},
    )
    assert page.status_code == 403 and answers_in_db(session, link["invitation_id"]) == {}


def test_guessing_links_is_rate_limited_per_address(client) -> None:
    statuses = [client.get(f"/p/guess-{n}").status_code for n in range(22)]
    assert statuses[:20] == [404] * 20 and statuses[20:] == [429, 429]
    busy = client.get("/p/guess-x")
    assert busy.status_code == 429


def test_guesses_from_one_address_never_lock_out_valid_links(client, session, link) -> None:
    """One person guessing on a campus network must not lock out everyone behind the same address."""
    statuses = [client.get(f"/p/guess-{n}").status_code for n in range(25)]
    assert statuses[:20] == [404] * 20 and statuses[20:] == [429] * 5
    token = link["token"]
    assert client.get(f"/p/{token}").status_code == 200
    assert client.get(f"/p/{token}/s/profession").status_code == 200
    assert client.get(f"/p/{token}/privacy").status_code == 200
    cohort = session.get(Cohort, link["participant"].cohort_id)
    cohort.signup_open, cohort.signup_code = True, "campus-signup-code"
    session.add(cohort)
    session.commit()
    assert client.get("/join/campus-signup-code").status_code == 200
    assert client.get("/p/guess-again").status_code == 429 and client.get("/join/guess").status_code == 429


def test_unknown_links_count_once_across_blueprints(client) -> None:
    """/p/x (questionnaire) and /p/x/privacy (participant pages) share one count per address."""
    paths = [f"/p/guess-{n}" if n % 2 else f"/p/guess-{n}/privacy" for n in range(22)]
    statuses = [client.get(path).status_code for path in paths]
    assert statuses[:20] == [404] * 20 and statuses[20:] == [429, 429]


def test_one_link_cannot_hammer_the_server(client, link) -> None:
    token = link["token"]
    statuses = [
        client.post(f"/p/{token}/s/profession/autosave", data={"prof_title": "1"}).status_code for _ in range(241)
    ]
    assert statuses[:240] == [200] * 240 and statuses[240] == 429


def test_researchers_see_answers_with_free_text_escaped(client, session, link) -> None:
    from tests.factories import login, make_user

    token = link["token"]
    title = "<img src=x onerror=alert(1)> maker"
    client.post(f"/p/{token}/s/profession", data={"prof_title": "4", "prof_title_other": title, "action": "next"})
    client.post(f"/p/{token}/s/background/autosave", data={"bg_remarks": "<script>alert(2)</script>"})
    make_user(session)
    researcher = client.application.test_client()
    login(researcher)
    detail = researcher.get(f"/participants/{link['participant'].id}").get_data(as_text=True)
    path = f"/participants/{link['participant'].id}/invitations/{link['invitation_id']}/answers"
    assert f'href="{path}"' in detail
    html = researcher.get(path).get_data(as_text=True)
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html and "<script>alert(2)" not in html
    assert "I am proud to be &lt;img src=x onerror=alert(1)&gt; maker." in html and "<img src=x" not in html
    assert "not submitted" in html
    assert client.get(path).status_code in (302, 401)  # a participant's session is not a researcher's


def test_welcome_page_and_progress_bar_count_the_same_pages_of_the_demo_instrument(client, session) -> None:
    """The welcome page said 11 pages while the bar said 12, and 13 once the work page appeared."""
    from tests.factories import load_carriere_kompas

    instrument = load_carriere_kompas(session)
    study = make_study(session)
    cohort = make_cohort(session, study)
    wave = make_wave(session, cohort, instrument)
    participant = enrol(session, cohort, "grace@example.org", language="en")
    invitation, token = invite_with_token(session, participant, wave)
    invitation.closes_at = utcnow() + timedelta(days=30)
    session.add(invitation)
    session.commit()

    def welcome_pages() -> str:
        found = re.search(r"has ([\d–]+) short pages", text_of(client.get(f"/p/{token}").get_data(as_text=True)))
        assert found is not None
        return found.group(1)

    def bar_total() -> int:
        found = re.search(r"Page \d+ of (\d+)", text_of(client.get(f"/p/{token}/s/situation").get_data(as_text=True)))
        assert found is not None
        return int(found.group(1))

    before = bar_total()
    assert welcome_pages() == f"{before}–{before + 1}"  # the work page may still come
    client.post(f"/p/{token}/s/situation/autosave", data={"work_status": "1"})
    assert bar_total() == before + 1 and welcome_pages() == str(before + 1)  # it came
    client.post(f"/p/{token}/s/situation/autosave", data={"work_status": "3"})
    assert bar_total() == before and welcome_pages() == str(before)  # it cannot come any more


def test_a_page_post_racing_an_autosave_on_a_fresh_link_saves_both(client, session, engine, link, monkeypatch) -> None:
    """CI saw a 500 here: the autosave created the response after the page post had looked for it."""
    from studyapp.questionnaire import responses

    looked_up = responses.response_of
    raced = []

    def autosave_wins_the_race(*, session: Session, invitation: Invitation):
        found = looked_up(session=session, invitation=invitation)
        if found is None and not raced:  # the other request inserts the response and commits in between
            raced.append(True)
            with Session(engine) as other:
                responses.start_response(session=other, invitation=other.get(Invitation, invitation.id), language="en")
                other.commit()
        return found

    monkeypatch.setattr(responses, "response_of", autosave_wins_the_race)
    posted = client.post(f"/p/{link['token']}/s/profession", data={"prof_title": "1", "action": "next"})
    assert posted.status_code == 302
    assert answers_in_db(session, link["invitation_id"]) == {"prof_title": 1}
    assert len(session.exec(select(Response).where(Response.invitation_id == link["invitation_id"])).all()) == 1
