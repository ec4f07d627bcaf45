"""Gunicorn's access log without the secrets in participants' links.

A personal link (``/p/<token>``) opens a participant's answers and a sign-up code (``/join/<code>``)
lets anyone enrol in a cohort, so neither may sit in log files that operators keep and ship. The log
shows ``/p/[link]`` and ``/join/[code]`` instead, however many slashes lead to them (``/p//<token>``
is answered with a redirect to the real link, so it reaches the log too). Any other path segment or
query value that looks like a token (20 or more characters of url-safe base64 or hex) becomes
``[redacted]``. Every text atom gunicorn offers a log format is redacted, not only the request line:
the path, query, referer, the redirect's ``Location``, other headers and environ values, so a custom
``--access-logformat`` cannot bring a token back. Used by the image's gunicorn command
(``--logger-class studyapp.access_log.RedactingLogger``).
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from gunicorn.glogging import Logger

if TYPE_CHECKING:
    from gunicorn.glogging import _AtomsDict
    from gunicorn.http import Request
    from gunicorn.http.wsgi import Response

_END = r"/?#\s\""  # what ends a path segment in a request line, URL or log atom
PERSONAL_LINK = re.compile(rf"(/p/+)[^{_END}&]+")  # & too: a link can sit in a query (?next=/p/...&x=1)
SIGNUP_CODE = re.compile(rf"(/join/+)[^{_END}&]+")
#: 20+ token characters (``%`` for a percent-encoded one) after ``/``, ``=``, ``?`` or ``&``.
SECRET_LIKE = re.compile(rf"(?<=[/=?&])[A-Za-z0-9_%-]{{20,}}(?=[{_END}&;]|$)")


def redact(text: str) -> str:
    """``text`` with personal-link tokens, sign-up codes and other token-like values replaced."""
    text = PERSONAL_LINK.sub(r"\1[link]", text)
    text = SIGNUP_CODE.sub(r"\1[code]", text)
    return SECRET_LIKE.sub("[redacted]", text)


class RedactingLogger(Logger):
    """Gunicorn's logger, with tokens and codes removed from every text atom of the access log."""

    def atoms(
        self, resp: Response, req: Request, environ: MutableMapping[str, Any], request_time: timedelta
    ) -> _AtomsDict:
        atoms = super().atoms(resp, req, environ, request_time)
        texts = cast("dict[str, object]", atoms)  # its TypedDict cannot name the header atoms ("{name}i")
        for key, value in texts.items():
            if isinstance(value, str):
                texts[key] = redact(value)
        return atoms
