"""Keyed pseudonyms, keyed look-up hashes and encryption of identities.

Keys come from the settings and are never stored in the database. Pseudonyms are HMAC-SHA256 of a
stable personal key (an external id such as a student number, else the e-mail address at enrolment)
scoped to the study, so the same person has unlinkable pseudonyms in two studies and the same
pseudonym in every wave of one study. Identities are encrypted with Fernet; several comma-separated
keys allow rotation (the first encrypts, all decrypt).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import unicodedata

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

PSEUDONYM_PREFIX = "P"
PSEUDONYM_LENGTH = 16  # base32 characters after the prefix: 80 bits


class PrivacyError(ValueError):
    """A key is unusable or a ciphertext cannot be decrypted with the configured keys."""


def normalise_email(email: str) -> str:
    """An e-mail address compared case- and whitespace-insensitively."""
    return "".join(unicodedata.normalize("NFKC", email).split()).casefold()


def normalise_external_id(external_id: str) -> str:
    """An external identifier (e.g. a student number) without surrounding space or case."""
    return unicodedata.normalize("NFKC", external_id).strip().casefold()


def parse_fernet_keys(keys: str) -> list[Fernet]:
    """The Fernet keys in a comma-separated setting; raises :class:`PrivacyError` naming a bad one."""
    fernets = []
    for position, key in enumerate((k.strip() for k in keys.split(",")), start=1):
        if not key:
            continue
        try:
            fernets.append(Fernet(key.encode()))
        except (ValueError, TypeError):
            raise PrivacyError(
                f"IDENTITY_KEY key {position} is not a Fernet key (32 url-safe base64-encoded bytes)"
            ) from None
    if not fernets:
        raise PrivacyError("IDENTITY_KEY holds no key")
    return fernets


class Privacy:
    """Pseudonyms, look-up hashes and identity encryption under this deployment's keys."""

    def __init__(self, *, pseudonym_key: str, identity_keys: str) -> None:
        if not pseudonym_key:
            raise PrivacyError("PSEUDONYM_KEY is empty")
        master = pseudonym_key.encode("utf-8")
        # Separate subkeys, so a pseudonym and a look-up hash of the same text never coincide.
        self._pseudonym_key = hmac.new(master, b"studyapp/pseudonym/v1", hashlib.sha256).digest()
        self._lookup_key = hmac.new(master, b"studyapp/lookup/v1", hashlib.sha256).digest()
        self._fernet = MultiFernet(parse_fernet_keys(identity_keys))

    def pseudonym(self, *, study_id: int, person_key: str) -> str:
        """The study-scoped pseudonym of a person (``person_key`` from :func:`person_key`)."""
        message = f"study:{study_id}|{person_key}".encode()
        digest = hmac.new(self._pseudonym_key, message, hashlib.sha256).digest()
        return PSEUDONYM_PREFIX + base64.b32encode(digest).decode()[:PSEUDONYM_LENGTH]

    def lookup_hash(self, kind: str, value: str) -> str:
        """A keyed hash to find a record by a value that is stored only encrypted."""
        message = f"{kind}|{value}".encode()
        return hmac.new(self._lookup_key, message, hashlib.sha256).hexdigest()

    def email_hash(self, email: str) -> str:
        """The look-up hash of an e-mail address (case- and whitespace-insensitive)."""
        return self.lookup_hash("email", normalise_email(email))

    def external_id_hash(self, external_id: str) -> str:
        """The look-up hash of an external identifier."""
        return self.lookup_hash("external-id", normalise_external_id(external_id))

    def encrypt(self, text: str) -> str:
        """Encrypt a piece of identity (e-mail, name) for storage."""
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """Decrypt what :meth:`encrypt` stored; raises :class:`PrivacyError` with the wrong keys."""
        if not token:
            return ""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise PrivacyError("cannot decrypt an identity with the configured IDENTITY_KEY") from None

    def rotate(self, token: str) -> str:
        """Re-encrypt a stored value under the first (newest) key."""
        return self._fernet.rotate(token.encode("ascii")).decode("ascii") if token else token


def person_key(*, email: str, external_id: str | None) -> str:
    """What a pseudonym is derived from: the external id when there is one, else the e-mail."""
    if external_id and external_id.strip():
        return "external-id:" + normalise_external_id(external_id)
    return "email:" + normalise_email(email)
