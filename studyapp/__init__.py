"""Bridge the Gap: a longitudinal study management framework (Flask web app)."""

from studyapp.app import create_app

__all__ = ["create_app"]
