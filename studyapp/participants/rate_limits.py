"""Rate limits on the routes reached by a personal link or sign-up code: they count failures, not people.

Two limits, each one count across every blueprint that applies them (shared scopes):

- per link (the token or code): generous for someone tapping through pages with autosave, tight for
  a script hammering one link;
- per address, counting only look-ups that fail (404): after a few wrong guesses an address gets 429
  for further unknown links. A link or code that exists is exempt, so one person guessing on a campus
  network or behind a company's NAT never locks out the others behind the same address. That leaves
  no oracle worth having: tokens carry 192 random bits and sign-up codes 96, far beyond guessing at
  any rate, and the limit stops scanners from walking the link space at full speed.
"""

from __future__ import annotations

from flask import Blueprint, Response, g, request
from flask_limiter.util import get_remote_address
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import select

from studyapp.core.links import token_hash
from studyapp.core.models import Cohort, InvitationToken
from studyapp.database import get_session
from studyapp.extensions import limiter

#: Per personal link: generous for someone tapping through pages with autosave, tight for a script.
PER_LINK = "240 per minute; 3000 per hour"
#: Per address, counting only links that do not exist: guessing tokens stops after a handful of tries.
UNKNOWN_LINKS_PER_ADDRESS = "20 per minute; 200 per hour"
#: Per personal link, for the files of a participant's own data: each is made afresh (a PDF takes a
#: second) and holds the participant's contact details, so a leaked link cannot be drained at speed.
OWN_DATA_FILES_PER_LINK = "10 per hour; 30 per day"
MAX_LINK_LENGTH = 128


def _link_key() -> str:
    """The link's counter: a hash of the token or code, never the secret itself.

    Flask-Limiter puts the key into its storage's keys (Redis) and into its log line when a limit
    is exceeded; neither may hold a working personal link.
    """
    args = request.view_args or {}
    secret = args.get("token") or args.get("code")
    return f"link-{token_hash(str(secret))}" if secret else get_remote_address()


def _link_exists() -> bool:
    """Whether the request's token or sign-up code exists (then failures from its address do not apply).

    Looked up once per request. A database that does not answer counts as "not known", so the
    address limit applies and the view shows its own "try again" page; the limiter's storage is not
    blamed for it.
    """
    if "link_exists" in g:
        return g.link_exists
    args = request.view_args or {}
    token, code = args.get("token"), args.get("code")
    exists = False
    session = get_session()
    try:
        if token and len(token) <= MAX_LINK_LENGTH:
            query = select(InvitationToken.id).where(InvitationToken.token_hash == token_hash(token))
            exists = session.exec(query).first() is not None
        elif code and len(code) <= MAX_LINK_LENGTH:
            exists = session.exec(select(Cohort.id).where(Cohort.signup_code == code)).first() is not None
    except SQLAlchemyError:
        session.rollback()
        exists = False
    g.link_exists = exists
    return exists


def _failed_lookup(response: Response) -> bool:
    return response.status_code == 404


per_link = limiter.shared_limit(PER_LINK, scope="personal-link", key_func=_link_key)
unknown_links_per_address = limiter.shared_limit(
    UNKNOWN_LINKS_PER_ADDRESS,
    scope="unknown-link",
    key_func=get_remote_address,
    deduct_when=_failed_lookup,
    exempt_when=_link_exists,
)

own_data_downloads = limiter.shared_limit(OWN_DATA_FILES_PER_LINK, scope="own-data-file", key_func=_link_key)


def limit_link_routes(bp: Blueprint) -> None:
    """Apply both limits to every route of ``bp`` (the counts are shared with other blueprints)."""
    per_link(bp)
    unknown_links_per_address(bp)
