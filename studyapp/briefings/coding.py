"""Coding the organisation names participants type to organisation records, with suggested matches."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlmodel import Session, col, select

from studyapp.core import audit
from studyapp.core.errors import ValidationFailed
from studyapp.core.inputs import column_length, line_problem
from studyapp.core.models import (
    Answer,
    Cohort,
    Invitation,
    Item,
    Organisation,
    OrganisationAlias,
    Participant,
    Response,
    Study,
    User,
)
from studyapp.core.models import (
    key as row_key,
)

ORGANISATION_ITEM = "work_organisation"
_KEY_SHAPE = re.compile(r"[a-z0-9]+(?: [a-z0-9]+)*")
_LEGAL_FORMS = re.compile(r"\b(b\.?v\.?|n\.?v\.?|v\.?o\.?f\.?|inc|ltd|llc|gmbh|ag|sa|plc|holding|group|groep)\b\.?")


def name_key(name: str) -> str:
    """A typed organisation name reduced for matching: case, accents, punctuation and legal forms removed."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = _LEGAL_FORMS.sub(" ", text)
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())[: column_length(OrganisationAlias.name_key)]


@dataclass
class TypedName:
    """One organisation name as typed (grouped by key) with how many people typed it and its coding."""

    key: str
    spelling: str
    people: int
    organisation: Organisation | None
    suggestions: list[Organisation] = field(default_factory=list)


def latest_typed_names(*, session: Session, study: Study) -> dict[int, str]:
    """Each participant's most recently submitted organisation name (participant id → text)."""
    rows = session.exec(
        select(Participant.id, Answer.value_text, Response.submitted_at)
        .join(Item, col(Item.id) == Answer.item_id)
        .join(Response, col(Response.id) == Answer.response_id)
        .join(Invitation, col(Invitation.id) == Response.invitation_id)
        .join(Participant, col(Participant.id) == Invitation.participant_id)
        .join(Cohort, col(Cohort.id) == Participant.cohort_id)
        .where(
            Item.code == ORGANISATION_ITEM,
            Cohort.study_id == study.id,
            col(Response.submitted_at).is_not(None),
            col(Answer.value_text).is_not(None),
        )
        .order_by(col(Response.submitted_at))
    ).all()
    latest: dict[int, str] = {}
    for participant_id, text, _submitted in rows:
        if participant_id is not None and text and text.strip():
            latest[participant_id] = text.strip()  # later rows overwrite earlier ones
    return latest


def typed_names(*, session: Session, study: Study) -> list[TypedName]:
    """The distinct typed names, most frequent first, with their coding and up to three suggestions."""
    latest = latest_typed_names(session=session, study=study)
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for text in latest.values():
        spellings[name_key(text)][text] += 1
    organisations = session.exec(select(Organisation).order_by(Organisation.name)).all()
    by_key = {name_key(o.name): o for o in organisations}
    aliases = {a.name_key: a.organisation_id for a in session.exec(select(OrganisationAlias)).all()}
    by_id = {o.id: o for o in organisations}
    for alias_key, organisation_id in aliases.items():
        by_key.setdefault(alias_key, by_id[organisation_id])
    result = []
    for key, counter in spellings.items():
        if not key:
            continue
        coded = by_id.get(aliases.get(key)) if key in aliases else None
        close = difflib.get_close_matches(key, list(by_key), n=5, cutoff=0.6)
        suggestions: list[Organisation] = []
        for match in close:
            organisation = by_key[match]
            if organisation not in suggestions and organisation is not coded:
                suggestions.append(organisation)
        result.append(TypedName(key, counter.most_common(1)[0][0], sum(counter.values()), coded, suggestions[:3]))
    return sorted(result, key=lambda n: (n.organisation is not None, -n.people, n.key))


def code_name(
    *,
    session: Session,
    study: Study,
    key: str,
    organisation: Organisation | None = None,
    new_name: str = "",
    sector: str | None = None,
    user: User | None = None,
) -> Organisation:
    """Code a typed name to an organisation (an existing one, or a new one called ``new_name``).

    Participants who typed it are coded at once; later answers with the same name are coded by
    :func:`code_participants`. Raises :class:`ValidationFailed` for an empty or duplicate new name.
    """
    if not _KEY_SHAPE.fullmatch(key) or len(key) > column_length(OrganisationAlias.name_key):
        # keys come from name_key(): lowercase ASCII words; anything else is not a name the page offered
        raise ValidationFailed({"key": _("That is not one of the typed names; reload the page and try again.")})
    if organisation is None:
        if problem := line_problem(new_name, field=_("The new organisation's name")):
            raise ValidationFailed({"organisation": problem})
        new_name = " ".join(new_name.split())
        if not new_name:
            raise ValidationFailed({"organisation": _("Choose an organisation or give the name of a new one.")})
        if len(new_name) > column_length(Organisation.name):
            longest = column_length(Organisation.name)
            raise ValidationFailed(
                {"organisation": _("An organisation's name has at most %(length)d characters.", length=longest)}
            )
        if session.exec(select(Organisation).where(Organisation.name == new_name)).first() is not None:
            raise ValidationFailed(
                {"organisation": _("There is already an organisation called %(name)s.", name=repr(new_name))}
            )
        organisation = Organisation(name=new_name, sector=sector or None)
        session.add(organisation)
        session.flush()
    alias = session.exec(select(OrganisationAlias).where(OrganisationAlias.name_key == key)).first()
    if alias is None:
        alias = OrganisationAlias(name_key=key, organisation_id=row_key(organisation))
    alias.organisation_id = row_key(organisation)
    session.add(alias)
    session.flush()
    audit.record(
        session=session,
        action="organisation.coded",
        user=user,
        target_type="organisation",
        target_id=organisation.id,
        detail={"name_key": key},
    )
    code_participants(session=session, study=study)
    return organisation


def code_participants(*, session: Session, study: Study) -> int:
    """Set each participant's organisation from their latest typed name and the coded aliases.

    Returns how many participants changed.
    """
    aliases = {a.name_key: a.organisation_id for a in session.exec(select(OrganisationAlias)).all()}
    latest = latest_typed_names(session=session, study=study)
    changed = 0
    for participant_id, text in latest.items():
        organisation_id = aliases.get(name_key(text))
        participant = session.get(Participant, participant_id)
        if participant is not None and organisation_id is not None and participant.organisation_id != organisation_id:
            participant.organisation_id = organisation_id
            session.add(participant)
            changed += 1
    session.flush()
    return changed
