"""Linking anonymous waves by self-generated codes, stored only as keyed hashes per element.

In cohorts that keep no contact data each response arrives under a fresh participant. Linking two
waves merges a later response's participant into the earlier one's when their codes match exactly or
differ in one element; ambiguous candidates are shown to the researcher, who decides.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlmodel import Session, col, select

from studyapp.core import audit
from studyapp.core.errors import NotAllowed
from studyapp.core.models import (
    Cohort,
    ConsentEvent,
    Identity,
    Invitation,
    LinkageCode,
    Participant,
    Response,
    User,
    Wave,
    key,
)
from studyapp.core.privacy import Privacy, person_key
from studyapp.participants.linkage import (
    SGIC_ELEMENTS,
    CodeRecord,
    LinkageResult,
    RecordId,
    link_waves,
    normalise_code,
)


def record_code(*, session: Session, privacy: Privacy, response: Response, answers: Sequence[object]) -> LinkageCode:
    """Store a response's code as one keyed hash per element (missing elements stay ``None``).

    Raises ``ValueError`` with a readable message for an answer that is not a letter or a number in range.
    """
    code = normalise_code(list(answers))
    hashes = [
        privacy.lookup_hash(f"sgic:{e.code}", value) if value else None
        for e, value in zip(SGIC_ELEMENTS, code, strict=True)
    ]
    row = session.exec(select(LinkageCode).where(LinkageCode.response_id == response.id)).first()
    row = row or LinkageCode(response_id=key(response))
    row.elements = hashes
    session.add(row)
    return row


def new_anonymous_participant(*, session: Session, privacy: Privacy, cohort: Cohort) -> Participant:
    """A participant for one anonymous response, under a pseudonym derived from a random key."""
    participant = Participant(
        pseudonym=privacy.pseudonym(
            study_id=cohort.study_id,
            person_key=person_key(email="", external_id="anon:" + secrets.token_hex(16)),
        ),
        cohort_id=key(cohort),
    )
    session.add(participant)
    session.flush()
    return participant


@dataclass
class WaveLinkage:
    """The outcome of linking two waves, with pseudonyms for the researcher to review."""

    result: LinkageResult
    pseudonym_of: dict[RecordId, str] = field(default_factory=dict)  # response id -> pseudonym
    applied: int = 0

    def ambiguous_groups(self) -> list[tuple[str, list[str]]]:
        """Each later response left ambiguous, with the pseudonyms of its earlier candidates."""
        return [
            (self.pseudonym_of[a.record_id], [self.pseudonym_of[c] for c in a.candidate_ids])
            for a in self.result.ambiguous
            if a.side == "later"
        ]


def _records(session: Session, wave: Wave, other: Wave) -> list[CodeRecord]:
    """Responses of ``wave`` with a code whose participant has no response in ``other`` yet."""
    already = (
        select(Invitation.participant_id)
        .join(Response, col(Response.invitation_id) == Invitation.id)
        .where(Invitation.wave_id == other.id)
    )
    rows = session.exec(
        select(Response.id, LinkageCode.elements)
        .join(LinkageCode, col(LinkageCode.response_id) == Response.id)
        .join(Invitation, col(Invitation.id) == Response.invitation_id)
        .where(Invitation.wave_id == wave.id, col(Invitation.participant_id).not_in(already))
    ).all()
    return [CodeRecord(record_id=rid, elements=tuple(elements)) for rid, elements in rows if rid is not None]


def link_cohort_waves(
    *, session: Session, earlier: Wave, later: Wave, apply: bool = False, user: User | None = None
) -> WaveLinkage:
    """Link two waves of one cohort; with ``apply``, merge every unambiguous link."""
    if earlier.cohort_id != later.cohort_id or earlier.position >= later.position:
        raise NotAllowed(_("Choose an earlier and a later wave of the same cohort."))
    result = link_waves(_records(session, earlier, later), _records(session, later, earlier))
    ids = [*result.ids("earlier"), *result.ids("later")]
    rows = session.exec(
        select(Response.id, Participant.pseudonym)
        .join(Invitation, col(Invitation.id) == Response.invitation_id)
        .join(Participant, col(Participant.id) == Invitation.participant_id)
        .where(col(Response.id).in_(ids))
    ).all()
    linkage = WaveLinkage(result=result, pseudonym_of={rid: name for rid, name in rows if rid is not None})
    if apply:
        for link in result.links:
            merge_responses(
                session=session,
                earlier_response_id=int(link.earlier_id),  # the records' ids are response ids (_records)
                later_response_id=int(link.later_id),
            )
        linkage.applied = len(result.links)
        audit.record(
            session=session,
            action="linkage.applied",
            user=user,
            actor="cli" if user is None else "",
            target_type="cohort",
            target_id=earlier.cohort_id,
            detail={
                "earlier": earlier.label,
                "later": later.label,
                "exact": result.exact_count,
                "one_difference": result.fuzzy_count,
                "ambiguous": len(result.ambiguous),
            },
        )
    return linkage


def merge_responses(
    *, session: Session, earlier_response_id: int, later_response_id: int, user: User | None = None
) -> Participant:
    """Put the later response under the earlier response's participant; the emptied one is removed."""
    earlier = session.get(Response, earlier_response_id)
    later = session.get(Response, later_response_id)
    if earlier is None or later is None:
        raise NotAllowed(_("Unknown response."))
    keep = session.get_one(Participant, session.get_one(Invitation, earlier.invitation_id).participant_id)
    invitation = session.get_one(Invitation, later.invitation_id)
    old = session.get_one(Participant, invitation.participant_id)
    if old.id == keep.id:
        return keep
    if session.exec(
        select(Invitation.id).where(Invitation.participant_id == keep.id, Invitation.wave_id == invitation.wave_id)
    ).first():
        raise NotAllowed(_("%(pseudonym)s already has a response in that wave.", pseudonym=keep.pseudonym))
    invitation.participant_id = key(keep)
    session.add(invitation)
    session.flush()
    still_used = session.exec(select(Invitation.id).where(Invitation.participant_id == old.id)).first()
    has_identity = session.exec(select(Identity.id).where(Identity.participant_id == old.id)).first()
    if still_used is None and has_identity is None:
        for event in session.exec(select(ConsentEvent).where(ConsentEvent.participant_id == old.id)):
            event.participant_id = key(keep)
            session.add(event)
        session.flush()
        session.delete(old)
    if user is not None:
        audit.record(
            session=session,
            action="linkage.merged",
            user=user,
            target_type="participant",
            target_id=keep.id,
            detail={"kept": keep.pseudonym, "merged": old.pseudonym},
        )
    return keep


def merge_by_pseudonyms(
    *,
    session: Session,
    earlier: Wave,
    later: Wave,
    keep_pseudonym: str,
    merge_pseudonym: str,
    user: User | None = None,
) -> Participant:
    """The researcher's decision on an ambiguous case: the later wave's response of ``merge_pseudonym``
    belongs to ``keep_pseudonym``."""

    def response_of(pseudonym: str, wave: Wave) -> int:
        found = session.exec(
            select(Response.id)
            .join(Invitation, col(Invitation.id) == Response.invitation_id)
            .join(Participant, col(Participant.id) == Invitation.participant_id)
            .where(Participant.pseudonym == pseudonym, Invitation.wave_id == wave.id)
        ).first()
        if found is None:
            raise NotAllowed(_("%(pseudonym)s has no response in wave %(wave)s.", pseudonym=pseudonym, wave=wave.label))
        return found

    return merge_responses(
        session=session,
        earlier_response_id=response_of(keep_pseudonym, earlier),
        later_response_id=response_of(merge_pseudonym, later),
        user=user,
    )
