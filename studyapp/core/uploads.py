"""Uploads kept between a preview and the researcher's confirmation (encrypted at rest)."""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, delete, select

from studyapp.core.inputs import clean_filename, column_length, forbidden_character
from studyapp.core.models import PendingUpload, Study, User, key
from studyapp.core.privacy import Privacy
from studyapp.core.types import utcnow

KEEP_FOR = timedelta(hours=6)


def keep_upload(
    *,
    session: Session,
    privacy: Privacy,
    kind: str,
    study: Study,
    user: User,
    filename: str,
    content: bytes,
    options: dict[str, Any] | None = None,
) -> PendingUpload:
    """Store an upload for confirmation; uploads older than a few hours are purged on the way."""
    session.exec(delete(PendingUpload).where(col(PendingUpload.created_at) < utcnow() - KEEP_FOR))
    upload = PendingUpload(
        token=secrets.token_urlsafe(24),
        kind=kind,
        study_id=key(study),
        user_id=key(user),
        filename=clean_filename(filename, max_length=column_length(PendingUpload.filename)),
        options=options or {},
        payload_encrypted=privacy.encrypt(base64.b64encode(content).decode("ascii")),
    )
    session.add(upload)
    session.flush()
    return upload


def find_upload(*, session: Session, token: str, kind: str, study: Study, user: User) -> PendingUpload | None:
    """The user's own pending upload with this token, if it has not expired."""
    if not token or len(token) > column_length(PendingUpload.token) or forbidden_character(token) is not None:
        return None  # not a token this app made: nothing to look up
    return session.exec(
        select(PendingUpload).where(
            PendingUpload.token == token,
            PendingUpload.kind == kind,
            PendingUpload.study_id == study.id,
            PendingUpload.user_id == user.id,
            col(PendingUpload.created_at) >= utcnow() - KEEP_FOR,
        )
    ).first()


def upload_content(privacy: Privacy, upload: PendingUpload) -> bytes:
    """The uploaded file's bytes."""
    return base64.b64decode(privacy.decrypt(upload.payload_encrypted))
