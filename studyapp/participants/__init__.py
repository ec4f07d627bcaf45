"""Participants: enrolment, pseudonyms, identities, consent and linkage."""
