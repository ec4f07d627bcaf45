"""Errors that services raise for the web layer, CLI and scheduler to show."""

from __future__ import annotations


class ValidationFailed(ValueError):
    """Input that breaks a rule; ``errors`` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))


class NotAllowed(ValueError):
    """An operation the current state forbids (e.g. deleting a cohort with participants)."""
