"""Factory functions that arrange test data through the real services."""

from __future__ import annotations

from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlmodel import Session

from studyapp.accounts.services import create_user
from studyapp.core.models import (
    Answer,
    Cohort,
    Instrument,
    Invitation,
    Item,
    Organisation,
    Participant,
    Response,
    Study,
    User,
    Wave,
)
from studyapp.instruments.loader import bundled_definitions, load_definition, load_file, parse_definition
from studyapp.studies import services
from studyapp.studies.schedule import WaveSchedule

PASSWORD = "correct horse battery staple"

SMALL_INSTRUMENT = """\
code: small-test
version: "1"
title: {nl: Kleine test, en: Small test}
estimated_minutes: 2
languages: [nl, en]
response_scales:
  agree3:
    min: 1
    max: 3
    labels:
      1: {nl: oneens, en: disagree}
      2: {nl: neutraal, en: neutral}
      3: {nl: eens, en: agree}
facets:
  - {code: clarity, kind: scale, domain: career, name: {nl: Duidelijkheid, en: Clarity}}
sections:
  - code: career
    title: {nl: Loopbaan, en: Career}
    items:
      - {code: cc_1, type: scale, scale: agree3, facet: clarity,
         text: {nl: Ik weet wat ik wil, en: I know what I want}}
      - {code: cc_2, type: scale, scale: agree3, facet: clarity, reverse: true,
         text: {nl: Ik twijfel, en: I doubt}}
"""


#: A short questionnaire with every item type, the professional title, skip logic and optional questions.
FLOW_INSTRUMENT = """\
code: flow-test
version: "1"
title: {nl: Stroomtest, en: Flow test}
estimated_minutes: 4
languages: [nl, en]
title_item: prof_title
response_scales:
  agree7:
    min: 1
    max: 7
    labels:
      1: {nl: Helemaal mee oneens, en: Strongly disagree}
      2: {nl: Mee oneens, en: Disagree}
      3: {nl: Enigszins mee oneens, en: Somewhat disagree}
      4: {nl: Neutraal, en: Neutral}
      5: {nl: Enigszins mee eens, en: Somewhat agree}
      6: {nl: Mee eens, en: Agree}
      7: {nl: Helemaal mee eens, en: Strongly agree}
facets:
  - {code: identification, kind: scale, domain: identification, name: {nl: Verbondenheid, en: Identification}}
  - {code: career_clarity, kind: scale, domain: career, name: {nl: Duidelijkheid, en: Career clarity}}
sections:
  - code: profession
    title: {nl: Je beroep, en: Your profession}
    items:
      - code: prof_title
        type: choice
        text: {nl: "Welke titel past bij jou?", en: "Which title fits you?"}
        options:
          - {value: 1, label: {nl: Engineer, en: Engineer}, title: {nl: engineer, en: an engineer}}
          - {value: 2, label: {nl: Onderzoeker, en: Researcher}, title: {nl: onderzoeker, en: a researcher}}
          - {value: 4, label: {nl: Anders, en: Other}, free_text_item: prof_title_other}
      - code: prof_title_other
        type: text
        max_length: 100
        show_if: {item: prof_title, any_of: [4]}
        text: {nl: Je eigen beroepstitel, en: Your own professional title}
  - code: identification
    title: {nl: Verbondenheid, en: Identification}
    items:
      - {code: idn_proud, type: scale, scale: agree7, facet: identification,
         text: {nl: "Ik ben er trots op dat ik {title} ben.", en: "I am proud to be {title}."}}
      - {code: idn_self, type: scale, scale: agree7, facet: identification,
         text: {nl: "Dat ik {title} ben, zegt veel over mij.", en: "Being {title} says a lot about me."}}
      - {code: cc_clear, type: scale, scale: agree7, facet: career_clarity,
         text: {nl: Ik weet wat ik wil, en: I know what I want}}
  - code: situation
    title: {nl: Je situatie, en: Your situation}
    items:
      - code: work_status
        type: choice
        text: {nl: "Wat doe je nu?", en: "What do you do now?"}
        options:
          - {value: 1, label: {nl: Ik werk, en: I work}}
          - {value: 3, label: {nl: Ik studeer, en: I study}}
  - code: work
    title: {nl: Je werk, en: Your work}
    show_if: {item: work_status, any_of: [1]}
    items:
      - {code: work_hours, type: number, min: 0, max: 80, text: {nl: Uren per week, en: Hours per week}}
  - code: background
    title: {nl: Achtergrond, en: Background}
    items:
      - {code: bg_age, type: number, min: 15, max: 80, text: {nl: Je leeftijd, en: Your age}}
      - {code: bg_remarks, type: text, required: false, max_length: 500,
         text: {nl: Opmerkingen, en: Remarks}}
"""


def make_flow_instrument(session: Session) -> Instrument:
    """The short questionnaire with every item type and skip logic."""
    result = load_definition(session=session, definition=parse_definition(FLOW_INSTRUMENT, "flow.yaml"))
    session.commit()
    return result.instrument


def make_user(
    session: Session,
    *,
    email: str = "researcher@example.org",
    role: str = "researcher",
    organisation_id: int | None = None,
    can_view_identities: bool = False,
    language: str = "en",
) -> User:
    # English unless a test asks for Dutch: the admin tests assert English texts, and the account's
    # language is the language of the whole admin since issue 18
    user = create_user(
        session=session,
        email=email,
        name=email.split("@")[0].title(),
        password=PASSWORD,
        role=role,
        organisation_id=organisation_id,
        can_view_identities=can_view_identities,
        language=language,
    )
    session.commit()
    return user


def make_organisation(session: Session, name: str = "Acme Engineering") -> Organisation:
    organisation = Organisation(name=name, sector="technical_industry")
    session.add(organisation)
    session.commit()
    return organisation


def make_instrument(session: Session) -> Instrument:
    result = load_definition(session=session, definition=parse_definition(SMALL_INSTRUMENT, "small.yaml"))
    session.commit()
    return result.instrument


def load_carriere_kompas(session: Session) -> Instrument:
    result = load_file(session=session, path=bundled_definitions()[0])
    session.commit()
    return result.instrument


def make_study(session: Session, *, slug: str = "bridge-the-gap", name: str = "Bridge the Gap") -> Study:
    study = services.create_study(session=session, data=services.StudyData(slug=slug, name=name))
    session.commit()
    return study


def make_cohort(session: Session, study: Study, name: str = "Final-year students") -> Cohort:
    cohort = services.create_cohort(session=session, study=study, name=name)
    session.commit()
    return cohort


def make_wave(session: Session, cohort: Cohort, instrument: Instrument, *, label: str = "T1") -> Wave:
    wave = services.create_wave(
        session=session,
        cohort=cohort,
        data=services.WaveData(
            label=label,
            instrument_id=instrument.id,
            schedule=WaveSchedule(
                schedule="on_date",
                opens_at=datetime(2027, 2, 1, 8, tzinfo=UTC),
                closes_at=datetime(2027, 3, 1, 8, tzinfo=UTC),
                reminder_days=[7, 14],
            ),
        ),
    )
    session.commit()
    return wave


def make_participant(session: Session, cohort: Cohort, pseudonym: str = "P-0001") -> Participant:
    participant = Participant(pseudonym=pseudonym, cohort_id=cohort.id)  # type: ignore[arg-type]
    session.add(participant)
    session.commit()
    return participant


def login(client: FlaskClient, email: str = "researcher@example.org", password: str = PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


def privacy_for_tests():
    """The development keys' Privacy, as the app fixture uses."""
    from studyapp.core.privacy import Privacy
    from studyapp.settings import DEV_IDENTITY_KEY, DEV_PSEUDONYM_KEY

    return Privacy(pseudonym_key=DEV_PSEUDONYM_KEY, identity_keys=DEV_IDENTITY_KEY)


def enrol(
    session: Session,
    cohort: Cohort,
    email: str,
    *,
    name: str = "",
    language: str = "nl",
    external_id: str | None = None,
    keep_data: bool = True,
) -> Participant:
    """Enrol one person through the enrolment service."""
    from studyapp.participants.enrolment import Person, enrol_person

    study = session.get(Study, cohort.study_id)
    person = Person(
        line=0,
        email=email,
        name=name,
        language=language,
        cohort_id=cohort.id,
        cohort_name=cohort.name,
        external_id=external_id,
        keep_data=keep_data,
    )
    participant = enrol_person(
        session=session, privacy=privacy_for_tests(), study=study, person=person, actor="researcher"
    )
    session.commit()
    return participant


def invite_with_token(session: Session, participant: Participant, wave: Wave) -> tuple[Invitation, str]:
    """An invitation with a personal-link token (as the fieldwork planner will make them)."""
    from studyapp.core.links import issue_token

    invitation = Invitation(participant_id=participant.id, wave_id=wave.id, state="sent")
    session.add(invitation)
    session.flush()
    token = issue_token(session=session, invitation=invitation)
    session.commit()
    return invitation, token


def submit_response(session: Session, invitation: Invitation, answers: dict[str, object]) -> Response:
    """A submitted response with answers by item code (as the questionnaire will store them)."""
    from datetime import timedelta

    from sqlmodel import select

    from studyapp.core.types import utcnow

    wave = session.get(Wave, invitation.wave_id)
    items = {i.code: i for i in session.exec(select(Item).where(Item.instrument_id == wave.instrument_id))}
    response = Response(invitation_id=invitation.id, started_at=utcnow() - timedelta(minutes=20), submitted_at=utcnow())
    session.add(response)
    session.flush()
    for code, value in answers.items():
        if isinstance(value, str):
            session.add(Answer(response_id=response.id, item_id=items[code].id, value_text=value))
        else:
            session.add(Answer(response_id=response.id, item_id=items[code].id, value_number=value))
    invitation.state = "completed"
    invitation.completed_at = response.submitted_at
    session.add(invitation)
    session.commit()
    return response
