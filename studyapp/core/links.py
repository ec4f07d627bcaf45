"""Personal links: random tokens of which only a hash is stored (shared by the questionnaire, the
participant pages and the fieldwork engine, so it lives in the core)."""

from __future__ import annotations

import base64
import hashlib
import secrets

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from studyapp.core.models import Cohort, Invitation, InvitationToken, Participant, Study, Wave, key

TOKEN_BYTES = 24  # 192 bits of randomness


def new_token() -> tuple[str, str]:
    """A fresh URL-safe token and the hash to store for it."""
    return new_tokens(1)[0]


def new_tokens(count: int) -> list[tuple[str, str]]:
    """``count`` fresh URL-safe tokens (``secrets.token_urlsafe``'s form) and their hashes, from one read
    of the system's random source: a read costs about 0.1 ms on a virtual machine, once per e-mail otherwise."""
    pool = secrets.token_bytes(TOKEN_BYTES * count)
    tokens = [
        base64.urlsafe_b64encode(pool[start : start + TOKEN_BYTES]).rstrip(b"=").decode("ascii")
        for start in range(0, len(pool), TOKEN_BYTES)
    ]
    return [(token, token_hash(token)) for token in tokens]


def token_hash(token: str) -> str:
    """The stored form of a token (SHA-256; tokens are random, so no key or salt is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(*, session: Session, invitation: Invitation) -> str:
    """Give an invitation one more personal-link token (earlier ones keep working) and return it."""
    token, digest = new_token()
    session.add(InvitationToken(invitation_id=key(invitation), token_hash=digest))
    return token


def invitation_for_token(*, session: Session, token: str) -> Invitation | None:
    """The invitation a personal-link token belongs to, or ``None``."""
    if not token or len(token) > 128:
        return None
    return session.exec(
        select(Invitation)
        .join(InvitationToken, col(InvitationToken.invitation_id) == col(Invitation.id))
        .where(InvitationToken.token_hash == token_hash(token))
    ).first()


def link_context(*, session: Session, token: str) -> tuple[Invitation, Participant, Wave, Cohort, Study] | None:
    """The invitation behind a token with its participant, wave, cohort and study, in one query."""
    if not token or len(token) > 128:
        return None
    # select() of sqlmodel is typed for up to four entities; its Select class takes any number
    entities: Select[Invitation, Participant, Wave, Cohort, Study] = Select(
        Invitation, Participant, Wave, Cohort, Study
    )
    row = session.exec(
        entities.join(InvitationToken, col(InvitationToken.invitation_id) == Invitation.id)
        .join(Participant, col(Participant.id) == Invitation.participant_id)
        .join(Wave, col(Wave.id) == Invitation.wave_id)
        .join(Cohort, col(Cohort.id) == Wave.cohort_id)
        .join(Study, col(Study.id) == Cohort.study_id)
        .where(InvitationToken.token_hash == token_hash(token))
    ).first()
    if row is None:
        return None
    invitation, participant, wave, cohort, study = row
    return invitation, participant, wave, cohort, study
