"""Gunicorn's access log without the secret in participants' personal links.

A personal link (``/p/<token>``) opens a participant's answers, so it must not sit in log files that
operators keep and ship: the log shows ``/p/[link]`` instead. Used by the image's gunicorn command
(``--logger-class studyapp.access_log.RedactingLogger``).
"""

from __future__ import annotations

import re

from gunicorn.glogging import Logger

PERSONAL_LINK = re.compile(r"(/p/)[^/?#\s\"]+")
REDACTED = r"\1[link]"
_ATOMS_WITH_URLS = ("r", "U", "f")  # request line, path, referer


def redact(text: str) -> str:
    """``text`` with every personal-link token replaced by ``[link]``."""
    return PERSONAL_LINK.sub(REDACTED, text)


class RedactingLogger(Logger):
    """Gunicorn's logger, with personal-link tokens removed from the access log's request atoms."""

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for key in _ATOMS_WITH_URLS:
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms
