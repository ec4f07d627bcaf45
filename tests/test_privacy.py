"""Pseudonyms are keyed and stable; identities are encrypted; keys rotate."""

from __future__ import annotations

import re

import pytest
from cryptography.fernet import Fernet
from sqlmodel import Session, select

from studyapp.core.models import Identity
from studyapp.core.privacy import Privacy, PrivacyError, person_key
from studyapp.settings import SettingsError, load_settings
from tests.factories import enrol, make_cohort, make_study, privacy_for_tests

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


def test_pseudonym_is_stable_and_keyed() -> None:
    one = Privacy(pseudonym_key="key one " * 5, identity_keys=KEY_A)
    two = Privacy(pseudonym_key="key two " * 5, identity_keys=KEY_A)
    key = person_key(email=" Ana.Jansen@Student.UT.nl ", external_id=None)
    assert key == person_key(email="ana.jansen@student.ut.nl", external_id="")
    assert one.pseudonym(study_id=1, person_key=key) == one.pseudonym(study_id=1, person_key=key)
    assert one.pseudonym(study_id=1, person_key=key) != two.pseudonym(study_id=1, person_key=key)
    assert one.pseudonym(study_id=1, person_key=key) != one.pseudonym(study_id=2, person_key=key)
    assert re.fullmatch(r"P[A-Z2-7]{16}", one.pseudonym(study_id=1, person_key=key)), "a keyed hash, not a name"
    assert one.email_hash("ANA.jansen@student.ut.nl ") == one.email_hash("ana.jansen@student.ut.nl")
    assert one.email_hash("x@y.nl") != two.email_hash("x@y.nl")


def test_external_id_wins_over_email_so_a_new_address_keeps_the_pseudonym() -> None:
    privacy = Privacy(pseudonym_key="k" * 40, identity_keys=KEY_A)
    before = privacy.pseudonym(study_id=1, person_key=person_key(email="s1234@student.ut.nl", external_id="s1234"))
    after = privacy.pseudonym(study_id=1, person_key=person_key(email="ana@gmail.com", external_id="S1234 "))
    assert before == after


def test_identity_encryption_and_key_rotation() -> None:
    old = Privacy(pseudonym_key="k" * 40, identity_keys=KEY_A)
    token = old.encrypt("ana@example.org")
    assert "ana@example.org" not in token
    rotated = Privacy(pseudonym_key="k" * 40, identity_keys=f"{KEY_B},{KEY_A}")
    assert rotated.decrypt(token) == "ana@example.org"
    new_token = rotated.rotate(token)
    assert Privacy(pseudonym_key="k" * 40, identity_keys=KEY_B).decrypt(new_token) == "ana@example.org"
    with pytest.raises(PrivacyError, match="cannot decrypt"):
        Privacy(pseudonym_key="k" * 40, identity_keys=KEY_B).decrypt(token)


def test_bad_identity_key_is_refused_at_start() -> None:
    with pytest.raises(SettingsError, match="IDENTITY_KEY key 1 is not a Fernet key"):
        load_settings({"IDENTITY_KEY": "not-a-key"})


def test_missing_pseudonym_key_stops_production_start() -> None:
    environ = {
        "STUDYAPP_ENV": "production",
        "SECRET_KEY": "s" * 40,
        "IDENTITY_KEY": KEY_A,
        "SMTP_HOST": "smtp",
    }
    with pytest.raises(SettingsError, match="PSEUDONYM_KEY is missing"):
        load_settings(environ)


def test_identities_are_stored_encrypted_and_apart(session: Session) -> None:
    cohort = make_cohort(session, make_study(session))
    participant = enrol(session, cohort, "Ana.Jansen@student.ut.nl", name="Ana Jansen")
    identity = session.exec(select(Identity)).one()
    for stored in (
        identity.email_encrypted,
        identity.name_encrypted,
        identity.email_hash,
        participant.pseudonym,
    ):
        # Whole values: a random ciphertext may contain "ana" by chance, never "@" or a space.
        for secret in ("Ana.Jansen@student.ut.nl", "ana.jansen@student.ut.nl", "Ana Jansen"):
            assert secret not in stored
    privacy = privacy_for_tests()
    assert privacy.decrypt(identity.email_encrypted) == "Ana.Jansen@student.ut.nl"
    assert identity.email_hash == privacy.email_hash("ana.jansen@student.ut.nl")


def test_cli_rotates_the_identity_key(engine, session: Session) -> None:
    from studyapp.app import create_app

    cohort = make_cohort(session, make_study(session))
    enrol(session, cohort, "ana@example.org", name="Ana")
    from studyapp.settings import DEV_IDENTITY_KEY

    settings = load_settings({"IDENTITY_KEY": f"{KEY_B},{DEV_IDENTITY_KEY}"}, scheduler_enabled=False)
    app = create_app({"TESTING": True, "ENGINE": engine}, settings=settings)
    result = app.test_cli_runner().invoke(args=["participants", "rotate-key"])
    assert result.exit_code == 0 and "Re-encrypted 1 identities" in result.output
    identity = session.exec(select(Identity)).one()
    session.refresh(identity)
    only_new = Privacy(pseudonym_key="unused", identity_keys=KEY_B)
    assert only_new.decrypt(identity.email_encrypted) == "ana@example.org"
    assert only_new.decrypt(identity.name_encrypted) == "Ana"
