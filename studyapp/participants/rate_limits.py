"""Rate limits on the routes reached by a personal link or sign-up code."""

from __future__ import annotations

from flask import Blueprint, request
from flask_limiter.util import get_remote_address

from studyapp.extensions import limiter

#: Per personal link: generous for someone tapping through pages with autosave, tight for a script.
PER_LINK = "240 per minute; 3000 per hour"
#: Per address, counting only links that do not exist: guessing tokens stops after a handful of tries.
UNKNOWN_LINKS_PER_ADDRESS = "20 per minute; 200 per hour"


def _link_key() -> str:
    args = request.view_args or {}
    return str(args.get("token") or args.get("code") or get_remote_address())


def limit_link_routes(bp: Blueprint) -> None:
    """Apply both limits to every route of ``bp``."""
    limiter.limit(PER_LINK, key_func=_link_key, scope="personal-link")(bp)
    limiter.limit(
        UNKNOWN_LINKS_PER_ADDRESS,
        key_func=get_remote_address,
        scope="unknown-link",
        deduct_when=lambda response: response.status_code == 404,
    )(bp)
